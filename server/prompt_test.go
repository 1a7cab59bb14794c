package server

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/comfyd/comfyd/api"
)

const goodPrompt = `{"1": {"class_type": "TestSource", "inputs": {"value": 3}}, "2": {"class_type": "TestSave", "inputs": {"images": ["1", 0], "mode": "a"}}}`

func TestPostPromptErrorsMatchCaptures(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	for _, name := range []string{"post_prompt_error_no_prompt_key.json", "post_prompt_error_empty_prompt.json",
		"post_prompt_error_unknown_node_class.json", "post_prompt_error_missing_class_type.json"} {
		c := loadCapture(t, name)
		resp, b := e.do("POST", "/prompt", c.Request.JSON)
		if resp.StatusCode != c.Status || resp.Header.Get("Content-Type") != jsonType {
			t.Errorf("%s: %d %s", name, resp.StatusCode, b)
			continue
		}
		got := decode(t, b)
		want := decode(t, c.BodyJSON)
		if err := sameShape(got, want, name); err != nil {
			t.Errorf("%s: %v\n%s", name, err, b)
		}
		ge, _ := got.(*api.Object).Get("error")
		we, _ := want.(*api.Object).Get("error")
		for _, k := range []string{"type", "message", "details"} {
			g, _ := ge.(*api.Object).Get(k)
			w, _ := we.(*api.Object).Get(k)
			if g != w {
				t.Errorf("%s: error.%s = %v, want %v", name, k, g, w)
			}
		}
	}
	// ComfyUI answers these two with a bare 500 (post_prompt_error_invalid_json.json,
	// post_prompt_error_prompt_not_dict.json); comfyd says what was wrong, as a 400.
	for _, name := range []string{"post_prompt_error_invalid_json.json", "post_prompt_error_prompt_not_dict.json"} {
		c := loadCapture(t, name)
		if c.Status != 500 {
			t.Errorf("%s: capture status %d", name, c.Status)
		}
		body := c.Request.JSON
		if body == nil {
			body = c.Request.Data
		}
		resp, b := e.do("POST", "/prompt", body)
		if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != jsonType {
			t.Errorf("%s: %d %s", name, resp.StatusCode, b)
			continue
		}
		o := decode(t, b).(*api.Object)
		er, _ := o.Get("error")
		if typ, _ := er.(*api.Object).Get("type"); typ != api.ErrInvalidRequest {
			t.Errorf("%s: %s", name, b)
		}
	}
}

func TestPostPromptSuccess(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	// text/plain, as one SDK sends it.
	resp, b := e.do("POST", "/api/prompt", `{"prompt": `+goodPrompt+`, "client_id": "c1", "prompt_id": "my-id"}`, "Content-Type", "text/plain;charset=UTF-8")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if string(b) != `{"prompt_id":"my-id","number":0,"node_errors":{}}` {
		t.Errorf("response %s", b)
	}
	// number → float echoed; front → negative counter; prompt_id null → "None".
	_, b = e.do("POST", "/prompt", `{"prompt": `+goodPrompt+`, "number": 5}`)
	if !strings.Contains(string(b), `"number":5.0`) {
		t.Errorf("number: %s", b)
	}
	_, b = e.do("POST", "/prompt", `{"prompt": `+goodPrompt+`, "front": true}`)
	if !strings.Contains(string(b), `"number":-1`) {
		t.Errorf("front: %s", b)
	}
	_, b = e.do("POST", "/prompt", `{"prompt": `+goodPrompt+`, "prompt_id": null}`)
	if !strings.Contains(string(b), `"prompt_id":"None"`) {
		t.Errorf("prompt_id null: %s", b)
	}
	_, b = e.do("POST", "/prompt", `{"prompt": `+goodPrompt+`}`)
	var r struct {
		PromptID string `json:"prompt_id"`
	}
	json.Unmarshal(b, &r)
	if len(r.PromptID) != 36 || r.PromptID[14] != '4' {
		t.Errorf("generated id %q", r.PromptID)
	}
	// Validation failures: 400 with node_errors; partial targets [] → no outputs.
	resp, b = e.do("POST", "/prompt", `{"prompt": {"1": {"class_type": "TestSource", "inputs": {"value": 30}}, "2": {"class_type": "TestSave", "inputs": {"images": ["1", 0], "mode": "z"}}}}`)
	if resp.StatusCode != 400 || !strings.Contains(string(b), "prompt_outputs_failed_validation") || !strings.Contains(string(b), "value_bigger_than_max") {
		t.Errorf("invalid: %d %s", resp.StatusCode, b)
	}
	resp, b = e.do("POST", "/prompt", `{"prompt": `+goodPrompt+`, "partial_execution_targets": []}`)
	if resp.StatusCode != 400 || !strings.Contains(string(b), "prompt_no_outputs") {
		t.Errorf("empty targets: %d %s", resp.StatusCode, b)
	}
	// Every accepted prompt ends in history; secrets are stripped there.
	_, b = e.do("POST", "/prompt", `{"prompt": `+goodPrompt+`, "prompt_id": "secret", "extra_data": {"api_key_comfy_org": "k", "extra_pnginfo": {"workflow": {}}}}`)
	waitFor(t, "history", func() bool { _, ok := e.q.HistoryItem("secret"); return ok })
	_, b = e.do("GET", "/history/secret", nil)
	if strings.Contains(string(b), "api_key_comfy_org") || !strings.Contains(string(b), "extra_pnginfo") {
		t.Errorf("history extra_data: %s", b)
	}
	h := loadCapture(t, "get_history_id.json")
	got := decode(t, b).(*api.Object)
	want := decode(t, h.BodyJSON).(*api.Object)
	ge, _ := got.Get("secret")
	we, _ := want.Get(want.Keys()[0])
	for _, k := range []string{"prompt", "outputs", "status", "meta"} {
		if !ge.(*api.Object).Has(k) {
			t.Errorf("history entry lacks %s", k)
		}
	}
	gs, _ := ge.(*api.Object).Get("status")
	ws, _ := we.(*api.Object).Get("status")
	if err := sameShape(gs, ws, "status"); err != nil {
		t.Error(err)
	}
}

func TestQueueAndHistoryRoutes(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	e.exec.delay = 300e6 // hold the first prompt so others stay pending
	ws := e.dial("?clientId=q")
	ws.next()
	for _, id := range []string{"p1", "p2", "p3"} {
		e.do("POST", "/prompt", `{"prompt": `+goodPrompt+`, "prompt_id": "`+id+`", "client_id": "q"}`)
	}
	waitFor(t, "p1 running", func() bool { return len(e.q.Running()) == 1 })
	_, b := e.do("GET", "/queue", nil)
	o := decode(t, b).(*api.Object)
	run, _ := o.Get("queue_running")
	pend, _ := o.Get("queue_pending")
	if len(run.([]any)) != 1 || len(pend.([]any)) != 2 {
		t.Fatalf("queue %s", b)
	}
	item := run.([]any)[0].([]any)
	if len(item) != 5 || item[1] != "p1" {
		t.Errorf("queue item %v", item)
	}
	e.do("POST", "/prompt", `{"prompt": `+goodPrompt+`, "prompt_id": "p4", "extra_data": {"auth_token_comfy_org": "tok"}}`)
	if _, b := e.do("GET", "/queue", nil); strings.Contains(string(b), "auth_token_comfy_org") {
		t.Errorf("secret shown in /queue: %s", b)
	}
	e.do("POST", "/queue", `{"delete": ["p4"]}`)
	// Deleting a pending item broadcasts status.
	e.do("POST", "/queue", `{"delete": ["p3"]}`)
	ws.until(api.EventStatus, "", func(d *api.Object) bool {
		st, _ := d.Get("status")
		ei, _ := st.(*api.Object).Get("exec_info")
		qr, _ := ei.(*api.Object).Get("queue_remaining")
		return qr == json.Number("2")
	})
	e.do("POST", "/interrupt", `{"prompt_id": "p1"}`)
	waitFor(t, "two done", func() bool { return len(e.q.History(nil, nil)) == 2 })
	_, b = e.do("GET", "/history?max_items=1", nil)
	if o := decode(t, b).(*api.Object); len(o.Keys()) != 1 || o.Keys()[0] != "p2" {
		t.Errorf("max_items=1: %s", b)
	}
	_, b = e.do("GET", "/history?max_items=1&offset=0", nil)
	if o := decode(t, b).(*api.Object); len(o.Keys()) != 1 || o.Keys()[0] != "p1" {
		t.Errorf("max_items=1&offset=0: %v", o.Keys())
	}
	p1, _ := e.q.HistoryItem("p1")
	if p1.Status.StatusStr != "error" || p1.Status.Completed {
		t.Errorf("interrupted p1: %+v", p1.Status)
	}
	if resp, _ := e.do("GET", "/history?max_items=x", nil); resp.StatusCode != 400 {
		t.Errorf("bad max_items: %d", resp.StatusCode)
	}
	e.do("POST", "/history", `{"delete": ["p1"]}`)
	_, b = e.do("GET", "/history", nil)
	if o := decode(t, b).(*api.Object); strings.Join(o.Keys(), ",") != "p2" {
		t.Errorf("after delete: %v", o.Keys())
	}
	e.do("POST", "/history", `{"clear": true}`)
	if _, b = e.do("GET", "/history", nil); string(b) != "{}" {
		t.Errorf("after clear: %s", b)
	}
}

// FuzzPromptBody: any body gives a 200 or a 4xx JSON answer, never a panic
// or a 500.
func FuzzPromptBody(f *testing.F) {
	for _, s := range []string{goodPrompt, `{"prompt": ` + goodPrompt + `}`, `{"prompt": [1,2]}`, `{not json`, `[]`, `null`,
		`{"prompt": {}, "number": "x"}`, `{"prompt": {"1": {"class_type": 5}}}`, `{"prompt": {"1": null}}`,
		`{"prompt": ` + goodPrompt + `, "partial_execution_targets": "2", "extra_data": 3}`,
		`{"prompt": {"1": {"class_type": "TestSave", "inputs": {"images": ["1", 0], "mode": "a"}}}}`,
		`{"prompt": {"a": {"class_type": "TestSave", "inputs": {"images": ["b", 99], "mode": ["x"]}}}, "front": 1, "number": 1e400}`} {
		f.Add([]byte(s))
	}
	e := newEnv(f, nil, nil, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, err := parsePromptRequest(body); err != nil {
			if he, ok := err.(*httpError); !ok || he.status != 400 {
				t.Fatalf("parse error %v", err)
			}
		}
		resp, err := e.http.Client().Post(e.url("/prompt"), "text/plain", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 && resp.StatusCode != 400 {
			t.Fatalf("%q: %d %s", body, resp.StatusCode, b)
		}
		if _, err := api.Decode(b); err != nil {
			t.Fatalf("%q: answer is not JSON: %s", body, b)
		}
	})
}

// Stopping mid-prompt leaves the prompt marked running (the durable queue
// runs it again first after a restart) instead of writing an interrupted
// entry to history.
func TestCloseMidPromptKeepsItRunning(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	e.exec.delay = 5 * time.Second
	e.do("POST", "/prompt", `{"prompt": `+goodPrompt+`, "prompt_id": "long"}`)
	waitFor(t, "running", func() bool { return len(e.q.Running()) == 1 })
	e.srv.Close()
	if r := e.q.Running(); len(r) != 1 || r[0].PromptID != "long" {
		t.Errorf("running after close: %v", r)
	}
	if _, ok := e.q.HistoryItem("long"); ok {
		t.Error("an interrupted entry was written at shutdown")
	}
}
