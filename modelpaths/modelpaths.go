// Package modelpaths is ComfyUI's folder_paths: the ordered registry of
// named model folders (each a list of search directories and an extension
// filter), sorted recursive file listings cached until a directory's mtime
// changes, extra search paths from extra_model_paths.yaml, the input /
// output / temp / user roots, annotated file names ("x.png [output]"), and
// SafeJoin, the one path check used by every route that touches a file.
//
// *Paths implements node.Env (checked in its tests). The package imports
// nothing of comfyd; it must stay below node, server and the node packages.
package modelpaths

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// DefaultExtensions is ComfyUI's supported_pt_extensions.
var DefaultExtensions = []string{".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl", ".sft"}

// legacy maps old folder names to their current names (map_legacy).
var legacy = map[string]string{"unet": "diffusion_models", "clip": "text_encoders"}

// MapLegacy returns the current name of a legacy folder name.
func MapLegacy(name string) string {
	if n, ok := legacy[name]; ok {
		return n
	}
	return name
}

// Folder is one named model folder.
type Folder struct {
	Name string
	Dirs []string
	// Exts is the extension filter (lower-case, with the dot); empty means
	// every file. "folder" matches directories' names as ComfyUI's
	// diffusers entry does (it never matches files).
	Exts map[string]bool
}

// Paths is the folder registry and the base directories. It is safe for
// concurrent use.
type Paths struct {
	mu      sync.RWMutex
	order   []string
	folders map[string]*Folder
	cache   map[string]*listing

	base, input, output, temp, user string
	disableMetadata                 bool

	// Getenv expands $VARS and ~ in extra_model_paths.yaml base paths
	// (config.Config.Getenv); nil expands nothing.
	Getenv func(string) string
}

type listing struct {
	files  []string
	mtimes map[string]time.Time // every directory walked -> its mtime
}

// New builds ComfyUI's default registry under base (base/models/...,
// base/custom_nodes) with input, output, temp and user roots. It does not
// add output's model folders: call AddOutputModelPaths after extra YAML
// files are loaded, as ComfyUI's main.py does.
func New(base, input, output, temp, user string) *Paths {
	p := &Paths{folders: map[string]*Folder{}, cache: map[string]*listing{},
		base: base, input: input, output: output, temp: temp, user: user}
	models := filepath.Join(base, "models")
	m := func(d ...string) []string {
		out := make([]string, len(d))
		for i, x := range d {
			out[i] = filepath.Join(models, x)
		}
		return out
	}
	def := DefaultExtensions
	p.register("checkpoints", m("checkpoints"), def)
	p.register("configs", m("configs"), []string{".yaml"})
	p.register("loras", m("loras"), def)
	p.register("vae", m("vae"), def)
	p.register("text_encoders", m("text_encoders", "clip"), def)
	p.register("diffusion_models", m("unet", "diffusion_models"), def)
	p.register("clip_vision", m("clip_vision"), def)
	p.register("style_models", m("style_models"), def)
	p.register("embeddings", m("embeddings"), def)
	p.register("diffusers", m("diffusers"), []string{"folder"})
	p.register("vae_approx", m("vae_approx"), def)
	p.register("controlnet", m("controlnet", "t2i_adapter"), def)
	p.register("gligen", m("gligen"), def)
	p.register("upscale_models", m("upscale_models"), def)
	p.register("custom_nodes", []string{filepath.Join(base, "custom_nodes")}, nil)
	p.register("hypernetworks", m("hypernetworks"), def)
	p.register("photomaker", m("photomaker"), def)
	p.register("classifiers", m("classifiers"), []string{""})
	p.register("model_patches", m("model_patches"), def)
	p.register("audio_encoders", m("audio_encoders"), def)
	return p
}

func (p *Paths) register(name string, dirs, exts []string) {
	f := &Folder{Name: name, Dirs: dirs, Exts: map[string]bool{}}
	for _, e := range exts {
		f.Exts[e] = true
	}
	p.folders[name] = f
	p.order = append(p.order, name)
}

// AddOutputModelPaths adds output/{checkpoints,clip,vae,diffusion_models,loras}
// as extra search paths (where model-saving nodes write), as main.py does.
func (p *Paths) AddOutputModelPaths() {
	for _, n := range []string{"checkpoints", "clip", "vae", "diffusion_models", "loras"} {
		p.AddPath(n, filepath.Join(p.output, n), false)
	}
}

// AddPath is add_model_folder_path: a known folder gets dir appended (or
// moved/inserted first when isDefault); an unknown name becomes a new
// folder without extension filter.
func (p *Paths) AddPath(name, dir string, isDefault bool) {
	name = MapLegacy(name)
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.cache, name)
	f, ok := p.folders[name]
	if !ok {
		p.folders[name] = &Folder{Name: name, Dirs: []string{dir}, Exts: map[string]bool{}}
		p.order = append(p.order, name)
		return
	}
	for i, d := range f.Dirs {
		if d == dir {
			if isDefault {
				f.Dirs = append(append([]string{dir}, f.Dirs[:i]...), f.Dirs[i+1:]...)
			}
			return
		}
	}
	if isDefault {
		f.Dirs = append([]string{dir}, f.Dirs...)
	} else {
		f.Dirs = append(f.Dirs, dir)
	}
}

// Names returns the folder names in registry order.
func (p *Paths) Names() []string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return append([]string(nil), p.order...)
}

// Has reports whether name (not legacy-mapped) is a registered folder.
func (p *Paths) Has(name string) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	_, ok := p.folders[name]
	return ok
}

// Dirs returns the search directories of a folder (legacy names mapped).
func (p *Paths) Dirs(name string) []string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if f, ok := p.folders[MapLegacy(name)]; ok {
		return append([]string(nil), f.Dirs...)
	}
	return nil
}

// Base returns the base directory.
func (p *Paths) Base() string { return p.base }

// UserDir returns the user directory.
func (p *Paths) UserDir() string { return p.user }

// InputDir, OutputDir and TempDir implement node.Env.
func (p *Paths) InputDir() string  { return p.input }
func (p *Paths) OutputDir() string { return p.output }
func (p *Paths) TempDir() string   { return p.temp }

// SetDisableMetadata records --disable-metadata.
func (p *Paths) SetDisableMetadata(v bool) { p.disableMetadata = v }

// DisableMetadata implements node.Env.
func (p *Paths) DisableMetadata() bool { return p.disableMetadata }

// DirByType maps "input", "output", "temp" to their directory ("" if unknown).
func (p *Paths) DirByType(t string) string {
	switch t {
	case "input":
		return p.input
	case "output":
		return p.output
	case "temp":
		return p.temp
	}
	return ""
}

// Annotated splits a name with a " [output]" / " [input]" / " [temp]"
// annotation into the bare name and the directory it selects ("" when
// there is no annotation). ComfyUI strips a fixed number of characters, so
// "x.png[output]" loses its last character too: kept (quirk).
func (p *Paths) Annotated(name string) (string, string) {
	switch {
	case strings.HasSuffix(name, "[output]"):
		return name[:len(name)-9], p.output
	case strings.HasSuffix(name, "[input]"):
		return name[:len(name)-8], p.input
	case strings.HasSuffix(name, "[temp]"):
		return name[:len(name)-7], p.temp
	}
	return name, ""
}

// AnnotatedPath resolves an annotated name to a full path, with the input
// directory as the default base (get_annotated_filepath). The name must
// stay inside its base.
func (p *Paths) AnnotatedPath(name string) (string, error) {
	n, dir := p.Annotated(name)
	if dir == "" {
		dir = p.input
	}
	return SafeJoin(dir, n)
}

// EnsureDirs creates the base layout: input, output, temp, user and every
// folder's first directory under base/models (as ComfyUI's tree has).
func (p *Paths) EnsureDirs() error {
	for _, d := range []string{p.input, p.output, p.temp, p.user} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	models := filepath.Join(p.base, "models")
	for _, name := range p.Names() {
		for _, d := range p.Dirs(name) {
			if filepath.Dir(d) == models || name == "custom_nodes" && strings.HasPrefix(d, p.base) {
				if err := os.MkdirAll(d, 0o755); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// ResetTemp deletes and recreates the temp directory (ComfyUI does at start).
func (p *Paths) ResetTemp() error {
	if p.temp == "" || p.temp == "/" {
		return errors.New("modelpaths: refusing to wipe temp dir " + p.temp)
	}
	if err := os.RemoveAll(p.temp); err != nil {
		return err
	}
	return os.MkdirAll(p.temp, 0o755)
}

func (f *Folder) accepts(name string, isDir bool) bool {
	if len(f.Exts) == 0 {
		return !isDir
	}
	if isDir {
		return f.Exts["folder"]
	}
	return f.Exts[strings.ToLower(filepath.Ext(name))]
}

// ModelFiles returns the sorted, de-duplicated relative file names of a
// folder (legacy names mapped), walking every search directory recursively
// and following symlinks (skipping .git). Listings are cached until a
// walked directory's mtime changes or a missing search dir appears.
func (p *Paths) ModelFiles(name string) []string {
	name = MapLegacy(name)
	p.mu.RLock()
	f, ok := p.folders[name]
	c := p.cache[name]
	var dirs []string
	if ok {
		dirs = append(dirs, f.Dirs...)
	}
	p.mu.RUnlock()
	if !ok {
		return []string{}
	}
	if c != nil && c.valid(dirs) {
		return c.files
	}
	l := &listing{mtimes: map[string]time.Time{}}
	seen := map[string]bool{}
	for _, d := range dirs {
		for _, rel := range walk(d, f, l.mtimes) {
			if !seen[rel] {
				seen[rel] = true
				l.files = append(l.files, rel)
			}
		}
	}
	sort.Strings(l.files) // code-point order, as Python's sorted()
	if l.files == nil {
		l.files = []string{}
	}
	p.mu.Lock()
	p.cache[name] = l
	p.mu.Unlock()
	return l.files
}

func (l *listing) valid(dirs []string) bool {
	for d, mt := range l.mtimes {
		st, err := os.Stat(d)
		if err != nil || !st.ModTime().Equal(mt) {
			return false
		}
	}
	for _, d := range dirs {
		if _, ok := l.mtimes[d]; !ok {
			if st, err := os.Stat(d); err == nil && st.IsDir() {
				return false
			}
		}
	}
	return true
}

// walk lists files under root accepted by f, relative to root with "/"
// separators. Symlinked directories are followed once each (a link cycle
// cannot loop).
func walk(root string, f *Folder, mtimes map[string]time.Time) []string {
	var out []string
	visited := map[string]bool{}
	var rec func(dir, rel string)
	rec = func(dir, rel string) {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil || visited[real] {
			return
		}
		visited[real] = true
		st, err := os.Stat(dir)
		if err != nil || !st.IsDir() {
			return
		}
		mtimes[dir] = st.ModTime()
		ents, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range ents {
			full := filepath.Join(dir, e.Name())
			r := e.Name()
			if rel != "" {
				r = rel + "/" + e.Name()
			}
			isDir := e.IsDir()
			if e.Type()&os.ModeSymlink != 0 {
				st, err := os.Stat(full)
				if err != nil {
					continue // broken link
				}
				isDir = st.IsDir()
			}
			if isDir {
				if e.Name() == ".git" {
					continue
				}
				if f.accepts(e.Name(), true) {
					out = append(out, r)
				}
				rec(full, r)
				continue
			}
			if f.accepts(e.Name(), false) {
				out = append(out, r)
			}
		}
	}
	rec(root, "")
	return out
}

// ErrNotFound is returned by ModelPath for a name that no search dir holds.
var ErrNotFound = errors.New("model file not found")

// ModelPath resolves a listed name to an absolute path: the first search
// directory that holds it as a file. The name may not leave the directory
// lexically ("..", absolute); symlinks inside model folders are followed
// as in the listings (users link model stores into models/).
func (p *Paths) ModelPath(folder, name string) (string, error) {
	if err := checkRel(name); err != nil {
		return "", err
	}
	for _, d := range p.Dirs(folder) {
		full := filepath.Join(d, filepath.FromSlash(name))
		if st, err := os.Stat(full); err == nil && !st.IsDir() {
			return full, nil
		}
	}
	return "", ErrNotFound
}
