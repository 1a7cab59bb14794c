package tensor

// Elementwise arithmetic with NumPy/PyTorch broadcasting. Every binary op
// has three forms: Op(a, b) allocates the result, OpTo(dst, a, b) writes
// into dst (which must have the broadcast shape, may be any strided view
// and may be a or b itself), and OpInPlace(a, b) is OpTo(a, a, b).
//
// Reference meaning of OpTo, for every multi-index i of the broadcast shape:
//
//	dst[i] = a[i'] op b[i'']
//
// where i' and i'' are i right-aligned to a's and b's shapes with the index
// of every size-1 (or missing) dimension taken as 0. Results are exactly
// those of the scalar float32 expression; nothing is fused or reordered.

type binKind uint8

const (
	opAdd binKind = iota
	opSub
	opMul
	opDiv
	opMax
	opMin
	opAddScaled // a + alpha*b
	opLerp      // a + alpha*(b-a)
)

type binOp struct {
	kind  binKind
	alpha float32
}

func (op binOp) name() string {
	return [...]string{"Add", "Sub", "Mul", "Div", "Maximum", "Minimum", "AddScaled", "Lerp"}[op.kind]
}

func (op binOp) scalar(a, b float32) float32 {
	switch op.kind {
	case opAdd:
		return a + b
	case opSub:
		return a - b
	case opMul:
		return a * b
	case opDiv:
		return a / b
	case opMax:
		if a > b || a != a {
			return a
		}
		return b
	case opMin:
		if a < b || a != a {
			return a
		}
		return b
	case opAddScaled:
		return a + op.alpha*b
	default:
		return a + op.alpha*(b-a)
	}
}

// vv computes d[i] = a[i] op b[i] over contiguous runs.
func (op binOp) vv(d, a, b []float32) {
	a = a[:len(d)]
	b = b[:len(d)]
	switch op.kind {
	case opAdd:
		for i := range d {
			d[i] = a[i] + b[i]
		}
	case opSub:
		for i := range d {
			d[i] = a[i] - b[i]
		}
	case opMul:
		for i := range d {
			d[i] = a[i] * b[i]
		}
	case opDiv:
		for i := range d {
			d[i] = a[i] / b[i]
		}
	case opAddScaled:
		al := op.alpha
		for i := range d {
			d[i] = a[i] + al*b[i]
		}
	default:
		for i := range d {
			d[i] = op.scalar(a[i], b[i])
		}
	}
}

// vs computes d[i] = a[i] op s.
func (op binOp) vs(d, a []float32, s float32) {
	a = a[:len(d)]
	switch op.kind {
	case opAdd:
		for i := range d {
			d[i] = a[i] + s
		}
	case opSub:
		for i := range d {
			d[i] = a[i] - s
		}
	case opMul:
		for i := range d {
			d[i] = a[i] * s
		}
	case opDiv:
		for i := range d {
			d[i] = a[i] / s
		}
	default:
		for i := range d {
			d[i] = op.scalar(a[i], s)
		}
	}
}

// sv computes d[i] = s op b[i].
func (op binOp) sv(d []float32, s float32, b []float32) {
	b = b[:len(d)]
	switch op.kind {
	case opAdd:
		for i := range d {
			d[i] = s + b[i]
		}
	case opMul:
		for i := range d {
			d[i] = s * b[i]
		}
	default:
		for i := range d {
			d[i] = op.scalar(s, b[i])
		}
	}
}

func binaryTo(op binOp, dst, a, b *Tensor) *Tensor {
	mustF32(op.name(), dst, a, b)
	shape := mustBroadcast(a.Shape, b.Shape)
	checkDst(op.name(), dst, shape)
	if n := numel(shape); dst.IsContiguous() && a.IsContiguous() && b.IsContiguous() && a.Len() == n && b.Len() == n {
		// Same shapes, all contiguous: one flat loop, no iterator.
		D, A, B := dst.Data[dst.Offset:dst.Offset+n], a.Data[a.Offset:a.Offset+n], b.Data[b.Offset:b.Offset+n]
		ParallelFor(n, elemGrain, func(lo, hi int) { op.vv(D[lo:hi], A[lo:hi], B[lo:hi]) })
		return dst
	}
	it := newIter(shape, dst, a, b)
	s0, s1, s2 := it.inner(0), it.inner(1), it.inner(2)
	D, A, B := dst.Data, a.Data, b.Data
	it.run(elemGrain, func(o [3]int, n int) {
		switch {
		case s0 == 1 && s1 == 1 && s2 == 1:
			op.vv(D[o[0]:o[0]+n], A[o[1]:], B[o[2]:])
		case s0 == 1 && s1 == 1 && s2 == 0:
			op.vs(D[o[0]:o[0]+n], A[o[1]:], B[o[2]])
		case s0 == 1 && s1 == 0 && s2 == 1:
			op.sv(D[o[0]:o[0]+n], A[o[1]], B[o[2]:])
		default:
			p0, p1, p2 := o[0], o[1], o[2]
			for i := 0; i < n; i++ {
				D[p0] = op.scalar(A[p1], B[p2])
				p0 += s0
				p1 += s1
				p2 += s2
			}
		}
	})
	return dst
}

func binary(op binOp, a, b *Tensor) *Tensor {
	mustF32(op.name(), a, b)
	return binaryTo(op, New(mustBroadcast(a.Shape, b.Shape)...), a, b)
}

// Add returns a + b (broadcasting).
func Add(a, b *Tensor) *Tensor { return binary(binOp{kind: opAdd}, a, b) }

// AddTo sets dst = a + b (broadcasting) and returns dst.
func AddTo(dst, a, b *Tensor) *Tensor { return binaryTo(binOp{kind: opAdd}, dst, a, b) }

// AddInPlace sets a += b (b broadcast to a's shape) and returns a.
func AddInPlace(a, b *Tensor) *Tensor { return binaryTo(binOp{kind: opAdd}, a, a, b) }

// Sub returns a - b (broadcasting).
func Sub(a, b *Tensor) *Tensor { return binary(binOp{kind: opSub}, a, b) }

// SubTo sets dst = a - b (broadcasting) and returns dst.
func SubTo(dst, a, b *Tensor) *Tensor { return binaryTo(binOp{kind: opSub}, dst, a, b) }

// SubInPlace sets a -= b and returns a.
func SubInPlace(a, b *Tensor) *Tensor { return binaryTo(binOp{kind: opSub}, a, a, b) }

// Mul returns a * b elementwise (broadcasting).
func Mul(a, b *Tensor) *Tensor { return binary(binOp{kind: opMul}, a, b) }

// MulTo sets dst = a * b elementwise (broadcasting) and returns dst.
func MulTo(dst, a, b *Tensor) *Tensor { return binaryTo(binOp{kind: opMul}, dst, a, b) }

// MulInPlace sets a *= b elementwise and returns a.
func MulInPlace(a, b *Tensor) *Tensor { return binaryTo(binOp{kind: opMul}, a, a, b) }

// Div returns a / b elementwise (broadcasting; IEEE division, x/0 = ±Inf).
func Div(a, b *Tensor) *Tensor { return binary(binOp{kind: opDiv}, a, b) }

// DivTo sets dst = a / b elementwise (broadcasting) and returns dst.
func DivTo(dst, a, b *Tensor) *Tensor { return binaryTo(binOp{kind: opDiv}, dst, a, b) }

// DivInPlace sets a /= b elementwise and returns a.
func DivInPlace(a, b *Tensor) *Tensor { return binaryTo(binOp{kind: opDiv}, a, a, b) }

// Maximum returns the elementwise maximum (torch.maximum: NaN propagates).
func Maximum(a, b *Tensor) *Tensor { return binary(binOp{kind: opMax}, a, b) }

// MaximumTo sets dst = maximum(a, b) and returns dst.
func MaximumTo(dst, a, b *Tensor) *Tensor { return binaryTo(binOp{kind: opMax}, dst, a, b) }

// Minimum returns the elementwise minimum (torch.minimum: NaN propagates).
func Minimum(a, b *Tensor) *Tensor { return binary(binOp{kind: opMin}, a, b) }

// MinimumTo sets dst = minimum(a, b) and returns dst.
func MinimumTo(dst, a, b *Tensor) *Tensor { return binaryTo(binOp{kind: opMin}, dst, a, b) }

// AddScaled returns a + alpha*b, as torch.add(a, b, alpha=alpha).
func AddScaled(a, b *Tensor, alpha float32) *Tensor {
	return binary(binOp{kind: opAddScaled, alpha: alpha}, a, b)
}

// AddScaledTo sets dst = a + alpha*b and returns dst.
func AddScaledTo(dst, a, b *Tensor, alpha float32) *Tensor {
	return binaryTo(binOp{kind: opAddScaled, alpha: alpha}, dst, a, b)
}

// Lerp returns a + w*(b-a), as torch.lerp(a, b, w) with a scalar weight.
func Lerp(a, b *Tensor, w float32) *Tensor { return binary(binOp{kind: opLerp, alpha: w}, a, b) }

// LerpTo sets dst = a + w*(b-a) and returns dst.
func LerpTo(dst, a, b *Tensor, w float32) *Tensor {
	return binaryTo(binOp{kind: opLerp, alpha: w}, dst, a, b)
}

// unaryTo applies k, which maps a contiguous run src to dst elementwise
// (dst and src may be the same slice), to every element of a, writing dst
// (same shape as a). Strided runs go through a small gather buffer.
func unaryTo(name string, dst, a *Tensor, k func(dst, src []float32)) *Tensor {
	mustF32(name, dst, a)
	checkDst(name, dst, a.Shape)
	if n := a.Len(); dst.IsContiguous() && a.IsContiguous() {
		D, A := dst.Data[dst.Offset:dst.Offset+n], a.Data[a.Offset:a.Offset+n]
		ParallelFor(n, elemGrain, func(lo, hi int) { k(D[lo:hi], A[lo:hi]) })
		return dst
	}
	it := newIter(a.Shape, dst, a)
	s0, s1 := it.inner(0), it.inner(1)
	D, A := dst.Data, a.Data
	it.run(elemGrain, func(o [3]int, n int) {
		if s0 == 1 && s1 == 1 {
			k(D[o[0]:o[0]+n], A[o[1]:o[1]+n])
			return
		}
		var buf [256]float32
		for done := 0; done < n; {
			m := min(n-done, len(buf))
			p := o[1] + done*s1
			for i := 0; i < m; i++ {
				buf[i] = A[p]
				p += s1
			}
			k(buf[:m], buf[:m])
			p = o[0] + done*s0
			for i := 0; i < m; i++ {
				D[p] = buf[i]
				p += s0
			}
			done += m
		}
	})
	return dst
}

// MapTo sets dst[i] = f(a[i]) for every element and returns dst. f is
// called concurrently from several goroutines.
func MapTo(dst, a *Tensor, f func(float32) float32) *Tensor {
	return unaryTo("Map", dst, a, func(d, s []float32) {
		s = s[:len(d)]
		for i := range d {
			d[i] = f(s[i])
		}
	})
}

// Map returns f applied to every element of a.
func Map(a *Tensor, f func(float32) float32) *Tensor { return MapTo(New(a.Shape...), a, f) }

// CopyTo copies src into dst, broadcasting src to dst's shape, and returns dst.
// Copies that transpose the two innermost dimensions (making a permuted view
// contiguous, as SD's [B,C,HW] ↔ [B,HW,C]) go tile by tile.
func CopyTo(dst, src *Tensor) *Tensor {
	mustF32("Copy", dst, src)
	it := newIter(dst.Shape, dst, src)
	if transposeCopy(it, dst.Data, src.Data) {
		return dst
	}
	s0, s1 := it.inner(0), it.inner(1)
	D, S := dst.Data, src.Data
	it.run(elemGrain, func(o [3]int, n int) {
		if s0 == 1 && s1 == 1 {
			copy(D[o[0]:o[0]+n], S[o[1]:o[1]+n])
			return
		}
		p0, p1 := o[0], o[1]
		for i := 0; i < n; i++ {
			D[p0] = S[p1]
			p0 += s0
			p1 += s1
		}
	})
	return dst
}

// AffineTo sets dst = a*mul + add elementwise (one rounding per operation,
// as the two torch ops would) and returns dst.
func AffineTo(dst, a *Tensor, mul, add float32) *Tensor {
	return unaryTo("Affine", dst, a, func(d, s []float32) {
		s = s[:len(d)]
		switch {
		case add == 0: // keeps the sign of zero products, as a lone multiply
			for i := range d {
				d[i] = s[i] * mul
			}
		case mul == 1:
			for i := range d {
				d[i] = s[i] + add
			}
		default:
			for i := range d {
				d[i] = float32(s[i]*mul) + add
			}
		}
	})
}

// AddScalar returns a + s.
func AddScalar(a *Tensor, s float32) *Tensor { return AffineTo(New(a.Shape...), a, 1, s) }

// AddScalarTo sets dst = a + s and returns dst.
func AddScalarTo(dst, a *Tensor, s float32) *Tensor { return AffineTo(dst, a, 1, s) }

// MulScalar returns a * s.
func MulScalar(a *Tensor, s float32) *Tensor { return AffineTo(New(a.Shape...), a, s, 0) }

// MulScalarTo sets dst = a * s and returns dst.
func MulScalarTo(dst, a *Tensor, s float32) *Tensor { return AffineTo(dst, a, s, 0) }

// ClampTo sets dst = min(max(a, lo), hi) elementwise, as torch.clamp (NaN
// stays NaN), and returns dst.
func ClampTo(dst, a *Tensor, lo, hi float32) *Tensor {
	return unaryTo("Clamp", dst, a, func(d, s []float32) {
		s = s[:len(d)]
		for i := range d {
			v := s[i]
			if v < lo {
				v = lo
			}
			if v > hi {
				v = hi
			}
			d[i] = v
		}
	})
}

// Clamp returns a clamped to [lo, hi].
func Clamp(a *Tensor, lo, hi float32) *Tensor { return ClampTo(New(a.Shape...), a, lo, hi) }

// transposeCopy copies with a blocked 2-D transpose when, after coalescing,
// the destination is unit-stride along the last dimension and the source
// along the one before: reading and writing 32×32 tiles keeps both sides in
// L1 instead of striding through memory on one of them. It reports whether
// it applied.
//
// Reference loop, for the inner dimensions M×N of every outer index:
//
//	dst[i*dm + j] = src[i + j*sn]
func transposeCopy(it *iter, D, S []float32) bool {
	r := len(it.shape)
	if r < 2 || it.st[0][r-1] != 1 || it.st[1][r-2] != 1 || it.st[1][r-1] == 1 {
		return false
	}
	m, n := it.shape[r-2], it.shape[r-1]
	if m < 8 || n < 8 {
		return false
	}
	const tb = 32
	dm, sn := it.st[0][r-2], it.st[1][r-1]
	mb := (m + tb - 1) / tb
	outer := numel(it.shape[:r-2])
	ParallelFor(outer*mb, max(1, elemGrain/(tb*n)), func(lo, hi int) {
		for t := lo; t < hi; t++ {
			o, ib := t/mb, t%mb
			d0, s0 := it.off[0], it.off[1]
			for d := r - 3; d >= 0 && o > 0; d-- {
				k := o % it.shape[d]
				o /= it.shape[d]
				d0 += k * it.st[0][d]
				s0 += k * it.st[1][d]
			}
			i0, i1 := ib*tb, min(ib*tb+tb, m)
			// Read source rows contiguously and write with the stride: the
			// source stride is often a power of two (HW) whose lines would
			// collide in L1, the destination's (C) rarely is.
			for j0 := 0; j0 < n; j0 += tb {
				j1 := min(j0+tb, n)
				for j := j0; j < j1; j++ {
					col := S[s0+j*sn+i0 : s0+j*sn+i1]
					p := d0 + i0*dm + j
					for _, v := range col {
						D[p] = v
						p += dm
					}
				}
			}
		}
	})
	return true
}
