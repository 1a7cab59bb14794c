package gemm

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestParallelTasks runs parallel from several goroutines at once: every
// task of every call runs exactly once and is finished when it returns.
func TestParallelTasks(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := 0; rep < 200; rep++ {
				tasks := 1 + (g*7+rep)%40
				hits := make([]atomic.Int32, tasks)
				parallel(tasks, 1+rep%3, func(i int, ws *workspace) {
					if ws == nil {
						t.Error("nil workspace")
					}
					hits[i].Add(1)
				})
				for i := range hits {
					if n := hits[i].Load(); n != 1 {
						t.Errorf("task %d of %d ran %d times", i, tasks, n)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestParallelPanic: a panic in a task, on whichever goroutine ran it,
// comes back on the caller after the other tasks stopped.
func TestParallelPanic(t *testing.T) {
	for rep := 0; rep < 20; rep++ {
		func() {
			defer func() {
				if r := recover(); r != "boom" {
					t.Fatalf("recovered %v, want boom", r)
				}
			}()
			parallel(64, 2, func(i int, _ *workspace) {
				if i == 5+rep {
					panic("boom")
				}
				for x := 0; x < 10000; x++ {
					_ = x
				}
			})
			t.Fatal("no panic")
		}()
	}
}
