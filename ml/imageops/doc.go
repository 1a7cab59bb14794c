// Package imageops holds the pixel operations of ComfyUI's image and mask
// nodes, written to give ComfyUI's numbers: torch's F.interpolate modes
// (nearest-exact, bilinear and bicubic with align_corners=False, area as
// adaptive average pooling), Pillow's 8-bit LANCZOS resize, common_upscale's
// centre crop, ComfyUI's Gaussian blur and sharpen (reflect padding), blend
// modes, Porter–Duff compositing, scipy-style grey morphology, mask
// feathering and palette quantisation.
//
// Images are *tensor.Tensor float32 [B,H,W,C] (values nominally in [0,1]);
// masks are [B,H,W] and are treated as one-channel images. Functions return
// new contiguous tensors and never modify their inputs. Work is spread over
// rows with tensor.ParallelFor (bounded workers); separable filters keep one
// intermediate image per batch item at most.
//
// This package is part of the compute wing: it imports only ml/tensor and
// must not import api, node or the server.
package imageops
