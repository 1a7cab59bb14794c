package image

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/imageio"
	"github.com/comfyd/comfyd/ml/tensor"
	"github.com/comfyd/comfyd/node"
)

// SaveTarget is folder_paths.get_save_image_path's result.
type SaveTarget struct {
	Folder    string // full output folder (absolute)
	Filename  string // file stem, may still hold %batch_num%
	Counter   int    // first free counter
	Subfolder string // as reported in the UI ("" or "a/b")
}

// SavePath resolves a filename prefix against dir as ComfyUI's
// get_save_image_path does: server-side %width%/%height%/%year%...
// variables, subfolders from the prefix, the refusal of folders outside dir,
// and the counter that continues after the files already there. The folder
// is created when missing.
func SavePath(prefix, dir string, width, height int) (SaveTarget, error) {
	if strings.Contains(prefix, "%") {
		prefix = computeVars(prefix, width, height, time.Now())
	}
	// basename of the prefix before normalisation sets how many characters
	// of each existing name are compared (a quirk kept from ComfyUI).
	prefixLen := len([]rune(pyBasename(prefix)))
	norm := path.Clean(prefix)
	subfolder, filename := pyDirname(norm), pyBasename(norm)

	outDir, err := filepath.Abs(dir)
	if err != nil {
		return SaveTarget{}, err
	}
	full := subfolder
	if !path.IsAbs(subfolder) {
		full = outDir + "/" + subfolder
	}
	full = filepath.Clean(full)
	if common := commonPath(outDir, full); common != outDir {
		return SaveTarget{}, fmt.Errorf("**** ERROR: Saving image outside the output folder is not allowed.\n full_output_folder: %s\n         output_dir: %s\n         commonpath: %s", full, outDir, common)
	}
	t := SaveTarget{Folder: full, Filename: filename, Subfolder: subfolder, Counter: 1}
	names, err := listNames(full)
	if err != nil {
		if os.IsNotExist(err) {
			return t, os.MkdirAll(full, 0o755)
		}
		return t, err
	}
	// Usually the compared length is the file stem's own: then a byte
	// prefix test does, without decoding every name of a big folder.
	fast := prefixLen == utf8.RuneCountInString(filename)
	stem := filename + "_"
	best, found := 0, false
	for _, n := range names {
		var rest string
		if fast {
			if !strings.HasPrefix(n, stem) {
				continue
			}
			rest = n[len(stem):]
		} else {
			name := []rune(n)
			head := name[:min(prefixLen+1, len(name))]
			if len(head) == 0 || head[len(head)-1] != '_' || string(head[:len(head)-1]) != filename {
				continue
			}
			rest = string(name[len(head):])
		}
		digits := 0
		field, _, _ := strings.Cut(rest, "_")
		if v, err := strconv.Atoi(strings.TrimSpace(field)); err == nil {
			digits = v
		}
		if !found || digits > best {
			best, found = digits, true
		}
	}
	if found {
		t.Counter = best + 1
	}
	return t, nil
}

// listNames returns the names in dir, unsorted (the counter only needs
// their maximum; os.ReadDir would sort them).
func listNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

func computeVars(s string, width, height int, now time.Time) string {
	two := func(v int) string { return fmt.Sprintf("%02d", v) }
	s = strings.ReplaceAll(s, "%width%", strconv.Itoa(width))
	s = strings.ReplaceAll(s, "%height%", strconv.Itoa(height))
	s = strings.ReplaceAll(s, "%year%", strconv.Itoa(now.Year()))
	s = strings.ReplaceAll(s, "%month%", two(int(now.Month())))
	s = strings.ReplaceAll(s, "%day%", two(now.Day()))
	s = strings.ReplaceAll(s, "%hour%", two(now.Hour()))
	s = strings.ReplaceAll(s, "%minute%", two(now.Minute()))
	s = strings.ReplaceAll(s, "%second%", two(now.Second()))
	return s
}

// pyBasename and pyDirname are Python's posixpath.basename/dirname.
func pyBasename(p string) string {
	return p[strings.LastIndex(p, "/")+1:]
}

func pyDirname(p string) string {
	i := strings.LastIndex(p, "/") + 1
	head := p[:i]
	if head != "" && strings.Trim(head, "/") != "" {
		head = strings.TrimRight(head, "/")
	}
	return head
}

// commonPath is os.path.commonpath of two absolute, clean paths.
func commonPath(a, b string) string {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	n := 0
	for n < len(as) && n < len(bs) && as[n] == bs[n] {
		n++
	}
	c := strings.Join(as[:n], "/")
	if c == "" {
		return "/"
	}
	return c
}

// SaveOptions describe one SaveImage-style call.
type SaveOptions struct {
	Dir    string // output or temp folder
	Type   string // "output" or "temp"
	Prefix string // filename_prefix with any suffix already appended
	Level  int    // zlib level
	// Prompt and ExtraPNGInfo are the hidden PROMPT and EXTRA_PNGINFO
	// values; metadata is written unless DisableMetadata.
	Prompt          any
	ExtraPNGInfo    any
	DisableMetadata bool
}

// SaveImages writes every image of a [B,H,W,C] batch as
// <stem>_<counter:05>_.png and returns the UI items
// {"filename", "subfolder", "type"} (SaveImage.save_images).
func SaveImages(images *tensor.Tensor, o SaveOptions) ([]any, error) {
	if images.Shape[0] == 0 {
		return nil, node.Errorf("IndexError", "index 0 is out of bounds for dimension 0 with size 0")
	}
	t, err := SavePath(o.Prefix, o.Dir, images.Shape[2], images.Shape[1])
	if err != nil {
		return nil, node.Errorf("Exception", "%s", err.Error())
	}
	var before []imageio.Chunk
	if !o.DisableMetadata {
		if before, err = metadataChunks(o.Prompt, o.ExtraPNGInfo); err != nil {
			return nil, err
		}
	}
	// Images are encoded in parallel (bounded by GOMAXPROCS); names and UI
	// order stay those of the sequential loop.
	n := images.Shape[0]
	items := make([]any, n)
	errs := make([]error, n)
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for b := 0; b < n; b++ {
		file := fmt.Sprintf("%s_%05d_.png", strings.ReplaceAll(t.Filename, "%batch_num%", strconv.Itoa(b)), t.Counter+b)
		items[b] = api.ObjectOf("filename", file, "subfolder", t.Subfolder, "type", o.Type)
		wg.Add(1)
		sem <- struct{}{}
		go func(b int, file string) {
			defer func() { <-sem; wg.Done() }()
			m, err := frame8(images, b)
			if err != nil {
				errs[b] = node.Errorf("TypeError", "%s", err.Error())
				return
			}
			var buf bytes.Buffer
			if err := imageio.EncodePNG(&buf, m, imageio.PNGOptions{Level: o.Level, Before: before}); err != nil {
				errs[b] = err
				return
			}
			errs[b] = os.WriteFile(filepath.Join(t.Folder, file), buf.Bytes(), 0o644)
		}(b, file)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return items, nil
}

// metadataChunks returns the tEXt chunks ComfyUI writes: "prompt" (when a
// prompt is given) then one per extra_pnginfo key, each JSON as Python's
// json.dumps writes it.
func metadataChunks(prompt, extra any) ([]imageio.Chunk, error) {
	var out []imageio.Chunk
	if prompt != nil {
		j, err := api.MarshalPython(prompt)
		if err != nil {
			return nil, err
		}
		out = append(out, imageio.TextChunk("prompt", string(j)))
	}
	err := eachExtra(extra, func(k string, v any) error {
		j, err := api.MarshalPython(v)
		if err == nil {
			out = append(out, imageio.TextChunk(k, string(j)))
		}
		return err
	})
	return out, err
}

// eachExtra walks extra_pnginfo's keys in order.
func eachExtra(extra any, f func(k string, v any) error) error {
	switch e := extra.(type) {
	case nil:
		return nil
	case *api.Object:
		if e == nil {
			return nil
		}
		for _, k := range e.Keys() {
			v, _ := e.Get(k)
			if err := f(k, v); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("extra_pnginfo: %T is not an object", extra)
}

// hidden reads a hidden input that may be absent.
func hidden(in node.Inputs, name string) any {
	v := in.Get(name)
	if o, ok := v.(*api.Object); ok && o == nil {
		return nil
	}
	return v
}

var saveImageSpec = node.Spec{Name: "SaveImage", DisplayName: "Save Image", Category: "image", OutputNode: true,
	Description: "Saves the input images to your ComfyUI output directory.",
	Required: []node.Input{
		node.In("images", node.TypeImage, "tooltip", "The images to save."),
		node.In("filename_prefix", node.TypeString, "default", "ComfyUI", "tooltip", "The prefix for the file to save. This may include formatting information such as %date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes."),
	},
	Hidden: []node.Hidden{{Name: "prompt", Kind: node.HiddenPrompt}, {Name: "extra_pnginfo", Kind: node.HiddenExtraPNGInfo}},
}

// PreviewImage shares SaveImage's description (it subclasses SaveImage).
var previewImageSpec = node.Spec{Name: "PreviewImage", DisplayName: "Preview Image", Category: "image", OutputNode: true,
	Description: saveImageSpec.Description,
	Required:    []node.Input{node.In("images", node.TypeImage)},
	Hidden:      saveImageSpec.Hidden,
}

// previewLetters is ComfyUI's alphabet for preview names, typo included
// ("stupvxyz": no 'w', 'p' twice).
const previewLetters = "abcdefghijklmnopqrstupvxyz"

// previewImage keeps its random suffix for the life of the instance, which
// the executor caches per (node id, class) as ComfyUI caches node objects.
type previewImage struct{ suffix string }

// NewPreviewSuffix draws a temp-file suffix "_temp_xxxxx", as ComfyUI's
// PreviewImage (and MaskPreview) do once per node instance.
func NewPreviewSuffix() string {
	b := make([]byte, 5)
	for i := range b {
		b[i] = previewLetters[rand.IntN(len(previewLetters))]
	}
	return "_temp_" + string(b)
}

func (p *previewImage) Run(c *node.Context, in node.Inputs) (*node.Result, error) {
	images, err := imageArg(in.Get("images"), "images")
	if err != nil {
		return nil, err
	}
	return SaveResult(c, in, images, SaveOptions{Dir: c.Env.TempDir(), Type: "temp", Prefix: "ComfyUI" + p.suffix, Level: 1})
}

func saveImage(c *node.Context, in node.Inputs) (*node.Result, error) {
	images, err := imageArg(in.Get("images"), "images")
	if err != nil {
		return nil, err
	}
	prefix := "ComfyUI"
	if in.Has("filename_prefix") {
		prefix = in.String("filename_prefix")
	}
	return SaveResult(c, in, images, SaveOptions{Dir: c.Env.OutputDir(), Type: "output", Prefix: prefix, Level: 4})
}

// SaveResult saves images with o as an output node does: the hidden
// prompt and extra_pnginfo inputs become PNG metadata unless the server
// disables it, and the result is the UI {"images": [refs...]}.
func SaveResult(c *node.Context, in node.Inputs, images *tensor.Tensor, o SaveOptions) (*node.Result, error) {
	o.Prompt, o.ExtraPNGInfo, o.DisableMetadata = hidden(in, "prompt"), hidden(in, "extra_pnginfo"), c.Env.DisableMetadata()
	items, err := SaveImages(images, o)
	if err != nil {
		return nil, err
	}
	ui := &node.UI{}
	ui.Add("images", items...)
	return &node.Result{UI: ui}, nil
}

func init() {
	node.RegisterFunc(saveImageSpec, saveImage)
	node.Register(&node.Def{Spec: previewImageSpec, New: func() node.Node { return &previewImage{suffix: NewPreviewSuffix()} }})
}
