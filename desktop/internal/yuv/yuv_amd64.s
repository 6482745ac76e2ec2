#include "textflag.h"

// Offsets into coeffs (see yuv.go).
#define KY 0
#define KU 32
#define KV 64
#define X80 96
#define YADD 128
#define UVADD 160
#define PERM 192
#define SHUF 224

// func yRowAVX2(dst, src *byte, n int, k *coeffs)
// 32 pixels per round: flip to signed, weigh byte pairs (VPMADDUBSW:
// unsigned weights times signed pixels), add the pairs, unflip and round,
// shift, pack to bytes, restore the order the in-lane packing mixed up.
TEXT ·yRowAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ k+24(FP), AX
	VMOVDQU KY(AX), Y6
	VMOVDQU X80(AX), Y7
	VMOVDQU YADD(AX), Y8
	VMOVDQU PERM(AX), Y9
	SHRQ $5, CX
	JZ ydone

yloop:
	VPXOR 0(SI), Y7, Y0
	VPXOR 32(SI), Y7, Y1
	VPXOR 64(SI), Y7, Y2
	VPXOR 96(SI), Y7, Y3
	VPMADDUBSW Y0, Y6, Y0
	VPMADDUBSW Y1, Y6, Y1
	VPMADDUBSW Y2, Y6, Y2
	VPMADDUBSW Y3, Y6, Y3
	VPHADDW Y1, Y0, Y0
	VPHADDW Y3, Y2, Y2
	VPADDW Y8, Y0, Y0
	VPADDW Y8, Y2, Y2
	VPSRLW $8, Y0, Y0
	VPSRLW $8, Y2, Y2
	VPACKUSWB Y2, Y0, Y0
	VPERMD Y0, Y9, Y0
	VMOVDQU Y0, 0(DI)
	ADDQ $128, SI
	ADDQ $32, DI
	DECQ CX
	JNZ yloop

ydone:
	VZEROUPPER
	RET

// func uvRowAVX2(u, v, src *byte, stride, n int, k *coeffs)
// 32 pixels of two rows per round: average the rows, then neighbouring
// pixels (even and odd dwords split with VSHUFPS), weigh (unsigned pixels
// times signed weights), add the pairs, round, pack U and V into one
// register and put each back in order.
TEXT ·uvRowAVX2(SB), NOSPLIT, $0-48
	MOVQ u+0(FP), DI
	MOVQ v+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ stride+24(FP), BX
	MOVQ n+32(FP), CX
	MOVQ k+40(FP), AX
	VMOVDQU KU(AX), Y6
	VMOVDQU KV(AX), Y7
	VMOVDQU UVADD(AX), Y8
	VMOVDQU SHUF(AX), Y9
	SHRQ $5, CX
	JZ uvdone

uvloop:
	VMOVDQU 0(SI), Y0
	VPAVGB 0(SI)(BX*1), Y0, Y0
	VMOVDQU 32(SI), Y1
	VPAVGB 32(SI)(BX*1), Y1, Y1
	VMOVDQU 64(SI), Y2
	VPAVGB 64(SI)(BX*1), Y2, Y2
	VMOVDQU 96(SI), Y3
	VPAVGB 96(SI)(BX*1), Y3, Y3
	VSHUFPS $0x88, Y1, Y0, Y4
	VSHUFPS $0xdd, Y1, Y0, Y0
	VPAVGB Y4, Y0, Y0
	VSHUFPS $0x88, Y3, Y2, Y4
	VSHUFPS $0xdd, Y3, Y2, Y2
	VPAVGB Y4, Y2, Y2
	VPMADDUBSW Y6, Y0, Y1
	VPMADDUBSW Y7, Y0, Y0
	VPMADDUBSW Y6, Y2, Y3
	VPMADDUBSW Y7, Y2, Y2
	VPHADDW Y3, Y1, Y1
	VPHADDW Y2, Y0, Y0
	VPADDW Y8, Y1, Y1
	VPADDW Y8, Y0, Y0
	VPSRLW $8, Y1, Y1
	VPSRLW $8, Y0, Y0
	VPACKUSWB Y0, Y1, Y1
	VPERMQ $0xd8, Y1, Y1
	VPSHUFB Y9, Y1, Y1
	VMOVDQU X1, 0(DI)
	VEXTRACTI128 $1, Y1, 0(DX)
	ADDQ $128, SI
	ADDQ $16, DI
	ADDQ $16, DX
	DECQ CX
	JNZ uvloop

uvdone:
	VZEROUPPER
	RET
