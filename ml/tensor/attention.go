package tensor

import (
	"fmt"
	"math"
	"sync"

	"github.com/comfyd/comfyd/ml/tensor/internal/gemm"
	"github.com/comfyd/comfyd/ml/tensor/internal/vec"
)

// Attention returns scaled-dot-product attention softmax(q·kᵀ·scale)·v for
// q [B, H, Tq, D], k [B, H, Tk, D] and v [B, H, Tk, Dv]; the result is
// [B, H, Tq, Dv]. Operands may be any views whose last dimension is unit
// stride (the head-split views AttentionHeads makes, for instance); k and v
// may have batch 1 against q's B. A scale of 0 means 1/sqrt(D), torch's
// default. With causal set, query i sees only keys j ≤ i (CLIP's text
// mask, torch's is_causal=True).
//
// Reference loop, for every batch b, head h and query i:
//
//	s[j] = scale · Σ_d q[b,h,i,d]·k[b,h,j,d]          (j < Tk)
//	p = softmax(s)                                   (over j)
//	out[b,h,i,e] = Σ_j p[j]·v[b,h,j,e]
//
// The Tq×Tk score matrix is never built. Work is split into tasks of one
// (batch, head, block of queries); each walks the keys in blocks, computes
// the score tile with gemm, and keeps a running maximum and running sum per
// query row (the online softmax of FlashAttention): when a new block raises
// a row's maximum from m to m', the accumulated output and sum are scaled by
// exp(m-m') before the block's contribution is added. Results agree with the
// materialised reference to ~1e-5 relative.
func Attention(q, k, v *Tensor, scale float32, causal bool) *Tensor {
	out := New(q.Dim(0), q.Dim(1), q.Dim(2), v.Dim(3))
	return AttentionTo(out, q, k, v, scale, causal)
}

// AttentionTo is Attention writing into dst ([B, H, Tq, Dv], any view with a
// unit-stride last dimension, not overlapping the operands); it returns dst.
func AttentionTo(dst, q, k, v *Tensor, scale float32, causal bool) *Tensor {
	mustF32("Attention", dst, q, k, v)
	for _, t := range []*Tensor{q, k, v} {
		if t.Dims() != 4 {
			panic(fmt.Sprintf("tensor: Attention operands must be [B, H, T, D], got %v", t.Shape))
		}
	}
	b, h, tq, d := q.Shape[0], q.Shape[1], q.Shape[2], q.Shape[3]
	tk, dv := k.Shape[2], v.Shape[3]
	okB := func(t *Tensor) bool { return t.Shape[0] == b || t.Shape[0] == 1 }
	if !okB(k) || !okB(v) || k.Shape[1] != h || v.Shape[1] != h || k.Shape[3] != d || v.Shape[2] != tk {
		panic(fmt.Sprintf("tensor: Attention shapes q %v k %v v %v do not match", q.Shape, k.Shape, v.Shape))
	}
	checkDst("Attention", dst, []int{b, h, tq, dv})
	q, k, v = unitLast(q), unitLast(k), unitLast(v)
	mustUnitLast("Attention", dst)
	if scale == 0 {
		scale = float32(1 / math.Sqrt(float64(d)))
	}
	a := attnPlan{q: q, k: k, v: v, dst: dst, b: b, h: h, tq: tq, tk: tk, d: d, dv: dv, scale: scale, causal: causal}
	a.blocks()
	if tq == 0 || dv == 0 {
		return dst
	}
	nqb := (tq + a.bq - 1) / a.bq
	if nqb > 1 {
		// Every query block of a head reads all its keys: transpose K once
		// to [B, H, D, Tk] so that gemm packs key blocks with row copies
		// instead of a strided transpose per block (a gain of 0-15% on the
		// shared machine, within its noise; never a loss in cpu time).
		kb := k.Shape[0]
		buf := getKT(kb * h * d * tk)
		kt := &Tensor{Data: buf, Shape: []int{kb, h, d, tk}, Strides: contiguousStrides([]int{kb, h, d, tk})}
		CopyTo(kt, k.Permute(0, 1, 3, 2))
		a.kt = kt
		defer putKT(buf)
	}
	ParallelFor(b*h*nqb, 1, func(lo, hi int) {
		s := a.scratch()
		for t := lo; t < hi; t++ {
			a.task(s, t/(h*nqb), t/nqb%h, t%nqb*a.bq)
		}
		attnPool.Put(s)
	})
	return dst
}

// AttentionHeads is attention in the layout of SD's CrossAttention: q is
// [B, Tq, heads·D], k [B, Tk, heads·D] and v [B, Tk, heads·Dv], each head a
// contiguous slice of the last dimension; the result is [B, Tq, heads·Dv],
// scale 1/sqrt(D). It works on views: nothing is permuted or copied.
func AttentionHeads(q, k, v *Tensor, heads int) *Tensor {
	out := New(q.Dim(0), q.Dim(1), v.Dim(2))
	return AttentionHeadsTo(out, q, k, v, heads)
}

// AttentionHeadsTo is AttentionHeads writing into dst [B, Tq, heads·Dv];
// it returns dst.
func AttentionHeadsTo(dst, q, k, v *Tensor, heads int) *Tensor {
	AttentionTo(SplitHeads(dst, heads), SplitHeads(q, heads), SplitHeads(k, heads), SplitHeads(v, heads), 0, false)
	return dst
}

// SplitHeads returns the [B, heads, T, D] view of a [B, T, heads·D] tensor
// (torch's x.view(B, T, heads, D).transpose(1, 2)) without copying; t's
// last dimension must be unit stride, else it is copied first.
func SplitHeads(t *Tensor, heads int) *Tensor {
	if t.Dims() != 3 || heads <= 0 || t.Shape[2]%heads != 0 {
		panic(fmt.Sprintf("tensor: cannot split %v into %d heads", t.Shape, heads))
	}
	t = unitLast(t)
	d := t.Shape[2] / heads
	return &Tensor{
		Data: t.Data, Half: t.Half, DType: t.DType, Offset: t.Offset,
		Shape:   []int{t.Shape[0], heads, t.Shape[1], d},
		Strides: []int{t.Strides[0], d, t.Strides[1], 1},
	}
}

type attnPlan struct {
	q, k, v, dst *Tensor
	b, h, tq, tk int
	d, dv        int
	scale        float32
	causal       bool
	bq, bk       int
	kt           *Tensor // K transposed to [B, H, D, Tk], or nil
}

var ktPool sync.Pool // *[]float32

func getKT(n int) []float32 {
	if p, ok := ktPool.Get().(*[]float32); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]float32, n)
}

func putKT(b []float32) { ktPool.Put(&b) }

// scores sets S (mq×n, row stride n) = scale·Q·Kᵀ for keys [j0, j0+n) of
// batch bi, head hi.
func (a *attnPlan) scores(S, qd []float32, ldq, mq, n, bi, hi, j0 int) {
	if a.kt != nil {
		kt := a.kt
		gemm.F32(false, false, mq, n, a.d, a.scale, qd, ldq, kt.Data[off(kt, bi, hi, 0)+j0:], kt.Strides[2], 0, S, n)
		return
	}
	k := a.k
	gemm.F32(false, true, mq, n, a.d, a.scale, qd, ldq, k.Data[off(k, bi, hi, j0):], k.Strides[2], 0, S, n)
}

// serialTile keeps each tile product below the gemm driver's own threshold
// for going parallel (m·n·k < 2^21), so that the parallelism stays here,
// over tasks, and gemm runs on the calling worker.
const serialTile = 1<<21 - 1

// blocks picks the query block bq and key block bk. 128 query rows (64 when
// that leaves fewer than four tasks per worker) amortise the packing of each
// key and value block better than 64 did (about 1.3× on the SD shapes), and
// bk is as many keys as keep a tile product serial (32 ≤ bk ≤ 512). When all
// keys fit one block (cross-attention's 77), query blocks grow up to 256
// rows, as long as tiles stay serial and there are several tasks per worker.
func (a *attnPlan) blocks() {
	tasks := func(bq int) int { return a.b * a.h * ((a.tq + bq - 1) / bq) }
	a.bq = 128
	if tasks(a.bq) < 4*Workers() {
		a.bq = 64
	}
	dd := max(a.d, a.dv, 1)
	a.bk = min(max(serialTile/(a.bq*dd)/32*32, 32), 512)
	if a.tk > a.bk {
		return
	}
	a.bk = max(a.tk, 1) // one block: the plain softmax path
	for a.bq < 256 && 2*a.bq*a.bk*dd <= serialTile && tasks(2*a.bq) >= 4*Workers() {
		a.bq *= 2
	}
}

type attnScratch struct {
	s, o, m, l []float32
}

var attnPool sync.Pool

func (a *attnPlan) scratch() *attnScratch {
	s, _ := attnPool.Get().(*attnScratch)
	if s == nil {
		s = new(attnScratch)
	}
	grow := func(p *[]float32, n int) {
		if cap(*p) < n {
			*p = make([]float32, n)
		}
		*p = (*p)[:n]
	}
	grow(&s.s, a.bq*a.bk)
	grow(&s.o, a.bq*a.dv)
	grow(&s.m, a.bq)
	grow(&s.l, a.bq)
	return s
}

// off returns the storage offset of t[b, h, i, 0], batch broadcast if 1.
func off(t *Tensor, b, h, i int) int {
	if t.Shape[0] == 1 {
		b = 0
	}
	return t.Offset + b*t.Strides[0] + h*t.Strides[1] + i*t.Strides[2]
}

// task computes output rows [i0, i0+bq) of batch bi, head hi.
func (a *attnPlan) task(s *attnScratch, bi, hi, i0 int) {
	mq := min(a.bq, a.tq-i0)
	q, v, dst := a.q, a.v, a.dst
	ldq, ldv, ldo := q.Strides[2], v.Strides[2], dst.Strides[2]
	qd := q.Data[off(q, bi, hi, i0):]
	od := dst.Data[off(dst, bi, hi, i0):]
	tk := a.tk
	if a.causal {
		tk = min(tk, i0+mq) // later keys are masked for every row here
	}
	if tk == 0 {
		// No keys: torch gives NaN (softmax of an empty row).
		for i := 0; i < mq; i++ {
			row := od[i*ldo : i*ldo+a.dv]
			for j := range row {
				row[j] = float32(math.NaN())
			}
		}
		return
	}
	if tk <= a.bk {
		// One key block: exponentials, P·V straight into dst, then each
		// row divided by its sum (Dv multiplies instead of Tk).
		n := tk
		S, inv := s.s[:mq*n], s.l[:mq]
		a.scores(S, qd, ldq, mq, n, bi, hi, 0)
		for i := 0; i < mq; i++ {
			row := S[i*n : (i+1)*n]
			if a.causal {
				maskRow(row, 0, i0+i)
			}
			mx := vec.Max(row)
			if math.IsInf(float64(mx), -1) {
				mx = 0 // all keys masked: the sum is 0 and the row NaN, as torch
			}
			inv[i] = 1 / vec.ExpSubSum32(row, row, mx)
		}
		gemm.F32(false, false, mq, a.dv, n, 1, S, n, v.Data[off(v, bi, hi, 0):], ldv, 0, od, ldo)
		for i := 0; i < mq; i++ {
			row := od[i*ldo : i*ldo+a.dv]
			vec.ScaleShift(row, row, inv[i], 0)
		}
		return
	}
	m, l, O := s.m[:mq], s.l[:mq], s.o[:mq*a.dv]
	for i := range m {
		m[i] = float32(math.Inf(-1))
		l[i] = 0
	}
	for j0 := 0; j0 < tk; j0 += a.bk {
		n := min(a.bk, tk-j0)
		S := s.s[:mq*n]
		a.scores(S, qd, ldq, mq, n, bi, hi, j0)
		for i := 0; i < mq; i++ {
			row := S[i*n : (i+1)*n]
			if a.causal {
				maskRow(row, j0, i0+i)
			}
			mx := max(m[i], vec.Max(row))
			if mx == float32(math.Inf(-1)) {
				// Every key so far is masked: contribute nothing.
				clear(row)
				continue
			}
			sum := vec.ExpSubSum32(row, row, mx)
			if j0 > 0 && mx != m[i] {
				c := vec.Exp32(m[i] - mx)
				l[i] *= c
				o := O[i*a.dv : (i+1)*a.dv]
				vec.ScaleShift(o, o, c, 0)
			}
			m[i] = mx
			l[i] += sum
		}
		beta := float32(1)
		if j0 == 0 {
			beta = 0
		}
		gemm.F32(false, false, mq, a.dv, n, 1, S, n, v.Data[off(v, bi, hi, j0):], ldv, beta, O, a.dv)
	}
	for i := 0; i < mq; i++ {
		row := od[i*ldo : i*ldo+a.dv]
		vec.ScaleShift(row, O[i*a.dv:(i+1)*a.dv], 1/l[i], 0)
	}
}

// maskRow sets the scores of keys after query position qi to -Inf; row
// holds keys from j0.
func maskRow(row []float32, j0, qi int) {
	for j := max(qi+1-j0, 0); j < len(row); j++ {
		row[j] = float32(math.Inf(-1))
	}
}
