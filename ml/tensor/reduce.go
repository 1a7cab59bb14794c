package tensor

import "fmt"

type reduceKind uint8

const (
	redSum reduceKind = iota
	redMean
	redMax
	redMin
)

// Sum returns the sum along dim (accumulated in float64), with dim kept
// as size 1 when keepdim is set, as torch.sum(t, dim, keepdim).
func Sum(t *Tensor, dim int, keepdim bool) *Tensor { return reduce(redSum, t, dim, keepdim) }

// Mean returns the mean along dim (float64 accumulation), as torch.mean.
func Mean(t *Tensor, dim int, keepdim bool) *Tensor { return reduce(redMean, t, dim, keepdim) }

// MaxAlong returns the maximum along dim (NaN propagates), as
// torch.amax(t, dim, keepdim).
func MaxAlong(t *Tensor, dim int, keepdim bool) *Tensor { return reduce(redMax, t, dim, keepdim) }

// MinAlong returns the minimum along dim (NaN propagates), as torch.amin.
func MinAlong(t *Tensor, dim int, keepdim bool) *Tensor { return reduce(redMin, t, dim, keepdim) }

// SumAll returns the sum of every element, accumulated in float64.
func SumAll(t *Tensor) float64 {
	mustF32("SumAll", t)
	var s float64
	if t.IsContiguous() {
		return sumf(t.Data[t.Offset : t.Offset+t.Len()])
	}
	for _, v := range t.Values() {
		s += float64(v)
	}
	return s
}

// reduce folds dim away. Reference loop, for every index i of the result:
//
//	out[i] = fold over k < t.Dim(dim) of t[i with k inserted at dim]
func reduce(kind reduceKind, t *Tensor, dim int, keepdim bool) *Tensor {
	mustF32("reduce", t)
	if dim < 0 {
		dim += t.Dims()
	}
	if dim < 0 || dim >= t.Dims() {
		panic(fmt.Sprintf("tensor: reduce dim %d of %v", dim, t.Shape))
	}
	n := t.Shape[dim]
	if n == 0 && (kind == redMax || kind == redMin) {
		panic(fmt.Sprintf("tensor: max/min along empty dim %d of %v", dim, t.Shape))
	}
	rest := append(append([]int(nil), t.Shape[:dim]...), t.Shape[dim+1:]...)
	rs := append(append([]int(nil), t.Strides[:dim]...), t.Strides[dim+1:]...)
	out := New(rest...)
	step := t.Strides[dim]
	total := numel(rest)
	ParallelFor(total, max(1, elemGrain/max(n, 1)), func(lo, hi int) {
		for o := lo; o < hi; o++ {
			p := t.Offset
			r := o
			for d := len(rest) - 1; d >= 0; d-- {
				p += (r % rest[d]) * rs[d]
				r /= rest[d]
			}
			switch kind {
			case redSum, redMean:
				var s float64
				for k := 0; k < n; k++ {
					s += float64(t.Data[p+k*step])
				}
				if kind == redMean {
					s /= float64(n) // 0/0 = NaN for an empty dim, as torch
				}
				out.Data[o] = float32(s)
			default:
				m := t.Data[p]
				for k := 1; k < n; k++ {
					v := t.Data[p+k*step]
					if m != m {
						break
					}
					if v != v || (kind == redMax && v > m) || (kind == redMin && v < m) {
						m = v
					}
				}
				out.Data[o] = m
			}
		}
	})
	if keepdim {
		return out.Unsqueeze(dim)
	}
	return out
}
