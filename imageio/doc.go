// Package imageio owns comfyd's image files: PNG decode and encode (with
// tEXt metadata chunks and APNG), JPEG and WebP encode (animated WebP
// included), PIL-like mode handling for decoded files, and the conversion
// between 8-bit pixels and the float32 [H,W,C] values of IMAGE tensors.
//
// It knows nothing of the rest of comfyd: it imports only the standard
// library, golang.org/x/image-style codecs and github.com/gen2brain/webp; it
// must not import api, node, the server or ml/tensor (tensor conversions take
// and return plain float32 slices).
package imageio
