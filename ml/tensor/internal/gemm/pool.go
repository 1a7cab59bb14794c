package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The workers behind parallel. A goroutine started per call, as a plain
// `go` would, begins 100-150 µs late on this VM (p90 0.5-0.9 ms) once the
// other vCPU has gone idle: the hypervisor has to wake it. Two parallel
// regions per Run (pack, multiply) paid that twice, 5-6 % of a 4 ms
// product, and waiting for a helper that never got a task cost as much.
// So helpers are kept: each spins (yielding to other goroutines) for
// spinFor after its last task before it parks, and a caller never waits
// for a helper that has not joined its job.

// spinFor is how long an idle helper keeps polling for work before it
// parks; the caller waits as long for helpers still busy before it
// blocks. Between the products of one layer (a few µs to ~100 µs apart)
// the helpers stay awake. The cost: a spinning helper keeps its P, and a
// P whose goroutine yields does not steal, so a goroutine started right
// after a product (tensor.ParallelFor) waits up to spinFor for a P (or
// for its caller to block): about what waking the idle vCPU cost it
// before (100-140 µs).
const spinFor = 200 * time.Microsecond

// job is one parallel call: tasks handed out from next; busy counts the
// helpers inside it.
type job struct {
	f     func(t int, ws *workspace)
	tasks int64
	next  atomic.Int64
	busy  atomic.Int64
	done  chan struct{} // a token when busy may have dropped to 0
	pan   atomic.Pointer[workerPanic]
}

// workerPanic carries a helper's panic to the calling goroutine.
type workerPanic struct{ value any }

var (
	offers  = make(chan *job, 64) // one per helper wanted; stale ones are skipped
	helpers atomic.Int64          // helper goroutines started
	startMu sync.Mutex
)

// ensureHelpers starts helpers until there are n.
func ensureHelpers(n int) {
	if helpers.Load() >= int64(n) {
		return
	}
	startMu.Lock()
	for helpers.Load() < int64(n) {
		helpers.Add(1)
		go helper()
	}
	startMu.Unlock()
}

// helper runs offered jobs forever, spinning for spinFor after each before
// it blocks on the next offer.
func helper() {
	for {
		var j *job
		select {
		case j = <-offers:
		default:
			for t0 := time.Now(); j == nil; {
				select {
				case j = <-offers:
				default:
					if time.Since(t0) > spinFor {
						j = <-offers
					} else {
						runtime.Gosched()
					}
				}
			}
		}
		j.busy.Add(1)
		ws := wsPool.Get().(*workspace)
		j.run(ws)
		wsPool.Put(ws)
		if j.busy.Add(-1) == 0 {
			select {
			case j.done <- struct{}{}:
			default:
			}
		}
	}
}

// run takes tasks until none is left; a panic stops the job and is kept
// for the caller.
func (j *job) run(ws *workspace) {
	defer func() {
		if r := recover(); r != nil {
			j.pan.CompareAndSwap(nil, &workerPanic{r})
			j.next.Store(j.tasks)
		}
	}()
	for {
		t := j.next.Add(1) - 1
		if t >= j.tasks {
			return
		}
		j.f(int(t), ws)
	}
}

// parallel runs f(0..tasks-1) on at most nw goroutines (the caller's
// included), handing out tasks in order from a shared counter. The caller
// works too and returns once every task is done; a panic in f on a helper
// is raised again here.
func parallel(tasks, nw int, f func(t int, ws *workspace)) {
	nw = min(nw, tasks)
	ws := wsPool.Get().(*workspace)
	defer wsPool.Put(ws)
	if nw <= 1 {
		for t := 0; t < tasks; t++ {
			f(t, ws)
		}
		return
	}
	ensureHelpers(nw - 1)
	j := &job{f: f, tasks: int64(tasks), done: make(chan struct{}, 1)}
	for i := 0; i < nw-1; i++ {
		select {
		case offers <- j:
		default: // every helper has offers queued: do without
		}
	}
	// A helper joins (busy.Add) before it takes a task, so once the
	// counter has passed the last task, busy == 0 means no f is running.
	j.run(ws)
	for t0 := time.Now(); j.busy.Load() != 0; {
		if time.Since(t0) < spinFor {
			runtime.Gosched()
			continue
		}
		<-j.done
	}
	if p := j.pan.Load(); p != nil {
		panic(p.value)
	}
}
