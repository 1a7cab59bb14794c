//go:build !amd64

package vec

// useAVX2 is always false here: only the scalar code exists.
var useAVX2 = false

func expSubSumBulk(dst, src []float32, m float32) (int, float64) { return 0, 0 }
func maxBulk(src []float32) (int, float32)                       { return 0, 0 }
func siluBulk(dst, src []float32, k float32) int                 { return 0 }
func geluBulk(dst, src, mul []float32) int                       { return 0 }

func sumBulk(s []float32) (int, float64)                  { return 0, 0 }
func sumSqDevBulk(s []float32, m float32) (int, float64)  { return 0, 0 }
func scaleShiftBulk(dst, src []float32, a, b float32) int { return 0 }

func mulAddBulk(dst, g, b []float32) int { return 0 }

func expSubSum32Bulk(dst, src []float32, m float32) (int, float32) { return 0, 0 }
