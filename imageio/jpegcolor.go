package imageio

import "image"

// libjpeg's YCbCr → RGB tables (jdcolor.c, 16-bit fixed point), which
// Pillow uses through libjpeg(-turbo); Go's color.YCbCrToRGB rounds
// slightly differently.
var crR, cbB, crG, cbG [256]int32

func init() {
	const half = 1 << 15
	fix := func(x float64) int32 { return int32(x*65536 + 0.5) }
	for i := 0; i < 256; i++ {
		x := int32(i - 128)
		crR[i] = (fix(1.40200)*x + half) >> 16
		cbB[i] = (fix(1.77200)*x + half) >> 16
		crG[i] = -fix(0.71414) * x
		cbG[i] = -fix(0.34414)*x + half
	}
}

func clamp8(v int32) byte {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return byte(v)
}

// ycbcrToNRGBA converts a decoded JPEG the way libjpeg does by default:
// chroma planes are "fancy" upsampled (triangle filter, jdsample.c's
// h2v1/h1v2/h2v2 routines with their rounding biases and replicated edges)
// before the table-driven colour conversion. Ratios other than 4:4:4,
// 4:2:2, 4:4:0 and 4:2:0 fall back to Go's conversion.
func ycbcrToNRGBA(m *image.YCbCr) *image.NRGBA {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	var cb, cr []byte
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
		cb, cr = plane(m.Cb, m.CStride, b, w, h), plane(m.Cr, m.CStride, b, w, h)
	case image.YCbCrSubsampleRatio422:
		cw := (w + 1) / 2
		cb, cr = upH2V1(plane(m.Cb, m.CStride, b, cw, h), cw, h, w), upH2V1(plane(m.Cr, m.CStride, b, cw, h), cw, h, w)
	case image.YCbCrSubsampleRatio440:
		ch := (h + 1) / 2
		cb, cr = upH1V2(plane(m.Cb, m.CStride, b, w, ch), w, ch, h), upH1V2(plane(m.Cr, m.CStride, b, w, ch), w, ch, h)
	case image.YCbCrSubsampleRatio420:
		cw, ch := (w+1)/2, (h+1)/2
		cb, cr = upH2V2(plane(m.Cb, m.CStride, b, cw, ch), cw, ch, w, h), upH2V2(plane(m.Cr, m.CStride, b, cw, ch), cw, ch, w, h)
	default:
		return toNRGBA(image.Image(&ycbcrOnly{m}))
	}
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		yrow := m.Y[(b.Min.Y+y-m.Rect.Min.Y)*m.YStride+(b.Min.X-m.Rect.Min.X):]
		for x := 0; x < w; x++ {
			Y := int32(yrow[x])
			u, v := cb[y*w+x], cr[y*w+x]
			o := out.Pix[(y*w+x)*4:]
			o[0] = clamp8(Y + crR[v])
			o[1] = clamp8(Y + (cbG[u]+crG[v])>>16)
			o[2] = clamp8(Y + cbB[u])
			o[3] = 255
		}
	}
	return out
}

// ycbcrOnly hides the concrete type so toNRGBA takes its generic path.
type ycbcrOnly struct{ *image.YCbCr }

// plane copies a w×h chroma plane out of its strided storage (the plane
// starts at the image origin: JPEG images decode at (0,0)).
func plane(p []byte, stride int, _ image.Rectangle, w, h int) []byte {
	out := make([]byte, w*h)
	for y := 0; y < h; y++ {
		copy(out[y*w:(y+1)*w], p[y*stride:y*stride+w])
	}
	return out
}

// upH2V1 is h2v1_fancy_upsample: out[2i] = (3·in[i] + in[i−1] + 1) >> 2,
// out[2i+1] = (3·in[i] + in[i+1] + 2) >> 2, edge samples copied.
func upH2V1(in []byte, cw, h, w int) []byte {
	out := make([]byte, w*h)
	row := make([]byte, 2*cw)
	for y := 0; y < h; y++ {
		r := in[y*cw : (y+1)*cw]
		for i := 0; i < cw; i++ {
			c := 3 * int(r[i])
			if i == 0 {
				row[0] = r[0]
			} else {
				row[2*i] = byte((c + int(r[i-1]) + 1) >> 2)
			}
			if i == cw-1 {
				row[2*i+1] = r[i]
			} else {
				row[2*i+1] = byte((c + int(r[i+1]) + 2) >> 2)
			}
		}
		copy(out[y*w:(y+1)*w], row[:w])
	}
	return out
}

// upH1V2 is h1v2_fancy_upsample: each output row is (3·nearer + farther
// + bias) >> 2 with bias 1 above, 2 below; edge rows replicated.
func upH1V2(in []byte, w, ch, h int) []byte {
	out := make([]byte, w*h)
	for y := 0; y < h; y++ {
		i := y / 2
		n, bias := i-1, 1
		if y%2 == 1 {
			n, bias = i+1, 2
		}
		n = max(0, min(n, ch-1))
		for x := 0; x < w; x++ {
			out[y*w+x] = byte((3*int(in[i*w+x]) + int(in[n*w+x]) + bias) >> 2)
		}
	}
	return out
}

// upH2V2 is h2v2_fancy_upsample: a vertical 3:1 column sum with the
// nearer neighbouring row, then a horizontal 3:1 blend with biases 8 and
// 7 (>> 4); first and last columns use 4·colsum; edge rows replicated.
func upH2V2(in []byte, cw, ch, w, h int) []byte {
	out := make([]byte, w*h)
	sums := make([]int, cw)
	row := make([]byte, 2*cw)
	for y := 0; y < h; y++ {
		i := y / 2
		n := i - 1
		if y%2 == 1 {
			n = i + 1
		}
		n = max(0, min(n, ch-1))
		for x := 0; x < cw; x++ {
			sums[x] = 3*int(in[i*cw+x]) + int(in[n*cw+x])
		}
		if cw == 1 {
			row[0] = byte((sums[0]*4 + 8) >> 4)
			row[1] = byte((sums[0]*4 + 7) >> 4)
		} else {
			for x := 0; x < cw; x++ {
				this := sums[x]
				if x == 0 {
					row[0] = byte((this*4 + 8) >> 4)
				} else {
					row[2*x] = byte((this*3 + sums[x-1] + 8) >> 4)
				}
				if x == cw-1 {
					row[2*x+1] = byte((this*4 + 7) >> 4)
				} else {
					row[2*x+1] = byte((this*3 + sums[x+1] + 7) >> 4)
				}
			}
		}
		copy(out[y*w:(y+1)*w], row[:w])
	}
	return out
}
