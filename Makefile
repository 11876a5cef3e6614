# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# awf-bpf: `make` builds build/awf-bpf; `make unit` builds and runs the unit
# tests (any user); `make test` (root) everything; `make asan`,
# `make check-format`, `make fuzz-build`, `make bench-tools`, `make demo`,
# `make bench`, `make deps`.
#
# CFLAGS, CPPFLAGS, LDFLAGS and LDLIBS are the caller's (`make CFLAGS='-O1
# -g'`): the project's own flags (language, warnings, include paths) are in
# AWF_* and always apply.

BUILD     ?= build
PREFIX    ?= /usr/local
SYSTEMD_UNIT_DIR ?= /etc/systemd/system
ARCH      ?= x86
CLANG     ?= clang
BPFTOOL   ?= bpftool
LLVM_STRIP ?= llvm-strip
CLANG_FORMAT ?= clang-format
# libFuzzer needs clang (Debian: clang, libclang-rt-14-dev).
FUZZ_CC   ?= clang
VMLINUX   := vmlinux/$(ARCH)/vmlinux.h

# Every Debian package the build, the tests and the demo need.
DEB_PACKAGES := make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev \
	zlib1g-dev libjson-c-dev libcap-dev libseccomp-dev libcmocka-dev \
	libidn2-dev libpsl-dev iproute2 dnsmasq-base tinyproxy-bin curl wget \
	dnsutils netcat-openbsd python3 python3-jsonschema iputils-ping jq procps \
	libclang-rt-14-dev util-linux python3-yaml systemd clang-format openssl

# PKGS_LOADED are dlopen()ed when first needed (user/common/optlib.h), not
# linked: the static build alone links them.
PKGS_LINKED := libbpf json-c libcap
PKGS_LOADED := libidn2 libpsl
PKGS      := $(PKGS_LINKED) $(PKGS_LOADED)
VERSION   := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS  := $(shell pkg-config --libs $(PKGS_LINKED) 2>/dev/null)

CFLAGS    ?= -O2 -g
# -fsanitize=... for the whole build (`make asan` sets it).
SAN_FLAGS ?=
AWF_CPPFLAGS = -D_GNU_SOURCE -I$(BUILD) -Iuser -Ibpf $(PKG_CFLAGS) \
	       -DAWF_VERSION='"$(VERSION)"'
AWF_CFLAGS = -std=gnu11 -Wall -Wextra -Werror $(SAN_FLAGS)
AWF_LDLIBS = $(PKG_LIBS) -lelf -lz
# build/awf-bpf links these libraries in from their .a files and glibc
# shared: the start of every run is on a CI command's path, and resolving
# five shared libraries there costs about a millisecond here
# (docs/benchmarks.md); glibc stays shared for NSS (`--user` of an LDAP
# user) and dlopen() (optlib.h). The .deb's binary links them all shared
# ($(BUILD)/shared/awf-bpf: docs/packaging.md says why).
LINKED_IN_LIBS = -Wl,-Bstatic \
	$(shell pkg-config --static --libs $(PKGS_LINKED) 2>/dev/null) \
	-Wl,-Bdynamic
# Each object's header dependencies, in a .d file beside it.
DEPFLAGS   = -MMD -MP
COMPILE    = $(CC) $(AWF_CPPFLAGS) $(CPPFLAGS) $(AWF_CFLAGS) $(CFLAGS) $(DEPFLAGS)
# Full RELRO: every symbol bound at exec, the GOT then read-only. Lazy
# binding wrote the GOT at each first call, after the sandbox's clone as
# often as not: a copy-on-write fault and a TLB shootdown each.
AWF_LDFLAGS = -Wl,-z,relro,-z,now
LINK       = $(CC) $(AWF_CFLAGS) $(CFLAGS) $(AWF_LDFLAGS) $(LDFLAGS)

# vmlinux.h as the BPF programs include it: vmlinux/uapi_ctx.awk says why.
BPF_VMLINUX := $(BUILD)/vmlinux/vmlinux.h
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -I$(dir $(BPF_VMLINUX)) -Ibpf

ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	      -fno-sanitize-recover=all

USER_SRCS := $(wildcard user/*.c user/*/*.c)
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
LIB_OBJS  := $(filter-out $(BUILD)/user/main.o,$(USER_OBJS))
# The same objects as an archive: a binary takes only what it uses.
LIB_AR    := $(BUILD)/libawf.a

# Tests, benchmark tools: objects in $(BUILD)/obj/<dir>/, binaries apart.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
# In-process BPF tests (root): cmocka, the skeletons, libbpf.
BPFT_SRCS := $(wildcard tests/bpf/test_*.c)
BPFT_BINS := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(BPFT_SRCS))
BENCH_BINS := $(addprefix $(BUILD)/bench/,connect_bench load_bench domain_match_bench \
	      hook_floor)
TEST_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(UNIT_SRCS) $(BPFT_SRCS)) \
	     $(patsubst $(BUILD)/bench/%,$(BUILD)/obj/bench/%.o,$(BENCH_BINS))

# libFuzzer harnesses (clang, ASan, UBSan): the user/ sources each needs
# (never the loaders or main.c: skeleton, main).
FUZZ_DIR  := $(BUILD)/fuzz
FUZZ_OBJ  := $(FUZZ_DIR)/obj
FUZZ_dns_wire := dns/dns_forward dns/dns_wire dns/dns_cache dns/dns_udp dns/dns_tcp dns/dns_netns common/netns \
	common/evloop common/log common/error common/array
FUZZ_dns_filter := dns/dns_filter dns/dns_msg dns/dns_name dns/dns_type \
	dns/dns_wire policy/domain_match dns/learned \
	policy/ports policy/policy policy/policy_cli policy/policy_load \
	policy/domain policy/cidr common/log common/error common/array \
	common/json_read common/json_keys common/json_stream \
	kernel/name_table kernel/map_batch common/optlib
FUZZ_dns_msg := dns/dns_msg dns/dns_name dns/dns_type dns/dns_wire
FUZZ_json_keys := common/json_keys common/array
FUZZ_suggest := audit/suggest audit/audit_codes kernel/verdict kernel/rules \
	policy/domain_match policy/ports policy/policy policy/policy_cli \
	policy/policy_load policy/policy_json policy/domain policy/cidr \
	common/log common/error common/array common/json_read common/json_keys \
	common/json_stream kernel/map_batch common/optlib
FUZZ_policy_load := policy/policy_load policy/policy_json policy/policy \
	policy/policy_cli policy/ports policy/domain policy/cidr kernel/rules \
	kernel/map_batch common/log common/error common/array common/json_read \
	common/json_keys common/json_stream common/optlib
FUZZ_prog_prune := kernel/prog_prune kernel/insn_eval kernel/loader_vm
FUZZ_NAMES := dns_wire dns_msg dns_filter json_keys suggest policy_load \
	prog_prune
FUZZ_BINS := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_NAMES))
FUZZ_OBJS := $(sort $(foreach n,$(FUZZ_NAMES),$(FUZZ_OBJ)/tests/fuzz/fuzz_$(n).o \
	$(patsubst %,$(FUZZ_OBJ)/user/%.o,$(FUZZ_$(n)))))
FUZZ_CFLAGS ?= -g -O1
# Uninitialized locals get a pattern: reading one fails the same way each run.
FUZZ_SAN  := -fsanitize=address,undefined -fno-sanitize-recover=all \
	     -ftrivial-auto-var-init=pattern

FORMAT_SRCS = $(wildcard bpf/*.c bpf/*.h user/*.c user/*/*.c user/*/*.h \
	tools/*.c tests/unit/*.c tests/unit/*.h tests/bpf/*.c tests/bpf/*.h \
	tests/fuzz/*.c bench/*.c)

.PHONY: all deps vmlinux install clean test unit unit-build bpf-tests asan \
	fuzz-build bench-tools demo bench bench-quick format check-format
# A recipe that fails leaves no half-written target behind.
.DELETE_ON_ERROR:

all: $(BUILD)/awf-bpf

$(BPF_VMLINUX): $(VMLINUX) vmlinux/uapi_ctx.awk
	@mkdir -p $(dir $@)
	awk -f vmlinux/uapi_ctx.awk $< > $@

# The skeleton embeds the object: DWARF is only size there (CO-RE and the
# skeleton need .BTF and .BTF.ext, which llvm-strip -g keeps).
$(BUILD)/awf.bpf.o: bpf/awf.bpf.c $(BPF_VMLINUX)
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@
	$(LLVM_STRIP) -g $@

# The agent's build of the same programs: a sandbox per cgroup (slots).
$(BUILD)/awf_agent.bpf.o: bpf/awf.bpf.c $(BPF_VMLINUX)
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -DAWF_AGENT -c $< -o $@
	$(LLVM_STRIP) -g $@

# `run`'s programs in groups (user/kernel/group_load.h): the core, every
# map and one small program (AWF_CORE_ONLY), and A to G and NAMES, some
# programs of awf.bpf.o each, which load beside each other into the
# core's maps. All of one object: they embed the same BTF, loaded once.
# Largest first, as the lanes take them (user/kernel/loader.c): one
# large program a group, the small ones together, the smallest last.
BPF_GROUPS = core a b c d e f g names
GROUP_PROGS_a = awf_egress awf_recvmsg6 awf_getpeername6
GROUP_PROGS_b = awf_sendmsg6
GROUP_PROGS_c = awf_sendmsg4
GROUP_PROGS_d = awf_connect6
GROUP_PROGS_e = awf_connect4
GROUP_PROGS_f = awf_bind6 awf_sock_create awf_post_bind6
GROUP_PROGS_g = awf_bind4 awf_getpeername4 awf_post_bind4
GROUP_PROGS_names = awf_sockops awf_first_bytes
# In one group each: a program listed twice would make up the count that
# user/kernel/loader.c checks while another one went unloaded.
GROUP_PROGS_ALL = $(foreach g,$(filter-out core,$(BPF_GROUPS)),$(GROUP_PROGS_$(g)))
ifneq ($(words $(GROUP_PROGS_ALL)),$(words $(sort $(GROUP_PROGS_ALL))))
$(error a program is in two of GROUP_PROGS_*: $(GROUP_PROGS_ALL))
endif

$(BUILD)/awf_group_core.bpf.o: bpf/awf.bpf.c $(BPF_VMLINUX)
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -DAWF_CORE_ONLY=1 -c $< -o $@
	$(LLVM_STRIP) -g $@

$(BUILD)/awf.skel.h: $(BUILD)/awf.bpf.o
	$(BPFTOOL) gen skeleton $< name awf_bpf > $@

# What `run` loads: light skeletons (bpftool gen skeleton -L). Their
# loader programs hand the CO-RE relocations to the kernel, which applies
# them against the BTF it already holds: libbpf never reads
# /sys/kernel/btf/vmlinux (5 MB, tens of ms per run). The core's creates
# the maps; the groups' take them (tools/gen_group_loader.c, which also
# writes the core's own loader program for user/kernel/loader_vm.c to
# run: bpftool's skeleton gives its layout).
$(BUILD)/awf_core.lskel.h: $(BUILD)/awf_group_core.bpf.o
	$(BPFTOOL) gen skeleton -L $< name awf_core_lskel > $@

$(BUILD)/tools/gen_group_loader: tools/gen_group_loader.c
	@mkdir -p $(dir $@)
	$(COMPILE) $< $(PKG_LIBS) -lelf -lz -o $@

$(BUILD)/awf_group_core.h: $(BUILD)/awf_group_core.bpf.o \
		$(BUILD)/tools/gen_group_loader
	$(BUILD)/tools/gen_group_loader $< $< core > $@

$(BUILD)/awf_group_%.h: $(BUILD)/awf.bpf.o $(BUILD)/awf_group_core.bpf.o \
		$(BUILD)/tools/gen_group_loader
	$(BUILD)/tools/gen_group_loader $(BUILD)/awf_group_core.bpf.o $< $* \
		$(GROUP_PROGS_$*) > $@

$(BUILD)/awf_agent.skel.h: $(BUILD)/awf_agent.bpf.o
	$(BPFTOOL) gen skeleton $< name awf_agent_bpf > $@

$(BUILD)/user/%.o: user/%.c
	@mkdir -p $(dir $@)
	$(COMPILE) -c $< -o $@

# Generated headers: needed before the first build wrote the .d files.
$(BUILD)/user/kernel/loader.o: $(BUILD)/awf_core.lskel.h \
	$(patsubst %,$(BUILD)/awf_group_%.h,$(BPF_GROUPS))
$(BUILD)/user/run/seccomp.o: $(BUILD)/seccomp_filter.h

# The workload's seccomp filter, built with libseccomp here rather than in
# every run (tools/seccomp_gen.c says why): awf-bpf itself does not link
# libseccomp.
$(BUILD)/tools/seccomp_gen: tools/seccomp_gen.c user/common/error.c
	@mkdir -p $(dir $@)
	$(COMPILE) $^ $(shell pkg-config --cflags --libs libseccomp) -o $@

$(BUILD)/seccomp_filter.h: $(BUILD)/tools/seccomp_gen
	$< >$@
# The same rules as libseccomp's linear chain: test_seccomp's reference.
$(BUILD)/seccomp_filter_linear.h: $(BUILD)/tools/seccomp_gen
	$< --linear >$@
$(BUILD)/obj/tests/unit/test_seccomp.o: $(BUILD)/seccomp_filter.h \
	$(BUILD)/seccomp_filter_linear.h
$(BUILD)/user/agent/agent_bpf.o: $(BUILD)/awf_agent.skel.h

$(BUILD)/awf-bpf: $(USER_OBJS)
	$(LINK) $^ $(LINKED_IN_LIBS) $(LDLIBS) -o $@

$(BUILD)/shared/awf-bpf: $(USER_OBJS)
	@mkdir -p $(dir $@)
	$(LINK) $^ $(AWF_LDLIBS) $(LDLIBS) -o $@

$(LIB_AR): $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(COMPILE) -Itests/unit -c $< -o $@

$(UNIT_BINS): $(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(LINK) $^ $(AWF_LDLIBS) -lcmocka $(LDLIBS) -o $@

$(BPFT_BINS): $(BUILD)/tests/bpf/%: $(BUILD)/obj/tests/bpf/%.o $(LIB_AR)
	@mkdir -p $(dir $@)
	$(LINK) $^ $(AWF_LDLIBS) -lcmocka $(LDLIBS) -o $@

# BPF programs of the tests alone (tests/bpf/*.bpf.c), skeletons beside
# awf.skel.h.
BPFT_PROBE_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/bpf/*.bpf.c))
BPFT_PROBES := $(patsubst $(BUILD)/obj/tests/bpf/%.bpf.o,$(BUILD)/%.skel.h,\
		 $(BPFT_PROBE_OBJS))
$(BUILD)/obj/tests/bpf/%.bpf.o: tests/bpf/%.bpf.c $(BPF_VMLINUX)
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@
	$(LLVM_STRIP) -g $@

$(BUILD)/%.skel.h: $(BUILD)/obj/tests/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $* > $@

$(patsubst %.c,$(BUILD)/obj/%.o,$(BPFT_SRCS)): $(BUILD)/awf.skel.h \
	$(BUILD)/awf_agent.skel.h $(BPFT_PROBES) $(BUILD)/awf_core.lskel.h \
	$(patsubst %,$(BUILD)/awf_group_%.h,$(BPF_GROUPS))

# Benchmark tools (bench/run.sh; domain_match_bench by hand).
$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIB_AR)
	@mkdir -p $(dir $@)
	$(LINK) $^ $(AWF_LDLIBS) $(BENCH_LDLIBS) $(LDLIBS) -o $@
$(BUILD)/bench/connect_bench: BENCH_LDLIBS := -pthread
$(BUILD)/obj/bench/load_bench.o: $(BUILD)/awf.skel.h
$(BUILD)/obj/bench/hook_floor.o: $(BUILD)/hook_floor.skel.h

# BPF programs of the benchmarks alone (bench/*.bpf.c).
$(BUILD)/obj/bench/%.bpf.o: bench/%.bpf.c $(BPF_VMLINUX)
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@
	$(LLVM_STRIP) -g $@

$(BUILD)/hook_floor.skel.h: $(BUILD)/obj/bench/hook_floor.bpf.o
	$(BPFTOOL) gen skeleton $< name hook_floor_bpf > $@

# The fuzz harnesses: clang, coverage for libFuzzer, ASan and UBSan.
$(FUZZ_OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(AWF_CPPFLAGS) -Itests/unit $(AWF_CFLAGS) $(FUZZ_CFLAGS) \
		$(FUZZ_SAN) -fsanitize=fuzzer-no-link $(DEPFLAGS) -c $< -o $@

$(FUZZ_DIR)/fuzz_%: $(FUZZ_OBJ)/tests/fuzz/fuzz_%.o
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer $^ \
		$(AWF_LDLIBS) -o $@

$(foreach n,$(FUZZ_NAMES),$(eval $(FUZZ_DIR)/fuzz_$(n): \
	$(patsubst %,$(FUZZ_OBJ)/user/%.o,$(FUZZ_$(n)))))

# Built through pattern rules only, yet worth keeping between builds.
.SECONDARY: $(TEST_OBJS) $(FUZZ_OBJS) $(BPFT_PROBE_OBJS)

-include $(patsubst %.o,%.d,$(USER_OBJS) $(TEST_OBJS) $(FUZZ_OBJS) \
	$(BUILD)/awf.bpf.o $(BUILD)/awf_agent.bpf.o \
	$(BUILD)/awf_group_core.bpf.o $(BPFT_PROBE_OBJS))

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX).tmp
	mv $(VMLINUX).tmp $(VMLINUX)

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing; \
	fi

unit-build: $(UNIT_BINS)

# Any user: the tests that need BPF privilege report themselves skipped.
unit: unit-build
	@BUILD=$(BUILD) tests/unit/run.sh $(UNIT_BINS)

bpf-tests: $(BPFT_BINS)

# The binary and the unit tests with ASan and UBSan, in $(BUILD)/asan.
asan:
	$(MAKE) BUILD=$(BUILD)/asan SAN_FLAGS='$(ASAN_FLAGS)' all unit

fuzz-build: $(FUZZ_BINS)

bench-tools: $(BENCH_BINS)

# tests/run.sh builds and runs the fuzz harnesses itself (a build failure
# is one failed test). Its last line stays the last line of `make test`.
test: deps
	$(MAKE) all unit-build bpf-tests
	@status=0; $(MAKE) --no-print-directory check-format || status=1; \
	tests/run.sh || status=1; exit $$status

demo: deps
	$(MAKE) all
	tests/demo.sh

# Not part of `make test`: docs/benchmarks.md says what it measures.
# The static build too, where its libraries are installed (make
# deps-package): phase 1 measures it beside the default one.
BENCH_STATIC = $(MAKE) $(BUILD)/awf-bpf-static || \
	echo "bench: no static build (make deps-package): left out of the start-up"

bench: deps
	$(MAKE) all bench-tools
	@$(BENCH_STATIC)
	bench/run.sh

# A check of a change in at most three minutes: one short round of every
# phase, the goals table included (docs/benchmarks.md).
bench-quick: deps
	$(MAKE) all bench-tools
	@$(BENCH_STATIC)
	BENCH_QUICK=1 bench/run.sh

# The gc timer removes what killed runs leave; enable it with
# systemctl enable --now awf-bpf-gc.timer (README.md, Install).
# INSTALL_BIN: which link of the binary (the .deb's: $(BUILD)/shared/awf-bpf).
INSTALL_BIN ?= $(BUILD)/awf-bpf
install: $(INSTALL_BIN)
	install -D -m 0755 $(INSTALL_BIN) $(DESTDIR)$(PREFIX)/bin/awf-bpf
	install -D -m 0644 -t $(DESTDIR)$(SYSTEMD_UNIT_DIR) \
		deploy/systemd/awf-bpf-gc.service deploy/systemd/awf-bpf-gc.timer
	sed -i 's|/usr/local/bin/awf-bpf|$(PREFIX)/bin/awf-bpf|' \
		$(DESTDIR)$(SYSTEMD_UNIT_DIR)/awf-bpf-gc.service
	@echo "make install: to remove the leftovers of killed runs periodically:"
	@echo "  systemctl daemon-reload && systemctl enable --now awf-bpf-gc.timer"

format:
	$(CLANG_FORMAT) -i $(FORMAT_SRCS)

# Lists the files `make format` would change; fails when there are any.
check-format:
	@command -v $(CLANG_FORMAT) >/dev/null || \
		{ echo "check-format: $(CLANG_FORMAT) not found (apt-get install clang-format)"; exit 1; }
	@out=$$($(CLANG_FORMAT) --dry-run -Werror $(FORMAT_SRCS) 2>&1); rc=$$?; \
	files=$$(printf '%s\n' "$$out" | \
		sed -n 's/^\(.*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' | \
		sort -u); \
	n=$$(printf '%s' "$$files" | grep -c .); \
	if [ $$rc != 0 ] && [ $$n = 0 ]; then \
		printf '%s\n' "$$out"; echo "check-format: $(CLANG_FORMAT) failed"; exit 1; \
	fi; \
	for f in $$files; do echo "check-format: $$f needs clang-format"; done; \
	echo "check-format: $$n of $(words $(FORMAT_SRCS)) files need clang-format (make format)"; \
	[ $$n = 0 ]

clean:
	rm -rf $(BUILD)

# ------------------------------------------------------------- packaging
# Issue 16: `make static`, `make deb`, `make install-package`, man pages and
# completion (docs/packaging.md). Kept apart from the rules above.

.PHONY: static deps-package man deb

# The packages `make static` and `make deb` need besides DEB_PACKAGES:
# libunistring's .a (libidn2's static link), lintian (the .deb's check).
DEB_PACKAGES_PACKAGING := libunistring-dev lintian man-db dpkg-dev binutils

deps-package: deps
	@$(MAKE) --no-print-directory deps DEB_PACKAGES='$(DEB_PACKAGES_PACKAGING)'

# `make static`: $(BUILD)/awf-bpf-static, every library linked in from the
# .a files Debian ships, so that one file runs on any x86-64 Linux at or
# above the minimum kernel (README.md), whatever libbpf (or none) the
# distribution has. libpsl is linked when pkg-config knows it. main.c is
# built again with AWF_STATIC: users and groups come from /etc/passwd and
# /etc/group alone (no NSS module of another glibc is ever loaded), and
# optlib.c with it: libidn2 and libpsl are linked, not dlopen()ed.
# One group: the order of archives does not matter (libpsl.pc names none
# of the libraries it needs).
STATIC_PKGS := $(sort $(PKGS) libelf \
	$(shell pkg-config --exists libpsl 2>/dev/null && echo libpsl))
STATIC_LIBS = -Wl,--start-group $(shell pkg-config --static --libs $(STATIC_PKGS)) \
	-Wl,--end-group
STATIC_OBJS := $(filter-out $(BUILD)/user/main.o $(BUILD)/user/common/optlib.o,$(USER_OBJS)) \
	$(BUILD)/static/main.o $(BUILD)/static/optlib.o

static: deps-package
	$(MAKE) $(BUILD)/awf-bpf-static

$(BUILD)/static/main.o: user/main.c
	@mkdir -p $(dir $@)
	$(COMPILE) -DAWF_STATIC -c $< -o $@

# The libraries the dynamic build loads on first use, linked in instead.
$(BUILD)/static/optlib.o: user/common/optlib.c
	@mkdir -p $(dir $@)
	$(COMPILE) -DAWF_STATIC -c $< -o $@

# glibc warns about every NSS function in a static link (AWF_STATIC limits
# them to files): those warnings, and the "in function" line before each,
# are dropped; anything else the linker says is shown.
$(BUILD)/awf-bpf-static: $(STATIC_OBJS)
	@rc=0; $(LINK) -static $^ $(STATIC_LIBS) $(LDLIBS) -o $@ 2>$@.log || rc=$$?; \
	awk '/: in function /{ held = $$0; next } \
	     /in statically linked applications requires at runtime/{ held = ""; next } \
	     { if (held != "") print held; held = ""; print } \
	     END { if (held != "") print held }' $@.log; rm -f $@.log; \
	echo "static link: $@"; exit $$rc

# Man pages and bash completion, generated from the built binary's help
# (awf-bpf(1), completion) and policy/README.md (awf-bpf-policy(5)) by
# deploy/package/mkdoc.py: a flag added to the help is in both.
DOC_DIR  := $(BUILD)/doc
MKDOC    := deploy/package/mkdoc.py
MAN_PAGES := $(DOC_DIR)/awf-bpf.1 $(DOC_DIR)/awf-bpf-policy.5
COMPLETION := $(DOC_DIR)/awf-bpf.bash

man: $(MAN_PAGES) $(COMPLETION)

$(DOC_DIR)/awf-bpf.1: $(BUILD)/awf-bpf $(MKDOC)
	@mkdir -p $(dir $@)
	python3 $(MKDOC) man1 $(BUILD)/awf-bpf $(VERSION) >$@

$(DOC_DIR)/awf-bpf-policy.5: policy/README.md $(MKDOC)
	@mkdir -p $(dir $@)
	python3 $(MKDOC) man5 $< $(VERSION) >$@

$(DOC_DIR)/awf-bpf.bash: $(BUILD)/awf-bpf $(MKDOC)
	@mkdir -p $(dir $@)
	python3 $(MKDOC) completion $(BUILD)/awf-bpf >$@

# `make install` installs what the .deb holds as well: man pages, bash
# completion, the agent's unit and the example policies.
MANDIR     ?= $(PREFIX)/share/man
BASH_COMPLETION_DIR ?= $(PREFIX)/share/bash-completion/completions
EXAMPLES_DIR ?= $(PREFIX)/share/awf-bpf/examples

install: install-extras

.PHONY: install-extras
install-extras: $(MAN_PAGES) $(COMPLETION)
	install -D -m 0644 $(DOC_DIR)/awf-bpf.1 $(DESTDIR)$(MANDIR)/man1/awf-bpf.1
	install -D -m 0644 $(DOC_DIR)/awf-bpf-policy.5 $(DESTDIR)$(MANDIR)/man5/awf-bpf-policy.5
	install -D -m 0644 $(COMPLETION) $(DESTDIR)$(BASH_COMPLETION_DIR)/awf-bpf
	install -D -m 0644 -t $(DESTDIR)$(SYSTEMD_UNIT_DIR) deploy/systemd/awf-bpf-agent.service
	sed -i 's|/usr/local/bin/awf-bpf|$(PREFIX)/bin/awf-bpf|' \
		$(DESTDIR)$(SYSTEMD_UNIT_DIR)/awf-bpf-agent.service
	install -D -m 0644 -t $(DESTDIR)$(EXAMPLES_DIR)/policies policy/examples/*.json
	install -D -m 0644 -t $(DESTDIR)$(EXAMPLES_DIR)/agent deploy/systemd/agent.json
	install -D -m 0644 -t $(DESTDIR)$(EXAMPLES_DIR)/agent/policies deploy/systemd/policies/*.json

# `make deb`: $(BUILD)/awf-bpf_<VERSION>_<arch>.deb with dpkg-deb, from what
# `make install PREFIX=/usr` puts in a staging tree: the binary (linked
# against the distribution's libraries; Depends from dpkg-shlibdeps), man
# pages, completion, the systemd units (not enabled), example policies.
# lintian checks it (no errors). deploy/package/README.md says more.
DEB_ARCH  := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB_FILE  := $(BUILD)/awf-bpf_$(VERSION)_$(DEB_ARCH).deb
DEB_ROOT  := $(BUILD)/deb/root

deb: deps-package
	$(MAKE) $(DEB_FILE)

$(DEB_FILE): $(BUILD)/shared/awf-bpf $(MAN_PAGES) $(COMPLETION) deploy/package/build-deb.sh \
		deploy/package/control.in deploy/package/copyright VERSION
	DLOPEN_LIBS='$(shell pkg-config --libs $(PKGS_LOADED))' \
		deploy/package/build-deb.sh $(BUILD) $(VERSION) $(DEB_ARCH) $@

# The end-to-end tests that matter most on GitHub's runners, against the
# static binary (AWF= points tests/lib.sh at it); root, like `make test`.
STATIC_TESTS ?= ^test_(cidr|domains|dns|action|kernel|stub):
.PHONY: test-static
test-static: static
	AWF=$(CURDIR)/$(BUILD)/awf-bpf-static tests/run.sh '$(STATIC_TESTS)'
