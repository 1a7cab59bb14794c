// Package rng reproduces torch's CPU random generator bit for bit, so that a
// seed gives comfyd the same noise as ComfyUI: torch.manual_seed, the
// mt19937 engine of CPUGeneratorImpl, uniform draws (24-bit for float32,
// 53-bit for float64) and torch.randn's two normal paths (the blocked
// Box–Muller fill for contiguous float tensors of ≥ 16 elements, the scalar
// cached Box–Muller otherwise).
//
// The ≥ 16 path reproduces PyTorch's AVX2 kernel (normal_fill_16_AVX2 with
// avx_mathfun's float32 log/sincos and GCC's fused multiply-adds), which is
// what x86 builds run: golden/sd15-synth's noise (seeds 42, 0, 7, 123 and
// euler_ancestral's per-step draws) is matched bit for bit. A PyTorch build
// without AVX2 uses libm there and differs in the last bit of ~1% of the
// values. The scalar path (< 16 elements) follows PyTorch 1.13's
// normal_distribution<double>; it agrees with torch.randn(5) after
// manual_seed(0) to the printed 4 decimals (no bit-level golden exists).
//
// k-diffusion's ancestral samplers draw with a Generator seeded once
// (manual_seed(seed)) and one randn(x.shape) per step: NewTorch(seed) and
// Randn per step, as TestAncestralStream pins.
//
// It is part of the compute wing: it imports only ml/tensor and must not
// import api, node or the server.
package rng

import (
	"math"

	"github.com/comfyd/comfyd/ml/tensor"
)

const (
	mtN       = 624
	mtM       = 397
	matrixA   = 0x9908b0df
	upperMask = 0x80000000
	lowerMask = 0x7fffffff
)

// Torch is torch.Generator(device="cpu") after manual_seed: an mt19937
// engine plus the cached second normal sample of the scalar path.
// It is not safe for concurrent use.
type Torch struct {
	state [mtN]uint32
	left  int // torch's left_: draws remaining before the next twist, +1
	next  int

	seed uint64
	// nextDouble is the cached sin half of the scalar double Box–Muller
	// pair (CPUGeneratorImpl::next_double_normal_sample_).
	nextDouble    float64
	hasNextDouble bool
}

// NewTorch returns a generator seeded like torch.manual_seed(seed). torch
// keeps the 64-bit seed (initial_seed) but its mt19937 uses only the low 32
// bits, so seeds that differ above bit 31 give the same numbers — ComfyUI's
// 64-bit seeds included.
func NewTorch(seed uint64) *Torch {
	g := &Torch{}
	g.ManualSeed(seed)
	return g
}

// ManualSeed reseeds the engine and drops the cached normal sample.
func (g *Torch) ManualSeed(seed uint64) {
	g.seed = seed
	g.hasNextDouble = false
	g.state[0] = uint32(seed)
	for j := 1; j < mtN; j++ {
		p := g.state[j-1]
		g.state[j] = 1812433253*(p^(p>>30)) + uint32(j)
	}
	g.left = 1
	g.next = 0
}

// InitialSeed returns the seed given to ManualSeed (torch.initial_seed).
func (g *Torch) InitialSeed() uint64 { return g.seed }

func (g *Torch) twist() {
	s := &g.state
	for j := 0; j < mtN; j++ {
		y := s[j]&upperMask | s[(j+1)%mtN]&lowerMask
		v := s[(j+mtM)%mtN] ^ (y >> 1)
		if y&1 != 0 {
			v ^= matrixA
		}
		s[j] = v
	}
}

// Uint32 returns the engine's next 32-bit output (CPUGeneratorImpl::random).
func (g *Torch) Uint32() uint32 {
	g.left--
	if g.left == 0 {
		g.left = mtN
		g.next = 0
		g.twist()
	}
	y := g.state[g.next]
	g.next++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// Uint64 returns two draws joined, the first as the high half
// (CPUGeneratorImpl::random64).
func (g *Torch) Uint64() uint64 {
	hi := g.Uint32()
	lo := g.Uint32()
	return uint64(hi)<<32 | uint64(lo)
}

// Float32 is at::uniform_real_distribution<float>(0, 1): the low 24 bits of
// one draw times 2^-24.
func (g *Torch) Float32() float32 {
	return float32(g.Uint32()&(1<<24-1)) * (1.0 / (1 << 24))
}

// Float64 is at::uniform_real_distribution<double>(0, 1): the low 53 bits
// of a 64-bit draw times 2^-53.
func (g *Torch) Float64() float64 {
	return float64(g.Uint64()&(1<<53-1)) * (1.0 / (1 << 53))
}

// Normal64 is at::normal_distribution<double>(0, 1) on this generator: a
// Box–Muller pair from two 53-bit uniforms whose sin half is cached for the
// next call (the path torch.randn takes for fewer than 16 elements).
func (g *Torch) Normal64() float64 {
	if g.hasNextDouble {
		g.hasNextDouble = false
		return g.nextDouble
	}
	u1 := g.Float64()
	u2 := g.Float64()
	// PyTorch 1.13: r = sqrt(-2 log(1 - u2)); later releases use log1p(-u2),
	// which agrees except in the last bit for some u2.
	r := math.Sqrt(-2 * math.Log(1-u2))
	theta := 2 * math.Pi * u1
	g.nextDouble = r * math.Sin(theta)
	g.hasNextDouble = true
	return r * math.Cos(theta)
}

// Randn returns torch.randn(shape, generator=g, dtype=float32) on the CPU.
func (g *Torch) Randn(shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	g.NormalFill(t.Data)
	return t
}

// NormalFill fills data as torch's normal_(0, 1) fills a contiguous float32
// tensor of len(data) elements.
//
// For 16 or more elements (normal_fill): every element first gets a 24-bit
// uniform; then each block of 16 is turned into normals in place, element j
// and j+8 (j < 8) forming a Box–Muller pair with u1 = 1 - data[j] and
// u2 = data[j+8]; when the length is not a multiple of 16 the last 16
// elements are redrawn from fresh uniforms and transformed again (so they
// overlap the previous block). The arithmetic is float32 with float math
// functions (logf, sinf, cosf) except theta = float(2π(double) · u2).
//
// For fewer than 16 elements each element is float(Normal64()).
func (g *Torch) NormalFill(data []float32) {
	n := len(data)
	if n < 16 {
		for i := range data {
			data[i] = float32(g.Normal64())
		}
		return
	}
	for i := range data {
		data[i] = g.Float32()
	}
	for i := 0; i+16 <= n; i += 16 {
		normal16(data[i : i+16])
	}
	if n%16 != 0 {
		tail := data[n-16:]
		for i := range tail {
			tail[i] = g.Float32()
		}
		normal16(tail)
	}
}

// normal16 is torch's normal_fill_16_AVX2 for mean 0, std 1, lane by lane:
// u1 = 1 - d[j], u2 = d[j+8] (j < 8), radius = sqrt(-2·log(u1)),
// theta = float32(2π)·u2, d[j] = radius·cos(theta), d[j+8] = radius·sin(theta),
// with log and sincos the cephes-style float32 polynomials of avx_mathfun.h
// (PyTorch's x86 builds take this path; libm's logf/sinf/cosf differ from
// them in the last bits, so the polynomials are reproduced exactly).
func normal16(d []float32) {
	const twoPi = float32(2 * math.Pi)
	for j := 0; j < 8; j++ {
		u1 := 1 - d[j]
		u2 := d[j+8]
		radius := float32(math.Sqrt(float64(-2 * logPoly(u1))))
		theta := twoPi * u2
		s, c := sincosPoly(theta)
		d[j] = radius * c
		d[j+8] = radius * s
	}
}

// PrepareNoise is ComfyUI's comfy.sample.prepare_noise for a latent of the
// given shape: torch.manual_seed(seed) then one torch.randn of the whole
// shape. With batchInds (the latent's "batch_index"), ComfyUI draws one
// [1, shape[1:]...] sample per index from 0 to max(batchInds) and keeps
// those of the distinct indices, in sorted order, then maps every entry of
// batchInds to its sample (so repeated indices repeat the noise).
func PrepareNoise(seed uint64, shape []int, batchInds []int) *tensor.Tensor {
	g := NewTorch(seed)
	if batchInds == nil {
		return g.Randn(shape...)
	}
	maxInd := 0
	for _, i := range batchInds {
		if i > maxInd {
			maxInd = i
		}
	}
	one := append([]int{1}, shape[1:]...)
	per := 1
	for _, d := range shape[1:] {
		per *= d
	}
	want := map[int]bool{}
	for _, i := range batchInds {
		want[i] = true
	}
	samples := map[int][]float32{}
	for i := 0; i <= maxInd; i++ {
		n := g.Randn(one...)
		if want[i] {
			samples[i] = n.Data
		}
	}
	out := tensor.New(append([]int{len(batchInds)}, shape[1:]...)...)
	for k, i := range batchInds {
		copy(out.Data[k*per:(k+1)*per], samples[i])
	}
	return out
}
