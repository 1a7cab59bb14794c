package all

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/executor"
	"github.com/comfyd/comfyd/graph"
	"github.com/comfyd/comfyd/imageio"
	"github.com/comfyd/comfyd/node"
)

// goldenDir holds real ComfyUI 0.3.64 outputs (see its README).
const goldenDir = "../../../shared/golden/image-nodes"

type goldenCase struct {
	Name    string          `json:"name"`
	Note    string          `json:"note"`
	Inputs  []string        `json:"inputs"`
	Prompt  json.RawMessage `json:"prompt"`
	Outputs []struct {
		Node       string          `json:"node"`
		ClassType  string          `json:"class_type"`
		ImageCount int             `json:"image_count"`
		UI         json.RawMessage `json:"ui"`
		Images     []struct {
			File       string `json:"file"`
			Width      int    `json:"width"`
			Height     int    `json:"height"`
			Channels   int    `json:"channels"`
			Type       string `json:"type"`
			Subfolder  string `json:"subfolder"`
			FilenameRE string `json:"filename_re"`
		} `json:"images"`
	} `json:"outputs"`
}

type env struct{ base string }

func (e env) InputDir() string                         { return filepath.Join(e.base, "input") }
func (e env) OutputDir() string                        { return filepath.Join(e.base, "output") }
func (e env) TempDir() string                          { return filepath.Join(e.base, "temp") }
func (e env) ModelFiles(string) []string               { return nil }
func (e env) ModelPath(string, string) (string, error) { return "", os.ErrNotExist }
func (e env) DisableMetadata() bool                    { return false }

type nopSink struct{}

func (nopSink) Send(string, api.Message)            {}
func (nopSink) SendBinary(string, []byte)           {}
func (nopSink) SupportsPreviewMetadata(string) bool { return false }

// TestGoldenImageNodes runs every case of golden/image-nodes through the
// real validator and executor and compares the saved images with ComfyUI's
// (8-bit channels within the tolerance). Cases whose classes are not
// registered yet are skipped with the missing class named.
func TestGoldenImageNodes(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(goldenDir, "cases.json"))
	if err != nil {
		t.Skipf("golden data not available: %v", err)
	}
	var file struct {
		Tolerance int          `json:"tolerance"`
		Cases     []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	// GOLDEN_TOL tightens the tolerance to see how close the outputs are.
	if v, err := strconv.Atoi(os.Getenv("GOLDEN_TOL")); err == nil {
		file.Tolerance = v
	}
	for _, c := range file.Cases {
		t.Run(c.Name, func(t *testing.T) { runGoldenCase(t, c, file.Tolerance) })
	}
}

func runGoldenCase(t *testing.T, c goldenCase, tol int) {
	pv, err := api.Decode(c.Prompt)
	if err != nil {
		t.Fatal(err)
	}
	prompt := pv.(*api.Object)
	for _, id := range prompt.Keys() {
		n, _ := api.PromptNodeOf(prompt, id)
		if _, ok := node.Default.Get(n.ClassType); !ok {
			t.Skipf("class %s is not registered yet", n.ClassType)
		}
	}
	e := env{t.TempDir()}
	for _, d := range []string{e.InputDir(), e.OutputDir(), e.TempDir()} {
		os.MkdirAll(d, 0o755)
	}
	for _, in := range c.Inputs {
		data, err := os.ReadFile(filepath.Join(goldenDir, "inputs", in))
		if err != nil {
			t.Skipf("input %s missing from the golden data", in)
		}
		os.WriteFile(filepath.Join(e.InputDir(), in), data, 0o644)
	}
	outputs, nodeErrors, verr := graph.Validate(node.Default, e, prompt, nil)
	if verr != nil {
		t.Fatalf("validation: %v %s", verr, api.MustMarshal(nodeErrors))
	}
	ex := executor.New(executor.Options{Registry: node.Default, Env: e, Sink: nopSink{}})
	out := ex.Execute(context.Background(), api.QueueItem{Number: api.Int(0), PromptID: "golden-" + c.Name,
		Prompt: prompt, ExtraData: api.NewObject(), Outputs: outputs})
	if !out.Success {
		t.Fatalf("execution failed: %s", api.MustMarshal(out.Messages))
	}
	for _, want := range c.Outputs {
		uiv, _ := out.Outputs.Get(want.Node)
		ui, _ := uiv.(*api.Object)
		if ui == nil {
			t.Fatalf("node %s produced no UI", want.Node)
		}
		if want.ImageCount == 0 {
			wantUI, _ := api.Decode(want.UI)
			if got, w := api.MustMarshal(ui), api.MustMarshal(wantUI); !bytes.Equal(got, w) {
				t.Errorf("node %s UI %s, want %s", want.Node, got, w)
			}
			continue
		}
		imv, _ := ui.Get("images")
		items, _ := imv.([]any)
		if len(items) != want.ImageCount {
			t.Fatalf("node %s: %d images, want %d", want.Node, len(items), want.ImageCount)
		}
		for i, wi := range want.Images {
			item := items[i].(*api.Object)
			fn, _ := item.Get("filename")
			sub, _ := item.Get("subfolder")
			typ, _ := item.Get("type")
			name := fn.(string)
			if ok, _ := regexp.MatchString(wi.FilenameRE, name); !ok && wi.Type != "temp" {
				t.Errorf("file name %s does not match %s", name, wi.FilenameRE)
			}
			if sub != wi.Subfolder && wi.Type != "temp" || typ != wi.Type {
				t.Errorf("subfolder %v type %v, want %s %s", sub, typ, wi.Subfolder, wi.Type)
			}
			dir := e.OutputDir()
			if wi.Type == "temp" {
				dir = e.TempDir()
			}
			got := decodeFile(t, filepath.Join(dir, sub.(string), name))
			exp := decodeFile(t, filepath.Join(goldenDir, "expected", wi.File))
			if got.m.Width != wi.Width || got.m.Height != wi.Height || got.channels != wi.Channels {
				t.Fatalf("%s: %dx%dx%d, want %dx%dx%d", wi.File, got.m.Width, got.m.Height, got.channels, wi.Width, wi.Height, wi.Channels)
			}
			if d, at := maxDiff(got.m, exp.m); d > tol {
				t.Errorf("%s: max channel difference %d at %s (tolerance %d)", wi.File, d, at, tol)
			}
		}
	}
}

type decoded struct {
	m        *imageio.Image8
	channels int
}

func decodeFile(t *testing.T, path string) decoded {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := imageio.Decode(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	ch := map[string]int{"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}[d.Frames[0].Mode]
	return decoded{d.Frames[0].RGBA, ch}
}

func maxDiff(a, b *imageio.Image8) (int, string) {
	worst, at := 0, ""
	for i := range a.Pix {
		d := int(a.Pix[i]) - int(b.Pix[i])
		if d < 0 {
			d = -d
		}
		if d > worst {
			p := i / 4
			worst, at = d, fmt.Sprintf("x=%d y=%d c=%d (%d vs %d)", p%a.Width, p/a.Width, i%4, a.Pix[i], b.Pix[i])
		}
	}
	return worst, at
}
