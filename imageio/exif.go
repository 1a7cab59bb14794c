package imageio

import (
	"bytes"
	"encoding/binary"
	"sort"
)

// jpegOrientation returns the EXIF orientation (1..8) of a JPEG file, or 1.
func jpegOrientation(data []byte) int {
	i := 2
	for i+4 <= len(data) && data[i] == 0xff {
		marker := data[i+1]
		if marker == 0xda || marker == 0xd9 { // start of scan, end of image
			break
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			break
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xe1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// tiffOrientation reads tag 0x0112 of IFD0 of a TIFF-structured EXIF blob.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := int(bo.Uint32(t[4:]))
	if off < 8 || off+2 > len(t) {
		return 1
	}
	n := int(bo.Uint16(t[off:]))
	for k := 0; k < n; k++ {
		e := off + 2 + 12*k
		if e+12 > len(t) {
			break
		}
		if bo.Uint16(t[e:]) == 0x0112 && bo.Uint16(t[e+2:]) == 3 {
			v := int(bo.Uint16(t[e+8:]))
			if v >= 1 && v <= 8 {
				return v
			}
		}
	}
	return 1
}

// Orient applies an EXIF orientation as PIL's ImageOps.exif_transpose does
// (2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90° clockwise,
// 7 transverse, 8 rotate 90° counter-clockwise).
func Orient(m *Image8, orientation int) *Image8 {
	if orientation < 2 || orientation > 8 {
		return m
	}
	W, H, C := m.Width, m.Height, m.Channels
	ow, oh := W, H
	if orientation >= 5 {
		ow, oh = H, W
	}
	out := NewImage8(ow, oh, C)
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			var sx, sy int
			switch orientation {
			case 2:
				sx, sy = W-1-x, y
			case 3:
				sx, sy = W-1-x, H-1-y
			case 4:
				sx, sy = x, H-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, H-1-x
			case 7:
				sx, sy = W-1-y, H-1-x
			case 8:
				sx, sy = W-1-y, x
			}
			copy(out.Pix[(y*ow+x)*C:(y*ow+x+1)*C], m.Pix[(sy*W+sx)*C:(sy*W+sx+1)*C])
		}
	}
	return out
}

// ExifASCII builds a little-endian TIFF/EXIF blob (no "Exif\0\0" prefix,
// the form a WebP EXIF chunk holds) with one IFD0 of ASCII entries, sorted
// by tag as PIL writes them. ComfyUI's SaveAnimatedWEBP stores its metadata
// this way (0x0110 = "prompt:<json>", 0x010F, 0x010E, ... = "<key>:<json>").
func ExifASCII(tags map[uint16]string) []byte {
	keys := make([]int, 0, len(tags))
	for k := range tags {
		keys = append(keys, int(k))
	}
	sort.Ints(keys)
	var b bytes.Buffer
	b.WriteString("II*\x00")
	binary.Write(&b, binary.LittleEndian, uint32(8))
	n := len(keys)
	dataOff := 8 + 2 + 12*n + 4
	var data bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint16(n))
	for _, k := range keys {
		var v bytes.Buffer
		writeLatin1(&v, tags[uint16(k)])
		v.WriteByte(0)
		binary.Write(&b, binary.LittleEndian, uint16(k))
		binary.Write(&b, binary.LittleEndian, uint16(2)) // ASCII
		binary.Write(&b, binary.LittleEndian, uint32(v.Len()))
		if v.Len() <= 4 {
			var inline [4]byte
			copy(inline[:], v.Bytes())
			b.Write(inline[:])
			continue
		}
		binary.Write(&b, binary.LittleEndian, uint32(dataOff+data.Len()))
		data.Write(v.Bytes())
		if data.Len()%2 == 1 { // TIFF values start on word boundaries
			data.WriteByte(0)
		}
	}
	binary.Write(&b, binary.LittleEndian, uint32(0)) // no next IFD
	b.Write(data.Bytes())
	return b.Bytes()
}

// ReadExifASCII returns the ASCII entries of IFD0 of a TIFF/EXIF blob (an
// optional "Exif\0\0" prefix is skipped), without the trailing NUL.
func ReadExifASCII(t []byte) map[uint16]string {
	t = bytes.TrimPrefix(t, []byte("Exif\x00\x00"))
	out := map[uint16]string{}
	if len(t) < 8 {
		return out
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if string(t[:2]) == "MM" {
		bo = binary.BigEndian
	}
	off := int(bo.Uint32(t[4:]))
	if off < 8 || off+2 > len(t) {
		return out
	}
	n := int(bo.Uint16(t[off:]))
	for k := 0; k < n; k++ {
		e := off + 2 + 12*k
		if e+12 > len(t) {
			break
		}
		if bo.Uint16(t[e+2:]) != 2 {
			continue
		}
		cnt := int(bo.Uint32(t[e+4:]))
		var v []byte
		if cnt <= 4 {
			v = t[e+8 : e+8+cnt]
		} else {
			p := int(bo.Uint32(t[e+8:]))
			if p < 0 || p+cnt > len(t) || cnt < 0 {
				continue
			}
			v = t[p : p+cnt]
		}
		out[bo.Uint16(t[e:])] = latin1(bytes.TrimRight(v, "\x00"))
	}
	return out
}
