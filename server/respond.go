package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/comfyd/comfyd/api"
)

const jsonType = "application/json; charset=utf-8"

// writeJSON writes v (api value model) with ComfyUI's content type.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := api.Marshal(v)
	if err != nil {
		// Only values of our own making reach here: a bug.
		writeText(w, r, http.StatusInternalServerError, "500 Internal Server Error\n\n"+err.Error())
		return
	}
	writeBytes(w, status, jsonType, b)
}

func writeBytes(w http.ResponseWriter, status int, ctype string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// writeText writes a text/plain answer (aiohttp's web.Response(text=...)).
func writeText(w http.ResponseWriter, r *http.Request, status int, text string) {
	writeBytes(w, status, "text/plain; charset=utf-8", []byte(text))
}

// writeEmpty is aiohttp's web.Response(status=N): no body, and the content
// type aiohttp sends for it.
func writeEmpty(w http.ResponseWriter, status int) {
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", "0")
	w.WriteHeader(status)
}

// httpError is an error with a status code and a JSON body.
type httpError struct {
	status int
	body   any // JSON value; nil = empty body
	err    error
}

func (e *httpError) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return http.StatusText(e.status)
}

func (e *httpError) Unwrap() error { return e.err }

// badRequest is a 400 whose JSON body says what was wrong: comfyd's
// answer where ComfyUI fails with a bare 500.
func badRequest(typ, msg string) *httpError {
	e := api.NewError(typ, msg, msg, nil)
	return &httpError{status: http.StatusBadRequest, body: map[string]any{"error": e, "node_errors": map[string]any{}}}
}

// fail is the one place that turns an error into a status and body.
// A body over --max-upload-size is a 413; an *httpError says its own
// status; anything else is our bug: 500 (logged).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeText(w, r, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("Maximum request body size %d exceeded, actual body size %d", mbe.Limit, r.ContentLength))
		return
	}
	var he *httpError
	if errors.As(err, &he) {
		if he.body == nil {
			writeEmpty(w, he.status)
			return
		}
		writeJSON(w, r, he.status, he.body)
		return
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeText(w, r, http.StatusInternalServerError, "500 Internal Server Error\n\nServer got itself in trouble")
}

// readBody reads the whole request body (already bounded by the
// upload-size middleware).
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	return io.ReadAll(r.Body)
}

// readJSON reads the body as JSON whatever the Content-Type says (clients
// post text/plain). An empty or malformed body is a 400.
func readJSON(r *http.Request) (any, error) {
	b, err := readBody(r)
	if err != nil {
		return nil, err
	}
	v, err := api.Decode(b)
	if err != nil {
		return nil, badRequest(api.ErrInvalidRequest, "Request body is not valid JSON: "+err.Error())
	}
	return v, nil
}

// query parses the URL query as aiohttp does: only "&" separates
// parameters, so "preview=webp;90" keeps its semicolon (Go's
// URL.Query drops such pairs).
func query(r *http.Request) url.Values {
	v := url.Values{}
	for _, kv := range strings.Split(r.URL.RawQuery, "&") {
		if kv == "" {
			continue
		}
		k, val, _ := strings.Cut(kv, "=")
		k, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(val)
		if err1 != nil || err2 != nil {
			continue
		}
		v.Add(k, val)
	}
	return v
}
