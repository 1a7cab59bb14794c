// Package blasref binds OpenBLAS's cblas_sgemm for comparison benchmarks
// only. It is compiled with `-tags openblas` (cgo, libopenblas-dev); in the
// default build it is empty, so comfyd never links it.
//
// Run OpenBLAS with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`: a forced
// Haswell core type halves its speed on Zen 5.
//
// It is internal to ml/tensor and imports nothing of comfyd's.
package blasref
