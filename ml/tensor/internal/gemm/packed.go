package gemm

import (
	"fmt"
	"runtime"
)

// PackedB is a B operand (k×n) widened and packed once into the panel
// layout of the kernel chosen at packing time: layer weights that every
// call would otherwise pack again. It takes 4 bytes per element.
type PackedB struct {
	n, k, kc int
	kn       *kernel
	data     []float32
}

// PackB packs b (n lines of depth k, see Packer).
func PackB(b Packer, n, k int) *PackedB {
	kn := active.Load()
	if nk := kn.narrow; nk != nil && n <= 3*nk.nr && roundUp(n, nk.nr) < roundUp(n, kn.nr) {
		kn = nk
	}
	kc := depthBlock(max(k, 1))
	p := &PackedB{n: n, k: k, kc: kc, kn: kn}
	if n > 0 && k > 0 {
		p.data = make([]float32, roundUp(n, kn.nr)*k)
		packInto(p.data, b, n, k, kc, kn.nr, runtime.GOMAXPROCS(0))
	}
	return p
}

// N and K return the packed operand's dimensions.
func (p *PackedB) N() int { return p.n }
func (p *PackedB) K() int { return p.k }

// RunB is Run with B prepacked: C = alpha·A·B + beta·C, A m×k.
func RunB(m int, alpha float32, a Packer, b *PackedB, beta float32, c []float32, ldc int) {
	n, k := b.n, b.k
	if m == 0 || n == 0 {
		return
	}
	if ldc < n || len(c) < need(m, n, ldc) {
		panic(fmt.Sprintf("gemm.RunB: C %dx%d does not fit ldc=%d len=%d", m, n, ldc, len(c)))
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	b.kn.runSharedB(m, n, k, b.kc, alpha, a, b.data, beta, c, ldc, workers(m, n, k))
}

// PackedA is an A operand (m×k) packed once, as PackedB: convolution
// weights, which are the A side of Conv2d's GEMM.
type PackedA struct {
	m, k, kc int
	kn       *kernel
	data     []float32
}

// PackA packs a (m lines of depth k, see Packer).
func PackA(a Packer, m, k int) *PackedA {
	kn := active.Load()
	kc := depthBlock(max(k, 1))
	p := &PackedA{m: m, k: k, kc: kc, kn: kn}
	if m > 0 && k > 0 {
		p.data = make([]float32, roundUp(m, kn.mr)*k)
		packInto(p.data, a, m, k, kc, kn.mr, runtime.GOMAXPROCS(0))
	}
	return p
}

// M and K return the packed operand's dimensions.
func (p *PackedA) M() int { return p.m }
func (p *PackedA) K() int { return p.k }

// RunA is Run with A prepacked: C = alpha·A·B + beta·C, B k×n.
func RunA(n int, alpha float32, a *PackedA, b Packer, beta float32, c []float32, ldc int) {
	m, k := a.m, a.k
	if m == 0 || n == 0 {
		return
	}
	if ldc < n || len(c) < need(m, n, ldc) {
		panic(fmt.Sprintf("gemm.RunA: C %dx%d does not fit ldc=%d len=%d", m, n, ldc, len(c)))
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	nw := workers(m, n, k)
	if n <= m {
		// Few columns (small images): pack them whole and split A's rows,
		// so that the big weight streams from memory once, not once per
		// column block.
		bp := packWhole(b, n, k, a.kc, a.kn.nr, nw)
		a.kn.runPacked(m, n, k, a.kc, alpha, a.data, bp, beta, c, ldc, nw)
		putBuf(bp)
		return
	}
	a.kn.runSharedA(m, n, k, a.kc, alpha, a.data, b, beta, c, ldc, nw)
}

// workers is the goroutine count for an m×n×k product.
func workers(m, n, k int) int {
	if m*n*k < SerialWork {
		return 1
	}
	return runtime.GOMAXPROCS(0)
}
