package tensor

import (
	"fmt"

	"github.com/comfyd/comfyd/ml/tensor/internal/gemm"
)

// Conv2d returns the 2-D cross-correlation of x [N, Cin, H, W] with weights
// w [Cout, Cin, kh, kw] (F32, F16 or BF16 as stored) plus bias [Cout] (or
// nil), with the same stride and zero padding on both axes, as
// torch.nn.functional.conv2d with groups=1 and dilation=1.
//
// Reference loop:
//
//	out[n,co,oy,ox] = bias[co] + Σ_{ci,ky,kx} w[co,ci,ky,kx] · x[n,ci,oy·s+ky-pad,ox·s+kx-pad]
//
// (x taken as 0 outside the image). Each image is one GEMM, Cout × (Ho·Wo)
// × (Cin·kh·kw), whose B operand is packed from x directly (implicit
// im2col): no patch matrix is ever built.
func Conv2d(x, w, bias *Tensor, stride, padding int) *Tensor {
	if x.Dims() != 4 || w.Dims() != 4 {
		panic(fmt.Sprintf("tensor: Conv2d of %v with weight %v", x.Shape, w.Shape))
	}
	ho, wo := convOut(x.Dim(2), w.Dim(2), stride, padding), convOut(x.Dim(3), w.Dim(3), stride, padding)
	return Conv2dTo(New(x.Dim(0), w.Dim(0), ho, wo), x, w, bias, stride, padding)
}

func convOut(in, k, stride, pad int) int {
	if stride < 1 || pad < 0 {
		panic(fmt.Sprintf("tensor: Conv2d stride %d padding %d", stride, pad))
	}
	o := (in+2*pad-k)/stride + 1
	if in+2*pad < k {
		o = 0
	}
	return o
}

// Conv2dTo is Conv2d into a contiguous dst [N, Cout, Ho, Wo]; it returns dst.
func Conv2dTo(dst, x, w, bias *Tensor, stride, padding int) *Tensor {
	if w.Dims() != 4 {
		panic(fmt.Sprintf("tensor: Conv2d of %v with weight %v", x.Shape, w.Shape))
	}
	k := w.Dim(1) * w.Dim(2) * w.Dim(3)
	a := weightPacker(w, k)
	return conv2d(dst, x, w.Shape, bias, stride, padding, func(n int, b gemm.Packer, beta float32, c []float32, ldc int) {
		gemm.Run(w.Dim(0), n, k, 1, a, b, beta, c, ldc)
	})
}

// PackConv2dWeight packs a Conv2d weight [Cout, Cin, kh, kw] (F32, F16 or
// BF16) for Conv2dPacked.
func PackConv2dWeight(w *Tensor) *PackedWeight {
	if w.Dims() != 4 {
		panic(fmt.Sprintf("tensor: PackConv2dWeight of %v", w.Shape))
	}
	k := w.Dim(1) * w.Dim(2) * w.Dim(3)
	return &PackedWeight{shape: append([]int(nil), w.Shape...), a: gemm.PackA(weightPacker(w, k), w.Dim(0), k)}
}

// Conv2dPacked is Conv2d with a weight from PackConv2dWeight.
func Conv2dPacked(x *Tensor, w *PackedWeight, bias *Tensor, stride, padding int) *Tensor {
	if x.Dims() != 4 || len(w.shape) != 4 {
		panic(fmt.Sprintf("tensor: Conv2d of %v with weight %v", x.Shape, w.shape))
	}
	ho, wo := convOut(x.Dim(2), w.shape[2], stride, padding), convOut(x.Dim(3), w.shape[3], stride, padding)
	return Conv2dPackedTo(New(x.Dim(0), w.shape[0], ho, wo), x, w, bias, stride, padding)
}

// Conv2dPackedTo is Conv2dTo with a weight from PackConv2dWeight.
func Conv2dPackedTo(dst, x *Tensor, w *PackedWeight, bias *Tensor, stride, padding int) *Tensor {
	if w.a == nil {
		panic("tensor: Conv2dPacked with a weight not packed by PackConv2dWeight")
	}
	return conv2d(dst, x, w.shape, bias, stride, padding, func(n int, b gemm.Packer, beta float32, c []float32, ldc int) {
		gemm.RunA(n, 1, w.a, b, beta, c, ldc)
	})
}

// conv2d checks shapes, prepares the bias and each image's patch operand,
// and calls mul for C (Cout × Ho·Wo) = W · P + beta·C per image.
func conv2d(dst, x *Tensor, wshape []int, bias *Tensor, stride, padding int, mul func(n int, b gemm.Packer, beta float32, c []float32, ldc int)) *Tensor {
	if x.Dims() != 4 || len(wshape) != 4 || x.Dim(1) != wshape[1] {
		panic(fmt.Sprintf("tensor: Conv2d of %v with weight %v", x.Shape, wshape))
	}
	nb, cin, h, wd := x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3)
	cout, kh, kw := wshape[0], wshape[2], wshape[3]
	ho, wo := convOut(h, kh, stride, padding), convOut(wd, kw, stride, padding)
	if !sameInts(dst.Shape, []int{nb, cout, ho, wo}) || dst.DType != F32 || !dst.IsContiguous() {
		panic(fmt.Sprintf("tensor: Conv2d destination %v, want contiguous float32 %v", dst.Shape, []int{nb, cout, ho, wo}))
	}
	x = x.Float().Contiguous()
	var bvals []float32
	if bias != nil {
		if bias.Len() != cout {
			panic(fmt.Sprintf("tensor: Conv2d bias %v for %d channels", bias.Shape, cout))
		}
		bvals = bias.Float().Values()
	}
	hw, ohw := h*wd, ho*wo
	var padBuf []float32
	for n := 0; n < nb; n++ {
		img := x.Data[x.Offset+n*cin*hw : x.Offset+(n+1)*cin*hw]
		c := dst.Data[dst.Offset+n*cout*ohw : dst.Offset+(n+1)*cout*ohw]
		var beta float32
		if bvals != nil {
			for co, v := range bvals {
				row := c[co*ohw : (co+1)*ohw]
				for i := range row {
					row[i] = v
				}
			}
			beta = 1
		}
		var b gemm.Packer
		cols := &im2col{x: img, h: h, w: wd, kh: kh, kw: kw, stride: stride, pad: padding, wo: wo}
		switch {
		case kh == 1 && kw == 1 && stride == 1 && padding == 0:
			b = gemm.MatrixF32(img, max(hw, 1), true) // the image is already the k×n matrix
		case stride == 1 && wo >= 16:
			// Rows of output wide enough for whole panels: the kernels read
			// patches straight from a zero-padded copy of the image.
			b = newIm2colInPlace(cols, &padBuf)
		default:
			b = cols
		}
		mul(ohw, b, beta, c, ohw)
	}
	return dst
}

// im2col packs the patch matrix of one image, P[(ci,ky,kx), (oy,ox)] =
// x[ci, oy·s+ky-pad, ox·s+kx-pad] (0 outside), straight into GEMM panels.
type im2col struct {
	x                         []float32 // [Cin, h, w] contiguous
	h, w, kh, kw, stride, pad int
	wo                        int
}

// seg is a run of a panel's pixels that lie in one output row.
type seg struct{ oy, ox0, r0, n int }

// Pack implements gemm.Packer: lines are output pixels, depth is (ci,ky,kx).
func (p *im2col) Pack(dst []float32, l0, nl, p0, kc, w int) {
	var segs [8]seg
	khw := p.kh * p.kw
	for q := 0; q*w < nl; q++ {
		cnt := min(w, nl-q*w)
		pan := dst[q*w*kc : (q+1)*w*kc]
		// Split the panel's pixels into runs within one output row.
		ss := segs[:0]
		for r := 0; r < cnt; {
			j := l0 + q*w + r
			oy, ox := j/p.wo, j%p.wo
			n := min(p.wo-ox, cnt-r)
			ss = append(ss, seg{oy, ox, r, n})
			r += n
		}
		ci, ky, kx := p0/khw, p0%khw/p.kw, p0%p.kw
		for d := 0; d < kc; d++ {
			row := pan[d*w : d*w+w]
			plane := p.x[ci*p.h*p.w : (ci+1)*p.h*p.w]
			for _, s := range ss {
				out := row[s.r0 : s.r0+s.n]
				iy := s.oy*p.stride + ky - p.pad
				if iy < 0 || iy >= p.h {
					clear(out)
					continue
				}
				src := plane[iy*p.w : (iy+1)*p.w]
				ix0 := s.ox0*p.stride + kx - p.pad
				// t in [lo, hi) maps inside the row: 0 ≤ ix0+t·s < w.
				lo := 0
				if ix0 < 0 {
					lo = min((-ix0+p.stride-1)/p.stride, s.n)
				}
				hi := s.n
				if last := ix0 + (s.n-1)*p.stride; last >= p.w {
					hi = max((p.w-ix0+p.stride-1)/p.stride, lo)
				}
				if hi <= lo { // the run lies wholly in the padding
					clear(out)
					continue
				}
				clear(out[:lo])
				if p.stride == 1 {
					copy(out[lo:hi], src[ix0+lo:ix0+hi])
				} else {
					for t := lo; t < hi; t++ {
						out[t] = src[ix0+t*p.stride]
					}
				}
				clear(out[hi:])
			}
			clear(row[cnt:])
			if kx++; kx == p.kw {
				kx = 0
				if ky++; ky == p.kh {
					ky = 0
					ci++
				}
			}
		}
	}
}

// im2colInPlace adds gemm.InPlace to a stride-1 im2col: with the image
// zero-padded to hp×wp, the patch entry for output pixel (oy, ox) at depth
// (ci, ky, kx) is xp[(oy·wp + ox) + (ci·hp·wp + ky·wp + kx)], a pixel part
// plus a depth part, so a panel of pixels within one output row is a run of
// consecutive floats at every depth.
type im2colInPlace struct {
	*im2col
	xp     []float32
	hp, wp int
}

func newIm2colInPlace(p *im2col, buf *[]float32) *im2colInPlace {
	cin := len(p.x) / (p.h * p.w)
	hp, wp := p.h+2*p.pad, p.w+2*p.pad
	xp := p.x
	if p.pad > 0 {
		if cap(*buf) < cin*hp*wp {
			*buf = make([]float32, cin*hp*wp)
		}
		xp = (*buf)[:cin*hp*wp]
		clear(xp)
		for ci := 0; ci < cin; ci++ {
			for y := 0; y < p.h; y++ {
				copy(xp[ci*hp*wp+(y+p.pad)*wp+p.pad:][:p.w], p.x[ci*p.h*p.w+y*p.w:][:p.w])
			}
		}
	}
	return &im2colInPlace{im2col: p, xp: xp, hp: hp, wp: wp}
}

func (p *im2colInPlace) ReadsInPlace() bool { return true }

func (p *im2colInPlace) Storage() []float32 { return p.xp }

func (p *im2colInPlace) PanelOffset(j0, w int) (int, bool) {
	oy, ox := j0/p.wo, j0%p.wo
	return oy*p.wp + ox, ox+w <= p.wo
}

func (p *im2colInPlace) DepthOffsets(offs []int64, p0 int) {
	khw := p.kh * p.kw
	ci, ky, kx := p0/khw, p0%khw/p.kw, p0%p.kw
	for i := range offs {
		offs[i] = int64(ci*p.hp*p.wp + ky*p.wp + kx)
		if kx++; kx == p.kw {
			kx = 0
			if ky++; ky == p.kh {
				ky = 0
				ci++
			}
		}
	}
}
