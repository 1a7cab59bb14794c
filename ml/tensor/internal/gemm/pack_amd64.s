#include "textflag.h"

// func gatherF32(dst, src *float32, idx *int32, wb, kc int, gm0, gm1, sm0, sm1 uint64)
// For p < kc: 16 (or 32) lanes of dst row p (wb bytes apart) get src[idx[r]+p]
// where the gather mask allows, else 0; the store masks bound the row at w.
TEXT ·gatherF32(SB), NOSPLIT, $0-72
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ idx+16(FP), AX
	VMOVDQU32 (AX), Z1
	VMOVDQU32 64(AX), Z2
	MOVQ wb+24(FP), BX
	MOVQ kc+32(FP), DX
	MOVQ gm0+40(FP), R8
	MOVQ gm1+48(FP), R9
	MOVQ sm0+56(FP), AX
	KMOVW AX, K5
	MOVQ sm1+64(FP), AX
	KMOVW AX, K6
	TESTQ AX, AX
	JNZ two
one:
	KMOVW R8, K1
	VPXORD Z0, Z0, Z0
	VGATHERDPS (SI)(Z1*4), K1, Z0
	VMOVUPS Z0, K5, (DI)
	ADDQ $4, SI
	ADDQ BX, DI
	DECQ DX
	JNZ one
	VZEROUPPER
	RET
two:
	KMOVW R8, K1
	KMOVW R9, K2
	VPXORD Z0, Z0, Z0
	VPXORD Z3, Z3, Z3
	VGATHERDPS (SI)(Z1*4), K1, Z0
	VGATHERDPS (SI)(Z2*4), K2, Z3
	VMOVUPS Z0, K5, (DI)
	VMOVUPS Z3, K6, 64(DI)
	ADDQ $4, SI
	ADDQ BX, DI
	DECQ DX
	JNZ two
	VZEROUPPER
	RET

// func gatherF16(dst *float32, src *uint16, idx *int32, wb, pairs int, gm0, gm1, sm0, sm1 uint64)
// Like gatherF32 for half storage, two depths per step: each dword gathered
// at half index idx[r]+p holds depths p (low) and p+1 (high), which are
// split, widened with VCVTPH2PS and stored to rows p and p+1.
TEXT ·gatherF16(SB), NOSPLIT, $0-72
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ idx+16(FP), AX
	VMOVDQU32 (AX), Z1
	VMOVDQU32 64(AX), Z2
	MOVQ wb+24(FP), BX
	MOVQ pairs+32(FP), DX
	MOVQ gm0+40(FP), R8
	MOVQ gm1+48(FP), R9
	MOVQ sm0+56(FP), AX
	KMOVW AX, K5
	MOVQ sm1+64(FP), AX
	KMOVW AX, K6
	TESTQ AX, AX
	JNZ two
one:
	KMOVW R8, K1
	VPXORD Z0, Z0, Z0
	VPGATHERDD (SI)(Z1*2), K1, Z0
	VPMOVDW Z0, Y4
	VCVTPH2PS Y4, Z4
	VMOVUPS Z4, K5, (DI)
	VPSRLD $16, Z0, Z0
	VPMOVDW Z0, Y4
	VCVTPH2PS Y4, Z4
	VMOVUPS Z4, K5, (DI)(BX*1)
	ADDQ $4, SI
	LEAQ (DI)(BX*2), DI
	DECQ DX
	JNZ one
	VZEROUPPER
	RET
two:
	KMOVW R8, K1
	KMOVW R9, K2
	VPXORD Z0, Z0, Z0
	VPXORD Z3, Z3, Z3
	VPGATHERDD (SI)(Z1*2), K1, Z0
	VPGATHERDD (SI)(Z2*2), K2, Z3
	VPMOVDW Z0, Y4
	VCVTPH2PS Y4, Z4
	VMOVUPS Z4, K5, (DI)
	VPMOVDW Z3, Y5
	VCVTPH2PS Y5, Z5
	VMOVUPS Z5, K6, 64(DI)
	VPSRLD $16, Z0, Z0
	VPSRLD $16, Z3, Z3
	VPMOVDW Z0, Y4
	VCVTPH2PS Y4, Z4
	VMOVUPS Z4, K5, (DI)(BX*1)
	VPMOVDW Z3, Y5
	VCVTPH2PS Y5, Z5
	VMOVUPS Z5, K6, 64(DI)(BX*1)
	ADDQ $4, SI
	LEAQ (DI)(BX*2), DI
	DECQ DX
	JNZ two
	VZEROUPPER
	RET
