package queue

// Kind names the collection a record belongs to.
type Kind uint8

// The record collections. Keys are sequence numbers chosen by the Queue;
// within a collection they grow with insertion order.
const (
	KindPending Kind = iota + 1 // value: the queue item's 5-tuple JSON
	KindRunning                 // value: attempts byte + the queue item's JSON
	KindHistory                 // value: uvarint len(id), id, the entry's JSON
)

func (k Kind) String() string {
	switch k {
	case KindPending:
		return "pending"
	case KindRunning:
		return "running"
	case KindHistory:
		return "history"
	}
	return "unknown"
}

// Op writes (Value != nil) or deletes (Value == nil) one record.
type Op struct {
	Kind  Kind
	Key   uint64
	Value []byte
}

// Batch is one atomic change of the persisted state: after a crash either all
// of it or none of it is visible. Clears run before Ops.
type Batch struct {
	Counter      int64 // the number counter to persist; 0 leaves it unchanged
	ClearPending bool
	ClearHistory bool
	Ops          []Op
}

// Record is one stored record as Load reports it. Value is only valid during
// the callback.
type Record struct {
	Kind  Kind
	Key   uint64
	Value []byte
}

// Store persists the queue's state. The Queue keeps the working copy in
// memory and writes every change through Apply before applying it in memory.
// Implementations need not be safe for concurrent use: the Queue serialises
// all calls.
type Store interface {
	// Load reports every record, collection by collection in key order, and
	// returns the persisted counter. A callback error stops the walk.
	Load(fn func(Record) error) (counter int64, err error)
	// Apply commits b atomically. When it returns nil, the change survives
	// the death of the process (and, if the store promises it, power loss).
	Apply(b *Batch) error
	Close() error
}

// memStore keeps nothing: the Queue's in-memory state is all there is, as in
// ComfyUI.
type memStore struct{}

func (memStore) Load(func(Record) error) (int64, error) { return 0, nil }
func (memStore) Apply(*Batch) error                     { return nil }
func (memStore) Close() error                           { return nil }
