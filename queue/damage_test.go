package queue

import (
	"bytes"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/comfyd/comfyd/api"
)

// TestDamagedStoreNeverRefusesToStart truncates the store file or
// overwrites parts of it with garbage; Open must always succeed (keeping
// what it can, or moving the file aside), and the queue must work after.
func TestDamagedStoreNeverRefusesToStart(t *testing.T) {
	src := t.TempDir()
	q := open(t, src, Options{})
	for i := range 60 {
		id := fmt.Sprintf("h%02d", i)
		mustPut(t, q, mkItem(api.Int(int64(i)), id))
		if i%2 == 0 {
			mustGet(t, q)
			q.Done(id, mkEntry(mkItem(api.Int(int64(i)), id), "success"))
		}
	}
	q.Close()
	orig, err := os.ReadFile(filepath.Join(src, fileName))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for trial := range 30 {
		data := bytes.Clone(orig)
		switch trial % 3 {
		case 0: // truncated
			data = data[:r.IntN(len(data))]
		case 1: // a run of garbage somewhere
			at, n := r.IntN(len(data)), 1+r.IntN(8192)
			for i := at; i < min(len(data), at+n); i++ {
				data[i] = byte(r.Uint32())
			}
		case 2: // a garbage page past the meta pages
			page := 2 + r.IntN(len(data)/4096-2)
			for i := page * 4096; i < (page+1)*4096; i++ {
				data[i] = byte(r.Uint32())
			}
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, fileName), data, 0o644); err != nil {
			t.Fatal(err)
		}
		var logBuf bytes.Buffer
		q, err := Open(dir, Options{Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
		if err != nil {
			t.Fatalf("trial %d: Open refused: %v", trial, err)
		}
		// Reads and a full cycle still work.
		q.Pending()
		q.HistoryJSON(nil, nil)
		mustPut(t, q, mkItem(api.Int(-100), "after"))
		if got := mustGet(t, q).PromptID; got != "after" && !strings.HasPrefix(got, "h") {
			t.Fatalf("trial %d: got %s", trial, got)
		}
		q.Close()
		t.Logf("trial %d: %s", trial, firstLine(logBuf.String()))
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
