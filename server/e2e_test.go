package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"mime/multipart"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/node"
	_ "github.com/comfyd/comfyd/nodes/all"
)

// wsCapture reads a ws_*.jsonl capture: the JSON messages in order (the
// greeting first); binary frames and the HTTP marker are left out.
func wsCapture(t *testing.T, name string) []*api.Object {
	f, err := os.Open(capturesDir + name)
	if err != nil {
		t.Skip("captures not available")
	}
	defer f.Close()
	var out []*api.Object
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		o := decode(t, sc.Bytes()).(*api.Object)
		if m, ok := o.Get("msg"); ok {
			if mo, ok := m.(*api.Object); ok {
				out = append(out, mo)
			}
		}
	}
	return out
}

func multipartBody(t testing.TB, fields map[string]string, filename string, data []byte) (string, []byte) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if filename != "" {
		w, _ := mw.CreateFormFile("image", filename)
		w.Write(data)
	}
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

// runCaptured posts a captured prompt with a WebSocket open and returns
// the messages up to the final executing-null, the greeting included.
func (e *testEnv) runCaptured(t *testing.T, ws *wsConn, prompt []byte, sid string) (string, []*api.Object) {
	body := `{"prompt": ` + string(prompt) + `, "client_id": "` + sid + `"}`
	resp, b := e.do("POST", "/prompt", body)
	if resp.StatusCode != 200 {
		t.Fatalf("POST /prompt: %d %s", resp.StatusCode, b)
	}
	var r struct {
		PromptID string `json:"prompt_id"`
	}
	json.Unmarshal(b, &r)
	var msgs []*api.Object
	for {
		typ, d, raw := ws.next()
		if typ == "<binary>" {
			continue
		}
		msgs = append(msgs, decode(t, raw).(*api.Object))
		if typ == api.EventExecuting {
			if n, _ := d.(*api.Object).Get("node"); n == nil {
				if p, _ := d.(*api.Object).Get("prompt_id"); p == r.PromptID {
					return r.PromptID, msgs
				}
			}
		}
	}
}

func msgTypes(ms []*api.Object) string {
	var ts []string
	for _, m := range ms {
		t, _ := m.Get("type")
		ts = append(ts, t.(string))
	}
	return strings.Join(ts, ",")
}

// The full path with the real executor and image nodes: each captured
// workflow gives ComfyUI's WebSocket sequence (types, keys, fixed values),
// then /history/{id} of the same shape, then /view of every output image.
func TestEndToEndMatchesCaptures(t *testing.T) {
	if _, ok := node.Default.Get("SaveImage"); !ok {
		t.Skip("image nodes not registered")
	}
	e := newEnv(t, nil, node.Default, realExec{})
	png0, err := os.ReadFile(capturesDir + "test_input.png")
	if err != nil {
		t.Skip("captures not available")
	}
	// Upload the input as a client would.
	ct, body := multipartBody(t, map[string]string{"overwrite": "true"}, "test_input.png", png0)
	if resp, b := e.do("POST", "/upload/image", body, "Content-Type", ct); resp.StatusCode != 200 {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	e.writeFile("input/corrupt.png", []byte("this is not a png"))
	ws := e.dial("?clientId=e2e")
	ws.next() // greeting
	for _, tc := range []struct{ prompt, wsFile, history string }{
		{"prompt_image_workflow.json", "ws_image_workflow.jsonl", "history_image_workflow.json"},
		{"prompt_image_workflow.json", "ws_image_workflow_cached_rerun.jsonl", ""},
		{"prompt_empty_image_workflow.json", "ws_empty_image_workflow.jsonl", "history_empty_image_workflow.json"},
		{"prompt_execution_error.json", "ws_execution_error.jsonl", "history_execution_error.json"},
	} {
		t.Run(tc.wsFile, func(t *testing.T) {
			want := wsCapture(t, tc.wsFile)[1:] // without the greeting
			p, err := os.ReadFile(capturesDir + tc.prompt)
			if err != nil {
				t.Skip(err)
			}
			id, got := e.runCaptured(t, ws, p, "e2e")
			if msgTypes(got) != msgTypes(want) {
				t.Fatalf("sequence\n got %s\nwant %s", msgTypes(got), msgTypes(want))
			}
			for i := range want {
				gd, _ := got[i].Get("data")
				wd, _ := want[i].Get("data")
				if err := sameShape(gd, wd, fmt.Sprintf("msg %d", i)); err != nil {
					t.Errorf("%v\n got %s\nwant %s", err, api.MustMarshal(got[i]), api.MustMarshal(want[i]))
				}
				if typ, _ := want[i].Get("type"); typ == api.EventExecutionCached || typ == api.EventStatus {
					// Fixed values: cached node lists and queue counts.
					gn := strings.ReplaceAll(string(api.MustMarshal(gd)), id, "ID")
					wn := string(api.MustMarshal(wd))
					if typ == api.EventStatus && gn != wn {
						t.Errorf("msg %d: %s, want %s", i, gn, wn)
					}
				}
			}
			if tc.history == "" {
				return
			}
			_, hb := e.do("GET", "/history/"+id, nil)
			hv := decode(t, hb).(*api.Object)
			ge, _ := hv.Get(id)
			wraw, _ := os.ReadFile(capturesDir + tc.history)
			wv := decode(t, wraw).(*api.Object)
			we, _ := wv.Get(wv.Keys()[0])
			if err := sameShape(ge, we, "history"); err != nil {
				t.Errorf("%v\n got %s", err, hb)
			}
			outs, _ := ge.(*api.Object).Get("outputs")
			for _, nid := range outs.(*api.Object).Keys() {
				ui, _ := outs.(*api.Object).Get(nid)
				imgs, _ := ui.(*api.Object).Get("images")
				for _, im := range imgs.([]any) {
					ref := im.(*api.Object)
					fn, _ := ref.Get("filename")
					sf, _ := ref.Get("subfolder")
					ty, _ := ref.Get("type")
					q := url.Values{"filename": {fn.(string)}, "subfolder": {sf.(string)}, "type": {ty.(string)}}
					resp, b := e.do("GET", "/view?"+q.Encode(), nil)
					if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
						t.Errorf("view %s: %d", fn, resp.StatusCode)
						continue
					}
					if _, err := png.DecodeConfig(bytes.NewReader(b)); err != nil {
						t.Errorf("view %s: %v", fn, err)
					}
				}
			}
		})
	}
}
