package modelpaths

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/comfyd/comfyd/node"
)

var _ node.Env = (*Paths)(nil)

const captures = "../../shared/golden/comfyui-captures/"

func newPaths(t *testing.T) (*Paths, string) {
	t.Helper()
	base := t.TempDir()
	p := New(base, filepath.Join(base, "input"), filepath.Join(base, "output"), filepath.Join(base, "temp"), filepath.Join(base, "user"))
	p.AddOutputModelPaths()
	return p, base
}

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readCapture(t *testing.T, name string) any {
	t.Helper()
	raw, err := os.ReadFile(captures + name)
	if err != nil {
		t.Skip("captures not available:", err)
	}
	var c struct {
		Body any `json:"body_json"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c.Body
}

// The registry order and each folder's directory list match ComfyUI's
// /models and /internal/folder_paths (paths relative to the base).
func TestRegistryMatchesComfyUI(t *testing.T) {
	p, base := newPaths(t)
	want := readCapture(t, "get_models.json").([]any)
	got := p.Names()
	if len(got) != len(want) {
		t.Fatalf("names %v want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("name %d: %s want %s", i, got[i], want[i])
		}
	}
	fp := readCapture(t, "get_internal_folder_paths.json").(map[string]any)
	for name, dirs := range fp {
		var w []string
		for _, d := range dirs.([]any) {
			w = append(w, strings.TrimPrefix(d.(string), "/opt/ComfyUI/"))
		}
		var g []string
		for _, d := range p.Dirs(name) {
			r, _ := filepath.Rel(base, d)
			g = append(g, filepath.ToSlash(r))
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: dirs %v want %v", name, g, w)
		}
	}
}

func TestListingSortedFilteredCached(t *testing.T) {
	p, base := newPaths(t)
	ck := filepath.Join(base, "models", "checkpoints")
	touch(t, filepath.Join(ck, "b.safetensors"))
	touch(t, filepath.Join(ck, "A.CKPT"))
	touch(t, filepath.Join(ck, "sub", "c.pt"))
	touch(t, filepath.Join(ck, "notes.txt"))
	touch(t, filepath.Join(ck, ".git", "x.pt"))
	touch(t, filepath.Join(base, "output", "checkpoints", "b.safetensors")) // duplicate name
	touch(t, filepath.Join(base, "output", "checkpoints", "saved.safetensors"))
	want := []string{"A.CKPT", "b.safetensors", "saved.safetensors", "sub/c.pt"}
	if got := p.ModelFiles("checkpoints"); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
	// A new file changes the directory's mtime: the cache notices.
	touch(t, filepath.Join(ck, "sub", "d.pth"))
	if got := p.ModelFiles("checkpoints"); len(got) != 5 || got[4] != "sub/d.pth" {
		t.Fatalf("after add: %v", got)
	}
	// Legacy names map; an unknown folder lists nothing.
	touch(t, filepath.Join(base, "models", "clip", "t5.safetensors"))
	if got := p.ModelFiles("clip"); !reflect.DeepEqual(got, []string{"t5.safetensors"}) {
		t.Errorf("clip: %v", got)
	}
	if got := p.ModelFiles("nope"); len(got) != 0 {
		t.Errorf("nope: %v", got)
	}
	// configs only lists .yaml; classifiers only files without extension.
	touch(t, filepath.Join(base, "models", "configs", "v1.yaml"))
	touch(t, filepath.Join(base, "models", "configs", "v1.ckpt"))
	if got := p.ModelFiles("configs"); !reflect.DeepEqual(got, []string{"v1.yaml"}) {
		t.Errorf("configs: %v", got)
	}
	touch(t, filepath.Join(base, "models", "classifiers", "noext"))
	touch(t, filepath.Join(base, "models", "classifiers", "x.pt"))
	if got := p.ModelFiles("classifiers"); !reflect.DeepEqual(got, []string{"noext"}) {
		t.Errorf("classifiers: %v", got)
	}
	path, err := p.ModelPath("checkpoints", "sub/c.pt")
	if err != nil || path != filepath.Join(ck, "sub", "c.pt") {
		t.Errorf("ModelPath %s %v", path, err)
	}
	if _, err := p.ModelPath("checkpoints", "../../etc/passwd"); err == nil {
		t.Error("ModelPath accepted ..")
	}
	if _, err := p.ModelPath("checkpoints", "missing.pt"); err == nil {
		t.Error("ModelPath found a missing file")
	}
}

func TestSymlinksFollowedWithoutLoops(t *testing.T) {
	p, base := newPaths(t)
	store := t.TempDir()
	touch(t, filepath.Join(store, "big.safetensors"))
	lora := filepath.Join(base, "models", "loras")
	os.MkdirAll(lora, 0o755)
	if err := os.Symlink(store, filepath.Join(lora, "shared")); err != nil {
		t.Fatal(err)
	}
	os.Symlink(lora, filepath.Join(lora, "loop")) // a cycle must not hang
	got := p.ModelFiles("loras")
	if !reflect.DeepEqual(got, []string{"shared/big.safetensors"}) {
		t.Errorf("got %v", got)
	}
}

func TestExtraModelPathsYAML(t *testing.T) {
	p, base := newPaths(t)
	other := t.TempDir()
	yml := filepath.Join(other, "extra_model_paths.yaml")
	os.WriteFile(yml, []byte(`
comfyui:
    base_path: comfy/
    is_default: true
    checkpoints: models/checkpoints/
    clip: models/clip/
    loras: |
        models/loras
        models/more_loras
a111:
    embeddings: rel/embeddings
    my_new_folder: /abs/new
empty:
`), 0o644)
	added, err := p.LoadExtraConfig(yml)
	if err != nil {
		t.Fatal(err)
	}
	if len(added) != 6 {
		t.Errorf("added %v", added)
	}
	ck := p.Dirs("checkpoints")
	if ck[0] != filepath.Join(other, "comfy", "models", "checkpoints") || ck[1] != filepath.Join(base, "models", "checkpoints") {
		t.Errorf("is_default should insert first: %v", ck)
	}
	te := p.Dirs("text_encoders")
	if te[0] != filepath.Join(other, "comfy", "models", "clip") {
		t.Errorf("clip → text_encoders first: %v", te)
	}
	lo := p.Dirs("loras")
	if lo[0] != filepath.Join(other, "comfy", "models", "loras") || lo[1] != filepath.Join(other, "comfy", "models", "more_loras") {
		// both inserted at the front, in order of insertion: the second goes before the first
		if !(lo[1] == filepath.Join(other, "comfy", "models", "loras") && lo[0] == filepath.Join(other, "comfy", "models", "more_loras")) {
			t.Errorf("loras %v", lo)
		}
	}
	em := p.Dirs("embeddings")
	if em[len(em)-1] != filepath.Join(other, "rel", "embeddings") {
		t.Errorf("relative path against the YAML dir: %v", em)
	}
	names := p.Names()
	if names[len(names)-1] != "my_new_folder" || p.Dirs("my_new_folder")[0] != "/abs/new" {
		t.Errorf("new folder: %v", names)
	}
}

// A user moves a ComfyUI models/ tree and its extra_model_paths.yaml over:
// comfyd lists the same files ComfyUI would.
func TestMovedComfyUITree(t *testing.T) {
	old := t.TempDir() // the old ComfyUI install
	for _, f := range []string{
		"models/checkpoints/v1-5-pruned-emaonly.safetensors", "models/checkpoints/SDXL/sd_xl_base_1.0.safetensors",
		"models/loras/detail.safetensors", "models/vae/vae-ft-mse.pt", "models/unet/flux.sft",
		"models/upscale_models/4x.pth", "models/embeddings/easynegative.safetensors",
	} {
		touch(t, filepath.Join(old, filepath.FromSlash(f)))
	}
	a1111 := t.TempDir()
	touch(t, filepath.Join(a1111, "models", "Stable-diffusion", "dreamshaper.safetensors"))
	touch(t, filepath.Join(a1111, "models", "Lora", "style.safetensors"))
	yml := filepath.Join(old, "extra_model_paths.yaml")
	os.WriteFile(yml, []byte("a111:\n    base_path: "+a1111+"\n\n    checkpoints: models/Stable-diffusion\n    configs: models/Stable-diffusion\n    vae: models/VAE\n    loras: |\n         models/Lora\n         models/LyCORIS\n    upscale_models: |\n                  models/ESRGAN\n                  models/RealESRGAN\n    embeddings: embeddings\n"), 0o644)
	p := New(old, filepath.Join(old, "input"), filepath.Join(old, "output"), filepath.Join(old, "temp"), filepath.Join(old, "user"))
	if _, err := p.LoadExtraConfig(yml); err != nil {
		t.Fatal(err)
	}
	p.AddOutputModelPaths()
	check := func(folder string, want ...string) {
		if got := p.ModelFiles(folder); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v want %v", folder, got, want)
		}
	}
	check("checkpoints", "SDXL/sd_xl_base_1.0.safetensors", "dreamshaper.safetensors", "v1-5-pruned-emaonly.safetensors")
	check("loras", "detail.safetensors", "style.safetensors")
	check("diffusion_models", "flux.sft")
	check("unet", "flux.sft")
	check("upscale_models", "4x.pth")
	check("embeddings", "easynegative.safetensors")
	if path, err := p.ModelPath("loras", "style.safetensors"); err != nil || !strings.HasPrefix(path, a1111) {
		t.Errorf("ModelPath %s %v", path, err)
	}
}

func TestAnnotated(t *testing.T) {
	p, base := newPaths(t)
	for _, tc := range []struct{ in, name, dir string }{
		{"x.png [output]", "x.png", filepath.Join(base, "output")},
		{"x.png [input]", "x.png", filepath.Join(base, "input")},
		{"x.png [temp]", "x.png", filepath.Join(base, "temp")},
		{"x.png", "x.png", ""},
		{"x.png[output]", "x.pn", filepath.Join(base, "output")}, // ComfyUI's fixed-length strip (quirk)
	} {
		n, d := p.Annotated(tc.in)
		if n != tc.name || d != tc.dir {
			t.Errorf("%q: %q %q", tc.in, n, d)
		}
	}
	if got, err := p.AnnotatedPath("sub/a.png"); err != nil || got != filepath.Join(base, "input", "sub", "a.png") {
		t.Errorf("AnnotatedPath %s %v", got, err)
	}
}

func TestSafeJoin(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	touch(t, filepath.Join(outside, "secret.txt"))
	touch(t, filepath.Join(root, "ok", "a.png"))
	os.Symlink(outside, filepath.Join(root, "escape"))
	os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(root, "link.txt"))
	os.Symlink(filepath.Join(outside, "nothing-yet"), filepath.Join(root, "dangling"))
	os.Symlink(filepath.Join(root, "ok"), filepath.Join(root, "inner"))
	for _, tc := range []struct {
		rel string
		ok  bool
	}{
		{"ok/a.png", true}, {"", true}, {"new/file.png", true}, {"inner/a.png", true},
		{"../x", false}, {"ok/../../x", false}, {"/etc/passwd", false}, {"%2e%2e/x", false},
		{"escape/secret.txt", false}, {"escape/new.txt", false}, {"link.txt", false}, {"dangling", false},
		{"a\x00b", false}, {`..\x`, false},
	} {
		_, err := SafeJoin(root, tc.rel)
		if (err == nil) != tc.ok {
			t.Errorf("SafeJoin(%q): err=%v want ok=%v", tc.rel, err, tc.ok)
		}
	}
}

func TestEnsureDirsAndResetTemp(t *testing.T) {
	p, base := newPaths(t)
	if err := p.EnsureDirs(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"input", "output", "temp", "user", "models/checkpoints", "models/unet", "models/clip", "custom_nodes"} {
		if st, err := os.Stat(filepath.Join(base, d)); err != nil || !st.IsDir() {
			t.Errorf("%s missing", d)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "output", "checkpoints")); err == nil {
		t.Error("output model dirs are created on demand, not at start")
	}
	touch(t, filepath.Join(base, "temp", "old.png"))
	if err := p.ResetTemp(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Join(base, "temp")); len(ents) != 0 {
		t.Errorf("temp not wiped: %v", ents)
	}
}
