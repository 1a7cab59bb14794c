package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// ParallelFor calls fn over consecutive chunks [lo, hi) that together cover
// [0, n) exactly once, on at most GOMAXPROCS goroutines (the caller's
// included). Chunks hold at least grain items (except the last), so that
// small jobs run inline without any goroutine. Workers take chunks from a
// shared counter, which balances uneven chunk costs.
//
// Reference meaning:
//
//	for lo := 0; lo < n; lo += grain { fn(lo, min(lo+grain, n)) }
//
// fn must be safe to call concurrently for disjoint ranges. A panic in fn
// on any worker is re-raised on the calling goroutine once all workers have
// stopped, so that the executor's recover at the node boundary sees it
// instead of the process dying.
func ParallelFor(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	workers := runtime.GOMAXPROCS(0)
	chunks := (n + grain - 1) / grain
	if workers <= 1 || chunks <= 1 {
		fn(0, n)
		return
	}
	// Several chunks per worker let fast workers pick up the slack, but no
	// chunk is smaller than grain.
	per := grain
	if target := (n + 4*workers - 1) / (4 * workers); target > per {
		per = target
	}
	chunks = (n + per - 1) / per
	if workers > chunks {
		workers = chunks
	}
	var next atomic.Int64
	run := func() {
		for {
			c := int(next.Add(1) - 1)
			if c >= chunks {
				return
			}
			lo := c * per
			hi := lo + per
			if hi > n {
				hi = n
			}
			fn(lo, hi)
		}
	}
	var (
		wg       sync.WaitGroup
		panicked atomic.Pointer[workerPanic]
	)
	wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					panicked.CompareAndSwap(nil, &workerPanic{r})
					next.Store(int64(chunks)) // the others stop after their chunk
				}
			}()
			run()
		}()
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				panicked.CompareAndSwap(nil, &workerPanic{r})
				next.Store(int64(chunks))
			}
		}()
		run()
	}()
	wg.Wait()
	if p := panicked.Load(); p != nil {
		panic(p.value)
	}
}

// workerPanic carries a worker's panic value to the calling goroutine.
type workerPanic struct{ value any }

// Workers returns the number of goroutines ParallelFor may use; callers size
// per-worker scratch with it.
func Workers() int { return runtime.GOMAXPROCS(0) }
