package tensor

import (
	"fmt"

	"github.com/comfyd/comfyd/ml/tensor/internal/half"
)

// Float returns t itself when its storage is float32, otherwise a new
// contiguous float32 tensor holding t's elements widened exactly.
func (t *Tensor) Float() *Tensor {
	if t.DType == F32 {
		return t
	}
	out := New(t.Shape...)
	t.copyTo(out.Data)
	return out
}

// ToFloat32 is t.Float() as a function: a float32 tensor with t's values
// (t itself if it already is one).
func ToFloat32(t *Tensor) *Tensor { return t.Float() }

// HalfFromFloat32 returns a new contiguous tensor with t's values narrowed
// to dt (F16 or BF16) with round-to-nearest-even, as torch's .half() and
// .bfloat16(); dt F32 gives a float32 copy. t may itself be half.
func HalfFromFloat32(t *Tensor, dt DType) *Tensor {
	if dt == F32 {
		return t.Float().Clone()
	}
	if dt != F16 && dt != BF16 {
		panic(fmt.Sprintf("tensor: HalfFromFloat32 to unknown dtype %d", dt))
	}
	src := t.Float().Contiguous()
	vals := src.Data[src.Offset : src.Offset+src.Len()]
	out := &Tensor{Half: make([]uint16, len(vals)), DType: dt, Shape: append([]int(nil), t.Shape...), Strides: contiguousStrides(t.Shape)}
	NarrowFloat32s(out.Half, vals, dt)
	return out
}

// WidenHalfs converts len(src) half values of type dt into dst, exactly;
// fp16 uses the CPU's F16C conversion where there is one.
func WidenHalfs(dst []float32, src []uint16, dt DType) {
	switch dt {
	case F16:
		half.F16ToF32s(dst, src)
	case BF16:
		half.BF16ToF32s(dst, src)
	default:
		panic(fmt.Sprintf("tensor: WidenHalfs from %v", dt))
	}
}

// NarrowFloat32s converts len(src) floats into half values of type dt,
// rounding to nearest even.
func NarrowFloat32s(dst []uint16, src []float32, dt DType) {
	switch dt {
	case F16:
		half.F32ToF16s(dst, src)
	case BF16:
		half.F32ToBF16s(dst, src)
	default:
		panic(fmt.Sprintf("tensor: NarrowFloat32s to %v", dt))
	}
}

// halfAt widens one stored element of a half tensor.
func halfAt(dt DType, h uint16) float32 {
	if dt == BF16 {
		return half.BF16ToF32(h)
	}
	return half.F16ToF32(h)
}

// halfOf narrows one float to a stored element of a half tensor.
func halfOf(dt DType, f float32) uint16 {
	if dt == BF16 {
		return half.F32ToBF16(f)
	}
	return half.F32ToF16(f)
}
