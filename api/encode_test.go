package api

import (
	"bytes"
	"encoding/json"
	"testing"
)

// refMarshal is Marshal's definition spelled out with encoding/json only
// (the implementation before the direct encoder): every *Object writes its
// keys with json.Marshal and its values with refMarshal.
func refMarshal(v any) ([]byte, error) { return appendStd(nil, refConvert(v)) }

type refObject struct{ o *Object }

func (r refObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range r.o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := refMarshal(r.o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func refConvert(v any) any {
	switch t := v.(type) {
	case *Object:
		if t == nil {
			return nil
		}
		return refObject{t}
	case []any:
		if t == nil {
			return t
		}
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = refConvert(x)
		}
		return out
	case QueueItem:
		outs := t.Outputs
		if outs == nil {
			outs = []string{}
		}
		extra := t.ExtraData
		if extra == nil {
			extra = NewObject()
		}
		return refConvert([]any{t.Number, t.PromptID, t.Prompt, extra, outs})
	}
	return v
}

func checkSame(t *testing.T, v any) {
	t.Helper()
	got, gerr := Marshal(v)
	want, werr := refMarshal(v)
	if (gerr == nil) != (werr == nil) || !bytes.Equal(got, want) {
		t.Fatalf("Marshal(%#v)\n got %s (%v)\nwant %s (%v)", v, got, gerr, want, werr)
	}
}

func TestMarshalMatchesEncodingJSON(t *testing.T) {
	for _, v := range []any{
		nil, true, false, "", "plain", "<a&b>", "q\"b\\s\n\r\t\b\f\x00\x1f\x7f", "\u2028\u2029", "bad\xffutf8\xc3",
		"héllo 日本 🎨", json.Number("0"), json.Number(""), json.Number("-12.5e+3"), json.Number("18446744073709551615"),
		json.Number("01"), json.Number("1."), json.Number("abc"), Float(0.1), Float(8), Float(1e-5), Float(1e16), Float(-0.0),
		[]any{}, []any(nil), []string(nil), []string{"a", "<"}, (*Object)(nil),
		ObjectOf("<k>", "<v>", "n", nil, "nested", ObjectOf("a", []any{Int(1), Float(2), ObjectOf()})),
		QueueItem{Number: Int(3), PromptID: "p", Prompt: ObjectOf("9", ObjectOf("class_type", "SaveImage"))},
		HistoryEntry{Prompt: QueueItem{Number: Float(-1), PromptID: "x"}, Outputs: NewObject(),
			Status: HistoryStatus{StatusStr: "success", Messages: []StatusMessage{{Event: "execution_start", Data: ObjectOf("t", Int(1))}}},
			Meta:   map[string]NodeMeta{"9": {NodeID: "9"}}},
		HistoryEntry{}, HistoryEntry{Meta: map[string]NodeMeta{"b<": {ParentNode: new(string)}, "a": {NodeID: "a&", RealNodeID: "\u2028"}},
			Status: HistoryStatus{Messages: []StatusMessage{{Event: "execution_error", Data: ExecutionError{PromptID: "p", CurrentInputs: ObjectOf("x", Float(1))}}}}},
		StatusMessage{Event: "e", Data: []any{Float(0.5), nil}}, []any{HistoryEntry{Outputs: ObjectOf("9", nil)}},
		map[string]any{"z": ObjectOf("b", Int(1), "a", Int(2))}, 3, 2.5, Link{"4", 1},
	} {
		checkSame(t, v)
	}
}

func FuzzMarshalMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{"b": 1, "a": [1.0, 2, {"<x>": "&"}], "c": null, "d": true}`,
		`["\u2028", "\ud83c\udfa8", "\u0000", 1e-7, -0.0, 123456789012345678901234567890]`,
		`{"9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0]}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Decode(data)
		if err != nil {
			return
		}
		checkSame(t, v)
	})
}

func BenchmarkMarshalQueueItem(b *testing.B) {
	v, err := Decode([]byte(`{"4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}, "_meta": {"title": "Load Checkpoint"}},
 "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
 "3": {"class_type": "KSampler", "inputs": {"seed": 42, "steps": 20, "cfg": 8.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
 "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}}}`))
	if err != nil {
		b.Fatal(err)
	}
	it := QueueItem{Number: Int(1), PromptID: "p", Prompt: v.(*Object), ExtraData: ObjectOf("client_id", "c")}
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			Marshal(it)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			refMarshal(it)
		}
	})
}
