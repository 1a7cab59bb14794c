package tensor

import (
	"fmt"

	"github.com/comfyd/comfyd/ml/tensor/internal/gemm"
)

// matOf describes the last two dimensions of t (after offset off) as a gemm
// operand: leading dimension ld and whether storage is transposed
// (column-major). ok is false when neither dimension has unit stride.
func matOf(t *Tensor, off int) (ld int, trans, ok bool) {
	n := len(t.Shape)
	r, c := t.Shape[n-2], t.Shape[n-1]
	sr, sc := t.Strides[n-2], t.Strides[n-1]
	switch {
	case (sc == 1 || c == 1) && (sr >= c || r == 1):
		return max(sr, c, 1), false, true
	case (sr == 1 || r == 1) && (sc >= r || c == 1):
		return max(sc, r, 1), true, true
	}
	return 0, false, false
}

// gemmB runs one multiplication with B taken from t's storage at offset off
// in t's dtype (float32, fp16 or bf16 bits, widened while packing).
func gemmB(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b *Tensor, off, ldb int, beta float32, c []float32, ldc int) {
	switch b.DType {
	case F16:
		gemm.F16B(transA, transB, m, n, k, alpha, a, lda, b.Half[off:], ldb, beta, c, ldc)
	case BF16:
		gemm.BF16B(transA, transB, m, n, k, alpha, a, lda, b.Half[off:], ldb, beta, c, ldc)
	default:
		gemm.F32(transA, transB, m, n, k, alpha, a, lda, b.Data[off:], ldb, beta, c, ldc)
	}
}

// MatMul returns a·b for a [..., M, K] and b [..., K, N] with batch
// dimensions broadcast as in torch.matmul (both at least 2-D). a is computed
// in float32 (widened if half); b may be stored as F32, F16 or BF16.
// Transposed views (Permute) are used in place, without copies.
//
// Reference loop, per batch index:
//
//	out[i,j] = Σ_p a[i,p]·b[p,j]
func MatMul(a, b *Tensor) *Tensor {
	return MatMulTo(nil, a, b)
}

// MatMulTo is MatMul into dst, which must have the result's shape and unit
// stride in its last dimension and must not overlap a or b; a nil dst
// allocates one. It returns dst.
func MatMulTo(dst, a, b *Tensor) *Tensor {
	if a.Dims() < 2 || b.Dims() < 2 {
		panic(fmt.Sprintf("tensor: MatMul needs 2-D or more, got %v and %v", a.Shape, b.Shape))
	}
	a = a.Float()
	m, k := a.Dim(-2), a.Dim(-1)
	k2, n := b.Dim(-2), b.Dim(-1)
	if k != k2 {
		panic(fmt.Sprintf("tensor: MatMul inner dimensions differ: %v · %v", a.Shape, b.Shape))
	}
	batch := BroadcastShapeOf(a.Shape[:a.Dims()-2], b.Shape[:b.Dims()-2])
	shape := append(append([]int(nil), batch...), m, n)
	if dst == nil {
		dst = New(shape...)
	} else if !sameInts(dst.Shape, shape) || dst.DType != F32 {
		panic(fmt.Sprintf("tensor: MatMul destination %v, want float32 %v", dst.Shape, shape))
	}
	if _, _, ok := matOf(a, 0); !ok {
		a = a.Contiguous()
	}
	if _, _, ok := matOf(b, 0); !ok {
		b = b.Contiguous()
	}
	ldc, dtrans, ok := matOf(dst, 0)
	if !ok || (dtrans && n > 1) {
		panic(fmt.Sprintf("tensor: MatMul destination needs unit stride in its last dimension, has strides %v", dst.Strides))
	}
	// One tall multiplication when b has no batch and a's rows are evenly
	// spaced across its batch (the Linear-like case, e.g. [B,S,K]·[K,N]).
	if numel(b.Shape[:b.Dims()-2]) == 1 {
		if am, ok := foldRows(a); ok {
			if dm, ok := foldRows(dst); ok {
				ldb, tb, _ := matOf(b, 0)
				gemmB(false, tb, am.rows, n, k, 1, a.Data[a.Offset:], am.ld, b, b.Offset, ldb, 0, dst.Data[dst.Offset:], dm.ld)
				return dst
			}
		}
	}
	ast := bcastStridesOf(a, batch)
	bst := bcastStridesOf(b, batch)
	dst2 := dst.Strides[:len(batch)]
	lda, ta, _ := matOf(a, 0)
	ldb, tb, _ := matOf(b, 0)
	idx := make([]int, len(batch))
	for bi, nb := 0, numel(batch); bi < nb; bi++ {
		ao, bo, do := a.Offset, b.Offset, dst.Offset
		for d := range batch {
			ao += idx[d] * ast[d]
			bo += idx[d] * bst[d]
			do += idx[d] * dst2[d]
		}
		gemmB(ta, tb, m, n, k, 1, a.Data[ao:], lda, b, bo, ldb, 0, dst.Data[do:], ldc)
		for d := len(batch) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < batch[d] {
				break
			}
			idx[d] = 0
		}
	}
	return dst
}

// rowsView is a tensor's leading dimensions flattened to rows of its last
// dimension, rows ld apart.
type rowsView struct{ rows, ld int }

// foldRows reports whether all of t's rows (every dimension but the last)
// are evenly spaced with unit stride inside a row, so that t is one
// row-major matrix.
func foldRows(t *Tensor) (rowsView, bool) {
	n := t.Dims()
	if n == 0 || (t.Strides[n-1] != 1 && t.Shape[n-1] > 1) {
		return rowsView{}, false
	}
	rows := numel(t.Shape[:n-1])
	if n == 1 {
		return rowsView{1, max(t.Shape[0], 1)}, true
	}
	ld := t.Strides[n-2]
	step := ld
	for d := n - 2; d >= 0; d-- {
		if t.Shape[d] == 1 {
			continue
		}
		if t.Strides[d] != step {
			return rowsView{}, false
		}
		step *= t.Shape[d]
	}
	if rows <= 1 {
		ld = t.Shape[n-1]
	}
	if ld < t.Shape[n-1] {
		return rowsView{}, false
	}
	return rowsView{rows, max(ld, 1)}, true
}

// BroadcastShapeOf returns the broadcast of two batch shapes (aligned on the
// right, size-1 dimensions stretch), panicking if they are incompatible.
func BroadcastShapeOf(a, b []int) []int {
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
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			panic(fmt.Sprintf("tensor: batch shapes %v and %v do not broadcast", a, b))
		}
	}
	return out
}

// bcastStridesOf returns t's strides for the batch dimensions of the given
// broadcast batch shape (0 where t is broadcast).
func bcastStridesOf(t *Tensor, batch []int) []int {
	tb := t.Dims() - 2
	st := make([]int, len(batch))
	for i := range batch {
		j := tb - len(batch) + i
		if j >= 0 && t.Shape[j] != 1 {
			st[i] = t.Strides[j]
		}
	}
	return st
}

func sameInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Linear returns x·wᵀ + bias for x [..., in], w [out, in] as PyTorch stores
// it (F32, F16 or BF16, widened while packed) and bias [out] or nil:
//
//	out[..., o] = bias[o] + Σ_i x[..., i]·w[o, i]
func Linear(x, w, bias *Tensor) *Tensor {
	shape := append(append([]int(nil), x.Shape[:max(x.Dims()-1, 0)]...), w.Dim(0))
	return LinearTo(New(shape...), x, w, bias)
}

// LinearTo is Linear into dst ([..., out], rows evenly spaced with unit
// stride, not overlapping x or w); it returns dst.
func LinearTo(dst, x, w, bias *Tensor) *Tensor {
	if w.Dims() != 2 || x.Dims() < 1 || x.Dim(-1) != w.Dim(1) {
		panic(fmt.Sprintf("tensor: Linear of %v with weight %v", x.Shape, w.Shape))
	}
	ldw, tw, ok := matOf(w, 0)
	if !ok {
		w = w.Contiguous()
		ldw, tw, _ = matOf(w, 0)
	}
	return linear(dst, x, w.Dim(0), w.Dim(1), bias, func(m int, a []float32, lda int, beta float32, c []float32, ldc int) {
		// w as stored is B transposed (n×k); a column-major view of it is not.
		gemmB(false, !tw, m, w.Dim(0), w.Dim(1), 1, a, lda, w, w.Offset, ldw, beta, c, ldc)
	})
}

// linear checks shapes, lays out x and the bias, and calls mul for
// C (rows×out) = X (rows×in) · Wᵀ + beta·C.
func linear(dst, x *Tensor, out, in int, bias *Tensor, mul func(m int, a []float32, lda int, beta float32, c []float32, ldc int)) *Tensor {
	if x.Dims() < 1 || x.Dim(-1) != in {
		panic(fmt.Sprintf("tensor: Linear of %v with weight [%d %d]", x.Shape, out, in))
	}
	want := append(append([]int(nil), x.Shape[:x.Dims()-1]...), out)
	if !sameInts(dst.Shape, want) || dst.DType != F32 {
		panic(fmt.Sprintf("tensor: Linear destination %v, want float32 %v", dst.Shape, want))
	}
	x = x.Float()
	xv, ok := foldRows(x)
	if !ok {
		x = x.Contiguous()
		xv, _ = foldRows(x)
	}
	dv, ok := foldRows(dst)
	if !ok {
		panic(fmt.Sprintf("tensor: Linear destination rows must be evenly spaced, strides %v", dst.Strides))
	}
	var beta float32
	if bias != nil {
		if bias.Len() != out {
			panic(fmt.Sprintf("tensor: Linear bias %v for %d outputs", bias.Shape, out))
		}
		fillRows(dst.Data[dst.Offset:], xv.rows, out, dv.ld, bias.Float().Values())
		beta = 1
	}
	mul(xv.rows, x.Data[x.Offset:], xv.ld, beta, dst.Data[dst.Offset:], dv.ld)
	return dst
}

// PackedWeight is a Linear or Conv2d weight widened to float32 and packed
// once into the GEMM's panel layout, for layers called many times (every
// sampling step): calls then skip the per-call widening and packing, which
// matters most where the activations are few (8×8 and 16×16 latents, text
// tokens). It holds 4 bytes per weight, twice an fp16 checkpoint's.
type PackedWeight struct {
	shape []int
	b     *gemm.PackedB // Linear: w [out, in] is B, n=out, k=in
	a     *gemm.PackedA // Conv2d: w [Cout, Cin·kh·kw] is A
}

// Shape returns the weight's shape as it was given.
func (p *PackedWeight) Shape() []int { return append([]int(nil), p.shape...) }

// weightPacker describes a weight's storage as a gemm operand whose lines
// are its rows of length k (contiguous, any dtype).
func weightPacker(w *Tensor, k int) gemm.Packer {
	w = w.Contiguous()
	switch w.DType {
	case F16:
		return gemm.MatrixF16(w.Half[w.Offset:], max(k, 1), false)
	case BF16:
		return gemm.MatrixBF16(w.Half[w.Offset:], max(k, 1), false)
	}
	return gemm.MatrixF32(w.Data[w.Offset:], max(k, 1), false)
}

// PackLinearWeight packs a Linear weight w [out, in] (F32, F16 or BF16).
func PackLinearWeight(w *Tensor) *PackedWeight {
	if w.Dims() != 2 {
		panic(fmt.Sprintf("tensor: PackLinearWeight of %v", w.Shape))
	}
	return &PackedWeight{shape: append([]int(nil), w.Shape...), b: gemm.PackB(weightPacker(w, w.Dim(1)), w.Dim(0), w.Dim(1))}
}

// LinearPacked is Linear with a weight from PackLinearWeight.
func LinearPacked(x *Tensor, w *PackedWeight, bias *Tensor) *Tensor {
	shape := append(append([]int(nil), x.Shape[:max(x.Dims()-1, 0)]...), w.shape[0])
	return LinearPackedTo(New(shape...), x, w, bias)
}

// LinearPackedTo is LinearTo with a weight from PackLinearWeight.
func LinearPackedTo(dst, x *Tensor, w *PackedWeight, bias *Tensor) *Tensor {
	if w.b == nil {
		panic("tensor: LinearPacked with a weight not packed by PackLinearWeight")
	}
	return linear(dst, x, w.shape[0], w.shape[1], bias, func(m int, a []float32, lda int, beta float32, c []float32, ldc int) {
		gemm.RunB(m, 1, gemm.MatrixF32(a, lda, false), w.b, beta, c, ldc)
	})
}

// fillRows sets each of rows rows (ld apart) of c to vals.
func fillRows(c []float32, rows, n, ld int, vals []float32) {
	for i := 0; i < rows; i++ {
		copy(c[i*ld:i*ld+n], vals)
	}
}
