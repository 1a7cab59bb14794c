package cpu

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestAgreesWithProcCPUInfo cross-checks CPUID against the kernel's view
// where /proc/cpuinfo exists.
func TestAgreesWithProcCPUInfo(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("x86 only")
	}
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo")
	}
	var flags map[string]bool
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "flags") {
			flags = map[string]bool{}
			for _, f := range strings.Fields(line[strings.Index(line, ":")+1:]) {
				flags[f] = true
			}
			break
		}
	}
	if flags == nil {
		t.Skip("no flags line")
	}
	for name, got := range map[string]bool{"avx2": X86.AVX2, "fma": X86.FMA, "f16c": X86.F16C, "avx512f": X86.AVX512F, "avx512bw": X86.AVX512BW, "avx512vl": X86.AVX512VL} {
		if got != flags[name] {
			t.Errorf("%s: cpuid says %v, /proc/cpuinfo says %v", name, got, flags[name])
		}
	}
}
