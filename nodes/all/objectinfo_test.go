package all

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/node"
)

// Every registered class must report ComfyUI 0.3.64's /object_info entry
// (the golden capture, taken with input/ holding corrupt.png, example.png
// and test_input.png and no model files).
func TestRegisteredObjectInfo(t *testing.T) {
	raw, err := os.ReadFile("../../../shared/golden/comfyui-captures/get_object_info.json")
	if err != nil {
		t.Skipf("golden capture not available: %v", err)
	}
	capture, err := api.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := capture.(*api.Object).Get("body_json")
	golden := body.(*api.Object)
	e := env{t.TempDir()}
	os.MkdirAll(e.InputDir(), 0o755)
	for _, f := range []string{"corrupt.png", "example.png", "test_input.png"} {
		os.WriteFile(filepath.Join(e.InputDir(), f), []byte("x"), 0o644)
	}
	n := 0
	for _, name := range node.Default.Names() {
		want, ok := golden.Get(name)
		if !ok {
			t.Errorf("%s is not a ComfyUI 0.3.64 class", name)
			continue
		}
		def, _ := node.Default.Get(name)
		info := def.Spec.Info(e)
		adoptFileLists(def, info, want.(*api.Object))
		if got, w := api.MustMarshal(info), api.MustMarshal(want); string(got) != string(w) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, w)
		}
		n++
	}
	t.Logf("%d registered classes match", n)
}

// adoptFileLists copies the capture's value lists into combos computed
// from model folders (the capture machine's model files are not here); the
// input-folder combos of LoadImage and LoadImageMask are checked for real.
func adoptFileLists(def *node.Def, got, want *api.Object) {
	if def.Spec.Name == "LoadImage" || def.Spec.Name == "LoadImageMask" {
		return
	}
	for _, group := range []struct {
		key string
		ins []node.Input
	}{{"required", def.Spec.Required}, {"optional", def.Spec.Optional}} {
		for _, in := range group.ins {
			if in.ChoicesFunc == nil {
				continue
			}
			gv, _ := path(got, "input", group.key, in.Name)
			wv, ok := path(want, "input", group.key, in.Name)
			if ga, ok2 := gv.([]any); ok && ok2 && len(ga) > 0 {
				if wa, ok := wv.([]any); ok && len(wa) > 0 {
					ga[0] = wa[0]
				}
			}
		}
	}
}

// path walks nested objects.
func path(o *api.Object, keys ...string) (any, bool) {
	var v any = o
	for _, k := range keys {
		obj, ok := v.(*api.Object)
		if !ok {
			return nil, false
		}
		if v, ok = obj.Get(k); !ok {
			return nil, false
		}
	}
	return v, true
}

// /object_info lists the classes in ComfyUI's order.
func TestRegistryFollowsComfyUIOrder(t *testing.T) {
	pos := map[string]int{}
	for i, n := range comfyUIOrder {
		pos[n] = i
	}
	prev := -1
	for _, n := range node.Default.Names() {
		p, ok := pos[n]
		if !ok {
			continue
		}
		if p < prev {
			t.Fatalf("%s comes after a class that ComfyUI lists later", n)
		}
		prev = p
	}
}
