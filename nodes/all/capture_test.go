package all

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/executor"
	"github.com/comfyd/comfyd/graph"
	"github.com/comfyd/comfyd/imageio"
	"github.com/comfyd/comfyd/node"
)

const capturesDir = "../../../shared/golden/comfyui-captures"

func captureBody(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(capturesDir, name))
	if err != nil {
		t.Skipf("capture not available: %v", err)
	}
	v, err := api.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	b64, _ := v.(*api.Object).Get("body_base64")
	data, err := base64.StdEncoding.DecodeString(b64.(string))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The captured LoadImage → ImageInvert → SaveImage run of real ComfyUI:
// same file name, same pixels, and the same "prompt" metadata chunk byte
// for byte (Python's json.dumps layout, with the is_changed list the
// executor writes into the prompt).
func TestCapturedInvertWorkflow(t *testing.T) {
	input := captureBody(t, "get_view_input_png.json")
	want := captureBody(t, "get_view_output_png.json")
	e := env{t.TempDir()}
	for _, d := range []string{e.InputDir(), e.OutputDir(), e.TempDir()} {
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(filepath.Join(e.InputDir(), "test_input.png"), input, 0o644)
	pv, _ := api.Decode([]byte(`{"1": {"class_type": "LoadImage", "inputs": {"image": "test_input.png"}}, "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}}, "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "ref_invert"}}}`))
	prompt := pv.(*api.Object)
	outputs, _, verr := graph.Validate(node.Default, e, prompt, nil)
	if verr != nil {
		t.Fatal(verr)
	}
	ex := executor.New(executor.Options{Registry: node.Default, Env: e, Sink: nopSink{}})
	out := ex.Execute(context.Background(), api.QueueItem{Number: api.Int(0), PromptID: "p", Prompt: prompt,
		ExtraData: api.NewObject(), Outputs: outputs})
	if !out.Success {
		t.Fatalf("%s", api.MustMarshal(out.Messages))
	}
	ui, _ := out.Outputs.Get("3")
	if got := string(api.MustMarshal(ui)); got != `{"images":[{"filename":"ref_invert_00001_.png","subfolder":"","type":"output"}]}` {
		t.Fatal(got)
	}
	got, err := os.ReadFile(filepath.Join(e.OutputDir(), "ref_invert_00001_.png"))
	if err != nil {
		t.Fatal(err)
	}
	gt, _ := imageio.ReadPNGText(bytes.NewReader(got))
	wt, _ := imageio.ReadPNGText(bytes.NewReader(want))
	if len(gt) != 1 || len(wt) != 1 || gt[0] != wt[0] {
		t.Errorf("metadata\n got %q\nwant %q", gt, wt)
	}
	gd, err := imageio.Decode(got)
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := imageio.Decode(want)
	if gd.Frames[0].Mode != wd.Frames[0].Mode || !bytes.Equal(gd.Frames[0].RGBA.Pix, wd.Frames[0].RGBA.Pix) {
		t.Error("pixels differ from ComfyUI's output")
	}
}
