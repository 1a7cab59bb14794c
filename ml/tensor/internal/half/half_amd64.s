#include "textflag.h"

// func cvtph2ps(dst *float32, src *uint16, n int)
// n is a positive multiple of 8: blocks of 32, then of 8.
TEXT ·cvtph2ps(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ CX, DX
	ANDQ $31, DX
	SHRQ $5, CX
	JZ tail
loop:
	VCVTPH2PS (SI), Y0
	VCVTPH2PS 16(SI), Y1
	VCVTPH2PS 32(SI), Y2
	VCVTPH2PS 48(SI), Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $64, SI
	ADDQ $128, DI
	DECQ CX
	JNZ loop
tail:
	SHRQ $3, DX
	JZ done
tail8:
	VCVTPH2PS (SI), Y0
	VMOVUPS Y0, (DI)
	ADDQ $16, SI
	ADDQ $32, DI
	DECQ DX
	JNZ tail8
done:
	VZEROUPPER
	RET

// func cvtps2ph(dst *uint16, src *float32, n int)
// n is a positive multiple of 8; imm 0 rounds to nearest even.
TEXT ·cvtps2ph(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ CX, DX
	ANDQ $31, DX
	SHRQ $5, CX
	JZ tail
loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VCVTPS2PH $0, Y0, (DI)
	VCVTPS2PH $0, Y1, 16(DI)
	VCVTPS2PH $0, Y2, 32(DI)
	VCVTPS2PH $0, Y3, 48(DI)
	ADDQ $128, SI
	ADDQ $64, DI
	DECQ CX
	JNZ loop
tail:
	SHRQ $3, DX
	JZ done
tail8:
	VMOVUPS (SI), Y0
	VCVTPS2PH $0, Y0, (DI)
	ADDQ $32, SI
	ADDQ $16, DI
	DECQ DX
	JNZ tail8
done:
	VZEROUPPER
	RET
