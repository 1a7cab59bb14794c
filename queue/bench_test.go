package queue

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/comfyd/comfyd/api"
)

// benchPrompt is the txt2img prompt of the spec (§5.1).
const benchPrompt = `{
 "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}, "_meta": {"title": "Load Checkpoint"}},
 "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
 "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["4", 1]}},
 "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 1]}},
 "3": {"class_type": "KSampler", "inputs": {"seed": 42, "steps": 20, "cfg": 8.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
 "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
 "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}}}`

// benchItem is a realistic queue item: the prompt above plus a frontend
// workflow in extra_pnginfo (~6 KB encoded in all).
func benchItem(tb testing.TB, i int) api.QueueItem {
	p, err := api.Decode([]byte(benchPrompt))
	if err != nil {
		tb.Fatal(err)
	}
	var nodes []any
	for n := range 7 {
		nodes = append(nodes, api.ObjectOf("id", api.Int(int64(n)), "type", "KSampler",
			"pos", []any{api.Float(100.5), api.Float(200.25)}, "size", []any{api.Int(315), api.Int(262)},
			"flags", api.NewObject(), "order", api.Int(int64(n)), "mode", api.Int(0),
			"inputs", []any{api.ObjectOf("name", "model", "type", "MODEL", "link", api.Int(1))},
			"outputs", []any{api.ObjectOf("name", "LATENT", "type", "LATENT", "links", []any{api.Int(7)}, "slot_index", api.Int(0))},
			"properties", api.ObjectOf("Node name for S&R", "KSampler"),
			"widgets_values", []any{api.Int(42), "randomize", api.Int(20), api.Float(8), "euler", "normal", api.Float(1)}))
	}
	wf := api.ObjectOf("last_node_id", api.Int(9), "last_link_id", api.Int(9), "nodes", nodes,
		"links", []any{}, "groups", []any{}, "config", api.NewObject(), "extra", api.ObjectOf("ds", api.ObjectOf("scale", api.Float(1))), "version", api.Float(0.4))
	return api.QueueItem{
		Number:    api.Int(int64(i)),
		PromptID:  fmt.Sprintf("%08d-1f2e-4c3b-9a8d-7e6f5a4b3c2d", i),
		Prompt:    p.(*api.Object),
		ExtraData: api.ObjectOf("extra_pnginfo", api.ObjectOf("workflow", wf), "client_id", "9f0c2a7e3b1d4c5f8a6b"),
		Outputs:   []string{"9"},
	}
}

func benchEntry(it api.QueueItem) api.HistoryEntry {
	msg := func(ev string) api.StatusMessage {
		return api.StatusMessage{Event: ev, Data: api.ObjectOf("prompt_id", it.PromptID, "timestamp", api.Int(1728700000123))}
	}
	return api.HistoryEntry{
		Prompt: it,
		Outputs: api.ObjectOf("9", api.ObjectOf("images", []any{
			api.ObjectOf("filename", "ComfyUI_00001_.png", "subfolder", "", "type", "output")})),
		Status: api.HistoryStatus{StatusStr: "success", Completed: true, Messages: []api.StatusMessage{
			msg("execution_start"), msg("execution_cached"), msg("execution_success")}},
		Meta: map[string]api.NodeMeta{"9": {NodeID: "9", DisplayNode: "9", RealNodeID: "9"}},
	}
}

// reportLatency adds the median and 99th percentile of per-call times.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// cpuMeter reports the process's CPU time per operation as "cpu-µs/op".
type cpuMeter struct{ start float64 }

func startCPU() cpuMeter { return cpuMeter{processCPU()} }

func (m cpuMeter) report(b *testing.B, ops int) {
	if ops > 0 && m.start > 0 {
		b.ReportMetric((processCPU()-m.start)*1e6/float64(ops), "cpu-µs/op")
	}
}

func benchStores(b *testing.B, f func(b *testing.B, dir string, opts Options)) {
	b.Run("memory", func(b *testing.B) { f(b, "", Options{}) })
	b.Run("bbolt", func(b *testing.B) { f(b, b.TempDir(), Options{}) })
	b.Run("bbolt-sync", func(b *testing.B) { f(b, b.TempDir(), Options{SyncWrites: true}) })
}

// BenchmarkPut measures Put's acknowledgement latency (encode + store).
func BenchmarkPut(b *testing.B) {
	benchStores(b, func(b *testing.B, dir string, opts Options) {
		q := open(b, dir, opts)
		it := benchItem(b, 0)
		b.SetBytes(int64(len(api.MustMarshal(it))))
		lat := make([]time.Duration, 0, 1<<16)
		i := 0
		cpu := startCPU()
		for b.Loop() {
			it.PromptID = fmt.Sprintf("p%09d", i)
			i++
			t0 := time.Now()
			if err := q.Put(it); err != nil {
				b.Fatal(err)
			}
			if len(lat) < cap(lat) {
				lat = append(lat, time.Since(t0))
			}
		}
		cpu.report(b, i)
		reportLatency(b, lat)
	})
}

// BenchmarkAppendBaseline is the floor an append-only log would have for the
// same records: one write(2) per Put (and an fsync for the -sync case).
func BenchmarkAppendBaseline(b *testing.B) {
	for _, sync := range []bool{false, true} {
		name := "write"
		if sync {
			name = "write+fsync"
		}
		b.Run(name, func(b *testing.B) {
			f, err := os.OpenFile(filepath.Join(b.TempDir(), "log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			it := benchItem(b, 0)
			b.SetBytes(int64(len(api.MustMarshal(it))))
			lat := make([]time.Duration, 0, 1<<16)
			n := 0
			cpu := startCPU()
			for b.Loop() {
				n++
				t0 := time.Now()
				raw, _ := api.Marshal(it) // Put encodes too
				if _, err := f.Write(raw); err != nil {
					b.Fatal(err)
				}
				if sync {
					if err := f.Sync(); err != nil {
						b.Fatal(err)
					}
				}
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(t0))
				}
			}
			cpu.report(b, n)
			reportLatency(b, lat)
		})
	}
}

// BenchmarkGetDone measures one worker round trip: Get (durably running)
// then Done (history append, evicting beyond 10,000). The items are put
// before the timer starts.
func BenchmarkGetDone(b *testing.B) {
	benchStores(b, func(b *testing.B, dir string, opts Options) {
		q := open(b, dir, opts)
		base := benchItem(b, 0)
		for i := range b.N {
			it := base
			it.PromptID = fmt.Sprintf("p%09d", i)
			it.Number = api.Int(int64(i))
			if err := q.Put(it); err != nil {
				b.Fatal(err)
			}
		}
		ctx := context.Background()
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		cpu := startCPU()
		for range b.N {
			t0 := time.Now()
			got, err := q.Get(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if err := q.Done(got.PromptID, benchEntry(got)); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		b.StopTimer()
		cpu.report(b, b.N)
		reportLatency(b, lat)
	})
}

// fillHistory gives q n history entries (through the store, as the worker
// would) and returns it.
func fillHistory(b *testing.B, q *Queue, n int) {
	base := benchItem(b, 0)
	ctx := context.Background()
	for i := range n {
		it := base
		it.PromptID = fmt.Sprintf("%08d-1f2e-4c3b-9a8d-7e6f5a4b3c2d", i)
		if err := q.Put(it); err != nil {
			b.Fatal(err)
		}
		got, err := q.Get(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := q.Done(got.PromptID, benchEntry(got)); err != nil {
			b.Fatal(err)
		}
	}
}

// historyBody builds GET /history's body from the records as the server
// would: {"id": entry, ...} from the stored JSON.
func historyBody(buf *bytes.Buffer, rs []HistoryRecord) {
	buf.Reset()
	buf.WriteByte('{')
	for i, r := range rs {
		if i > 0 {
			buf.WriteString(", ")
		}
		buf.Write(api.MustMarshal(r.PromptID))
		buf.WriteString(": ")
		buf.Write(r.JSON)
	}
	buf.WriteByte('}')
}

// BenchmarkHistory10k: GET /history?max_items=200 (and the whole history)
// with 10,000 entries, after a restart (entries loaded lazily): the window
// plus building the response body from the stored JSON.
func BenchmarkHistory10k(b *testing.B) {
	dir := b.TempDir()
	q := open(b, dir, Options{})
	fillHistory(b, q, 10000)
	q.Close()
	q = open(b, dir, Options{})
	var buf bytes.Buffer
	for _, c := range []struct {
		name string
		max  *int
	}{{"last200", ip(200)}, {"all", nil}} {
		b.Run(c.name, func(b *testing.B) {
			n := 0
			cpu := startCPU()
			for b.Loop() {
				historyBody(&buf, q.HistoryJSON(c.max, nil))
				n++
			}
			cpu.report(b, n)
			b.ReportMetric(float64(buf.Len())/1e6, "MB/resp")
		})
	}
	// History with decoded entries: the first call decodes the window,
	// later ones reuse it.
	b.Run("last200-entries", func(b *testing.B) {
		n := 0
		cpu := startCPU()
		for b.Loop() {
			q.History(ip(200), nil)
			n++
		}
		cpu.report(b, n)
	})
	rs := q.HistoryJSON(ip(200), nil)
	b.Run("decode200", func(b *testing.B) {
		for b.Loop() {
			for _, r := range rs {
				if _, err := decodeEntry(r.JSON); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	full := q.History(ip(200), nil)
	b.Run("encode200", func(b *testing.B) {
		for b.Loop() {
			for _, r := range full {
				api.MustMarshal(r.Entry)
			}
		}
	})
}

// BenchmarkOpen10k measures start-up with 10,000 history entries stored.
func BenchmarkOpen10k(b *testing.B) {
	dir := b.TempDir()
	q := open(b, dir, Options{})
	fillHistory(b, q, 10000)
	q.Close()
	n := 0
	cpu := startCPU()
	for b.Loop() {
		q, err := Open(dir, Options{Logger: quietLog()})
		if err != nil {
			b.Fatal(err)
		}
		if q.HistoryLen() != 10000 {
			b.Fatal(q.HistoryLen())
		}
		q.Close()
		n++
	}
	cpu.report(b, n)
}
