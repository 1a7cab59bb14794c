package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/imageio"
)

func pngBytes(t testing.TB, w, h int, c color.NRGBA) []byte {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h; i++ {
		m.Pix[i*4], m.Pix[i*4+1], m.Pix[i*4+2], m.Pix[i*4+3] = c.R, c.G, c.B, c.A
	}
	var b bytes.Buffer
	png.Encode(&b, m)
	return b.Bytes()
}

// hugePNG is a tiny file whose header claims w×h pixels.
func hugePNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], 13)
	b.Write(l[:])
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.BigEndian.PutUint32(l[:], crc32.ChecksumIEEE(chunk))
	b.Write(l[:])
	return b.Bytes()
}

func (e *testEnv) upload(path string, fields map[string]string, name string, data []byte) (int, string) {
	ct, body := multipartBody(e.t, fields, name, data)
	resp, b := e.do("POST", path, body, "Content-Type", ct)
	return resp.StatusCode, string(b)
}

func TestUploadImage(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	red := pngBytes(t, 4, 4, color.NRGBA{255, 0, 0, 255})
	blue := pngBytes(t, 4, 4, color.NRGBA{0, 0, 255, 255})
	c := loadCapture(t, "post_upload_image.json")
	status, b := e.upload("/upload/image", map[string]string{"overwrite": "true"}, "test_input.png", red)
	if status != c.Status || sameShape(decode(t, []byte(b)), decode(t, c.BodyJSON), "upload") != nil || b != `{"name":"test_input.png","subfolder":"","type":"input"}` {
		t.Errorf("upload: %d %s", status, b)
	}
	// Same content again: reused, nothing written. Different content: numbered.
	if _, b = e.upload("/upload/image", nil, "test_input.png", red); !strings.Contains(b, `"name":"test_input.png"`) {
		t.Errorf("duplicate: %s", b)
	}
	if _, b = e.upload("/upload/image", nil, "test_input.png", blue); !strings.Contains(b, `"name":"test_input (1).png"`) {
		t.Errorf("numbered: %s", b)
	}
	if _, b = e.upload("/upload/image", nil, "test_input.png", pngBytes(t, 2, 2, color.NRGBA{0, 255, 0, 255})); !strings.Contains(b, `"name":"test_input (2).png"`) {
		t.Errorf("numbered 2: %s", b)
	}
	if _, b = e.upload("/upload/image", nil, "test_input.png", blue); !strings.Contains(b, `"name":"test_input (1).png"`) {
		t.Errorf("duplicate of a numbered file: %s", b)
	}
	// Overwrite with "1", subfolder and type.
	if _, b = e.upload("/api/upload/image", map[string]string{"overwrite": "1", "subfolder": "pasted", "type": "temp"}, "x.png", red); b != `{"name":"x.png","subfolder":"pasted","type":"temp"}` {
		t.Errorf("subfolder: %s", b)
	}
	if _, err := os.Stat(filepath.Join(e.base, "temp", "pasted", "x.png")); err != nil {
		t.Error(err)
	}
	nf := loadCapture(t, "post_upload_image_no_file.json")
	if status, b = e.upload("/upload/image", map[string]string{"overwrite": "true"}, "", nil); status != nf.Status || b != "" {
		t.Errorf("no file: %d %s", status, b)
	}
	for _, sub := range []string{"../x", "/etc", "a/../../b"} {
		if status, _ = e.upload("/upload/image", map[string]string{"subfolder": sub}, "y.png", red); status != 400 {
			t.Errorf("subfolder %q: %d", sub, status)
		}
	}
	if status, _ = e.upload("/upload/image", map[string]string{"type": "models"}, "y.png", red); status != 400 {
		t.Errorf("bad type: %d", status)
	}
	// A symlinked subfolder that leads out of input/ is refused.
	out := t.TempDir()
	os.Symlink(out, filepath.Join(e.base, "input", "escape"))
	if status, _ = e.upload("/upload/image", map[string]string{"subfolder": "escape"}, "y.png", red); status != 400 {
		t.Errorf("symlink escape: %d", status)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Error("wrote through the link")
	}
	// Decompression bombs are refused from the header; oversize bodies → 413.
	if status, _ = e.upload("/upload/image", nil, "bomb.png", hugePNG(100000, 100000)); status != 413 {
		t.Errorf("bomb: %d", status)
	}
	small := newEnv(t, []string{"--max-upload-size", "0.001"}, nil, nil)
	if status, b = small.upload("/upload/image", nil, "big.bin", bytes.Repeat([]byte("x"), 4096)); status != 413 || !strings.Contains(b, "Maximum request body size 1049") {
		t.Errorf("too large: %d %s", status, b)
	}
	// Any file type is accepted, as in ComfyUI.
	if status, _ = e.upload("/upload/image", nil, "clip.mp4", []byte("not an image")); status != 200 {
		t.Errorf("non-image: %d", status)
	}
}

func TestUploadMask(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	m := imageio.NewImage8(3, 2, 3)
	for i := range m.Pix {
		m.Pix[i] = byte(10 * i)
	}
	var orig bytes.Buffer
	imageio.EncodePNG(&orig, m, imageio.PNGOptions{Before: []imageio.Chunk{imageio.TextChunk("prompt", `{"a": 1}`), imageio.TextChunk("workflow", "{}")}})
	e.writeFile("input/clipspace/orig.png", orig.Bytes())
	mask := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := 0; i < 6; i++ {
		mask.Pix[i*4+3] = byte(40 * i)
	}
	var mb bytes.Buffer
	png.Encode(&mb, mask)
	status, b := e.upload("/upload/mask", map[string]string{"type": "input", "subfolder": "clipspace",
		"original_ref": `{"filename": "orig.png", "subfolder": "clipspace", "type": "input"}`}, "clipspace-mask-1.png", mb.Bytes())
	if status != 200 || b != `{"name":"clipspace-mask-1.png","subfolder":"clipspace","type":"input"}` {
		t.Fatalf("mask: %d %s", status, b)
	}
	data, err := os.ReadFile(filepath.Join(e.base, "input", "clipspace", "clipspace-mask-1.png"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := imageio.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	px := d.Frames[0].RGBA.ToRGBA().Pix
	for i := 0; i < 6; i++ {
		if px[i*4] != m.Pix[i*3] || px[i*4+3] != byte(40*i) {
			t.Errorf("pixel %d: %v", i, px[i*4:i*4+4])
		}
	}
	texts, _ := imageio.ReadPNGText(bytes.NewReader(data))
	if tm := imageio.TextMap(texts); tm["prompt"] != `{"a": 1}` || tm["workflow"] != "{}" {
		t.Errorf("text chunks %v", texts)
	}
	// Bad references are refused; a missing original is a 404 (ComfyUI: 200, nothing written).
	for ref, want := range map[string]int{
		`{"filename": "../x.png", "type": "input"}`:                       400,
		`{"filename": "orig.png", "subfolder": "../..", "type": "input"}`: 403,
		`{"filename": "nope.png", "type": "input"}`:                       404,
		`not json`: 400,
	} {
		if status, _ := e.upload("/upload/mask", map[string]string{"original_ref": ref}, "m.png", mb.Bytes()); status != want {
			t.Errorf("ref %s: %d, want %d", ref, status, want)
		}
	}
}

func TestView(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	img := pngBytes(t, 8, 6, color.NRGBA{200, 100, 50, 128})
	e.writeFile("output/sub/a.png", img)
	e.writeFile("input/page.html", []byte("<script>alert(1)</script>"))
	e.writeFile("temp/t.png", img)
	check := func(q string, status int, ctype string) []byte {
		t.Helper()
		resp, b := e.do("GET", "/view?"+q, nil)
		if resp.StatusCode != status || (ctype != "" && resp.Header.Get("Content-Type") != ctype) {
			t.Errorf("%s: %d %q", q, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		return b
	}
	raw := check("filename=a.png&subfolder=sub", 200, "image/png")
	if !bytes.Equal(raw, img) {
		t.Error("raw file differs")
	}
	check("filename=t.png&type=temp", 200, "image/png")
	check("filename=t.png%20[temp]&type=bogus", 200, "image/png") // the annotation wins
	check("filename=x/../../a.png", 400, "")
	check("filename=/etc/passwd", 400, "")
	check("filename=a.png&subfolder=../../", 403, "")
	check("filename=page.html&type=input", 200, "application/octet-stream")
	a := check("filename=a.png&subfolder=sub&channel=a", 200, "image/png")
	am, _ := png.Decode(bytes.NewReader(a))
	if r, g, b, al := am.At(1, 1).RGBA(); r != 0 || g != 0 || b != 0 || al>>8 != 128 {
		t.Errorf("channel a pixel %v %v %v %v", r, g, b, al)
	}
	rgb := check("filename=a.png&subfolder=sub&channel=rgb", 200, "image/png")
	rm, _ := png.Decode(bytes.NewReader(rgb))
	if _, _, _, al := rm.At(0, 0).RGBA(); al != 0xffff {
		t.Error("channel rgb kept alpha")
	}
	if r, g, _, _ := rm.At(0, 0).RGBA(); r>>8 != 200 || g>>8 != 100 {
		t.Errorf("channel rgb colour %v %v (must not be premultiplied)", r>>8, g>>8)
	}
	if b := check("filename=a.png&subfolder=sub&preview=jpeg;50", 200, "image/jpeg"); !bytes.HasPrefix(b, []byte{0xff, 0xd8}) {
		t.Error("jpeg preview")
	}
	if b := check("filename=a.png&subfolder=sub&preview=bmp&channel=rgba", 200, "image/webp"); !bytes.HasPrefix(b, []byte("RIFF")) {
		t.Error("webp preview")
	}
	check("filename=page.html&type=input&preview=webp", 400, "")
	// Range and conditional requests on the raw file.
	resp, b := e.do("GET", "/view?filename=a.png&subfolder=sub", nil, "Range", "bytes=0-3")
	if resp.StatusCode != 206 || string(b) != "\x89PNG" {
		t.Errorf("range: %d %q", resp.StatusCode, b)
	}
	etag := resp.Header.Get("Etag")
	if resp, _ := e.do("GET", "/view?filename=a.png&subfolder=sub", nil, "If-None-Match", etag); resp.StatusCode != 304 {
		t.Errorf("etag %q: %d", etag, resp.StatusCode)
	}
	// Symlinks leaving the folder are refused.
	secret := filepath.Join(t.TempDir(), "secret.png")
	os.WriteFile(secret, img, 0o644)
	os.Symlink(secret, filepath.Join(e.base, "output", "link.png"))
	check("filename=link.png", 403, "")
	os.Symlink(filepath.Dir(secret), filepath.Join(e.base, "output", "dirlink"))
	check("filename=secret.png&subfolder=dirlink", 403, "")
	// A decompression bomb is refused before decoding.
	e.writeFile("output/bomb.png", hugePNG(60000, 60000))
	check("filename=bomb.png&channel=rgb", 400, "")
}

func TestUserdata(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	if _, b := e.do("GET", "/users", nil); b != nil && string(b) != `{"storage":"server","migrated":false}` {
		t.Errorf("users before: %s", b)
	}
	resp, b := e.do("POST", "/userdata/workflows%2Fa.json", `{"nodes": []}`)
	if resp.StatusCode != 200 || string(b) != `"workflows/a.json"` {
		t.Fatalf("post: %d %s", resp.StatusCode, b)
	}
	if _, b := e.do("GET", "/users", nil); string(b) != `{"storage":"server","migrated":true}` {
		t.Errorf("users after: %s", b)
	}
	if resp, b := e.do("POST", "/userdata/workflows%2Fa.json?overwrite=false", `{}`); resp.StatusCode != 409 || string(b) != "File already exists" {
		t.Errorf("no overwrite: %d %s", resp.StatusCode, b)
	}
	_, b = e.do("POST", "/userdata/workflows%2Fsub%2Fb.json?full_info=true", `{"b": 1}`)
	fi := decode(t, b).(*api.Object)
	if strings.Join(fi.Keys(), ",") != "path,size,modified,created" {
		t.Errorf("full_info %s", b)
	}
	e.writeFile("user/default/workflows/.hidden.json", []byte("{}"))
	_, b = e.do("GET", "/userdata?dir=workflows&recurse=true&split=true", nil)
	if string(b) != `[["a.json","a.json"],["sub/b.json","sub","b.json"]]` {
		t.Errorf("split: %s", b)
	}
	_, b = e.do("GET", "/userdata?dir=workflows", nil)
	if string(b) != `["a.json"]` {
		t.Errorf("non-recursive: %s", b)
	}
	if resp, b := e.do("GET", "/userdata?dir=..%2F..", nil); resp.StatusCode != 403 || string(b) != "Invalid directory" {
		t.Errorf("escape dir: %d %s", resp.StatusCode, b)
	}
	_, b = e.do("GET", "/v2/userdata?path=workflows", nil)
	v2 := decode(t, b).([]any)
	if len(v2) != 4 {
		t.Fatalf("v2: %s", b)
	}
	if first, _ := v2[0].(*api.Object).Get("type"); first != "directory" {
		t.Errorf("directories first: %s", b)
	}
	if p, _ := v2[3].(*api.Object).Get("path"); p != "workflows/sub/b.json" {
		t.Errorf("v2 paths relative to the user root: %s", b)
	}
	for q, want := range map[string]int{"path=nope": 404, "path=workflows%2Fa.json": 400, "path=..%2F..%2F": 400} {
		if resp, _ := e.do("GET", "/v2/userdata?"+q, nil); resp.StatusCode != want {
			t.Errorf("v2 %s: %d want %d", q, resp.StatusCode, want)
		}
	}
	resp, b = e.do("POST", "/userdata/workflows%2Fa.json/move/workflows%2Fc.json", nil)
	if resp.StatusCode != 200 || string(b) != `"workflows/c.json"` {
		t.Errorf("move: %d %s", resp.StatusCode, b)
	}
	e.do("POST", "/userdata/workflows%2Fd.json", `{}`)
	if resp, _ := e.do("POST", "/userdata/workflows%2Fc.json/move/workflows%2Fd.json?overwrite=false", nil); resp.StatusCode != 409 {
		t.Errorf("move no overwrite: %d", resp.StatusCode)
	}
	if resp, _ := e.do("POST", "/userdata/workflows%2Fc.json/move/..%2F..%2Fx.json", nil); resp.StatusCode != 403 {
		t.Errorf("move escape (ComfyUI: 500): %d", resp.StatusCode)
	}
	if resp, _ := e.do("DELETE", "/userdata/workflows%2Fc.json", nil); resp.StatusCode != 204 {
		t.Errorf("delete: %d", resp.StatusCode)
	}
	if resp, _ := e.do("DELETE", "/userdata/workflows%2Fc.json", nil); resp.StatusCode != 404 {
		t.Errorf("delete again: %d", resp.StatusCode)
	}
	if resp, _ := e.do("GET", "/userdata/..%2F..%2Fetc%2Fpasswd", nil); resp.StatusCode != 403 {
		t.Errorf("get escape: %d", resp.StatusCode)
	}
	// A percent sign left encoded is decoded once more (ComfyUI).
	if resp, b := e.do("GET", "/userdata/workflows%252Fd.json", nil); resp.StatusCode != 200 || string(b) != "{}" {
		t.Errorf("double-encoded: %d %s", resp.StatusCode, b)
	}
	// A symlink in the user folder that points out is not served.
	os.Symlink("/etc/passwd", filepath.Join(e.base, "user", "default", "pw"))
	if resp, _ := e.do("GET", "/userdata/pw", nil); resp.StatusCode != 403 {
		t.Errorf("symlink escape: %d", resp.StatusCode)
	}
}

func TestSettingsAndUsers(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	if _, b := e.do("GET", "/settings", nil); string(b) != "{}" {
		t.Errorf("empty settings %s", b)
	}
	c := loadCapture(t, "post_settings_id.json")
	if resp, b := e.do("POST", "/settings/Comfy.TestSetting", `"hello"`); resp.StatusCode != c.Status || len(b) != 0 {
		t.Errorf("post setting %d", resp.StatusCode)
	}
	e.do("POST", "/settings", `{"b": 2, "a": [1]}`)
	if _, b := e.do("GET", "/settings", nil); string(b) != `{"Comfy.TestSetting":"hello","b":2,"a":[1]}` {
		t.Errorf("settings %s", b)
	}
	if _, b := e.do("GET", "/settings/Comfy.TestSetting", nil); string(b) != `"hello"` {
		t.Errorf("setting %s", b)
	}
	if _, b := e.do("GET", "/settings/nope", nil); string(b) != "null" {
		t.Errorf("missing setting %s", b)
	}
	raw, _ := os.ReadFile(filepath.Join(e.base, "user", "default", "comfy.settings.json"))
	if !strings.Contains(string(raw), "\n    \"b\": 2") {
		t.Errorf("settings file not indented by 4: %s", raw)
	}
	resp, b := e.do("POST", "/users", `{"username": "Alice B!"}`)
	if resp.StatusCode != 200 || !strings.HasPrefix(string(b), `"Alice-B-_`) || len(b) != len(`"Alice-B-_`)+36+1 {
		t.Errorf("post users %d %s", resp.StatusCode, b)
	}
	if resp, b := e.do("POST", "/users", `{"username": "Alice B!"}`); resp.StatusCode != 400 || string(b) != `{"error":"Duplicate username."}` {
		t.Errorf("duplicate %d %s", resp.StatusCode, b)
	}
	// Multi-user: the comfy-user header selects a known user.
	os.WriteFile(filepath.Join(e.base, "user", "users.json"), []byte(`{"bob_1": "bob"}`), 0o644)
	m := newEnv(t, []string{"--multi-user", "--user-directory", filepath.Join(e.base, "user")}, nil, nil)
	if resp, _ := m.do("GET", "/settings", nil, "comfy-user", "eve"); resp.StatusCode != 401 {
		t.Errorf("unknown user settings: %d", resp.StatusCode)
	}
	if resp, _ := m.do("POST", "/userdata/x.json", "{}", "comfy-user", "bob_1"); resp.StatusCode != 200 {
		t.Errorf("bob: %d", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(e.base, "user", "bob_1", "x.json")); err != nil {
		t.Error(err)
	}
	if _, b := m.do("GET", "/users", nil); !strings.Contains(string(b), `"users":{"bob_1":"bob"}`) {
		t.Errorf("multi users %s", b)
	}
	if resp, _ := m.do("GET", "/v2/userdata", nil, "comfy-user", "../x"); resp.StatusCode != 403 {
		t.Errorf("bad user v2: %d", resp.StatusCode)
	}
}

// FuzzUpload: any multipart body gives a 200 or 4xx, and nothing is ever
// written outside input/.
func FuzzUpload(f *testing.F) {
	png := pngBytes(f, 2, 2, color.NRGBA{1, 2, 3, 255})
	for _, s := range []struct{ sub, name, typ string }{{"", "a.png", ""}, {"../x", "b.png", "input"}, {"s", "../c.png", "temp"}, {"%2e%2e", "d", "output"}, {"a/b", "e.png", "bogus"}} {
		ct, body := multipartBody(f, map[string]string{"subfolder": s.sub, "type": s.typ}, s.name, png)
		f.Add(ct, body)
	}
	f.Add("multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"image\"; filename=\"z.png\"\r\n\r\nabc\r\n--x--\r\n"))
	f.Add("text/plain", []byte("hello"))
	e := newEnv(f, nil, nil, nil)
	outside := filepath.Dir(e.base)
	before, _ := os.ReadDir(outside)
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		req, err := newRequest("POST", e.url("/upload/image"), body)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req = req.WithContext(ctx)
		req.Header.Set("Content-Type", ct)
		resp, err := e.http.Client().Do(req)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("request hung: ct=%q body=%q", ct, body)
			}
			return // a header the client refuses to send
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("status %d for %q", resp.StatusCode, body)
		}
		if after, _ := os.ReadDir(outside); len(after) != len(before) {
			t.Fatalf("something was written beside the base directory")
		}
		// Keep the folders small: numbering is linear in existing names.
		for _, d := range []string{"input", "temp", "output"} {
			os.RemoveAll(filepath.Join(e.base, d))
			os.MkdirAll(filepath.Join(e.base, d), 0o755)
		}
	})
}
