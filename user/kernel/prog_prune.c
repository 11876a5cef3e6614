// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "kernel/insn_eval.h"
#include "kernel/prog_prune.h"

/* s->flags of an instruction */
#define F_LEADER 0x01  /* a basic block starts here */
#define F_REACHED 0x02 /* some path from the entry gets here */
#define F_ALWAYS 0x04  /* a conditional jump the kernel makes a jump */
#define F_NOP 0x08     /* a conditional jump the kernel makes a nop */
#define F_KEEP 0x10    /* left in the program */
#define F_IMM_HI 0x20  /* the second half of a 64-bit immediate load */
#define F_CORE 0x40    /* CO-RE relocates it: its immediate is the kernel's */

#define NO_BLOCK 0xffff

/* Newer than some systems' linux/bpf.h: may_goto, sign-extending loads. */
#ifndef BPF_JCOND
#define BPF_JCOND 0xe0
#endif
#ifndef BPF_MEMSX
#define BPF_MEMSX 0x80
#endif

enum value_kind {
	V_UNKNOWN,
	V_CONST,
	V_RODATA /* a pointer: val, the offset */
};

struct pass {
	struct bpf_insn *insns;
	uint32_t n;
	const struct prune_rodata *ro;
	struct prune_scratch *s;
	uint32_t n_blocks, n_work;
};

static bool is_ld_imm64(const struct bpf_insn *in)
{
	return in->code == (BPF_LD | BPF_IMM | BPF_DW);
}

static bool is_jump_class(uint8_t code)
{
	return BPF_CLASS(code) == BPF_JMP || BPF_CLASS(code) == BPF_JMP32;
}

/* A jump with a target: JA or conditional, not CALL or EXIT. */
static bool is_branch(const struct bpf_insn *in)
{
	return is_jump_class(in->code) && BPF_OP(in->code) != BPF_CALL &&
	       BPF_OP(in->code) != BPF_EXIT;
}

static bool is_cond(const struct bpf_insn *in)
{
	return is_branch(in) && BPF_OP(in->code) != BPF_JA;
}

/* A branch's target (gotol, JMP32 | JA, has it in imm), as an index. */
static int64_t branch_target(const struct bpf_insn *in, uint32_t i)
{
	int32_t off = in->code == (BPF_JMP32 | BPF_JA) ? in->imm : in->off;

	return (int64_t)i + 1 + off;
}

/* A subprogram's call or a callback's address: the function's index. */
static bool func_ref(const struct bpf_insn *in, uint32_t i, int64_t *to)
{
	if ((in->code == (BPF_JMP | BPF_CALL) &&
	     in->src_reg == BPF_PSEUDO_CALL) ||
	    (is_ld_imm64(in) && in->src_reg == BPF_PSEUDO_FUNC)) {
		*to = (int64_t)i + 1 + in->imm;
		return true;
	}
	return false;
}

static bool mark_leader(struct pass *p, int64_t i)
{
	if (i < 0 || i >= p->n || (p->s->flags[i] & F_IMM_HI))
		return false;
	p->s->flags[i] |= F_LEADER;
	return true;
}

/*
 * The instructions the kernel rewrites by CO-RE as it loads the program
 * (a field's offset, size, signedness or existence, a type's id): what
 * they compute is the kernel's to say, unknown here.
 */
static void mark_core_relos(struct pass *p, const void *recs, uint32_t rec_size,
			    uint32_t cnt)
{
	for (uint32_t r = 0; r < cnt; r++) {
		uint32_t off;

		memcpy(&off, (const uint8_t *)recs + (size_t)r * rec_size,
		       sizeof(off));
		p->s->flags[off / sizeof(struct bpf_insn)] |= F_CORE;
	}
}

/*
 * Basic blocks, and whether the pass can follow every jump: false for a
 * jump it does not know (may_goto), a target outside the program or
 * inside a 64-bit load, or a register that does not exist.
 */
static bool find_blocks(struct pass *p)
{
	struct prune_scratch *s = p->s;
	int64_t to;

	memset(s->flags, 0, p->n);
	for (uint32_t i = 0; i < p->n; i++) {
		/* the kernel's to refuse; not to be read here */
		if (p->insns[i].dst_reg >= MAX_BPF_REG ||
		    p->insns[i].src_reg >= MAX_BPF_REG)
			return false;
		if (!is_ld_imm64(&p->insns[i]))
			continue;
		if (i + 1 >= p->n)
			return false;
		s->flags[++i] |= F_IMM_HI;
	}
	if (!mark_leader(p, 0))
		return false;
	for (uint32_t i = 0; i < p->n; i++) {
		const struct bpf_insn *in = &p->insns[i];

		if (func_ref(in, i, &to) && !mark_leader(p, to))
			return false;
		if (!is_jump_class(in->code))
			continue;
		if (BPF_OP(in->code) == BPF_JCOND ||
		    (BPF_CLASS(in->code) == BPF_JMP32 &&
		     (BPF_OP(in->code) == BPF_CALL ||
		      BPF_OP(in->code) == BPF_EXIT)))
			return false;
		if (is_branch(in) && !mark_leader(p, branch_target(in, i)))
			return false;
		if (BPF_OP(in->code) != BPF_CALL && i + 1 < p->n &&
		    !mark_leader(p, i + 1))
			return false;
	}
	p->n_blocks = 0;
	for (uint32_t i = 0; i < p->n; i++) {
		s->block_of[i] = NO_BLOCK;
		if (!(s->flags[i] & F_LEADER))
			continue;
		if (p->n_blocks == PRUNE_MAX_BLOCKS)
			return false;
		s->block_of[i] = p->n_blocks;
		s->block_start[p->n_blocks++] = i;
	}
	memset(s->reached, 0, p->n_blocks);
	memset(s->queued, 0, p->n_blocks);
	return true;
}

static void set_unknown(struct prune_regs *r, unsigned int reg)
{
	r->kind[reg] = V_UNKNOWN;
	r->val[reg] = 0;
}

static void set_const(struct prune_regs *r, unsigned int reg, uint64_t v)
{
	r->kind[reg] = V_CONST;
	r->val[reg] = v;
}

static void enqueue(struct pass *p, uint32_t b)
{
	if (p->s->queued[b])
		return;
	p->s->queued[b] = 1;
	p->s->work[p->n_work++] = b;
}

/* The state at block b's entry meets regs; b queued if that changed it. */
static void flow_to(struct pass *p, uint32_t insn, const struct prune_regs *r)
{
	struct prune_scratch *s = p->s;
	uint32_t b = s->block_of[insn];
	struct prune_regs *in = &s->in[b];
	bool changed = false;

	if (!s->reached[b]) {
		s->reached[b] = 1;
		*in = *r;
		enqueue(p, b);
		return;
	}
	for (unsigned int reg = 0; reg < MAX_BPF_REG; reg++) {
		if (in->kind[reg] == V_UNKNOWN ||
		    (in->kind[reg] == r->kind[reg] &&
		     in->val[reg] == r->val[reg]))
			continue;
		set_unknown(in, reg);
		changed = true;
	}
	if (changed)
		enqueue(p, b);
}

/* A function's entry: nothing known but that it is reached. */
static void enter_func(struct pass *p, int64_t insn)
{
	struct prune_regs unknown;

	memset(&unknown, 0, sizeof(unknown));
	flow_to(p, (uint32_t)insn, &unknown);
}

/* dst op= src (or imm), for ALU and ALU64. */
static void step_alu(struct prune_regs *r, const struct bpf_insn *in)
{
	bool is64 = BPF_CLASS(in->code) == BPF_ALU64;
	bool from_reg = BPF_SRC(in->code) == BPF_X;
	uint8_t op = BPF_OP(in->code), dst = in->dst_reg;
	uint8_t src_kind = from_reg ? r->kind[in->src_reg] : V_CONST;
	uint64_t src =
		from_reg ? r->val[in->src_reg] : (uint64_t)(int64_t)in->imm;
	uint64_t res;

	/* movsx, sdiv, smod (off != 0), byte swaps: not followed */
	if (in->off || op == BPF_END || op == BPF_DIV || op == BPF_MOD) {
		set_unknown(r, dst);
		return;
	}
	if (op == BPF_MOV && is64 && src_kind != V_UNKNOWN) {
		r->kind[dst] = src_kind;
		r->val[dst] = src;
		return;
	}
	/* A pointer into .rodata moved along by a constant. */
	if (is64 && r->kind[dst] == V_RODATA && src_kind == V_CONST &&
	    (op == BPF_ADD || op == BPF_SUB)) {
		r->val[dst] =
			op == BPF_ADD ? r->val[dst] + src : r->val[dst] - src;
		return;
	}
	if (src_kind == V_CONST && (op == BPF_MOV || r->kind[dst] == V_CONST) &&
	    !insn_alu(op, r->val[dst], src, is64, &res)) {
		set_const(r, dst, res);
		return;
	}
	set_unknown(r, dst);
}

/* A load from the frozen map: the value, little or big end as the host. */
static bool rodata_read(const struct pass *p, uint64_t off, int size, bool sign,
			uint64_t *val)
{
	if (off > p->ro->size || (uint64_t)size > p->ro->size - off)
		return false;
	*val = insn_mem_read((const uint8_t *)p->ro->value + off, size, sign);
	return true;
}

static void step_ldx(const struct pass *p, struct prune_regs *r,
		     const struct bpf_insn *in)
{
	uint8_t mode = BPF_MODE(in->code);
	uint64_t val;

	if ((mode == BPF_MEM || mode == BPF_MEMSX) &&
	    r->kind[in->src_reg] == V_RODATA &&
	    rodata_read(p, r->val[in->src_reg] + (int64_t)in->off,
			insn_mem_size(in->code), mode == BPF_MEMSX, &val)) {
		set_const(r, in->dst_reg, val);
		return;
	}
	set_unknown(r, in->dst_reg);
}

static void step_ld_imm64(const struct pass *p, struct prune_regs *r,
			  const struct bpf_insn *in)
{
	uint64_t lo = (uint32_t)in[0].imm, hi = (uint32_t)in[1].imm;

	if (in->src_reg == 0) {
		set_const(r, in->dst_reg, lo | hi << 32);
		return;
	}
	if (p->ro && in->src_reg == BPF_PSEUDO_MAP_IDX_VALUE &&
	    (uint32_t)in->imm == p->ro->map_idx) {
		r->kind[in->dst_reg] = V_RODATA;
		r->val[in->dst_reg] = hi;
		return;
	}
	set_unknown(r, in->dst_reg);
}

/* 1 taken, 0 not, -1 either as far as the pass knows. */
static int decide(const struct prune_regs *r, const struct bpf_insn *in)
{
	bool is64 = BPF_CLASS(in->code) == BPF_JMP;
	bool from_reg = BPF_SRC(in->code) == BPF_X;
	uint8_t kb = from_reg ? r->kind[in->src_reg] : V_CONST;
	uint64_t a = r->val[in->dst_reg];
	uint64_t b =
		from_reg ? r->val[in->src_reg] : (uint64_t)(int64_t)in->imm;

	/* A pointer into .rodata is not NULL (the verifier knows that too). */
	if (r->kind[in->dst_reg] == V_RODATA && kb == V_CONST && b == 0 &&
	    is64 &&
	    (BPF_OP(in->code) == BPF_JEQ || BPF_OP(in->code) == BPF_JNE))
		return BPF_OP(in->code) == BPF_JNE;
	if (r->kind[in->dst_reg] != V_CONST || kb != V_CONST)
		return -1;
	return insn_jump_taken(BPF_OP(in->code), a, b, is64);
}

/* The registers an instruction writes, other than jumps'. */
static void step(const struct pass *p, struct prune_regs *r,
		 const struct bpf_insn *in)
{
	switch (BPF_CLASS(in->code)) {
	case BPF_ALU:
	case BPF_ALU64:
		step_alu(r, in);
		break;
	case BPF_LDX:
		step_ldx(p, r, in);
		break;
	case BPF_LD:
		if (is_ld_imm64(in)) {
			step_ld_imm64(p, r, in);
			break;
		}
		/* LD_ABS, LD_IND: R0 and the argument registers */
		for (unsigned int reg = BPF_REG_0; reg <= BPF_REG_5; reg++)
			set_unknown(r, reg);
		break;
	case BPF_STX:
		/* atomics: the fetched value, cmpxchg's R0, load-acquire's dst */
		if (BPF_MODE(in->code) == BPF_ATOMIC) {
			set_unknown(r, in->src_reg);
			set_unknown(r, in->dst_reg);
			set_unknown(r, BPF_REG_0);
		}
		break;
	default: /* BPF_ST: memory only */
		break;
	}
}

/* Block b from its entry state to its end; its successors' states met. */
static void walk_block(struct pass *p, uint32_t b)
{
	struct prune_scratch *s = p->s;
	struct prune_regs r = s->in[b];
	uint32_t i = s->block_start[b];
	int64_t to;

	for (;;) {
		const struct bpf_insn *in = &p->insns[i];
		uint32_t next = i + (is_ld_imm64(in) ? 2 : 1);
		int d;

		s->flags[i] |= F_REACHED;
		if (is_ld_imm64(in))
			s->flags[i + 1] |= F_REACHED;
		if (func_ref(in, i, &to))
			enter_func(p, to);
		if (in->code == (BPF_JMP | BPF_EXIT))
			return;
		if (in->code == (BPF_JMP | BPF_CALL)) {
			for (unsigned int reg = BPF_REG_0; reg <= BPF_REG_5;
			     reg++)
				set_unknown(&r, reg);
		} else if (is_branch(in)) {
			d = is_cond(in) ? decide(&r, in) : 1;
			if (d != 0)
				flow_to(p, (uint32_t)branch_target(in, i), &r);
			if (d != 1 && next < p->n)
				flow_to(p, next, &r);
			return;
		} else {
			step(p, &r, in);
			if (s->flags[i] & F_CORE)
				set_unknown(&r, in->dst_reg);
		}
		if (next >= p->n)
			return; /* off the end: the verifier's to refuse */
		if (s->flags[next] & F_LEADER) {
			flow_to(p, next, &r);
			return;
		}
		i = next;
	}
}

static bool walk(struct pass *p)
{
	/* Each block's entry state only loses facts: a few rounds each. */
	uint32_t budget = 16 * p->n_blocks + 16;

	p->n_work = 0;
	enter_func(p, 0);
	while (p->n_work) {
		uint32_t b = p->s->work[--p->n_work];

		if (!budget--)
			return false;
		p->s->queued[b] = 0;
		walk_block(p, b);
	}
	return true;
}

/*
 * new_idx[i]: where instruction i goes, or for one taken out, where the
 * next one kept goes (so that a jump to it lands on what follows).
 */
static uint32_t number_kept(struct pass *p)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < p->n; i++) {
		p->s->new_idx[i] = k;
		if (p->s->flags[i] & F_KEEP)
			k++;
	}
	p->s->new_idx[p->n] = k;
	return k;
}

/*
 * What the kernel does after its walk, up to its removal of nops
 * (opt_hard_wire_dead_code_branches(), opt_remove_dead_code()): the
 * unreached go; a conditional jump whose next instruction is unreached
 * becomes a jump, one whose target is unreached a nop (ja +0). The nops
 * are left to the kernel: it takes them out in one pass from the first,
 * measuring each jump as it stands then, and leaves a jump that becomes
 * a nop only once a later one has gone; done here too, the program
 * would differ. The count left.
 */
static uint32_t choose_kept(struct pass *p)
{
	struct prune_scratch *s = p->s;

	for (uint32_t i = 0; i < p->n; i++) {
		const struct bpf_insn *in = &p->insns[i];

		if (!(s->flags[i] & F_REACHED))
			continue;
		s->flags[i] |= F_KEEP;
		if (!is_cond(in))
			continue;
		if (i + 1 >= p->n || !(s->flags[i + 1] & F_REACHED))
			s->flags[i] |= F_ALWAYS;
		else if (!(s->flags[branch_target(in, i)] & F_REACHED))
			s->flags[i] |= F_NOP;
	}
	return number_kept(p);
}

static int32_t new_rel(const struct pass *p, uint32_t i, int64_t to)
{
	return (int32_t)p->s->new_idx[to] - (int32_t)p->s->new_idx[i] - 1;
}

/* Instruction i as it goes in at new_idx[i]: its jumps re-targeted. */
static struct bpf_insn moved(const struct pass *p, uint32_t i)
{
	struct bpf_insn in = p->insns[i];
	int64_t to;

	if (func_ref(&in, i, &to)) {
		in.imm = new_rel(p, i, to);
	} else if (p->s->flags[i] & F_NOP) {
		in = (struct bpf_insn){ .code = BPF_JMP | BPF_JA };
	} else if (p->s->flags[i] & F_ALWAYS) {
		/* always taken: a jump, as the kernel makes it */
		to = branch_target(&in, i);
		in = (struct bpf_insn){ .code = BPF_JMP | BPF_JA };
		in.off = (int16_t)new_rel(p, i, to);
	} else if (in.code == (BPF_JMP32 | BPF_JA)) {
		in.imm = new_rel(p, i, branch_target(&in, i));
	} else if (is_branch(&in)) {
		in.off = (int16_t)new_rel(p, i, branch_target(&in, i));
	}
	return in;
}

static void compact_insns(struct pass *p)
{
	for (uint32_t i = 0; i < p->n; i++) {
		struct bpf_insn in, hi;

		if (!(p->s->flags[i] & F_KEEP))
			continue;
		in = moved(p, i);
		if (is_ld_imm64(&in)) {
			hi = p->insns[i + 1];
			p->insns[p->s->new_idx[i]] = in;
			p->insns[p->s->new_idx[i] + 1] = hi;
			i++;
			continue;
		}
		p->insns[p->s->new_idx[i]] = in;
	}
}

/*
 * Records of rec_size bytes whose first field is an instruction's
 * offset (in units of unit bytes): re-numbered, those of instructions
 * taken out dropped. Their count.
 */
static uint32_t renumber_records(const struct pass *p, void *recs,
				 uint32_t rec_size, uint32_t cnt, uint32_t unit)
{
	uint8_t *base = recs;
	uint32_t kept = 0;

	for (uint32_t r = 0; r < cnt; r++) {
		uint32_t off;

		memcpy(&off, base + (size_t)r * rec_size, sizeof(off));
		off /= unit;
		if (off >= p->n || !(p->s->flags[off] & F_KEEP))
			continue;
		off = p->s->new_idx[off] * unit;
		memmove(base + (size_t)kept * rec_size,
			base + (size_t)r * rec_size, rec_size);
		memcpy(base + (size_t)kept * rec_size, &off, sizeof(off));
		kept++;
	}
	return kept;
}

/* Records whose instruction offsets lie in the program, on instructions. */
static bool records_valid(const struct pass *p, const void *recs,
			  uint32_t rec_size, uint32_t cnt, uint32_t unit)
{
	if (cnt && (!recs || rec_size < sizeof(uint32_t)))
		return false;
	for (uint32_t r = 0; r < cnt; r++) {
		uint32_t off;

		memcpy(&off, (const uint8_t *)recs + (size_t)r * rec_size,
		       sizeof(off));
		if (off % unit || off / unit >= p->n)
			return false;
	}
	return true;
}

uint32_t prog_prune(union bpf_attr *attr, const struct prune_rodata *ro,
		    struct prune_scratch *s)
{
	struct pass p = {
		.insns = (struct bpf_insn *)(uintptr_t)attr->insns,
		.n = attr->insn_cnt,
		.ro = ro,
		.s = s,
	};
	void *func_info = (void *)(uintptr_t)attr->func_info;
	void *core_relos = (void *)(uintptr_t)attr->core_relos;
	uint32_t kept;

	if (!p.insns || !p.n || p.n > PRUNE_MAX_INSNS || attr->line_info_cnt ||
	    !records_valid(&p, func_info, attr->func_info_rec_size,
			   attr->func_info_cnt, 1) ||
	    !records_valid(&p, core_relos, attr->core_relo_rec_size,
			   attr->core_relo_cnt, sizeof(struct bpf_insn)) ||
	    !find_blocks(&p))
		return 0;
	mark_core_relos(&p, core_relos, attr->core_relo_rec_size,
			attr->core_relo_cnt);
	if (!walk(&p))
		return 0;
	kept = choose_kept(&p);
	if (kept == p.n)
		return 0;
	compact_insns(&p);
	attr->func_info_cnt =
		renumber_records(&p, func_info, attr->func_info_rec_size,
				 attr->func_info_cnt, 1);
	attr->core_relo_cnt =
		renumber_records(&p, core_relos, attr->core_relo_rec_size,
				 attr->core_relo_cnt, sizeof(struct bpf_insn));
	attr->insn_cnt = kept;
	return p.n - kept;
}
