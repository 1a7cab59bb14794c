package imageio

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"unicode/utf8"
)

// Limits of the PNG chunk reader: one chunk's payload, and the text
// decompressed from zTXt/iTXt chunks in total (PIL's MAX_TEXT_MEMORY).
const (
	maxChunkLen   = 1 << 28
	maxTextMemory = 64 << 20
)

// ErrNotPNG is returned for data without the PNG signature.
var ErrNotPNG = errors.New("imageio: not a PNG file")

// ReadChunks returns the chunks of a PNG file in order, stopping after
// IEND (or at the end of data when IEND is missing). Lengths and CRCs are
// checked.
func ReadChunks(r io.Reader) ([]Chunk, error) { return readChunksUntil(r, "IEND") }

func readChunksUntil(r io.Reader, stop string) ([]Chunk, error) {
	var sig [8]byte
	if _, err := io.ReadFull(r, sig[:]); err != nil || !bytes.Equal(sig[:], pngSignature) {
		return nil, ErrNotPNG
	}
	var out []Chunk
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, fmt.Errorf("imageio: truncated PNG chunk header: %w", err)
		}
		n := binary.BigEndian.Uint32(hdr[:4])
		if n > maxChunkLen {
			return out, fmt.Errorf("imageio: PNG chunk of %d bytes is too large", n)
		}
		typ := string(hdr[4:])
		for _, c := range hdr[4:] {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return out, fmt.Errorf("imageio: bad PNG chunk type %q", typ)
			}
		}
		data := make([]byte, 0, min(int(n), 1<<20))
		buf := bytes.NewBuffer(data)
		if _, err := io.CopyN(buf, r, int64(n)); err != nil {
			return out, fmt.Errorf("imageio: truncated PNG chunk %s: %w", typ, err)
		}
		var crc [4]byte
		if _, err := io.ReadFull(r, crc[:]); err != nil {
			return out, fmt.Errorf("imageio: truncated PNG chunk %s: %w", typ, err)
		}
		h := crc32.NewIEEE()
		h.Write(hdr[4:])
		h.Write(buf.Bytes())
		if h.Sum32() != binary.BigEndian.Uint32(crc[:]) {
			return out, fmt.Errorf("imageio: PNG chunk %s has a bad CRC", typ)
		}
		out = append(out, Chunk{Type: typ, Data: buf.Bytes()})
		if typ == "IEND" || typ == stop {
			return out, nil
		}
	}
}

// Text is one text entry of a PNG file (PIL's im.text item).
type Text struct {
	Key, Value string
}

// ReadPNGText returns the tEXt, zTXt and iTXt entries of a PNG file in file
// order, as PIL's im.text does (Latin-1 tEXt/zTXt decoded to UTF-8; iTXt is
// UTF-8). A later entry with the same key replaces the earlier one's value
// in PIL; here both are returned and TextMap applies that rule.
func ReadPNGText(r io.Reader) ([]Text, error) {
	chunks, err := ReadChunks(r)
	if err != nil && chunks == nil {
		return nil, err
	}
	var out []Text
	budget := maxTextMemory
	for _, c := range chunks {
		t, ok, terr := parseText(c, &budget)
		if terr != nil {
			return out, terr
		}
		if ok {
			out = append(out, t)
		}
	}
	return out, err
}

// TextMap folds entries into a map, later keys winning.
func TextMap(ts []Text) map[string]string {
	m := make(map[string]string, len(ts))
	for _, t := range ts {
		m[t.Key] = t.Value
	}
	return m
}

func parseText(c Chunk, budget *int) (Text, bool, error) {
	switch c.Type {
	case "tEXt":
		k, v, ok := bytes.Cut(c.Data, []byte{0})
		if !ok {
			v = nil
		}
		return Text{latin1(k), latin1(v)}, true, nil
	case "zTXt":
		k, rest, ok := bytes.Cut(c.Data, []byte{0})
		if !ok || len(rest) < 1 {
			return Text{}, false, nil
		}
		if rest[0] != 0 {
			return Text{}, false, fmt.Errorf("imageio: unknown zTXt compression method %d", rest[0])
		}
		v, err := inflateLimited(rest[1:], budget)
		if err != nil {
			return Text{}, false, err
		}
		return Text{latin1(k), latin1(v)}, true, nil
	case "iTXt":
		k, rest, ok := bytes.Cut(c.Data, []byte{0})
		if !ok || len(rest) < 2 {
			return Text{}, false, nil
		}
		flag, method := rest[0], rest[1]
		_, rest, ok = bytes.Cut(rest[2:], []byte{0}) // language tag
		if !ok {
			return Text{}, false, nil
		}
		_, v, ok := bytes.Cut(rest, []byte{0}) // translated keyword
		if !ok {
			return Text{}, false, nil
		}
		if flag != 0 {
			if method != 0 {
				return Text{}, false, fmt.Errorf("imageio: unknown iTXt compression method %d", method)
			}
			var err error
			if v, err = inflateLimited(v, budget); err != nil {
				return Text{}, false, err
			}
		}
		if !utf8.Valid(v) {
			return Text{}, false, nil // PIL drops undecodable iTXt values
		}
		return Text{latin1(k), string(v)}, true, nil
	}
	return Text{}, false, nil
}

func inflateLimited(z []byte, budget *int) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, fmt.Errorf("imageio: bad compressed text: %w", err)
	}
	defer zr.Close()
	v, err := io.ReadAll(io.LimitReader(zr, int64(*budget)+1))
	if err != nil {
		return nil, fmt.Errorf("imageio: bad compressed text: %w", err)
	}
	if len(v) > *budget {
		return nil, errors.New("imageio: too much text data")
	}
	*budget -= len(v)
	return v, nil
}

func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// PNGHeader is the IHDR of a PNG file.
type PNGHeader struct {
	Width, Height int
	BitDepth      int
	// ColorType: 0 grey, 2 truecolour, 3 palette, 4 grey+alpha, 6 truecolour+alpha.
	ColorType int
	// Transparency reports a tRNS chunk; Animated an acTL chunk (APNG).
	Transparency bool
	Animated     bool
}

// pngHeader reads the IHDR and notes tRNS/acTL (both precede the image
// data, so reading stops at the first IDAT).
func pngHeader(data []byte) (PNGHeader, error) {
	chunks, err := readChunksUntil(bytes.NewReader(data), "IDAT")
	if len(chunks) == 0 || chunks[0].Type != "IHDR" || len(chunks[0].Data) != 13 {
		if err == nil {
			err = errors.New("imageio: PNG without IHDR")
		}
		return PNGHeader{}, err
	}
	d := chunks[0].Data
	h := PNGHeader{
		Width:     int(binary.BigEndian.Uint32(d[0:])),
		Height:    int(binary.BigEndian.Uint32(d[4:])),
		BitDepth:  int(d[8]),
		ColorType: int(d[9]),
	}
	for _, c := range chunks {
		switch c.Type {
		case "tRNS":
			h.Transparency = true
		case "acTL":
			h.Animated = true
		}
	}
	return h, nil
}
