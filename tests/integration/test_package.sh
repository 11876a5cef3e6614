# shellcheck shell=bash
# Packaging (deploy/package/, Makefile "packaging"): the man page and the
# completion carry every command and flag of the help, `make deb` passes
# lintian with Depends matching what the binary links, `make install`
# installs the same set, `make static` gives a static binary that works.
# Each stays well under a minute: the objects are built already.

MKDOC=$ROOT/deploy/package/mkdoc.py

# The commands `awf-bpf --help` lists (mkdoc.py's reading of it).
help_commands() {
	"$PY" -c "
import sys; sys.path.insert(0, '$ROOT/deploy/package')
import mkdoc; print(' '.join(mkdoc.commands('$AWF')))"
}

help_flags() { # CMD
	"$AWF" help "$1" | grep -oE '(^|[^[:alnum:]-])--?[[:alpha:]][[:alnum:]-]*' |
		sed -E 's/^[^-]*//' | grep -E '^(--[a-z]|-[a-zA-Z]$)' | sort -u
}

test_package_man_and_completion_have_every_flag() {
	local man=$TEST_TMP/awf-bpf.1 comp=$TEST_TMP/awf-bpf.bash cmd flag text n=0
	"$PY" "$MKDOC" man1 "$AWF" 0.0.0 >"$man" || fail "mkdoc.py man1"
	"$PY" "$MKDOC" completion "$AWF" >"$comp" || fail "mkdoc.py completion"
	bash -n "$comp" || fail "the completion is not valid bash"
	text=$(sed 's/\\-/-/g' "$man")
	for cmd in $(help_commands); do
		[ "$cmd" = help ] && continue
		assert_contains "$text" ".SS $cmd" "the man page's section for $cmd"
		for flag in $(help_flags "$cmd"); do
			assert_contains "$text" "$flag" "awf-bpf(1), flag $flag of '$cmd'"
			[ "${flag:0:2}" = -- ] || continue
			case " $(sed -n "s/^	$cmd) opts=\"\(.*\)\" ;;$/\1/p" "$comp") " in
			*" $flag "*) ;;
			*) fail "the completion of '$cmd' lacks $flag: $(grep "^	$cmd)" "$comp")" ;;
			esac
			n=$((n + 1))
		done
	done
	assert_lt 20 "$n" "flags checked"
	# groff reads it without a warning.
	text=$(MANWIDTH=80 man --warnings -l "$man" 2>&1 >/dev/null)
	assert_eq "" "$text" "man --warnings on awf-bpf(1)"
	"$PY" "$MKDOC" man5 "$ROOT/policy/README.md" 0.0.0 >"$TEST_TMP/awf-bpf-policy.5" || fail "mkdoc.py man5"
	text=$(MANWIDTH=80 man --warnings -l "$TEST_TMP/awf-bpf-policy.5" 2>&1 >/dev/null)
	assert_eq "" "$text" "man --warnings on awf-bpf-policy(5)"
	# Every key of the policy format is in awf-bpf-policy(5).
	for flag in $(jq -r '.properties | keys[]' "$ROOT/policy/schema.json"); do
		assert_contains "$(cat "$TEST_TMP/awf-bpf-policy.5")" "$flag" "awf-bpf-policy(5), key $flag"
	done
}

# The files of a .deb or of an install tree, one path a line.
deb_files() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' | sort; }
tree_files() { (cd "$1" && find . -type f -printf '%P\n' | sort); }

test_package_deb_lintian_depends_install() {
	local deb ver arch dep lib pkg deps
	command -v lintian >/dev/null && command -v dpkg-shlibdeps >/dev/null ||
		make -s -C "$ROOT" deps-package >/dev/null 2>&1 || fail "make deps-package"
	ver=$(cat "$ROOT/VERSION")
	arch=$(dpkg --print-architecture)
	deb=$ROOT/build/awf-bpf_${ver}_$arch.deb
	make -s -C "$ROOT" deb >"$TEST_TMP/make.log" 2>&1 || fail "make deb: $(tail -n 20 "$TEST_TMP/make.log")"
	assert_file_exists "$deb" "the package"
	# TMPDIR: lintian leaves its ELF cache (mldbm-elf-*) behind in it.
	TMPDIR=$TEST_TMP lintian --no-tag-display-limit "$deb" >"$TEST_TMP/lintian.log" 2>&1
	grep '^E: ' "$TEST_TMP/lintian.log" && fail "lintian errors: $(grep '^E: ' "$TEST_TMP/lintian.log" | head)"
	log "lintian: $(grep -c '^[WI]: ' "$TEST_TMP/lintian.log") warning/info line(s)"
	deb_files "$deb" >"$TEST_TMP/deb.list"
	for f in usr/bin/awf-bpf usr/share/man/man1/awf-bpf.1.gz usr/share/man/man5/awf-bpf-policy.5.gz \
		usr/share/bash-completion/completions/awf-bpf lib/systemd/system/awf-bpf-agent.service \
		lib/systemd/system/awf-bpf-gc.service lib/systemd/system/awf-bpf-gc.timer \
		usr/share/awf-bpf/examples/policies/github-ci.json usr/share/doc/awf-bpf/copyright; do
		grep -qx "$f" "$TEST_TMP/deb.list" || fail "$f is not in the package: $(cat "$TEST_TMP/deb.list")"
	done
	# Depends names the package of every library the binary links itself
	# (its DT_NEEDED entries; theirs are their packages' business).
	dpkg-deb -x "$deb" "$TEST_TMP/x" || fail "dpkg-deb -x"
	"$TEST_TMP/x/usr/bin/awf-bpf" --version | grep -qx "awf-bpf $ver" || fail "the packaged binary's --version"
	deps=$(dpkg-deb -f "$deb" Depends)
	for lib in $(readelf -d "$TEST_TMP/x/usr/bin/awf-bpf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		lib=$(ldd "$TEST_TMP/x/usr/bin/awf-bpf" | awk -v l="$lib" '$1 == l { print $3 }')
		pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -n 1 | cut -d: -f1)
		[ -n "$pkg" ] || pkg=$(dpkg -S "$lib" 2>/dev/null | head -n 1 | cut -d: -f1)
		[ -n "$pkg" ] || fail "no package owns $lib"
		assert_contains "$deps" "$pkg" "Depends (the binary links $lib)"
	done
	# The package's binary is the shared link: libbpf's updates reach it.
	assert_contains "$(readelf -d "$TEST_TMP/x/usr/bin/awf-bpf")" "[libbpf.so" "the packaged binary's DT_NEEDED"
	# ... and of every library it dlopen()s on first use (user/common/optlib.c).
	for lib in $(grep -o '"lib[a-z0-9]*\.so\.[0-9]*"' "$ROOT/user/common/optlib.c" | tr -d '"'); do
		pkg=$(dpkg -S "$lib" 2>/dev/null | head -n 1 | cut -d: -f1)
		[ -n "$pkg" ] || fail "no package owns $lib"
		assert_contains "$deps" "$pkg" "Depends (the binary dlopen()s $lib)"
	done
	for dep in $(printf '%s\n' "$deps" | tr ',' '\n' | awk '{ print $1 }'); do
		dpkg-query -W "$dep" >/dev/null 2>&1 || fail "Depends names $dep, which is not installed here"
	done
	# `make install` puts the same files in place (but the doc directory).
	make -s -C "$ROOT" install DESTDIR="$TEST_TMP/inst" PREFIX=/usr SYSTEMD_UNIT_DIR=/lib/systemd/system \
		>"$TEST_TMP/install.log" 2>&1 || fail "make install: $(tail "$TEST_TMP/install.log")"
	tree_files "$TEST_TMP/inst" | sed 's/\.gz$//' >"$TEST_TMP/inst.list"
	grep -v '^usr/share/doc/' "$TEST_TMP/deb.list" | sed 's/\.gz$//' >"$TEST_TMP/deb-nodoc.list"
	diff "$TEST_TMP/deb-nodoc.list" "$TEST_TMP/inst.list" >"$TEST_TMP/diff" ||
		fail "make install and the .deb differ: $(cat "$TEST_TMP/diff")"
	assert_contains "$(cat "$TEST_TMP/inst/lib/systemd/system/awf-bpf-agent.service")" "ExecStart=/usr/bin/awf-bpf agent" "the agent unit's ExecStart"
}

# `make`'s binary links libbpf, json-c, libcap, libelf and zlib in, and
# glibc shared (Makefile, LINKED_IN_LIBS): it needs nothing but glibc
# (NSS, dlopen) and runs its policy like the others.
test_package_default_build_links_libraries_in() {
	local bin=$ROOT/build/awf-bpf needed pol

	needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
	assert_contains "$needed" "libc.so.6" "DT_NEEDED of $bin"
	# glibc's own (libc, its dynamic loader) and nothing else.
	printf '%s\n' $needed | grep -Ev '^(libc\.so\.6|ld-linux-[a-z0-9_-]+\.so\.[0-9]+)$' &&
		fail "$bin links more than glibc shared: $needed"
	AWF=$bin
	pol=$(policy p "\"allow_cidrs\": [\"$ALLOWED4/32\"]")
	awf_run --standalone --policy "$pol" -- sh -c "$PY $PROBE tcp $ALLOWED4 80 --timeout 2; $PY $PROBE tcp $BLOCKED4 80 --timeout 2"
	assert_eq 1 "$AWF_RC" "exit status (the blocked probe's)"
	assert_ok "$(printf '%s\n' "$AWF_OUT" | sed -n 1p)" "hello from $ALLOWED4:80" "the allowed host"
	assert_eperm_fast "$(printf '%s\n' "$AWF_OUT" | sed -n 2p)" "the blocked host"
}

test_package_static_binary() {
	local bin=$ROOT/build/awf-bpf-static pol
	make -s -C "$ROOT" static >"$TEST_TMP/make.log" 2>&1 || fail "make static: $(tail -n 20 "$TEST_TMP/make.log")"
	assert_contains "$(file -b "$bin")" "statically linked" "file(1) on $bin"
	assert_contains "$(ldd "$bin" 2>&1)" "not a dynamic executable" "ldd on $bin"
	assert_contains "$("$bin" --version)" "awf-bpf $(cat "$ROOT/VERSION")" "--version"
	# It enforces like the other build: allowed reached, blocked EPERM.
	AWF=$bin
	pol=$(policy p "\"allow_cidrs\": [\"$ALLOWED4/32\"]")
	awf_run --standalone --policy "$pol" --user nobody -- sh -c "$PY $PROBE tcp $ALLOWED4 80 --timeout 2; $PY $PROBE tcp $BLOCKED4 80 --timeout 2; id -u"
	assert_eq 0 "$AWF_RC" "exit status"
	assert_ok "$(printf '%s\n' "$AWF_OUT" | sed -n 1p)" "hello from $ALLOWED4:80" "the allowed host"
	assert_eperm_fast "$(printf '%s\n' "$AWF_OUT" | sed -n 2p)" "the blocked host"
	assert_eq 65534 "$(printf '%s\n' "$AWF_OUT" | sed -n 3p)" "--user nobody (from /etc/passwd, no NSS module)"
}
