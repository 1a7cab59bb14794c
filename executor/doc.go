// Package executor runs validated prompts the way ComfyUI's PromptExecutor
// does (spec §7): only the nodes the requested outputs need, in ComfyUI's
// ready-node order, with the output/UI/object caches kept across prompts
// under the classic, LRU or none policy, list mapping, lazy inputs, node
// expansion, execution blockers, async nodes running concurrently,
// interrupt by context cancellation, and every WebSocket event of §4.3/§4.4
// sent through a Sink with ComfyUI's addressing rules.
//
// A node's error or panic stops at the node boundary and becomes an
// execution_error; the executor never touches a socket, and never writes
// history (the server's worker does, from the returned Outcome).
//
// executor imports api, graph and node; it must not import the server,
// the queue, the node implementations or the compute wing.
package executor
