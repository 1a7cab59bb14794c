// Package api holds ComfyUI's wire protocol as Go values: the JSON value
// model (ordered objects, Python-style floats, integers of any size), the
// prompt request and response shapes, queue items and history entries, the
// WebSocket envelope with one struct per event, binary frame layouts, and
// the catalogue of error types.
//
// It imports only the standard library; everything else in comfyd may
// import it.
package api
