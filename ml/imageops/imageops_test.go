package imageops

import (
	"math"
	"testing"

	"github.com/comfyd/comfyd/ml/tensor"
)

func near(a, b, tol float32) bool { return float32(math.Abs(float64(a-b))) <= tol }

// ramp returns a [1,H,W,C] image with value (y*W+x)*C+c scaled by s.
func ramp(H, W, C int, s float32) *tensor.Tensor {
	t := tensor.New(1, H, W, C)
	for i := range t.Data {
		t.Data[i] = float32(i) * s
	}
	return t
}

func TestNearestExactTaps(t *testing.T) {
	// in 4 → out 6: scale 2/3, src = floor((o+.5)·2/3) = 0,1,1,2,3,3.
	tp := nearestExactTaps(4, 6)
	want := []int32{0, 1, 1, 2, 3, 3}
	for o, w := range want {
		if tp.idx[o] != w {
			t.Fatalf("nearest-exact 4→6: %v, want %v", tp.idx, want)
		}
	}
}

func TestBilinearAndBicubicByFormula(t *testing.T) {
	// A 1×3 row [0, 1, 2] (C=1) widened to 5: scale 0.6.
	img := tensor.FromData([]float32{0, 1, 2}, 1, 1, 3, 1)
	out, err := Resize(img, 5, 1, Bilinear)
	if err != nil {
		t.Fatal(err)
	}
	for o := 0; o < 5; o++ {
		src := math.Max(0.6*(float64(o)+0.5)-0.5, 0)
		want := math.Min(src, 2) // a linear ramp stays linear, clamped at the last pixel
		if !near(out.Data[o], float32(want), 1e-6) {
			t.Errorf("bilinear[%d] = %v, want %v", o, out.Data[o], want)
		}
	}
	// Same size: bicubic and bilinear are the identity.
	im := ramp(5, 7, 3, 0.01)
	for _, m := range []string{Bilinear, Bicubic, NearestExact, Area} {
		o, _ := Resize(im, 7, 5, m)
		for i := range o.Data {
			if !near(o.Data[i], im.Data[i], 1e-6) {
				t.Fatalf("%s identity differs at %d: %v vs %v", m, i, o.Data[i], im.Data[i])
			}
		}
	}
	// Bicubic overshoots (values are not clamped) on a step.
	step := tensor.FromData([]float32{0, 0, 1, 1}, 1, 1, 4, 1)
	o, _ := Resize(step, 8, 1, Bicubic)
	minV := float32(1)
	for _, v := range o.Data {
		minV = min(minV, v)
	}
	if minV >= 0 {
		t.Errorf("bicubic step should undershoot below 0, min %v", minV)
	}
}

func TestAreaIsAdaptiveAvgPool(t *testing.T) {
	// 5 → 2: windows [0,3) and [2,5).
	img := tensor.FromData([]float32{1, 2, 3, 4, 5}, 1, 1, 5, 1)
	o, _ := Resize(img, 2, 1, Area)
	if !near(o.Data[0], 2, 1e-6) || !near(o.Data[1], 4, 1e-6) {
		t.Errorf("area 5→2 = %v, want [2 4]", o.Data)
	}
}

func TestResizeMaskAndErrors(t *testing.T) {
	m := tensor.New(2, 3, 5)
	o, err := Resize(m, 4, 6, Bilinear)
	if err != nil || len(o.Shape) != 3 || o.Shape[0] != 2 || o.Shape[1] != 6 || o.Shape[2] != 4 {
		t.Fatalf("mask resize: %v %v", o, err)
	}
	if _, err := Resize(m, 0, 3, Bilinear); err == nil {
		t.Error("zero width must fail as torch does")
	}
	if _, err := Resize(m, 3, 3, "bogus"); err == nil {
		t.Error("unknown method accepted")
	}
}

func TestCenterCropRoundsHalfToEven(t *testing.T) {
	img := tensor.New(1, 2, 5, 3)
	// old aspect 2.5, new 1: x = round((5 − 2)/2) = round(1.5) = 2 → 1 column.
	c := CenterCrop(img, 2, 2)
	if c.Shape[2] != 1 || c.Shape[1] != 2 {
		t.Fatalf("crop = %v", c.Shape)
	}
	// 7 wide to square: x = round(2.5) = 2 → 3 columns.
	c = CenterCrop(tensor.New(1, 2, 7, 3), 2, 2)
	if c.Shape[2] != 3 {
		t.Fatalf("crop 7→ = %v", c.Shape)
	}
}

func TestLanczos(t *testing.T) {
	// A constant image stays constant at any size (weights sum to one).
	img := tensor.Full(100.0/255, 1, 9, 11, 3)
	o, err := Resize(img, 5, 17, Lanczos)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range o.Data {
		if v != 100.0/255 {
			t.Fatalf("lanczos constant: %v", v*255)
		}
	}
	// Inputs are truncated to 8 bits first (0.999 → 254).
	o, _ = Resize(tensor.Full(0.999, 1, 2, 2, 3), 2, 2, Lanczos)
	if o.Data[0] != 254.0/255 {
		t.Errorf("8-bit truncation: %v", o.Data[0]*255)
	}
	// RGBA is resized premultiplied: a fully transparent red pixel does not
	// tint its opaque green neighbours.
	rgba := tensor.New(1, 1, 4, 4)
	for x := 0; x < 4; x++ {
		if x == 0 {
			rgba.Data[0] = 1 // red, alpha 0
		} else {
			rgba.Data[4*x+1], rgba.Data[4*x+3] = 1, 1
		}
	}
	o, _ = Resize(rgba, 3, 1, Lanczos)
	for x := 0; x < 3; x++ {
		if a := o.Data[4*x+3]; a > 0 && o.Data[4*x] != 0 {
			t.Errorf("pixel %d picked up red %v (alpha %v)", x, o.Data[4*x]*255, a*255)
		}
	}
	if premultiply(255, 128) != 128 || premultiply(100, 255) != 100 || unpremultiply(64, 128) != 127 || unpremultiply(5, 0) != 5 {
		t.Error("premultiply rounding")
	}
}

func TestBlur(t *testing.T) {
	k := GaussianKernel1D(2, 1)
	var s float32
	for _, v := range k {
		s += v
	}
	if !near(s, 1, 1e-6) || k[0] != k[4] || k[1] != k[3] {
		t.Errorf("kernel %v", k)
	}
	// exp(−x²/2σ²) on linspace(−1,1,5), σ = 1.
	g := []float64{math.Exp(-0.5), math.Exp(-0.125), 1, math.Exp(-0.125), math.Exp(-0.5)}
	sum := g[0] + g[1] + g[2] + g[3] + g[4]
	for i := range g {
		if !near(k[i], float32(g[i]/sum), 1e-7) {
			t.Errorf("k[%d] = %v, want %v", i, k[i], g[i]/sum)
		}
	}
	// A line at the left edge: reflect padding does not repeat the edge
	// (x = −1 reads column 1), so the line is seen once from each output:
	// out[0] = k[2], out[1] = k[1], out[2] = k[0].
	img := tensor.New(1, 5, 6, 1)
	for y := 0; y < 5; y++ {
		img.Data[y*6] = 1 // column 0 all ones: a 1-D problem along x
	}
	o, err := Blur(img, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !near(o.Data[0], k[2], 1e-6) || !near(o.Data[1], k[1], 1e-6) || !near(o.Data[2], k[0], 1e-6) || o.Data[3] != 0 {
		t.Errorf("reflect edge: %v, kernel %v", o.Data[:6], k)
	}
	if _, err := Blur(tensor.New(1, 2, 9, 3), 2, 1); err == nil {
		t.Error("radius ≥ height must fail like torch's reflect pad")
	}
	// Sharpen leaves a constant image as it is and clamps.
	c, _ := Sharpen(tensor.Full(0.25, 2, 6, 7, 3), 2, 1, 2)
	for _, v := range c.Data {
		if !near(v, 0.25, 1e-5) {
			t.Fatalf("sharpen constant: %v", v)
		}
	}
}

func TestBlendModes(t *testing.T) {
	a, b := float32(0.3), float32(0.8)
	cases := map[string]float32{
		"normal": b, "multiply": a * b, "screen": 1 - (1-a)*(1-b),
		"overlay": 2 * a * b, "soft_light": a + (2*b-1)*(float32(math.Sqrt(0.3))-a),
		"difference": a - b,
	}
	for m, want := range cases {
		if got := BlendPixel(m, a, b); !near(got, want, 1e-6) {
			t.Errorf("%s = %v, want %v", m, got, want)
		}
	}
	if got := BlendPixel("soft_light", 0.2, 0.9); !near(got, 0.2+0.8*(((16*0.2-12)*0.2+4)*0.2-0.2), 1e-6) {
		t.Errorf("soft_light g below 0.25: %v", got)
	}
	// difference is signed and the clamp cuts it: 0.3 − 0.8 mixed fully → 0.
	o, _ := Blend(tensor.Full(a, 1, 1, 1, 3), tensor.Full(b, 1, 1, 1, 3), 1, "difference")
	if o.Data[0] != 0 {
		t.Errorf("difference clamp: %v", o.Data[0])
	}
	if _, err := Blend(tensor.New(1, 1, 1, 3), tensor.New(1, 1, 1, 3), 1, "hard_light"); err == nil {
		t.Error("unknown mode accepted")
	}
}

func TestGrow(t *testing.T) {
	m := tensor.New(1, 5, 5)
	m.Data[12] = 1 // centre
	sq := Grow(m, 1, false)
	cr := Grow(m, 1, true)
	ones := func(t *tensor.Tensor) (n int) {
		for _, v := range t.Data {
			if v == 1 {
				n++
			}
		}
		return
	}
	if ones(sq) != 9 || ones(cr) != 5 || cr.Data[6] != 0 || sq.Data[6] != 1 {
		t.Errorf("dilation: square %d, cross %d", ones(sq), ones(cr))
	}
	if n := ones(Grow(m, 2, true)); n != 13 {
		t.Errorf("two tapered rounds: %d, want a diamond of 13", n)
	}
	// Erosion: the image border does not erode (scipy reflects the edge).
	full := tensor.Full(1, 1, 4, 4)
	if n := ones(Grow(full, -3, false)); n != 16 {
		t.Errorf("erosion at the border: %d", n)
	}
	hole := tensor.Full(1, 1, 4, 4)
	hole.Data[0] = 0
	if e := Grow(hole, -1, true); e.Data[1] != 0 || e.Data[4] != 0 || e.Data[5] != 1 {
		t.Errorf("tapered erosion: %v", e.Data)
	}
}

// The FeatherMask quirk: right/bottom loops index -x.
func TestFeatherQuirk(t *testing.T) {
	m := Feather(tensor.Full(1, 1, 1, 6), 0, 0, 3, 0)
	want := []float32{1.0 / 3, 1, 1, 1, 3.0 / 3, 2.0 / 3}
	// x=0 → column 0 × 1/3; x=1 → column 5 × 2/3; x=2 → column 4 × 3/3.
	for i, w := range want {
		if !near(m.Data[i], w, 1e-6) {
			t.Fatalf("feather right 3: %v, want %v", m.Data, want)
		}
	}
	m = Feather(tensor.Full(1, 1, 1, 4), 2, 0, 0, 0)
	if !near(m.Data[0], 0.5, 1e-7) || m.Data[1] != 1 || m.Data[2] != 1 {
		t.Errorf("feather left: %v", m.Data)
	}
	// Sides larger than the mask are clamped.
	m = Feather(tensor.Full(1, 1, 3, 1), 0, 10, 0, 0)
	if !near(m.Data[0], 1.0/3, 1e-7) || !near(m.Data[1], 2.0/3, 1e-7) || m.Data[2] != 1 {
		t.Errorf("feather top clamped: %v", m.Data)
	}
}

func TestOutpaintMask(t *testing.T) {
	// 10×10 image, 2 px on the left only, feathering 3.
	m := OutpaintMask(10, 10, 2, 0, 0, 0, 3)
	if m.Shape[1] != 10 || m.Shape[2] != 12 {
		t.Fatal(m.Shape)
	}
	row := m.Data[5*12 : 6*12]
	want := []float32{1, 1, 1, 4.0 / 9, 1.0 / 9, 0}
	for i, w := range want {
		if !near(row[i], w, 1e-7) {
			t.Fatalf("row = %v, want %v...", row, want)
		}
	}
	// No feathering when 2·f ≥ a side.
	m = OutpaintMask(5, 10, 1, 1, 1, 1, 3)
	if m.Data[1*12+1] != 0 {
		t.Errorf("feathering should be off: %v", m.Data[1*12+1])
	}
}

func TestComposite(t *testing.T) {
	dst := tensor.New(2, 4, 5, 3)
	src := tensor.Full(1, 1, 3, 3, 3)
	mask := tensor.Full(0.5, 1, 3, 3)
	o, err := Composite(dst, src, 3, 2, mask, false)
	if err != nil {
		t.Fatal(err)
	}
	// Placed at (3,2), cut at the right and bottom edges; both batch items.
	for b := 0; b < 2; b++ {
		for y := 0; y < 4; y++ {
			for x := 0; x < 5; x++ {
				want := float32(0)
				if x >= 3 && y >= 2 {
					want = 0.5
				}
				if got := o.Data[((b*4+y)*5+x)*3]; got != want {
					t.Fatalf("b%d (%d,%d) = %v, want %v", b, x, y, got, want)
				}
			}
		}
	}
	// Offsets past the destination do nothing.
	o, _ = Composite(dst, src, 99, 0, nil, false)
	for _, v := range o.Data {
		if v != 0 {
			t.Fatal("offset past the edge changed pixels")
		}
	}
	if _, err := Composite(dst, tensor.New(1, 2, 2, 4), 0, 0, nil, false); err == nil {
		t.Error("channel mismatch accepted")
	}
}

func TestAlphaFixAndRepeat(t *testing.T) {
	d, s := AlphaFix(tensor.New(1, 2, 2, 3), tensor.Full(0.5, 1, 2, 2, 4))
	if s.Dim(3) != 3 || d.Dim(3) != 3 {
		t.Error("source alpha not dropped")
	}
	_, s = AlphaFix(tensor.New(1, 2, 2, 4), tensor.Full(0.5, 1, 2, 2, 3))
	if s.Dim(3) != 4 || s.Data[3] != 1 || s.Data[0] != 0.5 {
		t.Error("source not padded with opaque alpha")
	}
	r := RepeatToBatch(tensor.FromData([]float32{1, 2}, 2, 1), 5).Contiguous()
	if r.Shape[0] != 5 || r.Data[2] != 1 || r.Data[4] != 1 || r.Data[3] != 2 {
		t.Errorf("repeat: %v", r.Data)
	}
	if RepeatToBatch(r, 2).Shape[0] != 2 {
		t.Error("cut")
	}
}

func TestPorterDuff(t *testing.T) {
	out := make([]float32, 3)
	// Opaque source over anything is the source.
	mk, _ := PorterDuff("SRC_OVER", out, []float32{0.2, 0.4, 0.6}, []float32{1, 1, 1}, 0, 0.5)
	if mk != 0 || !near(out[0], 0.2, 1e-6) || !near(out[2], 0.6, 1e-6) {
		t.Errorf("SRC_OVER: %v mask %v", out, mk)
	}
	// Half-transparent source over transparent: colour kept, alpha 0.5.
	mk, _ = PorterDuff("SRC_OVER", out, []float32{0.2, 0.4, 0.6}, []float32{1, 1, 1}, 0.5, 1)
	if !near(mk, 0.5, 1e-6) || !near(out[1], 0.4, 1e-6) {
		t.Errorf("SRC_OVER half: %v mask %v", out, mk)
	}
	mk, _ = PorterDuff("CLEAR", out, []float32{1, 1, 1}, []float32{1, 1, 1}, 0, 0)
	if mk != 1 || out[0] != 0 {
		t.Errorf("CLEAR: %v %v", out, mk)
	}
	if _, err := PorterDuff("NOPE", out, out, out, 0, 0); err == nil {
		t.Error("unknown mode")
	}
	if len(PorterDuffModes) != 18 {
		t.Error("modes")
	}
}

func TestQuantize(t *testing.T) {
	// Two colours, three black pixels and one white: G has the widest
	// weighted range; the count median leaves nothing on the right, so the
	// run of the smallest value (black) moves there: palette [white, black].
	px := []uint8{0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255}
	pal := medianCutPalette(px, 2)
	if len(pal) != 2 || pal[0] != [3]uint8{255, 255, 255} || pal[1] != [3]uint8{0, 0, 0} {
		t.Fatalf("palette %v", pal)
	}
	// Fewer colours in the image than asked: every colour is kept exactly.
	img := tensor.New(1, 2, 3, 3)
	vals := []float32{0, 0.2, 0.4, 0.6, 0.8, 1}
	for p := 0; p < 6; p++ {
		for c := 0; c < 3; c++ {
			img.Data[p*3+c] = vals[(p+c)%6]
		}
	}
	for _, d := range []string{"none", "floyd-steinberg"} {
		o, err := Quantize(img, 256, d)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range o.Data {
			want := float32(truncU8(img.Data[i]*255)) / 255
			if v != want {
				t.Fatalf("%s: %v, want %v", d, v, want)
			}
		}
	}
	// One colour: the mean of the image (rounded).
	o, _ := Quantize(img, 1, "none")
	for i := 1; i < len(o.Data); i++ {
		if o.Data[i] != o.Data[0] && i%3 == 0 {
			t.Fatal("one colour")
		}
	}
	// Floyd–Steinberg on grey 127 with a black/white palette: 127 → black
	// (error 127, 7/16 → +55), 182 → white (error −73, −31), 96 → black ...
	row := make([]uint8, 3*8)
	for i := range row {
		row[i] = 127
	}
	idx := mapFloydSteinberg(row, 8, 1, [][3]uint8{{0, 0, 0}, {255, 255, 255}})
	for p, k := range idx {
		if int(k) != p%2 {
			t.Fatalf("dithered row %v, want alternating", idx)
		}
	}
	// The second row receives the first row's 3/5/1 sixteenths.
	two := make([]uint8, 3*4)
	for i := range two {
		two[i] = 100
	}
	idx = mapFloydSteinberg(two, 2, 2, [][3]uint8{{0, 0, 0}, {200, 200, 200}})
	// The integer recurrence written out by hand (divisions truncate):
	// x0: v=100 → 0 (d=100), x1: v=100+700/16=143 → 200 (d=−57);
	// next row slot for x0 = 5·100 + 3·(−57) = 329, x1 = 100 + 5·(−57) = −185;
	// row 1: x0: 100+329/16 = 120 → 200 (d=−80), x1: 100+(−560−185)/16 = 54 → 0.
	want := []uint8{0, 1, 1, 0}
	for i := range want {
		if idx[i] != want[i] {
			t.Fatalf("two rows: %v, want %v", idx, want)
		}
	}
	if _, err := Quantize(img, 4, "bayer-4"); err != nil {
		t.Error(err)
	}
	if _, err := Quantize(img, 4, "bayer-3"); err == nil {
		t.Error("bad dither accepted")
	}
	// Alpha is kept.
	rgba := tensor.Full(0.3, 1, 2, 2, 4)
	o, _ = Quantize(rgba, 4, "none")
	if o.Data[3] != 0.3 {
		t.Error("alpha lost")
	}
}

func TestBislerp(t *testing.T) {
	// Parallel vectors of different lengths: dot = 1 → b1 is copied.
	img := tensor.New(1, 1, 2, 2)
	copy(img.Data, []float32{1, 0, 3, 0})
	o, err := Bislerp(img, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	if o.Shape[2] != 4 || o.Data[0] != 1 {
		t.Fatalf("bislerp %v %v", o.Shape, o.Data)
	}
	// Orthogonal unit vectors half way: the normalised slerp midpoint
	// (1/√2, 1/√2) times the mixed norm 1.
	img = tensor.New(1, 1, 2, 2)
	copy(img.Data, []float32{1, 0, 0, 1})
	r, i1, i2 := bislerpData(2, 3) // positions 0, 0.5(·), 1: ratios from torch's bilinear
	if i1[0] != 0 || i2[0] != 1 || i1[2] != 1 || i2[2] != 1 {
		t.Errorf("data %v %v %v", r, i1, i2)
	}
	o, _ = Bislerp(img, 3, 1)
	// Output 1: src = 2/3·1.5 − 0.5 = 0.5 → ratio 0.5 between vectors 0 and 1.
	if !near(o.Data[2], float32(math.Sqrt(0.5)), 1e-6) || !near(o.Data[3], float32(math.Sqrt(0.5)), 1e-6) {
		t.Errorf("midpoint %v", o.Data[2:4])
	}
	// Opposite vectors: the linear mix.
	copy(img.Data, []float32{1, 0, -1, 0})
	o, _ = Bislerp(img, 3, 1)
	if !near(o.Data[2], 0, 1e-6) {
		t.Errorf("opposite %v", o.Data[2:4])
	}
}

// The fast resampler against the plain reference loop of Resize's doc
// comment, on odd sizes, several channel counts and a batch of two: the
// summation order is the same, so the results are identical.
func TestResampleMatchesReference(t *testing.T) {
	for _, c := range []struct{ H, W, C, h, w int }{
		{7, 5, 3, 11, 13}, {9, 17, 1, 4, 3}, {5, 5, 4, 5, 9}, {13, 3, 2, 1, 1}, {3, 31, 3, 17, 7},
	} {
		img := tensor.New(2, c.H, c.W, c.C)
		for i := range img.Data {
			img.Data[i] = float32((i*7919)%1000) / 999
		}
		for _, m := range []string{NearestExact, Bilinear, Bicubic, Area} {
			got, err := Resize(img, c.w, c.h, m)
			if err != nil {
				t.Fatal(err)
			}
			tx, _ := methodTaps(m, c.W, c.w)
			ty, _ := methodTaps(m, c.H, c.h)
			for b := 0; b < 2; b++ {
				for y := 0; y < c.h; y++ {
					for x := 0; x < c.w; x++ {
						for ch := 0; ch < c.C; ch++ {
							var out float32
							for i := 0; i < ty.n; i++ {
								var s float32
								for j := 0; j < tx.n; j++ {
									s += tx.w[x*tx.n+j] * img.Data[((b*c.H+int(ty.idx[y*ty.n+i]))*c.W+int(tx.idx[x*tx.n+j]))*c.C+ch]
								}
								if i == 0 {
									out = ty.w[y*ty.n] * s
								} else {
									out += ty.w[y*ty.n+i] * s
								}
							}
							if g := got.Data[((b*c.h+y)*c.w+x)*c.C+ch]; g != out {
								t.Fatalf("%s %v at b%d (%d,%d,%d): %v, reference %v", m, c, b, x, y, ch, g, out)
							}
						}
					}
				}
			}
		}
	}
}

// Blur against the direct 2-D sum with reflect indexing (equal up to float
// rounding: the fast path pairs symmetric taps).
func TestBlurMatchesReference(t *testing.T) {
	for _, c := range []struct{ H, W, C, r int }{{7, 9, 3, 3}, {5, 4, 1, 2}, {33, 70, 4, 15}, {2, 2, 3, 1}} {
		img := tensor.New(2, c.H, c.W, c.C)
		for i := range img.Data {
			img.Data[i] = float32((i*104729)%997) / 996
		}
		got, err := Blur(img, c.r, 2.5)
		if err != nil {
			t.Fatal(err)
		}
		k := GaussianKernel1D(c.r, 2.5)
		for b := 0; b < 2; b++ {
			for y := 0; y < c.H; y++ {
				for x := 0; x < c.W; x++ {
					for ch := 0; ch < c.C; ch++ {
						var s float64
						for i := -c.r; i <= c.r; i++ {
							for j := -c.r; j <= c.r; j++ {
								s += float64(k[i+c.r]) * float64(k[j+c.r]) * float64(img.Data[((b*c.H+reflect(y+i, c.H))*c.W+reflect(x+j, c.W))*c.C+ch])
							}
						}
						if g := got.Data[((b*c.H+y)*c.W+x)*c.C+ch]; math.Abs(float64(g)-s) > 1e-5 {
							t.Fatalf("%v b%d (%d,%d,%d): %v, reference %v", c, b, x, y, ch, g, s)
						}
					}
				}
			}
		}
	}
}
