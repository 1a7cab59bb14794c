package server

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/comfyd/comfyd/api"
)

func TestWSGreeting(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	ws := e.dial("")
	typ, d, raw := ws.next()
	if typ != api.EventStatus {
		t.Fatalf("first message %s", raw)
	}
	sid, _ := d.(*api.Object).Get("sid")
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(sid.(string)) {
		t.Errorf("generated sid %q", sid)
	}
	c := loadCapture(t, "ws_image_workflow.jsonl"[:0]+"get_features.json")
	_ = c
	if !strings.HasPrefix(string(raw), `{"type":"status","data":{"status":{"exec_info":{"queue_remaining":0}},"sid":"`) {
		t.Errorf("greeting %s", raw)
	}
	ws2 := e.dial("?clientId=my-client")
	_, d, _ = ws2.next()
	if sid, _ := d.(*api.Object).Get("sid"); sid != "my-client" {
		t.Errorf("clientId sid %v", sid)
	}
	// The same route under /api.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c3, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.http.URL, "http")+"/api/ws?clientId=z", nil)
	if err != nil {
		t.Fatal(err)
	}
	c3.CloseNow()
}

func TestWSFeatureFlags(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	ws := e.dial("?clientId=ff")
	ws.next()
	if e.srv.hub.SupportsPreviewMetadata("ff") {
		t.Fatal("supports before negotiation")
	}
	ws.c.Write(ws.ctx, websocket.MessageText, []byte("not json")) // ignored, does not count
	ws.c.Write(ws.ctx, websocket.MessageBinary, []byte{1, 2, 3})  // ignored
	ws.send(map[string]any{"type": "feature_flags", "data": map[string]any{"supports_preview_metadata": true, "x": 1}})
	typ, _, raw := ws.next()
	if typ != api.EventFeatureFlags || string(raw) != `{"type":"feature_flags","data":{"supports_preview_metadata":true,"max_upload_size":104857600}}` {
		t.Errorf("reply %s", raw)
	}
	if !e.srv.hub.SupportsPreviewMetadata("ff") {
		t.Error("negotiation not stored")
	}
	// Only once per connection: a second object frame changes nothing.
	ws.send(map[string]any{"type": "feature_flags", "data": map[string]any{"supports_preview_metadata": false}})
	e.srv.hub.Send("ff", api.Message{Type: "probe", Data: 1})
	if typ, _, _ := ws.next(); typ != "probe" {
		t.Errorf("second negotiation answered: %s", typ)
	}
	if !e.srv.hub.SupportsPreviewMetadata("ff") {
		t.Error("second negotiation applied")
	}
	// "true" as a string is not true.
	ws2 := e.dial("?clientId=ff2")
	ws2.next()
	ws2.send(map[string]any{"type": "feature_flags", "data": map[string]any{"supports_preview_metadata": "true"}})
	ws2.next()
	if e.srv.hub.SupportsPreviewMetadata("ff2") {
		t.Error(`"true" counted as true`)
	}
}

// ComfyUI 0.3.64 bug, fixed: a reconnect replaces the socket, and the old
// socket's close does not unregister the new one.
func TestWSReconnectSameClientID(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	old := e.dial("?clientId=dup")
	old.next()
	fresh := e.dial("?clientId=dup")
	fresh.next()
	old.c.Close(websocket.StatusNormalClosure, "")
	waitFor(t, "old socket gone", func() bool { return e.srv.hub.Clients() == 1 })
	time.Sleep(20 * time.Millisecond)
	e.srv.hub.Send("dup", api.Message{Type: "hello", Data: 1})
	if typ, _, _ := fresh.next(); typ != "hello" {
		t.Errorf("new socket got %s", typ)
	}
	if e.srv.hub.Clients() != 1 {
		t.Errorf("clients %d", e.srv.hub.Clients())
	}
}

// A client that never reads cannot stall the hub: other clients keep
// receiving and Send never blocks; the stalled one is dropped.
func TestWSSlowClient(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	slow := e.dial("?clientId=slow")
	_ = slow // never read
	fast := e.dial("?clientId=fast")
	fast.next()
	payload := strings.Repeat("x", 4096)
	count := make(chan int, 1)
	var got atomic.Int64
	go func() { // the fast client reads as it goes
		n := 0
		for {
			typ, b, err := fast.c.Read(fast.ctx)
			if err != nil {
				got.Store(1 << 40) // unblock the producer
				count <- -1
				return
			}
			if typ == websocket.MessageText && strings.Contains(string(b[:20]), `"end"`) {
				count <- n
				return
			}
			n++
			got.Add(1)
		}
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 3*clientQueue; i++ {
			e.srv.hub.Broadcast(api.Message{Type: "bulk", Data: payload})
			for int64(i)-got.Load() > clientQueue/2 { // pace to the fast reader
				time.Sleep(100 * time.Microsecond)
			}
		}
		e.srv.hub.Send("fast", api.Message{Type: "end", Data: nil})
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Send blocked on a slow client")
	}
	if n := <-count; n != 3*clientQueue {
		t.Errorf("fast client got %d of %d", n, 3*clientQueue)
	}
	waitFor(t, "slow client dropped", func() bool { return e.srv.hub.Clients() == 1 })
}

func TestWSExecutingResentOnReconnect(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	e.exec.delay = 2 * time.Second
	ws := e.dial("?clientId=rc")
	ws.next()
	e.do("POST", "/prompt", `{"prompt": `+goodPrompt+`, "client_id": "rc"}`)
	ws.until(api.EventExecuting, "", nil)
	again := e.dial("?clientId=rc")
	typ, _, _ := again.next()
	if typ != api.EventStatus {
		t.Fatalf("first %s", typ)
	}
	typ, _, raw := again.next()
	if typ != api.EventExecuting || string(raw) != `{"type":"executing","data":{"node":"2"}}` {
		t.Errorf("re-sent executing: %s", raw)
	}
	e.do("POST", "/interrupt", nil)
}

func TestWSLogsAndBinary(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	ws := e.dial("?clientId=lg")
	ws.next()
	resp, _ := e.do("PATCH", "/internal/logs/subscribe", `{"clientId": "lg", "enabled": true}`)
	if resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	time.Sleep(10 * time.Millisecond)
	e.srv.log.Info("a log line")
	for {
		typ, d, _ := ws.next()
		if typ != api.EventLogs {
			continue
		}
		entries, _ := d.(*api.Object).Get("entries")
		m, _ := entries.([]any)[0].(*api.Object).Get("m")
		if m != "a log line\n" {
			t.Errorf("logs entry %v", m)
		}
		break
	}
	e.srv.hub.SendBinary("lg", api.PreviewFrame(api.ImageFormatJPEG, []byte{0xff, 0xd8}))
	for {
		typ, _, b := ws.next()
		if typ != "<binary>" {
			continue
		}
		if binary.BigEndian.Uint32(b) != 1 || binary.BigEndian.Uint32(b[4:]) != 1 || b[8] != 0xff {
			t.Errorf("binary frame %x", b)
		}
		break
	}
}

// The order of one prompt's messages, with the stand-in executor: status
// (queued), status (taken), the executor's events, status, executing null.
func TestWorkerOrder(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	ws := e.dial("?clientId=o")
	ws.next()
	_, b := e.do("POST", "/prompt", `{"prompt": `+goodPrompt+`, "client_id": "o"}`)
	var r struct {
		PromptID string `json:"prompt_id"`
	}
	json.Unmarshal(b, &r)
	seen := ws.until(api.EventExecuting, r.PromptID, func(d *api.Object) bool { n, _ := d.Get("node"); return n == nil })
	want := "status,status,execution_start,execution_cached,executing,executed,execution_success,status,executing"
	if strings.Join(seen, ",") != want {
		t.Errorf("sequence %v\nwant %s", seen, want)
	}
}

func TestAuthToken(t *testing.T) {
	e := newEnv(t, []string{"--auth-token", "s3cret"}, nil, nil)
	resp, b := e.do("GET", "/queue", nil)
	if resp.StatusCode != 401 || !strings.Contains(string(b), "unauthorized") || resp.Header.Get("Content-Type") != jsonType {
		t.Errorf("no token: %d %s", resp.StatusCode, b)
	}
	if resp, _ := e.do("GET", "/queue", nil, "Authorization", "Bearer wrong"); resp.StatusCode != 401 {
		t.Errorf("wrong token: %d", resp.StatusCode)
	}
	if resp, _ := e.do("GET", "/queue", nil, "Authorization", "Bearer s3cret"); resp.StatusCode != 200 {
		t.Errorf("bearer: %d", resp.StatusCode)
	}
	if resp, _ := e.do("GET", "/queue?token=s3cret", nil); resp.StatusCode != 200 {
		t.Errorf("query token: %d", resp.StatusCode)
	}
	// The bundled UI: opened once with ?token=, it gets a cookie that
	// authenticates its later requests.
	resp, _ = e.do("GET", "/?token=s3cret", nil)
	var cookie string
	for _, c := range resp.Cookies() {
		if c.Name == authCookie && c.HttpOnly && c.SameSite == http.SameSiteStrictMode {
			cookie = c.Name + "=" + c.Value
		}
	}
	if cookie == "" {
		t.Fatalf("no auth cookie: %v", resp.Header)
	}
	if resp, _ := e.do("GET", "/api/object_info", nil, "Cookie", cookie); resp.StatusCode != 200 {
		t.Errorf("cookie: %d", resp.StatusCode)
	}
	if resp, _ := e.do("GET", "/api/object_info", nil, "Cookie", authCookie+"=nope"); resp.StatusCode != 401 {
		t.Errorf("wrong cookie: %d", resp.StatusCode)
	}
	if resp, _ := e.do("GET", "/api/object_info?token=nope", nil, "Cookie", cookie); resp.StatusCode != 401 {
		t.Errorf("a wrong explicit token must not fall back to the cookie: %d", resp.StatusCode)
	}
	// Authenticated requests may carry any Host (a reverse proxy's).
	if resp, _ := e.do("GET", "/queue?token=s3cret", nil, "Host", "comfy.example"); resp.StatusCode != 200 {
		t.Errorf("proxied host with token: %d", resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(e.http.URL, "http") + "/ws"
	if _, resp, err := websocket.Dial(ctx, u, nil); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Errorf("ws without token: %v", err)
	}
	c, _, err := websocket.Dial(ctx, u+"?token=s3cret&clientId=a", nil)
	if err != nil {
		t.Fatalf("ws with token: %v", err)
	}
	c.CloseNow()
	c, _, err = websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer s3cret"}}})
	if err != nil {
		t.Fatalf("ws with header: %v", err)
	}
	c.CloseNow()
}

func TestOriginAndHostChecks(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	host := strings.TrimPrefix(e.http.URL, "http://")
	port := host[strings.LastIndex(host, ":")+1:]
	for _, tc := range []struct {
		name   string
		hdr    []string
		status int
	}{
		{"same origin", []string{"Origin", "http://" + host}, 200},
		{"localhost origin without port", []string{"Host", "localhost:" + port, "Origin", "http://localhost"}, 200},
		{"cross origin", []string{"Origin", "http://evil.example"}, 403},
		{"cross port", []string{"Origin", "http://127.0.0.1:1"}, 403},
		{"null origin", []string{"Origin", "null"}, 403},
		{"dns rebinding", []string{"Host", "evil.example:" + port, "Origin", "http://evil.example:" + port}, 403},
		{"rebinding without origin", []string{"Host", "evil.example:" + port}, 403},
		{"no origin", nil, 200},
	} {
		resp, _ := e.do("POST", "/prompt", `{"prompt": `+goodPrompt+`}`, tc.hdr...)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
	}
	if resp, _ := e.do("OPTIONS", "/prompt", nil); resp.StatusCode != 200 {
		t.Errorf("OPTIONS %d", resp.StatusCode)
	}
	// A cross-origin WebSocket is refused too.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, "ws://"+host+"/ws", &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://evil.example"}}})
	if err == nil || resp.StatusCode != 403 {
		t.Errorf("cross-origin ws: %v", err)
	}
	// Listening beyond loopback, foreign Hosts are fine (the origin must
	// still match).
	e2 := newEnv(t, []string{"--listen", "0.0.0.0"}, nil, nil)
	if resp, _ := e2.do("GET", "/queue", nil, "Host", "comfy.lan:8188"); resp.StatusCode != 200 {
		t.Errorf("lan host: %d", resp.StatusCode)
	}
	if resp, _ := e2.do("POST", "/prompt", `{}`, "Host", "comfy.lan:8188", "Origin", "http://evil.example"); resp.StatusCode != 403 {
		t.Errorf("lan cross origin: %d", resp.StatusCode)
	}
}

func TestCORS(t *testing.T) {
	e := newEnv(t, []string{"--enable-cors-header", "http://app.example"}, nil, nil)
	resp, _ := e.do("OPTIONS", "/prompt", nil, "Origin", "http://app.example")
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "http://app.example" ||
		resp.Header.Get("Access-Control-Allow-Headers") != "Content-Type, Authorization" ||
		resp.Header.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST, GET, DELETE, PUT, OPTIONS") {
		t.Errorf("preflight %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = e.do("POST", "/prompt", `{"prompt": `+goodPrompt+`}`, "Origin", "http://app.example")
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "http://app.example" {
		t.Errorf("cors post %d", resp.StatusCode)
	}
	e2 := newEnv(t, []string{"--enable-cors-header"}, nil, nil)
	resp, _ = e2.do("GET", "/queue", nil, "Origin", "http://any.example")
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("cors * %d", resp.StatusCode)
	}
}

func TestCompression(t *testing.T) {
	e := newEnv(t, []string{"--enable-compress-response-body"}, nil, nil)
	req, _ := http.NewRequest("GET", e.url("/object_info"), nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("not compressed: %v", resp.Header)
	}
	resp, b := e.do("GET", "/object_info", nil) // Go's client decompresses
	if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "{") {
		t.Errorf("round trip %d %q", resp.StatusCode, b[:10])
	}
}

// FuzzWSClientFrame: whatever a client sends first, the server stays up,
// answers only a well-formed feature_flags object, and keeps serving the
// socket.
func FuzzWSClientFrame(f *testing.F) {
	for _, s := range []string{`{"type": "feature_flags", "data": {"supports_preview_metadata": true}}`, `{"type": "feature_flags"}`,
		`{"type": "feature_flags", "data": []}`, `[]`, `"x"`, `{`, `{"type": 1}`, "\xff\xfe", `{"type": "feature_flags", "data": {"supports_preview_metadata": 1}}`} {
		f.Add([]byte(s))
	}
	e := newEnv(f, nil, nil, nil)
	f.Fuzz(func(t *testing.T, msg []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.http.URL, "http")+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		if _, _, err := c.Read(ctx); err != nil { // greeting
			t.Fatal(err)
		}
		if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
			return // e.g. invalid UTF-8 refused by the client library
		}
		c.Write(ctx, websocket.MessageText, []byte(`{"type": "feature_flags", "data": {}}`))
		// A probe through the hub must still arrive.
		sidCtx, sidCancel := context.WithTimeout(ctx, 5*time.Second)
		defer sidCancel()
		e.srv.hub.Broadcast(api.Message{Type: "probe", Data: nil})
		for {
			_, b, err := c.Read(sidCtx)
			if err != nil {
				t.Fatalf("socket dead after %q: %v", msg, err)
			}
			v, err := api.Decode(b)
			if err != nil {
				t.Fatalf("server sent non-JSON %q", b)
			}
			if typ, _ := v.(*api.Object).Get("type"); typ == "probe" {
				return
			}
		}
	})
}

// A client that posts before its socket is open (or while it reconnects)
// still gets its prompt's events: they wait for the socket and follow the
// greeting (ComfyUI drops them; fast runs made clients wait forever).
func TestWSBacklogForLateSocket(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	_, b := e.do("POST", "/prompt", `{"prompt": `+goodPrompt+`, "client_id": "late"}`)
	var r struct {
		PromptID string `json:"prompt_id"`
	}
	json.Unmarshal(b, &r)
	waitFor(t, "history", func() bool { _, ok := e.q.HistoryItem(r.PromptID); return ok })
	ws := e.dial("?clientId=late")
	if typ, _, _ := ws.next(); typ != api.EventStatus {
		t.Fatalf("greeting first, got %s", typ)
	}
	seen := ws.until(api.EventExecuting, r.PromptID, func(d *api.Object) bool { n, _ := d.Get("node"); return n == nil })
	if strings.Join(seen, ",") != "execution_start,execution_cached,executing,executed,execution_success,executing" {
		t.Errorf("replayed %v", seen)
	}
	// Messages for a socket that never comes are bounded.
	for i := 0; i < backlogFrames+10; i++ {
		e.srv.hub.Send("nobody", api.Message{Type: "x", Data: i})
	}
	if e.srv.hub.Clients() != 1 {
		t.Error("clients")
	}
}

// An interrupt for a prompt that was taken but not yet started (it waits
// for its client) stops it instead of being lost.
func TestInterruptBeforeStart(t *testing.T) {
	for _, real := range []bool{false, true} {
		var ex Executor
		if real {
			ex = realExec{}
		}
		interruptBeforeStart(t, newEnv(t, nil, nil, ex))
	}
}

func interruptBeforeStart(t *testing.T, e *testEnv) {
	ws := e.dial("?clientId=ib")
	ws.next()
	// Queue a prompt whose POST answer is still "being written", so the
	// worker holds it (up to answerWait) between taking and running it.
	id := newUUID()
	prompt := decode(t, []byte(goodPrompt)).(*api.Object)
	outs, _, verr := e.srv.validate(e.srv.reg, e.paths, prompt, nil)
	if verr != nil {
		t.Fatal(verr)
	}
	a := e.srv.expectAnswer(id)
	defer close(a.done)
	e.q.Put(api.QueueItem{Number: api.Int(0), PromptID: id, Prompt: prompt, ExtraData: api.ObjectOf("client_id", "ib"), Outputs: outs})
	waitFor(t, "taken", func() bool { e.srv.takenMu.Lock(); defer e.srv.takenMu.Unlock(); return e.srv.takenID == id })
	e.do("POST", "/interrupt", `{"prompt_id": "`+id+`"}`)
	seen := ws.until(api.EventExecuting, id, func(d *api.Object) bool { n, _ := d.Get("node"); return n == nil })
	if !strings.Contains(strings.Join(seen, ","), api.EventExecutionInterrupted) {
		t.Errorf("not interrupted: %v", seen)
	}
}
