package node

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/comfyd/comfyd/api"
)

// The spec builder must reproduce ComfyUI's /object_info entries byte for
// byte (key order included): saved workflows map widgets by position.
func TestInfoMatchesComfyUI(t *testing.T) {
	raw, err := os.ReadFile("testdata/object_info_sample.json")
	if err != nil {
		t.Fatal(err)
	}
	golden, err := api.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	specs := map[string]Spec{
		"EmptyImage": {Name: "EmptyImage", Category: "image",
			Required: []Input{
				In("width", TypeInt, "default", 512, "min", 1, "max", 16384, "step", 1),
				In("height", TypeInt, "default", 512, "min", 1, "max", 16384, "step", 1),
				In("batch_size", TypeInt, "default", 1, "min", 1, "max", 4096),
				In("color", TypeInt, "default", 0, "min", 0, "max", 16777215, "step", 1, "display", "color"),
			},
			Outputs: []Output{{Type: TypeImage}}},
		"ImageBlend": {Name: "ImageBlend", V3: true, Category: "image/postprocessing", PythonModule: "comfy_extras.nodes_post_processing",
			Required: []Input{
				In("image1", TypeImage), In("image2", TypeImage),
				In("blend_factor", TypeFloat, "default", 0.5, "min", 0.0, "max", 1.0, "step", 0.01),
				In("blend_mode", TypeCombo, "multiselect", false, "options", []string{"normal", "multiply", "screen", "overlay", "soft_light", "difference"}),
			},
			Outputs: []Output{{Type: TypeImage}}},
		"SaveImage": {Name: "SaveImage", DisplayName: "Save Image", Category: "image", OutputNode: true,
			Description: "Saves the input images to your ComfyUI output directory.",
			Required: []Input{
				In("images", TypeImage, "tooltip", "The images to save."),
				In("filename_prefix", TypeString, "default", "ComfyUI", "tooltip", "The prefix for the file to save. This may include formatting information such as %date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes."),
			},
			Hidden: []Hidden{{"prompt", HiddenPrompt}, {"extra_pnginfo", HiddenExtraPNGInfo}}},
	}
	for name, s := range specs {
		want, _ := golden.(*api.Object).Get(name)
		wantJSON := api.MustMarshal(want)
		s := s
		got := api.MustMarshal(s.Info(nil))
		if string(got) != string(wantJSON) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, wantJSON)
		}
	}
}

func TestPyFloat(t *testing.T) {
	for v, want := range map[float64]string{8: "8.0", 0.01: "0.01", 1e-5: "1e-05", 1e16: "1e+16", 1.5: "1.5", -2: "-2.0", 123456789.5: "123456789.5"} {
		if got := api.PyFloat(v); got != want {
			t.Errorf("PyFloat(%v) = %s, want %s", v, got, want)
		}
	}
	var x any
	_ = json.Unmarshal([]byte("1"), &x)
}
