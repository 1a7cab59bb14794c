// Package image implements ComfyUI's image nodes (nodes.py's LoadImage,
// SaveImage, PreviewImage, EmptyImage, ImageInvert, ImageBatch, ... and
// comfy_extras/nodes_images.py, nodes_preview_any.py) with ComfyUI 0.3.64's
// exact /object_info entries and outputs, quirks included. Every class
// registers itself into node.Default from init.
//
// It imports node, api, imageio and ml/tensor; never the executor, the
// server or the queue.
package image
