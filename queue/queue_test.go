package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/comfyd/comfyd/api"
	bolt "go.etcd.io/bbolt"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func mkItem(number any, id string) api.QueueItem {
	prompt := api.ObjectOf("9", api.ObjectOf("class_type", "SaveImage",
		"inputs", api.ObjectOf("filename_prefix", "ComfyUI", "images", []any{"8", api.Int(0)})))
	return api.QueueItem{
		Number:    number,
		PromptID:  id,
		Prompt:    prompt,
		ExtraData: api.ObjectOf("client_id", "c1", "auth_token_comfy_org", "secret"),
		Outputs:   []string{"9"},
	}
}

func mkEntry(it api.QueueItem, status string) api.HistoryEntry {
	return api.HistoryEntry{
		Prompt:  it,
		Outputs: api.ObjectOf("9", api.ObjectOf("images", []any{api.ObjectOf("filename", it.PromptID+".png", "subfolder", "", "type", "output")})),
		Status: api.HistoryStatus{StatusStr: status, Completed: status == "success", Messages: []api.StatusMessage{
			{Event: "execution_start", Data: api.ObjectOf("prompt_id", it.PromptID, "timestamp", api.Int(1))},
		}},
		Meta: map[string]api.NodeMeta{"9": {NodeID: "9", DisplayNode: "9", RealNodeID: "9"}},
	}
}

// open opens a queue in dir (or memory) and closes it at the end of the test.
func open(t testing.TB, dir string, opts Options) *Queue {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLog()
	}
	q, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// both runs f against the memory store and the bbolt store.
func both(t *testing.T, f func(t *testing.T, dir string)) {
	t.Run("memory", func(t *testing.T) { f(t, "") })
	t.Run("bbolt", func(t *testing.T) { f(t, t.TempDir()) })
}

func ids(items []api.QueueItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.PromptID)
	}
	return out
}

func histIDs(rs []HistoryRecord) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.PromptID)
	}
	return out
}

func mustPut(t testing.TB, q *Queue, it api.QueueItem) {
	t.Helper()
	if err := q.Put(it); err != nil {
		t.Fatal(err)
	}
}

func mustGet(t testing.TB, q *Queue) api.QueueItem {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	it, err := q.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// drain pops everything pending (without blocking) and returns the ids.
func drain(t testing.TB, q *Queue) []string {
	t.Helper()
	var out []string
	for len(q.Pending()) > 0 {
		it := mustGet(t, q)
		out = append(out, it.PromptID)
		if err := q.Done(it.PromptID, mkEntry(it, "success")); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestHeapMatchesPython replays operations whose resulting raw heap arrays
// were recorded with Python's heapq (testdata/heap_python.py): GET /queue
// must show the same array ComfyUI would.
func TestHeapMatchesPython(t *testing.T) {
	data, err := os.ReadFile("testdata/heap_python.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := api.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	both(t, func(t *testing.T, dir string) {
		q := open(t, dir, Options{})
		for i, op := range v.([]any) {
			op := op.([]any)
			var want []any
			switch op[0] {
			case "push":
				mustPut(t, q, mkItem(op[1], op[2].(string)))
				want = op[3].([]any)
			case "pop":
				if got := mustGet(t, q).PromptID; got != op[1] {
					t.Fatalf("op %d: popped %s, Python popped %s", i, got, op[1])
				}
				want = op[2].([]any)
			case "del":
				if n := q.Delete([]string{op[1].(string)}); n != 1 {
					t.Fatalf("op %d: Delete removed %d", i, n)
				}
				want = op[2].([]any)
			}
			got := ids(q.Pending())
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("op %d (%v %v): heap %v, Python %v", i, op[0], op[1], got, want)
			}
		}
	})
}

func TestOrderHeapVsSorted(t *testing.T) {
	both(t, func(t *testing.T, dir string) {
		q := open(t, dir, Options{})
		r := rand.New(rand.NewPCG(1, 2))
		type key struct {
			n  float64
			id string
		}
		var want []key
		for i := range 100 {
			var num any
			var n float64
			switch r.IntN(3) {
			case 0:
				k := r.IntN(40) - 10
				num, n = api.Int(int64(k)), float64(k)
			case 1:
				k := float64(r.IntN(40)-10) / 2
				num, n = api.Float(k), k
			default: // duplicates of the number: prompt_id decides
				num, n = api.Int(3), 3
			}
			id := fmt.Sprintf("id-%03d", r.IntN(1000)*1000+i)
			mustPut(t, q, mkItem(num, id))
			want = append(want, key{n, id})
		}
		slices.SortFunc(want, func(a, b key) int {
			if a.n != b.n {
				if a.n < b.n {
					return -1
				}
				return 1
			}
			return strings.Compare(a.id, b.id)
		})
		pend := q.Pending()
		if len(pend) != 100 || q.Remaining() != 100 {
			t.Fatalf("pending %d remaining %d", len(pend), q.Remaining())
		}
		// Raw heap order: a valid heap, but not sorted.
		sorted := true
		for i := 1; i < len(pend); i++ {
			p := (i - 1) / 2
			if less(&pitem{item: pend[i]}, &pitem{item: pend[p]}) {
				t.Fatalf("heap property broken at %d", i)
			}
			if less(&pitem{item: pend[i]}, &pitem{item: pend[i-1]}) {
				sorted = false
			}
		}
		if sorted {
			t.Fatal("Pending is sorted; expected raw heap order")
		}
		got := drain(t, q)
		for i := range want {
			if got[i] != want[i].id {
				t.Fatalf("pop %d: %s, want %s", i, got[i], want[i].id)
			}
		}
	})
}

func TestCompareNumbers(t *testing.T) {
	for _, c := range []struct {
		a, b any
		want int
	}{
		{api.Int(1), api.Int(2), -1},
		{api.Int(-3), api.Float(-3), 0},
		{api.Float(2.5), api.Int(2), 1},
		{api.Float(-0.5), api.Int(0), -1},
		{api.Int(9007199254740993), api.Float(9007199254740992), 1}, // 2^53+1 > 2^53 exactly, as in Python
		{json.Number("123456789012345678901234567890"), api.Float(1e29), 1},
		{json.Number("-123456789012345678901234567890"), api.Int(0), -1},
		{api.Int(5), int64(5), 0},
		{5.5, api.Float(5.5), 0},
		{nil, api.Int(-100), -1},
	} {
		if got := compareNumbers(c.a, c.b); got != c.want {
			t.Errorf("compare(%v, %v) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := compareNumbers(c.b, c.a); got != -c.want {
			t.Errorf("compare(%v, %v) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

func TestFrontNumbers(t *testing.T) {
	// "front" items get -n: later fronts run before earlier ones, and
	// before everything queued normally.
	q := open(t, "", Options{})
	for i, id := range []string{"a", "front1", "b", "front2"} {
		n := q.NextNumber()
		if n != int64(i) {
			t.Fatalf("NextNumber = %d, want %d", n, i)
		}
		if strings.HasPrefix(id, "front") {
			n = -n
		}
		mustPut(t, q, mkItem(api.Int(n), id))
	}
	if got := fmt.Sprint(drain(t, q)); got != "[front2 front1 a b]" {
		t.Fatal(got)
	}
}

func TestCounterPersists(t *testing.T) {
	dir := t.TempDir()
	q := open(t, dir, Options{})
	for i := range 3 {
		if n := q.NextNumber(); n != int64(i) {
			t.Fatal(n)
		}
	}
	mustPut(t, q, mkItem(api.Int(2), "x")) // persists the counter (3)
	q.NextNumber()                         // 3, persisted by Close
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	q = open(t, dir, Options{})
	if n := q.NextNumber(); n != 4 {
		t.Fatalf("after reopen NextNumber = %d, want 4", n)
	}
	// The counter written with a Put survives a crash (no Close).
	mustPut(t, q, mkItem(api.Int(4), "y"))
	q.store.Close() // simulate death: nothing more is written
	q2 := open(t, dir, Options{})
	if n := q2.NextNumber(); n != 5 {
		t.Fatalf("after crash NextNumber = %d, want 5", n)
	}
}

// refWindow is ComfyUI's get_history loop, transcribed, for cross-checking.
func refWindow(n int, maxItems, offset *int) []int {
	off := -1
	if offset != nil {
		off = *offset
	}
	if off < 0 && maxItems != nil {
		off = n - *maxItems
	}
	var out []int
	for i := range n {
		if i >= off {
			out = append(out, i)
			if maxItems != nil && len(out) >= *maxItems {
				break
			}
		}
	}
	return out
}

func ip(i int) *int { return &i }

func TestHistoryWindow(t *testing.T) {
	both(t, func(t *testing.T, dir string) {
		q := open(t, dir, Options{})
		hist := func(maxItems, offset *int) []string { return histIDs(q.History(maxItems, offset)) }
		add := func(n int) {
			for range n {
				id := fmt.Sprintf("h%02d", q.HistoryLen())
				mustPut(t, q, mkItem(api.Int(q.NextNumber()), id))
				it := mustGet(t, q)
				if err := q.Done(it.PromptID, mkEntry(it, "success")); err != nil {
					t.Fatal(err)
				}
			}
		}
		if len(hist(nil, nil)) != 0 || len(hist(ip(5), nil)) != 0 || len(hist(nil, ip(0))) != 0 {
			t.Fatal("empty history not empty")
		}
		// test_offset_returns_different_items_than_beginning_of_history
		add(5)
		first, next := hist(ip(2), ip(0)), hist(ip(2), ip(2))
		if fmt.Sprint(first) != "[h00 h01]" || fmt.Sprint(next) != "[h02 h03]" {
			t.Fatal(first, next)
		}
		// test_offset_beyond_history_length_returns_empty
		if got := hist(nil, ip(100)); len(got) != 0 {
			t.Fatal(got)
		}
		// test_offset_at_exact_history_length_returns_empty
		if got := hist(nil, ip(len(hist(nil, nil)))); len(got) != 0 {
			t.Fatal(got)
		}
		// test_offset_zero_equals_no_offset_parameter
		if a, b := hist(nil, ip(0)), hist(nil, nil); fmt.Sprint(a) != fmt.Sprint(b) || len(a) != 5 {
			t.Fatal(a, b)
		}
		// test_offset_without_max_items_skips_from_beginning
		if got := hist(nil, ip(2)); fmt.Sprint(got) != "[h02 h03 h04]" {
			t.Fatal(got)
		}
		// test_offset_with_max_items_returns_correct_window
		add(1)
		if got := hist(ip(2), ip(1)); fmt.Sprint(got) != "[h01 h02]" {
			t.Fatal(got)
		}
		// test_offset_near_end_returns_remaining_items_only
		if got := hist(ip(5), ip(5)); fmt.Sprint(got) != "[h05]" {
			t.Fatal(got)
		}
		// max_items only: the last N; with offset 0: the first N.
		if got := hist(ip(2), nil); fmt.Sprint(got) != "[h04 h05]" {
			t.Fatal(got)
		}
		if got := hist(ip(100), nil); len(got) != 6 {
			t.Fatal(got)
		}
		// A negative offset counts as absent.
		if got := hist(ip(2), ip(-7)); fmt.Sprint(got) != "[h04 h05]" {
			t.Fatal(got)
		}
	})
	// Every small case against the transcribed Python loop (max_items ≤ 0
	// with an offset ≥ 0 is the one deliberate difference: none, not one).
	vals := []*int{nil, ip(-3), ip(-1), ip(0), ip(1), ip(2), ip(3), ip(5), ip(7)}
	for n := range 7 {
		for _, m := range vals {
			for _, o := range vals {
				s, e := window(n, m, o)
				var got []int
				for i := s; i < e; i++ {
					got = append(got, i)
				}
				want := refWindow(n, m, o)
				if m != nil && *m <= 0 {
					want = nil
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("n=%d max=%v offset=%v: got %v, ComfyUI %v", n, deref(m), deref(o), got, want)
				}
			}
		}
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestHistoryBound(t *testing.T) {
	both(t, func(t *testing.T, dir string) {
		q := open(t, dir, Options{MaxHistory: 5})
		for i := range 10 {
			id := fmt.Sprintf("h%d", i)
			mustPut(t, q, mkItem(api.Int(int64(i)), id))
			mustGet(t, q)
			if err := q.Done(id, mkEntry(mkItem(api.Int(int64(i)), id), "success")); err != nil {
				t.Fatal(err)
			}
		}
		// ComfyUI drops the oldest only when there are more than 5 before
		// adding: the size tops out at 6.
		if got := fmt.Sprint(histIDs(q.History(nil, nil))); got != "[h4 h5 h6 h7 h8 h9]" {
			t.Fatal(got)
		}
		if _, ok := q.HistoryItem("h3"); ok {
			t.Fatal("evicted entry still readable")
		}
		if dir == "" {
			return
		}
		q.Close()
		q = open(t, dir, Options{MaxHistory: 5})
		if got := fmt.Sprint(histIDs(q.History(nil, nil))); got != "[h4 h5 h6 h7 h8 h9]" {
			t.Fatal("after reopen:", got)
		}
		q.Close()
		// A smaller bound trims the oldest on open.
		q = open(t, dir, Options{MaxHistory: 2})
		if got := fmt.Sprint(histIDs(q.History(nil, nil))); got != "[h7 h8 h9]" {
			t.Fatal("after shrinking:", got)
		}
	})
}

func TestHistoryReplaceKeepsPlace(t *testing.T) {
	both(t, func(t *testing.T, dir string) {
		q := open(t, dir, Options{})
		for _, id := range []string{"a", "b", "a"} { // client-chosen prompt_id reused
			mustPut(t, q, mkItem(api.Int(q.NextNumber()), id))
			it := mustGet(t, q)
			if err := q.Done(id, mkEntry(it, "success:"+fmt.Sprint(it.Number))); err != nil {
				t.Fatal(err)
			}
		}
		// Python dict assignment to an existing key keeps its position.
		rs := q.History(nil, nil)
		if fmt.Sprint(histIDs(rs)) != "[a b]" || rs[0].Entry.Status.StatusStr != "success:2" {
			t.Fatal(histIDs(rs), rs[0].Entry.Status.StatusStr)
		}
		if dir != "" {
			q.Close()
			q = open(t, dir, Options{})
			rs = q.History(nil, nil)
			if fmt.Sprint(histIDs(rs)) != "[a b]" || rs[0].Entry.Status.StatusStr != "success:2" {
				t.Fatal("after reopen:", histIDs(rs), rs[0].Entry.Status.StatusStr)
			}
		}
	})
}

func TestDeleteAndClear(t *testing.T) {
	both(t, func(t *testing.T, dir string) {
		q := open(t, dir, Options{})
		for i := range 6 {
			mustPut(t, q, mkItem(api.Int(int64(i)), fmt.Sprintf("p%d", i)))
		}
		run := mustGet(t, q) // p0 runs
		if n := q.Delete([]string{"p0", "p2", "p4", "nope", "p2"}); n != 2 {
			t.Fatalf("Delete removed %d, want 2 (running and unknown ids are ignored)", n)
		}
		if got := fmt.Sprint(ids(q.Running())); got != "[p0]" {
			t.Fatal(got)
		}
		if q.Remaining() != 4 {
			t.Fatal(q.Remaining())
		}
		if dir != "" {
			q.Close()
			q = open(t, dir, Options{})
			// p0 was running: it comes back first for a re-run.
			if got := fmt.Sprint(ids(q.Pending())); got != "[p0 p1 p3 p5]" {
				t.Fatal("after reopen:", got)
			}
			mustGet(t, q)
		}
		if err := q.Done(run.PromptID, mkEntry(run, "success")); err != nil {
			t.Fatal(err)
		}
		if n := q.Clear(); n != 3 {
			t.Fatalf("Clear removed %d", n)
		}
		if q.Remaining() != 0 || len(q.History(nil, nil)) != 1 {
			t.Fatal("Clear touched history or left items")
		}
		if dir != "" {
			q.Close()
			q = open(t, dir, Options{})
			if q.Remaining() != 0 || len(q.History(nil, nil)) != 1 {
				t.Fatal("after reopen", q.Remaining())
			}
		}
	})
}

func TestDeleteAndClearHistory(t *testing.T) {
	both(t, func(t *testing.T, dir string) {
		q := open(t, dir, Options{})
		for i := range 5 {
			id := fmt.Sprintf("h%d", i)
			mustPut(t, q, mkItem(api.Int(int64(i)), id))
			mustGet(t, q)
			if err := q.Done(id, mkEntry(mkItem(api.Int(int64(i)), id), "success")); err != nil {
				t.Fatal(err)
			}
		}
		q.DeleteHistory([]string{"h1", "h3", "zz", "h1"})
		if got := fmt.Sprint(histIDs(q.History(nil, nil))); got != "[h0 h2 h4]" {
			t.Fatal(got)
		}
		if _, ok := q.HistoryItem("h3"); ok {
			t.Fatal("deleted entry readable")
		}
		if dir != "" {
			q.Close()
			q = open(t, dir, Options{})
			if got := fmt.Sprint(histIDs(q.History(nil, nil))); got != "[h0 h2 h4]" {
				t.Fatal("after reopen:", got)
			}
		}
		q.ClearHistory()
		if q.HistoryLen() != 0 {
			t.Fatal("not cleared")
		}
		if dir != "" {
			q.Close()
			q = open(t, dir, Options{})
			if q.HistoryLen() != 0 {
				t.Fatal("cleared history came back")
			}
		}
		// Adding after a clear still works (and keeps completion order).
		for _, id := range []string{"x", "y"} {
			mustPut(t, q, mkItem(api.Int(1), id))
			mustGet(t, q)
			q.Done(id, mkEntry(mkItem(api.Int(1), id), "success"))
		}
		if got := fmt.Sprint(histIDs(q.History(nil, nil))); got != "[x y]" {
			t.Fatal(got)
		}
	})
}

func TestPersistenceRoundTrip(t *testing.T) {
	dir := t.TempDir()
	q := open(t, dir, Options{})
	items := []api.QueueItem{
		mkItem(api.Int(0), "a"), mkItem(api.Float(-2.5), "b"), mkItem(api.Float(1e-05), "c"),
		mkItem(json.Number("18446744073709551615"), "d"),
	}
	for _, it := range items {
		mustPut(t, q, it)
	}
	run := mustGet(t, q) // b
	done := mustGet(t, q)
	entry := mkEntry(done, "success")
	if err := q.Done(done.PromptID, entry); err != nil {
		t.Fatal(err)
	}
	wantPending := api.MustMarshal(q.Pending())
	wantHist := api.MustMarshal(entry)
	q.Close()

	q = open(t, dir, Options{})
	// The running item comes back first; the rest keeps its heap.
	pend := q.Pending()
	if pend[0].PromptID != run.PromptID {
		t.Fatalf("first pending %s, want the interrupted %s", pend[0].PromptID, run.PromptID)
	}
	if got := api.MustMarshal(pend[1:]); !bytes.Equal(got, wantPending) {
		t.Fatalf("pending after reopen\n%s\nwant\n%s", got, wantPending)
	}
	if got := api.MustMarshal(pend[0]); !bytes.Equal(got, api.MustMarshal(run)) {
		t.Fatalf("interrupted item changed:\n%s\n%s", got, api.MustMarshal(run))
	}
	e, ok := q.HistoryItem(done.PromptID)
	if !ok {
		t.Fatal("history lost")
	}
	if got := api.MustMarshal(e); !bytes.Equal(got, wantHist) {
		t.Fatalf("history entry after reopen\n%s\nwant\n%s", got, wantHist)
	}
	if rs := q.History(nil, nil); !bytes.Equal(rs[0].JSON, wantHist) {
		t.Fatalf("HistoryRecord.JSON\n%s\nwant\n%s", rs[0].JSON, wantHist)
	}
	// Number kinds survive: "d" keeps its 20-digit integer.
	if got := fmt.Sprint(drain(t, q)); got != "[b c d]" {
		t.Fatal(got)
	}
}

// TestRestartTwice: a prompt that was running when the process died is run
// again first; if the process dies again during that re-run it goes to
// history as an error and is not run a third time.
func TestRestartTwice(t *testing.T) {
	dir := t.TempDir()
	q := open(t, dir, Options{})
	mustPut(t, q, mkItem(api.Int(0), "boom"))
	mustPut(t, q, mkItem(api.Int(1), "next"))
	if got := mustGet(t, q).PromptID; got != "boom" {
		t.Fatal(got)
	}
	q.store.Close() // die while running "boom"

	q = open(t, dir, Options{})
	if q.Remaining() != 2 || len(q.Running()) != 0 {
		t.Fatal("after first restart", q.Remaining(), len(q.Running()))
	}
	if got := mustGet(t, q).PromptID; got != "boom" {
		t.Fatalf("re-run got %s", got)
	}
	q.store.Close() // die again

	q = open(t, dir, Options{})
	if q.Remaining() != 1 {
		t.Fatal("after second restart", q.Remaining())
	}
	e, ok := q.HistoryItem("boom")
	if !ok {
		t.Fatal("crashed prompt not in history")
	}
	if e.Status.StatusStr != "error" || e.Status.Completed || len(e.Status.Messages) != 1 {
		t.Fatalf("status %+v", e.Status)
	}
	m := e.Status.Messages[0]
	data := api.MustMarshal(m.Data)
	if m.Event != "execution_error" || !strings.Contains(string(data), `"exception_type":"comfyd.RestartError"`) ||
		!strings.Contains(string(data), `"prompt_id":"boom","node_id":"","node_type":"","executed":[]`) {
		t.Fatalf("message %s %s", m.Event, data)
	}
	if e.Prompt.ExtraData.Has("auth_token_comfy_org") || e.Prompt.ClientID() != "c1" {
		t.Fatal("history prompt keeps the credential or lost client_id")
	}
	if got := mustGet(t, q).PromptID; got != "next" {
		t.Fatalf("after crash loop guard got %s", got)
	}
	q.Close()
	// The error entry is durable and the guard does not fire again.
	q = open(t, dir, Options{})
	if _, ok := q.HistoryItem("boom"); !ok || q.HistoryLen() != 1 {
		t.Fatal("error entry not durable")
	}
}

func TestDoneFillsPromptAndStripsSecrets(t *testing.T) {
	q := open(t, "", Options{})
	orig := mkItem(api.Int(0), "a")
	mustPut(t, q, orig)
	mustGet(t, q)
	if err := q.Done("a", api.HistoryEntry{Outputs: api.NewObject()}); err != nil {
		t.Fatal(err)
	}
	e, _ := q.HistoryItem("a")
	if e.Prompt.PromptID != "a" || e.Prompt.ExtraData.Has("auth_token_comfy_org") {
		t.Fatalf("%s", api.MustMarshal(e.Prompt))
	}
	if err := q.Done("a", api.HistoryEntry{}); !errors.Is(err, ErrNotRunning) {
		t.Fatal(err)
	}
	// Stripping worked on a copy: the item handed to Put is untouched.
	if !orig.ExtraData.Has("auth_token_comfy_org") {
		t.Fatal("Done modified the caller's item")
	}
}

func TestGetBlocksWakesAndCloses(t *testing.T) {
	q := open(t, "", Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := q.Get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	// Several waiting workers, items put in one burst: each gets one.
	const n = 8
	var wg sync.WaitGroup
	got := make(chan string, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			it, err := q.Get(context.Background())
			if err == nil {
				got <- it.PromptID
			}
		}()
	}
	time.Sleep(10 * time.Millisecond)
	for i := range n {
		mustPut(t, q, mkItem(api.Int(int64(i)), fmt.Sprintf("w%d", i)))
	}
	seen := map[string]bool{}
	for range n {
		select {
		case id := <-got:
			if seen[id] {
				t.Fatal("item delivered twice", id)
			}
			seen[id] = true
		case <-time.After(5 * time.Second):
			t.Fatal("a waiting Get was not woken")
		}
	}
	wg.Wait()
	if len(q.Running()) != n {
		t.Fatal(len(q.Running()))
	}
	// Close releases a blocked Get.
	errc := make(chan error, 1)
	go func() { _, err := q.Get(context.Background()); errc <- err }()
	time.Sleep(10 * time.Millisecond)
	q.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release Get")
	}
	if err := q.Put(mkItem(api.Int(0), "late")); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

func TestConcurrentUse(t *testing.T) {
	q := open(t, t.TempDir(), Options{MaxHistory: 50})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var doneMu sync.Mutex
	done := 0
	for range 2 { // workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				it, err := q.Get(ctx)
				if err != nil {
					return
				}
				if err := q.Done(it.PromptID, mkEntry(it, "success")); err != nil {
					t.Error(err)
				}
				doneMu.Lock()
				done++
				doneMu.Unlock()
			}
		}()
	}
	var readers sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				q.Pending()
				q.Running()
				q.History(ip(10), nil)
				q.Remaining()
			}
		}()
	}
	for i := range 200 {
		mustPut(t, q, mkItem(api.Int(q.NextNumber()), fmt.Sprintf("c%03d", i)))
		if i%50 == 49 {
			q.Delete([]string{fmt.Sprintf("c%03d", i)})
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for q.Remaining() > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	wg.Wait()
	close(stop)
	readers.Wait()
	if q.Remaining() != 0 || q.HistoryLen() != 51 {
		t.Fatalf("remaining %d history %d", q.Remaining(), q.HistoryLen())
	}
	if done < 196 {
		t.Fatalf("done %d", done)
	}
}

func TestCorruptRecordsSkipped(t *testing.T) {
	dir := t.TempDir()
	q := open(t, dir, Options{})
	mustPut(t, q, mkItem(api.Int(0), "good"))
	mustPut(t, q, mkItem(api.Int(1), "h"))
	mustGet(t, q)
	mustGet(t, q)
	q.Done("h", mkEntry(mkItem(api.Int(1), "h"), "success"))
	mustPut(t, q, mkItem(api.Int(2), "good2"))
	q.Close()

	db, err := bolt.Open(filepath.Join(dir, fileName), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, kv := range []struct {
			b string
			k []byte
			v string
		}{
			{"pending", key(100), `[1, "x"`},   // truncated JSON
			{"pending", key(101), `{"a": 1}`},  // not a tuple
			{"pending", []byte("short"), `[]`}, // bad key
			{"running", key(102), "\x07[]"},    // bad attempts
			{"history", key(103), "\xff\xff"},  // bad header
			{"history", key(104), "\x01zNOPE"}, // bad entry
		} {
			if err := tx.Bucket([]byte(kv.b)).Put(kv.k, []byte(kv.v)); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	q = open(t, dir, Options{Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if got := fmt.Sprint(ids(q.Pending())); got != "[good good2]" {
		t.Fatal(got)
	}
	if q.HistoryLen() != 1 {
		t.Fatal(q.HistoryLen())
	}
	if c := strings.Count(logBuf.String(), "skipping corrupt record"); c != 6 {
		t.Fatalf("%d warnings:\n%s", c, logBuf.String())
	}
	q.Close()
	// The bad records were dropped: no warnings the second time.
	logBuf.Reset()
	q = open(t, dir, Options{Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if strings.Contains(logBuf.String(), "corrupt") {
		t.Fatalf("warnings again:\n%s", logBuf.String())
	}
}

func TestDamagedFileMovedAside(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, fileName)
	if err := os.WriteFile(path, bytes.Repeat([]byte("not a bolt file "), 1024), 0o644); err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	q := open(t, dir, Options{Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	mustPut(t, q, mkItem(api.Int(0), "a"))
	if !strings.Contains(logBuf.String(), "state file is damaged") {
		t.Fatal(logBuf.String())
	}
	m, _ := filepath.Glob(path + ".corrupt-*")
	if len(m) != 1 {
		t.Fatal("damaged file not kept aside:", m)
	}
}

// failStore fails every Apply after the first n.
type failStore struct {
	memStore
	n int
}

func (f *failStore) Apply(*Batch) error {
	if f.n <= 0 {
		return errors.New("disk full")
	}
	f.n--
	return nil
}

func TestStoreErrorsLeaveMemoryUnchanged(t *testing.T) {
	fs := &failStore{n: 1}
	q, err := OpenStore(fs, Options{Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, q, mkItem(api.Int(0), "a"))
	if err := q.Put(mkItem(api.Int(1), "b")); err == nil {
		t.Fatal("Put succeeded on a failing store")
	}
	if _, err := q.Get(context.Background()); err == nil {
		t.Fatal("Get succeeded on a failing store")
	}
	if q.Delete([]string{"a"}) != 0 || q.Clear() != 0 {
		t.Fatal("delete reported success")
	}
	if got := fmt.Sprint(ids(q.Pending())); got != "[a]" || len(q.Running()) != 0 {
		t.Fatal(got)
	}
}

func TestLockedFileFailsFast(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the lock timeout")
	}
	dir := t.TempDir()
	open(t, dir, Options{})
	start := time.Now()
	if _, err := Open(dir, Options{Logger: quietLog()}); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatal(err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("waited too long for the lock")
	}
	// And the file was not moved aside as "damaged".
	if m, _ := filepath.Glob(filepath.Join(dir, fileName+".corrupt-*")); len(m) != 0 {
		t.Fatal(m)
	}
}

func TestDeleteAndClearRecovered(t *testing.T) {
	dir := t.TempDir()
	q := open(t, dir, Options{})
	for i, id := range []string{"r1", "r2", "p"} {
		mustPut(t, q, mkItem(api.Int(int64(i)), id))
	}
	mustGet(t, q)
	mustGet(t, q) // two workers were running r1 and r2
	q.store.Close()

	q = open(t, dir, Options{})
	if got := fmt.Sprint(ids(q.Pending())); got != "[r1 r2 p]" {
		t.Fatal(got)
	}
	// A user may cancel a prompt that is waiting to be re-run.
	if n := q.Delete([]string{"r2"}); n != 1 {
		t.Fatal(n)
	}
	q.Close()
	q = open(t, dir, Options{})
	if got := fmt.Sprint(ids(q.Pending())); got != "[r1 p]" {
		t.Fatal("after reopen:", got)
	}
	if n := q.Clear(); n != 2 {
		t.Fatal(n)
	}
	q.Close()
	q = open(t, dir, Options{})
	if q.Remaining() != 0 || q.HistoryLen() != 0 {
		t.Fatal("cleared items came back", q.Remaining(), q.HistoryLen())
	}
}

// TestImports keeps the package's dependencies to what its doc allows: the
// standard library, api and the embedded store.
func TestImports(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		pf, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range pf.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(p, "/")
			if strings.Contains(first, ".") && p != "github.com/comfyd/comfyd/api" && !strings.HasPrefix(p, "go.etcd.io/bbolt") {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}

// TestCloseReleasesRunning: an orderly Close is not a crash. The prompt that
// was running runs again first, and two crashes are still needed after
// that to record it as failed.
func TestCloseReleasesRunning(t *testing.T) {
	dir := t.TempDir()
	q := open(t, dir, Options{})
	mustPut(t, q, mkItem(api.Int(0), "a"))
	mustPut(t, q, mkItem(api.Int(1), "b"))
	mustGet(t, q)
	for range 3 { // three orderly restarts while "a" runs
		q.Close()
		q = open(t, dir, Options{})
		if got := fmt.Sprint(ids(q.Pending())); got != "[a b]" {
			t.Fatal(got)
		}
		if mustGet(t, q).PromptID != "a" {
			t.Fatal("a not first")
		}
	}
	q.store.Close() // crash 1
	q = open(t, dir, Options{})
	if _, ok := q.HistoryItem("a"); ok || mustGet(t, q).PromptID != "a" {
		t.Fatal("a not re-run after one crash")
	}
	q.store.Close() // crash 2
	q = open(t, dir, Options{})
	if e, ok := q.HistoryItem("a"); !ok || e.Status.StatusStr != "error" {
		t.Fatal("a not failed after two crashes")
	}
}

func TestRelease(t *testing.T) {
	both(t, func(t *testing.T, dir string) {
		q := open(t, dir, Options{})
		for i, id := range []string{"a", "b", "c"} {
			mustPut(t, q, mkItem(api.Int(int64(i)), id))
		}
		mustGet(t, q)
		mustGet(t, q)
		if err := q.Release("b"); err != nil {
			t.Fatal(err)
		}
		if err := q.Release("a"); err != nil {
			t.Fatal(err)
		}
		if err := q.Release("a"); !errors.Is(err, ErrNotRunning) {
			t.Fatal(err)
		}
		if got := fmt.Sprint(ids(q.Pending())); got != "[a b c]" || len(q.Running()) != 0 || q.Remaining() != 3 {
			t.Fatal(got)
		}
		if dir != "" {
			q.store.Close() // even a crash now does not count against a or b
			q = open(t, dir, Options{})
		}
		if got := fmt.Sprint(drain(t, q)); got != "[a b c]" {
			t.Fatal(got)
		}
	})
}

func TestDefaultHistoryBound(t *testing.T) {
	q := open(t, "", Options{})
	small := func(i int) api.QueueItem {
		return api.QueueItem{Number: api.Int(int64(i)), PromptID: fmt.Sprintf("h%05d", i), Prompt: api.NewObject()}
	}
	for i := range DefaultMaxHistory + 3 {
		mustPut(t, q, small(i))
		mustGet(t, q)
		if err := q.Done(small(i).PromptID, api.HistoryEntry{Prompt: small(i)}); err != nil {
			t.Fatal(err)
		}
	}
	// ComfyUI's MAXIMUM_HISTORY_SIZE arithmetic: 10,001 entries at most.
	rs := q.HistoryJSON(nil, nil)
	if len(rs) != DefaultMaxHistory+1 || rs[0].PromptID != "h00002" || rs[len(rs)-1].PromptID != "h10002" {
		t.Fatal(len(rs), rs[0].PromptID, rs[len(rs)-1].PromptID)
	}
}
