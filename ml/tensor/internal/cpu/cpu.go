// Package cpu reports the x86 vector features the tensor kernels dispatch on
// (AVX2, FMA, F16C, AVX-512 F/BW/VL), read once with CPUID and XGETBV so that
// a feature counts only when the OS also saves its registers.
//
// It is internal to ml/tensor and imports nothing of comfyd's.
package cpu

// X86 holds the detected features; all false on other architectures.
var X86 struct {
	AVX2     bool // AVX2 with OS support for YMM state
	FMA      bool // FMA3
	F16C     bool // VCVTPH2PS / VCVTPS2PH
	AVX512F  bool // AVX-512 Foundation with OS support for ZMM and opmask state
	AVX512BW bool
	AVX512VL bool
}
