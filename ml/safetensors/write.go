package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"

	"github.com/comfyd/comfyd/ml/tensor"
)

// RawTensor is one tensor to write: little-endian element bytes.
type RawTensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// WriteRaw writes a safetensors file: the header lists "__metadata__"
// first (when non-empty), then the tensors sorted by name; it is padded with
// spaces to a multiple of 8 bytes so the data section starts 8-aligned. The
// data follow back to back, widest dtype first (then by name), as the
// reference writer does, so every tensor starts aligned to its element size
// and readers can view it in place.
func WriteRaw(w io.Writer, ts []RawTensor, metadata map[string]string) error {
	ts = append([]RawTensor(nil), ts...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	order := append([]RawTensor(nil), ts...)
	sort.SliceStable(order, func(i, j int) bool { return order[i].DType.Size() > order[j].DType.Size() })
	begin := make(map[string]int64, len(ts))
	var off int64
	for _, t := range order {
		begin[t.Name] = off
		off += int64(len(t.Data))
	}
	var h bytes.Buffer
	h.WriteByte('{')
	first := true
	sep := func() {
		if !first {
			h.WriteByte(',')
		}
		first = false
	}
	if len(metadata) > 0 {
		sep()
		h.WriteString(`"__metadata__":`)
		m, err := json.Marshal(metadata) // encoding/json sorts map keys
		if err != nil {
			return err
		}
		h.Write(m)
	}
	for i, t := range ts {
		if t.Name == metadataKey {
			return fmt.Errorf("safetensors: %q is a reserved name", t.Name)
		}
		if i > 0 && ts[i-1].Name == t.Name {
			return fmt.Errorf("safetensors: duplicate tensor name %q", t.Name)
		}
		size := t.DType.Size()
		if size == 0 {
			return fmt.Errorf("safetensors: tensor %q has unknown dtype %q", t.Name, t.DType)
		}
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		if len(t.Data) != n*size {
			return fmt.Errorf("safetensors: tensor %q: %d bytes for shape %v of %s", t.Name, len(t.Data), t.Shape, t.DType)
		}
		sep()
		name, _ := json.Marshal(t.Name)
		h.Write(name)
		fmt.Fprintf(&h, `:{"dtype":"%s","shape":[`, t.DType)
		for j, d := range t.Shape {
			if j > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.Itoa(d))
		}
		b := begin[t.Name]
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, b, b+int64(len(t.Data)))
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	var lb [8]byte
	binary.LittleEndian.PutUint64(lb[:], uint64(h.Len()))
	if _, err := w.Write(lb[:]); err != nil {
		return err
	}
	if _, err := w.Write(h.Bytes()); err != nil {
		return err
	}
	for _, t := range order {
		if _, err := w.Write(t.Data); err != nil {
			return err
		}
	}
	return nil
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
