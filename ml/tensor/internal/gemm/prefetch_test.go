package gemm

import "testing"

// TestPrefetchBounds: prefetch clamps to the slice (rows past the end, an
// empty or short slice, no rows) instead of panicking.
func TestPrefetchBounds(t *testing.T) {
	a := make([]float32, 10*7+5)
	for _, c := range [][4]int{{0, 20, 7, 5}, {3, 11, 7, 7}, {12, 20, 7, 5}, {5, 5, 7, 5}, {0, 1, 7, 0}, {0, 3, 7, 100}} {
		prefetch(a, c[2], c[0], c[1], c[3])
	}
	prefetch(nil, 4, 0, 2, 4)
}
