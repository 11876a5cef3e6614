// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

#include "kernel/insn_eval.h"
#include "kernel/loader_vm.h"

#define STACK_SIZE 512
/* A loader runs each instruction once (its jumps go forward): a bound. */
#define MAX_STEPS (1U << 20)

struct region {
	uint8_t *base;
	size_t size;
};

struct vm {
	uint64_t r[MAX_BPF_REG];
	struct region mem[3]; /* the context, the blob, the stack */
	struct loader_vm_prune *prune;
	struct loader_vm_btf *btf;
};

/* The bytes [addr, addr + size) if they lie in one region, else NULL. */
static void *vm_mem(const struct vm *vm, uint64_t addr, uint64_t size)
{
	for (size_t i = 0; i < sizeof(vm->mem) / sizeof(vm->mem[0]); i++) {
		uint64_t base = (uintptr_t)vm->mem[i].base;

		if (addr >= base && size <= vm->mem[i].size &&
		    addr - base <= vm->mem[i].size - size)
			return (void *)(uintptr_t)addr;
	}
	return NULL;
}

static int load(const struct vm *vm, uint64_t addr, uint8_t code, uint64_t *val)
{
	int size = insn_mem_size(code);
	const void *p = vm_mem(vm, addr, size);

	if (!p)
		return -EINVAL;
	*val = insn_mem_read(p, size, false);
	return 0;
}

static int store(const struct vm *vm, uint64_t addr, uint8_t code, uint64_t val)
{
	int size = insn_mem_size(code);
	void *p = vm_mem(vm, addr, size);
	uint8_t u8 = val;
	uint16_t u16 = val;
	uint32_t u32 = val;

	if (!p)
		return -EINVAL;
	switch (size) {
	case 1:
		memcpy(p, &u8, 1);
		break;
	case 2:
		memcpy(p, &u16, 2);
		break;
	case 4:
		memcpy(p, &u32, 4);
		break;
	default:
		memcpy(p, &val, 8);
	}
	return 0;
}

static int64_t neg_errno(long ret)
{
	return ret < 0 ? -errno : ret;
}

/*
 * A program's line info serves its verifier log's source lines (and
 * bpftool's dump of them) alone, and the kernel checks it and moves it
 * along at every instruction it patches or removes (dead code: half of
 * a program under some policies): 0.2 ms of a start-up here. It goes to
 * the kernel with a verifier log only (--log-level debug).
 */
static void drop_line_info(void *attr_mem, uint64_t size)
{
	union bpf_attr *attr = attr_mem;

	if (size < offsetof(union bpf_attr, line_info_cnt) +
			    sizeof(attr->line_info_cnt) ||
	    attr->log_level)
		return;
	attr->line_info = 0;
	attr->line_info_cnt = 0;
}

/*
 * A program's dead code under its .rodata (prog_prune.h) taken out before
 * it loads, where its instructions and records lie in the VM's memory.
 */
static void prune(struct vm *vm, void *attr_mem, uint64_t size)
{
	union bpf_attr *attr = attr_mem;

	if (!vm->prune ||
	    size < offsetof(union bpf_attr, core_relo_rec_size) +
			    sizeof(attr->core_relo_rec_size) ||
	    !vm_mem(vm, attr->insns,
		    (uint64_t)attr->insn_cnt * sizeof(struct bpf_insn)) ||
	    (attr->func_info_cnt &&
	     !vm_mem(vm, attr->func_info,
		     (uint64_t)attr->func_info_cnt *
			     attr->func_info_rec_size)) ||
	    (attr->core_relo_cnt &&
	     !vm_mem(vm, attr->core_relos,
		     (uint64_t)attr->core_relo_cnt * attr->core_relo_rec_size)))
		return;
	vm->prune->removed +=
		prog_prune(attr, &vm->prune->rodata, vm->prune->scratch);
}

enum { BTF_NONE, BTF_CLAIMED, BTF_SHARED };

void loader_vm_btf_init(struct loader_vm_btf *btf)
{
	*btf = (struct loader_vm_btf){ .state = BTF_NONE, .fd = -1 };
}

void loader_vm_btf_close(struct loader_vm_btf *btf)
{
	if (btf->fd >= 0)
		close(btf->fd);
	loader_vm_btf_init(btf);
}

/* The first load of these bytes: shared, unless another one claimed. */
static void share_btf(struct loader_vm_btf *btf, const union bpf_attr *attr,
		      int fd)
{
	int none = BTF_NONE;

	if (!__atomic_compare_exchange_n(&btf->state, &none, BTF_CLAIMED, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	btf->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	btf->bytes = (const void *)(uintptr_t)attr->btf;
	btf->size = attr->btf_size;
	/* no fd to share: it stays claimed, each loads its own */
	if (btf->fd >= 0)
		__atomic_store_n(&btf->state, BTF_SHARED, __ATOMIC_RELEASE);
}

/*
 * BPF_BTF_LOAD of attr (size bytes, its BTF in the VM's memory): a dup
 * of the shared BTF's fd if the bytes are the same, else a load. The
 * loader program closes what it gets once its programs hold the BTF.
 */
static int64_t load_btf(struct vm *vm, union bpf_attr *attr, uint32_t size)
{
	struct loader_vm_btf *btf = vm->btf;
	const void *bytes = (const void *)(uintptr_t)attr->btf;
	int64_t fd;

	if (size < offsetof(union bpf_attr, btf_size) +
			    sizeof(attr->btf_size) ||
	    !vm_mem(vm, attr->btf, attr->btf_size))
		return -EINVAL;
	if (__atomic_load_n(&btf->state, __ATOMIC_ACQUIRE) == BTF_SHARED &&
	    attr->btf_size == btf->size &&
	    !memcmp(bytes, btf->bytes, btf->size))
		return neg_errno(fcntl(btf->fd, F_DUPFD_CLOEXEC, 3));
	fd = neg_errno(syscall(__NR_bpf, BPF_BTF_LOAD, attr, size));
	if (fd >= 0)
		share_btf(btf, attr, (int)fd);
	return fd;
}

/*
 * The helpers libbpf's loaders call, as the kernel's do them for a
 * loader run from user space (its context's flags without
 * BPF_SKEL_KERNEL): R0 as they return it, or -EINVAL for any other
 * helper or an argument outside the regions.
 */
static int call(struct vm *vm, int32_t helper)
{
	uint64_t *r = vm->r;
	void *dst, *src;

	switch (helper) {
	case BPF_FUNC_probe_read_kernel:
		dst = vm_mem(vm, r[1], (uint32_t)r[2]);
		if (!dst)
			return -EINVAL;
		/* From NULL: the kernel's zeroes dst (the loader's stack). */
		if (!r[3]) {
			memset(dst, 0, (uint32_t)r[2]);
			r[0] = -EFAULT;
			return 0;
		}
		src = vm_mem(vm, r[3], (uint32_t)r[2]); /* the context */
		if (!src)
			return -EINVAL;
		memmove(dst, src, (uint32_t)r[2]);
		r[0] = 0;
		return 0;
	case BPF_FUNC_copy_from_user:
		/* A map's initial value: the skeleton's own memory. */
		dst = vm_mem(vm, r[1], (uint32_t)r[2]);
		if (!dst || !r[3])
			return -EINVAL;
		memcpy(dst, (const void *)(uintptr_t)r[3], (uint32_t)r[2]);
		r[0] = 0;
		return 0;
	case BPF_FUNC_sys_bpf:
		if (!vm_mem(vm, r[2], (uint32_t)r[3]))
			return -EINVAL;
		if ((int)r[1] == BPF_PROG_LOAD) {
			drop_line_info((void *)(uintptr_t)r[2], (uint32_t)r[3]);
			prune(vm, (void *)(uintptr_t)r[2], (uint32_t)r[3]);
		}
		if ((int)r[1] == BPF_BTF_LOAD && vm->btf) {
			r[0] = load_btf(vm, (void *)(uintptr_t)r[2],
					(uint32_t)r[3]);
			return 0;
		}
		r[0] = neg_errno(syscall(__NR_bpf, (int)r[1],
					 (void *)(uintptr_t)r[2],
					 (unsigned int)r[3]));
		return 0;
	case BPF_FUNC_sys_close:
		r[0] = neg_errno(close((int)r[1]));
		return 0;
	default:
		return -EINVAL;
	}
}

static int alu64(struct vm *vm, const struct bpf_insn *in)
{
	uint64_t src = BPF_SRC(in->code) == BPF_X ? vm->r[in->src_reg] :
						    (uint64_t)(int64_t)in->imm;

	/* movsx, sdiv and smod (off != 0), like the rest it does not know */
	if (in->off || insn_alu(BPF_OP(in->code), vm->r[in->dst_reg], src, true,
				&vm->r[in->dst_reg]))
		return -EINVAL;
	return 0;
}

/* Whether a 64-bit conditional jump is taken; -EINVAL for another op. */
static int taken(const struct vm *vm, const struct bpf_insn *in)
{
	uint64_t b = BPF_SRC(in->code) == BPF_X ? vm->r[in->src_reg] :
						  (uint64_t)(int64_t)in->imm;
	int ret =
		insn_jump_taken(BPF_OP(in->code), vm->r[in->dst_reg], b, true);

	return ret < 0 ? -EINVAL : ret;
}

/*
 * A 64-bit immediate: a constant, or (BPF_PSEUDO_MAP_IDX_VALUE of
 * fd_array[0], the loader's map) an address in the blob.
 */
static int ld_imm64(struct vm *vm, const struct bpf_insn *in)
{
	uint64_t lo = (uint32_t)in[0].imm, hi = (uint32_t)in[1].imm;

	if (in[1].code || in[1].dst_reg || in[1].src_reg || in[1].off)
		return -EINVAL;
	if (in->src_reg == 0) {
		vm->r[in->dst_reg] = lo | hi << 32;
		return 0;
	}
	if (in->src_reg != BPF_PSEUDO_MAP_IDX_VALUE || in->imm != 0 ||
	    hi > vm->mem[1].size)
		return -EINVAL;
	vm->r[in->dst_reg] = (uintptr_t)vm->mem[1].base + hi;
	return 0;
}

/* Whether an instruction of class cls writes its dst_reg. */
static bool writes_dst(uint8_t cls)
{
	return cls == BPF_ALU64 || cls == BPF_ALU || cls == BPF_LD ||
	       cls == BPF_LDX;
}

static int jump(const struct vm *vm, const struct bpf_insn *in, size_t n,
		size_t *pc)
{
	int64_t to = (int64_t)*pc + 1 + in->off;
	int jump = BPF_OP(in->code) == BPF_JA ? 1 : taken(vm, in);

	if (jump <= 0)
		return jump;
	if (to < 0 || (uint64_t)to >= n)
		return -EINVAL;
	*pc = to - 1;
	return 0;
}

/*
 * The instruction at *pc (in: it and the next, copied out of insns,
 * which need not be aligned); moves *pc on. 1: the program exited.
 */
static int step(struct vm *vm, const struct bpf_insn *in, size_t n, size_t *pc)
{
	uint8_t cls = BPF_CLASS(in->code);
	int ret = 0;

	if (in->dst_reg >= MAX_BPF_REG || in->src_reg >= MAX_BPF_REG ||
	    (in->dst_reg == BPF_REG_10 && writes_dst(cls)))
		return -EINVAL;
	switch (cls) {
	case BPF_ALU64:
		ret = alu64(vm, in);
		break;
	case BPF_LD:
		if (in->code != (BPF_LD | BPF_IMM | BPF_DW) || *pc + 1 >= n)
			return -EINVAL;
		ret = ld_imm64(vm, in);
		++*pc;
		break;
	case BPF_LDX:
		if (BPF_MODE(in->code) != BPF_MEM)
			return -EINVAL;
		ret = load(vm, vm->r[in->src_reg] + in->off, in->code,
			   &vm->r[in->dst_reg]);
		break;
	case BPF_STX:
		if (BPF_MODE(in->code) != BPF_MEM)
			return -EINVAL;
		ret = store(vm, vm->r[in->dst_reg] + in->off, in->code,
			    vm->r[in->src_reg]);
		break;
	case BPF_ST:
		if (BPF_MODE(in->code) != BPF_MEM)
			return -EINVAL;
		ret = store(vm, vm->r[in->dst_reg] + in->off, in->code,
			    (uint64_t)(int64_t)in->imm);
		break;
	case BPF_JMP:
		if (in->code == (BPF_JMP | BPF_EXIT))
			return 1;
		if (in->code == (BPF_JMP | BPF_CALL))
			/* src_reg: a subprogram's or a kfunc's call */
			ret = in->src_reg ? -EINVAL : call(vm, in->imm);
		else
			ret = jump(vm, in, n, pc);
		break;
	default:
		return -EINVAL;
	}
	++*pc;
	return ret;
}

int loader_vm_run(const void *insns, size_t insns_sz, void *blob,
		  size_t blob_sz, void *ctx, size_t ctx_sz,
		  const struct loader_vm_opts *opts)
{
	uint64_t stack[STACK_SIZE / sizeof(uint64_t)] = { 0 };
	size_t n = insns_sz / sizeof(struct bpf_insn), pc = 0;
	struct vm vm = {
		.mem = { { ctx, ctx_sz },
			 { blob, blob_sz },
			 { (uint8_t *)stack, sizeof(stack) } },
		.prune = opts ? opts->prune : NULL,
		.btf = opts ? opts->btf : NULL,
	};
	struct bpf_insn in[2];
	int ret = 0;

	vm.r[BPF_REG_1] = (uintptr_t)ctx;
	vm.r[BPF_REG_10] = (uintptr_t)stack + sizeof(stack);
	for (uint32_t steps = 0; steps < MAX_STEPS && !ret; steps++) {
		if (pc >= n)
			return -EINVAL;
		memcpy(in, (const char *)insns + pc * sizeof(in[0]),
		       (pc + 1 < n ? 2 : 1) * sizeof(in[0]));
		ret = step(&vm, in, n, &pc);
	}
	if (ret < 0)
		return ret;
	if (ret == 0)
		return -EINVAL; /* out of steps */
	return (int)vm.r[BPF_REG_0];
}
