package cpu

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

func init() {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 1 {
		return
	}
	_, _, ecx1, _ := cpuid(1, 0)
	osxsave := ecx1&(1<<27) != 0
	avx := ecx1&(1<<28) != 0
	if !osxsave || !avx {
		return
	}
	xcr0, _ := xgetbv()
	ymmOK := xcr0&0x6 == 0x6            // XMM and YMM state
	zmmOK := ymmOK && xcr0&0xe0 == 0xe0 // opmask, ZMM_Hi256, Hi16_ZMM
	if !ymmOK {
		return
	}
	X86.FMA = ecx1&(1<<12) != 0
	X86.F16C = ecx1&(1<<29) != 0
	if maxID < 7 {
		return
	}
	_, ebx7, _, _ := cpuid(7, 0)
	X86.AVX2 = ebx7&(1<<5) != 0
	if zmmOK {
		X86.AVX512F = ebx7&(1<<16) != 0
		X86.AVX512BW = X86.AVX512F && ebx7&(1<<30) != 0
		X86.AVX512VL = X86.AVX512F && ebx7&(1<<31) != 0
	}
}
