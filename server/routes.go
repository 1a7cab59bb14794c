package server

import (
	"bufio"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/comfyd/comfyd/api"
)

func (s *Server) routes() http.Handler {
	rt := &router{fallback: http.HandlerFunc(s.static)}
	get := func(p string, h http.HandlerFunc) { rt.handle(http.MethodGet, p, h) }
	post := func(p string, h http.HandlerFunc) { rt.handle(http.MethodPost, p, h) }

	// /internal is a sub-application without the /api alias; it is matched
	// first, as in ComfyUI.
	rt.add(http.MethodGet, "/internal/logs", s.getLogs)
	rt.add(http.MethodGet, "/internal/logs/raw", s.getLogsRaw)
	rt.add(http.MethodPatch, "/internal/logs/subscribe", s.patchLogsSubscribe)
	rt.add(http.MethodGet, "/internal/folder_paths", s.getFolderPaths)
	rt.add(http.MethodGet, "/internal/files/{directory_type}", s.getInternalFiles)

	get("/", s.index)
	get("/ws", s.hub.serveWS)
	get("/features", s.getFeatures)
	get("/embeddings", s.getEmbeddings)
	get("/extensions", s.getExtensions)
	get("/models", s.getModels)
	get("/models/{folder}", s.getModelFiles)
	get("/workflow_templates", s.getWorkflowTemplates)
	get("/i18n", s.getI18n)
	get("/system_stats", s.getSystemStats)
	get("/object_info", s.getObjectInfo)
	get("/object_info/{node_class}", s.getObjectInfoClass)
	get("/prompt", s.getPrompt)
	post("/prompt", s.postPrompt)
	get("/queue", s.getQueue)
	post("/queue", s.postQueue)
	post("/interrupt", s.postInterrupt)
	post("/free", s.postFree)
	get("/history", s.getHistory)
	get("/history/{prompt_id}", s.getHistoryItem)
	post("/history", s.postHistory)
	get("/view", s.getView)
	get("/view_metadata/{folder_name}", s.getViewMetadata)
	post("/upload/image", s.postUploadImage)
	post("/upload/mask", s.postUploadMask)

	get("/users", s.getUsers)
	post("/users", s.postUsers)
	get("/userdata", s.getUserdataList)
	get("/v2/userdata", s.getUserdataV2)
	get("/userdata/{file}", s.getUserdataFile)
	post("/userdata/{file}", s.postUserdataFile)
	rt.handle(http.MethodDelete, "/userdata/{file}", s.deleteUserdataFile)
	post("/userdata/{file}/move/{dest}", s.moveUserdataFile)
	get("/settings", s.getSettings)
	post("/settings", s.postSettings)
	get("/settings/{id}", s.getSetting)
	post("/settings/{id}", s.postSetting)

	get("/experiment/models", s.getExperimentModels)
	get("/experiment/models/{folder}", s.getExperimentModelFiles)
	get("/experiment/models/preview/{folder}/{path_index}/{filename...}", s.getModelPreview)
	return rt
}

// index serves the web root's index.html with no-cache headers (GET / and
// GET /api/).
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "0")
	s.serveWebFile(w, r, "index.html")
}

// static serves the web root (no directory listings).
func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if p == "" {
		s.index(w, r)
		return
	}
	s.serveWebFile(w, r, p)
}

func (s *Server) serveWebFile(w http.ResponseWriter, r *http.Request, name string) {
	f, err := s.webFS.Open(name)
	if err != nil {
		notFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		notFound(w, r)
		return
	}
	rs, ok := f.(interface {
		Read([]byte) (int, error)
		Seek(int64, int) (int64, error)
	})
	if !ok {
		notFound(w, r)
		return
	}
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	http.ServeContent(w, r, name, st.ModTime(), rs)
}

func (s *Server) getFeatures(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, s.featureFlags())
}

// getEmbeddings lists the embeddings folder without extensions.
func (s *Server) getEmbeddings(w http.ResponseWriter, r *http.Request) {
	files := s.paths.ModelFiles("embeddings")
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = strings.TrimSuffix(f, path.Ext(f))
	}
	writeJSON(w, r, http.StatusOK, out)
}

// getExtensions lists extensions/**/*.js under the web root.
func (s *Server) getExtensions(w http.ResponseWriter, r *http.Request) {
	out := []string{}
	fs.WalkDir(s.webFS, "extensions", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".js") {
			out = append(out, "/"+p)
		}
		return nil
	})
	writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) getModels(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, s.paths.Names())
}

// getModelFiles is 404 for names that are not registry keys (legacy names
// included), else the sorted listing.
func (s *Server) getModelFiles(w http.ResponseWriter, r *http.Request) {
	folder := r.PathValue("folder")
	if !s.paths.Has(folder) {
		writeEmpty(w, http.StatusNotFound)
		return
	}
	writeJSON(w, r, http.StatusOK, s.paths.ModelFiles(folder))
}

// templateDirs are the folder names ComfyUI scans for example workflows.
var templateDirs = []string{"example_workflows", "example", "examples", "workflow", "workflows"}

// getWorkflowTemplates maps custom-node folder → template names found in
// <custom_nodes>/*/{example_workflows|...}/*.json.
func (s *Server) getWorkflowTemplates(w http.ResponseWriter, r *http.Request) {
	out := api.NewObject()
	for _, root := range s.paths.Dirs("custom_nodes") {
		mods, _ := os.ReadDir(root)
		for _, m := range mods {
			if !m.IsDir() {
				continue
			}
			for _, td := range templateDirs {
				files, err := filepath.Glob(filepath.Join(root, m.Name(), td, "*.json"))
				if err != nil || len(files) == 0 {
					continue
				}
				names := make([]string, len(files))
				for i, f := range files {
					names[i] = strings.TrimSuffix(filepath.Base(f), ".json")
				}
				out.Set(m.Name(), names)
				break
			}
		}
	}
	writeJSON(w, r, http.StatusOK, out)
}

// getI18n merges custom_nodes/*/locales/<lang>/{main,nodeDefs,commands,settings}.json,
// later folders (sorted) winning, invalid JSON skipped.
func (s *Server) getI18n(w http.ResponseWriter, r *http.Request) {
	out := api.NewObject()
	for _, root := range s.paths.Dirs("custom_nodes") {
		mods, _ := os.ReadDir(root) // sorted by name
		for _, m := range mods {
			locales := filepath.Join(root, m.Name(), "locales")
			langs, err := os.ReadDir(locales)
			if err != nil {
				continue
			}
			for _, l := range langs {
				if !l.IsDir() {
					continue
				}
				tr := api.NewObject()
				if v := readJSONFile(filepath.Join(locales, l.Name(), "main.json")); v != nil {
					tr = v
				}
				for _, k := range []string{"nodeDefs", "commands", "settings"} {
					if v := readJSONFile(filepath.Join(locales, l.Name(), k+".json")); v != nil {
						tr.Set(k, v)
					}
				}
				prev, _ := out.Get(l.Name())
				po, _ := prev.(*api.Object)
				out.Set(l.Name(), mergeJSON(po, tr))
			}
		}
	}
	writeJSON(w, r, http.StatusOK, out)
}

func readJSONFile(p string) *api.Object {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	v, err := api.Decode(b)
	if err != nil {
		return nil
	}
	o, _ := v.(*api.Object)
	return o
}

// mergeJSON deep-merges b into a (b wins), as ComfyUI's merge_json_recursive.
func mergeJSON(a, b *api.Object) *api.Object {
	if a == nil {
		return b
	}
	out := api.Clone(a).(*api.Object)
	for _, k := range b.Keys() {
		bv, _ := b.Get(k)
		av, _ := out.Get(k)
		ao, aok := av.(*api.Object)
		bo, bok := bv.(*api.Object)
		if aok && bok {
			out.Set(k, mergeJSON(ao, bo))
		} else {
			out.Set(k, bv)
		}
	}
	return out
}

// meminfo reads MemTotal and MemAvailable (psutil's total and available).
func meminfo() (total, avail int64) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "MemTotal:":
			total = v * 1024
		case "MemAvailable:":
			avail = v * 1024
		}
	}
	return
}

func (s *Server) getSystemStats(w http.ResponseWriter, r *http.Request) {
	total, free := meminfo()
	sys := api.NewObject()
	sys.Set("os", "posix")
	sys.Set("ram_total", total)
	sys.Set("ram_free", free)
	sys.Set("comfyui_version", Version)
	sys.Set("required_frontend_version", "1.27.10")
	sys.Set("installed_templates_version", "0.1.95")
	sys.Set("required_templates_version", "0.1.95")
	sys.Set("python_version", "comfyd ("+runtime.Version()+")")
	sys.Set("pytorch_version", "none (comfyd CPU engine)")
	sys.Set("embedded_python", false)
	sys.Set("argv", s.cfg.Argv)
	dev := api.NewObject()
	dev.Set("name", "cpu")
	dev.Set("type", "cpu")
	dev.Set("index", nil)
	dev.Set("vram_total", total)
	dev.Set("vram_free", free)
	dev.Set("torch_vram_total", total)
	dev.Set("torch_vram_free", free)
	out := api.ObjectOf("system", sys, "devices", []any{dev})
	writeJSON(w, r, http.StatusOK, out)
}

// getObjectInfo lists every registered node in registration order. A node
// whose info panics is left out and logged, as ComfyUI does.
func (s *Server) getObjectInfo(w http.ResponseWriter, r *http.Request) {
	out := api.NewObject()
	for _, name := range s.reg.Names() {
		if info := s.nodeInfo(name); info != nil {
			out.Set(name, info)
		}
	}
	writeJSON(w, r, http.StatusOK, out)
}

func (s *Server) nodeInfo(name string) (info *api.Object) {
	d, ok := s.reg.Get(name)
	if !ok {
		return nil
	}
	defer func() {
		if e := recover(); e != nil {
			s.log.Error("error getting node info", "node", name, "err", e)
			info = nil
		}
	}()
	return d.Spec.Info(s.paths)
}

func (s *Server) getObjectInfoClass(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("node_class")
	out := api.NewObject()
	if info := s.nodeInfo(name); info != nil {
		out.Set(name, info)
	}
	writeJSON(w, r, http.StatusOK, out)
}

// --- /internal ---

func (s *Server) getLogs(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	for _, e := range s.logs.Entries() {
		b.WriteString(e.T)
		b.WriteString(" - ")
		b.WriteString(e.M)
	}
	writeJSON(w, r, http.StatusOK, b.String())
}

func (s *Server) getLogsRaw(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, map[string]any{
		"entries": s.logs.Entries(),
		"size":    map[string]int{"cols": 80, "rows": 24},
	})
}

func (s *Server) patchLogsSubscribe(w http.ResponseWriter, r *http.Request) {
	v, err := readJSON(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o, _ := v.(*api.Object)
	cid, _ := o.Get("clientId")
	sid, ok := cid.(string)
	en, _ := o.Get("enabled")
	on, ok2 := en.(bool)
	if !ok || !ok2 {
		s.fail(w, r, badRequest(api.ErrInvalidRequest, `body must be {"clientId": string, "enabled": bool}`))
		return
	}
	s.hub.subscribeLogs(sid, on)
	writeEmpty(w, http.StatusOK)
}

func (s *Server) getFolderPaths(w http.ResponseWriter, r *http.Request) {
	out := api.NewObject()
	for _, n := range s.paths.Names() {
		out.Set(n, s.paths.Dirs(n))
	}
	writeJSON(w, r, http.StatusOK, out)
}

// getInternalFiles lists the top-level visible files of input/output/temp,
// newest first.
func (s *Server) getInternalFiles(w http.ResponseWriter, r *http.Request) {
	t := r.PathValue("directory_type")
	if t != "output" && t != "input" && t != "temp" {
		writeJSON(w, r, http.StatusBadRequest, map[string]string{"error": "Invalid directory type"})
		return
	}
	type fe struct {
		name string
		mt   time.Time
	}
	var files []fe
	ents, _ := os.ReadDir(s.paths.DirByType(t))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := os.Stat(filepath.Join(s.paths.DirByType(t), e.Name()))
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		files = append(files, fe{e.Name(), info.ModTime()})
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i].mt.After(files[j].mt) })
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.name
	}
	writeJSON(w, r, http.StatusOK, out)
}
