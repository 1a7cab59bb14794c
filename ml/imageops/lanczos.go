package imageops

import (
	"math"

	"github.com/comfyd/comfyd/ml/tensor"
)

// ComfyUI's lanczos converts each image to uint8 (clip(255·v) truncated),
// resizes it with PIL's Image.resize(..., LANCZOS) and divides by 255.
// Pillow's resampling (Resample.c) is reproduced here:
//
//   - per axis, scale = in/out, filterscale = max(scale, 1), support =
//     3·filterscale; output o centred at (o + 0.5)·scale reads inputs
//     xmin = int(center − support + 0.5) (≥ 0) to int(center + support + 0.5)
//     (≤ in), weights lanczos((x − center + 0.5)/filterscale) normalised to
//     sum 1, then converted to fixed point with 22 fraction bits
//     (rounded half away from zero);
//   - the horizontal pass runs first (only over the rows the vertical pass
//     needs), each result rounded to 8 bits: clip8((2^21 + Σ k·p) >> 22);
//   - a pass whose size is unchanged is skipped;
//   - RGBA (and LA) images are premultiplied first (RGBa) and unpremultiplied
//     after, as Image.resize does for those modes.

const precisionBits = 32 - 8 - 2

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x *= math.Pi
	return math.Sin(x) / x
}

func lanczosFilter(x float64) float64 {
	if -3 <= x && x < 3 {
		return sinc(x) * sinc(x/3)
	}
	return 0
}

// pilCoeffs is Pillow's precompute_coeffs + normalize_coeffs_8bpc for the
// box [0, in) → out.
func pilCoeffs(in, out int) (ksize int, bounds []int, kk []int32) {
	scale := float64(in) / float64(out)
	filterscale := scale
	if filterscale < 1 {
		filterscale = 1
	}
	support := 3 * filterscale
	ksize = int(math.Ceil(support))*2 + 1
	bounds = make([]int, 2*out)
	kk = make([]int32, out*ksize)
	pre := make([]float64, ksize)
	for xx := 0; xx < out; xx++ {
		center := (float64(xx) + 0.5) * scale
		ss := 1 / filterscale
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > in {
			xmax = in
		}
		xmax -= xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			w := lanczosFilter((float64(x+xmin) - center + 0.5) * ss)
			pre[x] = w
			ww += w
		}
		k := kk[xx*ksize : (xx+1)*ksize]
		for x := 0; x < xmax; x++ {
			v := pre[x]
			if ww != 0 {
				v /= ww
			}
			if v < 0 {
				k[x] = int32(-0.5 + v*(1<<precisionBits))
			} else {
				k[x] = int32(0.5 + v*(1<<precisionBits))
			}
		}
		bounds[2*xx], bounds[2*xx+1] = xmin, xmax
	}
	return ksize, bounds, kk
}

func clip8(v int32) uint8 {
	v >>= precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// ToUint8 is ComfyUI's np.clip(255·v, 0, 255).astype(uint8): truncation.
func ToUint8(v float32) uint8 {
	f := 255 * v
	if !(f > 0) { // NaN too
		return 0
	}
	if f >= 255 {
		return 255
	}
	return uint8(f)
}

// premultiply is Pillow's rgbA2rgba: c·a/255 with MULDIV255 rounding.
func premultiply(c, a uint8) uint8 {
	t := uint32(c)*uint32(a) + 128
	return uint8(((t >> 8) + t) >> 8)
}

// unpremultiply is Pillow's rgba2rgbA: 255·c/a truncated, clipped; alpha 0
// and 255 leave the colour as it is.
func unpremultiply(c, a uint8) uint8 {
	if a == 0 || a == 255 {
		return c
	}
	v := 255 * uint32(c) / uint32(a)
	if v > 255 {
		v = 255
	}
	return uint8(v)
}

func resizeLanczos(src *tensor.Tensor, w, h int) (*tensor.Tensor, error) {
	B, H, W, C := src.Shape[0], src.Shape[1], src.Shape[2], src.Shape[3]
	out := tensor.New(B, h, w, C)
	kx, bx, kkx := pilCoeffs(W, w)
	ky, by, kky := pilCoeffs(H, h)
	alpha := C == 4 || C == 2 // RGBA, LA: premultiplied resize
	for b := 0; b < B; b++ {
		// 8-bit input, premultiplied where Pillow premultiplies.
		in8 := make([]uint8, H*W*C)
		img := src.Data[b*H*W*C : (b+1)*H*W*C]
		tensor.ParallelFor(H, 16, func(lo, hi int) {
			for i := lo * W * C; i < hi*W*C; i++ {
				in8[i] = ToUint8(img[i])
			}
			if alpha {
				for p := lo * W; p < hi*W; p++ {
					a := in8[p*C+C-1]
					for c := 0; c < C-1; c++ {
						in8[p*C+c] = premultiply(in8[p*C+c], a)
					}
				}
			}
		})
		cur, curW, curH := in8, W, H
		needH := w != W
		needV := h != H
		if needH {
			// Only rows first..last are needed by the vertical pass.
			first, last := 0, H
			if needV {
				first = by[0]
				last = by[2*h-2] + by[2*h-1]
			}
			tmp := make([]uint8, (last-first)*w*C)
			tensor.ParallelFor(last-first, 8, func(lo, hi int) {
				for y := lo; y < hi; y++ {
					row := in8[(y+first)*W*C : (y+first+1)*W*C]
					o := tmp[y*w*C : (y+1)*w*C]
					for x := 0; x < w; x++ {
						xmin, xmax := bx[2*x], bx[2*x+1]
						k := kkx[x*kx : x*kx+xmax]
						for c := 0; c < C; c++ {
							ss := int32(1 << (precisionBits - 1))
							for i, kv := range k {
								ss += int32(row[(xmin+i)*C+c]) * kv
							}
							o[x*C+c] = clip8(ss)
						}
					}
				}
			})
			if needV {
				shifted := make([]int, len(by))
				copy(shifted, by)
				for y := 0; y < h; y++ {
					shifted[2*y] -= first
				}
				by = shifted
			}
			cur, curW, curH = tmp, w, last-first
		}
		if needV {
			tmp := make([]uint8, h*curW*C)
			src8 := cur
			tensor.ParallelFor(h, 8, func(lo, hi int) {
				for y := lo; y < hi; y++ {
					ymin, ymax := by[2*y], by[2*y+1]
					k := kky[y*ky : y*ky+ymax]
					o := tmp[y*curW*C : (y+1)*curW*C]
					for i := range o {
						ss := int32(1 << (precisionBits - 1))
						for j, kv := range k {
							ss += int32(src8[(ymin+j)*curW*C+i]) * kv
						}
						o[i] = clip8(ss)
					}
				}
			})
			cur, curH = tmp, h
		}
		_ = curH
		dst := out.Data[b*h*w*C : (b+1)*h*w*C]
		for p := 0; p < h*w; p++ {
			px := cur[p*C : (p+1)*C]
			if alpha {
				a := px[C-1]
				for c := 0; c < C-1; c++ {
					dst[p*C+c] = float32(unpremultiply(px[c], a)) / 255
				}
				dst[p*C+C-1] = float32(a) / 255
				continue
			}
			for c := 0; c < C; c++ {
				dst[p*C+c] = float32(px[c]) / 255
			}
		}
	}
	return out, nil
}
