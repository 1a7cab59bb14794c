package gemm

import (
	"math/rand/v2"
	"testing"

	"github.com/comfyd/comfyd/ml/tensor/internal/half"
)

// TestPackPaths compares every packer's vector (gather) path with its Go
// loop, bit for bit, on panels of every width the kernels use, ragged line
// counts and odd depths, with a guard after the panels.
func TestPackPaths(t *testing.T) {
	if !gatherAvailable() {
		t.Skip("no gather path on this CPU")
	}
	defer setGather(Path() == "avx512")
	r := rand.New(rand.NewPCG(12, 12))
	const ld, rows = 77, 70
	f := randSlice(r, rows*ld)
	h := make([]uint16, len(f))
	half.F32ToF16s(h, f)
	bf := make([]uint16, len(f))
	half.F32ToBF16s(bf, f)
	packers := map[string]Packer{
		"f32": MatrixF32(f, ld, false), "f16": MatrixF16(h, ld, false), "bf16": MatrixBF16(bf, ld, false),
		"f32 depth-major": MatrixF32(f, ld, true), "f16 depth-major": MatrixF16(h, ld, true),
	}
	for name, pk := range packers {
		for _, w := range []int{4, 6, 14, 16, 32} {
			for _, nl := range []int{1, 5, w, w + 3, 3*w - 1} {
				for _, kc := range []int{1, 2, 7, 17, 33, 40, 64} {
					l0, p0 := 3, 2
					if name[len(name)-1] == 'r' { // depth-major: lines are columns
						l0, p0 = 1, 5
					}
					if l0+nl > rows || p0+kc > ld {
						continue
					}
					size := roundUp(nl, w) * kc
					var out [2][]float32
					for v, g := range []bool{true, false} {
						setGather(g)
						out[v] = make([]float32, size+8)
						for i := range out[v] {
							out[v][i] = sentinel
						}
						pk.Pack(out[v][:size], l0, nl, p0, kc, w)
					}
					for i := range out[0] {
						if out[0][i] != out[1][i] {
							t.Fatalf("%s w=%d nl=%d kc=%d: entry %d gather %v, loop %v", name, w, nl, kc, i, out[0][i], out[1][i])
						}
					}
					// spot-check the layout against the definition
					q, p, rr := nl/w/2, kc/2, (nl-1)%w
					if q*w+rr < nl {
						got := out[0][q*w*kc+p*w+rr]
						line, depth := l0+q*w+rr, p0+p
						var want float32
						switch name {
						case "f32", "f16", "bf16":
							want = f[line*ld+depth]
						default:
							want = f[depth*ld+line]
						}
						if name != "f32" && name != "f32 depth-major" {
							tol := want / 100
							if tol < 0 {
								tol = -tol
							}
							if d := got - want; d > tol || d < -tol {
								t.Fatalf("%s: entry (%d,%d) = %v want ≈ %v", name, line, depth, got, want)
							}
						} else if got != want {
							t.Fatalf("%s: entry (%d,%d) = %v want %v", name, line, depth, got, want)
						}
					}
				}
			}
		}
	}
}
