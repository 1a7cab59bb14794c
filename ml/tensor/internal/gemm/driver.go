package gemm

import (
	"sync"
)

// Blocking. Depth k is cut into equal blocks of at most kcMax, so that no
// thin last block costs a full extra pass over C (K=320 is one block, 2880
// is 8×360). Then an MR×kc A panel and a kc×NR B panel (21 + 48 KiB for
// AVX-512) stream through L1/L2 while the other operand's block (mc×kc or
// kc×nc, about 350 KiB) and the C block stay in L2. Measured on Zen 5
// against fixed 256 and even 256/512 blocks: even 384 was best or level on
// every SD shape (up to +12 % on K=320).
var kcMax = 384

// depthBlock returns the block depth for k: equal blocks of at most kcMax.
func depthBlock(k int) int {
	blocks := (k + kcMax - 1) / kcMax
	return (k + blocks - 1) / blocks
}

// SerialWork is the size m·n·k below which Run uses only the calling
// goroutine: tile-parallel callers keep their products under it.
const SerialWork = 1 << 21

// Run computes C = alpha·A·B + beta·C where A (m×k) and B (k×n) are given as
// packers: A's lines are the m rows, B's lines the n columns. It is the
// driver behind F32, F16B, BF16B and convolution.
func Run(m, n, k int, alpha float32, a, b Packer, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	kn := active.Load()
	if nk := kn.narrow; nk != nil && n <= 3*nk.nr && roundUp(n, nk.nr) < roundUp(n, kn.nr) {
		kn = nk
	}
	nw := workers(m, n, k)
	// Few rows of A against many row-major float32 B lines (a Linear with
	// few tokens, weights [N,K]): packing B (n·k) would cost as much as the
	// multiply, so compute Cᵀ = B·Aᵀ with B read in place by the direct
	// kernel, then transpose the result (m·n) into C: a gain when k > 2m.
	if bm, ok := b.(f32Mat); ok && !bm.depthMajor && kn.direct != nil && n > m && k > 2*m {
		t := getBuf(n * m)
		Run(n, m, k, 1, b, a, 0, t, m)
		addTransposed(m, n, alpha, t, beta, c, ldc, nw)
		putBuf(t)
		return
	}
	kc := depthBlock(k)
	// Share (pack once, whole) the operand with fewer lines; workers split
	// the other one's lines and pack their own blocks of it.
	if n <= m {
		// Row-major float32 A (activations) is read in place by a direct
		// kernel where there is one (only a ragged last tile is packed):
		// measured 5-60 % faster than packing A, even with gathers. With
		// an in-place B too (dob), nothing is packed at all.
		am, rowMajor := a.(f32Mat)
		rowMajor = rowMajor && !am.depthMajor
		if ip, ok := b.(InPlace); ok && ip.ReadsInPlace() && rowMajor && kn.direct != nil && kn.dob != nil && kn.offB != nil {
			sp := split(m, kn.mr, kn.mc, nw)
			parallel(sp.blocks, nw, func(t int, ws *workspace) {
				i0, mb := sp.block(t)
				for p0 := 0; p0 < k; p0 += kc {
					kb := min(kc, k-p0)
					kn.macroDOB(kb, p0, am.a[i0*am.ld+p0:], am.ld, mb, ip, n, c[i0*ldc:], ldc, alpha, betaAt(beta, p0), ws)
				}
			})
			return
		}
		bp := packWhole(b, n, k, kc, kn.nr, nw)
		kn.runSharedB(m, n, k, kc, alpha, a, bp, beta, c, ldc, nw)
		putBuf(bp)
		return
	}
	// Row-major float32 A (few activation rows against fp16 weights, or
	// an image's pixels): read in place as above, its ragged last rows by
	// a kernel of their height. Packing it cost a gather pass and, for 64
	// rows, 5 tiles of 14 rows (9 % zeros): conv3x3_1280_f16 went from
	// 0.59 to 0.70 of the FMA peak (best of 4 runs).
	if am, ok := a.(f32Mat); ok && !am.depthMajor && kn.direct != nil {
		if ip, ok := b.(InPlace); !ok || !ip.ReadsInPlace() || kn.offB == nil {
			kn.runDirectA(m, n, k, kc, alpha, am, b, beta, c, ldc, nw)
			return
		}
	}
	ap := packWhole(a, m, k, kc, kn.mr, nw)
	kn.runSharedA(m, n, k, kc, alpha, ap, b, beta, c, ldc, nw)
	putBuf(ap)
}

// runDirectA is runSharedA with A read in place by the direct kernels:
// workers take blocks of B's columns (split A's rows too when those are
// few), pack them one depth block at a time and run every A tile against
// them.
func (kn *kernel) runDirectA(m, n, k, kc int, alpha float32, am f32Mat, b Packer, beta float32, c []float32, ldc, nw int) {
	sp := split(n, kn.nr, kn.nc, nw)
	rs := sp.secondary(m, kn.mr, nw)
	parallel(sp.blocks*rs.blocks, nw, func(t int, ws *workspace) {
		j0, nb := sp.block(t / rs.blocks)
		i0, mb := rs.block(t % rs.blocks)
		bp := ws.bufB(roundUp(nb, kn.nr) * kc)
		ap := ws.buf(kn.mr * kc) // ragged rows, where no kernel has their height
		for p0 := 0; p0 < k; p0 += kc {
			kb := min(kc, k-p0)
			b.Pack(bp, j0, nb, p0, kb, kn.nr)
			kn.macroDirect(kb, am.a[i0*am.ld+p0:], am.ld, mb, ap, bp, nb, c[i0*ldc+j0:], ldc, alpha, betaAt(beta, p0), ws)
		}
	})
}

// runSharedB multiplies A (packed per block by the workers, or read in
// place) by a wholly packed B (packWhole layout, depth blocks of kc).
// Workers take blocks of A's rows; when those are too few to keep every
// worker busy (small m, e.g. text tokens against prepacked weights), the
// columns are split too.
func (kn *kernel) runSharedB(m, n, k, kc int, alpha float32, a Packer, bp []float32, beta float32, c []float32, ldc, nw int) {
	am, direct := a.(f32Mat)
	direct = direct && !am.depthMajor && kn.direct != nil
	sp := split(m, kn.mr, kn.mc, nw)
	cs := sp.secondary(n, kn.nr, nw)
	parallel(sp.blocks*cs.blocks, nw, func(t int, ws *workspace) {
		i0, mb := sp.block(t / cs.blocks)
		j0, nb := cs.block(t % cs.blocks)
		ap := ws.buf(roundUp(mb, kn.mr) * kc)
		for p0 := 0; p0 < k; p0 += kc {
			kb := min(kc, k-p0)
			bb := bp[roundUp(n, kn.nr)*p0+j0*kb:]
			ct := c[i0*ldc+j0:]
			if direct {
				kn.macroDirect(kb, am.a[i0*am.ld+p0:], am.ld, mb, ap, bb, nb, ct, ldc, alpha, betaAt(beta, p0), ws)
				continue
			}
			a.Pack(ap, i0, mb, p0, kb, kn.mr)
			kn.macro(kb, ap, mb, bb, nb, ct, ldc, alpha, betaAt(beta, p0), false, ws)
		}
	})
}

// runSharedA multiplies a wholly packed A by B, whose blocks the workers
// pack (or read in place); too few column blocks split A's rows too.
func (kn *kernel) runSharedA(m, n, k, kc int, alpha float32, ap []float32, b Packer, beta float32, c []float32, ldc, nw int) {
	sp := split(n, kn.nr, kn.nc, nw)
	rs := sp.secondary(m, kn.mr, nw)
	ip, inPlace := b.(InPlace)
	inPlace = inPlace && ip.ReadsInPlace() && kn.offB != nil
	parallel(sp.blocks*rs.blocks, nw, func(t int, ws *workspace) {
		j0, nb := sp.block(t / rs.blocks)
		i0, mb := rs.block(t % rs.blocks)
		bp := ws.buf(roundUp(nb, kn.nr) * kc)
		for p0 := 0; p0 < k; p0 += kc {
			kb := min(kc, k-p0)
			aa := ap[roundUp(m, kn.mr)*p0+i0*kb:]
			ct := c[i0*ldc+j0:]
			if inPlace {
				kn.macroOffB(kb, p0, aa, mb, ip, j0, nb, bp, ct, ldc, alpha, betaAt(beta, p0), ws)
				continue
			}
			b.Pack(bp, j0, nb, p0, kb, kn.nr)
			kn.macro(kb, aa, mb, bp, nb, ct, ldc, alpha, betaAt(beta, p0), true, ws)
		}
	})
}

// runPacked multiplies a wholly packed A by a wholly packed B: workers take
// blocks of A's rows (B panels outer), as runSharedB.
func (kn *kernel) runPacked(m, n, k, kc int, alpha float32, ap, bp []float32, beta float32, c []float32, ldc, nw int) {
	sp := split(m, kn.mr, kn.mc, nw)
	cs := sp.secondary(n, kn.nr, nw)
	parallel(sp.blocks*cs.blocks, nw, func(t int, ws *workspace) {
		i0, mb := sp.block(t / cs.blocks)
		j0, nb := cs.block(t % cs.blocks)
		for p0 := 0; p0 < k; p0 += kc {
			kb := min(kc, k-p0)
			aa := ap[roundUp(m, kn.mr)*p0+i0*kb:]
			bb := bp[roundUp(n, kn.nr)*p0+j0*kb:]
			kn.macro(kb, aa, mb, bb, nb, c[i0*ldc+j0:], ldc, alpha, betaAt(beta, p0), false, ws)
		}
	})
}

// secondary splits the other dimension (lines of width w) when the blocks
// of s alone would leave a worker idle or unevenly loaded (fewer blocks
// than 2 per worker, of unequal sizes): then into enough blocks to give
// every worker two tasks. Otherwise it is one block, so the other operand's
// blocks are not packed twice.
func (s lineSplit) secondary(lines, w, nw int) lineSplit {
	panels := (lines + w - 1) / w
	blocks := 1
	if s.blocks < nw || (s.blocks < 2*nw && s.panels%s.blocks != 0) {
		blocks = min((2*nw+s.blocks-1)/s.blocks, panels)
	}
	return lineSplit{lines, w, panels, max(blocks, 1)}
}

func betaAt(beta float32, p0 int) float32 {
	if p0 == 0 {
		return beta
	}
	return 1
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// lineSplit cuts lines into blocks of whole w-wide panels for the workers.
type lineSplit struct{ lines, w, panels, blocks int }

// split picks the number of blocks: a multiple of the worker count, with
// blocks of at most about max lines; panels are dealt out evenly (block
// sizes differ by at most one panel), so that no worker is left with a
// long tail.
func split(lines, w, limit, nw int) lineSplit {
	panels := (lines + w - 1) / w
	per := max(limit/w, 1)
	blocks := (panels + per - 1) / per
	blocks = (blocks + nw - 1) / nw * nw
	return lineSplit{lines, w, panels, min(blocks, panels)}
}

// block returns the first line and line count of block t.
func (s lineSplit) block(t int) (l0, nl int) {
	p0 := t * s.panels / s.blocks
	p1 := (t + 1) * s.panels / s.blocks
	l0 = p0 * s.w
	return l0, min(p1*s.w, s.lines) - l0
}

// packWhole packs all lines of an operand, block by block of depth kc: the
// block at depth p0 starts at roundUp(lines, w)·p0.
func packWhole(op Packer, lines, k, kc, w, nw int) []float32 {
	buf := getBuf(roundUp(lines, w) * k)
	packInto(buf, op, lines, k, kc, w, nw)
	return buf
}

// packInto is packWhole into buf. A task packs a group of panels over
// every depth block in turn, so that each of a panel's lines is read as one
// long stream (gathering a 384-deep block of 32 rows 23 KB apart, then
// jumping to other rows, left the prefetchers behind: 1.35 ns an element
// on conv3x3_640's weights). Groups are small enough to give every worker
// several tasks (a 10-panel weight was 8 + 2 panels).
func packInto(buf []float32, op Packer, lines, k, kc, w, nw int) {
	lp := roundUp(lines, w)
	panels := lp / w
	group := max(1, min(8, panels/(4*nw)))
	groups := (panels + group - 1) / group
	parallel(groups, nw, func(t int, _ *workspace) {
		l0 := t * group * w
		nl := min(group*w, lines-l0)
		for p0 := 0; p0 < k; p0 += kc {
			kb := min(kc, k-p0)
			off := lp*p0 + l0*kb
			op.Pack(buf[off:off+roundUp(nl, w)*kb], l0, nl, p0, kb, w)
		}
	})
}

// addTransposed sets C = alpha·tᵀ + beta·C for t n×m (row-major, ld m).
func addTransposed(m, n int, alpha float32, t []float32, beta float32, c []float32, ldc, nw int) {
	const rows = 16
	parallel((m+rows-1)/rows, nw, func(task int, _ *workspace) {
		for i := task * rows; i < min(m, (task+1)*rows); i++ {
			row := c[i*ldc : i*ldc+n]
			if beta == 0 {
				for j := range row {
					row[j] = alpha * t[j*m+i]
				}
			} else {
				for j := range row {
					row[j] = alpha*t[j*m+i] + beta*row[j]
				}
			}
		}
	})
}

// scaleC sets C = beta·C (C = 0 when beta is 0, without reading it).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// workspace is one worker's scratch: a packing buffer and an edge tile.
type workspace struct {
	pack    []float32
	tile    []float32
	offs    []int64   // depth offsets of an in-place B
	base    []int     // panel offsets of an in-place B (-1: packed)
	packB   []float32 // panels of an in-place B that had to be packed
	packedB []float32 // the panel buffer inPlacePanels used last
}

func (ws *workspace) bufB(n int) []float32 {
	if cap(ws.packB) < n {
		ws.packB = make([]float32, n)
	}
	return ws.packB[:n]
}

func (ws *workspace) buf(n int) []float32 {
	if cap(ws.pack) < n {
		ws.pack = make([]float32, n)
	}
	return ws.pack[:n]
}

var wsPool = sync.Pool{New: func() any { return new(workspace) }}

var bufPool sync.Pool // *[]float32

func getBuf(n int) []float32 {
	if p, ok := bufPool.Get().(*[]float32); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]float32, n)
}

func putBuf(b []float32) { bufPool.Put(&b) }

// macro multiplies a packed block of A (mrows lines) by a packed block of B
// (ncols lines) of depth kc into c (already offset to the block's corner).
// aOuter picks the loop order: A panels outer when A is the shared operand
// (each A panel is reused across the worker's B block sitting in L2), B
// panels outer otherwise.
func (kn *kernel) macro(kc int, ap []float32, mrows int, bp []float32, ncols int, c []float32, ldc int, alpha, beta float32, aOuter bool, ws *workspace) {
	mr, nr := kn.mr, kn.nr
	tile := func(ir, jr int) {
		apan := ap[ir*kc : (ir+mr)*kc]
		bpan := bp[jr*kc : (jr+nr)*kc]
		mi, nj := min(mr, mrows-ir), min(nr, ncols-jr)
		if mi == mr && nj == nr {
			kn.fn(kc, apan, bpan, c[ir*ldc+jr:], ldc, alpha, beta)
			return
		}
		if len(ws.tile) < mr*nr {
			ws.tile = make([]float32, mr*nr)
		}
		kn.fn(kc, apan, bpan, ws.tile, nr, 1, 0)
		storeEdge(ws.tile, nr, mi, nj, c[ir*ldc+jr:], ldc, alpha, beta)
	}
	if aOuter {
		for ir := 0; ir < mrows; ir += mr {
			for jr := 0; jr < ncols; jr += nr {
				tile(ir, jr)
			}
		}
		return
	}
	for jr := 0; jr < ncols; jr += nr {
		for ir := 0; ir < mrows; ir += mr {
			tile(ir, jr)
		}
	}
}

// macroDirect is macro with A read in place by kn.direct;
// a ragged last row tile is packed into ap and goes through macro.
func (kn *kernel) macroDirect(kc int, a []float32, lda, mrows int, ap, bp []float32, ncols int, c []float32, ldc int, alpha, beta float32, ws *workspace) {
	mr, nr := kn.mr, kn.nr
	full := mrows / mr * mr
	if h := mrows - full; h > 0 && (h >= len(kn.directRows) || kn.directRows[h] == nil) {
		f32Mat{a: a, ld: lda}.Pack(ap, full, h, 0, kc, mr)
		kn.macro(kc, ap, h, bp, ncols, c[full*ldc:], ldc, alpha, beta, false, ws)
	}
	if len(ws.tile) < mr*nr {
		ws.tile = make([]float32, mr*nr)
	}
	// A tiles outer: a tile's 14 rows stay in L1 while the B panels
	// stream from L2 (a 384-deep B panel alone fills L1); measured 0-8 %
	// faster than B panels outer.
	// The first product of a tile waits for its rows to come from memory
	// (+35-80 % on that call); prefetching the next tile's rows, a share
	// per call, cut that but lost more elsewhere (linear_320, conv3x3_640
	// and conv3x3_1280 all 4-10 % slower over 30 interleaved runs).
	for ir := 0; ir < full; ir += mr {
		for jr := 0; jr < ncols; jr += nr {
			bpan := bp[jr*kc : (jr+nr)*kc]
			if nj := ncols - jr; nj < nr { // ragged columns: via the scratch tile
				kn.direct(kc, a[ir*lda:], lda, bpan, ws.tile, nr, 1, 0)
				storeEdge(ws.tile, nr, mr, nj, c[ir*ldc+jr:], ldc, alpha, beta)
				continue
			}
			kn.direct(kc, a[ir*lda:], lda, bpan, c[ir*ldc+jr:], ldc, alpha, beta)
		}
	}
	// The ragged last rows, in place by a kernel of their height.
	if h := mrows - full; h > 0 && h < len(kn.directRows) && kn.directRows[h] != nil {
		f := kn.directRows[h]
		for jr := 0; jr < ncols; jr += nr {
			bpan := bp[jr*kc : (jr+nr)*kc]
			if nj := ncols - jr; nj < nr {
				f(kc, a[full*lda:], lda, bpan, ws.tile, nr, 1, 0)
				storeEdge(ws.tile, nr, h, nj, c[full*ldc+jr:], ldc, alpha, beta)
				continue
			}
			f(kc, a[full*lda:], lda, bpan, c[full*ldc+jr:], ldc, alpha, beta)
		}
	}
}

// storeEdge sets the mi×nj corner of C to alpha·t + beta·C, t being a
// scratch tile with rows nr apart.
func storeEdge(t []float32, nr, mi, nj int, c []float32, ldc int, alpha, beta float32) {
	for i := 0; i < mi; i++ {
		row := c[i*ldc : i*ldc+nj]
		tr := t[i*nr : i*nr+nj]
		if beta == 0 {
			for j, v := range tr {
				row[j] = alpha * v
			}
		} else {
			for j, v := range tr {
				row[j] = alpha*v + beta*row[j]
			}
		}
	}
}

// macroOffB is macro (A panels outer) for an in-place B: columns
// [j0, j0+ncols) at depths [p0, p0+kc). Panels that cannot be read in place
// are packed into bp first.
func (kn *kernel) macroOffB(kc, p0 int, ap []float32, mrows int, ip InPlace, j0, ncols int, bp []float32, c []float32, ldc int, alpha, beta float32, ws *workspace) {
	mr, nr := kn.mr, kn.nr
	data, offs, base := kn.inPlacePanels(kc, p0, ip, j0, ncols, bp, ws)
	for ir := 0; ir < mrows; ir += mr {
		apan := ap[ir*kc : (ir+mr)*kc]
		mi := min(mr, mrows-ir)
		for q, off := range base {
			jr := q * nr
			nj := min(nr, ncols-jr)
			switch {
			case off >= 0 && mi == mr:
				kn.offB(kc, apan, data[off:], offs, c[ir*ldc+jr:], ldc, alpha, beta)
			case off >= 0:
				kn.offB(kc, apan, data[off:], offs, ws.tile, nr, 1, 0)
				storeEdge(ws.tile, nr, mi, nj, c[ir*ldc+jr:], ldc, alpha, beta)
			case mi == mr && nj == nr:
				kn.fn(kc, apan, bp[jr*kc:(jr+nr)*kc], c[ir*ldc+jr:], ldc, alpha, beta)
			default:
				kn.fn(kc, apan, bp[jr*kc:(jr+nr)*kc], ws.tile, nr, 1, 0)
				storeEdge(ws.tile, nr, mi, nj, c[ir*ldc+jr:], ldc, alpha, beta)
			}
		}
	}
}

// inPlacePanels prepares the panels of an in-place B for columns [j0,
// j0+ncols) at depths [p0, p0+kc): the depth offsets, and per panel its
// storage offset or -1 when it had to be packed (into bp at its slot). It
// also makes sure ws.tile exists.
func (kn *kernel) inPlacePanels(kc, p0 int, ip InPlace, j0, ncols int, bp []float32, ws *workspace) (data []float32, offs []int64, base []int) {
	nr := kn.nr
	if cap(ws.offs) < kc {
		ws.offs = make([]int64, kc)
	}
	offs = ws.offs[:kc]
	ip.DepthOffsets(offs, p0)
	lo, hi := offs[0], offs[0]
	for _, o := range offs {
		lo, hi = min(lo, o), max(hi, o)
	}
	data = ip.Storage()
	np := (ncols + nr - 1) / nr
	if cap(ws.base) < np {
		ws.base = make([]int, np)
	}
	base = ws.base[:np]
	for q := range base {
		jr := q * nr
		cnt := min(nr, ncols-jr)
		if cnt == nr && lo >= 0 {
			// The bounds check for every depth of the panel, once.
			if off, ok := ip.PanelOffset(j0+jr, nr); ok && off >= 0 && int64(off)+hi+int64(nr) <= int64(len(data)) {
				base[q] = off
				continue
			}
		}
		base[q] = -1
		if bp == nil {
			bp = ws.bufB(roundUp(ncols, nr) * kc)
		}
		ip.Pack(bp[jr*kc:(jr+nr)*kc], j0+jr, cnt, p0, kc, nr)
	}
	if len(ws.tile) < kn.mr*nr {
		ws.tile = make([]float32, kn.mr*nr)
	}
	ws.packedB = bp
	return data, offs, base
}

// macroDOB multiplies rows [0, mrows) of a row-major A (read in place) by
// an in-place B over all ncols columns at depths [p0, p0+kc), B panels
// outer. Ragged rows are packed and go through offB/fn; panels that cannot
// be read in place were packed by inPlacePanels.
func (kn *kernel) macroDOB(kc, p0 int, a []float32, lda, mrows int, ip InPlace, ncols int, c []float32, ldc int, alpha, beta float32, ws *workspace) {
	mr, nr := kn.mr, kn.nr
	data, offs, base := kn.inPlacePanels(kc, p0, ip, 0, ncols, nil, ws)
	bp := ws.packedB
	full := mrows / mr * mr
	for q, off := range base {
		jr := q * nr
		nj := min(nr, ncols-jr)
		for ir := 0; ir < full; ir += mr {
			ct := c[ir*ldc+jr:]
			switch {
			case off >= 0 && nj == nr:
				kn.dob(kc, a[ir*lda:], lda, data[off:], offs, ct, ldc, alpha, beta)
			case nj == nr:
				kn.direct(kc, a[ir*lda:], lda, bp[jr*kc:(jr+nr)*kc], ct, ldc, alpha, beta)
			default:
				kn.direct(kc, a[ir*lda:], lda, bp[jr*kc:(jr+nr)*kc], ws.tile, nr, 1, 0)
				storeEdge(ws.tile, nr, mr, nj, ct, ldc, alpha, beta)
			}
		}
	}
	if full == mrows {
		return
	}
	ap := ws.buf(mr * kc)
	f32Mat{a: a, ld: lda}.Pack(ap, full, mrows-full, 0, kc, mr)
	for q, off := range base {
		jr := q * nr
		nj := min(nr, ncols-jr)
		if off >= 0 {
			kn.offB(kc, ap, data[off:], offs, ws.tile, nr, 1, 0)
		} else {
			kn.fn(kc, ap, bp[jr*kc:(jr+nr)*kc], ws.tile, nr, 1, 0)
		}
		storeEdge(ws.tile, nr, mrows-full, nj, c[full*ldc+jr:], ldc, alpha, beta)
	}
}
