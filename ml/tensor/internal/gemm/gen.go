//go:build ignore

// gen writes kernel_amd64.s: the AVX-512 and AVX2 micro-kernels and the FMA
// peak loops. Run with `go generate` in this directory.
package main

import (
	"bytes"
	"fmt"
	"os"
)

var w bytes.Buffer

func p(format string, args ...any) { fmt.Fprintf(&w, "\t"+format+"\n", args...) }

// kern emits an mr×(nv vectors) broadcast-FMA kernel with registers named
// reg+number (Z or Y) of vl floats each.
func kern(name string, mr, nv int, reg string, vl int, embed bool) {
	nacc := mr * nv
	vb := vl * 4 // bytes per vector
	fmt.Fprintf(&w, "// func %s(k int, a, b, c *float32, ldc int, alpha, beta float32)\n", name)
	fmt.Fprintf(&w, "TEXT ·%s(SB), NOSPLIT, $0-48\n", name)
	p("MOVQ k+0(FP), CX")
	p("MOVQ a+8(FP), SI")
	p("MOVQ b+16(FP), DI")
	p("MOVQ c+24(FP), DX")
	p("MOVQ ldc+32(FP), R8")
	p("SHLQ $2, R8")
	// Warm the C tile's lines while the k loop runs.
	p("MOVQ DX, R9")
	for r := 0; r < mr; r++ {
		p("PREFETCHT0 (R9)")
		if nv*vb > 64 {
			p("PREFETCHT0 %d(R9)", nv*vb-4)
		}
		if r < mr-1 {
			p("ADDQ R8, R9")
		}
	}
	for i := 0; i < nacc; i++ {
		p("%s %s%d, %s%d, %s%d", xor(reg), reg, i, reg, i, reg, i)
	}
	bReg := func(v int) string { return fmt.Sprintf("%s%d", reg, nacc+v) }
	aReg := func(r int) string { return fmt.Sprintf("%s%d", reg, nacc+nv+r%2) }
	fmt.Fprintf(&w, "loop:\n")
	for v := 0; v < nv; v++ {
		p("VMOVUPS %d(DI), %s", v*vb, bReg(v))
	}
	for r := 0; r < mr; r++ {
		rowFMAs(fmt.Sprintf("%d(SI)", 4*r), aReg(r), nv, reg, r, bReg, embed)
	}
	p("ADDQ $%d, SI", 4*mr)
	p("ADDQ $%d, DI", nv*vb)
	p("DECQ CX")
	p("JNZ loop")
	epilogue(mr, nv, reg, vb, aReg(0), aReg(1), 40)
	w.WriteString("\n")
}

// directRow is the memory operand of row r of a row-major A at byte
// displacement d, from six bases (SI, R10=SI+3L, R11=SI+6L, R12=SI+9L,
// R13=SI+12L, BX=SI+15L) and the index R9 = lda bytes.
var directRow = [16]string{"(SI)", "(SI)(R9*1)", "(SI)(R9*2)", "(R10)", "(SI)(R9*4)", "(R10)(R9*2)", "(R11)",
	"(R10)(R9*4)", "(SI)(R9*8)", "(R12)", "(R11)(R9*4)", "(R10)(R9*8)", "(R13)", "(R13)(R9*1)",
	"(R13)(R9*2)", "(BX)"}

// kernDirect emits an mr×(nv vectors) kernel reading A unpacked (row-major,
// rows lda apart, mr ≤ 16), so activations need no packing; the depth loop
// is unrolled by four.
func kernDirect(name string, mr, nv int, reg string, vl int, prefetch, embed bool) {
	vb := vl * 4
	nacc := mr * nv
	bReg := func(v int) string { return fmt.Sprintf("%s%d", reg, nacc+v) }
	aReg := func(r int) string { return fmt.Sprintf("%s%d", reg, nacc+nv+r%2) }
	fmt.Fprintf(&w, "// func %s(k int, a *float32, lda int, b, c *float32, ldc int, alpha, beta float32)\n", name)
	fmt.Fprintf(&w, "TEXT ·%s(SB), NOSPLIT, $0-56\n", name)
	p("MOVQ k+0(FP), CX")
	p("MOVQ a+8(FP), SI")
	p("MOVQ lda+16(FP), R9")
	p("SHLQ $2, R9")
	p("MOVQ b+24(FP), DI")
	p("MOVQ c+32(FP), DX")
	p("MOVQ ldc+40(FP), R8")
	p("SHLQ $2, R8")
	p("LEAQ (R9)(R9*2), AX")
	p("LEAQ (SI)(AX*1), R10")
	p("LEAQ (R10)(AX*1), R11")
	p("LEAQ (R11)(AX*1), R12")
	p("LEAQ (R12)(AX*1), R13")
	p("MOVQ DX, BX")
	for r := 0; r < mr; r++ {
		p("PREFETCHT0 (BX)")
		if nv*vb > 64 {
			p("PREFETCHT0 %d(BX)", nv*vb-4)
		}
		p("ADDQ R8, BX")
	}
	p("LEAQ (R13)(AX*1), BX") // AX is still 3·lda
	for i := 0; i < nacc; i++ {
		p("%s %s%d, %s%d, %s%d", xor(reg), reg, i, reg, i, reg, i)
	}
	step := func(d int) {
		for v := 0; v < nv; v++ {
			p("VMOVUPS %d(DI), %s", d*nv*vb+v*vb, bReg(v))
		}
		for r := 0; r < mr; r++ {
			rowFMAs(fmt.Sprintf("%d%s", 4*d, directRow[r]), aReg(r), nv, reg, r, bReg, embed)
		}
	}
	advance := func(n int) {
		for _, r := range []string{"SI", "R10", "R11", "R12", "R13", "BX"} {
			p("ADDQ $%d, %s", 4*n, r)
		}
		p("ADDQ $%d, DI", n*nv*vb)
	}
	p("MOVQ CX, AX")
	p("SHRQ $2, AX")
	p("JZ tail")
	fmt.Fprintf(&w, "loop4:\n")
	// Software prefetch of the rows 4 lines ahead measured no better than
	// leaving the streams to the hardware prefetcher; kept as an option.
	for r := 0; r < mr && prefetch; r++ {
		p("PREFETCHT0 256%s", directRow[r])
	}
	for d := 0; d < 4; d++ {
		step(d)
	}
	advance(4)
	p("DECQ AX")
	p("JNZ loop4")
	fmt.Fprintf(&w, "tail:\n")
	p("ANDQ $3, CX")
	p("JZ done")
	fmt.Fprintf(&w, "loop1:\n")
	step(0)
	advance(1)
	p("DECQ CX")
	p("JNZ loop1")
	fmt.Fprintf(&w, "done:\n")
	epilogue(mr, nv, reg, vb, aReg(0), aReg(1), 48)
	w.WriteString("\n")
}

// kernOffB emits an mr×(nv vectors) kernel with a packed A panel and B read
// in place: depth p's nv vectors start at b + 4·offs[p] (offs are int64).
func kernOffB(name string, mr, nv int, reg string, vl int, embed bool) {
	vb := vl * 4
	nacc := mr * nv
	bReg := func(v int) string { return fmt.Sprintf("%s%d", reg, nacc+v) }
	aReg := func(r int) string { return fmt.Sprintf("%s%d", reg, nacc+nv+r%2) }
	fmt.Fprintf(&w, "// func %s(k int, a, b *float32, offs *int64, c *float32, ldc int, alpha, beta float32)\n", name)
	fmt.Fprintf(&w, "TEXT ·%s(SB), NOSPLIT, $0-56\n", name)
	p("MOVQ k+0(FP), CX")
	p("MOVQ a+8(FP), SI")
	p("MOVQ b+16(FP), DI")
	p("MOVQ offs+24(FP), R11")
	p("MOVQ c+32(FP), DX")
	p("MOVQ ldc+40(FP), R8")
	p("SHLQ $2, R8")
	p("MOVQ DX, BX")
	for r := 0; r < mr; r++ {
		p("PREFETCHT0 (BX)")
		if nv*vb > 64 {
			p("PREFETCHT0 %d(BX)", nv*vb-4)
		}
		p("ADDQ R8, BX")
	}
	for i := 0; i < nacc; i++ {
		p("%s %s%d, %s%d, %s%d", xor(reg), reg, i, reg, i, reg, i)
	}
	fmt.Fprintf(&w, "loop:\n")
	p("MOVQ (R11), AX")
	for v := 0; v < nv; v++ {
		p("VMOVUPS %d(DI)(AX*4), %s", v*vb, bReg(v))
	}
	for r := 0; r < mr; r++ {
		rowFMAs(fmt.Sprintf("%d(SI)", 4*r), aReg(r), nv, reg, r, bReg, embed)
	}
	p("ADDQ $8, R11")
	p("ADDQ $%d, SI", 4*mr)
	p("DECQ CX")
	p("JNZ loop")
	epilogue(mr, nv, reg, vb, aReg(0), aReg(1), 48)
	w.WriteString("\n")
}

// kernDirectOffB emits an mr×(nv vectors) kernel with A read in place (as
// kernDirect) and B read in place (as kernOffB): nothing is packed.
func kernDirectOffB(name string, mr, nv int, reg string, vl int, embed bool) {
	vb := vl * 4
	nacc := mr * nv
	bReg := func(v int) string { return fmt.Sprintf("%s%d", reg, nacc+v) }
	aReg := func(r int) string { return fmt.Sprintf("%s%d", reg, nacc+nv+r%2) }
	fmt.Fprintf(&w, "// func %s(k int, a *float32, lda int, b *float32, offs *int64, c *float32, ldc int, alpha, beta float32)\n", name)
	fmt.Fprintf(&w, "TEXT ·%s(SB), NOSPLIT, $0-64\n", name)
	p("MOVQ k+0(FP), CX")
	p("MOVQ a+8(FP), SI")
	p("MOVQ lda+16(FP), R9")
	p("SHLQ $2, R9")
	p("MOVQ b+24(FP), DI")
	p("MOVQ offs+32(FP), R15") // no global is touched here, so R15 is free
	p("MOVQ c+40(FP), DX")
	p("MOVQ ldc+48(FP), R8")
	p("SHLQ $2, R8")
	p("LEAQ (R9)(R9*2), AX")
	p("LEAQ (SI)(AX*1), R10")
	p("LEAQ (R10)(AX*1), R11")
	p("LEAQ (R11)(AX*1), R12")
	p("LEAQ (R12)(AX*1), R13")
	p("MOVQ DX, BX")
	for r := 0; r < mr; r++ {
		p("PREFETCHT0 (BX)")
		if nv*vb > 64 {
			p("PREFETCHT0 %d(BX)", nv*vb-4)
		}
		p("ADDQ R8, BX")
	}
	p("LEAQ (R13)(AX*1), BX")
	for i := 0; i < nacc; i++ {
		p("%s %s%d, %s%d, %s%d", xor(reg), reg, i, reg, i, reg, i)
	}
	fmt.Fprintf(&w, "loop:\n")
	p("MOVQ (R15), AX")
	for v := 0; v < nv; v++ {
		p("VMOVUPS %d(DI)(AX*4), %s", v*vb, bReg(v))
	}
	for r := 0; r < mr; r++ {
		rowFMAs(directRow[r], aReg(r), nv, reg, r, bReg, embed)
	}
	for _, r := range []string{"SI", "R10", "R11", "R12", "R13", "BX"} {
		p("ADDQ $4, %s", r)
	}
	p("ADDQ $8, R15")
	p("DECQ CX")
	p("JNZ loop")
	epilogue(mr, nv, reg, vb, aReg(0), aReg(1), 56)
	w.WriteString("\n")
}

// peak emits a loop of n iterations of nacc independent FMAs.
func peak(name, reg string, nacc int) {
	fmt.Fprintf(&w, "// func %s(n int)\n", name)
	fmt.Fprintf(&w, "TEXT ·%s(SB), NOSPLIT, $0-8\n", name)
	p("MOVQ n+0(FP), CX")
	for i := 0; i < nacc+2; i++ {
		p("%s %s%d, %s%d, %s%d", xor(reg), reg, i, reg, i, reg, i)
	}
	fmt.Fprintf(&w, "loop:\n")
	for i := 0; i < nacc; i++ {
		p("VFMADD231PS %s%d, %s%d, %s%d", reg, nacc, reg, nacc+1, reg, i)
	}
	p("DECQ CX")
	p("JNZ loop")
	p("VZEROUPPER")
	p("RET")
	w.WriteString("\n")
}

func main() {
	w.WriteString("// Code generated by gen.go; DO NOT EDIT.\n\n#include \"textflag.h\"\n\n")
	// The wide kernels broadcast each A element once for two FMAs; the
	// narrow ones (one FMA per A element) use FMAs with an embedded
	// broadcast operand, measured 16 % faster there (and 28 % slower for
	// the wide ones, which would load every A element twice).
	kern("kern14x32avx512", 14, 2, "Z", 16, false)
	kern("kern6x16avx2", 6, 2, "Y", 8, false)
	kernDirect("kern14x32avx512direct", 14, 2, "Z", 16, false, false)
	kernDirect("kern6x16avx2direct", 6, 2, "Y", 8, false, false)
	kernOffB("kern14x32avx512offb", 14, 2, "Z", 16, false)
	kernOffB("kern6x16avx2offb", 6, 2, "Y", 8, false)
	kern("kern16x16avx512", 16, 1, "Z", 16, true)
	kernDirect("kern16x16avx512direct", 16, 1, "Z", 16, false, true)
	kernOffB("kern16x16avx512offb", 16, 1, "Z", 16, true)
	kernDirectOffB("kern14x32avx512dob", 14, 2, "Z", 16, false)
	kernDirectOffB("kern16x16avx512dob", 16, 1, "Z", 16, true)
	kernDirectOffB("kern6x16avx2dob", 6, 2, "Y", 8, false)
	// Direct kernels for the ragged last row tile (fewer rows than a full
	// tile), so that it is read in place at the cost of its own rows
	// instead of packed and computed as a whole tile (M=1024 leaves 2 of
	// 14 rows: a full tile's work per panel on one worker).
	var decl bytes.Buffer
	decl.WriteString("// Code generated by gen.go; DO NOT EDIT.\n\npackage gemm\n\n")
	rows := func(prefix string, full, nv int, reg string, vl int) {
		fmt.Fprintf(&decl, "// %sRows[h] is the %s direct kernel for h < %d rows.\nvar %sRows = [...]func(k int, a *float32, lda int, b, c *float32, ldc int, alpha, beta float32){nil", prefix, prefix, full, prefix)
		for h := 1; h < full; h++ {
			name := fmt.Sprintf("kern%dx%d%sdirect", h, nv*vl, prefix)
			kernDirect(name, h, nv, reg, vl, false, false)
			fmt.Fprintf(&decl, ", %s", name)
		}
		decl.WriteString("}\n\n")
		for h := 1; h < full; h++ {
			fmt.Fprintf(&decl, "//go:noescape\nfunc kern%dx%d%sdirect(k int, a *float32, lda int, b, c *float32, ldc int, alpha, beta float32)\n\n", h, nv*vl, prefix)
		}
	}
	rows("avx512", 14, 2, "Z", 16)
	rows("avx2", 6, 2, "Y", 8)
	if err := os.WriteFile("kernel_rows_amd64.go", bytes.TrimSuffix(decl.Bytes(), []byte("\n")), 0o644); err != nil {
		panic(err)
	}
	var tw bytes.Buffer
	tw.WriteString(`// Code generated by gen.go; DO NOT EDIT.

#include "textflag.h"

// 16×16 transposes for packing row-major lines into 32-wide panels: for
// each of blocks blocks, 16 rows (ldb bytes apart) × 16 depths of src are
// loaded (widened from halves in the F16 version), transposed in registers
// (unpack, in-lane shuffle, two 128-bit lane shuffles) and stored as 16
// depth rows of 16 floats, 128 bytes (one 32-wide panel row) apart.

`)
	trans(&tw, "transF32x16", "float32", "VMOVUPS", 64)
	tw.WriteString("\n")
	trans(&tw, "transF16x16", "uint16", "VCVTPH2PS", 32)
	if err := os.WriteFile("trans_amd64.s", tw.Bytes(), 0o644); err != nil {
		panic(err)
	}
	peak("peakAVX512", "Z", 20)
	peak("peakAVX2", "Y", 12)
	if err := os.WriteFile("kernel_amd64.s", w.Bytes(), 0o644); err != nil {
		panic(err)
	}
}

// trans emits a 16×16 transposing pack loop (see trans_amd64.s's header):
// load loads one row of 16 depths into a zmm (VMOVUPS, or VCVTPH2PS to
// widen halves), step is the source bytes of 16 depths. Rows r0..r15 in
// Z0-Z15; unpacking pairs and in-lane shuffles give, in Z(4j+c), rows
// 4j..4j+3 at column 4l+c in lane l; two rounds of 128-bit lane shuffles
// then gather lane l of Z(c), Z(4+c), Z(8+c), Z(12+c): column 4l+c.
func trans(w *bytes.Buffer, name, src, load string, step int) {
	p := func(format string, args ...any) { fmt.Fprintf(w, "\t"+format+"\n", args...) }
	fmt.Fprintf(w, "// func %s(dst *float32, src *%s, ldb, blocks int)\n", name, src)
	fmt.Fprintf(w, "TEXT ·%s(SB), NOSPLIT, $0-32\n", name)
	p("MOVQ dst+0(FP), DI")
	p("MOVQ src+8(FP), SI")
	p("MOVQ ldb+16(FP), R8")
	p("MOVQ blocks+24(FP), CX")
	p("TESTQ CX, CX")
	p("JLE done")
	fmt.Fprintf(w, "loop:\n")
	p("MOVQ SI, R9")
	for r := 0; r < 16; r++ {
		p("%s (R9), Z%d", load, r)
		if r < 15 {
			p("ADDQ R8, R9")
		}
	}
	for i := 0; i < 8; i++ {
		p("VUNPCKLPS Z%d, Z%d, Z%d", 2*i+1, 2*i, 16+2*i)
		p("VUNPCKHPS Z%d, Z%d, Z%d", 2*i+1, 2*i, 17+2*i)
	}
	for j := 0; j < 4; j++ {
		t0, t1, t2, t3 := 16+4*j, 17+4*j, 18+4*j, 19+4*j
		p("VSHUFPS $0x44, Z%d, Z%d, Z%d", t2, t0, 4*j)
		p("VSHUFPS $0xEE, Z%d, Z%d, Z%d", t2, t0, 4*j+1)
		p("VSHUFPS $0x44, Z%d, Z%d, Z%d", t3, t1, 4*j+2)
		p("VSHUFPS $0xEE, Z%d, Z%d, Z%d", t3, t1, 4*j+3)
	}
	for c := 0; c < 4; c++ {
		p("VSHUFF32X4 $0x44, Z%d, Z%d, Z%d", 4+c, c, 16+4*c)
		p("VSHUFF32X4 $0xEE, Z%d, Z%d, Z%d", 4+c, c, 17+4*c)
		p("VSHUFF32X4 $0x44, Z%d, Z%d, Z%d", 12+c, 8+c, 18+4*c)
		p("VSHUFF32X4 $0xEE, Z%d, Z%d, Z%d", 12+c, 8+c, 19+4*c)
	}
	for c := 0; c < 4; c++ {
		x0, x1, x2, x3 := 16+4*c, 17+4*c, 18+4*c, 19+4*c
		for _, o := range []struct {
			col, s1, s2 int
			imm         string
		}{{c, x0, x2, "0x88"}, {4 + c, x0, x2, "0xDD"}, {8 + c, x1, x3, "0x88"}, {12 + c, x1, x3, "0xDD"}} {
			p("VSHUFF32X4 $%s, Z%d, Z%d, Z%d", o.imm, o.s2, o.s1, o.col)
			p("VMOVUPS Z%d, %d(DI)", o.col, o.col*128)
		}
	}
	p("ADDQ $%d, SI", step)
	p("ADDQ $2048, DI")
	p("DECQ CX")
	p("JNZ loop")
	fmt.Fprintf(w, "done:\n")
	p("VZEROUPPER")
	p("RET")
}

// rowFMAs emits row r's FMAs for one depth step: a broadcast of the A
// element at mem then nv FMAs, or, with embed, nv FMAs with an embedded
// broadcast memory operand (no separate broadcast instruction).
func rowFMAs(mem, aReg string, nv int, reg string, r int, bReg func(int) string, embed bool) {
	if embed {
		for v := 0; v < nv; v++ {
			p("VFMADD231PS.BCST %s, %s, %s%d", mem, bReg(v), reg, r*nv+v)
		}
		return
	}
	p("VBROADCASTSS %s, %s", mem, aReg)
	for v := 0; v < nv; v++ {
		p("VFMADD231PS %s, %s, %s%d", bReg(v), aReg, reg, r*nv+v)
	}
}

// xor is the zeroing instruction for a register file: VXORPS on zmm needs
// AVX512DQ, VPXORD only AVX512F.
func xor(reg string) string {
	if reg == "Z" {
		return "VPXORD"
	}
	return "VXORPS"
}

// epilogue scales the accumulators by alpha, adds beta·C unless beta is
// (±)0, stores the tile and returns; al and be are free vector registers.
func epilogue(mr, nv int, reg string, vb int, al, be string, argOff int) {
	nacc := mr * nv
	p("VBROADCASTSS alpha+%d(FP), %s", argOff, al)
	for i := 0; i < nacc; i++ {
		p("VMULPS %s, %s%d, %s%d", al, reg, i, reg, i)
	}
	p("MOVL beta+%d(FP), AX", argOff+4)
	p("TESTL $0x7fffffff, AX")
	p("JZ store")
	p("VBROADCASTSS beta+%d(FP), %s", argOff+4, be)
	for r := 0; r < mr; r++ {
		for v := 0; v < nv; v++ {
			p("VFMADD231PS %d(DX), %s, %s%d", v*vb, be, reg, r*nv+v)
		}
		for v := 0; v < nv; v++ {
			p("VMOVUPS %s%d, %d(DX)", reg, r*nv+v, v*vb)
		}
		p("ADDQ R8, DX")
	}
	p("VZEROUPPER")
	p("RET")
	fmt.Fprintf(&w, "store"+":\n")
	for r := 0; r < mr; r++ {
		for v := 0; v < nv; v++ {
			p("VMOVUPS %s%d, %d(DX)", reg, r*nv+v, v*vb)
		}
		p("ADDQ R8, DX")
	}
	p("VZEROUPPER")
	p("RET")
}
