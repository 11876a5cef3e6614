// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `run`'s loader programs, the core's and each group's, run by the
 * machine of user/kernel/loader_vm.h and by the kernel (libbpf's
 * bpf_load_and_run(), the light skeleton's own way): the maps they make
 * and the programs they load must be the same. A program's tag is the
 * hash of its instructions as they went in (map fds left out): equal tags
 * and lengths of the code the kernel kept mean the same program loaded.
 * A pruned load (prog_prune.h) differs in what went in, so its programs
 * are compared by the code the kernel kept, instruction for instruction.
 * Needs root.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/skel_internal.h>

#include "test_util.h"
#include "awf.h" /* before the skeletons: they use struct awf_config */
#include "kernel/group_load.h"
#include "awf_core.lskel.h"
#include "awf_group_core.h"
#include "awf_group_a.h"
#include "awf_group_b.h"
#include "awf_group_c.h"
#include "awf_group_d.h"
#include "awf_group_e.h"
#include "awf_group_f.h"
#include "awf_group_g.h"
#include "awf_group_names.h"
#include "awf.skel.h" /* the whole object the groups are taken from */

static struct bpf_map_desc *core_maps(struct awf_core_lskel *skel)
{
	return (struct bpf_map_desc *)(&skel->ctx + 1);
}

static struct bpf_prog_desc *core_progs(struct awf_core_lskel *skel)
{
	return (struct bpf_prog_desc *)(core_maps(skel) +
					ARRAY_SIZE(awf_group_core_maps));
}

static void assert_same_map(int a, int b, const char *name)
{
	struct bpf_map_info ia = { 0 }, ib = { 0 };
	__u32 la = sizeof(ia), lb = sizeof(ib);

	assert_true(a > 0 && b > 0);
	assert_int_equal(bpf_obj_get_info_by_fd(a, &ia, &la), 0);
	assert_int_equal(bpf_obj_get_info_by_fd(b, &ib, &lb), 0);
	if (ia.type != ib.type || ia.key_size != ib.key_size ||
	    ia.value_size != ib.value_size ||
	    ia.max_entries != ib.max_entries || ia.map_flags != ib.map_flags ||
	    strcmp(ia.name, ib.name) || !ia.btf_id != !ib.btf_id ||
	    ia.btf_value_type_id != ib.btf_value_type_id) {
		print_error("map %s differs: %s/%s\n", name, ia.name, ib.name);
		fail();
	}
}

static void assert_same_prog(int a, int b, const char *name)
{
	struct bpf_prog_info ia = { 0 }, ib = { 0 };
	__u32 la = sizeof(ia), lb = sizeof(ib);

	assert_true(a > 0 && b > 0);
	assert_int_equal(bpf_obj_get_info_by_fd(a, &ia, &la), 0);
	assert_int_equal(bpf_obj_get_info_by_fd(b, &ib, &lb), 0);
	if (ia.type != ib.type || memcmp(ia.tag, ib.tag, sizeof(ia.tag)) ||
	    ia.xlated_prog_len != ib.xlated_prog_len ||
	    ia.nr_map_ids != ib.nr_map_ids || strcmp(ia.name, ib.name)) {
		print_error("program %s differs: %s/%s\n", name, ia.name,
			    ib.name);
		fail();
	}
}

/*
 * A program's instructions as the kernel verified and rewrote them, the
 * maps' references (64-bit loads of a map, which name its id) left out.
 */
static struct bpf_insn *xlated(int fd, __u32 *n)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	struct bpf_insn *insns;

	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	insns = calloc(1, info.xlated_prog_len);
	assert_non_null(insns);
	*n = info.xlated_prog_len / sizeof(*insns);
	memset(&info, 0, sizeof(info));
	info.xlated_prog_len = *n * sizeof(*insns);
	info.xlated_prog_insns = (__u64)(uintptr_t)insns;
	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	for (__u32 i = 0; i + 1 < *n; i++) {
		if (insns[i].code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		if (insns[i].src_reg)
			insns[i].imm = insns[i + 1].imm = 0;
		i++;
	}
	return insns;
}

/*
 * The same program as the kernel keeps it: a pruned load's tag differs
 * (the hash of the instructions loaded), its rewritten code must not.
 */
static void assert_same_code(int a, int b, const char *name)
{
	__u32 na, nb;
	struct bpf_insn *ia = xlated(a, &na), *ib = xlated(b, &nb);

	if (na != nb || memcmp(ia, ib, na * sizeof(*ia))) {
		print_error("program %s: %u and %u instructions differ\n", name,
			    na, nb);
		fail();
	}
	free(ia);
	free(ib);
}

typedef struct awf_core_lskel__rodata core_rodata;

/*
 * The core loaded by the kernel's loader program (*k) and the machine's,
 * both with .rodata (NULL: the skeleton's own, all zeros).
 */
static void load_cores_with(struct awf_core_lskel **k,
			    struct awf_core_lskel **v,
			    const core_rodata *rodata)
{
	void *blob = malloc(awf_group_core.data_sz);

	*k = awf_core_lskel__open();
	*v = awf_core_lskel__open();
	assert_non_null(blob);
	assert_non_null(*k);
	assert_non_null(*v);
	if (rodata) {
		memcpy((*k)->rodata, rodata, sizeof(*rodata));
		memcpy((*v)->rodata, rodata, sizeof(*rodata));
	}
	assert_int_equal(awf_core_lskel__load(*k), 0);
	assert_int_equal(
		group_loader_run(&awf_group_core, blob, &(*v)->ctx, NULL), 0);
	free(blob);
}

static void load_cores(struct awf_core_lskel **k, struct awf_core_lskel **v)
{
	load_cores_with(k, v, NULL);
}

static void test_core(void **state)
{
	struct awf_core_lskel *k, *v;
	int key = 0;

	(void)state;
	load_cores(&k, &v);
	for (size_t i = 0; i < ARRAY_SIZE(awf_group_core_maps); i++)
		assert_same_map(core_maps(k)[i].map_fd, core_maps(v)[i].map_fd,
				awf_group_core_maps[i]);
	for (size_t i = 0; i < ARRAY_SIZE(awf_group_core_progs); i++)
		assert_same_prog(core_progs(k)[i].prog_fd,
				 core_progs(v)[i].prog_fd,
				 awf_group_core_progs[i]);
	/* .rodata got its initial value and was frozen. */
	assert_int_equal(
		bpf_map_update_elem(v->maps.rodata.map_fd, &key, v->rodata, 0),
		-1);
	assert_int_equal(errno, EPERM);
	awf_core_lskel__destroy(k);
	awf_core_lskel__destroy(v);
}

static int map_fd_of(const char *name, const void *arg)
{
	struct awf_core_lskel *skel = (struct awf_core_lskel *)arg;

	for (size_t i = 0; i < ARRAY_SIZE(awf_group_core_maps); i++)
		if (!strcmp(awf_group_core_maps[i], name))
			return core_maps(skel)[i].map_fd;
	return -1;
}

static struct bpf_prog_desc *group_progs(const struct group_load *g)
{
	return (struct bpf_prog_desc *)((char *)g->ctx +
					sizeof(struct bpf_loader_ctx) +
					g->gl->n_maps *
						sizeof(struct bpf_map_desc));
}

/*
 * A group by the kernel's loader program, into the maps of core: 0, or
 * the loader's error.
 */
static int kernel_group_ret(struct group_load *g, const struct group_loader *gl,
			    struct awf_core_lskel *core)
{
	struct bpf_load_and_run_opts opts = { 0 };
	__u32 *fds;
	int ret;

	assert_int_equal(group_load_open(g, gl, NULL, 0), 0);
	fds = (__u32 *)(group_progs(g) + gl->n_progs);
	for (size_t i = 0; i < gl->n_maps; i++)
		fds[i] = dup(map_fd_of(gl->maps[i], core));
	opts.ctx = g->ctx;
	opts.data = gl->data;
	opts.data_sz = gl->data_sz;
	opts.insns = gl->insns;
	opts.insns_sz = gl->insns_sz;
	ret = bpf_load_and_run(&opts);
	for (size_t i = 0; i < gl->n_maps; i++)
		close((int)fds[i]);
	g->ran = true; /* for group_load_close() */
	g->ret = ret;
	return ret;
}

static void kernel_group(struct group_load *g, const struct group_loader *gl,
			 struct awf_core_lskel *core)
{
	assert_int_equal(kernel_group_ret(g, gl, core), 0);
}

static void test_group(void **state)
{
	const struct group_loader *gl = *state;
	struct awf_core_lskel *k, *v;
	struct group_load gk, gv;

	load_cores(&k, &v);
	kernel_group(&gk, gl, k);
	assert_int_equal(group_load_open(&gv, gl, NULL, 0), 0);
	assert_int_equal(group_load_run(&gv, map_fd_of, v, NULL, NULL), 0);
	for (size_t i = 0; i < gl->n_progs; i++)
		assert_same_prog(group_progs(&gk)[i].prog_fd,
				 group_load_prog_fd(&gv, i), gl->progs[i]);
	group_load_close(&gk);
	group_load_close(&gv);
	awf_core_lskel__destroy(k);
	awf_core_lskel__destroy(v);
}

static __u32 btf_id_of(int prog_fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	assert_int_equal(bpf_obj_get_info_by_fd(prog_fd, &info, &len), 0);
	assert_true(info.btf_id > 0);
	return info.btf_id;
}

static const struct group_loader *const every_group[] = {
	&awf_group_a, &awf_group_b, &awf_group_c, &awf_group_d,
	&awf_group_e, &awf_group_f, &awf_group_g, &awf_group_names,
};

/*
 * Every group embeds the same BTF (the Makefile builds them of one
 * object): loaded once, their programs all have it. A loader program
 * of another BTF (the core's) gets its own, though the shared one is
 * there: the VM compares the bytes.
 */
static void test_groups_share_one_btf(void **state)
{
	struct group_load g[ARRAY_SIZE(every_group)];
	struct loader_vm_btf btf;
	struct loader_vm_opts opts = { .btf = &btf };
	struct awf_core_lskel *k, *v, *other;
	void *blob = malloc(awf_group_core.data_sz);
	__u32 shared = 0;

	(void)state;
	assert_non_null(blob);
	loader_vm_btf_init(&btf);
	load_cores(&k, &v);
	for (size_t i = 0; i < ARRAY_SIZE(every_group); i++) {
		const struct group_loader *gl = every_group[i];

		assert_int_equal(group_load_open(&g[i], gl, NULL, 0), 0);
		assert_int_equal(
			group_load_run(&g[i], map_fd_of, v, NULL, &btf), 0);
		for (size_t j = 0; j < gl->n_progs; j++) {
			__u32 id = btf_id_of(group_load_prog_fd(&g[i], j));

			if (!shared)
				shared = id;
			assert_int_equal(id, shared);
		}
	}
	other = awf_core_lskel__open();
	assert_non_null(other);
	assert_int_equal(
		group_loader_run(&awf_group_core, blob, &other->ctx, &opts), 0);
	assert_int_not_equal(btf_id_of(core_progs(other)[0].prog_fd), shared);
	for (size_t i = 0; i < ARRAY_SIZE(every_group); i++)
		group_load_close(&g[i]);
	loader_vm_btf_close(&btf);
	awf_core_lskel__destroy(other);
	awf_core_lskel__destroy(k);
	awf_core_lskel__destroy(v);
	free(blob);
}

/* How many of the core and the groups load the program called name. */
static int groups_loading(const char *name)
{
	int n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(awf_group_core_progs); i++)
		n += !strcmp(awf_group_core_progs[i], name);
	for (size_t i = 0; i < ARRAY_SIZE(every_group); i++)
		for (size_t j = 0; j < every_group[i]->n_progs; j++)
			n += !strcmp(every_group[i]->progs[j], name);
	return n;
}

/*
 * The Makefile lists each group's programs by name (GROUP_PROGS_*): every
 * program of the object is loaded by one of them, once. A program added
 * to bpf/ and to no list would never load, and its hook never attach.
 */
static void test_every_program_in_one_group(void **state)
{
	struct awf_bpf *skel = awf_bpf__open();
	struct bpf_program *prog;
	size_t n = 0;

	(void)state;
	assert_non_null(skel);
	bpf_object__for_each_program(prog, skel->obj) {
		const char *name = bpf_program__name(prog);

		if (groups_loading(name) != 1) {
			print_error("program %s: in %d groups\n", name,
				    groups_loading(name));
			fail();
		}
		n++;
	}
	assert_true(n > ARRAY_SIZE(every_group));
	awf_bpf__destroy(skel);
}

static __u32 nr_line_info(int prog_fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	assert_int_equal(bpf_obj_get_info_by_fd(prog_fd, &info, &len), 0);
	return info.nr_line_info;
}

/*
 * Line info serves the verifier log only (loader_vm.c): the programs of
 * a load without a log have none, those of a load with one have theirs.
 */
static void test_line_info_only_with_log(void **state)
{
	static char log[1U << 20];
	struct awf_core_lskel *k, *v;
	struct group_load plain, logged;

	(void)state;
	load_cores(&k, &v);
	assert_int_equal(group_load_open(&plain, &awf_group_a, NULL, 0), 0);
	assert_int_equal(group_load_run(&plain, map_fd_of, v, NULL, NULL), 0);
	assert_int_equal(
		group_load_open(&logged, &awf_group_a, log, sizeof(log)), 0);
	assert_int_equal(group_load_run(&logged, map_fd_of, v, NULL, NULL), 0);
	for (size_t i = 0; i < awf_group_a.n_progs; i++) {
		assert_int_equal(nr_line_info(group_load_prog_fd(&plain, i)),
				 0);
		assert_true(nr_line_info(group_load_prog_fd(&logged, i)) > 0);
	}
	group_load_close(&plain);
	group_load_close(&logged);
	awf_core_lskel__destroy(k);
	awf_core_lskel__destroy(v);
}

/* .rodata contents the pruning is checked under: shapes of real policies. */
static void rodata_shape(core_rodata *r, unsigned int shape)
{
	memset(r, 0, sizeof(*r));
	r->awf_cfg.dns_ip4 = htonl(0x7f000001);
	r->awf_cfg.dns_port = 53;
	r->awf_cfg.ipv6_enabled = 1;
	switch (shape) {
	case 0: /* DNS servers only */
		break;
	case 1: /* a domain: addresses are learned, names checked */
		r->learns = 1;
		break;
	case 2: /* CIDRs and a proxy, connections audited, exact tables */
		r->learns = 1;
		r->allows_cidrs = 1;
		r->awf_cfg.proxy_enabled = 1;
		r->awf_cfg.proxy_family = AF_INET;
		r->awf_cfg.proxy_port = 3128;
		r->awf_cfg.proxy_addr[0] = htonl(0x7f000001);
		r->awf_cfg.audit_allowed = 1;
		r->exact4_mask = 0xffff;
		r->exact6_mask = 0xff;
		break;
	case 3: /* audit-only, localhost served, IPv6 off */
		r->awf_cfg.audit_only = 1;
		r->awf_cfg.localhost_mode = 2;
		r->awf_cfg.ipv6_enabled = 0;
		r->awf_cfg.lo_ports.count = 1;
		r->awf_cfg.lo_ports.ranges[0].lo = 8000;
		r->awf_cfg.lo_ports.ranges[0].hi = 8080;
		break;
	case 4: /* an unfiltered subtree */
		r->awf_cfg.unrestricted = 1;
		break;
	case 5: /* every bit set */
		memset(r, 0xff, sizeof(*r));
		break;
	default: { /* bytes of a fixed pseudo-random sequence */
		uint32_t x = 2654435761U * shape;

		for (size_t i = 0; i < sizeof(*r); i++) {
			x = x * 1664525U + 1013904223U;
			((uint8_t *)r)[i] = x >> 24;
		}
	}
	}
}

#define N_SHAPES 12

/*
 * The machine prunes each program under the core's .rodata before it
 * loads (prog_prune.h); the kernel's loader program loads it whole and
 * takes the same dead code out itself. Under each shape of .rodata, the
 * programs the kernel keeps are the same, instruction for instruction.
 * A shape the kernel refuses, the machine's load refuses too.
 */
static void test_group_pruned(void **state)
{
	const struct group_loader *gl = *state;
	uint32_t removed_any = 0;

	for (unsigned int shape = 0; shape < N_SHAPES; shape++) {
		static struct prune_scratch scratch;
		struct group_prune prune = { .scratch = &scratch };
		struct awf_core_lskel *k, *v;
		struct group_load gk, gv;
		core_rodata rodata;
		int kret, vret;

		rodata_shape(&rodata, shape);
		load_cores_with(&k, &v, &rodata);
		prune.rodata = v->rodata;
		prune.rodata_sz = sizeof(*v->rodata);
		kret = kernel_group_ret(&gk, gl, k);
		assert_int_equal(group_load_open(&gv, gl, NULL, 0), 0);
		vret = group_load_run(&gv, map_fd_of, v, &prune, NULL);
		if (!kret != !vret) {
			print_error(
				"group %s, shape %u: kernel %d, pruned %d\n",
				gl->name, shape, kret, vret);
			fail();
		}
		for (size_t i = 0; !kret && i < gl->n_progs; i++)
			assert_same_code(group_progs(&gk)[i].prog_fd,
					 group_load_prog_fd(&gv, i),
					 gl->progs[i]);
		removed_any += prune.removed;
		group_load_close(&gk);
		group_load_close(&gv);
		awf_core_lskel__destroy(k);
		awf_core_lskel__destroy(v);
	}
	/* Else a pass that never prunes would pass. */
	assert_true(removed_any > 0);
}

int main(void)
{
	static char plain[ARRAY_SIZE(every_group)][32],
		pruned[ARRAY_SIZE(every_group)][64];
	struct test_list l = { 0 };

	if (geteuid() != 0) {
		fprintf(stderr, "test_loader_vm_kernel: needs root\n");
		return 1;
	}
	tl_add(&l, "core", test_core, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(every_group); i++) {
		snprintf(plain[i], sizeof(plain[i]), "group %s",
			 every_group[i]->name);
		tl_add(&l, plain[i], test_group, every_group[i]);
	}
	tl_add(&l, "every program of the object is in one group",
	       test_every_program_in_one_group, NULL);
	tl_add(&l, "the groups share one BTF, another loads its own",
	       test_groups_share_one_btf, NULL);
	tl_add(&l, "line info only with a log", test_line_info_only_with_log,
	       NULL);
	for (size_t i = 0; i < ARRAY_SIZE(every_group); i++) {
		snprintf(pruned[i], sizeof(pruned[i]),
			 "group %s pruned as the kernel prunes",
			 every_group[i]->name);
		tl_add(&l, pruned[i], test_group_pruned, every_group[i]);
	}
	return tl_run("loader_vm_kernel", &l);
}
