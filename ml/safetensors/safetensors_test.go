package safetensors

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"unsafe"

	"github.com/comfyd/comfyd/ml/tensor"
)

// file builds a safetensors image from header text and a data section of n
// bytes (values 0, 1, 2, ...).
func file(hdr string, n int) []byte {
	var b bytes.Buffer
	var lb [8]byte
	binary.LittleEndian.PutUint64(lb[:], uint64(len(hdr)))
	b.Write(lb[:])
	b.WriteString(hdr)
	for i := 0; i < n; i++ {
		b.WriteByte(byte(i))
	}
	return b.Bytes()
}

func f32bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	a := tensor.FromData([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	h := &tensor.Tensor{Half: []uint16{0x3c00, 0xc000, 0x7bff, 0x0001}, DType: tensor.F16, Shape: []int{4}, Strides: []int{1}}
	bf := &tensor.Tensor{Half: []uint16{0x3f80, 0x4000}, DType: tensor.BF16, Shape: []int{2, 1}, Strides: []int{1, 1}}
	meta := map[string]string{"format": "pt", "ss_note": "ünïcode \"quoted\""}
	var buf bytes.Buffer
	if err := Write(&buf, map[string]*tensor.Tensor{"z.weight": a.Permute(1, 0), "b.half": h, "a.bf": bf, "empty": tensor.New(0, 4)}, meta); err != nil {
		t.Fatal(err)
	}
	img := buf.Bytes()
	hl := binary.LittleEndian.Uint64(img)
	if hl%8 != 0 {
		t.Fatalf("header length %d not a multiple of 8", hl)
	}
	hdr := string(img[8 : 8+hl])
	if !strings.HasPrefix(hdr, `{"__metadata__":{"format":"pt",`) || strings.Index(hdr, `"a.bf"`) > strings.Index(hdr, `"b.half"`) {
		t.Fatalf("header not in sorted order: %s", hdr)
	}

	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.Names(); !reflect.DeepEqual(got, []string{"a.bf", "b.half", "empty", "z.weight"}) {
		t.Fatalf("Names = %v", got)
	}
	if !reflect.DeepEqual(f.Metadata(), meta) {
		t.Fatalf("Metadata = %v", f.Metadata())
	}
	in, err := f.Info("z.weight")
	if err != nil || in.DType != F32 || !reflect.DeepEqual(in.Shape, []int{3, 2}) || in.End-in.Begin != 24 {
		t.Fatalf("Info = %+v, %v", in, err)
	}
	z, err := f.Tensor("z.weight")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(z.Values(), []float32{1, 4, 2, 5, 3, 6}) || !reflect.DeepEqual(z.Shape, []int{3, 2}) {
		t.Fatalf("z = %v %v", z.Shape, z.Values())
	}
	// zero-copy: the data lies inside the mapping
	base := uintptr(unsafe.Pointer(&f.data[0]))
	if p := uintptr(unsafe.Pointer(&z.Data[0])); p < base || p >= base+uintptr(len(f.data)) {
		t.Error("aligned F32 tensor was copied")
	}
	// copy on write: modifying the view leaves the file alone
	z.Data[0] = 42
	if disk, _ := os.ReadFile(path); !bytes.Equal(disk, img) {
		t.Error("writing a view changed the file")
	}
	hb, err := f.Tensor("b.half")
	if err != nil || hb.DType != tensor.F16 || !reflect.DeepEqual(hb.Half, h.Half) || hb.Data != nil {
		t.Fatalf("b.half = %+v, %v", hb, err)
	}
	bt, err := f.Tensor("a.bf")
	if err != nil || bt.DType != tensor.BF16 || !reflect.DeepEqual(bt.Half, bf.Half) || !reflect.DeepEqual(bt.Shape, []int{2, 1}) {
		t.Fatalf("a.bf = %+v, %v", bt, err)
	}
	e, err := f.Tensor("empty")
	if err != nil || e.Len() != 0 {
		t.Fatalf("empty = %v, %v", e, err)
	}
	if _, err := f.Tensor("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing tensor: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Tensor("a.bf"); err == nil {
		t.Fatal("Tensor after Close succeeded")
	}
}

func TestMisalignedAndConverted(t *testing.T) {
	raw := []RawTensor{
		{Name: "a", DType: U8, Shape: []int{1}, Data: []byte{7}},
		{Name: "b", DType: F32, Shape: []int{2}, Data: f32bytes(1.5, -2)}, // starts at data offset 1
		{Name: "c", DType: F64, Shape: []int{1}, Data: binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.1))},
		{Name: "d", DType: F8E4M3, Shape: []int{5}, Data: []byte{0x38, 0x7e, 0x01, 0xb8, 0x7f}},
		{Name: "e", DType: F8E5M2, Shape: []int{5}, Data: []byte{0x3c, 0x7b, 0x01, 0x7c, 0xfd}},
		{Name: "i64", DType: I64, Shape: []int{2}, Data: binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 5), math.MaxUint64)},
		{Name: "i32", DType: I32, Shape: []int{1}, Data: binary.LittleEndian.AppendUint32(nil, math.MaxUint32)},
		{Name: "i16", DType: I16, Shape: []int{1}, Data: []byte{0xfe, 0xff}},
		{Name: "i8", DType: I8, Shape: []int{2}, Data: []byte{0x80, 3}},
		{Name: "u16", DType: U16, Shape: []int{1}, Data: []byte{0xfe, 0xff}},
		{Name: "u32", DType: U32, Shape: []int{1}, Data: binary.LittleEndian.AppendUint32(nil, math.MaxUint32)},
		{Name: "u64", DType: U64, Shape: []int{1}, Data: binary.LittleEndian.AppendUint64(nil, math.MaxUint64)},
		{Name: "bool", DType: Bool, Shape: []int{3}, Data: []byte{0, 1, 2}},
	}
	var buf bytes.Buffer
	if err := WriteRaw(&buf, raw, nil); err != nil {
		t.Fatal(err)
	}
	f, err := FromBytes(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata() != nil {
		t.Error("metadata without __metadata__")
	}
	floats := map[string][]float32{
		"b": {1.5, -2},
		"c": {float32(0.1)},
		"d": {1, 448, 1.0 / 512, -1, float32(math.NaN())},
		"e": {1, 57344, 1.0 / 65536, float32(math.Inf(1)), float32(math.NaN())},
	}
	for name, want := range floats {
		x, err := f.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range x.Values() {
			if v != want[i] && !(v != v && want[i] != want[i]) {
				t.Errorf("%s[%d] = %v, want %v", name, i, v, want[i])
			}
		}
	}
	ints := map[string][]int64{
		"a": {7}, "i64": {5, -1}, "i32": {-1}, "i16": {-2}, "i8": {-128, 3},
		"u16": {65534}, "u32": {math.MaxUint32}, "bool": {0, 1, 1},
	}
	for name, want := range ints {
		got, shape, err := f.Int64s(name)
		if err != nil || !reflect.DeepEqual(got, want) || len(shape) != 1 {
			t.Errorf("Int64s(%s) = %v %v %v, want %v", name, got, shape, err, want)
		}
	}
	if _, _, err := f.Int64s("u64"); err == nil {
		t.Error("U64 overflow accepted")
	}
	if _, err := f.Tensor("i64"); err == nil {
		t.Error("Tensor of an integer tensor succeeded")
	}
	if _, _, err := f.Int64s("b"); err == nil {
		t.Error("Int64s of a float tensor succeeded")
	}
}

func TestWriteRejects(t *testing.T) {
	for _, ts := range [][]RawTensor{
		{{Name: "x", DType: "F13", Shape: []int{1}, Data: []byte{0}}},
		{{Name: "x", DType: F32, Shape: []int{2}, Data: []byte{0, 0, 0, 0}}},
		{{Name: "x", DType: U8, Data: []byte{0}}, {Name: "x", DType: U8, Data: []byte{0}}},
		{{Name: "__metadata__", DType: U8, Data: []byte{0}}},
	} {
		if err := WriteRaw(&bytes.Buffer{}, ts, nil); err == nil {
			t.Errorf("WriteRaw(%v) succeeded", ts)
		}
	}
}

// Every validation has a file that trips it, with the message it must give.
func TestCorruptFiles(t *testing.T) {
	long := make([]byte, 8)
	binary.LittleEndian.PutUint64(long, MaxHeaderSize+1)
	huge := make([]byte, 8)
	binary.LittleEndian.PutUint64(huge, math.MaxUint64)
	cases := []struct {
		name string
		img  []byte
		want string
	}{
		{"short", []byte{1, 2, 3}, "no header length"},
		{"too large", append(long, '{', '}'), "header too large"},
		{"huge length", append(huge, '{', '}'), "header too large"},
		{"beyond file", file("{}", 0)[:9], "exceeds the file"},
		{"not object", file(`["a"]`, 0), "not a JSON object"},
		{"empty", file("", 0), "not a JSON object"},
		{"bad json", file(`{"a":`, 0), "header JSON"},
		{"trailing", file(`{} {}`, 0), "trailing data"},
		{"metadata type", file(`{"__metadata__":{"a":1}}`, 0), "must map strings to strings"},
		{"entry not object", file(`{"a":[1]}`, 0), `tensor "a"`},
		{"missing field", file(`{"a":{"dtype":"F32","shape":[1]}}`, 4), "needs dtype, shape and data_offsets"},
		{"unknown dtype", file(`{"a":{"dtype":"F12","shape":[1],"data_offsets":[0,4]}}`, 4), "unknown dtype"},
		{"negative dim", file(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), "negative dimension"},
		{"fractional dim", file(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, 4), `tensor "a"`},
		{"overflow", file(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, 4), "overflows"},
		{"overflow 2", file(`{"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,4]}}`, 4), "overflows"},
		{"offsets arity", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}`, 4), "must be [begin, end]"},
		{"begin after end", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`, 4), "bad data_offsets"},
		{"negative begin", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, 4), "bad data_offsets"},
		{"end beyond", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 4), "beyond the 4 data bytes"},
		{"size mismatch", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 8), "want 8"},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[2],"data_offsets":[6,10]}}`, 10), "overlap"},
		{"same range", file(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"I8","shape":[2],"data_offsets":[0,2]}}`, 2), "overlap"},
	}
	for _, c := range cases {
		_, err := FromBytes(c.img)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		}
	}
	// Accepted edge cases: gaps, empty tensors anywhere, leading space, scalar shape.
	ok := file(` {"a":{"dtype":"U8","shape":[2],"data_offsets":[4,6]},"e":{"dtype":"F32","shape":[0,3],"data_offsets":[5,5]},"s":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}  `, 12)
	f, err := FromBytes(ok)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := f.Tensor("s"); err != nil || s.Len() != 1 {
		t.Fatalf("scalar: %v %v", s, err)
	}
	if _, err := ReadHeaderLimit(bytes.NewReader(ok), int64(len(ok)), 16); !errors.Is(err, ErrHeaderTooLarge) {
		t.Fatalf("ReadHeaderLimit: %v", err)
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte(`{}`), uint16(0))
	f.Add([]byte(`{"__metadata__":{"a":"b"},"x":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}`), uint16(24))
	f.Add([]byte(`{"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"F16","shape":[1],"data_offsets":[4,6]}}`), uint16(6))
	f.Add([]byte(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[2],"data_offsets":[6,10]}}`), uint16(10))
	f.Add([]byte(`{"a":{"dtype":"I64","shape":[9223372036854775807],"data_offsets":[0,8]}}`), uint16(8))
	f.Add([]byte(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[3,3]}}`), uint16(2))
	f.Add([]byte(`[1,2]`), uint16(0))
	f.Fuzz(func(t *testing.T, hdr []byte, n uint16) {
		h, err := ParseHeader(hdr, int64(n))
		if err != nil {
			return
		}
		type rng struct{ b, e int64 }
		var rs []rng
		for i, in := range h.Tensors {
			if in.Begin < 0 || in.Begin > in.End || in.End > int64(n) {
				t.Fatalf("accepted bad range %+v", in)
			}
			if int64(in.Len())*int64(in.DType.Size()) != in.End-in.Begin {
				t.Fatalf("accepted size mismatch %+v", in)
			}
			if i > 0 && h.Tensors[i-1].Name >= in.Name {
				t.Fatal("names not sorted")
			}
			if got, ok := h.Lookup(in.Name); !ok || got.Name != in.Name {
				t.Fatal("Lookup disagrees")
			}
			if in.Begin != in.End {
				rs = append(rs, rng{in.Begin, in.End})
			}
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].b < rs[j].b })
		for i := 1; i < len(rs); i++ {
			if rs[i].b < rs[i-1].e {
				t.Fatal("accepted overlapping ranges")
			}
		}
	})
}

// Tensors that start off their element alignment are copied, not viewed.
func TestMisalignedCopies(t *testing.T) {
	hdr := `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"F32","shape":[2],"data_offsets":[1,9]},"h":{"dtype":"F16","shape":[1],"data_offsets":[9,11]}}`
	for len(hdr)%8 != 0 {
		hdr += " "
	}
	img := file(hdr, 0)
	img = append(img, 7)
	img = append(img, f32bytes(1.5, -2)...)
	img = append(img, 0x00, 0x3c)
	f, err := FromBytes(img)
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.Tensor("b")
	if err != nil || !reflect.DeepEqual(b.Values(), []float32{1.5, -2}) {
		t.Fatalf("b = %v, %v", b, err)
	}
	h, err := f.Tensor("h")
	if err != nil || !reflect.DeepEqual(h.Half, []uint16{0x3c00}) {
		t.Fatalf("h = %v, %v", h, err)
	}
	base := uintptr(unsafe.Pointer(&img[0]))
	for _, p := range []uintptr{uintptr(unsafe.Pointer(&b.Data[0])), uintptr(unsafe.Pointer(&h.Half[0]))} {
		if p >= base && p < base+uintptr(len(img)) {
			t.Error("misaligned tensor viewed in place")
		}
	}
}

// The header is byte for byte Python's json.dumps(header, sort_keys=True,
// separators=(",", ":")) plus space padding, the layout of the golden
// synthetic checkpoint (expected string produced by Python 3).
func TestWriteMatchesPythonLayout(t *testing.T) {
	raw := []RawTensor{
		{Name: "z.weight", DType: F32, Shape: []int{3, 2}, Data: make([]byte, 24)},
		{Name: "b.half", DType: F16, Shape: []int{4}, Data: make([]byte, 8)},
		{Name: "a.bf", DType: BF16, Shape: []int{2, 1}, Data: make([]byte, 4)},
		{Name: "empty", DType: F32, Shape: []int{0, 4}},
		{Name: "Ä", DType: U8, Shape: []int{}, Data: []byte{9}},
	}
	meta := map[string]string{"format": "pt", "ss_note": "ünïcode \"quoted\"", "zz": "a<b>&\x01\x7f😀\n"}
	want := `{"__metadata__":{"format":"pt","ss_note":"\u00fcn\u00efcode \"quoted\"","zz":"a<b>&\u0001\u007f\ud83d\ude00\n"},"a.bf":{"data_offsets":[0,4],"dtype":"BF16","shape":[2,1]},"b.half":{"data_offsets":[4,12],"dtype":"F16","shape":[4]},"empty":{"data_offsets":[12,12],"dtype":"F32","shape":[0,4]},"z.weight":{"data_offsets":[12,36],"dtype":"F32","shape":[3,2]},"\u00c4":{"data_offsets":[36,37],"dtype":"U8","shape":[]}}   `
	var buf bytes.Buffer
	if err := WriteRaw(&buf, raw, meta); err != nil {
		t.Fatal(err)
	}
	img := buf.Bytes()
	n := binary.LittleEndian.Uint64(img)
	if got := string(img[8 : 8+n]); got != want {
		t.Fatalf("header\n got %s\nwant %s", got, want)
	}
	if len(img) != 8+len(want)+37 || img[len(img)-1] != 9 {
		t.Fatalf("data section of %d bytes", len(img)-8-len(want))
	}
	f, err := FromBytes(img)
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata()["zz"] != meta["zz"] || f.Names()[4] != "Ä" {
		t.Fatalf("round trip: %q %v", f.Metadata()["zz"], f.Names())
	}
}

// The header of the golden synthetic SD1.5 checkpoint: EncodeHeader over
// its key list must give the bytes whose sha256 and length ComfyUI's run
// recorded (golden/sd15-synth/index.json, _meta.checkpoint_header_*).
func TestEncodeHeaderGoldenCheckpoint(t *testing.T) {
	const golden = "../../../shared/golden/"
	keys, err := os.ReadFile(golden + "sd15_keys.json")
	if err != nil {
		t.Skip("golden data not present:", err)
	}
	var entries []struct {
		Key   string
		DType string
		Shape []int
	}
	if err := json.Unmarshal(keys, &entries); err != nil {
		t.Fatal(err)
	}
	var index struct {
		Meta struct {
			HeaderLen    int    `json:"checkpoint_header_len"`
			HeaderSHA256 string `json:"checkpoint_header_sha256"`
			Size         int64  `json:"checkpoint_size"`
		} `json:"_meta"`
	}
	raw, err := os.ReadFile(golden + "sd15-synth/index.json")
	if err != nil {
		t.Skip("golden index not present:", err)
	}
	if err := json.Unmarshal(raw, &index); err != nil {
		t.Fatal(err)
	}
	infos := make([]Info, len(entries))
	for i, e := range entries {
		infos[i] = Info{Name: e.Key, DType: DType(e.DType), Shape: e.Shape}
	}
	h, err := EncodeHeader(infos, map[string]string{"format": "pt"})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(h)
	if len(h) != index.Meta.HeaderLen || hex.EncodeToString(sum[:]) != index.Meta.HeaderSHA256 {
		t.Fatalf("header of %d bytes, sha256 %x; want %d bytes, %s", len(h), sum, index.Meta.HeaderLen, index.Meta.HeaderSHA256)
	}
	// and the reader accepts it against the recorded file size
	hdr, err := ParseHeader(h, index.Meta.Size-8-int64(len(h)))
	if err != nil {
		t.Fatal(err)
	}
	if len(hdr.Tensors) != len(entries) || hdr.Metadata["format"] != "pt" {
		t.Fatalf("%d tensors, metadata %v", len(hdr.Tensors), hdr.Metadata)
	}
}
