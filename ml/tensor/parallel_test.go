package tensor

import (
	"runtime"
	"sync/atomic"
	"testing"
)

// Every index is covered exactly once, chunks respect the grain, and small
// jobs stay on the calling goroutine.
func TestParallelFor(t *testing.T) {
	for _, procs := range []int{1, 2, 7} {
		old := runtime.GOMAXPROCS(procs)
		for _, c := range []struct{ n, grain int }{{0, 1}, {1, 1}, {10, 3}, {1000, 1}, {100003, 64}, {50, 100}} {
			hits := make([]atomic.Int32, c.n)
			var calls atomic.Int32
			ParallelFor(c.n, c.grain, func(lo, hi int) {
				calls.Add(1)
				if hi-lo < c.grain && hi != c.n {
					t.Errorf("chunk [%d,%d) below grain %d", lo, hi, c.grain)
				}
				for i := lo; i < hi; i++ {
					hits[i].Add(1)
				}
			})
			for i := range hits {
				if hits[i].Load() != 1 {
					t.Fatalf("procs %d n %d: index %d hit %d times", procs, c.n, i, hits[i].Load())
				}
			}
			if c.n > 0 && c.n <= c.grain && calls.Load() != 1 {
				t.Fatalf("a job within one grain was split into %d calls", calls.Load())
			}
		}
		runtime.GOMAXPROCS(old)
	}
}

// A panic on a worker goroutine surfaces on the caller, where a recover can
// catch it, instead of killing the process.
func TestParallelForPanics(t *testing.T) {
	old := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(old)
	for _, bad := range []int{0, 999} { // on the caller's chunk, on a worker's
		func() {
			defer func() {
				if r := recover(); r != "boom" {
					t.Fatalf("recovered %v, want boom", r)
				}
			}()
			ParallelFor(1000, 1, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					if i == bad {
						panic("boom")
					}
				}
			})
			t.Fatal("ParallelFor returned normally")
		}()
	}
}
