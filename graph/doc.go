// Package graph turns an API-format prompt into something the executor can
// run: ComfyUI's prompt validation (validate_prompt / validate_inputs, with
// its error payloads, literal coercion written back into the prompt and its
// quirks), static dependency-cycle detection, link type compatibility, the
// dynamic prompt (prompt nodes plus nodes added by expansion) and node
// signatures used as output-cache keys.
//
// Every graph walk here uses explicit stacks, never recursion, so a chain of
// thousands of nodes validates and hashes without growing the goroutine stack.
//
// graph imports api and node only; it must not import the executor, the
// server, the queue or the compute wing.
package graph
