package image

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"path/filepath"

	"github.com/comfyd/comfyd/api"
	"github.com/comfyd/comfyd/imageio"
	"github.com/comfyd/comfyd/node"
)

// webpMethods maps SaveAnimatedWEBP's method names to libwebp's method.
var webpMethods = map[string]int{"default": 4, "fastest": 0, "slowest": 6}

// saveAnimatedWEBP writes the whole batch as one animated WebP
// (num_frames = 0 in ComfyUI: one file), each frame shown int(1000/fps) ms.
// Metadata goes into EXIF: 0x0110 = "prompt:<json>", then 0x010F, 0x010E,
// ... = "<key>:<json>" per extra_pnginfo key.
func saveAnimatedWEBP(c *node.Context, in node.Inputs) (*node.Result, error) {
	images, err := imageArg(in.Get("images"), "images")
	if err != nil {
		return nil, err
	}
	if images.Shape[0] == 0 {
		return nil, node.Errorf("IndexError", "index 0 is out of bounds for dimension 0 with size 0")
	}
	method, ok := webpMethods[in.String("method")]
	if !ok {
		method = 4
	}
	fps := in.Float("fps")
	t, err := SavePath(in.String("filename_prefix"), c.Env.OutputDir(), images.Shape[2], images.Shape[1])
	if err != nil {
		return nil, node.Errorf("Exception", "%s", err.Error())
	}
	frames := make([]image.Image, images.Shape[0])
	for i := range frames {
		m, err := frame8(images, i)
		if err != nil {
			return nil, node.Errorf("TypeError", "%s", err.Error())
		}
		frames[i] = m.Image()
	}
	var exif []byte
	if !c.Env.DisableMetadata() {
		tags := map[uint16]string{}
		if p := hidden(in, "prompt"); p != nil {
			j, err := api.MarshalPython(p)
			if err != nil {
				return nil, err
			}
			tags[0x0110] = "prompt:" + string(j)
		}
		tag := uint16(0x010f)
		err := eachExtra(hidden(in, "extra_pnginfo"), func(k string, v any) error {
			j, err := api.MarshalPython(v)
			if err == nil {
				tags[tag] = k + ":" + string(j)
				tag--
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		if len(tags) > 0 {
			exif = imageio.ExifASCII(tags)
		}
	}
	var buf bytes.Buffer
	opts := imageio.WebPOptions{Lossless: in.Bool("lossless"), Quality: int(in.Int("quality")), Method: method}
	if err := imageio.EncodeAnimatedWebP(&buf, frames, int(1000.0/fps), opts, exif); err != nil {
		return nil, err
	}
	file := fmt.Sprintf("%s_%05d_.webp", t.Filename, t.Counter)
	if err := os.WriteFile(filepath.Join(t.Folder, file), buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	ui := &node.UI{}
	ui.Add("images", api.ObjectOf("filename", file, "subfolder", t.Subfolder, "type", "output"))
	ui.Add("animated", len(frames) != 1)
	return &node.Result{UI: ui}, nil
}

// saveAnimatedPNG writes the batch as one APNG; metadata goes into "comf"
// chunks after the image data ("<key>\0<json>").
func saveAnimatedPNG(c *node.Context, in node.Inputs) (*node.Result, error) {
	images, err := imageArg(in.Get("images"), "images")
	if err != nil {
		return nil, err
	}
	if images.Shape[0] == 0 {
		return nil, node.Errorf("IndexError", "index 0 is out of bounds for dimension 0 with size 0")
	}
	prefix := "ComfyUI"
	if in.Has("filename_prefix") {
		prefix = in.String("filename_prefix")
	}
	t, err := SavePath(prefix, c.Env.OutputDir(), images.Shape[2], images.Shape[1])
	if err != nil {
		return nil, node.Errorf("Exception", "%s", err.Error())
	}
	frames := make([]*imageio.Image8, images.Shape[0])
	for i := range frames {
		if frames[i], err = frame8(images, i); err != nil {
			return nil, node.Errorf("TypeError", "%s", err.Error())
		}
	}
	var after []imageio.Chunk
	if !c.Env.DisableMetadata() {
		comf := func(k string, v any) error {
			j, err := api.MarshalPython(v)
			if err == nil {
				after = append(after, imageio.Chunk{Type: "comf", Data: append([]byte(k+"\x00"), j...)})
			}
			return err
		}
		if p := hidden(in, "prompt"); p != nil {
			if err := comf("prompt", p); err != nil {
				return nil, err
			}
		}
		if err := eachExtra(hidden(in, "extra_pnginfo"), comf); err != nil {
			return nil, err
		}
	}
	level := int(in.Int("compress_level"))
	var buf bytes.Buffer
	err = imageio.EncodeAPNG(&buf, frames, imageio.APNGOptions{PNGOptions: imageio.PNGOptions{Level: level, After: after},
		DurationMs: int(1000.0 / in.Float("fps"))})
	if err != nil {
		return nil, err
	}
	file := fmt.Sprintf("%s_%05d_.png", t.Filename, t.Counter)
	if err := os.WriteFile(filepath.Join(t.Folder, file), buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	ui := &node.UI{}
	ui.Add("images", api.ObjectOf("filename", file, "subfolder", t.Subfolder, "type", "output"))
	ui.Add("animated", true)
	return &node.Result{UI: ui}, nil
}

func init() {
	const extras = "comfy_extras.nodes_images"
	common := []node.Input{
		node.In("images", node.TypeImage),
		node.In("filename_prefix", node.TypeString, "default", "ComfyUI"),
		node.In("fps", node.TypeFloat, "default", 6.0, "min", 0.01, "max", 1000.0, "step", 0.01),
	}
	node.RegisterFunc(node.Spec{Name: "SaveAnimatedWEBP", Category: "image/animation", PythonModule: extras, OutputNode: true,
		Required: append(append([]node.Input(nil), common...),
			node.In("lossless", node.TypeBoolean, "default", true),
			node.In("quality", node.TypeInt, "default", 80, "min", 0, "max", 100),
			node.Combo("method", []string{"default", "fastest", "slowest"})),
		Hidden: saveImageSpec.Hidden}, saveAnimatedWEBP)
	node.RegisterFunc(node.Spec{Name: "SaveAnimatedPNG", Category: "image/animation", PythonModule: extras, OutputNode: true,
		Required: append(append([]node.Input(nil), common...),
			node.In("compress_level", node.TypeInt, "default", 4, "min", 0, "max", 9)),
		Hidden: saveImageSpec.Hidden}, saveAnimatedPNG)
}
