// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * gen_group_loader.c - a loader program for a group of `run`'s BPF
 * programs that takes its maps from the core's loader instead of
 * creating them (user/kernel/group_load.h), at build time:
 *
 *   gen_group_loader CORE.bpf.o OBJ.bpf.o NAME [PROGRAM...] \
 *	> build/awf_group_NAME.h
 *
 * The group: the PROGRAMs of OBJ.bpf.o (all of them if none is named).
 * Every group is of the one object that has all the programs, so that
 * each embeds the same BTF (the object's), which the loader loads once
 * for all of them (user/kernel/loader_vm.h). With OBJ.bpf.o the core's
 * own, the core's loader program as libbpf writes it (loader_vm.h runs
 * it; the light skeleton that bpftool writes for the core gives its
 * context's layout).
 *
 * libbpf writes the group's light-skeleton loader program (as `bpftool
 * gen skeleton -L` does); in it, each map's BPF_MAP_CREATE becomes a read
 * of the map's fd from the loader context (a table group_load.c appends
 * to it), and the write of .rodata's initial value and its freeze are
 * skipped: the core's loader did both, on the map the group's programs
 * then use. The instructions that only filled those calls' attributes
 * are dropped, every jump's offset counted again: a third fewer
 * instructions for the kernel to verify in each group's loader program.
 * The group must declare the core's maps in the core's order (the same
 * headers): checked here, and every rewritten or dropped instruction is
 * checked against the pattern libbpf emits, so that a libbpf that writes
 * its loader otherwise fails the build, not a run.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <bpf/skel_internal.h>

#define MAX_MAPS 64

struct map_def {
	const char *name;     /* "rodata" for the object's .rodata */
	const char *obj_name; /* libbpf's: "<object>.rodata" */
	enum bpf_map_type type;
	__u32 key_size, value_size, max_entries, flags;
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "gen_group_loader: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static int read_maps(struct bpf_object *obj, struct map_def *defs, int *n)
{
	struct bpf_map *m;

	*n = 0;
	bpf_object__for_each_map(m, obj) {
		struct map_def *d = &defs[*n];
		const char *obj_name = bpf_map__name(m), *name = obj_name;

		if (*n == MAX_MAPS)
			return fail("%s: more than 64 maps", name);
		if (bpf_map__is_internal(m)) {
			/* A .data or .bss would need its initial value shared. */
			if (!strstr(name, ".rodata"))
				return fail("map %s: only .rodata is shared",
					    name);
			name = "rodata";
		}
		*d = (struct map_def){ name,
				       obj_name,
				       bpf_map__type(m),
				       bpf_map__key_size(m),
				       bpf_map__value_size(m),
				       bpf_map__max_entries(m),
				       bpf_map__map_flags(m) };
		(*n)++;
	}
	return 0;
}

static int same_maps(const struct map_def *core, int n_core,
		     const struct map_def *grp, int n_grp)
{
	if (n_core != n_grp)
		return fail(
			"the group and the core have another number of maps");
	for (int i = 0; i < n_core; i++)
		if (strcmp(core[i].name, grp[i].name) ||
		    core[i].type != grp[i].type ||
		    core[i].key_size != grp[i].key_size ||
		    (core[i].value_size != grp[i].value_size &&
		     strcmp(core[i].name, "rodata")) ||
		    core[i].max_entries != grp[i].max_entries ||
		    core[i].flags != grp[i].flags)
			return fail("map %s of the group is not the core's %s",
				    grp[i].name, core[i].name);
	return 0;
}

static const struct btf_type *rodata_sec(const struct btf *btf)
{
	__s32 id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);

	return id < 0 ? NULL : btf__type_by_id(btf, id);
}

/* Every variable of a's .rodata is in b's, at the same offset. */
static int vars_in(const struct btf *a, const struct btf *b)
{
	const struct btf_type *sa = rodata_sec(a), *sb = rodata_sec(b);
	const struct btf_var_secinfo *va, *vb;
	int i, j;

	if (!sa || !sb)
		return fail("no .rodata in the BTF of %s",
			    sa ? "the group" : "the core");
	va = btf_var_secinfos(sa);
	for (i = 0; i < btf_vlen(sa); i++) {
		const char *name = btf__name_by_offset(
			a, btf__type_by_id(a, va[i].type)->name_off);

		vb = btf_var_secinfos(sb);
		for (j = 0; j < btf_vlen(sb); j++, vb++)
			if (!strcmp(name,
				    btf__name_by_offset(
					    b, btf__type_by_id(b, vb->type)
						       ->name_off)))
				break;
		if (j == btf_vlen(sb) || vb->offset != va[i].offset ||
		    vb->size != va[i].size)
			return fail(
				".rodata variable %s is not at the core's place in the group",
				name);
	}
	return 0;
}

static const struct bpf_map *rodata_map(struct bpf_object *obj)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj)
		if (bpf_map__is_internal(m) &&
		    strstr(bpf_map__name(m), ".rodata"))
			return m;
	return NULL;
}

/*
 * The group's programs read the core's .rodata: its variables where the
 * group has them, and the bytes the compiler put there (constants) the
 * same. Bytes past the core's end it cannot read: the verifier refuses
 * any access beyond the core's map.
 */
static int same_rodata(struct bpf_object *core, struct bpf_object *grp)
{
	const struct bpf_map *mc = rodata_map(core), *mg = rodata_map(grp);
	const void *ic, *ig;
	size_t nc, ng;

	if (!mc || !mg)
		return fail("a .rodata is missing from %s",
			    mc ? "the group" : "the core");
	ic = bpf_map__initial_value((struct bpf_map *)mc, &nc);
	ig = bpf_map__initial_value((struct bpf_map *)mg, &ng);
	if (!ic || !ig || memcmp(ic, ig, nc < ng ? nc : ng))
		return fail(
			"the initial .rodata of the group differs from the core's");
	return vars_in(bpf_object__btf(core), bpf_object__btf(grp)) ||
	       vars_in(bpf_object__btf(grp), bpf_object__btf(core));
}

/*
 * name: the object's, as the Makefile names the light skeletons
 * (`bpftool gen skeleton -L ... name awf_core_lskel`): the loader names
 * the maps it creates after it (.rodata: "awf_core.rodata").
 */
static struct bpf_object *open_obj(const char *path, const char *group)
{
	char name[64];
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name);
	struct bpf_object *obj;

	snprintf(name, sizeof(name), "awf_%s_lskel", group);
	obj = bpf_object__open_file(path, &opts);

	if (!obj)
		fail("%s: %s", path, strerror(errno));
	return obj;
}

static bool is_mov_imm(const struct bpf_insn *in, int reg)
{
	return in->code == (BPF_ALU64 | BPF_MOV | BPF_K) && in->dst_reg == reg;
}

/* MOV R1, cmd; LD_IMM64 R2, attr; MOV R3, size; CALL sys_bpf; MOV R7, R0 */
static bool is_sys_bpf(const struct bpf_insn *in, size_t k, size_t n)
{
	return k >= 4 && k + 1 < n && is_mov_imm(&in[k - 4], BPF_REG_1) &&
	       in[k - 3].code == (BPF_LD | BPF_DW | BPF_IMM) &&
	       in[k - 3].dst_reg == BPF_REG_2 &&
	       is_mov_imm(&in[k - 1], BPF_REG_3) &&
	       in[k + 1].code == (BPF_ALU64 | BPF_MOV | BPF_X) &&
	       in[k + 1].dst_reg == BPF_REG_7 && in[k + 1].src_reg == BPF_REG_0;
}

/* The map name in the BPF_MAP_CREATE attributes the call at k passes. */
static const char *created_name(const struct bpf_insn *in, size_t k,
				const struct gen_loader_opts *g)
{
	size_t off = (size_t)in[k - 2].imm + offsetof(union bpf_attr, map_name);

	if (off + BPF_OBJ_NAME_LEN > g->data_sz)
		return "";
	return (const char *)g->data + off;
}

/*
 * Where the map fds are in the loader context: a table after the map and
 * program descs (group_load.c), not in the map descs, whose map_fd newer
 * libbpf lays over initial_value (an input of .rodata's write).
 */
static size_t fd_table_off(int n_maps, int n_progs)
{
	return sizeof(struct bpf_loader_ctx) +
	       n_maps * sizeof(struct bpf_map_desc) +
	       n_progs * sizeof(struct bpf_prog_desc);
}

static bool is_ld_map_value(const struct bpf_insn *in, int reg)
{
	return in->code == (BPF_LD | BPF_DW | BPF_IMM) && in->dst_reg == reg &&
	       in->src_reg == BPF_PSEUDO_MAP_IDX_VALUE;
}

/* LD_IMM64 r1, &attr.field; STX [r1] = r0: a store into [lo, hi). */
static bool is_attr_store(const struct bpf_insn *in, __s64 lo, __s64 hi)
{
	return is_ld_map_value(in, BPF_REG_1) && in[1].imm >= lo &&
	       in[1].imm < hi && in[2].code == (BPF_STX | BPF_MEM | BPF_W) &&
	       in[2].dst_reg == BPF_REG_1 && in[2].src_reg == BPF_REG_0 &&
	       !in[2].off;
}

static bool is_ldx_r0(const struct bpf_insn *in)
{
	return BPF_CLASS(in->code) == BPF_LDX &&
	       BPF_MODE(in->code) == BPF_MEM && in->dst_reg == BPF_REG_0;
}

/*
 * The code that only fills a removed call's attributes goes with it: its
 * arguments (MOV R1; LD_IMM64 R2; MOV R3) and, before a map's, what
 * libbpf moves into its BPF_MAP_CREATE attributes (r0 = a value, maybe
 * "if r0 == 0 skip"; then a store into the attributes, [attr, attr +
 * size) of the data): nothing reads them once the call is gone, and the
 * verifier of the loader program is spared ~13 instructions a map.
 */
static void drop_call_args(const struct bpf_insn *in, size_t k, bool create,
			   bool *drop)
{
	__s64 lo = in[k - 2].imm, hi = lo + in[k - 1].imm;
	size_t j = k - 4;

	for (size_t i = j; i < k; i++)
		drop[i] = true;
	while (create) {
		if (j >= 4 && is_ldx_r0(&in[j - 4]) &&
		    is_attr_store(&in[j - 3], lo, hi)) {
			j -= 4;
			for (size_t i = j; i < j + 4; i++)
				drop[i] = true;
		} else if (j >= 5 && is_ldx_r0(&in[j - 5]) &&
			   in[j - 4].code == (BPF_JMP | BPF_JEQ | BPF_K) &&
			   in[j - 4].dst_reg == BPF_REG_0 && !in[j - 4].imm &&
			   in[j - 4].off == 3 &&
			   is_attr_store(&in[j - 3], lo, hi)) {
			j -= 5;
			for (size_t i = j; i < j + 5; i++)
				drop[i] = true;
		} else {
			break;
		}
	}
}

static bool is_jump(const struct bpf_insn *in)
{
	__u8 op = BPF_OP(in->code);

	return (BPF_CLASS(in->code) == BPF_JMP ||
		BPF_CLASS(in->code) == BPF_JMP32) &&
	       op != BPF_CALL && op != BPF_EXIT;
}

/*
 * The instructions not dropped, in their order, every jump's offset
 * counted again. A jump into dropped code fails the build: only code
 * that jumps over itself is dropped. *n: the new count.
 */
static int compact(struct bpf_insn *in, size_t *n, const bool *drop)
{
	size_t *at = calloc(*n + 1, sizeof(*at)), m = 0;

	if (!at)
		return fail("out of memory");
	for (size_t i = 0; i < *n; i++) {
		at[i] = m;
		m += !drop[i];
	}
	at[*n] = m;
	for (size_t i = 0; i < *n; i++) {
		long t = (long)i + 1 + in[i].off;

		/* a bpf-to-bpf call's target is relative too (imm): none expected */
		if (!drop[i] && in[i].code == (BPF_JMP | BPF_CALL) &&
		    in[i].src_reg == BPF_PSEUDO_CALL) {
			free(at);
			return fail("a bpf-to-bpf call in the loader program");
		}
		if (drop[i] || !is_jump(&in[i]))
			continue;
		if ((BPF_CLASS(in[i].code) == BPF_JMP32 &&
		     BPF_OP(in[i].code) == BPF_JA) ||
		    t < 0 || t > (long)*n || (t < (long)*n && drop[t])) {
			free(at);
			return fail("a jump into the code to drop");
		}
		in[i].off = (__s16)((long)at[t] - (long)at[i] - 1);
	}
	for (size_t i = 0; i < *n; i++)
		if (!drop[i])
			in[at[i]] = in[i];
	*n = m;
	free(at);
	return 0;
}

static int rewrite(struct bpf_insn *in, size_t *n_insns,
		   const struct gen_loader_opts *g, const struct map_def *maps,
		   int n_maps, int n_progs)
{
	size_t n = *n_insns;
	bool *drop = calloc(n, sizeof(*drop));
	int created = 0, ret;

	if (!drop)
		return fail("out of memory");
	for (size_t k = 0; k < n; k++) {
		size_t ctx_off;

		if (in[k].code != (BPF_JMP | BPF_CALL) ||
		    in[k].imm != BPF_FUNC_sys_bpf)
			continue;
		if (!is_sys_bpf(in, k, n)) {
			free(drop);
			return fail("a sys_bpf call of another shape");
		}
		switch (in[k - 4].imm) {
		case BPF_MAP_CREATE:
			if (created == n_maps || strncmp(created_name(in, k, g),
							 maps[created].obj_name,
							 BPF_OBJ_NAME_LEN - 1))
				return fail("map %s created out of order",
					    created < n_maps ?
						    maps[created].name :
						    "(extra)");
			ctx_off = fd_table_off(n_maps, n_progs) +
				  created * sizeof(__u32);
			drop_call_args(in, k, true, drop);
			in[k] = (struct bpf_insn){
				.code = BPF_LDX | BPF_MEM | BPF_W,
				.dst_reg = BPF_REG_0,
				.src_reg = BPF_REG_6, /* the context */
				.off = (__s16)ctx_off,
			};
			created++;
			break;
		case BPF_MAP_UPDATE_ELEM: /* .rodata's initial value */
		case BPF_MAP_FREEZE:
			drop_call_args(in, k, false, drop);
			in[k] = (struct bpf_insn){
				.code = BPF_ALU64 | BPF_MOV | BPF_K,
				.dst_reg = BPF_REG_0,
			};
			break;
		case BPF_BTF_LOAD:
		case BPF_PROG_LOAD:
			break;
		default:
			free(drop);
			return fail(
				"a sys_bpf command the rewrite does not know");
		}
	}
	ret = compact(in, n_insns, drop);
	free(drop);
	if (ret)
		return ret;
	if (created != n_maps)
		return fail("not every map is created once");
	if (fd_table_off(n_maps, n_progs) + n_maps * sizeof(__u32) > INT16_MAX)
		return fail("too many maps and programs for the context");
	return 0;
}

static void print_bytes(const char *name, const void *p, size_t n)
{
	const unsigned char *b = p;

	printf("static const unsigned char %s[%zu] = {", name, n);
	for (size_t i = 0; i < n; i++)
		printf("%s0x%02x,", i % 12 ? " " : "\n\t", b[i]);
	printf("\n};\n\n");
}

static int print_header(const char *group, const struct bpf_insn *in,
			size_t insns_sz, const struct gen_loader_opts *g,
			struct bpf_object *obj, const struct map_def *maps,
			int n_maps)
{
	struct bpf_program *p;
	char name[128];
	int n_progs = 0;

	printf("/* Generated by tools/gen_group_loader.c: do not edit. */\n"
	       "#include \"kernel/group_load.h\"\n\n");
	snprintf(name, sizeof(name), "awf_group_%s_insns", group);
	print_bytes(name, in, insns_sz);
	snprintf(name, sizeof(name), "awf_group_%s_data", group);
	print_bytes(name, g->data, g->data_sz);
	printf("static const char *const awf_group_%s_maps[] = {\n", group);
	for (int i = 0; i < n_maps; i++)
		printf("\t\"%s\",\n", maps[i].name);
	printf("};\n\nstatic const char *const awf_group_%s_progs[] = {\n",
	       group);
	bpf_object__for_each_program(p, obj) {
		if (!bpf_program__autoload(p))
			continue;
		printf("\t\"%s\",\n", bpf_program__name(p));
		n_progs++;
	}
	printf("};\n\nstatic const struct group_loader awf_group_%s = {\n"
	       "\t.name = \"%s\",\n"
	       "\t.insns = awf_group_%s_insns,\n"
	       "\t.insns_sz = sizeof(awf_group_%s_insns),\n"
	       "\t.data = awf_group_%s_data,\n"
	       "\t.data_sz = sizeof(awf_group_%s_data),\n"
	       "\t.maps = awf_group_%s_maps,\n"
	       "\t.n_maps = %d,\n"
	       "\t.progs = awf_group_%s_progs,\n"
	       "\t.n_progs = %d,\n"
	       "};\n",
	       group, group, group, group, group, group, group, n_maps, group,
	       n_progs);
	return fflush(stdout) || ferror(stdout) ?
		       fail("writing the header: %s", strerror(errno)) :
		       0;
}

static int count_progs(struct bpf_object *obj)
{
	struct bpf_program *p;
	int n = 0;

	bpf_object__for_each_program(p, obj)
		n += bpf_program__autoload(p);
	return n;
}

/* Only the programs named (names[0..n)) load; each must be in obj. */
static int select_progs(struct bpf_object *obj, char **names, int n)
{
	struct bpf_program *p;

	for (int i = 0; i < n; i++)
		if (!bpf_object__find_program_by_name(obj, names[i]))
			return fail("no program %s in the object", names[i]);
	bpf_object__for_each_program(p, obj) {
		bool named = false;

		for (int i = 0; i < n && !named; i++)
			named = !strcmp(bpf_program__name(p), names[i]);
		if (bpf_program__set_autoload(p, named))
			return fail("%s: cannot set autoload",
				    bpf_program__name(p));
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct map_def core_maps[MAX_MAPS], maps[MAX_MAPS];
	struct gen_loader_opts g = { .sz = sizeof(g) };
	struct bpf_object *core, *obj;
	int n_core, n_maps;
	struct bpf_insn *in;
	size_t n;

	if (argc < 4) {
		fprintf(stderr, "usage: gen_group_loader CORE.bpf.o OBJ.bpf.o "
				"NAME [PROGRAM...]\n");
		return 2;
	}
	core = open_obj(argv[1], "core");
	obj = open_obj(argv[2], argv[3]);
	if (!core || !obj || read_maps(core, core_maps, &n_core) ||
	    read_maps(obj, maps, &n_maps) ||
	    same_maps(core_maps, n_core, maps, n_maps) ||
	    same_rodata(core, obj) ||
	    (argc > 4 && select_progs(obj, argv + 4, argc - 4)))
		return 1;
	if (bpf_object__gen_loader(obj, &g) || bpf_object__load(obj)) {
		fail("%s: libbpf wrote no loader program (%s)", argv[2],
		     strerror(errno));
		return 1;
	}
	in = malloc(g.insns_sz);
	if (!in) {
		fail("out of memory");
		return 1;
	}
	memcpy(in, g.insns, g.insns_sz);
	n = g.insns_sz / sizeof(*in);
	/* The core's own loader (CORE given twice) creates the maps. */
	if ((strcmp(argv[1], argv[2]) &&
	     rewrite(in, &n, &g, maps, n_maps, count_progs(obj))) ||
	    print_header(argv[3], in, n * sizeof(*in), &g, obj, maps, n_maps))
		return 1;
	return 0;
}
