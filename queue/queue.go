package queue

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/comfyd/comfyd/api"
)

// DefaultMaxHistory is ComfyUI's MAXIMUM_HISTORY_SIZE.
const DefaultMaxHistory = 10000

// Options configures a Queue.
type Options struct {
	// MaxHistory bounds the history: when more than MaxHistory entries exist,
	// the oldest is dropped before a new one is added, so the size tops out
	// at MaxHistory+1 (ComfyUI's arithmetic). 0 means DefaultMaxHistory.
	MaxHistory int
	// SyncWrites makes every acknowledged change survive power loss (fsync
	// before returning), not only the death of the process.
	SyncWrites bool
	// Logger receives warnings about skipped records; nil means slog.Default().
	Logger *slog.Logger
}

// Errors returned by the Queue.
var (
	ErrClosed     = errors.New("queue: closed")
	ErrNotRunning = errors.New("queue: prompt is not running")
)

// Restart error reported in history for a prompt during which comfyd died twice.
const (
	RestartErrorType    = "comfyd.RestartError"
	RestartErrorMessage = "comfyd stopped twice while running this prompt\n"
)

// HistoryRecord is one history entry with its key.
type HistoryRecord struct {
	PromptID string
	Entry    api.HistoryEntry // zero in HistoryJSON's records
	// JSON is the entry as stored (read-only): GET /history writes it as the
	// value of PromptID instead of marshalling Entry again.
	JSON []byte
}

// ritem is a running item, or one waiting to run again first: it was
// running when the previous process died (attempts 1) or when the queue was
// closed or the item released (attempts 0).
type ritem struct {
	seq      uint64
	item     api.QueueItem
	raw      []byte
	attempts byte // runs started that did not end in Done or a release: 1 or 2 while running
}

// runningValue is the stored form of a running (or released) item.
func runningValue(attempts byte, raw []byte) []byte {
	v := make([]byte, 0, 1+len(raw))
	return append(append(v, attempts), raw...)
}

// hrec is a history entry, kept as its JSON only: GET /history writes the
// bytes as they are, and 10,000 entries as pointer-free byte slices cost the
// garbage collector nothing to scan, where 10,000 decoded prompt trees (tens
// of maps each) made every GC cycle of the process slower.
type hrec struct {
	hseq uint64
	id   string
	json []byte
}

// decoded parses the entry. Its checksum was verified at load (or it was
// encoded by this process), so an error means a bug of ours: serve what
// decoded.
func (h *hrec) decoded() api.HistoryEntry {
	e, err := decodeEntry(h.json)
	if err != nil {
		slog.Warn("queue: history entry does not decode", "prompt_id", h.id, "err", err)
	}
	return e
}

func (h *hrec) record() HistoryRecord {
	return HistoryRecord{PromptID: h.id, Entry: h.decoded(), JSON: h.json}
}

// Queue is ComfyUI's PromptQueue made durable. All methods are safe for
// concurrent use. Items handed to Put are owned by the Queue afterwards, and
// the items Pending and Running hand out are shared: callers must not modify
// them (Get returns a deep copy). Done encodes its entry and keeps only the
// JSON.
type Queue struct {
	store      Store
	maxHistory int
	log        *slog.Logger
	counter    atomic.Int64
	wake       chan struct{} // one slot: "something may be pending"
	done       chan struct{} // closed by Close

	// wmu serialises mutations and Store calls; taken before mu.
	wmu    sync.Mutex
	seq    uint64 // next pending key
	hseq   uint64 // next history key
	closed bool

	// mu guards the state below; writers hold wmu too.
	mu        sync.RWMutex
	recovered []*ritem // interrupted by a restart: run first, in key order
	heap      []*pitem // Python heapq layout
	running   []*ritem
	hist      []*hrec // completion order (ascending hseq)
	hindex    map[string]*hrec
}

// Open opens (creating) the durable queue and history under dir, comfyd's
// own state folder. dir == "" keeps everything in memory, as ComfyUI does.
func Open(dir string, opts Options) (*Queue, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if dir == "" {
		return OpenStore(memStore{}, opts)
	}
	s, err := openBolt(dir, opts.SyncWrites, log)
	if err != nil {
		return nil, err
	}
	return OpenStore(s, opts)
}

// OpenStore builds a Queue on any Store, loading what it holds. It takes
// ownership of s: Close closes it, and so does a failed OpenStore.
func OpenStore(s Store, opts Options) (*Queue, error) {
	q := &Queue{
		store:      s,
		maxHistory: opts.MaxHistory,
		log:        opts.Logger,
		wake:       make(chan struct{}, 1),
		done:       make(chan struct{}),
		hindex:     map[string]*hrec{},
		seq:        1,
		hseq:       1,
	}
	if q.maxHistory <= 0 {
		q.maxHistory = DefaultMaxHistory
	}
	if q.log == nil {
		q.log = slog.Default()
	}
	if err := q.load(); err != nil {
		s.Close()
		return nil, err
	}
	if q.Remaining() > 0 {
		q.signal()
	}
	return q, nil
}

// load reads the store and repairs what a crash left: corrupt records are
// dropped, a prompt that died twice becomes an error entry, and an
// over-long history is trimmed.
func (q *Queue) load() error {
	var fix Batch
	var maxNumber int64
	seen := func(n any) {
		if i, ok := asInt64(n); ok && i >= maxNumber {
			maxNumber = i + 1
		}
	}
	bad := func(r Record, err error) {
		q.log.Warn("queue: skipping corrupt record", "kind", r.Kind.String(), "key", r.Key, "err", err)
		if r.Key != 0 {
			fix.Ops = append(fix.Ops, Op{Kind: r.Kind, Key: r.Key})
		}
	}
	var twice []*ritem
	counter, err := q.store.Load(func(r Record) error {
		switch r.Kind {
		case KindPending:
			it, err := decodeItem(r.Value)
			if err != nil {
				bad(r, err)
				return nil
			}
			seen(it.Number)
			raw := slices.Clone(r.Value)
			q.heap = heapPush(q.heap, &pitem{seq: r.Key, item: it, raw: raw})
			q.seq = max(q.seq, r.Key+1)
		case KindRunning:
			if len(r.Value) < 1 || r.Value[0] > 2 {
				bad(r, errors.New("bad attempts header"))
				return nil
			}
			it, err := decodeItem(r.Value[1:])
			if err != nil {
				bad(r, err)
				return nil
			}
			seen(it.Number)
			ri := &ritem{seq: r.Key, item: it, raw: slices.Clone(r.Value[1:]), attempts: r.Value[0]}
			if ri.attempts < 2 {
				q.recovered = append(q.recovered, ri)
			} else {
				twice = append(twice, ri)
			}
			q.seq = max(q.seq, r.Key+1)
		case KindHistory:
			id, raw, err := decodeHistoryValue(r.Value)
			if err != nil {
				bad(r, err)
				return nil
			}
			h := &hrec{hseq: r.Key, id: id, json: slices.Clone(raw)}
			if old := q.hindex[id]; old != nil {
				// Cannot happen through this package (an id is replaced in
				// place); keep the newer record.
				fix.Ops = append(fix.Ops, Op{Kind: KindHistory, Key: old.hseq})
				q.hist = slices.DeleteFunc(q.hist, func(x *hrec) bool { return x == old })
			}
			q.hist = append(q.hist, h)
			q.hindex[id] = h
			q.hseq = max(q.hseq, r.Key+1)
		default:
			bad(r, errors.New("unknown kind"))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("queue: loading state: %w", err)
	}
	q.counter.Store(max(counter, maxNumber))

	// Trim a history stored under a larger MaxHistory.
	for len(q.hist) > q.maxHistory+1 {
		fix.Ops = append(fix.Ops, Op{Kind: KindHistory, Key: q.hist[0].hseq})
		delete(q.hindex, q.hist[0].id)
		q.hist = q.hist[1:]
	}
	// Prompts during which the process died twice: record, don't re-run.
	now := time.Now()
	for _, ri := range twice {
		q.log.Warn("queue: comfyd stopped twice while running a prompt; recording it as failed",
			"prompt_id", ri.item.PromptID)
		entry := restartErrorEntry(ri.item, now)
		fix.Ops = append(fix.Ops, Op{Kind: KindRunning, Key: ri.seq})
		ops, commit, err := q.addHistory(ri.item.PromptID, entry)
		if err != nil {
			return err
		}
		fix.Ops = append(fix.Ops, ops...)
		commit()
	}
	if len(fix.Ops) > 0 {
		if err := q.apply(&fix); err != nil {
			return fmt.Errorf("queue: repairing state: %w", err)
		}
	}
	return nil
}

// History values are uvarint(len(id)), id, CRC-32C of the entry JSON, the
// entry JSON. The checksum lets Open reject a damaged entry without parsing
// it (entries are decoded lazily).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func encodeHistoryValue(id string, entryJSON []byte) []byte {
	v := binary.AppendUvarint(make([]byte, 0, 2+len(id)+4+len(entryJSON)), uint64(len(id)))
	v = append(v, id...)
	v = binary.BigEndian.AppendUint32(v, crc32.Checksum(entryJSON, castagnoli))
	return append(v, entryJSON...)
}

func decodeHistoryValue(v []byte) (id string, entryJSON []byte, err error) {
	n, w := binary.Uvarint(v)
	if w <= 0 || uint64(len(v)-w) < n+4 {
		return "", nil, errors.New("bad history record header")
	}
	id = string(v[w : w+int(n)])
	sum := binary.BigEndian.Uint32(v[w+int(n):])
	entryJSON = v[w+int(n)+4:]
	if crc32.Checksum(entryJSON, castagnoli) != sum {
		return "", nil, errors.New("history entry checksum mismatch")
	}
	return id, entryJSON, nil
}

// apply writes b through the store, with the current counter. wmu held.
func (q *Queue) apply(b *Batch) error {
	b.Counter = q.counter.Load()
	return q.store.Apply(b)
}

func (q *Queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Close persists the counter and closes the store. Blocked Gets return
// ErrClosed. Prompts still running are released (see Release): an orderly
// shutdown is not a crash, so they run again first after a restart without
// counting towards the twice-died rule.
func (q *Queue) Close() error {
	q.wmu.Lock()
	defer q.wmu.Unlock()
	if q.closed {
		return nil
	}
	var b Batch
	for _, r := range q.running {
		b.Ops = append(b.Ops, Op{Kind: KindRunning, Key: r.seq, Value: runningValue(0, r.raw)})
	}
	err := q.apply(&b)
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	close(q.done)
	if cerr := q.store.Close(); err == nil {
		err = cerr
	}
	return err
}

// NextNumber returns the next server-chosen number: ComfyUI's counter (the
// first is 0, then +1 per call). It is persisted with the next write, so
// numbers keep growing across restarts.
func (q *Queue) NextNumber() int64 { return q.counter.Add(1) - 1 }

// Put stores a pending item. When it returns nil the record has reached the
// OS (it survives kill -9; with SyncWrites, power loss too).
func (q *Queue) Put(item api.QueueItem) error {
	if item.PromptID == "" {
		return errors.New("queue: item without prompt_id")
	}
	raw, err := api.Marshal(item)
	if err != nil {
		return fmt.Errorf("queue: encoding item: %w", err)
	}
	q.wmu.Lock()
	defer q.wmu.Unlock()
	if q.closed {
		return ErrClosed
	}
	seq := q.seq
	if err := q.apply(&Batch{Ops: []Op{{Kind: KindPending, Key: seq, Value: raw}}}); err != nil {
		return err
	}
	q.seq++
	q.mu.Lock()
	q.heap = heapPush(q.heap, &pitem{seq: seq, item: item, raw: raw})
	q.mu.Unlock()
	q.signal()
	return nil
}

// Get blocks until an item is pending (or ctx ends, or the queue closes),
// pops the smallest (number, prompt_id), marks it running durably and
// returns a deep copy of it. A prompt that was running when the previous
// process died comes before everything else, once (see the package doc).
func (q *Queue) Get(ctx context.Context) (api.QueueItem, error) {
	for {
		it, ok, err := q.tryGet()
		if ok || err != nil {
			return it, err
		}
		select {
		case <-q.wake:
		case <-ctx.Done():
			return api.QueueItem{}, ctx.Err()
		case <-q.done:
			return api.QueueItem{}, ErrClosed
		}
	}
}

func (q *Queue) tryGet() (api.QueueItem, bool, error) {
	q.wmu.Lock()
	defer q.wmu.Unlock()
	if q.closed {
		return api.QueueItem{}, false, ErrClosed
	}
	var ri *ritem
	if len(q.recovered) > 0 {
		ri = q.recovered[0]
		v := runningValue(ri.attempts+1, ri.raw)
		if err := q.apply(&Batch{Ops: []Op{{Kind: KindRunning, Key: ri.seq, Value: v}}}); err != nil {
			return api.QueueItem{}, false, err
		}
		q.mu.Lock()
		q.recovered = q.recovered[1:]
		ri.attempts++
	} else if len(q.heap) > 0 {
		top := q.heap[0]
		v := runningValue(1, top.raw)
		err := q.apply(&Batch{Ops: []Op{
			{Kind: KindPending, Key: top.seq},
			{Kind: KindRunning, Key: top.seq, Value: v},
		}})
		if err != nil {
			return api.QueueItem{}, false, err
		}
		q.mu.Lock()
		q.heap, _ = heapPop(q.heap)
		ri = &ritem{seq: top.seq, item: top.item, raw: top.raw, attempts: 1}
	} else {
		return api.QueueItem{}, false, nil
	}
	q.running = append(q.running, ri)
	more := len(q.recovered)+len(q.heap) > 0
	q.mu.Unlock()
	if more {
		q.signal() // another Get may be waiting; the slot held one wake-up only
	}
	return cloneItem(ri.item), true, nil
}

func cloneItem(it api.QueueItem) api.QueueItem {
	c := it
	if it.Prompt != nil {
		c.Prompt = api.Clone(it.Prompt).(*api.Object)
	}
	if it.ExtraData != nil {
		c.ExtraData = api.Clone(it.ExtraData).(*api.Object)
	}
	c.Outputs = slices.Clone(it.Outputs)
	return c
}

// Done removes the running item promptID and appends entry to the history
// under that id (completion order, bounded by MaxHistory). If entry.Prompt
// has no prompt_id, the running item (without the comfy.org credentials of
// its extra_data) is used. As in ComfyUI, an id that is already in the
// history keeps its place and gets the new entry.
func (q *Queue) Done(promptID string, entry api.HistoryEntry) error {
	q.wmu.Lock()
	defer q.wmu.Unlock()
	if q.closed {
		return ErrClosed
	}
	i := slices.IndexFunc(q.running, func(r *ritem) bool { return r.item.PromptID == promptID })
	if i < 0 {
		return fmt.Errorf("%w: %s", ErrNotRunning, promptID)
	}
	ri := q.running[i]
	if entry.Prompt.PromptID == "" {
		entry.Prompt = stripSecrets(ri.item)
	}
	ops, commit, err := q.addHistory(promptID, entry)
	if err != nil {
		return err
	}
	ops = append(ops, Op{Kind: KindRunning, Key: ri.seq})
	if err := q.apply(&Batch{Ops: ops}); err != nil {
		return err
	}
	commit()
	q.mu.Lock()
	q.running = slices.Delete(q.running, i, i+1)
	q.mu.Unlock()
	return nil
}

// Release gives a running prompt back without a history entry (the worker
// stops mid-prompt, e.g. at shutdown): it goes before every pending item,
// to run again first, and does not count as a run that crashed.
func (q *Queue) Release(promptID string) error {
	q.wmu.Lock()
	defer q.wmu.Unlock()
	if q.closed {
		return ErrClosed
	}
	i := slices.IndexFunc(q.running, func(r *ritem) bool { return r.item.PromptID == promptID })
	if i < 0 {
		return fmt.Errorf("%w: %s", ErrNotRunning, promptID)
	}
	ri := q.running[i]
	if err := q.apply(&Batch{Ops: []Op{{Kind: KindRunning, Key: ri.seq, Value: runningValue(0, ri.raw)}}}); err != nil {
		return err
	}
	q.mu.Lock()
	q.running = slices.Delete(q.running, i, i+1)
	ri.attempts = 0
	// Keep the re-run list in key (original queue) order.
	j, _ := slices.BinarySearchFunc(q.recovered, ri.seq, func(x *ritem, k uint64) int { return cmpU64(x.seq, k) })
	q.recovered = slices.Insert(q.recovered, j, ri)
	q.mu.Unlock()
	q.signal()
	return nil
}

// addHistory prepares adding entry under id: the store ops, and a commit
// function that applies the change in memory (call it only once the ops are
// stored). wmu held.
func (q *Queue) addHistory(id string, entry api.HistoryEntry) ([]Op, func(), error) {
	raw, err := api.Marshal(entry)
	if err != nil {
		return nil, nil, fmt.Errorf("queue: encoding history entry: %w", err)
	}
	var ops []Op
	var evict *hrec
	if len(q.hist) > q.maxHistory {
		evict = q.hist[0]
		ops = append(ops, Op{Kind: KindHistory, Key: evict.hseq})
	}
	old := q.hindex[id]
	if old == evict {
		old = nil
	}
	// The stored value is allocated at its exact size; the entry keeps its
	// tail rather than raw, whose capacity the encoder may have doubled.
	val := encodeHistoryValue(id, raw)
	h := &hrec{id: id, json: val[len(val)-len(raw):]}
	if old != nil {
		h.hseq = old.hseq
	} else {
		h.hseq = q.hseq
	}
	ops = append(ops, Op{Kind: KindHistory, Key: h.hseq, Value: val})
	commit := func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		if evict != nil {
			q.hist[0] = nil
			q.hist = q.hist[1:]
			delete(q.hindex, evict.id)
		}
		if old != nil {
			// hist is sorted by hseq: find the old record's slot.
			j, _ := slices.BinarySearchFunc(q.hist, old.hseq, func(x *hrec, k uint64) int { return cmpU64(x.hseq, k) })
			q.hist[j] = h
		} else {
			q.hist = append(q.hist, h)
			q.hseq++
		}
		q.hindex[id] = h
	}
	return ops, commit, nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// secretKeys are removed from extra_data before an item enters history
// (ComfyUI's SENSITIVE_EXTRA_DATA_KEYS).
var secretKeys = []string{"auth_token_comfy_org", "api_key_comfy_org"}

func stripSecrets(it api.QueueItem) api.QueueItem {
	c := cloneItem(it)
	for _, k := range secretKeys {
		c.ExtraData.Delete(k)
	}
	return c
}

func restartErrorEntry(it api.QueueItem, now time.Time) api.HistoryEntry {
	return api.HistoryEntry{
		Prompt:  stripSecrets(it),
		Outputs: api.NewObject(),
		Status: api.HistoryStatus{
			StatusStr: "error",
			Completed: false,
			Messages: []api.StatusMessage{{Event: "execution_error", Data: api.ExecutionError{
				PromptID:         it.PromptID,
				Executed:         []string{},
				ExceptionMessage: RestartErrorMessage,
				ExceptionType:    RestartErrorType,
				Traceback:        []string{},
				CurrentInputs:    api.NewObject(),
				CurrentOutputs:   []string{},
				Timestamp:        now.UnixMilli(),
			}}},
		},
		Meta: map[string]api.NodeMeta{},
	}
}

// Running returns the running items.
func (q *Queue) Running() []api.QueueItem {
	q.mu.RLock()
	defer q.mu.RUnlock()
	out := make([]api.QueueItem, len(q.running))
	for i, r := range q.running {
		out[i] = r.item
	}
	return out
}

// Pending returns the pending items in raw heap order, like ComfyUI's GET
// /queue (clients sort). Prompts waiting to be re-run after a restart come
// first.
func (q *Queue) Pending() []api.QueueItem {
	q.mu.RLock()
	defer q.mu.RUnlock()
	out := make([]api.QueueItem, 0, len(q.recovered)+len(q.heap))
	for _, r := range q.recovered {
		out = append(out, r.item)
	}
	for _, p := range q.heap {
		out = append(out, p.item)
	}
	return out
}

// Remaining returns pending + running (ComfyUI's queue_remaining).
func (q *Queue) Remaining() int {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return len(q.recovered) + len(q.heap) + len(q.running)
}

// Delete removes pending items by prompt id and returns how many it removed.
// Like ComfyUI (one delete_queue_item call per id), each id removes the first
// match in heap array order, which is then re-heapified. Running prompts are
// not affected; unknown ids are ignored.
func (q *Queue) Delete(ids []string) int {
	q.wmu.Lock()
	defer q.wmu.Unlock()
	if q.closed || len(ids) == 0 {
		return 0
	}
	// Work on copies, store, then publish.
	rec := slices.Clone(q.recovered)
	h := slices.Clone(q.heap)
	var ops []Op
	for _, id := range ids {
		if j := slices.IndexFunc(rec, func(r *ritem) bool { return r.item.PromptID == id }); j >= 0 {
			ops = append(ops, Op{Kind: KindRunning, Key: rec[j].seq})
			rec = slices.Delete(rec, j, j+1)
			continue
		}
		if j := slices.IndexFunc(h, func(p *pitem) bool { return p.item.PromptID == id }); j >= 0 {
			ops = append(ops, Op{Kind: KindPending, Key: h[j].seq})
			h = slices.Delete(h, j, j+1)
			heapify(h)
		}
	}
	if len(ops) == 0 {
		return 0
	}
	if err := q.apply(&Batch{Ops: ops}); err != nil {
		q.log.Error("queue: deleting pending items failed", "err", err)
		return 0
	}
	q.mu.Lock()
	q.recovered, q.heap = rec, h
	q.mu.Unlock()
	return len(ops)
}

// Clear removes every pending item (not the running ones) and returns how
// many it removed.
func (q *Queue) Clear() int {
	q.wmu.Lock()
	defer q.wmu.Unlock()
	n := len(q.recovered) + len(q.heap)
	if q.closed || n == 0 {
		return 0
	}
	b := &Batch{ClearPending: true}
	for _, r := range q.recovered {
		b.Ops = append(b.Ops, Op{Kind: KindRunning, Key: r.seq})
	}
	if err := q.apply(b); err != nil {
		q.log.Error("queue: clearing the queue failed", "err", err)
		return 0
	}
	q.mu.Lock()
	q.recovered, q.heap = nil, nil
	q.mu.Unlock()
	return n
}

// History returns history entries in completion order, windowed as GET
// /history?max_items&offset (nil = parameter absent; see window). Each call
// decodes the entries of the window (tens of µs each); HistoryJSON does not
// and is what GET /history should use.
func (q *Queue) History(maxItems, offset *int) []HistoryRecord {
	q.mu.RLock()
	defer q.mu.RUnlock()
	start, end := window(len(q.hist), maxItems, offset)
	out := make([]HistoryRecord, end-start)
	for i, h := range q.hist[start:end] {
		out[i] = h.record()
	}
	return out
}

// HistoryLen returns the number of history entries.
func (q *Queue) HistoryLen() int {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return len(q.hist)
}

// HistoryItem returns the entry of one prompt (decoded from its JSON; see
// HistoryItemJSON).
func (q *Queue) HistoryItem(id string) (api.HistoryEntry, bool) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	h, ok := q.hindex[id]
	if !ok {
		return api.HistoryEntry{}, false
	}
	return h.decoded(), true
}

// HistoryJSON is History without decoding: the records carry PromptID and
// JSON only (Entry is zero). GET /history needs nothing more, and entries
// loaded from the store are then never parsed.
func (q *Queue) HistoryJSON(maxItems, offset *int) []HistoryRecord {
	q.mu.RLock()
	defer q.mu.RUnlock()
	start, end := window(len(q.hist), maxItems, offset)
	out := make([]HistoryRecord, end-start)
	for i, h := range q.hist[start:end] {
		out[i] = HistoryRecord{PromptID: h.id, JSON: h.json}
	}
	return out
}

// HistoryItemJSON returns one prompt's entry as stored JSON (read-only).
func (q *Queue) HistoryItemJSON(id string) ([]byte, bool) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	h, ok := q.hindex[id]
	if !ok {
		return nil, false
	}
	return h.json, true
}

// DeleteHistory removes the entries of ids; unknown ids are ignored.
func (q *Queue) DeleteHistory(ids []string) {
	q.wmu.Lock()
	defer q.wmu.Unlock()
	if q.closed {
		return
	}
	drop := map[*hrec]bool{}
	var ops []Op
	for _, id := range ids {
		if h := q.hindex[id]; h != nil && !drop[h] {
			drop[h] = true
			ops = append(ops, Op{Kind: KindHistory, Key: h.hseq})
		}
	}
	if len(ops) == 0 {
		return
	}
	if err := q.apply(&Batch{Ops: ops}); err != nil {
		q.log.Error("queue: deleting history entries failed", "err", err)
		return
	}
	q.mu.Lock()
	q.hist = slices.DeleteFunc(q.hist, func(h *hrec) bool {
		if drop[h] {
			delete(q.hindex, h.id)
		}
		return drop[h]
	})
	q.mu.Unlock()
}

// ClearHistory removes every history entry.
func (q *Queue) ClearHistory() {
	q.wmu.Lock()
	defer q.wmu.Unlock()
	if q.closed || len(q.hist) == 0 {
		return
	}
	if err := q.apply(&Batch{ClearHistory: true}); err != nil {
		q.log.Error("queue: clearing history failed", "err", err)
		return
	}
	q.mu.Lock()
	q.hist, q.hindex = nil, map[string]*hrec{}
	q.mu.Unlock()
}
