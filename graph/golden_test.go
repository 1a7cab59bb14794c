package graph

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/comfyd/comfyd/api"
)

// TestGoldenPromptErrors replays the POST /prompt error captures of real
// ComfyUI 0.3.64 through Validate and compares the 400 bodies. The captures
// post_prompt_error_invalid_json and post_prompt_error_prompt_not_dict are
// not here: ComfyUI answers those with a bare 500, comfyd with a 400
// invalid_request written by the server (they never reach Validate);
// no_prompt_key is likewise the server's.
//
// Two normalisations: tracebacks are Python frames in the captures (only
// their shape is compared), and the order of errors within one node is
// compared as a set because ComfyUI iterates a Python set of input names
// (hash order varies run to run; comfyd uses declaration order).
func TestGoldenPromptErrors(t *testing.T) {
	reg := comfyRegistry(t)
	files, _ := filepath.Glob("testdata/post_prompt_error_*.json")
	if len(files) < 10 {
		t.Fatalf("only %d golden files", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var capture struct {
				Request struct {
					JSON json.RawMessage `json:"json"`
				} `json:"request"`
				Status int             `json:"status"`
				Body   json.RawMessage `json:"body_json"`
			}
			if err := json.Unmarshal(raw, &capture); err != nil {
				t.Fatal(err)
			}
			req, err := api.Decode(capture.Request.JSON)
			if err != nil {
				t.Fatal(err)
			}
			pv, _ := req.(*api.Object).Get("prompt")
			prompt := pv.(*api.Object)
			outs, nodeErrors, verr := Validate(reg, nil, prompt, nil)
			if verr == nil {
				t.Fatalf("validation passed with outputs %v; want status %d", outs, capture.Status)
			}
			got := api.MustMarshal(api.PromptErrorResponse{Error: *verr, NodeErrors: nodeErrors})
			if a, b := normalise(t, got), normalise(t, capture.Body); a != b {
				t.Errorf("body mismatch\n got %s\nwant %s", a, b)
			}
		})
	}
}

func normalise(t *testing.T, body []byte) string {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(any) any
	walk = func(x any) any {
		switch tt := x.(type) {
		case map[string]any:
			for k, val := range tt {
				if k == "traceback" {
					if l, ok := val.([]any); ok && len(l) > 0 {
						tt[k] = "<traceback>"
					}
					continue
				}
				tt[k] = walk(val)
			}
			if errs, ok := tt["errors"].([]any); ok {
				sort.Slice(errs, func(i, j int) bool {
					return string(api.MustMarshal(errs[i])) < string(api.MustMarshal(errs[j]))
				})
			}
		case []any:
			for i := range tt {
				tt[i] = walk(tt[i])
			}
		}
		return x
	}
	return string(api.MustMarshal(walk(v)))
}
