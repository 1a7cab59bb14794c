package tensor

import "fmt"

// Cat returns the tensors joined along dim (torch.cat): all must have the
// same shape except along dim.
func Cat(dim int, ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		panic("tensor: Cat of nothing")
	}
	if dim < 0 {
		dim += ts[0].Dims()
	}
	sh := append([]int(nil), ts[0].Shape...)
	if dim < 0 || dim >= len(sh) {
		panic(fmt.Sprintf("tensor: Cat dim %d for %v", dim, sh))
	}
	sh[dim] = 0
	for _, t := range ts {
		sh[dim] += t.Dim(dim)
	}
	return CatTo(New(sh...), dim, ts...)
}

// CatTo writes the tensors one after another along dim of dst (whose shape
// must be their concatenation) and returns dst. Inputs may be strided views
// and dst any view that does not overlap them.
func CatTo(dst *Tensor, dim int, ts ...*Tensor) *Tensor {
	if dim < 0 {
		dim += dst.Dims()
	}
	if dim < 0 || dim >= dst.Dims() {
		panic(fmt.Sprintf("tensor: Cat dim %d for %v", dim, dst.Shape))
	}
	at := 0
	for _, t := range ts {
		if t.Dims() != dst.Dims() {
			panic(fmt.Sprintf("tensor: Cat of %v into %v", t.Shape, dst.Shape))
		}
		for i := range t.Shape {
			if i != dim && t.Shape[i] != dst.Shape[i] {
				panic(fmt.Sprintf("tensor: Cat of %v into %v along %d", t.Shape, dst.Shape, dim))
			}
		}
		n := t.Shape[dim]
		if at+n > dst.Shape[dim] {
			panic(fmt.Sprintf("tensor: Cat inputs overflow %v along %d", dst.Shape, dim))
		}
		CopyTo(dst.Slice(dim, at, at+n), t)
		at += n
	}
	if at != dst.Shape[dim] {
		panic(fmt.Sprintf("tensor: Cat inputs fill %d of %d along %d", at, dst.Shape[dim], dim))
	}
	return dst
}

// Split returns views of t cut along dim into pieces of the given sizes,
// which must add up to t.Dim(dim) (torch.split with a list of sizes).
func Split(t *Tensor, dim int, sizes ...int) []*Tensor {
	if dim < 0 {
		dim += t.Dims()
	}
	out := make([]*Tensor, len(sizes))
	at := 0
	for i, s := range sizes {
		if s < 0 || at+s > t.Shape[dim] {
			panic(fmt.Sprintf("tensor: Split %v of %v along %d", sizes, t.Shape, dim))
		}
		out[i] = t.Slice(dim, at, at+s)
		at += s
	}
	if at != t.Shape[dim] {
		panic(fmt.Sprintf("tensor: Split %v of %v along %d", sizes, t.Shape, dim))
	}
	return out
}

// Chunk returns views of t cut along dim into n pieces as torch.chunk:
// each ceil(size/n) long, the last possibly shorter, and fewer than n
// pieces when the size runs out.
func Chunk(t *Tensor, n, dim int) []*Tensor {
	if dim < 0 {
		dim += t.Dims()
	}
	if n <= 0 {
		panic("tensor: Chunk into no pieces")
	}
	size := t.Shape[dim]
	step := (size + n - 1) / n
	var out []*Tensor
	for at := 0; at < size; at += step {
		out = append(out, t.Slice(dim, at, min(at+step, size)))
	}
	if size == 0 {
		out = append(out, t.Slice(dim, 0, 0))
	}
	return out
}
