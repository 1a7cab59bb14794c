//go:build unix

package queue

import "syscall"

// processCPU returns the user+system CPU time this process has used, in
// seconds: the benchmarks report it per operation because wall time on a
// shared machine says more about the neighbours than about the code.
func processCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
