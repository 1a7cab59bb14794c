// Package tensor owns comfyd's one tensor type: dense float32 arrays with a
// shape and strides, views over shared storage, and the operations the image
// nodes and the Stable Diffusion models are built from.
//
// A Tensor's element at index (i0, i1, ..., in) lives at
// Data[Offset + i0*Strides[0] + ... + in*Strides[n]]. Constructors return
// contiguous row-major tensors; views (Slice, Select, Permute, Reshape of a
// contiguous tensor) share Data with their parent.
//
// This package is part of the compute wing: it must not import api, node,
// server or net/http.
package tensor

import (
	"fmt"
	"strings"
)

// DType is the storage type of a tensor's elements. Compute is always
// float32; half-precision storage exists so that model weights can stay in
// the checkpoint's format in memory and be widened on the fly (in GEMM
// packing) or on demand (Float).
type DType uint8

const (
	F32  DType = iota // elements in Data
	F16               // IEEE half bits in Half
	BF16              // bfloat16 bits in Half
)

func (d DType) String() string {
	switch d {
	case F16:
		return "float16"
	case BF16:
		return "bfloat16"
	}
	return "float32"
}

// Tensor is a strided view of float32 storage, or of half-precision storage
// when DType is F16 or BF16 (then Half holds the elements and Data is nil).
type Tensor struct {
	Data    []float32
	Half    []uint16
	DType   DType
	Shape   []int
	Strides []int
	Offset  int
}

// numel returns the number of elements of a shape.
func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// contiguousStrides returns row-major strides for shape.
func contiguousStrides(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
	return st
}

func checkShape(shape []int) {
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("tensor: negative dimension in shape %v", shape))
		}
	}
}

// New returns a zero-filled contiguous tensor of the given shape.
func New(shape ...int) *Tensor {
	checkShape(shape)
	sh := append([]int(nil), shape...)
	return &Tensor{Data: make([]float32, numel(sh)), Shape: sh, Strides: contiguousStrides(sh)}
}

// FromData wraps data (not copied) as a contiguous tensor of the given shape.
func FromData(data []float32, shape ...int) *Tensor {
	checkShape(shape)
	if len(data) != numel(shape) {
		panic(fmt.Sprintf("tensor: %d elements do not fill shape %v", len(data), shape))
	}
	sh := append([]int(nil), shape...)
	return &Tensor{Data: data, Shape: sh, Strides: contiguousStrides(sh)}
}

// Full returns a contiguous tensor of the given shape filled with v.
func Full(v float32, shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.Data {
		t.Data[i] = v
	}
	return t
}

// Dims returns the number of dimensions.
func (t *Tensor) Dims() int { return len(t.Shape) }

// Len returns the number of elements.
func (t *Tensor) Len() int { return numel(t.Shape) }

// Dim returns the size of dimension i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.Shape)
	}
	return t.Shape[i]
}

// IsContiguous reports whether t is row-major with no gaps, so that
// t.Data[t.Offset : t.Offset+t.Len()] holds its elements in order.
func (t *Tensor) IsContiguous() bool {
	s := 1
	for i := len(t.Shape) - 1; i >= 0; i-- {
		if t.Shape[i] != 1 && t.Strides[i] != s {
			return false
		}
		s *= t.Shape[i]
	}
	return true
}

// index returns the storage position of a multi-index.
func (t *Tensor) index(idx []int) int {
	if len(idx) != len(t.Shape) {
		panic(fmt.Sprintf("tensor: %d indices for %d dims", len(idx), len(t.Shape)))
	}
	p := t.Offset
	for i, x := range idx {
		if x < 0 || x >= t.Shape[i] {
			panic(fmt.Sprintf("tensor: index %v out of range for shape %v", idx, t.Shape))
		}
		p += x * t.Strides[i]
	}
	return p
}

// At returns the element at a multi-index (widened from half storage).
func (t *Tensor) At(idx ...int) float32 {
	if t.DType != F32 {
		return halfAt(t.DType, t.Half[t.index(idx)])
	}
	return t.Data[t.index(idx)]
}

// Set stores v at a multi-index (rounded to nearest even in half storage).
func (t *Tensor) Set(v float32, idx ...int) {
	if t.DType != F32 {
		t.Half[t.index(idx)] = halfOf(t.DType, v)
		return
	}
	t.Data[t.index(idx)] = v
}

// storageLen is the length of the slice that holds t's elements.
func (t *Tensor) storageLen() int {
	if t.DType != F32 {
		return len(t.Half)
	}
	return len(t.Data)
}

// Contiguous returns t itself if it is contiguous with offset 0 and exactly
// sized storage, else a contiguous copy.
func (t *Tensor) Contiguous() *Tensor {
	if t.Offset == 0 && t.IsContiguous() && t.storageLen() == t.Len() {
		return t
	}
	return t.Clone()
}

// Clone returns a contiguous copy of t with the same storage type.
func (t *Tensor) Clone() *Tensor {
	if t.DType != F32 {
		out := &Tensor{Half: make([]uint16, t.Len()), DType: t.DType, Shape: append([]int(nil), t.Shape...), Strides: contiguousStrides(t.Shape)}
		eachRun(t, func(pos, src, n, step int) {
			if step == 1 {
				copy(out.Half[pos:pos+n], t.Half[src:src+n])
				return
			}
			for j := 0; j < n; j++ {
				out.Half[pos+j] = t.Half[src+j*step]
			}
		})
		return out
	}
	out := New(t.Shape...)
	t.copyTo(out.Data)
	return out
}

// Values returns t's elements in row-major order as a new float32 slice
// (widened from half storage).
func (t *Tensor) Values() []float32 {
	out := make([]float32, t.Len())
	t.copyTo(out)
	return out
}

// copyTo writes t's elements in row-major order into dst, widening half
// storage.
func (t *Tensor) copyTo(dst []float32) {
	if t.DType != F32 {
		eachRun(t, func(pos, src, n, step int) {
			if step == 1 {
				WidenHalfs(dst[pos:pos+n], t.Half[src:src+n], t.DType)
				return
			}
			for j := 0; j < n; j++ {
				dst[pos+j] = halfAt(t.DType, t.Half[src+j*step])
			}
		})
		return
	}
	eachRun(t, func(pos, src, n, step int) {
		if step == 1 {
			copy(dst[pos:pos+n], t.Data[src:src+n])
			return
		}
		for j := 0; j < n; j++ {
			dst[pos+j] = t.Data[src+j*step]
		}
	})
}

// eachRun calls f for the runs of t's elements in row-major order: n
// elements that go to positions pos… of a contiguous copy, read from storage
// at src, src+step, …; one run if t is contiguous, else one per innermost row.
func eachRun(t *Tensor, f func(pos, src, n, step int)) {
	if t.Len() == 0 {
		return
	}
	if t.IsContiguous() {
		f(0, t.Offset, t.Len(), 1)
		return
	}
	n := len(t.Shape)
	if n == 0 {
		f(0, t.Offset, 1, 1)
		return
	}
	idx := make([]int, n)
	inner := t.Shape[n-1]
	is := t.Strides[n-1]
	pos := 0
	for {
		base := t.Offset
		for i := 0; i < n-1; i++ {
			base += idx[i] * t.Strides[i]
		}
		f(pos, base, inner, is)
		pos += inner
		// advance the outer index
		k := n - 2
		for k >= 0 {
			idx[k]++
			if idx[k] < t.Shape[k] {
				break
			}
			idx[k] = 0
			k--
		}
		if k < 0 || inner == 0 {
			return
		}
	}
}

// Reshape returns a view with a new shape; t must be contiguous. One
// dimension may be -1 and is inferred.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	sh := append([]int(nil), shape...)
	infer := -1
	known := 1
	for i, d := range sh {
		if d == -1 {
			if infer >= 0 {
				panic("tensor: more than one -1 in Reshape")
			}
			infer = i
			continue
		}
		known *= d
	}
	if infer >= 0 {
		if known == 0 || t.Len()%known != 0 {
			panic(fmt.Sprintf("tensor: cannot reshape %v to %v", t.Shape, shape))
		}
		sh[infer] = t.Len() / known
	}
	if numel(sh) != t.Len() {
		panic(fmt.Sprintf("tensor: cannot reshape %v to %v", t.Shape, shape))
	}
	src := t
	if !t.IsContiguous() {
		src = t.Clone()
	}
	return &Tensor{Data: src.Data, Half: src.Half, DType: src.DType, Shape: sh, Strides: contiguousStrides(sh), Offset: src.Offset}
}

// Slice returns a view of t restricted to [start, end) along dim.
func (t *Tensor) Slice(dim, start, end int) *Tensor {
	if dim < 0 {
		dim += len(t.Shape)
	}
	if start < 0 || end > t.Shape[dim] || start > end {
		panic(fmt.Sprintf("tensor: slice [%d,%d) out of range for dim %d of %v", start, end, dim, t.Shape))
	}
	v := t.view()
	v.Shape[dim] = end - start
	v.Offset += start * t.Strides[dim]
	return v
}

// Select returns a view of t at index i along dim, with that dim removed.
func (t *Tensor) Select(dim, i int) *Tensor {
	if dim < 0 {
		dim += len(t.Shape)
	}
	if i < 0 || i >= t.Shape[dim] {
		panic(fmt.Sprintf("tensor: select %d out of range for dim %d of %v", i, dim, t.Shape))
	}
	v := &Tensor{Data: t.Data, Half: t.Half, DType: t.DType, Offset: t.Offset + i*t.Strides[dim]}
	v.Shape = append(append([]int(nil), t.Shape[:dim]...), t.Shape[dim+1:]...)
	v.Strides = append(append([]int(nil), t.Strides[:dim]...), t.Strides[dim+1:]...)
	return v
}

// Permute returns a view with dimensions reordered: result dim i is t's dim perm[i].
func (t *Tensor) Permute(perm ...int) *Tensor {
	if len(perm) != len(t.Shape) {
		panic(fmt.Sprintf("tensor: permutation %v for %d dims", perm, len(t.Shape)))
	}
	v := &Tensor{Data: t.Data, Half: t.Half, DType: t.DType, Offset: t.Offset, Shape: make([]int, len(perm)), Strides: make([]int, len(perm))}
	seen := make([]bool, len(perm))
	for i, p := range perm {
		if p < 0 || p >= len(perm) || seen[p] {
			panic(fmt.Sprintf("tensor: bad permutation %v", perm))
		}
		seen[p] = true
		v.Shape[i] = t.Shape[p]
		v.Strides[i] = t.Strides[p]
	}
	return v
}

// Unsqueeze returns a view with a size-1 dimension inserted at dim.
func (t *Tensor) Unsqueeze(dim int) *Tensor {
	if dim < 0 {
		dim += len(t.Shape) + 1
	}
	v := &Tensor{Data: t.Data, Half: t.Half, DType: t.DType, Offset: t.Offset}
	st := 1
	if dim < len(t.Shape) {
		st = t.Strides[dim] * t.Shape[dim]
	}
	v.Shape = append(append(append([]int(nil), t.Shape[:dim]...), 1), t.Shape[dim:]...)
	v.Strides = append(append(append([]int(nil), t.Strides[:dim]...), st), t.Strides[dim:]...)
	return v
}

func (t *Tensor) view() *Tensor {
	return &Tensor{Data: t.Data, Half: t.Half, DType: t.DType, Offset: t.Offset, Shape: append([]int(nil), t.Shape...), Strides: append([]int(nil), t.Strides...)}
}

// SameShape reports whether a and b have equal shapes.
func SameShape(a, b *Tensor) bool {
	if len(a.Shape) != len(b.Shape) {
		return false
	}
	for i := range a.Shape {
		if a.Shape[i] != b.Shape[i] {
			return false
		}
	}
	return true
}

// String describes the tensor briefly, in the style of torch's repr header,
// for error messages (the executor stringifies non-primitive inputs).
func (t *Tensor) String() string {
	var b strings.Builder
	b.WriteString("tensor(shape=[")
	for i, d := range t.Shape {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, d)
	}
	b.WriteString("], dtype=")
	b.WriteString(t.DType.String())
	b.WriteString(")")
	return b.String()
}
