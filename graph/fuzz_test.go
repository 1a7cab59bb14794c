package graph

import (
	"math"
	"testing"

	"github.com/comfyd/comfyd/api"
)

func mathNaN() float64 { return math.NaN() }

// FuzzValidate feeds arbitrary prompt JSON to Validate: it must never panic
// and must always produce ComfyUI-shaped results.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{
		`{}`,
		chainPrompt(5),
		`{"1":{"class_type":"Lit","inputs":{"i":"abc","f":[1],"c":{"__value__":[1,2]},"big":5}}}`,
		`{"1":{"class_type":"Pass","inputs":{"x":["1",0]}},"2":{"class_type":"Out","inputs":{"x":["1",0]}}}`,
		`{"1":{"class_type":"Out","inputs":{"x":[1,0]}},"2":{"class_type":"Out","inputs":{"x":[[1],0.5]}}}`,
		`{"1":{"class_type":"KW","inputs":{"a":["9",true],"b":null}},"2":{"inputs":{}}}`,
		`{"1":{"class_type":["x"]},"2":"str"}`,
	} {
		f.Add([]byte(s))
	}
	reg := testRegistry()
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := api.Decode(data)
		if err != nil {
			return
		}
		p, ok := v.(*api.Object)
		if !ok {
			return
		}
		outs, ne, verr := Validate(reg, nil, p, nil)
		if verr == nil && len(outs) == 0 {
			t.Fatal("success without outputs")
		}
		if verr != nil && (verr.Type == "" || verr.ExtraInfo == nil) {
			t.Fatalf("bad top-level error %+v", verr)
		}
		for id, e := range ne {
			if len(e.Errors) == 0 || len(e.DependentOutputs) == 0 || e.ClassType == "" {
				t.Fatalf("node %s: malformed %s", id, api.MustMarshal(e))
			}
			for _, x := range e.Errors {
				if x.Type == "" || x.Message == "" || x.ExtraInfo == nil {
					t.Fatalf("malformed error %+v", x)
				}
			}
		}
		if _, err := api.Marshal(api.PromptErrorResponse{NodeErrors: ne}); err != nil {
			t.Fatal(err)
		}
		if _, err := api.Marshal(p); err != nil {
			t.Fatal(err)
		}
	})
}
