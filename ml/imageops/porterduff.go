package imageops

import "fmt"

// PorterDuffModes lists the modes of PorterDuffImageComposite in ComfyUI's
// (enum) order.
var PorterDuffModes = []string{"ADD", "CLEAR", "DARKEN", "DST", "DST_ATOP", "DST_IN", "DST_OUT", "DST_OVER", "LIGHTEN", "MULTIPLY", "OVERLAY", "SCREEN", "SRC", "SRC_ATOP", "SRC_IN", "SRC_OUT", "SRC_OVER", "XOR"}

// PorterDuff is ComfyUI's porter_duff_composite for one pixel: s and d are
// colour channels, sm and dm the masks (alpha = 1 − mask). Colours are
// premultiplied, combined by mode, divided by the result alpha when it
// exceeds 1e-5 (else 0) and clamped to [0,1]; the returned mask is
// 1 − alpha. out must have len(s) elements.
func PorterDuff(mode string, out, s, d []float32, sm, dm float32) (mask float32, err error) {
	sa, da := 1-sm, 1-dm
	var oa float32
	color := func(f func(si, di float32) float32) {
		for i := range s {
			out[i] = f(s[i]*sa, d[i]*da)
		}
	}
	union := sa + da - sa*da
	switch mode {
	case "ADD":
		oa = clamp01(sa + da)
		color(func(si, di float32) float32 { return clamp01(si + di) })
	case "CLEAR":
		oa = 0
		color(func(si, di float32) float32 { return 0 })
	case "DARKEN":
		oa = union
		color(func(si, di float32) float32 { return (1-da)*si + (1-sa)*di + min(si, di) })
	case "DST":
		oa = da
		color(func(si, di float32) float32 { return di })
	case "DST_ATOP":
		oa = sa
		color(func(si, di float32) float32 { return sa*di + (1-da)*si })
	case "DST_IN":
		oa = sa * da
		color(func(si, di float32) float32 { return di * sa })
	case "DST_OUT":
		oa = (1 - sa) * da
		color(func(si, di float32) float32 { return (1 - sa) * di })
	case "DST_OVER":
		oa = da + (1-da)*sa
		color(func(si, di float32) float32 { return di + (1-da)*si })
	case "LIGHTEN":
		oa = union
		color(func(si, di float32) float32 { return (1-da)*si + (1-sa)*di + max(si, di) })
	case "MULTIPLY":
		oa = sa * da
		color(func(si, di float32) float32 { return si * di })
	case "OVERLAY":
		oa = union
		color(func(si, di float32) float32 {
			if 2*di < da {
				return 2 * si * di
			}
			return sa*da - 2*(da-si)*(sa-di)
		})
	case "SCREEN":
		oa = union
		color(func(si, di float32) float32 { return si + di - si*di })
	case "SRC":
		oa = sa
		color(func(si, di float32) float32 { return si })
	case "SRC_ATOP":
		oa = da
		color(func(si, di float32) float32 { return da*si + (1-sa)*di })
	case "SRC_IN":
		oa = sa * da
		color(func(si, di float32) float32 { return si * da })
	case "SRC_OUT":
		oa = (1 - da) * sa
		color(func(si, di float32) float32 { return (1 - da) * si })
	case "SRC_OVER":
		oa = sa + (1-sa)*da
		color(func(si, di float32) float32 { return si + (1-sa)*di })
	case "XOR":
		oa = (1-da)*sa + (1-sa)*da
		color(func(si, di float32) float32 { return (1-da)*si + (1-sa)*di })
	default:
		return 0, fmt.Errorf("imageops: unknown Porter-Duff mode %q", mode)
	}
	for i := range out {
		if oa > 1e-5 {
			out[i] = clamp01(out[i] / oa)
		} else {
			out[i] = 0
		}
	}
	return 1 - oa, nil
}
