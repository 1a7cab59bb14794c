package tensor

import (
	"fmt"
	"math"

	"github.com/comfyd/comfyd/ml/tensor/internal/vec"
)

// sumf returns the sum of s accumulated in float64.
func sumf(s []float32) float64 { return vec.Sum(s) }

// meanRstd returns the mean and 1/sqrt(var+eps) of s, with the biased
// (divide by n) variance that torch's norms use, computed in two passes.
func meanRstd(s []float32, eps float32) (mean, rstd float32) {
	n := float64(len(s))
	mean = float32(sumf(s) / n)
	v := vec.SumSqDev(s, mean) / n
	return mean, float32(1 / math.Sqrt(v+float64(eps)))
}

// scaleShift sets d[i] = s[i]*a + b, then applies SiLU when silu is set.
func scaleShift(d, s []float32, a, b float32, silu bool) {
	vec.ScaleShift(d, s, a, b)
	if silu {
		vec.SiLU(d, d) // while d is still in L1
	}
}

// GroupNorm returns torch.nn.functional.group_norm(x, groups, gamma, beta,
// eps) for x of shape [N, C, *spatial] (NCHW for images): channels are split
// into groups of C/groups consecutive channels, and each (n, group) block
// is normalised by its own mean and biased variance, then scaled per channel.
// gamma and beta have C elements and may be nil (no affine).
//
// Reference loop:
//
//	for n, g: S = x[n, g*C/G:(g+1)*C/G, ...] (all spatial positions)
//	    mean = Σ S / |S|; var = Σ (S-mean)² / |S|; rstd = 1/sqrt(var+eps)
//	    for c in group, p in spatial:
//	        y[n,c,p] = (x[n,c,p]-mean)*rstd*gamma[c] + beta[c]
//
// (computed as x*a+b with a = rstd*gamma[c], b = beta[c]-mean*a, as
// PyTorch's CPU kernel does.) Tolerance vs float64: ~1e-5 relative.
func GroupNorm(x *Tensor, groups int, gamma, beta *Tensor, eps float32) *Tensor {
	return GroupNormTo(New(x.Shape...), x, groups, gamma, beta, eps)
}

// GroupNormTo is GroupNorm writing into dst, which must be contiguous (any
// offset) with x's shape and may be x itself; it returns dst.
func GroupNormTo(dst, x *Tensor, groups int, gamma, beta *Tensor, eps float32) *Tensor {
	groupNorm("GroupNorm", dst, x, groups, gamma, beta, eps, false)
	return dst
}

// GroupNormSiLUTo is GroupNormTo followed by SiLU in the same pass (the
// norm→SiLU pair of every SD ResBlock); it returns dst.
func GroupNormSiLUTo(dst, x *Tensor, groups int, gamma, beta *Tensor, eps float32) *Tensor {
	groupNorm("GroupNormSiLU", dst, x, groups, gamma, beta, eps, true)
	return dst
}

// GroupNormSiLU returns SiLU(GroupNorm(x)).
func GroupNormSiLU(x *Tensor, groups int, gamma, beta *Tensor, eps float32) *Tensor {
	return GroupNormSiLUTo(New(x.Shape...), x, groups, gamma, beta, eps)
}

// affineParams returns the contiguous elements of an optional [C] parameter.
func affineParams(op, what string, p *Tensor, c int) []float32 {
	if p == nil {
		return nil
	}
	mustF32(op, p)
	if p.Len() != c {
		panic(fmt.Sprintf("tensor: %s %s has %d elements, want %d", op, what, p.Len(), c))
	}
	p = p.Contiguous()
	return p.Data[p.Offset : p.Offset+c]
}

func groupNorm(op string, dst, x *Tensor, groups int, gamma, beta *Tensor, eps float32, silu bool) {
	mustF32(op, dst, x)
	if x.Dims() < 2 {
		panic(fmt.Sprintf("tensor: %s needs [N, C, ...], got %v", op, x.Shape))
	}
	n, c := x.Shape[0], x.Shape[1]
	if groups <= 0 || c%groups != 0 {
		panic(fmt.Sprintf("tensor: %s: %d channels do not split into %d groups", op, c, groups))
	}
	checkDst(op, dst, x.Shape)
	if !dst.IsContiguous() {
		panic(fmt.Sprintf("tensor: %s destination must be contiguous", op))
	}
	if !x.IsContiguous() {
		x = x.Clone()
	}
	g := affineParams(op, "weight", gamma, c)
	b := affineParams(op, "bias", beta, c)
	spatial := numel(x.Shape[2:])
	cpg := c / groups
	blk := cpg * spatial
	ParallelFor(n*groups, 1, func(lo, hi int) {
		for ng := lo; ng < hi; ng++ {
			src := x.Data[x.Offset+ng*blk : x.Offset+(ng+1)*blk]
			out := dst.Data[dst.Offset+ng*blk : dst.Offset+(ng+1)*blk]
			mean, rstd := meanRstd(src, eps)
			c0 := (ng % groups) * cpg
			for ci := 0; ci < cpg; ci++ {
				a, sh := rstd, -mean*rstd
				if g != nil {
					a = rstd * g[c0+ci]
					sh = -mean * a
				}
				if b != nil {
					sh += b[c0+ci]
				}
				scaleShift(out[ci*spatial:(ci+1)*spatial], src[ci*spatial:(ci+1)*spatial], a, sh, silu)
			}
		}
	})
}

// LayerNorm returns torch.nn.functional.layer_norm(x, [D], gamma, beta,
// eps): each row along the last dimension (size D) is normalised by its own
// mean and biased variance, then scaled by gamma and shifted by beta (both
// [D], may be nil).
//
// Reference loop, for every row r:
//
//	mean = Σ_j x[r,j] / D; var = Σ_j (x[r,j]-mean)² / D
//	y[r,j] = (x[r,j]-mean) / sqrt(var+eps) * gamma[j] + beta[j]
//
// (computed as (x·rstd - mean·rstd)·gamma + beta). Tolerance vs float64:
// ~1e-5 relative.
func LayerNorm(x, gamma, beta *Tensor, eps float32) *Tensor {
	return LayerNormTo(New(x.Shape...), x, gamma, beta, eps)
}

// LayerNormTo is LayerNorm writing into dst (x's shape, unit-stride last
// dimension, may be x itself); it returns dst.
func LayerNormTo(dst, x, gamma, beta *Tensor, eps float32) *Tensor {
	mustF32("LayerNorm", dst, x)
	if x.Dims() == 0 {
		panic("tensor: LayerNorm of a scalar")
	}
	checkDst("LayerNorm", dst, x.Shape)
	mustUnitLast("LayerNorm", dst)
	x = unitLast(x)
	d := x.Dim(-1)
	g := affineParams("LayerNorm", "weight", gamma, d)
	b := affineParams("LayerNorm", "bias", beta, d)
	rows := numel(x.Shape[:x.Dims()-1])
	ParallelFor(rows, max(1, 4096/max(d, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xo, do := rowOffset(x, r), rowOffset(dst, r)
			src := x.Data[xo : xo+d]
			out := dst.Data[do : do+d]
			mean, rstd := meanRstd(src, eps)
			vec.ScaleShift(out, src, rstd, -mean*rstd)
			switch {
			case g != nil && b != nil:
				vec.MulAdd(out, g, b)
			case g != nil:
				for j, gv := range g[:d] {
					out[j] *= gv
				}
			case b != nil:
				for j, bv := range b[:d] {
					out[j] += bv
				}
			}
		}
	})
	return dst
}
