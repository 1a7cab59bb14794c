package postprocess

import (
	"os"
	"testing"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/node"
)

// Every node this package registers must give ComfyUI 0.3.64's exact
// /object_info entry (testdata copied from golden/comfyui-captures).
func TestObjectInfo(t *testing.T) {
	raw, err := os.ReadFile("testdata/object_info.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := api.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	golden := v.(*api.Object)
	for _, name := range golden.Keys() {
		def, ok := node.Default.Get(name)
		if !ok {
			t.Errorf("%s not registered", name)
			continue
		}
		want, _ := golden.Get(name)
		got := api.MustMarshal(def.Spec.Info(nil))
		if string(got) != string(api.MustMarshal(want)) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, api.MustMarshal(want))
		}
	}
}
