#include "textflag.h"

// func prefetchRows(a *float32, ldb, rows, nb int)
// PREFETCHT0 of every cache line of rows rows of nb bytes each, ldb bytes
// apart, starting at a.
TEXT ·prefetchRows(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI
	MOVQ ldb+8(FP), R8
	MOVQ rows+16(FP), CX
	MOVQ nb+24(FP), DX
	TESTQ CX, CX
	JLE done
	TESTQ DX, DX
	JLE done
row:
	MOVQ SI, AX
	ANDQ $-64, AX
	LEAQ (SI)(DX*1), BX
line:
	PREFETCHT0 (AX)
	ADDQ $64, AX
	CMPQ AX, BX
	JB line
	ADDQ R8, SI
	DECQ CX
	JNZ row
done:
	RET
