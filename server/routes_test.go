package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/comfyd/comfyd/api"
)

// prepareLikeCaptures puts the files the captures refer to in place.
func (e *testEnv) prepareLikeCaptures() {
	png, err := os.ReadFile(capturesDir + "test_input.png")
	if err != nil {
		e.t.Skip("captures not available")
	}
	e.writeFile("input/test_input.png", png)
	c := loadCapture(e.t, "get_view_output_png.json")
	e.writeFile("output/ref_invert_00001_.png", b64(e.t, *c.BodyBase64))
	e.writeFile("user/default/workflows/ref_test.json", []byte(`{"nodes": [], "links": []}`))
	e.writeFile("user/default/comfy.settings.json", []byte(`{"Comfy.TestSetting": "hello"}`))
	// A safetensors file with metadata.
	hdr := []byte(`{"__metadata__":{"format":"pt","note":"x"},"w":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}`)
	var st bytes.Buffer
	n := uint64(len(hdr))
	for i := 0; i < 8; i++ {
		st.WriteByte(byte(n >> (8 * i)))
	}
	st.Write(hdr)
	st.Write([]byte{0, 0})
	e.writeFile("models/checkpoints/sd15_random_fp16.safetensors", st.Bytes())
}

// Every GET capture: same status, content type and body shape, bare and
// under /api/.
func TestGetRoutesMatchCaptures(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	e.prepareLikeCaptures()
	for _, name := range []string{
		"get_features.json", "get_system_stats.json", "get_api_system_stats.json", "get_nonexistent_route.json", "get_queue.json", "get_api_queue.json",
		"get_prompt.json", "get_models.json", "get_models_unknown.json", "get_models_checkpoints.json", "get_models_loras.json",
		"get_embeddings.json", "get_extensions.json", "get_i18n.json", "get_workflow_templates.json",
		"get_object_info_unknown.json", "get_history_unknown_id.json",
		"get_view_bad_type.json", "get_view_traversal.json", "get_view_missing.json", "get_view_no_filename.json",
		"get_view_input_png.json", "get_view_output_png.json", "get_view_channel_a.json", "get_view_channel_rgb.json",
		"get_view_preview_webp.json", "get_view_metadata_checkpoint.json", "get_view_metadata_missing.json",
		"get_userdata_file.json", "get_userdata_file_missing.json", "get_userdata_missing_dir.json",
		"get_userdata_no_dir.json", "get_userdata_workflows.json", "get_userdata_workflows_recurse_full.json",
		"get_v2_userdata.json", "get_v2_userdata_workflows.json", "get_settings.json", "get_settings_id.json",
		"get_users.json", "get_experiment_models.json", "get_experiment_models_checkpoints.json",
		"get_internal_folder_paths.json", "get_internal_files_input.json",
	} {
		c := loadCapture(t, name)
		paths := []string{c.Request.Path}
		if !strings.HasPrefix(c.Request.Path, "/internal/") && !strings.HasPrefix(c.Request.Path, "/api/") && c.Status != 404 {
			paths = append(paths, "/api"+c.Request.Path)
		}
		for _, p := range paths {
			resp, body := e.do("GET", p, nil)
			if resp.StatusCode != c.Status {
				t.Errorf("%s %s: status %d, want %d (%s)", name, p, resp.StatusCode, c.Status, body)
				continue
			}
			if want := c.Headers["Content-Type"]; resp.Header.Get("Content-Type") != want {
				t.Errorf("%s %s: content type %q, want %q", name, p, resp.Header.Get("Content-Type"), want)
			}
			if cd := c.Headers["Content-Disposition"]; cd != "" && resp.Header.Get("Content-Disposition") != cd {
				t.Errorf("%s: disposition %q want %q", name, resp.Header.Get("Content-Disposition"), cd)
			}
			switch {
			case c.BodyJSON != nil:
				if err := sameShape(decode(t, body), decode(t, c.BodyJSON), name); err != nil {
					t.Errorf("%s %s: %v\n got %s", name, p, err, body)
				}
			case c.BodyText != nil:
				if string(body) != *c.BodyText && !strings.HasPrefix(c.Headers["Content-Type"], "text/html") {
					t.Errorf("%s %s: body %q, want %q", name, p, body, *c.BodyText)
				}
			case c.BodyBase64 != nil:
				want := b64(t, *c.BodyBase64)
				if len(want) == 0 && len(body) != 0 {
					t.Errorf("%s: body %q, want empty", name, body)
				}
				if len(want) > 0 && c.Headers["Etag"] != "" && !bytes.Equal(body, want) {
					t.Errorf("%s: file body differs", name)
				}
				if len(want) > 0 && !bytes.Equal(body[:4], want[:4]) {
					t.Errorf("%s: body starts %q, want %q", name, body[:4], want[:4])
				}
			}
		}
	}
}

func TestFixedValues(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	_, b := e.do("GET", "/system_stats", nil)
	o := decode(t, b).(*api.Object)
	sys, _ := o.Get("system")
	for k, want := range map[string]any{"os": "posix", "comfyui_version": "0.3.64", "embedded_python": false} {
		if v, _ := sys.(*api.Object).Get(k); v != want {
			t.Errorf("system.%s = %v, want %v", k, v, want)
		}
	}
	devs, _ := o.Get("devices")
	dev := devs.([]any)[0].(*api.Object)
	if n, _ := dev.Get("name"); n != "cpu" {
		t.Errorf("device name %v", n)
	}
	if ix, ok := dev.Get("index"); !ok || ix != nil {
		t.Errorf("device index %v", ix)
	}
	if rt, _ := sys.(*api.Object).Get("ram_total"); rt == json.Number("0") {
		t.Error("ram_total is 0: /proc/meminfo not read")
	}
	_, b = e.do("GET", "/features", nil)
	if string(b) != `{"supports_preview_metadata":true,"max_upload_size":104857600}` {
		t.Errorf("features %s", b)
	}
	// The quirk: given on the command line, max_upload_size becomes a float.
	e2 := newEnv(t, []string{"--max-upload-size", "50"}, nil, nil)
	_, b = e2.do("GET", "/features", nil)
	if string(b) != `{"supports_preview_metadata":true,"max_upload_size":52428800.0}` {
		t.Errorf("features with flag %s", b)
	}
	_, b = e.do("GET", "/prompt", nil)
	if string(b) != `{"exec_info":{"queue_remaining":0}}` {
		t.Errorf("prompt %s", b)
	}
}

func TestObjectInfo(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	_, b := e.do("GET", "/object_info", nil)
	o := decode(t, b).(*api.Object)
	if strings.Join(o.Keys(), ",") != "TestSource,TestSave" {
		t.Errorf("registry order: %v", o.Keys())
	}
	_, b = e.do("GET", "/api/object_info/TestSave", nil)
	o = decode(t, b).(*api.Object)
	info, _ := o.Get("TestSave")
	if info == nil {
		t.Fatalf("object_info/TestSave: %s", b)
	}
	if on, _ := info.(*api.Object).Get("output_node"); on != true {
		t.Errorf("output_node %v", on)
	}
	// Same entry as Spec.Info.
	d, _ := testRegistry().Get("TestSave")
	if want := api.MustMarshal(api.ObjectOf("TestSave", d.Spec.Info(e.paths))); !bytes.Equal(b, want) {
		t.Errorf("got %s want %s", b, want)
	}
	_, b = e.do("GET", "/object_info/Nope", nil)
	if string(b) != "{}" {
		t.Errorf("unknown class: %s", b)
	}
}

func TestRouterBasics(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	resp, b := e.do("GET", "/no/such/route", nil)
	if resp.StatusCode != 404 || string(b) != "404: Not Found" || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("404: %d %q %q", resp.StatusCode, b, resp.Header.Get("Content-Type"))
	}
	resp, _ = e.do("DELETE", "/prompt", nil)
	if resp.StatusCode != 405 {
		t.Errorf("wrong method: %d", resp.StatusCode)
	}
	resp, b = e.do("HEAD", "/system_stats", nil)
	if resp.StatusCode != 200 || len(b) != 0 || resp.Header.Get("Content-Type") != jsonType {
		t.Errorf("HEAD: %d %q", resp.StatusCode, b)
	}
	// / and /api/ serve the UI with no-cache headers.
	for _, p := range []string{"/", "/api/"} {
		resp, b = e.do("GET", p, nil)
		if resp.StatusCode != 200 || !bytes.Contains(bytes.ToLower(b), []byte("<html")) || resp.Header.Get("Cache-Control") != "no-cache" ||
			resp.Header.Get("Pragma") != "no-cache" || resp.Header.Get("Expires") != "0" {
			t.Errorf("%s: %d %v", p, resp.StatusCode, resp.Header)
		}
	}
	// Unknown query parameters are ignored.
	resp, _ = e.do("GET", "/queue?clientId=x&token=y&whatever=1", nil)
	if resp.StatusCode != 200 {
		t.Errorf("extra query params: %d", resp.StatusCode)
	}
	// Path parameters are percent-decoded after matching one raw segment.
	e.writeFile("user/default/workflows/a b.json", []byte(`{"x":1}`))
	resp, b = e.do("GET", "/api/userdata/workflows%2Fa%20b.json", nil)
	if resp.StatusCode != 200 || string(b) != `{"x":1}` {
		t.Errorf("percent-decoded param: %d %s", resp.StatusCode, b)
	}
}

func TestCacheControlTable(t *testing.T) {
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/a.js", 200, "no-cache"}, {"/x/style.css", 404, "no-cache"}, {"/templates/index.json", 200, "no-cache"},
		{"/templates/index.zh.json", 200, "no-cache"}, {"/other.json", 200, ""},
		{"/img.PNG", 200, "public, max-age=86400"}, {"/a.webp", 206, "public, max-age=86400"}, {"/a.jpg", 404, "public, max-age=3600"},
		{"/a.tiff", 301, "public, max-age=86400"}, {"/a.jpeg", 302, "no-cache"}, {"/a.bmp", 304, ""}, {"/view", 200, ""},
	} {
		if got := cacheControlFor(tc.path, tc.status); got != tc.want {
			t.Errorf("%s %d: %q want %q", tc.path, tc.status, got, tc.want)
		}
	}
	e := newEnv(t, nil, nil, nil)
	resp, _ := e.do("GET", "/missing.png", nil)
	if resp.Header.Get("Cache-Control") != "public, max-age=3600" {
		t.Errorf("static 404 image: %q", resp.Header.Get("Cache-Control"))
	}
	resp, _ = e.do("GET", "/view?filename=x.png", nil) // only the path counts
	if resp.Header.Get("Cache-Control") != "" {
		t.Errorf("/view: %q", resp.Header.Get("Cache-Control"))
	}
}

func TestInternalRoutes(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	e.srv.log.Info("hello from the test")
	_, b := e.do("GET", "/internal/logs", nil)
	var s string
	if err := json.Unmarshal(b, &s); err != nil || !strings.Contains(s, " - hello from the test\n") {
		t.Errorf("logs: %s", b)
	}
	_, b = e.do("GET", "/internal/logs/raw", nil)
	o := decode(t, b).(*api.Object)
	if sz, _ := o.Get("size"); string(api.MustMarshal(sz)) != `{"cols":80,"rows":24}` {
		t.Errorf("size %s", api.MustMarshal(sz))
	}
	resp, _ := e.do("GET", "/api/internal/logs", nil)
	if resp.StatusCode != 404 {
		t.Errorf("/internal has no /api alias: %d", resp.StatusCode)
	}
	resp, b = e.do("GET", "/internal/files/bogus", nil)
	if resp.StatusCode != 400 || string(b) != `{"error":"Invalid directory type"}` {
		t.Errorf("bad type: %d %s", resp.StatusCode, b)
	}
	e.writeFile("output/a.png", []byte("a"))
	e.writeFile("output/.hidden", []byte("a"))
	os.Chtimes(filepath.Join(e.base, "output/a.png"), timeAgo(10), timeAgo(10))
	e.writeFile("output/b.png", []byte("b"))
	_, b = e.do("GET", "/internal/files/output", nil)
	if string(b) != `["b.png","a.png"]` {
		t.Errorf("files newest first: %s", b)
	}
	resp, _ = e.do("PATCH", "/internal/logs/subscribe", map[string]any{"clientId": "x", "enabled": true})
	if resp.StatusCode != 200 {
		t.Errorf("subscribe: %d", resp.StatusCode)
	}
}

func TestModelsRoutes(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	e.writeFile("models/embeddings/sub/style1.pt", []byte("x"))
	e.writeFile("models/embeddings/easynegative.safetensors", []byte("x"))
	_, b := e.do("GET", "/embeddings", nil)
	if string(b) != `["easynegative","sub/style1"]` {
		t.Errorf("embeddings %s", b)
	}
	for _, legacy := range []string{"clip", "unet"} {
		if resp, _ := e.do("GET", "/models/"+legacy, nil); resp.StatusCode != 404 {
			t.Errorf("legacy %s: %d", legacy, resp.StatusCode)
		}
	}
	e.writeFile("models/loras/a.safetensors", []byte("x"))
	e.writeFile("models/loras/.hidden.safetensors", []byte("x"))
	_, b = e.do("GET", "/experiment/models/loras", nil)
	list := decode(t, b).([]any)
	if len(list) != 1 {
		t.Fatalf("experiment list %s", b)
	}
	if n, _ := list[0].(*api.Object).Get("name"); n != "a.safetensors" {
		t.Errorf("name %v", n)
	}
	if resp, _ := e.do("GET", "/experiment/models/nope", nil); resp.StatusCode != 404 {
		t.Errorf("unknown folder %d", resp.StatusCode)
	}
	// Model preview: <stem>.png next to the model, as WebP.
	png, _ := os.ReadFile(capturesDir + "test_input.png")
	if png != nil {
		e.writeFile("models/loras/a.png", png)
		resp, b := e.do("GET", "/experiment/models/preview/loras/0/a.safetensors", nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/webp" || !bytes.HasPrefix(b, []byte("RIFF")) {
			t.Errorf("preview: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	if resp, _ := e.do("GET", "/experiment/models/preview/loras/0/none.safetensors", nil); resp.StatusCode != 404 {
		t.Errorf("missing preview %d", resp.StatusCode)
	}
	if resp, _ := e.do("GET", "/experiment/models/preview/loras/0/..%2F..%2Fx.safetensors", nil); resp.StatusCode != 403 {
		t.Errorf("escaping preview %d", resp.StatusCode)
	}
}

func TestTemplatesAndI18n(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	e.writeFile("custom_nodes/ExtA/example_workflows/w1.json", []byte(`{}`))
	e.writeFile("custom_nodes/ExtB/locales/en/main.json", []byte(`{"title":"B","x":{"a":1}}`))
	e.writeFile("custom_nodes/ExtC/locales/en/main.json", []byte(`{"x":{"b":2}}`))
	e.writeFile("custom_nodes/ExtC/locales/en/nodeDefs.json", []byte(`{"N":{"display_name":"n"}}`))
	e.writeFile("custom_nodes/ExtC/locales/en/settings.json", []byte(`not json`))
	_, b := e.do("GET", "/workflow_templates", nil)
	if string(b) != `{"ExtA":["w1"]}` {
		t.Errorf("templates %s", b)
	}
	_, b = e.do("GET", "/i18n", nil)
	if string(b) != `{"en":{"title":"B","x":{"a":1,"b":2},"nodeDefs":{"N":{"display_name":"n"}}}}` {
		t.Errorf("i18n %s", b)
	}
}

func TestMethodsReturnEmpty200(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	for _, tc := range []struct {
		path string
		body any
	}{
		{"/interrupt", nil}, {"/interrupt", "{}"}, {"/interrupt", `{"prompt_id":"x"}`}, {"/interrupt", "not json"},
		{"/queue", `{"clear": true}`}, {"/queue", `{"delete": ["nonexistent"]}`},
		{"/history", `{"clear": true}`}, {"/free", `{"unload_models": true, "free_memory": true}`},
	} {
		resp, b := e.do("POST", tc.path, tc.body, "Content-Type", "text/plain;charset=UTF-8")
		if resp.StatusCode != 200 || len(b) != 0 {
			t.Errorf("POST %s %v: %d %q", tc.path, tc.body, resp.StatusCode, b)
		}
	}
	waitFor(t, "free applied", func() bool {
		e.exec.mu.Lock()
		defer e.exec.mu.Unlock()
		return len(e.exec.freed) == 2 && e.exec.freed[0] && e.exec.freed[1]
	})
}

func timeAgo(sec int) time.Time { return time.Now().Add(-time.Duration(sec) * time.Second) }

// POST captures: status, content type and body shape.
func TestPostRoutesMatchCaptures(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	for _, name := range []string{"post_interrupt.json", "post_free.json", "post_queue_clear.json", "post_queue_delete.json",
		"post_users.json", "post_userdata_file.json", "post_settings_id.json"} {
		c := loadCapture(t, name)
		var body any = c.Request.Data
		if c.Request.JSON != nil {
			body = api.MustMarshal(c.Request.JSON)
		}
		resp, b := e.do("POST", c.Request.Path, body)
		if resp.StatusCode != c.Status || resp.Header.Get("Content-Type") != c.Headers["Content-Type"] {
			t.Errorf("%s: %d %q, want %d %q", name, resp.StatusCode, resp.Header.Get("Content-Type"), c.Status, c.Headers["Content-Type"])
		}
		if c.BodyJSON != nil {
			if err := sameShape(decode(t, b), decode(t, c.BodyJSON), name); err != nil {
				t.Error(err)
			}
		} else if len(b) != 0 {
			t.Errorf("%s: body %q, want empty", name, b)
		}
	}
}

// --front-end-root serves a folder instead of the embedded UI, without
// listings and without following links out of it.
func TestFrontEndRoot(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "index.html"), []byte("<html>custom</html>"), 0o644)
	os.MkdirAll(filepath.Join(root, "extensions", "core"), 0o755)
	os.WriteFile(filepath.Join(root, "extensions", "core", "a.js"), []byte("1"), 0o644)
	outside := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(outside, []byte("secret"), 0o644)
	os.Symlink(outside, filepath.Join(root, "leak.txt"))
	e := newEnv(t, []string{"--front-end-root", root}, nil, nil)
	if _, b := e.do("GET", "/", nil); string(b) != "<html>custom</html>" {
		t.Errorf("index %s", b)
	}
	if _, b := e.do("GET", "/extensions", nil); string(b) != `["/extensions/core/a.js"]` {
		t.Errorf("extensions %s", b)
	}
	resp, _ := e.do("GET", "/extensions/core/a.js", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-cache" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("static js %d %v", resp.StatusCode, resp.Header)
	}
	if resp, _ := e.do("GET", "/extensions/", nil); resp.StatusCode != 404 {
		t.Errorf("listing %d", resp.StatusCode)
	}
	if resp, _ := e.do("GET", "/leak.txt", nil); resp.StatusCode != 404 {
		t.Errorf("symlink out of the web root: %d", resp.StatusCode)
	}
}

func TestLogRing(t *testing.T) {
	var sink bytes.Buffer
	b := NewLogBuffer(&sink)
	for i := 0; i < LogCapacity+5; i++ {
		fmt.Fprintf(b, "line %d\n", i)
	}
	es := b.Entries()
	if len(es) != LogCapacity || es[0].M != "line 5\n" || es[len(es)-1].M != fmt.Sprintf("line %d\n", LogCapacity+4) {
		t.Errorf("ring: %d entries, first %q", len(es), es[0].M)
	}
	if !strings.HasPrefix(sink.String(), "line 0\n") {
		t.Error("not copied to the underlying writer")
	}
	if len(es[0].T) != len("2025-10-12T10:00:00.123456") {
		t.Errorf("timestamp %q", es[0].T)
	}
}
