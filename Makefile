# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# awf-bpf: `make` builds build/awf-bpf; `make test`, `make demo`, `make deps`.

BUILD     ?= build
PREFIX    ?= /usr/local
ARCH      ?= x86
CLANG     ?= clang
BPFTOOL   ?= bpftool
CC        ?= gcc
VMLINUX   := vmlinux/$(ARCH)/vmlinux.h

# Every Debian package the build, the tests and the demo need.
DEB_PACKAGES := make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev \
	zlib1g-dev libjson-c-dev libcap-dev libseccomp-dev libcmocka-dev \
	libldns-dev libidn2-dev iproute2 dnsmasq-base tinyproxy-bin curl wget \
	dnsutils netcat-openbsd python3 python3-jsonschema iputils-ping jq procps \
	libclang-rt-14-dev util-linux python3-yaml systemd

PKGS      := libbpf json-c libcap libseccomp libidn2 ldns
CFLAGS    ?= -O2 -g
CFLAGS    += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I$(BUILD) -Iuser -Ibpf \
	     $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS    += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -I$(dir $(VMLINUX)) -Ibpf

VERSION   := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
CFLAGS    += -DAWF_VERSION='"$(VERSION)"'

USER_SRCS := $(wildcard user/*.c user/*/*.c)
USER_HDRS := $(wildcard user/*/*.h)
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
LIB_OBJS  := $(filter-out $(BUILD)/user/main.o,$(USER_OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.PHONY: all deps vmlinux install clean test unit demo bench format

all: $(BUILD)/awf-bpf

$(BUILD)/awf.bpf.o: bpf/awf.bpf.c bpf/awf.h $(VMLINUX) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/awf.skel.h: $(BUILD)/awf.bpf.o
	$(BPFTOOL) gen skeleton $< name awf_bpf > $@.tmp && mv $@.tmp $@

# The agent's build of the same programs: a sandbox per cgroup (slots).
$(BUILD)/awf_agent.bpf.o: bpf/awf.bpf.c bpf/awf.h $(VMLINUX) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -DAWF_AGENT -c $< -o $@

$(BUILD)/awf_agent.skel.h: $(BUILD)/awf_agent.bpf.o
	$(BPFTOOL) gen skeleton $< name awf_agent_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/user/%.o: user/%.c $(USER_HDRS) bpf/awf.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# Only the loaders include the generated skeletons.
$(BUILD)/user/kernel/loader.o: $(BUILD)/awf.skel.h
$(BUILD)/user/agent/agent_bpf.o: $(BUILD)/awf_agent.skel.h

$(BUILD)/awf-bpf: $(USER_OBJS)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) | $(BUILD)/tests
	$(CC) $(CFLAGS) -Itests/unit $< $(LIB_OBJS) $(LDLIBS) -lcmocka -o $@

$(BUILD) $(BUILD)/tests:
	mkdir -p $@

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

unit: $(UNIT_BINS)

test: deps
	$(MAKE) all unit
	tests/run.sh

demo: deps
	$(MAKE) all
	tests/demo.sh

# Not part of `make test`: docs/benchmarks.md says what it measures.
bench: deps
	$(MAKE) all
	bench/run.sh

install: $(BUILD)/awf-bpf
	install -D -m 0755 $(BUILD)/awf-bpf $(DESTDIR)$(PREFIX)/bin/awf-bpf

format:
	clang-format -i bpf/*.c bpf/*.h user/*.c user/*/*.c user/*/*.h tests/unit/*.c

clean:
	rm -rf $(BUILD)

# in-process BPF tests (tests/bpf/test_*.c): cmocka and libbpf only, run
# as root by tests/run.sh; built by `make test`, not by `make unit`.
BPF_TEST_SRCS := $(wildcard tests/bpf/test_*.c)
BPF_TEST_BINS := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(BPF_TEST_SRCS))

$(BUILD)/tests/bpf/%: tests/bpf/%.c bpf/awf.h $(BUILD)/awf.skel.h $(BUILD)/awf_agent.skel.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $< $(shell pkg-config --libs libbpf) -lelf -lz -lcmocka -o $@

.PHONY: bpftests
bpftests: $(BPF_TEST_BINS)
test: bpftests
