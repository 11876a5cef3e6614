// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include <linux/bpf.h>

#include "kernel/insn_eval.h"

int insn_mem_size(uint8_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_B:
		return 1;
	case BPF_H:
		return 2;
	case BPF_W:
		return 4;
	default:
		return 8;
	}
}

uint64_t insn_mem_read(const void *p, int size, bool sign)
{
	union {
		uint8_t u8;
		uint16_t u16;
		uint32_t u32;
		uint64_t u64;
	} v;

	memcpy(&v, p, size);
	switch (size) {
	case 1:
		return sign ? (uint64_t)(int64_t)(int8_t)v.u8 : v.u8;
	case 2:
		return sign ? (uint64_t)(int64_t)(int16_t)v.u16 : v.u16;
	case 4:
		return sign ? (uint64_t)(int64_t)(int32_t)v.u32 : v.u32;
	default:
		return v.u64;
	}
}

int insn_jump_taken(uint8_t op, uint64_t a, uint64_t b, bool is64)
{
	int64_t sa = is64 ? (int64_t)a : (int32_t)a;
	int64_t sb = is64 ? (int64_t)b : (int32_t)b;

	if (!is64) {
		a = (uint32_t)a;
		b = (uint32_t)b;
	}
	switch (op) {
	case BPF_JEQ:
		return a == b;
	case BPF_JNE:
		return a != b;
	case BPF_JGT:
		return a > b;
	case BPF_JGE:
		return a >= b;
	case BPF_JLT:
		return a < b;
	case BPF_JLE:
		return a <= b;
	case BPF_JSGT:
		return sa > sb;
	case BPF_JSGE:
		return sa >= sb;
	case BPF_JSLT:
		return sa < sb;
	case BPF_JSLE:
		return sa <= sb;
	case BPF_JSET:
		return (a & b) != 0;
	default:
		return -1;
	}
}

int insn_alu(uint8_t op, uint64_t a, uint64_t b, bool is64, uint64_t *res)
{
	unsigned int bits = is64 ? 64 : 32;

	if (!is64) {
		a = (uint32_t)a;
		b = (uint32_t)b;
	}
	/* A shift by its width or more: what the CPU does is the JIT's. */
	if ((op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH) && b >= bits)
		return -1;
	switch (op) {
	case BPF_MOV:
		*res = b;
		break;
	case BPF_ADD:
		*res = a + b;
		break;
	case BPF_SUB:
		*res = a - b;
		break;
	case BPF_MUL:
		*res = a * b;
		break;
	case BPF_OR:
		*res = a | b;
		break;
	case BPF_AND:
		*res = a & b;
		break;
	case BPF_XOR:
		*res = a ^ b;
		break;
	case BPF_LSH:
		*res = a << b;
		break;
	case BPF_RSH:
		*res = a >> b;
		break;
	case BPF_ARSH:
		*res = is64 ? (uint64_t)((int64_t)a >> b) :
			      (uint32_t)((int32_t)a >> b);
		break;
	case BPF_NEG:
		*res = -a;
		break;
	default:
		return -1;
	}
	if (!is64)
		*res = (uint32_t)*res;
	return 0;
}
