//go:build !unix

package queue

func processCPU() float64 { return 0 }
