package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/modelpaths"
)

// users is ComfyUI's user manager: users.json (id → name) in the user
// directory, the "comfy-user" header selecting the user with --multi-user.
type users struct {
	mu    sync.Mutex
	dir   string
	multi bool
	m     *api.Object
}

func loadUsers(dir string, multi bool) (*users, error) {
	u := &users{dir: dir, multi: multi, m: api.NewObject()}
	if b, err := os.ReadFile(filepath.Join(dir, "users.json")); err == nil && multi {
		v, err := api.Decode(b)
		if err != nil {
			return nil, errors.New("users.json: " + err.Error())
		}
		if o, ok := v.(*api.Object); ok {
			u.m = o
		}
	}
	return u, nil
}

var errUnknownUser = errors.New("unknown user")

// userID returns the request's user: "default" unless --multi-user, then
// the comfy-user header, which must name a known user.
func (u *users) userID(r *http.Request) (string, error) {
	if !u.multi {
		return "default", nil
	}
	id := r.Header.Get("comfy-user")
	if id == "" {
		id = "default"
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.m.Has(id) {
		return "", errUnknownUser
	}
	return id, nil
}

// userPath resolves file (percent-decoded once more if it contains "%", as
// ComfyUI does) inside the request user's root. file == "" is the root.
// status is the answer for a failure: 403 for an unknown user or an
// escaping path.
func (s *Server) userPath(r *http.Request, file string) (string, int) {
	id, err := s.users.userID(r)
	if err != nil {
		return "", http.StatusForbidden
	}
	root, err := modelpaths.SafeJoin(s.paths.UserDir(), id)
	if err != nil || strings.ContainsAny(id, `/\`) {
		return "", http.StatusForbidden
	}
	if strings.Contains(file, "%") {
		if d, err := url.PathUnescape(file); err == nil {
			file = d
		}
	}
	p, err := modelpaths.SafeJoin(root, file)
	if err != nil {
		return "", http.StatusForbidden
	}
	return p, 0
}

func (s *Server) userRoot(r *http.Request) (string, int) { return s.userPath(r, "") }

func (s *Server) getUsers(w http.ResponseWriter, r *http.Request) {
	if s.cfg.MultiUser {
		s.users.mu.Lock()
		m := api.Clone(s.users.m)
		s.users.mu.Unlock()
		writeJSON(w, r, http.StatusOK, api.ObjectOf("storage", "server", "users", m))
		return
	}
	root, _ := s.userRoot(r)
	_, err := os.Stat(root)
	writeJSON(w, r, http.StatusOK, api.ObjectOf("storage", "server", "migrated", err == nil))
}

var userIDUnsafe = regexp.MustCompile(`[^a-zA-Z0-9\-_]+`)

// postUsers creates a user: id = the name with unsafe runs replaced by "-",
// "_", and a UUID.
func (s *Server) postUsers(w http.ResponseWriter, r *http.Request) {
	v, err := readJSON(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o, _ := v.(*api.Object)
	nv, _ := o.Get("username")
	name, ok := nv.(string)
	if !ok {
		s.fail(w, r, badRequest(api.ErrInvalidRequest, "username must be a string"))
		return
	}
	u := s.users
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, k := range u.m.Keys() {
		if x, _ := u.m.Get(k); x == name {
			writeJSON(w, r, http.StatusBadRequest, map[string]string{"error": "Duplicate username."})
			return
		}
	}
	name = strings.TrimSpace(name)
	if name == "" {
		s.fail(w, r, badRequest(api.ErrInvalidRequest, "username not provided")) // ComfyUI: 500
		return
	}
	id := userIDUnsafe.ReplaceAllString(name, "-") + "_" + newUUID()
	u.m.Set(id, name)
	if err := os.MkdirAll(u.dir, 0o755); err == nil {
		err = writeFileAtomic(filepath.Join(u.dir, "users.json"), api.MustMarshal(u.m))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, id)
}

// fileInfo is ComfyUI's get_file_info.
func fileInfo(full, rel string) (*api.Object, error) {
	st, err := os.Stat(full)
	if err != nil {
		return nil, err
	}
	return api.ObjectOf("path", rel, "size", st.Size(),
		"modified", api.Float(float64(st.ModTime().UnixNano())/1e9), "created", api.Float(ctime(st))), nil
}

func queryTrue(r *http.Request, k string) bool {
	return strings.ToLower(query(r).Get(k)) == "true"
}

// getUserdataList is GET /userdata?dir=D[&recurse][&full_info][&split]:
// regular files, hidden names skipped as Python's glob does.
func (s *Server) getUserdataList(w http.ResponseWriter, r *http.Request) {
	dir := query(r).Get("dir")
	if dir == "" {
		writeText(w, r, http.StatusBadRequest, "Directory not provided")
		return
	}
	root, status := s.userPath(r, dir)
	if status != 0 {
		writeText(w, r, http.StatusForbidden, "Invalid directory")
		return
	}
	if _, err := os.Stat(root); err != nil {
		writeText(w, r, http.StatusNotFound, "Directory not found")
		return
	}
	recurse, full, split := queryTrue(r, "recurse"), queryTrue(r, "full_info"), queryTrue(r, "split")
	out := []any{}
	var walk func(d, rel string)
	walk = func(d, rel string) {
		ents, err := os.ReadDir(d)
		if err != nil {
			return
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			p := filepath.Join(d, e.Name())
			rp := path.Join(rel, e.Name())
			if _, err := modelpaths.SafeJoin(root, rp); err != nil {
				continue // a link out of the user's folder
			}
			st, err := os.Stat(p)
			if err != nil {
				continue
			}
			if st.IsDir() {
				if recurse {
					walk(p, rp)
				}
				continue
			}
			if !st.Mode().IsRegular() {
				continue
			}
			switch {
			case full:
				if fi, err := fileInfo(p, rp); err == nil {
					out = append(out, fi)
				}
			case split:
				parts := []any{rp}
				for _, x := range strings.Split(rp, "/") {
					parts = append(parts, x)
				}
				out = append(out, parts)
			default:
				out = append(out, rp)
			}
		}
	}
	walk(root, "")
	writeJSON(w, r, http.StatusOK, out)
}

// getUserdataV2 lists every directory and file below ?path= (relative to
// the user root), directories first, then by name case-insensitively.
func (s *Server) getUserdataV2(w http.ResponseWriter, r *http.Request) {
	p := query(r).Get("path")
	if p != "" {
		if d, err := url.PathUnescape(p); err == nil {
			p = d
		}
	}
	root, status := s.userRoot(r)
	if status != 0 {
		writeText(w, r, http.StatusForbidden, "Invalid user specified in request")
		return
	}
	target, err := modelpaths.SafeJoin(root, p)
	if err != nil {
		writeText(w, r, http.StatusBadRequest, "Invalid path requested")
		return
	}
	st, err := os.Stat(target)
	if err != nil {
		if p == "" {
			writeJSON(w, r, http.StatusOK, []any{})
			return
		}
		writeText(w, r, http.StatusNotFound, "Requested path not found")
		return
	}
	if !st.IsDir() {
		writeText(w, r, http.StatusBadRequest, "Requested path is not a directory")
		return
	}
	type entry struct {
		obj   *api.Object
		isDir bool
		name  string
	}
	var es []entry
	err = filepath.WalkDir(target, func(full string, d fs.DirEntry, err error) error {
		if err != nil || full == target {
			return nil
		}
		rel := relTo(root, full)
		if _, err := modelpaths.SafeJoin(root, rel); err != nil {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			es = append(es, entry{api.ObjectOf("name", d.Name(), "path", rel, "type", "directory"), true, d.Name()})
			return nil
		}
		fi, err := os.Stat(full)
		if err != nil {
			return nil
		}
		if fi.IsDir() { // a link to a directory: listed, not descended (os.walk)
			es = append(es, entry{api.ObjectOf("name", d.Name(), "path", rel, "type", "directory"), true, d.Name()})
			return nil
		}
		es = append(es, entry{api.ObjectOf("name", d.Name(), "path", rel, "type", "file", "size", fi.Size(),
			"modified", api.Float(float64(fi.ModTime().UnixNano())/1e9)), false, d.Name()})
		return nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].isDir != es[j].isDir {
			return es[i].isDir
		}
		return strings.ToLower(es[i].name) < strings.ToLower(es[j].name)
	})
	out := make([]any, len(es))
	for i, e := range es {
		out[i] = e.obj
	}
	writeJSON(w, r, http.StatusOK, out)
}

// userFile resolves the {file} (or {dest}) parameter; ok false means an
// answer was written.
func (s *Server) userFile(w http.ResponseWriter, r *http.Request, param string) (string, bool) {
	f := r.PathValue(param)
	if f == "" {
		writeEmpty(w, http.StatusBadRequest)
		return "", false
	}
	p, status := s.userPath(r, f)
	if status != 0 {
		writeEmpty(w, status)
		return "", false
	}
	return p, true
}

func (s *Server) getUserdataFile(w http.ResponseWriter, r *http.Request) {
	p, ok := s.userFile(w, r, "file")
	if !ok {
		return
	}
	serveFile(w, r, p, contentTypeOf(p), nil)
}

func (s *Server) writeUserResult(w http.ResponseWriter, r *http.Request, p string) {
	root, _ := s.userRoot(r)
	rel := relTo(root, p)
	if queryTrue(r, "full_info") {
		fi, err := fileInfo(p, rel)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, r, http.StatusOK, fi)
		return
	}
	writeJSON(w, r, http.StatusOK, rel)
}

// postUserdataFile writes the body to the file; ?overwrite=false → 409 if
// it exists.
func (s *Server) postUserdataFile(w http.ResponseWriter, r *http.Request) {
	p, ok := s.userFile(w, r, "file")
	if !ok {
		return
	}
	overwrite := query(r).Get("overwrite") != "false"
	if _, err := os.Lstat(p); err == nil && !overwrite {
		writeText(w, r, http.StatusConflict, "File already exists")
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		writeEmpty(w, http.StatusBadRequest)
		return
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
		err = writeFileAtomic(p, body)
	}
	if err != nil {
		// ComfyUI's reason phrase for an OSError while writing.
		w.Header().Set("X-Comfy-Reason", `Invalid filename. Please avoid special characters like :\/*?"<>|`)
		writeEmpty(w, http.StatusBadRequest)
		return
	}
	s.writeUserResult(w, r, p)
}

func (s *Server) deleteUserdataFile(w http.ResponseWriter, r *http.Request) {
	p, ok := s.userFile(w, r, "file")
	if !ok {
		return
	}
	st, err := os.Lstat(p)
	if err != nil || st.IsDir() {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	if err := os.Remove(p); err != nil {
		s.fail(w, r, err)
		return
	}
	writeEmpty(w, http.StatusNoContent)
}

// moveUserdataFile renames {file} to {dest}. ComfyUI checks the wrong
// variable and lets an escaping dest through to a 500; here it is a 403.
func (s *Server) moveUserdataFile(w http.ResponseWriter, r *http.Request) {
	src, ok := s.userFile(w, r, "file")
	if !ok {
		return
	}
	if _, err := os.Lstat(src); err != nil {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	dest, ok := s.userFile(w, r, "dest")
	if !ok {
		return
	}
	if _, err := os.Lstat(dest); err == nil && query(r).Get("overwrite") == "false" {
		writeText(w, r, http.StatusConflict, "File already exists")
		return
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := os.Rename(src, dest); err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("moving '" + src + "' -> '" + dest + "'")
	s.writeUserResult(w, r, dest)
}

// --- settings ---

var settingsMu sync.Mutex

// settings returns the user's comfy.settings.json ({} if missing or
// corrupt); ok false means an answer (401 for an unknown user) was written.
func (s *Server) settings(w http.ResponseWriter, r *http.Request) (*api.Object, string, bool) {
	p, status := s.userPath(r, "comfy.settings.json")
	if status != 0 {
		writeEmpty(w, http.StatusUnauthorized)
		return nil, "", false
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return api.NewObject(), p, true
	}
	v, err := api.Decode(b)
	o, ok := v.(*api.Object)
	if err != nil || !ok {
		s.log.Error("The user settings file is corrupted: " + p)
		return api.NewObject(), p, true
	}
	return o, p, true
}

// saveSettings writes the settings with 4-space indentation, as ComfyUI.
func (s *Server) saveSettings(p string, o *api.Object) error {
	var b bytes.Buffer
	if err := json.Indent(&b, api.MustMarshal(o), "", "    "); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(p, b.Bytes())
}

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) {
	settingsMu.Lock()
	o, _, ok := s.settings(w, r)
	settingsMu.Unlock()
	if ok {
		writeJSON(w, r, http.StatusOK, o)
	}
}

func (s *Server) getSetting(w http.ResponseWriter, r *http.Request) {
	settingsMu.Lock()
	o, _, ok := s.settings(w, r)
	settingsMu.Unlock()
	if ok {
		v, _ := o.Get(r.PathValue("id"))
		writeJSON(w, r, http.StatusOK, v)
	}
}

func (s *Server) postSettings(w http.ResponseWriter, r *http.Request) {
	v, err := readJSON(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	nv, ok := v.(*api.Object)
	if !ok {
		s.fail(w, r, badRequest(api.ErrInvalidRequest, "settings must be a JSON object"))
		return
	}
	settingsMu.Lock()
	defer settingsMu.Unlock()
	o, p, ok := s.settings(w, r)
	if !ok {
		return
	}
	for _, k := range nv.Keys() {
		x, _ := nv.Get(k)
		o.Set(k, x)
	}
	if err := s.saveSettings(p, o); err != nil {
		s.fail(w, r, err)
		return
	}
	writeEmpty(w, http.StatusOK)
}

func (s *Server) postSetting(w http.ResponseWriter, r *http.Request) {
	v, err := readJSON(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	settingsMu.Lock()
	defer settingsMu.Unlock()
	o, p, ok := s.settings(w, r)
	if !ok {
		return
	}
	o.Set(r.PathValue("id"), v)
	if err := s.saveSettings(p, o); err != nil {
		s.fail(w, r, err)
		return
	}
	writeEmpty(w, http.StatusOK)
}
