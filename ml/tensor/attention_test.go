package tensor

import (
	"fmt"
	"math"
	"testing"
)

// refAttentionRow is the materialised reference for one query row, in
// float64: softmax(q·kᵀ·scale)·v. q, k, v are contiguous copies.
func refAttentionRow(q, k, v *Tensor, b, h, i int, scale float64, causal bool) []float64 {
	tk, d, dv := k.Dim(2), q.Dim(3), v.Dim(3)
	kb, vb := b, b
	if k.Dim(0) == 1 {
		kb = 0
	}
	if v.Dim(0) == 1 {
		vb = 0
	}
	qr := q.Data[((b*q.Dim(1)+h)*q.Dim(2)+i)*d:][:d]
	kh := k.Data[(kb*k.Dim(1)+h)*tk*d:][:tk*d]
	vh := v.Data[(vb*v.Dim(1)+h)*tk*dv:][:tk*dv]
	s := make([]float64, tk)
	mx := math.Inf(-1)
	for j := 0; j < tk; j++ {
		if causal && j > i {
			s[j] = math.Inf(-1)
			continue
		}
		var acc float64
		for e, qv := range qr {
			acc += float64(qv) * float64(kh[j*d+e])
		}
		s[j] = acc * scale
		mx = math.Max(mx, s[j])
	}
	var sum float64
	for j := range s {
		s[j] = math.Exp(s[j] - mx)
		sum += s[j]
	}
	out := make([]float64, dv)
	for j := range s {
		p := s[j] / sum
		for e := 0; e < dv; e++ {
			out[e] += p * float64(vh[j*dv+e])
		}
	}
	return out
}

// checkAttention compares rows of out [B,H,Tq,Dv] (every row when small, a
// spread sample when large) with the reference, within 1e-5 relative plus
// 5e-6·max|v|: float32 scores carry ~D·2^-24·|s| absolute error, which the
// exponential turns into relative error of the weights.
func checkAttention(t *testing.T, what string, out, q, k, v *Tensor, scale float64, causal bool) {
	t.Helper()
	q, k, v = q.Clone(), k.Clone(), v.Clone()
	b, h, tq := q.Dim(0), q.Dim(1), q.Dim(2)
	step := 1
	if tq*k.Dim(2) > 200_000 {
		step = 37
	}
	var vmax float64
	for _, x := range v.Values() {
		vmax = math.Max(vmax, math.Abs(float64(x)))
	}
	for bi := 0; bi < b; bi++ {
		for hi := 0; hi < h; hi++ {
			for i := 0; i < tq; i += step {
				want := refAttentionRow(q, k, v, bi, hi, i, scale, causal)
				for e, w := range want {
					g := float64(out.At(bi, hi, i, e))
					if !(math.Abs(g-w) <= 1e-5*math.Abs(w)+5e-6*vmax) {
						t.Fatalf("%s: out[%d,%d,%d,%d] = %v, want %v", what, bi, hi, i, e, g, w)
					}
				}
			}
			if step > 1 { // always check the last row (a partial block)
				want := refAttentionRow(q, k, v, bi, hi, tq-1, scale, causal)
				for e, w := range want {
					if g := float64(out.At(bi, hi, tq-1, e)); !(math.Abs(g-w) <= 1e-5*math.Abs(w)+5e-6*vmax) {
						t.Fatalf("%s: last row out[..,%d] = %v, want %v", what, e, g, w)
					}
				}
			}
		}
	}
}

func TestAttention(t *testing.T) {
	rng := newRNG(9)
	type c struct{ b, h, tq, tk, d, dv int }
	var cases []c
	for _, d := range []int{40, 64, 160} {
		for _, tq := range []int{1, 5, 77, 130, 4096} {
			cases = append(cases, c{1, 2, tq, 77, d, d}) // cross-attention: 77 keys
			if tq < 4096 || d == 40 || !testing.Short() {
				cases = append(cases, c{1, 1, tq, tq, d, d}) // self-attention
			}
		}
	}
	cases = append(cases,
		c{2, 3, 5, 77, 64, 64},
		c{1, 1, 130, 400, 160, 160}, // several key blocks (bk = 192)
		c{1, 1, 67, 1100, 40, 24},   // several key blocks (bk = 512), Dv ≠ D
		c{1, 1, 3, 1, 8, 8},
		c{1, 1, 300, 300, 512, 512}, // the VAE's single-head mid-block attention (bk = 64)
	)
	for _, tc := range cases {
		name := fmt.Sprintf("%+v", tc)
		// Large-magnitude queries make the score range wide, so the running
		// maximum changes between key blocks.
		q := stridedT(rng, 3, tc.b, tc.h, tc.tq, tc.d)
		k := randT(rng, 3, tc.b, tc.h, tc.tk, tc.d)
		v := randT(rng, 1, tc.b, tc.h, tc.tk, tc.dv)
		dst := paddedT(tc.b, tc.h, tc.tq, tc.dv)
		AttentionTo(dst, q, k, v, 0, false)
		checkPad(t, dst)
		checkAttention(t, name, dst, q, k, v, 1/math.Sqrt(float64(tc.d)), false)
	}
}

func TestAttentionCausalAndBroadcast(t *testing.T) {
	rng := newRNG(10)
	for _, sh := range [][4]int{{1, 2, 70, 64}, {1, 1, 600, 40}, {2, 1, 200, 160}} {
		q := randT(rng, 2, sh[0], sh[1], sh[2], sh[3])
		k := randT(rng, 2, sh[0], sh[1], sh[2], sh[3])
		v := randT(rng, 1, sh[0], sh[1], sh[2], sh[3])
		out := Attention(q, k, v, 0.3, true)
		checkAttention(t, fmt.Sprint("causal ", sh), out, q, k, v, 0.3, true)
	}
	// k and v with batch 1 serve every query batch (e.g. one context for
	// both halves of a CFG batch).
	q := randT(rng, 1, 3, 2, 9, 16)
	k := randT(rng, 1, 1, 2, 11, 16)
	v := randT(rng, 1, 1, 2, 11, 8)
	checkAttention(t, "broadcast", Attention(q, k, v, 0, false), q, k, v, 0.25, false)
}

// SD's layout: q, k, v as [B, T, heads·D] slices of one fused projection
// (row stride 3·heads·D), output [B, Tq, heads·Dv] into a padded buffer.
func TestAttentionHeads(t *testing.T) {
	rng := newRNG(11)
	const b, tq, heads, d = 2, 33, 8, 40
	qkv := randT(rng, 2, b, tq, 3*heads*d)
	q := qkv.Slice(2, 0, heads*d)
	k := qkv.Slice(2, heads*d, 2*heads*d)
	v := qkv.Slice(2, 2*heads*d, 3*heads*d)
	dst := paddedT(b, tq, heads*d)
	AttentionHeadsTo(dst, q, k, v, heads)
	checkPad(t, dst)
	checkAttention(t, "heads", SplitHeads(dst, heads), SplitHeads(q, heads), SplitHeads(k, heads), SplitHeads(v, heads), 1/math.Sqrt(d), false)

	// cross-attention: 77 context tokens of width heads·D
	ctx := randT(rng, 1, b, 77, heads*d)
	out := AttentionHeads(q, ctx, ctx, heads)
	checkAttention(t, "cross", SplitHeads(out, heads), SplitHeads(q, heads), SplitHeads(ctx, heads), SplitHeads(ctx, heads), 1/math.Sqrt(d), false)
}
