// Package safetensors owns the safetensors file format: the header (an
// 8-byte little-endian length, then a JSON object naming every tensor's
// dtype, shape and byte range, plus an optional "__metadata__" string map),
// its validation, memory-mapped lazy access to tensor bytes, and a writer.
//
// Every check a corrupt or hostile file can trip returns an error that says
// what is wrong; nothing panics on file contents (FuzzParseHeader keeps it
// so). Gaps between tensors are allowed, overlaps are not.
//
// It imports ml/tensor only for the type Tensor returns; nothing else of
// comfyd's (no api, node, server, net/http).
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"sort"
)

// DType is a safetensors element type, spelled as in the header.
type DType string

// The element types the format defines.
const (
	F64     DType = "F64"
	F32     DType = "F32"
	F16     DType = "F16"
	BF16    DType = "BF16"
	F8E4M3  DType = "F8_E4M3"
	F8E5M2  DType = "F8_E5M2"
	I64     DType = "I64"
	I32     DType = "I32"
	I16     DType = "I16"
	I8      DType = "I8"
	U64     DType = "U64"
	U32     DType = "U32"
	U16     DType = "U16"
	U8      DType = "U8"
	Bool    DType = "BOOL"
	invalid DType = ""
)

// Size returns the bytes per element, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case F64, I64, U64:
		return 8
	case F32, I32, U32:
		return 4
	case F16, BF16, I16, U16:
		return 2
	case F8E4M3, F8E5M2, I8, U8, Bool:
		return 1
	}
	return 0
}

// MaxHeaderSize bounds the JSON header Open and ReadHeader accept (the
// reference implementation uses the same 100 MB limit).
const MaxHeaderSize = 100_000_000

// metadataKey is the reserved header entry holding the string metadata.
const metadataKey = "__metadata__"

// Errors callers may test for with errors.Is.
var (
	ErrHeaderTooLarge = errors.New("safetensors: header too large")
	ErrNotFound       = errors.New("safetensors: no such tensor")
)

// Info describes one tensor of a file.
type Info struct {
	Name  string
	DType DType
	Shape []int
	// Begin and End are the tensor's byte range [Begin, End) relative to
	// the start of the data section.
	Begin, End int64
}

// Len returns the number of elements.
func (in Info) Len() int {
	n := 1
	for _, d := range in.Shape {
		n *= d
	}
	return n
}

// Header is a parsed and validated safetensors header.
type Header struct {
	// Metadata is the "__metadata__" map (nil when absent).
	Metadata map[string]string
	// Tensors, sorted by name.
	Tensors []Info
	// DataStart is the file offset of the data section (8 + header length).
	DataStart int64
	index     map[string]int
}

// Lookup returns the Info of a tensor by name.
func (h *Header) Lookup(name string) (Info, bool) {
	i, ok := h.index[name]
	if !ok {
		return Info{}, false
	}
	return h.Tensors[i], true
}

// ReadHeader reads and validates the header of a safetensors file of the
// given size, bounding the JSON at MaxHeaderSize.
func ReadHeader(r io.ReaderAt, size int64) (*Header, error) {
	return ReadHeaderLimit(r, size, MaxHeaderSize)
}

// ReadHeaderLimit is ReadHeader with a custom bound on the JSON header; a
// longer header fails with ErrHeaderTooLarge (ComfyUI's /view_metadata reads
// at most 1 MiB).
func ReadHeaderLimit(r io.ReaderAt, size, limit int64) (*Header, error) {
	if size < 8 {
		return nil, fmt.Errorf("safetensors: file of %d bytes has no header length", size)
	}
	var lb [8]byte
	if _, err := r.ReadAt(lb[:], 0); err != nil {
		return nil, fmt.Errorf("safetensors: reading header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lb[:])
	if n > uint64(limit) {
		return nil, fmt.Errorf("%w: %d bytes (limit %d)", ErrHeaderTooLarge, n, limit)
	}
	if n > uint64(size-8) {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the file (%d bytes)", n, size)
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, 8); err != nil {
		return nil, fmt.Errorf("safetensors: reading header: %w", err)
	}
	return ParseHeader(buf, size-8-int64(n))
}

type rawInfo struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// ParseHeader parses and validates the JSON header text (without the
// length prefix) of a file whose data section holds dataSize bytes. It
// checks that the JSON is one object, that "__metadata__" maps strings to
// strings, and for every tensor: a known dtype, non-negative dimensions
// whose product does not overflow, data_offsets [begin, end) with
// 0 ≤ begin ≤ end ≤ dataSize, end-begin = elements × dtype size, and no
// two tensors' ranges overlap.
func ParseHeader(hdr []byte, dataSize int64) (*Header, error) {
	if dataSize < 0 {
		return nil, fmt.Errorf("safetensors: negative data size %d", dataSize)
	}
	trimmed := bytes.TrimLeft(hdr, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New("safetensors: header is not a JSON object")
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("safetensors: header JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("safetensors: trailing data after the header JSON")
	}
	h := &Header{DataStart: 8 + int64(len(hdr)), index: make(map[string]int, len(raw))}
	if m, ok := raw[metadataKey]; ok {
		if err := json.Unmarshal(m, &h.Metadata); err != nil {
			return nil, fmt.Errorf("safetensors: __metadata__ must map strings to strings: %w", err)
		}
		delete(raw, metadataKey)
	}
	for name, msg := range raw {
		var ri rawInfo
		if err := json.Unmarshal(msg, &ri); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", name, err)
		}
		in, err := checkInfo(name, ri, dataSize)
		if err != nil {
			return nil, err
		}
		h.Tensors = append(h.Tensors, in)
	}
	// Overlap check on byte order, then the public order by name.
	sort.Slice(h.Tensors, func(i, j int) bool {
		a, b := h.Tensors[i], h.Tensors[j]
		if a.Begin != b.Begin {
			return a.Begin < b.Begin
		}
		return a.End < b.End
	})
	for i := 1; i < len(h.Tensors); i++ {
		p, c := h.Tensors[i-1], h.Tensors[i]
		// Empty tensors occupy no bytes and cannot overlap anything.
		if c.Begin < p.End && c.Begin != c.End {
			return nil, fmt.Errorf("safetensors: tensors %q [%d,%d) and %q [%d,%d) overlap",
				p.Name, p.Begin, p.End, c.Name, c.Begin, c.End)
		}
	}
	sort.Slice(h.Tensors, func(i, j int) bool { return h.Tensors[i].Name < h.Tensors[j].Name })
	for i, t := range h.Tensors {
		h.index[t.Name] = i
	}
	return h, nil
}

func checkInfo(name string, ri rawInfo, dataSize int64) (Info, error) {
	in := Info{Name: name}
	if ri.DType == nil || ri.Shape == nil || ri.DataOffsets == nil {
		return in, fmt.Errorf("safetensors: tensor %q needs dtype, shape and data_offsets", name)
	}
	in.DType = DType(*ri.DType)
	size := in.DType.Size()
	if size == 0 {
		return in, fmt.Errorf("safetensors: tensor %q has unknown dtype %q", name, *ri.DType)
	}
	// numel × size must fit in an int64 (and an int on 32-bit hosts).
	limit := uint64(math.MaxInt64)
	if bits.UintSize == 32 {
		limit = math.MaxInt32
	}
	total := uint64(size)
	in.Shape = make([]int, len(*ri.Shape))
	for i, d := range *ri.Shape {
		if d < 0 {
			return in, fmt.Errorf("safetensors: tensor %q has negative dimension %d", name, d)
		}
		hi, lo := bits.Mul64(total, uint64(d))
		if hi != 0 || lo > limit {
			return in, fmt.Errorf("safetensors: tensor %q: shape %v overflows", name, *ri.Shape)
		}
		total = lo
		in.Shape[i] = int(d)
	}
	off := *ri.DataOffsets
	if len(off) != 2 {
		return in, fmt.Errorf("safetensors: tensor %q: data_offsets must be [begin, end], got %v", name, off)
	}
	in.Begin, in.End = off[0], off[1]
	if in.Begin < 0 || in.End < in.Begin {
		return in, fmt.Errorf("safetensors: tensor %q: bad data_offsets [%d, %d]", name, in.Begin, in.End)
	}
	if in.End > dataSize {
		return in, fmt.Errorf("safetensors: tensor %q: data_offsets end %d beyond the %d data bytes", name, in.End, dataSize)
	}
	if uint64(in.End-in.Begin) != total {
		return in, fmt.Errorf("safetensors: tensor %q: %d bytes for %v of %s (want %d)", name, in.End-in.Begin, in.Shape, in.DType, total)
	}
	return in, nil
}
