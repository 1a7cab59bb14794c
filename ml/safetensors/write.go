package safetensors

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"unicode/utf16"

	"github.com/comfyd/comfyd/ml/tensor"
)

// RawTensor is one tensor to write: little-endian element bytes.
type RawTensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// WriteRaw writes a safetensors file in the layout of the reference
// tools' json.dumps(header, sort_keys=True, separators=(",", ":")): every
// key sorted ("__metadata__" among the tensor names, each entry's
// "data_offsets", "dtype", "shape" in that order), no spaces, non-ASCII
// escaped as \uXXXX, the header padded with spaces to a multiple of 8 bytes
// so the data section starts 8-aligned; the data follow back to back in
// name order. (This is byte for byte how the golden synthetic checkpoint is
// written.) Tensors stay aligned to their element size when every earlier
// tensor's byte size is a multiple of it, as in single-dtype files.
func WriteRaw(w io.Writer, ts []RawTensor, metadata map[string]string) error {
	ts = append([]RawTensor(nil), ts...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	infos := make([]Info, len(ts))
	for i, t := range ts {
		infos[i] = Info{Name: t.Name, DType: t.DType, Shape: t.Shape}
		n := t.DType.Size()
		for _, d := range t.Shape {
			n *= d
		}
		if t.DType.Size() != 0 && len(t.Data) != n {
			return fmt.Errorf("safetensors: tensor %q: %d bytes for shape %v of %s", t.Name, len(t.Data), t.Shape, t.DType)
		}
	}
	h, err := EncodeHeader(infos, metadata)
	if err != nil {
		return err
	}
	var lb [8]byte
	binary.LittleEndian.PutUint64(lb[:], uint64(len(h)))
	if _, err := w.Write(lb[:]); err != nil {
		return err
	}
	if _, err := w.Write(h); err != nil {
		return err
	}
	for _, t := range ts {
		if _, err := w.Write(t.Data); err != nil {
			return err
		}
	}
	return nil
}

// EncodeHeader returns the padded JSON header (without the length prefix)
// that WriteRaw writes for tensors with these names, dtypes and shapes
// (Begin and End are ignored: data go back to back in name order). A
// writer can send the length, this header, and then stream each tensor's
// bytes in name order without holding them all.
func EncodeHeader(ts []Info, metadata map[string]string) ([]byte, error) {
	ts = append([]Info(nil), ts...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	type entry struct {
		key  string
		json []byte
	}
	var entries []entry
	if len(metadata) > 0 {
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var m bytes.Buffer
		m.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				m.WriteByte(',')
			}
			writeString(&m, k)
			m.WriteByte(':')
			writeString(&m, metadata[k])
		}
		m.WriteByte('}')
		entries = append(entries, entry{metadataKey, m.Bytes()})
	}
	var off int64
	for i, t := range ts {
		if t.Name == metadataKey {
			return nil, fmt.Errorf("safetensors: %q is a reserved name", t.Name)
		}
		if i > 0 && ts[i-1].Name == t.Name {
			return nil, fmt.Errorf("safetensors: duplicate tensor name %q", t.Name)
		}
		size := int64(t.DType.Size())
		if size == 0 {
			return nil, fmt.Errorf("safetensors: tensor %q has unknown dtype %q", t.Name, t.DType)
		}
		for _, d := range t.Shape {
			if d < 0 {
				return nil, fmt.Errorf("safetensors: tensor %q has negative dimension %d", t.Name, d)
			}
			size *= int64(d)
		}
		var e bytes.Buffer
		fmt.Fprintf(&e, `{"data_offsets":[%d,%d],"dtype":`, off, off+size)
		writeString(&e, string(t.DType))
		e.WriteString(`,"shape":[`)
		for j, d := range t.Shape {
			if j > 0 {
				e.WriteByte(',')
			}
			e.WriteString(strconv.Itoa(d))
		}
		e.WriteString("]}")
		entries = append(entries, entry{t.Name, e.Bytes()})
		off += size
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].key < entries[j].key })
	var h bytes.Buffer
	h.WriteByte('{')
	for i, e := range entries {
		if i > 0 {
			h.WriteByte(',')
		}
		writeString(&h, e.key)
		h.WriteByte(':')
		h.Write(e.json)
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	return h.Bytes(), nil
}

// writeString writes s as a JSON string the way Python's json.dumps does
// by default (ensure_ascii): short escapes for quote, backslash and
// \b \f \n \r \t, \u00XX for other control characters, and \uXXXX (UTF-16,
// surrogate pairs above the BMP) for every non-ASCII character.
func writeString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	u := func(r rune) {
		b.WriteString(`\u`)
		b.WriteByte(hex[r>>12&15])
		b.WriteByte(hex[r>>8&15])
		b.WriteByte(hex[r>>4&15])
		b.WriteByte(hex[r&15])
	}
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f: // Python escapes all but " "…"~"
			u(r)
		case r < 0x80:
			b.WriteByte(byte(r))
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			u(r1)
			u(r2)
		default:
			u(r)
		}
	}
	b.WriteByte('"')
}

// Write writes float tensors: F32 tensors as F32, half-storage tensors as
// F16 or BF16 (their bits unchanged).
func Write(w io.Writer, ts map[string]*tensor.Tensor, metadata map[string]string) error {
	raw := make([]RawTensor, 0, len(ts))
	for name, t := range ts {
		rt := RawTensor{Name: name, Shape: append([]int(nil), t.Shape...)}
		switch t.DType {
		case tensor.F32:
			rt.DType = F32
			v := t.Values()
			rt.Data = make([]byte, 4*len(v))
			for i, x := range v {
				binary.LittleEndian.PutUint32(rt.Data[4*i:], math.Float32bits(x))
			}
		case tensor.F16, tensor.BF16:
			rt.DType = F16
			if t.DType == tensor.BF16 {
				rt.DType = BF16
			}
			h := halfValues(t)
			rt.Data = make([]byte, 2*len(h))
			for i, x := range h {
				binary.LittleEndian.PutUint16(rt.Data[2*i:], x)
			}
		default:
			return fmt.Errorf("safetensors: tensor %q has unsupported dtype %v", name, t.DType)
		}
		raw = append(raw, rt)
	}
	return WriteRaw(w, raw, metadata)
}

// halfValues returns a half-storage tensor's bits in row-major order.
func halfValues(t *tensor.Tensor) []uint16 {
	n := t.Len()
	out := make([]uint16, 0, n)
	if n == 0 {
		return out
	}
	idx := make([]int, len(t.Shape))
	for {
		p := t.Offset
		for i, x := range idx {
			p += x * t.Strides[i]
		}
		out = append(out, t.Half[p])
		k := len(idx) - 1
		for k >= 0 {
			idx[k]++
			if idx[k] < t.Shape[k] {
				break
			}
			idx[k] = 0
			k--
		}
		if k < 0 {
			return out
		}
	}
}
