package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"unsafe"

	"github.com/comfyd/comfyd/ml/tensor"
)

// File is an open safetensors file. Its bytes are memory-mapped (copy on
// write, so a caller that modifies a returned tensor changes only its own
// pages, never the file) where the platform allows, else read whole.
//
// Tensors returned by Tensor may share the mapping: they stay valid until
// Close. A model that keeps weights as views keeps its File open.
type File struct {
	hdr   *Header
	data  []byte // the whole file
	unmap func() error
}

// Open maps the file at path and validates its header.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	hdr, err := ReadHeader(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	data, unmap, err := mapFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("safetensors: mapping %s: %w", path, err)
	}
	return &File{hdr: hdr, data: data, unmap: unmap}, nil
}

// FromBytes returns a File over an in-memory safetensors image (not
// copied), e.g. one produced by Write.
func FromBytes(b []byte) (*File, error) {
	hdr, err := ReadHeader(bytesReaderAt(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	return &File{hdr: hdr, data: b}, nil
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(b)) || int64(len(p)) > int64(len(b))-off {
		return 0, fmt.Errorf("safetensors: read [%d,+%d) beyond %d bytes", off, len(p), len(b))
	}
	return copy(p, b[off:]), nil
}

// Close releases the mapping; tensors viewing it must not be used after.
func (f *File) Close() error {
	f.data = nil
	if f.unmap != nil {
		u := f.unmap
		f.unmap = nil
		return u()
	}
	return nil
}

// Header returns the parsed header.
func (f *File) Header() *Header { return f.hdr }

// Metadata returns the "__metadata__" map (nil when absent).
func (f *File) Metadata() map[string]string { return f.hdr.Metadata }

// Names returns the tensor names, sorted.
func (f *File) Names() []string {
	out := make([]string, len(f.hdr.Tensors))
	for i, t := range f.hdr.Tensors {
		out[i] = t.Name
	}
	return out
}

// Info returns a tensor's dtype, shape and byte range.
func (f *File) Info(name string) (Info, error) {
	in, ok := f.hdr.Lookup(name)
	if !ok {
		return Info{}, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	return in, nil
}

// Bytes returns a tensor's raw little-endian bytes (a view; do not modify).
func (f *File) Bytes(name string) ([]byte, Info, error) {
	in, err := f.Info(name)
	if err != nil {
		return nil, in, err
	}
	if f.data == nil {
		return nil, in, fmt.Errorf("safetensors: file is closed")
	}
	s := f.hdr.DataStart
	return f.data[s+in.Begin : s+in.End : s+in.End], in, nil
}

var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// Tensor returns a floating-point tensor. F32 data is a zero-copy view of
// the file where it is 4-byte aligned (else a copy); F16 and BF16 come back
// as half-storage tensors (DType F16/BF16, Half set) without conversion,
// viewing the file where 2-byte aligned; F64 and the F8 types are
// converted to float32. Integer and bool tensors are refused: use Int64s.
func (f *File) Tensor(name string) (*tensor.Tensor, error) {
	b, in, err := f.Bytes(name)
	if err != nil {
		return nil, err
	}
	n := in.Len()
	shape := in.Shape
	switch in.DType {
	case F32:
		var d []float32
		if n > 0 && littleEndian && uintptr(unsafe.Pointer(&b[0]))%4 == 0 {
			d = unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n)
		} else {
			d = make([]float32, n)
			for i := range d {
				d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		}
		return tensor.FromData(d, shape...), nil
	case F16, BF16:
		var h []uint16
		if n > 0 && littleEndian && uintptr(unsafe.Pointer(&b[0]))%2 == 0 {
			h = unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), n)
		} else {
			h = make([]uint16, n)
			for i := range h {
				h[i] = binary.LittleEndian.Uint16(b[2*i:])
			}
		}
		dt := tensor.F16
		if in.DType == BF16 {
			dt = tensor.BF16
		}
		st := make([]int, len(shape))
		for i, sz := len(shape)-1, 1; i >= 0; i-- {
			st[i] = sz
			sz *= shape[i]
		}
		return &tensor.Tensor{Half: h, DType: dt, Shape: append([]int(nil), shape...), Strides: st}, nil
	case F64:
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		}
		return tensor.FromData(d, shape...), nil
	case F8E4M3, F8E5M2:
		conv := F8E4M3ToF32
		if in.DType == F8E5M2 {
			conv = F8E5M2ToF32
		}
		d := make([]float32, n)
		for i := range d {
			d[i] = conv(b[i])
		}
		return tensor.FromData(d, shape...), nil
	}
	return nil, fmt.Errorf("safetensors: tensor %q is %s, not floating point (use Int64s)", name, in.DType)
}

// Int64s returns an integer or bool tensor's elements widened to int64,
// with its shape. U64 values above MaxInt64 are refused.
func (f *File) Int64s(name string) ([]int64, []int, error) {
	b, in, err := f.Bytes(name)
	if err != nil {
		return nil, nil, err
	}
	n := in.Len()
	out := make([]int64, n)
	le := binary.LittleEndian
	switch in.DType {
	case I64:
		for i := range out {
			out[i] = int64(le.Uint64(b[8*i:]))
		}
	case U64:
		for i := range out {
			v := le.Uint64(b[8*i:])
			if v > math.MaxInt64 {
				return nil, nil, fmt.Errorf("safetensors: tensor %q: U64 value %d overflows int64", name, v)
			}
			out[i] = int64(v)
		}
	case I32:
		for i := range out {
			out[i] = int64(int32(le.Uint32(b[4*i:])))
		}
	case U32:
		for i := range out {
			out[i] = int64(le.Uint32(b[4*i:]))
		}
	case I16:
		for i := range out {
			out[i] = int64(int16(le.Uint16(b[2*i:])))
		}
	case U16:
		for i := range out {
			out[i] = int64(le.Uint16(b[2*i:]))
		}
	case I8:
		for i := range out {
			out[i] = int64(int8(b[i]))
		}
	case U8:
		for i := range out {
			out[i] = int64(b[i])
		}
	case Bool:
		for i := range out {
			if b[i] != 0 {
				out[i] = 1
			}
		}
	default:
		return nil, nil, fmt.Errorf("safetensors: tensor %q is %s, not integer (use Tensor)", name, in.DType)
	}
	return out, append([]int(nil), in.Shape...), nil
}

// F8E4M3ToF32 widens an 8-bit float with 4 exponent bits (bias 7) and 3
// mantissa bits, the "fn" variant torch calls float8_e4m3fn: no infinities,
// S.1111.111 is NaN, exponent 0 is subnormal (m/8·2^-6).
func F8E4M3ToF32(v byte) float32 {
	s := float32(1)
	if v&0x80 != 0 {
		s = -1
	}
	e := int(v>>3) & 0xf
	m := float32(v & 7)
	switch {
	case e == 0xf && v&7 == 7:
		return float32(math.NaN())
	case e == 0:
		return s * m / 8 * (1.0 / 64)
	}
	return s * (1 + m/8) * float32(math.Ldexp(1, e-7))
}

// F8E5M2ToF32 widens an 8-bit float with 5 exponent bits (bias 15) and 2
// mantissa bits (IEEE-like: exponent 31 is ±Inf or NaN, 0 is subnormal).
func F8E5M2ToF32(v byte) float32 {
	s := float32(1)
	if v&0x80 != 0 {
		s = -1
	}
	e := int(v>>2) & 0x1f
	m := float32(v & 3)
	switch {
	case e == 0x1f && v&3 != 0:
		return float32(math.NaN())
	case e == 0x1f:
		return s * float32(math.Inf(1))
	case e == 0:
		return s * m / 4 * (1.0 / 16384)
	}
	return s * (1 + m/4) * float32(math.Ldexp(1, e-15))
}
