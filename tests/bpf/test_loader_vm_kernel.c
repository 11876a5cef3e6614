// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `run`'s loader programs, the core's and each group's, run by the
 * machine of user/kernel/loader_vm.h and by the kernel (libbpf's
 * bpf_load_and_run(), the light skeleton's own way): the maps they make
 * and the programs they load must be the same. A program's tag is the
 * hash of its instructions as the kernel verified and rewrote them (map
 * fds left out), so equal tags mean the same CO-RE relocations, the same
 * .rodata known to the verifier, the same code. Needs root.
 */
#include <errno.h>
#include <bpf/bpf.h>
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
#include "awf_group_names.h"

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

/* The core loaded by the kernel's loader program (*k) and the machine's. */
static void load_cores(struct awf_core_lskel **k, struct awf_core_lskel **v)
{
	void *blob = malloc(awf_group_core.data_sz);

	*k = awf_core_lskel__open();
	*v = awf_core_lskel__open();
	assert_non_null(blob);
	assert_non_null(*k);
	assert_non_null(*v);
	assert_int_equal(awf_core_lskel__load(*k), 0);
	assert_int_equal(group_loader_run(&awf_group_core, blob, &(*v)->ctx),
			 0);
	free(blob);
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

/* A group by the kernel's loader program, into the maps of core. */
static void kernel_group(struct group_load *g, const struct group_loader *gl,
			 struct awf_core_lskel *core)
{
	struct bpf_load_and_run_opts opts = { 0 };
	__u32 *fds;

	assert_int_equal(group_load_open(g, gl, NULL, 0), 0);
	fds = (__u32 *)(group_progs(g) + gl->n_progs);
	for (size_t i = 0; i < gl->n_maps; i++)
		fds[i] = dup(map_fd_of(gl->maps[i], core));
	opts.ctx = g->ctx;
	opts.data = gl->data;
	opts.data_sz = gl->data_sz;
	opts.insns = gl->insns;
	opts.insns_sz = gl->insns_sz;
	assert_int_equal(bpf_load_and_run(&opts), 0);
	for (size_t i = 0; i < gl->n_maps; i++)
		close((int)fds[i]);
	g->ran = true; /* for group_load_close() */
}

static void test_group(void **state)
{
	const struct group_loader *gl = *state;
	struct awf_core_lskel *k, *v;
	struct group_load gk, gv;

	load_cores(&k, &v);
	kernel_group(&gk, gl, k);
	assert_int_equal(group_load_open(&gv, gl, NULL, 0), 0);
	assert_int_equal(group_load_run(&gv, map_fd_of, v), 0);
	for (size_t i = 0; i < gl->n_progs; i++)
		assert_same_prog(group_progs(&gk)[i].prog_fd,
				 group_load_prog_fd(&gv, i), gl->progs[i]);
	group_load_close(&gk);
	group_load_close(&gv);
	awf_core_lskel__destroy(k);
	awf_core_lskel__destroy(v);
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
	assert_int_equal(group_load_run(&plain, map_fd_of, v), 0);
	assert_int_equal(
		group_load_open(&logged, &awf_group_a, log, sizeof(log)), 0);
	assert_int_equal(group_load_run(&logged, map_fd_of, v), 0);
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

int main(void)
{
	struct test_list l = { 0 };

	if (geteuid() != 0) {
		fprintf(stderr, "test_loader_vm_kernel: needs root\n");
		return 1;
	}
	tl_add(&l, "core", test_core, NULL);
	tl_add(&l, "group a", test_group, &awf_group_a);
	tl_add(&l, "group b", test_group, &awf_group_b);
	tl_add(&l, "group c", test_group, &awf_group_c);
	tl_add(&l, "group d", test_group, &awf_group_d);
	tl_add(&l, "group names", test_group, &awf_group_names);
	tl_add(&l, "line info only with a log", test_line_info_only_with_log,
	       NULL);
	return tl_run("loader_vm_kernel", &l);
}
