package queue

import (
	"bytes"
	"testing"
	"time"

	"github.com/comfyd/comfyd/api"
)

func TestDecodeEntryRoundTrip(t *testing.T) {
	parent := "12"
	for _, e := range []api.HistoryEntry{
		mkEntry(mkItem(api.Float(-1.5), "a"), "success"),
		{Prompt: mkItem(api.Int(0), "b")},
		{Prompt: mkItem(api.Int(1), "c"), Outputs: api.NewObject(), Status: api.HistoryStatus{Messages: []api.StatusMessage{}},
			Meta: map[string]api.NodeMeta{"12.0.0.3": {NodeID: "12.0.0.3", DisplayNode: "12", ParentNode: &parent, RealNodeID: "3"}}},
		restartErrorEntry(mkItem(api.Int(2), "d"), time.Unix(1728700000, 0)),
	} {
		raw := api.MustMarshal(e)
		got, err := decodeEntry(raw)
		if err != nil {
			t.Fatal(err)
		}
		if again := api.MustMarshal(got); !bytes.Equal(again, raw) {
			t.Fatalf("round trip\n%s\n%s", again, raw)
		}
	}
	for _, bad := range []string{`[]`, `{"prompt": [1, 2]}`, `{"prompt": [0, "x", {}, {}, []], "status": {"messages": [["a"]]}}`, `{`} {
		if _, err := decodeEntry([]byte(bad)); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
}

func TestHistoryJSONMatches(t *testing.T) {
	dir := t.TempDir()
	q := open(t, dir, Options{})
	for _, id := range []string{"a", "b", "c"} {
		mustPut(t, q, mkItem(api.Int(q.NextNumber()), id))
		it := mustGet(t, q)
		q.Done(id, mkEntry(it, "success"))
	}
	check := func() {
		t.Helper()
		full, raw := q.History(ip(2), nil), q.HistoryJSON(ip(2), nil)
		if len(full) != 2 || len(raw) != 2 {
			t.Fatal(len(full), len(raw))
		}
		for i := range full {
			if full[i].PromptID != raw[i].PromptID || !bytes.Equal(full[i].JSON, raw[i].JSON) ||
				!bytes.Equal(api.MustMarshal(full[i].Entry), raw[i].JSON) || raw[i].Entry.Prompt.PromptID != "" {
				t.Fatalf("record %d differs", i)
			}
		}
		if j, ok := q.HistoryItemJSON("b"); !ok || !bytes.Equal(j, full[0].JSON) {
			t.Fatal("HistoryItemJSON")
		}
		if _, ok := q.HistoryItemJSON("zz"); ok {
			t.Fatal("unknown id found")
		}
	}
	check()
	q.Close()
	q = open(t, dir, Options{})
	check() // lazily decoded this time
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add(api.MustMarshal(mkEntry(mkItem(api.Int(1), "a"), "success")))
	f.Add([]byte(`{"prompt": null, "outputs": 5, "status": {"messages": [[1, 2]]}, "meta": {"x": 3}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(b)
		if err == nil {
			api.Marshal(e) // must not panic (1e400 decodes to +Inf, which does not encode)
		}
	})
}
