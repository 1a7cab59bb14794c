//go:build !amd64

package gemm

func setGather(on bool)     {}
func gatherAvailable() bool { return false }

func packLinesF32(pan, a []float32, s0, ld, cnt, w, kc int) bool         { return false }
func packLinesF16(pan []float32, a []uint16, s0, ld, cnt, w, kc int) int { return 0 }
