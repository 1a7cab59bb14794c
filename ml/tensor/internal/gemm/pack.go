package gemm

import "github.com/comfyd/comfyd/ml/tensor/internal/half"

// Packer writes cache-friendly panels of one operand. An operand is seen as
// lines (rows of op(A), or columns of op(B)) of a common depth k.
//
// Pack fills dst with panels of width w covering lines [l0, l0+nl) and
// depths [p0, p0+kc): panel q holds lines l0+q·w … l0+q·w+w-1, and the entry
// (line l0+q·w+r, depth p0+p) is dst[q·w·kc + p·w + r]. Lines past l0+nl in
// the last panel are written as zeros. Pack must be safe to call from
// several goroutines on disjoint dst.
type Packer interface {
	Pack(dst []float32, l0, nl, p0, kc, w int)
}

// InPlace is implemented by B operands whose panels can often be read where
// they lie instead of being packed (kernels with an offB variant): for a
// panel of w lines starting at line j0, the entry (line j0+r, depth p) is
// Storage()[PanelOffset(j0, w) + offs[p-p0] + r], offs from DepthOffsets.
type InPlace interface {
	Packer
	// ReadsInPlace reports whether panels can be read in place at all (if
	// not, the operand is just a Packer).
	ReadsInPlace() bool
	// Storage is the float32 slice panels are read from.
	Storage() []float32
	// PanelOffset returns the storage offset of the panel of w lines at
	// j0, or false if that panel must be packed.
	PanelOffset(j0, w int) (int, bool)
	// DepthOffsets sets offs[i] for depth p0+i.
	DepthOffsets(offs []int64, p0 int)
}

// MatrixF32 returns a Packer for a row-major float32 matrix with leading
// dimension ld. If depthMajor, the entry (line l, depth p) is a[p·ld+l]
// (A transposed, or B as stored k×n); otherwise it is a[l·ld+p].
func MatrixF32(a []float32, ld int, depthMajor bool) Packer {
	return f32Mat{a, ld, depthMajor}
}

// MatrixF16 is MatrixF32 for IEEE half storage.
func MatrixF16(a []uint16, ld int, depthMajor bool) Packer {
	return f16Mat{a, ld, depthMajor, false}
}

// MatrixBF16 is MatrixF32 for bfloat16 storage.
func MatrixBF16(a []uint16, ld int, depthMajor bool) Packer {
	return f16Mat{a, ld, depthMajor, true}
}

type f32Mat struct {
	a          []float32
	ld         int
	depthMajor bool
}

// ReadsInPlace: only a depth-major (row-major k×n) B lies in panel order.
func (m f32Mat) ReadsInPlace() bool { return m.depthMajor }

func (m f32Mat) Storage() []float32 { return m.a }

// PanelOffset: a row-major k×n B (depth-major) is read in place.
func (m f32Mat) PanelOffset(j0, w int) (int, bool) { return j0, m.depthMajor }

func (m f32Mat) DepthOffsets(offs []int64, p0 int) {
	for i := range offs {
		offs[i] = int64(p0+i) * int64(m.ld)
	}
}

func (m f32Mat) Pack(dst []float32, l0, nl, p0, kc, w int) {
	for q := 0; q*w < nl; q++ {
		cnt := min(w, nl-q*w)
		pan := dst[q*w*kc : (q+1)*w*kc]
		l := l0 + q*w
		if m.depthMajor {
			for p := 0; p < kc; p++ {
				row := pan[p*w : p*w+w]
				copy(row, m.a[(p0+p)*m.ld+l:][:cnt])
				clear(row[cnt:])
			}
			continue
		}
		if packLinesF32(pan, m.a, l*m.ld+p0, m.ld, cnt, w, kc) {
			continue
		}
		// Transpose in depth blocks so that the panel lines being written
		// (tBlock·w floats) stay in L1 while every source row is visited.
		for pb := 0; pb < kc; pb += tBlock {
			nb := min(tBlock, kc-pb)
			for r := 0; r < cnt; r++ {
				src := m.a[(l+r)*m.ld+p0+pb:][:nb]
				out := pan[pb*w+r:]
				for p, v := range src {
					out[p*w] = v
				}
			}
		}
		zeroLines(pan, cnt, w, kc)
	}
}

// tBlock is the depth block of transposing packs.
const tBlock = 64

// zeroLines clears lines [cnt, w) of a panel.
func zeroLines(pan []float32, cnt, w, kc int) {
	if cnt == w {
		return
	}
	for p := 0; p < kc; p++ {
		clear(pan[p*w+cnt : p*w+w])
	}
}

type f16Mat struct {
	a          []uint16
	ld         int
	depthMajor bool
	bf16       bool
}

func (m f16Mat) Pack(dst []float32, l0, nl, p0, kc, w int) {
	for q := 0; q*w < nl; q++ {
		cnt := min(w, nl-q*w)
		pan := dst[q*w*kc : (q+1)*w*kc]
		l := l0 + q*w
		if m.depthMajor {
			for p := 0; p < kc; p++ {
				row := pan[p*w : p*w+w]
				src := m.a[(p0+p)*m.ld+l:][:cnt]
				if m.bf16 {
					half.BF16ToF32s(row, src)
				} else {
					half.F16ToF32s(row, src)
				}
				clear(row[cnt:])
			}
			continue
		}
		done := 0
		if !m.bf16 {
			done = packLinesF16(pan, m.a, l*m.ld+p0, m.ld, cnt, w, kc)
			if done == kc {
				continue
			}
		}
		var row [tBlock]float32
		for pb := done; pb < kc; pb += tBlock {
			nb := min(tBlock, kc-pb)
			for r := 0; r < cnt; r++ {
				src := m.a[(l+r)*m.ld+p0+pb:][:nb]
				wide := row[:nb]
				if m.bf16 {
					half.BF16ToF32s(wide, src)
				} else {
					half.F16ToF32s(wide, src)
				}
				out := pan[pb*w+r:]
				for p, v := range wide {
					out[p*w] = v
				}
			}
		}
		zeroLines(pan, cnt, w, kc)
	}
}
