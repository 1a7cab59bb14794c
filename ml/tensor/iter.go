package tensor

import "fmt"

// elemGrain is the smallest number of elements worth handing to a worker
// for cheap elementwise work (a few microseconds of arithmetic).
const elemGrain = 1 << 15

// mustF32 panics unless every tensor stores float32 elements: compute ops
// read Data, and half-storage tensors must be widened first.
func mustF32(op string, ts ...*Tensor) {
	for _, t := range ts {
		if t.DType != F32 {
			panic(fmt.Sprintf("tensor: %s needs float32 operands, got %v", op, t.DType))
		}
	}
}

// BroadcastShape returns the NumPy/PyTorch broadcast of two shapes: shapes
// are right-aligned and each pair of dimensions must be equal or contain a 1.
func BroadcastShape(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("tensor: shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

func mustBroadcast(a, b []int) []int {
	s, err := BroadcastShape(a, b)
	if err != nil {
		panic(err.Error())
	}
	return s
}

// bcastStrides returns t's strides as seen from the (broadcast) shape out:
// right-aligned, with stride 0 on dimensions t lacks or has as size 1.
func bcastStrides(t *Tensor, out []int) []int {
	st := make([]int, len(out))
	k := len(out) - len(t.Shape)
	if k < 0 {
		panic(fmt.Sprintf("tensor: shape %v does not broadcast to %v", t.Shape, out))
	}
	for i, d := range t.Shape {
		switch {
		case d == out[k+i]:
			if d != 1 {
				st[k+i] = t.Strides[i]
			}
		case d == 1:
		default:
			panic(fmt.Sprintf("tensor: shape %v does not broadcast to %v", t.Shape, out))
		}
	}
	return st
}

// iter walks an output shape with up to three operands (index 0 is the
// destination) after merging dimensions that are laid out contiguously for
// every operand, so that the innermost loop is as long as possible.
type iter struct {
	shape []int    // coalesced shape, at least one dimension
	st    [3][]int // per-operand strides over shape
	off   [3]int   // per-operand storage offsets
	n     int      // number of operands
}

func newIter(shape []int, ops ...*Tensor) *iter {
	it := &iter{n: len(ops)}
	sts := make([][]int, len(ops))
	for k, t := range ops {
		sts[k] = bcastStrides(t, shape)
		it.off[k] = t.Offset
	}
	// Drop size-1 dimensions, then merge neighbours that are contiguous for
	// all operands.
	var sh []int
	var st [3][]int
	for i, d := range shape {
		if d == 1 {
			continue
		}
		if m := len(sh) - 1; m >= 0 {
			merge := true
			for k := range ops {
				if st[k][m] != sts[k][i]*d {
					merge = false
					break
				}
			}
			if merge {
				sh[m] *= d
				for k := range ops {
					st[k][m] = sts[k][i]
				}
				continue
			}
		}
		sh = append(sh, d)
		for k := range ops {
			st[k] = append(st[k], sts[k][i])
		}
	}
	if len(sh) == 0 || numel(shape) == 0 {
		sh = []int{numel(shape)}
		for k := range ops {
			st[k] = []int{0}
		}
	}
	it.shape = sh
	it.st = st
	return it
}

// run calls seg for runs of the innermost dimension: o holds each operand's
// storage position of the run's first element, cnt its length; the inner
// strides are it.inner(k). Runs are spread over workers.
func (it *iter) run(grain int, seg func(o [3]int, cnt int)) {
	r := len(it.shape)
	inner := it.shape[r-1]
	total := numel(it.shape)
	if total == 0 {
		return
	}
	ParallelFor(total, grain, func(lo, hi int) {
		for p := lo; p < hi; {
			row, col := p/inner, p%inner
			cnt := min(inner-col, hi-p)
			var o [3]int
			for k := 0; k < it.n; k++ {
				o[k] = it.off[k] + col*it.st[k][r-1]
			}
			for d := r - 2; d >= 0 && row > 0; d-- {
				i := row % it.shape[d]
				row /= it.shape[d]
				for k := 0; k < it.n; k++ {
					o[k] += i * it.st[k][d]
				}
			}
			seg(o, cnt)
			p += cnt
		}
	})
}

func (it *iter) inner(k int) int { return it.st[k][len(it.shape)-1] }

// checkDst panics unless dst has exactly the given shape.
func checkDst(op string, dst *Tensor, shape []int) {
	if len(dst.Shape) != len(shape) {
		panic(fmt.Sprintf("tensor: %s destination shape %v, want %v", op, dst.Shape, shape))
	}
	for i := range shape {
		if dst.Shape[i] != shape[i] {
			panic(fmt.Sprintf("tensor: %s destination shape %v, want %v", op, dst.Shape, shape))
		}
	}
}
