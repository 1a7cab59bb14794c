// Package testutil holds helpers shared by comfyd's tests. It is imported
// only from _test.go files.
package testutil

import (
	"os"
	"testing"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/node"
)

// CheckObjectInfo asserts that every class in the golden /object_info file
// at path (entries copied from ComfyUI 0.3.64's capture) is registered in
// node.Default and reports exactly that entry, byte for byte after
// marshalling: saved workflows map widgets_values by input position, so
// order matters as much as values.
func CheckObjectInfo(t *testing.T, path string, env node.Env) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := api.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	golden, ok := v.(*api.Object)
	if !ok {
		t.Fatalf("%s: not a JSON object", path)
	}
	for _, name := range golden.Keys() {
		def, ok := node.Default.Get(name)
		if !ok {
			t.Errorf("%s is not registered", name)
			continue
		}
		want, _ := golden.Get(name)
		got, w := api.MustMarshal(def.Spec.Info(env)), api.MustMarshal(want)
		if string(got) != string(w) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, w)
		}
	}
}
