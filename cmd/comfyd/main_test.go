package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/comfyd/comfyd/config"
)

// The binary's wiring: folder layout created, temp wiped at start and at a
// clean exit, extra_model_paths.yaml beside the base loaded, the real node
// registry served, graceful shutdown when the context ends.
func TestRunServesAndShutsDown(t *testing.T) {
	base := t.TempDir()
	os.MkdirAll(filepath.Join(base, "temp"), 0o755)
	os.WriteFile(filepath.Join(base, "temp", "stale.png"), []byte("x"), 0o644)
	store := t.TempDir()
	os.WriteFile(filepath.Join(store, "m.safetensors"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(base, "extra_model_paths.yaml"), []byte("x:\n  checkpoints: "+store+"\n"), 0o644)
	cfg, err := config.Parse([]string{"--base-directory", base, "--port", "0", "--dont-print-server"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, time.Now(), func(a []net.Addr) { addrc <- a[0] }) }()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(20 * time.Second):
		t.Fatal("not ready")
	}
	get := func(p string) string {
		resp, err := http.Get("http://" + addr.String() + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if b := get("/models/checkpoints"); b != `["m.safetensors"]` {
		t.Errorf("checkpoints %s", b)
	}
	if b := get("/object_info/SaveImage"); !strings.Contains(b, `"output_node":true`) {
		t.Errorf("nodes/all not registered: %.100s", b)
	}
	for _, d := range []string{"input", "output", "user", "temp", "models/checkpoints", "models/loras", ".comfyd"} {
		if _, err := os.Stat(filepath.Join(base, d)); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "temp", "stale.png")); err == nil {
		t.Error("temp not wiped at start")
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	ws, _, err := websocket.Dial(wctx, "ws://"+addr.String()+"/ws?clientId=shutdown", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.Read(wctx); err != nil { // greeting
		t.Fatal(err)
	}
	cancel()
	if _, _, err := ws.Read(wctx); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("socket at shutdown: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no graceful shutdown")
	}
	if _, err := os.Stat(filepath.Join(base, "temp")); err == nil {
		t.Error("temp not removed at exit")
	}
}
