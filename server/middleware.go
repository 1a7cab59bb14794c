package server

import (
	"compress/gzip"
	"crypto/subtle"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Middlewares, outermost first (ComfyUI's order where it has them):
// cache-control, compression, CORS or the origin check, then comfyd's
// auth and body limit.
func (s *Server) wrap(h http.Handler) http.Handler {
	h = s.limitBody(h)
	h = s.auth(h)
	if s.cfg.CORSOrigin != "" {
		h = s.cors(h)
	} else {
		h = s.originCheck(h)
	}
	if s.cfg.CompressResponse {
		h = compress(h)
	}
	return cacheControl(h)
}

// hookWriter calls before() once, right before the header is written.
type hookWriter struct {
	http.ResponseWriter
	before func(status int)
	done   bool
}

func (w *hookWriter) WriteHeader(status int) {
	if !w.done {
		w.done = true
		w.before(status)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *hookWriter) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// ReadFrom keeps the connection's sendfile path for file answers
// (http.ServeContent copies through io.Copy).
func (w *hookWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
}

// Unwrap lets http.ResponseController and the WebSocket upgrade reach the
// connection.
func (w *hookWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var imageExts = []string{".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"}

// cacheControlFor is ComfyUI's cache_control middleware table (§2.3):
// only the path is inspected, never the query.
func cacheControlFor(path string, status int) string {
	last := path[strings.LastIndex(path, "/")+1:]
	if strings.HasSuffix(path, ".js") || strings.HasSuffix(path, ".css") ||
		(strings.HasPrefix(last, "index") && strings.HasSuffix(last, ".json")) {
		return "no-cache"
	}
	lower := strings.ToLower(path)
	for _, ext := range imageExts {
		if strings.HasSuffix(lower, ext) {
			switch {
			case status == http.StatusNotFound:
				return "public, max-age=3600"
			case status >= 200 && status <= 206, status == 301, status == 308:
				return "public, max-age=86400"
			case status == 302, status == 303, status == 307:
				return "no-cache"
			}
			return ""
		}
	}
	return ""
}

func cacheControl(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		hw := &hookWriter{ResponseWriter: w, before: func(status int) {
			if v := cacheControlFor(path, status); v != "" && w.Header().Get("Cache-Control") == "" {
				w.Header().Set("Cache-Control", v)
			}
		}}
		next.ServeHTTP(hw, r)
	})
}

// compress gzips JSON and text/plain answers for clients that accept gzip
// (--enable-compress-response-body).
func compress(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			next.ServeHTTP(w, r)
			return
		}
		gw := &gzipWriter{}
		gw.hookWriter = hookWriter{ResponseWriter: w, before: func(status int) {
			h := w.Header()
			ct := h.Get("Content-Type")
			if h.Get("Content-Length") == "0" || h.Get("Content-Encoding") != "" ||
				!(strings.HasPrefix(ct, "application/json") || strings.HasPrefix(ct, "text/plain")) {
				return
			}
			h.Del("Content-Length")
			h.Set("Content-Encoding", "gzip")
			h.Add("Vary", "Accept-Encoding")
			gw.gz = gzip.NewWriter(w)
		}}
		next.ServeHTTP(gw, r)
		if gw.gz != nil {
			gw.gz.Close()
		}
	})
}

type gzipWriter struct {
	hookWriter
	gz *gzip.Writer
}

// ReadFrom must go through the compressor, not the connection.
func (w *gzipWriter) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(struct{ io.Writer }{w}, r)
}

func (w *gzipWriter) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	if w.gz != nil {
		return w.gz.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// cors is ComfyUI's CORS middleware: OPTIONS answered 200 without
// reaching a route, four headers on every answer.
func (s *Server) cors(next http.Handler) http.Handler {
	origin := s.cfg.CORSOrigin
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Methods", "POST, GET, DELETE, PUT, OPTIONS, PATCH")
		h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization")
		h.Set("Access-Control-Allow-Credentials", "true")
		if !s.hostAllowed(r) {
			writeEmpty(w, http.StatusForbidden)
			return
		}
		if r.Method == http.MethodOptions {
			writeEmpty(w, http.StatusOK)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// originCheck stops web pages from driving a local comfyd: ComfyUI's
// Host/Origin comparison, made stricter where ComfyUI has known holes:
//   - it applies whatever the Host (ComfyUI only checks loopback hosts);
//   - "Origin: null" (sandboxed frames, file:// pages) is refused, where
//     ComfyUI lets it through;
//   - while comfyd listens only on loopback, a Host that is not a
//     loopback name is refused: a DNS-rebinding page has a matching Origin
//     and Host but a foreign host name.
func (s *Server) originCheck(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r) || !originAllowed(r) {
			s.log.Warn("request with non matching host and origin, returning 403", "host", r.Host, "origin", r.Header.Get("Origin"))
			writeEmpty(w, http.StatusForbidden)
			return
		}
		if r.Method == http.MethodOptions {
			writeEmpty(w, http.StatusOK)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return len(r.Header.Values("Origin")) == 0
	}
	host := strings.ToLower(r.Host)
	if host == "" {
		return true
	}
	if strings.EqualFold(origin, "null") {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	originHost := strings.ToLower(u.Host)
	hostName, hostPort := splitHostPort(host)
	originName, originPort := splitHostPort(originHost)
	// As ComfyUI: an origin without port compares host names only, and so
	// does a Host without port.
	if originPort == "" || hostPort == "" {
		return hostName == originName
	}
	return hostName == originName && hostPort == originPort
}

func splitHostPort(hp string) (host, port string) {
	if h, p, err := net.SplitHostPort(hp); err == nil {
		return strings.Trim(h, "[]"), p
	}
	return strings.Trim(hp, "[]"), ""
}

// hostAllowed refuses foreign Host names while every listen address is a
// loopback one (DNS rebinding). With --auth-token every request is
// authenticated anyway (a rebinding page cannot know the token), and with
// --enable-cors-header the user has opted in to other origins: then any
// Host is accepted, so comfyd works behind a reverse proxy that passes its
// own Host.
func (s *Server) hostAllowed(r *http.Request) bool {
	if !s.loopbackOnly || r.Host == "" || s.cfg.AuthToken != "" || s.cfg.CORSOrigin != "" {
		return true
	}
	name, _ := splitHostPort(strings.ToLower(r.Host))
	return isLoopbackName(name)
}

func isLoopbackName(name string) bool {
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return true
	}
	ip := net.ParseIP(name)
	return ip != nil && ip.IsLoopback()
}

// authCookie carries the token for the bundled web UI, which cannot add
// headers to its requests: a page opened once with ?token= keeps working.
const authCookie = "comfyd_token"

// auth requires --auth-token on every route and the WebSocket, as
// "Authorization: Bearer <token>", "?token=<token>" (browsers cannot set
// headers on a WebSocket) or the cookie that a request with a valid token
// receives (HttpOnly, SameSite=Strict: other sites' pages never send it).
// The comparison takes constant time.
func (s *Server) auth(next http.Handler) http.Handler {
	token := []byte(s.cfg.AuthToken)
	if len(token) == 0 {
		return next
	}
	valid := func(t string) bool { return t != "" && subtle.ConstantTimeCompare([]byte(t), token) == 1 }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		explicit := ""
		if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
			explicit = strings.TrimSpace(a[7:])
		} else if t := query(r).Get("token"); t != "" {
			explicit = t
		}
		switch {
		case valid(explicit):
			if c, err := r.Cookie(authCookie); err != nil || !valid(c.Value) {
				http.SetCookie(w, &http.Cookie{Name: authCookie, Value: s.cfg.AuthToken, Path: "/",
					HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
			}
		case explicit == "":
			if c, err := r.Cookie(authCookie); err == nil && valid(c.Value) {
				break
			}
			fallthrough
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="comfyd"`)
			writeJSON(w, r, http.StatusUnauthorized, map[string]string{"error": "unauthorized: missing or wrong auth token"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody enforces --max-upload-size: 413 up front when Content-Length
// says so, and a bounded reader otherwise (handlers turn the read error
// into the same 413).
func (s *Server) limitBody(next http.Handler) http.Handler {
	limit := s.maxBody
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			writeText(w, r, http.StatusRequestEntityTooLarge,
				"Maximum request body size "+strconv.FormatInt(limit, 10)+" exceeded, actual body size "+strconv.FormatInt(r.ContentLength, 10))
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}
