package server

import (
	"net/http"
	"net/url"
	"strings"
)

// router matches ComfyUI's aiohttp routes: a {name} parameter matches
// exactly one raw path segment and is then percent-decoded (so
// /userdata/workflows%2Fa.json gives file = "workflows/a.json"); a
// trailing {name...} matches the rest of the path. Every route is also
// registered under /api (except /internal/*). GET routes answer HEAD. An
// unmatched path falls through to the static web root; a known path with
// another method is a 405.
type router struct {
	routes   []*route
	fallback http.Handler // static files (GET/HEAD only)
}

type route struct {
	segs     []string
	handlers map[string]http.HandlerFunc
}

// handle registers method+pattern, bare and under /api.
func (rt *router) handle(method, pattern string, h http.HandlerFunc) {
	rt.add(method, "/api"+pattern, h)
	rt.add(method, pattern, h)
}

func (rt *router) add(method, pattern string, h http.HandlerFunc) {
	segs := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	for _, r := range rt.routes {
		if equalSegs(r.segs, segs) {
			r.handlers[method] = h
			return
		}
	}
	rt.routes = append(rt.routes, &route{segs: segs, handlers: map[string]http.HandlerFunc{method: h}})
}

func equalSegs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// match binds the route's parameters on r; ok is false if the path does
// not match.
func (rt *route) match(raw []string, r *http.Request) bool {
	var names, vals []string
	for i, s := range rt.segs {
		if strings.HasPrefix(s, "{") {
			name := s[1 : len(s)-1]
			if strings.HasSuffix(name, "...") {
				if i >= len(raw) {
					return false
				}
				rest := strings.Join(raw[i:], "/")
				v, err := url.PathUnescape(rest)
				if err != nil || rest == "" {
					return false
				}
				names, vals = append(names, strings.TrimSuffix(name, "...")), append(vals, v)
				goto bind
			}
			if i >= len(raw) || raw[i] == "" {
				return false
			}
			v, err := url.PathUnescape(raw[i])
			if err != nil {
				return false
			}
			names, vals = append(names, name), append(vals, v)
			continue
		}
		if i >= len(raw) || raw[i] != s {
			return false
		}
	}
	if len(raw) != len(rt.segs) {
		return false
	}
bind:
	if r != nil {
		for i := range names {
			r.SetPathValue(names[i], vals[i])
		}
	}
	return true
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	var allowed []string
	for _, route := range rt.routes {
		if !route.match(raw, nil) {
			continue
		}
		h := route.handlers[r.Method]
		if h == nil && r.Method == http.MethodHead {
			h = route.handlers[http.MethodGet]
		}
		if h == nil {
			for m := range route.handlers {
				allowed = append(allowed, m)
			}
			continue
		}
		route.match(raw, r)
		h(w, r)
		return
	}
	if len(allowed) > 0 {
		if contains(allowed, http.MethodGet) {
			allowed = append(allowed, http.MethodHead)
		}
		w.Header().Set("Allow", strings.Join(allowed, ","))
		writeText(w, r, http.StatusMethodNotAllowed, "405: Method Not Allowed")
		return
	}
	if rt.fallback != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		rt.fallback.ServeHTTP(w, r)
		return
	}
	notFound(w, r)
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeText(w, r, http.StatusNotFound, "404: Not Found")
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
