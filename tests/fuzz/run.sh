#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# tests/fuzz/run.sh [SECONDS]: builds the DNS fuzz harnesses into
# build/fuzz/ (clang, libFuzzer + ASan + UBSan) and runs each for SECONDS
# (default 20) on a fresh copy of its seed corpus. Prints one line per
# harness:
#   fuzz <name>: ok (<N> runs)
#   fuzz <name>: FAIL (<reproducer file or reason>)
# and exits non-zero when any harness crashed, leaked, timed out or did not
# build. The committed corpus (tests/fuzz/corpus/) is only read.
#
# fuzz_dns_filter creates BPF maps: run as root.
# Reproduce a failure: build/fuzz/fuzz_<name> <reproducer file>
set -u

SECONDS_EACH=${1:-20}
case $SECONDS_EACH in
'' | *[!0-9]* | 0)
	echo "usage: $0 [SECONDS]" >&2
	exit 2
	;;
esac

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
SELF=tests/fuzz/run.sh
OUT=build/fuzz
CC=${FUZZ_CC:-clang}
SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
# Uninitialized locals get a pattern: reading one fails the same way each run.
SAN="$SAN -ftrivial-auto-var-init=pattern"
CFLAGS="-g -O1 $SAN -std=gnu11 -D_GNU_SOURCE -Iuser -Ibpf -Itests/unit -Ibuild -I/usr/include/json-c"
LIBS="$(pkg-config --libs libbpf json-c libidn2 ldns 2>/dev/null) -lelf -lz"

# The user/*.c each harness needs (never loader.c, main.c: skeleton, main).
WIRE_SRCS="dns/dns_forward dns/dns_udp dns/dns_tcp dns/dns_netns common/evloop common/log common/error common/array"
FILTER_SRCS="dns/dns_filter policy/domain_match dns/learned policy/ports policy/policy policy/policy_cli policy/domain policy/cidr common/log common/error common/array"
HARNESSES="dns_wire dns_filter"

mkdir -p "$OUT/obj"
# One run at a time in build/fuzz/: a second one waits for the first.
exec 9>"$OUT/.lock"
flock 9
LOG=$OUT/build.log
: >"$LOG"

# An object is rebuilt when its source, any header or this script is newer.
compile() { # src obj extra-flags
	local src=$1 obj=$2 extra=$3 h
	if [ -f "$obj" ] && [ ! "$src" -nt "$obj" ] && [ ! "$SELF" -nt "$obj" ]; then
		for h in user/*/*.h bpf/awf.h; do
			[ "$h" -nt "$obj" ] && break
			h=
		done
		[ -z "$h" ] && return 0
	fi
	# shellcheck disable=SC2086
	$CC $CFLAGS $extra -c "$src" -o "$obj.tmp" >>"$LOG" 2>&1 &&
		mv "$obj.tmp" "$obj"
}

build() { # name
	local name=$1 srcs objs="" s pids="" pid ok=1
	case $name in
	dns_wire) srcs=$WIRE_SRCS ;;
	dns_filter) srcs=$FILTER_SRCS ;;
	esac
	for s in $srcs; do
		compile "user/$s.c" "$OUT/obj/$(basename $s).o" "" &
		pids="$pids $!"
		objs="$objs $OUT/obj/$(basename $s).o"
	done
	compile "tests/fuzz/fuzz_$name.c" "$OUT/obj/fuzz_$name.o" \
		"-Wall -Wextra -Werror" &
	pids="$pids $!"
	for pid in $pids; do
		wait "$pid" || ok=0
	done
	[ $ok = 1 ] || return 1
	# shellcheck disable=SC2086
	$CC $CFLAGS "$OUT/obj/fuzz_$name.o" $objs $LIBS \
		-o "$OUT/fuzz_$name" >>"$LOG" 2>&1
}

if ! command -v "$CC" >/dev/null; then
	for name in $HARNESSES; do
		echo "fuzz $name: FAIL ($CC not found; apt-get install clang libclang-rt-14-dev)"
	done
	exit 1
fi

declare -A built
for name in $HARNESSES; do
	if build "$name"; then
		built[$name]=1
	else
		built[$name]=0
	fi
done

# Both at once: each gets its own core on a multi-core host.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The findings were fixed: their oracles and reproducers stay on.
export AWF_FUZZ_STRICT_BLOCK=${AWF_FUZZ_STRICT_BLOCK:-1}

# Every past finding is replayed first, as a regression test.
for name in $HARNESSES; do
	[ "${built[$name]}" = 1 ] || continue
	for repro in tests/fuzz/crashes/"$name"-*; do
		[ -f "$repro" ] || continue
		if ! "$OUT/fuzz_$name" "$repro" >"$OUT/regression.log" 2>&1; then
			echo "fuzz $name: FAIL (regression $repro; log $OUT/regression.log)"
			built[$name]=regressed
		fi
	done
done
declare -A pid
for name in $HARNESSES; do
	[ "${built[$name]}" = 1 ] || continue
	dir=$OUT/$name
	rm -rf "$dir"
	mkdir -p "$dir/corpus" "$dir/artifacts"
	cp tests/fuzz/corpus/"$name"/* "$dir/corpus/"
	"$OUT/fuzz_$name" -max_total_time="$SECONDS_EACH" -timeout=5 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$dir/artifacts/" "$dir/corpus" \
		>"$dir/log" 2>&1 &
	pid[$name]=$!
done

status=0
for name in $HARNESSES; do
	if [ "${built[$name]}" = regressed ]; then
		status=1
		continue
	fi
	if [ "${built[$name]}" != 1 ]; then
		echo "fuzz $name: FAIL (build, see $LOG)"
		status=1
		continue
	fi
	wait "${pid[$name]}"
	rc=$?
	dir=$OUT/$name
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -n 1)
	if [ $rc = 0 ] && [ -n "$runs" ]; then
		echo "fuzz $name: ok ($runs runs)"
		continue
	fi
	status=1
	crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$dir/log" | tail -n 1)
	echo "fuzz $name: FAIL (${crash:-exit $rc}; log $dir/log)"
	grep -m 1 -E '(==[0-9]+==ERROR|runtime error|invariant broken|ERROR: libFuzzer|^fuzz_dns_[a-z]+:)' \
		"$dir/log" | sed 's/^/    /'
done
exit $status
