package server

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/imageio"
	"github.com/comfyd/comfyd/modelpaths"
)

// dangerousTypes are served as downloads, never rendered (ComfyUI's list,
// plus SVG and XML which can carry scripts too).
var dangerousTypes = map[string]bool{
	"text/html": true, "text/html-sandboxed": true, "application/xhtml+xml": true,
	"text/javascript": true, "text/css": true, "image/svg+xml": true, "application/xml": true, "text/xml": true,
	"application/javascript": true,
}

func contentTypeOf(name string) string {
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		return "application/octet-stream"
	}
	base, _, _ := strings.Cut(ct, ";")
	if dangerousTypes[strings.TrimSpace(base)] {
		return "application/octet-stream"
	}
	return ct
}

func disposition(name string) string {
	return `filename="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
}

// serveFile answers with a file: Range, If-None-Match and If-Modified-Since
// handled by http.ServeContent, ETag in aiohttp's form.
func serveFile(w http.ResponseWriter, r *http.Request, full string, ctype string, extra map[string]string) {
	f, err := os.Open(full)
	if err != nil {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	h := w.Header()
	for k, v := range extra {
		h.Set(k, v)
	}
	h.Set("Content-Type", ctype)
	h.Set("Etag", fmt.Sprintf(`"%x-%x"`, st.ModTime().UnixNano(), st.Size()))
	http.ServeContent(w, r, "", st.ModTime(), f)
}

// getView is GET /view (§3.5).
func (s *Server) getView(w http.ResponseWriter, r *http.Request) {
	q := query(r)
	if !q.Has("filename") {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	filename, dir := s.paths.Annotated(q.Get("filename"))
	if filename == "" {
		writeEmpty(w, http.StatusBadRequest)
		return
	}
	// ComfyUI's textual checks, kept: a leading "/" or ".." anywhere.
	if strings.HasPrefix(filename, "/") || strings.Contains(filename, "..") {
		writeEmpty(w, http.StatusBadRequest)
		return
	}
	if dir == "" {
		t := "output"
		if q.Has("type") {
			t = q.Get("type")
		}
		if dir = s.paths.DirByType(t); dir == "" {
			writeEmpty(w, http.StatusBadRequest)
			return
		}
	}
	sub := ""
	if q.Has("subfolder") {
		sub = q.Get("subfolder")
		if _, err := modelpaths.SafeJoin(dir, sub); err != nil {
			writeEmpty(w, http.StatusForbidden)
			return
		}
	}
	filename = path.Base(filename) // only the base name is used
	full, err := modelpaths.SafeJoin(dir, path.Join(sub, filename))
	if err != nil {
		writeEmpty(w, http.StatusForbidden) // e.g. a symlink that leaves the folder
		return
	}
	st, err := os.Stat(full)
	if err != nil || !st.Mode().IsRegular() {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	channel := "rgba"
	if q.Has("channel") {
		channel = q.Get("channel")
	}
	// nosniff: a browser must not second-guess the type (newer ComfyUI too).
	w.Header().Set("X-Content-Type-Options", "nosniff")
	disp := map[string]string{"Content-Disposition": disposition(filename)}
	if q.Has("preview") {
		info := strings.Split(q.Get("preview"), ";")
		format := info[0]
		if (format != "webp" && format != "jpeg") || strings.Contains(q.Get("channel"), "a") {
			format = "webp"
		}
		quality := 90
		if last := info[len(info)-1]; isDigits(last) {
			quality, _ = strconv.Atoi(last)
		}
		m, _, err := s.loadImage(full)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if format == "jpeg" || q.Get("channel") == "rgb" {
			m = m.DropAlpha()
		}
		var buf bytes.Buffer
		if format == "jpeg" {
			err = imageio.EncodeJPEG(&buf, m.Image(), clampQuality(quality))
		} else {
			err = imageio.EncodeWebP(&buf, m.Image(), imageio.WebPOptions{Quality: clampQuality(quality), Method: 4})
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Disposition", disp["Content-Disposition"])
		writeBytes(w, http.StatusOK, "image/"+format, buf.Bytes())
		return
	}
	switch channel {
	case "rgb", "a":
		m, mode, err := s.loadImage(full)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var out *imageio.Image8
		if channel == "rgb" {
			out = m.DropAlpha()
		} else {
			// RGBA, black, alpha from the source; 255 unless the source mode
			// is exactly RGBA (as ComfyUI, which looks only at img.mode).
			out = imageio.NewImage8(m.Width, m.Height, 4)
			for i := 0; i < m.Width*m.Height; i++ {
				a := byte(255)
				if mode == "RGBA" {
					a = m.Pix[i*4+3]
				}
				out.Pix[i*4+3] = a
			}
		}
		var buf bytes.Buffer
		if err := imageio.EncodePNG(&buf, out, imageio.PNGOptions{Level: 6}); err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Disposition", disp["Content-Disposition"])
		writeBytes(w, http.StatusOK, "image/png", buf.Bytes())
	default:
		serveFile(w, r, full, contentTypeOf(filename), disp)
	}
}

func clampQuality(q int) int {
	if q < 1 {
		return 1
	}
	if q > 100 {
		return 100
	}
	return q
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// loadImage decodes an image file to RGBA after checking its size from
// the header (imageio refuses decompression bombs before decoding).
func (s *Server) loadImage(full string) (*imageio.Image8, string, error) {
	data, err := os.ReadFile(full)
	if err != nil {
		return nil, "", err
	}
	d, err := imageio.Decode(data)
	if err != nil {
		return nil, "", &httpError{status: http.StatusBadRequest, body: map[string]string{"error": err.Error()}, err: err}
	}
	if len(d.Frames) == 0 {
		return nil, "", &httpError{status: http.StatusBadRequest, body: map[string]string{"error": "image has no frames"}}
	}
	f := d.Frames[0]
	return f.RGBA.ToRGBA(), f.Mode, nil
}

// safetensorsHeader reads the JSON header of a .safetensors file (8-byte
// little-endian length, then JSON), refusing headers over max bytes.
func safetensorsHeader(full string, max int64) (*api.Object, error) {
	f, err := os.Open(full)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var n uint64
	if err := binary.Read(f, binary.LittleEndian, &n); err != nil {
		return nil, err
	}
	if n == 0 || n > uint64(max) {
		return nil, errors.New("safetensors header too large")
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, err
	}
	v, err := api.Decode(bytes.TrimRight(b, " "))
	if err != nil {
		return nil, err
	}
	o, ok := v.(*api.Object)
	if !ok {
		return nil, errors.New("safetensors header is not an object")
	}
	return o, nil
}

// getViewMetadata returns a .safetensors file's __metadata__ (header ≤ 1 MiB).
func (s *Server) getViewMetadata(w http.ResponseWriter, r *http.Request) {
	q := query(r)
	name := q.Get("filename")
	if !q.Has("filename") || !strings.HasSuffix(name, ".safetensors") {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	full, err := s.paths.ModelPath(r.PathValue("folder_name"), name)
	if err != nil {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	h, err := safetensorsHeader(full, 1<<20)
	if err != nil {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	meta, ok := h.Get("__metadata__")
	if !ok {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	writeJSON(w, r, http.StatusOK, meta)
}

// --- uploads ---

type uploadForm struct {
	fields   map[string]string
	file     []byte
	filename string
	hasFile  bool
}

// readUpload reads a multipart/form-data body (already size-bounded).
func readUpload(r *http.Request) (*uploadForm, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, &httpError{status: http.StatusBadRequest, err: err}
	}
	f := &uploadForm{fields: map[string]string{}}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, err
			}
			return nil, &httpError{status: http.StatusBadRequest, err: err}
		}
		b, err := io.ReadAll(p)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, err
			}
			return nil, &httpError{status: http.StatusBadRequest, err: err}
		}
		name := p.FormName()
		if name == "image" && isFilePart(p) {
			f.file, f.filename, f.hasFile = b, p.FileName(), true
			continue
		}
		if _, dup := f.fields[name]; !dup {
			f.fields[name] = string(b)
		}
	}
	return f, nil
}

func isFilePart(p *multipart.Part) bool {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		return false
	}
	_, ok := params["filename"]
	return ok
}

func (s *Server) newHash() hash.Hash {
	switch s.cfg.HashFunction {
	case "md5":
		return md5.New()
	case "sha1":
		return sha1.New()
	case "sha512":
		return sha512.New()
	}
	return sha256.New()
}

// sameContent compares a file's hash (--default-hashing-function) with
// sum, the upload's; files of another size are different without hashing.
func (s *Server) sameContent(path string, size int, sum []byte) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Size() != int64(size) {
		return false
	}
	h := s.newHash()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	return bytes.Equal(h.Sum(nil), sum)
}

// checkImageSize refuses an image whose header claims too many pixels; a
// file that is not an image passes (ComfyUI stores any upload).
func checkImageSize(data []byte) error {
	_, w, h, err := imageio.DecodeConfig(data)
	if err != nil {
		return nil
	}
	if err := imageio.CheckSize(w, h); err != nil {
		return &httpError{status: http.StatusRequestEntityTooLarge, body: map[string]string{"error": err.Error()}, err: err}
	}
	return nil
}

// upload is ComfyUI's image_upload: target folder by type and subfolder,
// "name (1).ext" numbering unless overwrite, reuse of an identical file.
// save writes the file (nil: the upload's bytes as they are).
func (s *Server) upload(w http.ResponseWriter, r *http.Request, save func(f *uploadForm, target string) error) {
	f, err := readUpload(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !f.hasFile || f.filename == "" || f.filename == "." || f.filename == "/" {
		writeEmpty(w, http.StatusBadRequest)
		return
	}
	t, ok := f.fields["type"]
	if !ok || t == "" {
		t = "input"
	}
	dir := s.paths.DirByType(t)
	if dir == "" {
		// ComfyUI fails with a 500 here.
		writeJSON(w, r, http.StatusBadRequest, map[string]string{"error": "invalid upload type: " + t})
		return
	}
	sub := f.fields["subfolder"]
	folder, err := modelpaths.SafeJoin(dir, filepath.ToSlash(sub))
	if err != nil {
		writeEmpty(w, http.StatusBadRequest)
		return
	}
	filename := f.filename
	if _, err := modelpaths.SafeJoin(folder, filename); err != nil || strings.ContainsAny(filename, `/\`) {
		writeEmpty(w, http.StatusBadRequest)
		return
	}
	if err := checkImageSize(f.file); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := os.MkdirAll(folder, 0o755); err != nil {
		s.fail(w, r, err)
		return
	}
	target := filepath.Join(folder, filename)
	overwrite := f.fields["overwrite"] == "true" || f.fields["overwrite"] == "1"
	duplicate := false
	if !overwrite {
		ext := path.Ext(filename)
		stem := strings.TrimSuffix(filename, ext)
		h := s.newHash()
		h.Write(f.file)
		sum := h.Sum(nil)
		for i := 1; ; i++ {
			if _, err := os.Lstat(target); err != nil {
				break
			}
			if s.sameContent(target, len(f.file), sum) {
				duplicate = true
				break
			}
			filename = fmt.Sprintf("%s (%d)%s", stem, i, ext)
			target = filepath.Join(folder, filename)
		}
	}
	// The final target must not be a link that leads out of the folder.
	if _, err := modelpaths.SafeJoin(dir, relTo(dir, target)); err != nil {
		writeEmpty(w, http.StatusForbidden)
		return
	}
	if !duplicate {
		if save == nil {
			err = writeFileAtomic(target, f.file)
		} else {
			err = save(f, target)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	writeJSON(w, r, http.StatusOK, api.ObjectOf("name", filename, "subfolder", sub, "type", t))
}

func relTo(root, p string) string {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(rel)
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it into place, so readers never see half a file.
func writeFileAtomic(p string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(p), ".upload-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	os.Chmod(tmp.Name(), 0o644)
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

func (s *Server) postUploadImage(w http.ResponseWriter, r *http.Request) {
	s.upload(w, r, nil)
}

// postUploadMask copies the uploaded image's alpha onto the original
// (original_ref), keeping the original's PNG text chunks, and saves a PNG.
// Unlike ComfyUI, a bad original_ref is a 400 and a missing original a 404
// (ComfyUI answers 200 and writes nothing).
func (s *Server) postUploadMask(w http.ResponseWriter, r *http.Request) {
	s.upload(w, r, func(f *uploadForm, target string) error {
		v, err := api.Decode([]byte(f.fields["original_ref"]))
		if err != nil {
			return &httpError{status: http.StatusBadRequest, body: map[string]string{"error": "original_ref is not JSON"}}
		}
		ref, ok := v.(*api.Object)
		if !ok {
			return &httpError{status: http.StatusBadRequest, body: map[string]string{"error": "original_ref must be an object"}}
		}
		get := func(k, def string) string {
			if x, ok := ref.Get(k); ok {
				if s, ok := x.(string); ok {
					return s
				}
			}
			return def
		}
		name, dir := s.paths.Annotated(get("filename", ""))
		if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
			return &httpError{status: http.StatusBadRequest}
		}
		if dir == "" {
			if dir = s.paths.DirByType(get("type", "output")); dir == "" {
				return &httpError{status: http.StatusBadRequest}
			}
		}
		orig, err := modelpaths.SafeJoin(dir, path.Join(get("subfolder", ""), name))
		if err != nil {
			return &httpError{status: http.StatusForbidden}
		}
		data, err := os.ReadFile(orig)
		if err != nil {
			return &httpError{status: http.StatusNotFound, body: map[string]string{"error": "original image not found"}}
		}
		od, err := imageio.Decode(data)
		if err != nil {
			return &httpError{status: http.StatusBadRequest, body: map[string]string{"error": "original: " + err.Error()}}
		}
		md, err := imageio.Decode(f.file)
		if err != nil {
			return &httpError{status: http.StatusBadRequest, body: map[string]string{"error": "mask: " + err.Error()}}
		}
		o, m := od.Frames[0].RGBA.ToRGBA(), md.Frames[0].RGBA.ToRGBA()
		if o.Width != m.Width || o.Height != m.Height {
			return &httpError{status: http.StatusBadRequest, body: map[string]string{"error": "mask size differs from the original image"}}
		}
		for i := 3; i < len(o.Pix); i += 4 {
			o.Pix[i] = m.Pix[i]
		}
		var chunks []imageio.Chunk
		if texts, _ := imageio.ReadPNGText(bytes.NewReader(data)); len(texts) > 0 {
			vals := imageio.TextMap(texts)
			seen := map[string]bool{}
			for _, t := range texts { // PIL's dict: first position, last value
				if !seen[t.Key] {
					seen[t.Key] = true
					chunks = append(chunks, imageio.TextChunk(t.Key, vals[t.Key]))
				}
			}
		}
		var buf bytes.Buffer
		if err := imageio.EncodePNG(&buf, o, imageio.PNGOptions{Level: 4, Before: chunks}); err != nil {
			return err
		}
		return writeFileAtomic(target, buf.Bytes())
	})
}

// --- experimental model manager ---

func (s *Server) getExperimentModels(w http.ResponseWriter, r *http.Request) {
	out := []any{}
	for _, n := range s.paths.Names() {
		if n == "configs" || n == "custom_nodes" {
			continue
		}
		out = append(out, api.ObjectOf("name", n, "folders", s.paths.Dirs(n)))
	}
	writeJSON(w, r, http.StatusOK, out)
}

// getExperimentModelFiles lists model files with times and sizes. As in
// ComfyUI it filters by the model extensions whatever the folder, and skips
// hidden files and folders.
func (s *Server) getExperimentModelFiles(w http.ResponseWriter, r *http.Request) {
	folder := r.PathValue("folder")
	if !s.paths.Has(folder) {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	exts := map[string]bool{}
	for _, e := range modelpaths.DefaultExtensions {
		exts[e] = true
	}
	out := []any{}
	for idx, dir := range s.paths.Dirs(folder) {
		visited := map[string]bool{}
		var walk func(d, rel string)
		walk = func(d, rel string) {
			real, err := filepath.EvalSymlinks(d)
			if err != nil || visited[real] {
				return
			}
			visited[real] = true
			ents, err := os.ReadDir(d)
			if err != nil {
				return
			}
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), ".") {
					continue
				}
				full := filepath.Join(d, e.Name())
				st, err := os.Stat(full)
				if err != nil {
					continue
				}
				r := path.Join(rel, e.Name())
				if st.IsDir() {
					walk(full, r)
					continue
				}
				if !exts[strings.ToLower(path.Ext(e.Name()))] {
					continue
				}
				out = append(out, api.ObjectOf("name", r, "pathIndex", idx,
					"modified", api.Float(float64(st.ModTime().UnixNano())/1e9),
					"created", api.Float(ctime(st)), "size", st.Size()))
			}
		}
		walk(dir, "")
	}
	writeJSON(w, r, http.StatusOK, out)
}

// getModelPreview returns a model's preview re-encoded as WebP:
// <stem>.<image ext>, <stem>.preview.<image ext>, then the first
// ssmd_cover_images entry of a .safetensors file's metadata.
func (s *Server) getModelPreview(w http.ResponseWriter, r *http.Request) {
	folder := r.PathValue("folder")
	if !s.paths.Has(folder) {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	idx, err := strconv.Atoi(r.PathValue("path_index"))
	dirs := s.paths.Dirs(folder)
	if err != nil || idx < 0 || idx >= len(dirs) {
		writeEmpty(w, http.StatusBadRequest) // ComfyUI: 500
		return
	}
	name := r.PathValue("filename")
	full, err := modelpaths.SafeJoin(dirs[idx], name)
	if err != nil {
		writeEmpty(w, http.StatusForbidden)
		return
	}
	stem := strings.TrimSuffix(full, filepath.Ext(full))
	var data []byte
	for _, cand := range []string{stem, stem + ".preview"} {
		for _, ext := range []string{".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"} {
			p := cand + ext
			if _, err := modelpaths.SafeJoin(dirs[idx], relTo(dirs[idx], p)); err != nil {
				continue
			}
			if b, err := os.ReadFile(p); err == nil {
				data = b
				break
			}
		}
		if data != nil {
			break
		}
	}
	if data == nil {
		if h, err := safetensorsHeader(stem+".safetensors", 8<<20); err == nil {
			if mv, ok := h.Get("__metadata__"); ok {
				if mo, ok := mv.(*api.Object); ok {
					if ci, ok := mo.Get("ssmd_cover_images"); ok {
						if cs, ok := ci.(string); ok {
							var imgs []string
							if json.Unmarshal([]byte(cs), &imgs) == nil && len(imgs) > 0 {
								data, _ = base64.StdEncoding.DecodeString(imgs[0])
							}
						}
					}
				}
			}
		}
	}
	if data == nil {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	d, err := imageio.Decode(data)
	if err != nil || len(d.Frames) == 0 {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	var buf bytes.Buffer
	if err := imageio.EncodeWebP(&buf, d.Frames[0].RGBA.Image(), imageio.WebPOptions{Quality: 80, Method: 4}); err != nil {
		s.fail(w, r, err)
		return
	}
	writeBytes(w, http.StatusOK, "image/webp", buf.Bytes())
}
