package imageops

import (
	"fmt"
	"math"

	"github.com/comfyd/comfyd/ml/tensor"
)

// Resampling methods, named as ComfyUI names them.
const (
	NearestExact = "nearest-exact"
	Bilinear     = "bilinear"
	Area         = "area"
	Bicubic      = "bicubic"
	Lanczos      = "lanczos"
)

// Methods lists the methods of ImageScale's upscale_method combo.
var Methods = []string{NearestExact, Bilinear, Area, Bicubic, Lanczos}

// taps describes one axis of a separable resampling: output o reads the n
// input positions idx[o*n:o*n+n] with weights w[o*n:o*n+n], summed in that
// order in float32.
type taps struct {
	n   int
	idx []int32
	w   []float32
}

// torchScale is torch's area_pixel_compute_scale for a given output size
// and align_corners=False: in/out in float32 (opmath of float).
func torchScale(in, out int) float32 { return float32(in) / float32(out) }

// nearestExactTaps: src = min(floor((o + 0.5)·scale), in-1), in float32.
func nearestExactTaps(in, out int) taps {
	t := taps{n: 1, idx: make([]int32, out), w: make([]float32, out)}
	s := torchScale(in, out)
	for o := 0; o < out; o++ {
		// (o + 0.5) is a double in torch, the product rounds to float for floorf.
		i := int(math.Floor(float64(float32((float64(o) + 0.5) * float64(s)))))
		if i > in-1 {
			i = in - 1
		}
		t.idx[o], t.w[o] = int32(i), 1
	}
	return t
}

// bilinearTaps: src = max(scale·(o + 0.5) − 0.5, 0); i0 = floor(src),
// λ1 = src − i0, λ0 = 1 − λ1; the second tap is i0+1, or i0 at the last
// input.
func bilinearTaps(in, out int) taps {
	t := taps{n: 2, idx: make([]int32, 2*out), w: make([]float32, 2*out)}
	s := torchScale(in, out)
	for o := 0; o < out; o++ {
		src := s*(float32(o)+0.5) - 0.5
		if src < 0 {
			src = 0
		}
		i0 := int(src)
		l1 := src - float32(i0)
		if l1 > 1 {
			l1 = 1
		}
		i1 := i0
		if i0 < in-1 {
			i1 = i0 + 1
		}
		t.idx[2*o], t.idx[2*o+1] = int32(i0), int32(i1)
		t.w[2*o], t.w[2*o+1] = 1-l1, l1
	}
	return t
}

// bicubicTaps: torch's cubic convolution with A = −0.75: src = scale·(o +
// 0.5) − 0.5 (not clamped), i = floor(src), t = src − i, taps i−1..i+2 with
// indices clamped to the image.
func bicubicTaps(in, out int) taps {
	const A = float32(-0.75)
	cc1 := func(x float32) float32 { return ((A+2)*x-(A+3))*x*x + 1 }
	cc2 := func(x float32) float32 { return ((A*x-5*A)*x+8*A)*x - 4*A }
	t := taps{n: 4, idx: make([]int32, 4*out), w: make([]float32, 4*out)}
	s := torchScale(in, out)
	clamp := func(i int) int32 {
		if i < 0 {
			return 0
		}
		if i > in-1 {
			return int32(in - 1)
		}
		return int32(i)
	}
	for o := 0; o < out; o++ {
		src := s*(float32(o)+0.5) - 0.5
		fi := float32(math.Floor(float64(src)))
		i := int(fi)
		x := src - fi
		if x < 0 {
			x = 0
		} else if x > 1 {
			x = 1
		}
		w := t.w[4*o : 4*o+4]
		w[0] = cc2(x + 1)
		w[1] = cc1(x)
		w[2] = cc1(1 - x)
		w[3] = cc2(2 - x)
		for k := 0; k < 4; k++ {
			t.idx[4*o+k] = clamp(i - 1 + k)
		}
	}
	return t
}

// areaTaps is adaptive average pooling along one axis: output o averages
// inputs floor(o·in/out) .. ceil((o+1)·in/out)−1. Windows shorter than the
// longest repeat their first index with weight 0.
func areaTaps(in, out int) taps {
	n := 0
	start := make([]int, out)
	end := make([]int, out)
	for o := 0; o < out; o++ {
		start[o] = (o * in) / out
		end[o] = ((o+1)*in + out - 1) / out
		if end[o]-start[o] > n {
			n = end[o] - start[o]
		}
	}
	t := taps{n: n, idx: make([]int32, n*out), w: make([]float32, n*out)}
	for o := 0; o < out; o++ {
		k := end[o] - start[o]
		for j := 0; j < n; j++ {
			if j < k {
				t.idx[o*n+j] = int32(start[o] + j)
				t.w[o*n+j] = 1 / float32(k)
			} else {
				t.idx[o*n+j] = int32(start[o])
			}
		}
	}
	return t
}

func methodTaps(method string, in, out int) (taps, error) {
	switch method {
	case NearestExact:
		return nearestExactTaps(in, out), nil
	case Bilinear:
		return bilinearTaps(in, out), nil
	case Bicubic:
		return bicubicTaps(in, out), nil
	case Area:
		return areaTaps(in, out), nil
	}
	return taps{}, fmt.Errorf("imageops: unknown resampling method %q", method)
}

// asImage views a [B,H,W] mask as [B,H,W,1]; images pass through. The
// result is contiguous.
func asImage(t *tensor.Tensor) (*tensor.Tensor, bool) {
	t = t.Contiguous()
	if t.Dims() == 3 {
		return t.Reshape(t.Shape[0], t.Shape[1], t.Shape[2], 1), true
	}
	if t.Dims() != 4 {
		panic(fmt.Sprintf("imageops: want [B,H,W,C] or [B,H,W], got %v", t.Shape))
	}
	return t, false
}

func restore(t *tensor.Tensor, wasMask bool) *tensor.Tensor {
	if wasMask {
		return t.Reshape(t.Shape[0], t.Shape[1], t.Shape[2])
	}
	return t
}

// Resize resamples an image [B,H,W,C] (or a mask [B,H,W]) to w×h with one
// of the methods of ComfyUI's common_upscale: torch.nn.functional.interpolate
// for nearest-exact, bilinear, bicubic (align_corners=False, no antialias,
// values not clamped) and area (adaptive_avg_pool2d), Pillow's LANCZOS on
// 8-bit pixels for lanczos. Per output pixel the reference is
//
//	out[b,y,x,c] = Σ_i wy_i · (Σ_j wx_j · in[b, iy_i, ix_j, c])
//
// with the per-axis taps above: the horizontal sums are formed first (the
// order torch's CPU kernels use), then combined vertically.
func Resize(img *tensor.Tensor, w, h int, method string) (*tensor.Tensor, error) {
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("imageops: cannot resize to %dx%d", w, h)
	}
	src, wasMask := asImage(img)
	B, H, W, C := src.Shape[0], src.Shape[1], src.Shape[2], src.Shape[3]
	if H == 0 || W == 0 {
		return nil, fmt.Errorf("imageops: cannot resize an empty %dx%d image", W, H)
	}
	if method == Lanczos {
		out, err := resizeLanczos(src, w, h)
		if err != nil {
			return nil, err
		}
		return restore(out, wasMask), nil
	}
	tx, err := methodTaps(method, W, w)
	if err != nil {
		return nil, err
	}
	ty, _ := methodTaps(method, H, h)
	out := tensor.New(B, h, w, C)
	resample(out.Data, src.Data, B, H, W, C, w, h, tx, ty)
	return restore(out, wasMask), nil
}

// resample applies taps tx along x and ty along y. Each worker takes bands
// of output rows of one image: it resamples horizontally the input rows the
// band reads into a scratch buffer, then sums them vertically, tap by tap.
func resample(dst, src []float32, B, H, W, C, w, h int, tx, ty taps) {
	rowIn := W * C
	rowOut := w * C
	band := 16
	bandsPer := (h + band - 1) / band
	xoff := make([]int, len(tx.idx)) // input offsets of the horizontal taps
	for i, v := range tx.idx {
		xoff[i] = int(v) * C
	}
	tensor.ParallelFor(B*bandsPer, 1, func(lo, hi int) {
		var scratch []float32
		for job := lo; job < hi; job++ {
			b, bi := job/bandsPer, job%bandsPer
			y0, y1 := bi*band, min((bi+1)*band, h)
			first, last := int(ty.idx[y0*ty.n]), int(ty.idx[y0*ty.n])
			for _, v := range ty.idx[y0*ty.n : y1*ty.n] {
				first, last = min(first, int(v)), max(last, int(v))
			}
			need := (last - first + 1) * rowOut
			if cap(scratch) < need {
				scratch = make([]float32, need)
			}
			scratch = scratch[:need]
			img := src[b*H*rowIn : (b+1)*H*rowIn]
			for iy := first; iy <= last; iy++ {
				in := img[iy*rowIn : (iy+1)*rowIn]
				r := scratch[(iy-first)*rowOut : (iy-first+1)*rowOut]
				for x := 0; x < w; x++ {
					wx := tx.w[x*tx.n : (x+1)*tx.n]
					ox := xoff[x*tx.n : (x+1)*tx.n]
					for c := 0; c < C; c++ {
						var s float32
						for j, wj := range wx {
							s += wj * in[ox[j]+c]
						}
						r[x*C+c] = s
					}
				}
			}
			for y := y0; y < y1; y++ {
				o := dst[(b*h+y)*rowOut : (b*h+y+1)*rowOut]
				wy := ty.w[y*ty.n : (y+1)*ty.n]
				iy := ty.idx[y*ty.n : (y+1)*ty.n]
				r0 := scratch[(int(iy[0])-first)*rowOut:][:len(o)]
				w0 := wy[0]
				for k := range o {
					o[k] = w0 * r0[k]
				}
				for i := 1; i < len(wy); i++ {
					wi := wy[i]
					ri := scratch[(int(iy[i])-first)*rowOut:][:len(o)]
					for k := range o {
						o[k] += wi * ri[k]
					}
				}
			}
		}
	})
}

// CenterCrop returns the region common_upscale keeps with crop="center"
// before resizing to w×h: when the aspect ratios differ it trims
// x = round((W − W·(w/h)/(W/H))/2) columns (or y rows likewise) from each
// side, with Python's round (half to even). The result is a view.
func CenterCrop(img *tensor.Tensor, w, h int) *tensor.Tensor {
	H, W := img.Shape[1], img.Shape[2]
	oldAspect := float64(W) / float64(H)
	newAspect := float64(w) / float64(h)
	x, y := 0, 0
	if oldAspect > newAspect {
		x = int(math.RoundToEven((float64(W) - float64(W)*(newAspect/oldAspect)) / 2))
	} else if oldAspect < newAspect {
		y = int(math.RoundToEven((float64(H) - float64(H)*(oldAspect/newAspect)) / 2))
	}
	return img.Slice(1, y, H-y).Slice(2, x, W-x)
}

// CommonUpscale is comfy.utils.common_upscale on an image [B,H,W,C] or a
// mask [B,H,W]: an optional centre crop ("center"; anything else is
// "disabled"), then Resize.
func CommonUpscale(img *tensor.Tensor, w, h int, method, crop string) (*tensor.Tensor, error) {
	if crop == "center" && w > 0 && h > 0 && img.Dim(1) > 0 && img.Dim(2) > 0 {
		img = CenterCrop(img, w, h)
	}
	return Resize(img, w, h, method)
}
