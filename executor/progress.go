package executor

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/node"
)

func nan() float64 { return math.NaN() }

// progress is ComfyUI's ProgressRegistry: per node state in first-touch
// order. progress_state lists every non-pending node on every change, so
// a long chain sends quadratically many entries (as ComfyUI does); entries
// are kept as immutable *api.NodeProgress values in a copy-on-write slice
// so that a message costs a slice header, not a rebuilt object.
type progress struct {
	idx     map[string]int
	st      []*pstate
	entries []*entry // nil while pending
	shared  bool     // entries' backing array is referenced by a sent snapshot
}

// entry is one immutable progress_state node entry with its JSON, encoded
// once: the same entry is repeated in every later message.
type entry struct {
	np   *api.NodeProgress
	json []byte
}

type pstate struct {
	id         string
	state      string
	value, max any
}

func newProgress() *progress { return &progress{idx: map[string]int{}} }

func (p *progress) ensure(id string) (*pstate, int) {
	if i, ok := p.idx[id]; ok {
		return p.st[i], i
	}
	// ensure_entry starts at integer 0 of 1 (a cached output node goes
	// straight to finished with value 1 / max 1).
	s := &pstate{id: id, state: "pending", value: api.Int(0), max: api.Int(1)}
	p.idx[id] = len(p.st)
	p.st = append(p.st, s)
	p.entries = append(p.entries, nil)
	return s, len(p.st) - 1
}

// ProgressState is the data of a progress_state message: it marshals
// exactly as api.ProgressState ({"prompt_id", "nodes": {id: entry}}) but
// shares its entries with the executor's registry snapshot.
type ProgressState struct {
	PromptID string
	entries  []*entry
}

// Nodes returns the nodes object (unique id -> *api.NodeProgress).
func (p ProgressState) Nodes() *api.Object {
	o := api.NewObject()
	for _, e := range p.entries {
		if e != nil {
			o.Set(e.np.NodeID, e.np)
		}
	}
	return o
}

// MarshalJSON writes the message data in ComfyUI's key order.
func (p ProgressState) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"prompt_id":`)
	b.Write(api.MustMarshal(p.PromptID))
	b.WriteString(`,"nodes":{`)
	first := true
	for _, e := range p.entries {
		if e == nil {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.Write(e.json)
	}
	b.WriteString("}}")
	return b.Bytes(), nil
}

// progressNumber keeps integral progress values integers (samplers report
// step counts) and others floats.
func progressNumber(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return api.Int(int64(f))
	}
	return api.Float(f)
}

// setState records a node's new state and sends progress_state with every
// non-pending node; caller holds r.mu.
func (r *run) setState(id, state string, value, max any) {
	p := r.progress
	s, i := p.ensure(id)
	s.state, s.value, s.max = state, value, max
	if p.shared {
		p.entries = append([]*entry(nil), p.entries...)
		p.shared = false
	}
	np := &api.NodeProgress{Value: s.value, Max: s.max, State: s.state, NodeID: id, PromptID: r.promptID,
		DisplayNodeID: r.dp.DisplayID(id), ParentNodeID: r.dp.ParentID(id), RealNodeID: r.dp.RealID(id)}
	p.entries[i] = &entry{np: np, json: append(append(api.MustMarshal(id), ':'), api.MustMarshal(np)...)}
	p.shared = true
	r.sendClientOrAll(api.EventProgressState, ProgressState{PromptID: r.promptID, entries: p.entries[:len(p.entries):len(p.entries)]})
}

func (r *run) progressStart(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.setState(id, "running", api.Float(0), api.Float(1))
}

func (r *run) progressFinish(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, _ := r.progress.ensure(id)
	r.setState(id, "finished", s.max, s.max)
}

// Progress implements node.Reporter: progress_state, then progress. As
// ComfyUI's hook raises before sending, nothing is sent once interrupted.
func (r *run) Progress(c *node.Context, value, max float64) {
	if r.ctx.Err() != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	v, m := progressNumber(value), progressNumber(max)
	r.setState(c.UniqueID, "running", v, m)
	r.sendClientOrAll(api.EventProgress, api.Progress{Value: v, Max: m, PromptID: r.promptID, Node: c.UniqueID})
}

// Preview implements node.Reporter: a JPEG (quality 95) scaled to fit
// PreviewSize, as a type-4 frame to a client that negotiated preview
// metadata, else type 1 (to everyone without a client). Nothing with
// --preview-method none.
func (r *run) Preview(c *node.Context, img image.Image) {
	if r.e.opts.PreviewMethod == "none" || img == nil || r.ctx.Err() != nil {
		return
	}
	img = fitImage(img, r.e.opts.PreviewSize)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	sink := r.sink()
	if r.clientID != "" && sink.SupportsPreviewMetadata(r.clientID) {
		meta := api.PreviewMetadata{NodeID: c.UniqueID, PromptID: r.promptID, DisplayNodeID: c.DisplayID,
			ParentNodeID: c.ParentID, RealNodeID: c.RealID, ImageType: "image/jpeg"}
		sink.SendBinary(r.clientID, api.PreviewMetadataFrame(meta, buf.Bytes()))
		return
	}
	sink.SendBinary(r.clientID, api.PreviewFrame(api.ImageFormatJPEG, buf.Bytes()))
}

// Text implements node.Reporter: a type-3 frame to everyone (ComfyUI's core
// callers pass no sid).
func (r *run) Text(c *node.Context, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sink().SendBinary("", api.TextFrame(c.UniqueID, text))
}

// fitImage scales img down (bilinear, aspect kept) to fit size×size, like
// PIL's thumbnail; smaller images are returned as they are.
func fitImage(img image.Image, size int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= size && h <= size || w == 0 || h == 0 {
		return img
	}
	nw, nh := size, size
	if w >= h {
		nh = max(1, int(math.Round(float64(h)*float64(size)/float64(w))))
	} else {
		nw = max(1, int(math.Round(float64(w)*float64(size)/float64(h))))
	}
	dst := image.NewRGBA(image.Rect(0, 0, nw, nh))
	sx, sy := float64(w)/float64(nw), float64(h)/float64(nh)
	at := func(x, y int) [4]float64 {
		cr, cg, cb, ca := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
		return [4]float64{float64(cr), float64(cg), float64(cb), float64(ca)}
	}
	for y := 0; y < nh; y++ {
		fy := math.Max(0, (float64(y)+0.5)*sy-0.5)
		y0 := int(fy)
		y1 := min(y0+1, h-1)
		ty := fy - float64(y0)
		for x := 0; x < nw; x++ {
			fx := math.Max(0, (float64(x)+0.5)*sx-0.5)
			x0 := int(fx)
			x1 := min(x0+1, w-1)
			tx := fx - float64(x0)
			a, bb, c, d := at(x0, y0), at(x1, y0), at(x0, y1), at(x1, y1)
			var px [4]uint8
			for i := 0; i < 4; i++ {
				v := (a[i]*(1-tx)+bb[i]*tx)*(1-ty) + (c[i]*(1-tx)+d[i]*tx)*ty
				px[i] = uint8(math.Round(v / 257))
			}
			dst.SetRGBA(x, y, color.RGBA{px[0], px[1], px[2], px[3]})
		}
	}
	return dst
}
