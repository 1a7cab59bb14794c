// Package queue owns comfyd's prompt queue and history: pending prompts in a
// binary min-heap ordered by (number, prompt_id) exactly as ComfyUI's
// PromptQueue, the running prompts, and the bounded, insertion-ordered
// history with GET /history's max_items/offset window. Unlike ComfyUI, both
// survive a restart.
//
// It imports only api and the standard library (plus the embedded store); it
// must not import server, executor, graph or node: the server's worker loop
// drives it (Get → execute → Done).
//
// # Shape
//
// A Queue keeps the authoritative working copy in memory (heap, running
// list, history slice + id index), so reads never touch the disk. History
// entries are held as their JSON (what GET /history sends; cheap for the
// garbage collector) and decoded only for callers that ask for values. Every
// mutation is first written through a Store as one atomic Batch and only then
// applied in memory, so memory never runs ahead of what a restart would see.
// Store is deliberately small (Load, Apply, Close) so that a distributed
// backend can replace the embedded one later; Open("") uses a Store that
// keeps nothing.
//
// # Why bbolt
//
// The embedded store is go.etcd.io/bbolt (pure Go, no cgo, single file,
// etcd's maintained fork of BoltDB): every Batch is one bbolt transaction, so
// a crash at any instant leaves either the old or the new state, never half
// of a Get or a Done. With Options.SyncWrites false the store runs with
// NoSync: a commit returns after its pwrite(2) calls, i.e. once the record is
// in the kernel's page cache; that survives kill -9 (the acceptance bar of
// Put) but not power loss. With SyncWrites it fdatasyncs before Put returns.
// An append-only log would need one write(2) per record instead of bbolt's
// few page writes per commit: BenchmarkAppendBaseline measures that floor at
// roughly half of BenchmarkPut's latency (tens of µs either way, and about
// one fsync instead of two with SyncWrites). It would also need its own
// framing, checksums, recovery scan and compaction of a history that is
// rewritten 10,000 entries at a time. At the queue's rates (a few Puts a
// second) the difference is noise, while bbolt gives atomic multi-record
// changes, in-place history replacement and bulk clears for free.
//
// # Durability and crash semantics
//
// Put returns nil only after its record reached the OS. Get moves the item to
// the running set durably before returning it. When Open finds a prompt that
// was running when the previous process died, that prompt is re-run first,
// once; if it was already being re-run (the process died twice while running
// it), Open records it in history as an error (status "error", an
// execution_error message with exception_type "comfyd.RestartError") instead
// of running it a third time, so a prompt that kills the process cannot put
// comfyd into a crash loop. An orderly stop is not a crash: Close (and
// Release, for a worker that abandons a prompt) puts running prompts back in
// front of the queue without counting the run.
//
// Corrupt records are skipped with a logged warning (history entries carry a
// CRC-32C); a store file that cannot be opened or walked at all (truncated,
// scribbled over) is renamed aside and a fresh one started: comfyd never
// refuses to start because of its state.
//
// # Locking
//
// Lock order: Queue.wmu, then Queue.mu; the Store is only called with wmu
// held and mu NOT held. wmu serialises mutations (so disk order equals memory
// order); mu guards the in-memory state and is held only briefly, never
// across I/O, so readers (Pending, History, ...) never wait for a disk write
// or an fsync. Mutators read the state under wmu alone (no other mutator can
// change it) and take mu only to publish their change.
package queue
