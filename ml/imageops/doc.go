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
// Agreement with ComfyUI 0.3.64 (golden/image-nodes, 8-bit output):
// nearest-exact, area and lanczos match exactly; bilinear, bicubic, blur,
// sharpen and the bilinear mask resize of compositing differ by at most one
// level in a few values, where a result lands within float32 rounding of an
// integer level (torch's CPU kernels are built with FMA contraction and sum
// in their own order, which is not reproduced here).
//
// BenchmarkImagePipeline (nodes/upscale: four 2048² images, bicubic to
// 4096², blur r=15, masked composite) used about 11 s of CPU, spread over
// the cores by ParallelFor; its heap peaked at 2.9 GB, of which 2.4 GB are
// the three 4096² batches the nodes return (scratch is per band of rows).
//
// This package is part of the compute wing: it imports only ml/tensor and
// must not import api, node or the server.
package imageops
