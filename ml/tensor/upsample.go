package tensor

import (
	"fmt"
	"math"
)

// Interp selects how Resize samples its input.
type Interp uint8

const (
	// Nearest is torch's mode="nearest": src = min(floor(dst·in/out), in-1),
	// with the scale in float32 as PyTorch computes it.
	Nearest Interp = iota
	// NearestExact is mode="nearest-exact": src = min(floor((dst+0.5)·in/out), in-1).
	NearestExact
	// Bilinear is mode="bilinear" with align_corners=False and no
	// antialiasing: src = max((dst+0.5)·in/out - 0.5, 0), blending the two
	// neighbours floor(src) and min(floor(src)+1, in-1) by the fraction.
	Bilinear
	// Bicubic is mode="bicubic" with align_corners=False: src =
	// (dst+0.5)·in/out - 0.5 (not clamped), the four neighbours floor(src)-1
	// … floor(src)+2 clamped to the edge, weighted by Keys' cubic
	// convolution with A = -0.75, rows first, then columns, as PyTorch.
	Bicubic
	// Area is mode="area", adaptive average pooling: output o averages
	// input [floor(o·in/out), ceil((o+1)·in/out)) along each axis.
	Area
)

func (m Interp) String() string {
	switch m {
	case Nearest:
		return "nearest"
	case NearestExact:
		return "nearest-exact"
	case Bilinear:
		return "bilinear"
	case Bicubic:
		return "bicubic"
	case Area:
		return "area"
	}
	return fmt.Sprintf("Interp(%d)", uint8(m))
}

// Resize returns x [N, C, H, W] resampled to [N, C, h, w] as
// torch.nn.functional.interpolate(x, size=(h, w), mode=...).
func Resize(x *Tensor, h, w int, mode Interp) *Tensor {
	if x.Dims() != 4 {
		panic(fmt.Sprintf("tensor: Resize needs [N, C, H, W], got %v", x.Shape))
	}
	return ResizeTo(New(x.Shape[0], x.Shape[1], h, w), x, mode)
}

// UpsampleNearest2x returns x [N, C, H, W] repeated to [N, C, 2H, 2W], SD's
// Upsample (interpolate(scale_factor=2.0, mode="nearest")).
func UpsampleNearest2x(x *Tensor) *Tensor {
	return Resize(x, 2*x.Dim(2), 2*x.Dim(3), Nearest)
}

// axisMap holds, per output position along one axis, the two source indices
// and the weight of the second (bilinear), or one index (nearest).
type axisMap struct {
	i0, i1 []int
	l1     []float32
}

// sourceScale is PyTorch's area_pixel_compute_scale without align_corners
// and without a given scale factor: in/out in float32.
func sourceScale(in, out int) float32 { return float32(in) / float32(out) }

func newAxisMap(in, out int, mode Interp) axisMap {
	m := axisMap{i0: make([]int, out), i1: make([]int, out), l1: make([]float32, out)}
	s := sourceScale(in, out)
	for o := 0; o < out; o++ {
		switch mode {
		case Nearest:
			m.i0[o] = min(int(math.Floor(float64(float32(o)*s))), in-1)
		case NearestExact:
			m.i0[o] = min(int(math.Floor(float64((float32(o)+0.5)*s))), in-1)
		default:
			src := (float32(o)+0.5)*s - 0.5
			if src < 0 {
				src = 0
			}
			i0 := min(int(src), in-1)
			m.i0[o] = i0
			m.i1[o] = min(i0+1, in-1)
			m.l1[o] = src - float32(i0)
		}
	}
	return m
}

// ResizeTo resamples x [N, C, H, W] into dst [N, C, h, w] (any strided
// views, not overlapping) and returns dst.
//
// Reference loop (bilinear; the nearest modes read x[n, c, ys[i], xs[j]]):
//
//	out[n,c,i,j] = (1-ly)·((1-lx)·x[y0,x0] + lx·x[y0,x1]) + ly·((1-lx)·x[y1,x0] + lx·x[y1,x1])
func ResizeTo(dst, x *Tensor, mode Interp) *Tensor {
	mustF32("Resize", dst, x)
	if x.Dims() != 4 || dst.Dims() != 4 || dst.Shape[0] != x.Shape[0] || dst.Shape[1] != x.Shape[1] {
		panic(fmt.Sprintf("tensor: Resize from %v to %v", x.Shape, dst.Shape))
	}
	n, c, ih, iw := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ow := dst.Shape[2], dst.Shape[3]
	if oh == 0 || ow == 0 || n*c == 0 {
		return dst
	}
	if ih == 0 || iw == 0 {
		panic(fmt.Sprintf("tensor: Resize of empty input %v", x.Shape))
	}
	if mode == Nearest && oh == 2*ih && ow == 2*iw && x.IsContiguous() && dst.IsContiguous() {
		upsample2x(dst.Data[dst.Offset:dst.Offset+dst.Len()], x.Data[x.Offset:x.Offset+x.Len()], n*c, ih, iw)
		return dst
	}
	if mode == Bicubic || mode == Area {
		resizeWindowed(dst, x, mode)
		return dst
	}
	ym, xm := newAxisMap(ih, oh, mode), newAxisMap(iw, ow, mode)
	xs, ds := x.Strides, dst.Strides
	ParallelFor(n*c, max(1, elemGrain/(oh*ow)), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			xb := x.Offset + p/c*xs[0] + p%c*xs[1]
			db := dst.Offset + p/c*ds[0] + p%c*ds[1]
			for i := 0; i < oh; i++ {
				dr := db + i*ds[2]
				if mode != Bilinear {
					xr := xb + ym.i0[i]*xs[2]
					for j := 0; j < ow; j++ {
						dst.Data[dr+j*ds[3]] = x.Data[xr+xm.i0[j]*xs[3]]
					}
					continue
				}
				r0, r1 := xb+ym.i0[i]*xs[2], xb+ym.i1[i]*xs[2]
				ly := ym.l1[i]
				hy := 1 - ly
				for j := 0; j < ow; j++ {
					c0, c1 := xm.i0[j]*xs[3], xm.i1[j]*xs[3]
					lx := xm.l1[j]
					hx := 1 - lx
					top := hx*x.Data[r0+c0] + lx*x.Data[r0+c1]
					bot := hx*x.Data[r1+c0] + lx*x.Data[r1+c1]
					dst.Data[dr+j*ds[3]] = hy*top + ly*bot
				}
			}
		}
	})
	return dst
}

// upsample2x is nearest ×2 of contiguous planes (SD's Upsample, the VAE
// decoder's): every source row becomes two identical rows of doubled
// elements. Same result as the general path, which maps o to o>>1 here.
func upsample2x(d, s []float32, planes, h, w int) {
	ParallelFor(planes*h, max(1, elemGrain/(4*w)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			src := s[r*w : (r+1)*w]
			row := d[2*r*2*w : (2*r+1)*2*w]
			for j, v := range src {
				row[2*j] = v
				row[2*j+1] = v
			}
			copy(d[(2*r+1)*2*w:(2*r+2)*2*w], row)
		}
	})
}

// cubicCoeffs returns the four weights of Keys' cubic convolution (A =
// -0.75) for a fraction t, for the neighbours at offsets -1, 0, 1, 2.
func cubicCoeffs(t float32) [4]float32 {
	const a = -0.75
	near := func(x float32) float32 { return ((a+2)*x-(a+3))*x*x + 1 }
	far := func(x float32) float32 { return ((a*x-5*a)*x+8*a)*x - 4*a }
	return [4]float32{far(t + 1), near(t), near(1 - t), far(2 - t)}
}

// window is one output position's input span along an axis: indices and
// weights (bicubic: 4 clamped neighbours; area: a run with equal weights).
type window struct {
	idx []int
	w   []float32
}

func axisWindows(in, out int, mode Interp) []window {
	ws := make([]window, out)
	s := sourceScale(in, out)
	for o := range ws {
		if mode == Area {
			lo, hi := o*in/out, ((o+1)*in+out-1)/out
			w := window{}
			for i := lo; i < hi; i++ {
				w.idx = append(w.idx, i)
				w.w = append(w.w, 1/float32(hi-lo))
			}
			ws[o] = w
			continue
		}
		src := (float32(o)+0.5)*s - 0.5
		f := float32(math.Floor(float64(src)))
		c := cubicCoeffs(src - f)
		w := window{idx: make([]int, 4), w: c[:]}
		for k := range w.idx {
			w.idx[k] = min(max(int(f)-1+k, 0), in-1)
		}
		ws[o] = w
	}
	return ws
}

// resizeWindowed resamples with per-axis weight windows: each output is
// Σ_r wy[r]·(Σ_c wx[c]·x[y_r, x_c]), rows interpolated first.
func resizeWindowed(dst, x *Tensor, mode Interp) {
	c := x.Shape[1]
	oh, ow := dst.Shape[2], dst.Shape[3]
	yw, xw := axisWindows(x.Shape[2], oh, mode), axisWindows(x.Shape[3], ow, mode)
	xs, ds := x.Strides, dst.Strides
	ParallelFor(x.Shape[0]*c*oh, max(1, elemGrain/(4*ow)), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			plane, i := p/oh, p%oh
			xb := x.Offset + plane/c*xs[0] + plane%c*xs[1]
			dr := dst.Offset + plane/c*ds[0] + plane%c*ds[1] + i*ds[2]
			wy := yw[i]
			for j := 0; j < ow; j++ {
				wx := xw[j]
				var acc float32
				for r, yi := range wy.idx {
					row := xb + yi*xs[2]
					var rv float32
					for k, xi := range wx.idx {
						rv += wx.w[k] * x.Data[row+xi*xs[3]]
					}
					acc += wy.w[r] * rv
				}
				dst.Data[dr+j*ds[3]] = acc
			}
		}
	})
}
