package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for the comfyd binary: with
// COMFYD_TEST_SERVE=1 it runs main() on its own arguments, so the restart
// test can kill a real server process with SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("COMFYD_TEST_SERVE") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serverProc is a comfyd process started from the test binary.
type serverProc struct {
	cmd *exec.Cmd
	url string
	out *bytes.Buffer
}

func startServer(t *testing.T, base string, port int) *serverProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "--base-directory", base, "--port", fmt.Sprint(port))
	cmd.Env = append(os.Environ(), "COMFYD_TEST_SERVE=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProc{cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d", port), out: &out}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if r, err := http.Get(p.url + "/prompt"); err == nil {
			r.Body.Close()
			return p
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("server did not start:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// The durability promise, end to end: prompts slow enough that
// several are still pending, the server killed with SIGKILL while one runs,
// then started again: every prompt that got a 200 finishes and is in the
// history (the one that was running is re-run once).
func TestRestartAfterKillRunsEveryAcceptedPrompt(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real server processes")
	}
	base := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	srv := startServer(t, base, port)
	const n = 6
	var ids []string
	for i := 0; i < n; i++ {
		// Each prompt upscales a distinct colour (no cache hit) to 2048²:
		// a few hundred milliseconds of work.
		body := fmt.Sprintf(`{"prompt": {
			"1": {"class_type": "EmptyImage", "inputs": {"width": 512, "height": 512, "batch_size": 1, "color": %d}},
			"2": {"class_type": "ImageScale", "inputs": {"image": ["1", 0], "upscale_method": "bicubic", "width": 2048, "height": 2048, "crop": "disabled"}},
			"3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "restart"}}}}`, 1000+i)
		r, err := http.Post(srv.url+"/prompt", "application/json", bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		var resp struct {
			PromptID string `json:"prompt_id"`
		}
		json.NewDecoder(r.Body).Decode(&resp)
		r.Body.Close()
		if r.StatusCode != 200 || resp.PromptID == "" {
			t.Fatalf("POST /prompt: %d", r.StatusCode)
		}
		ids = append(ids, resp.PromptID)
	}
	// Kill while one runs and several are pending.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var q struct {
			Running []any `json:"queue_running"`
			Pending []any `json:"queue_pending"`
		}
		getJSON(t, srv.url+"/queue", &q)
		if len(q.Running) == 1 && len(q.Pending) >= 2 {
			break
		}
		if len(q.Pending) < 2 || time.Now().After(deadline) {
			srv.cmd.Process.Kill()
			t.Fatalf("prompts ran too fast to test a crash (running %d, pending %d)", len(q.Running), len(q.Pending))
		}
		time.Sleep(5 * time.Millisecond)
	}
	srv.cmd.Process.Signal(syscall.SIGKILL)
	srv.cmd.Wait()

	srv = startServer(t, base, port)
	defer func() {
		srv.cmd.Process.Signal(syscall.SIGTERM)
		srv.cmd.Wait()
	}()
	deadline = time.Now().Add(3 * time.Minute)
	for _, id := range ids {
		for {
			var h map[string]struct {
				Status struct {
					StatusStr string `json:"status_str"`
					Completed bool   `json:"completed"`
				} `json:"status"`
				Outputs map[string]struct {
					Images []struct{ Filename string } `json:"images"`
				} `json:"outputs"`
			}
			getJSON(t, srv.url+"/history/"+id, &h)
			if e, ok := h[id]; ok {
				if e.Status.StatusStr != "success" || !e.Status.Completed || len(e.Outputs["3"].Images) != 1 {
					t.Fatalf("prompt %s after restart: %+v", id, e)
				}
				if _, err := os.Stat(filepath.Join(base, "output", e.Outputs["3"].Images[0].Filename)); err != nil {
					t.Fatalf("prompt %s: output file: %v", id, err)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("prompt %s never finished after the restart\n%s", id, srv.out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
