#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# tests/fuzz/run.sh [SECONDS]: builds the fuzz harnesses (make
# fuzz-build: clang, libFuzzer + ASan + UBSan, into $BUILD/fuzz/, BUILD=build)
# and runs each for SECONDS (default 20) on a fresh copy of its seed corpus.
# Prints one line per harness:
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
BUILD=${BUILD:-build}
OUT=$BUILD/fuzz
CC=${FUZZ_CC:-clang}
# The harnesses, and the user/ sources each is built from, are the
# Makefile's (FUZZ_NAMES, FUZZ_<name>).
HARNESSES="dns_wire dns_msg dns_filter json_keys suggest policy_load prog_prune"

mkdir -p "$OUT"
# One run at a time in build/fuzz/: a second one waits for the first.
exec 9>"$OUT/.lock"
flock 9
LOG=$OUT/build.log

# A make of our own, not a part of the one that may have started us.
fuzz_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make -C "$ROOT" BUILD="$BUILD" FUZZ_CC="$CC" "$@"
}

if ! command -v "$CC" >/dev/null; then
	for name in $HARNESSES; do
		echo "fuzz $name: FAIL ($CC not found; apt-get install clang libclang-rt-14-dev)"
	done
	exit 1
fi

fuzz_make -s -k -j"$(nproc)" fuzz-build >"$LOG" 2>&1
declare -A built
for name in $HARNESSES; do
	# -q: up to date, so built by the make above (and not a stale one)
	if fuzz_make -q "$OUT/fuzz_$name" >/dev/null 2>&1; then
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
