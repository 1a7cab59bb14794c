package image

import (
	"github.com/comfyd/comfyd/internal/testutil"
	"os"
	"path/filepath"
	"testing"
)

// testEnv is a node.Env over a temporary base folder.
type testEnv struct {
	base       string
	noMetadata bool
}

func newTestEnv(t *testing.T) *testEnv {
	base := t.TempDir()
	for _, d := range []string{"input", "output", "temp"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &testEnv{base: base}
}

func (e *testEnv) InputDir() string                         { return filepath.Join(e.base, "input") }
func (e *testEnv) OutputDir() string                        { return filepath.Join(e.base, "output") }
func (e *testEnv) TempDir() string                          { return filepath.Join(e.base, "temp") }
func (e *testEnv) ModelFiles(string) []string               { return nil }
func (e *testEnv) ModelPath(string, string) (string, error) { return "", os.ErrNotExist }
func (e *testEnv) DisableMetadata() bool                    { return e.noMetadata }

// The /object_info entry of every class this package registers must equal
// ComfyUI 0.3.64's byte for byte (testdata copies them from the golden
// capture).
func TestObjectInfoMatchesComfyUI(t *testing.T) {
	env := newTestEnv(t)
	// The capture's input folder held these files (and a sub-folder, which
	// must not be listed, and a non-image file).
	for _, f := range []string{"corrupt.png", "example.png", "test_input.png", "notes.txt"} {
		os.WriteFile(filepath.Join(env.InputDir(), f), []byte("x"), 0o644)
	}
	os.MkdirAll(filepath.Join(env.InputDir(), "sub.png"), 0o755)
	testutil.CheckObjectInfo(t, "testdata/object_info.json", env)
}
