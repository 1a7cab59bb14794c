package image

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkSavePath10k: the counter lookup of SaveImage in an output folder
// that already holds 10,000 of its images (ComfyUI rescans the folder on
// every save too).
func BenchmarkSavePath10k(b *testing.B) {
	dir := b.TempDir()
	for i := 1; i <= 10000; i++ {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("ComfyUI_%05d_.png", i)), nil, 0o644)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t, err := SavePath("ComfyUI", dir, 64, 64)
		if err != nil || t.Counter != 10001 {
			b.Fatal(t, err)
		}
	}
}
