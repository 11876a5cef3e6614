#!/usr/bin/env bash
# tests/run.sh [PATTERN] - the awf-bpf test runner (`make test` calls it).
#
#  1. every build/tests/test_* and build/tests/bpf/test_* cmocka binary,
#     run and counted by tests/unit/run.sh (the latter attach the BPF
#     programs to cgroups of their own, in a network namespace of their
#     own; a binary that exits non-zero without reporting a failure, e.g.
#     a crash, counts as one failure); then tests/fuzz/run.sh (FUZZ_SECONDS
#     per fuzz harness, 15);
#  2. the testbed (tests/testbed/testbed.sh up; down again at the end);
#  3. every test_* function of tests/integration/*.sh, each in its own
#     subshell, in its own cgroup, with a time bound (TEST_TIMEOUT, 60 s).
#     After each test, anything of awf-bpf left behind (a run-* cgroup under
#     <cgroup2>/awf-bpf/, a process, a pin under /sys/fs/bpf/awf-bpf/) or any
#     process the test left in its cgroup fails the test, and is removed.
#
# With PATTERN (an extended regex on the test name, or on file:name), only
# the matching integration tests run, and no unit test.
#
# Last line: "N passed, N failed, N skipped" (skipped: a test that found
# an optional kernel feature missing, tests/lib.sh skip_test, unit tests
# that skipped themselves, their reason printed, and the open findings of
# tests/escape/known-open.txt); the exit
# status is non-zero when anything failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=lib.sh
. "$ROOT/tests/lib.sh"

PATTERN=${1:-}
TEST_TIMEOUT=${TEST_TIMEOUT:-60}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-300}
BUILD=${BUILD:-build}
PASSED=0
FAILED=0
SKIPPED=0
FAILED_NAMES=()

[ "$(id -u)" = 0 ] || { echo "tests/run.sh: must run as root (sudo make test)" >&2; echo "0 passed, 1 failed"; exit 1; }

indent() { sed 's/^/    | /'; }

record() { # ok|FAIL name [detail]
	if [ "$1" = ok ]; then
		printf 'ok   %s%s\n' "$2" "${3:+ ($3)}"
	else
		printf 'FAIL %s%s\n' "$2" "${3:+ ($3)}"
		FAILED_NAMES+=("$2")
	fi
}

# ------------------------------------------------------------- unit tests

# tests/unit/run.sh runs and counts them (also for `make unit`): its lines
# go through, its last one ("N passed, N failed, N skipped") is added here.
run_unit() { # [BINARY...]: default every $BUILD/tests/test_*
	local line summary='' p f s
	while IFS= read -r line; do
		case $line in
		"FAIL "*)
			FAILED_NAMES+=("$(printf '%s\n' "$line" | awk '{ print $2 }')")
			printf '%s\n' "$line"
			;;
		[0-9]*" passed, "*" failed, "*" skipped") summary=$line ;;
		*) printf '%s\n' "$line" ;;
		esac
	done < <(BUILD=$BUILD UNIT_TIMEOUT=$UNIT_TIMEOUT tests/unit/run.sh "$@" 2>&1)
	if [ -z "$summary" ]; then
		record FAIL unit "tests/unit/run.sh ended without its summary line"
		FAILED=$((FAILED + 1))
		return
	fi
	read -r p _ f _ s _ <<<"$summary"
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	SKIPPED=$((SKIPPED + s))
}

# ------------------------------------------------------ integration tests

CG2=$(cgroup2_root)
TESTS_CG=${CG2:+$CG2/awft-tests}
# awf-bpf run makes <cgroup2>/awf-bpf, the parent of every run-* sandbox,
# and leaves it (runs share it). If it was not there before, it goes.
AWF_PARENT_CG=
[ -n "$CG2" ] && [ ! -d "$CG2/awf-bpf" ] && AWF_PARENT_CG=$CG2/awf-bpf
# The same for the pin root /sys/fs/bpf/awf-bpf (removed only if empty),
# and for /run/awf-bpf, where the agent tests put sockets and state.
AWF_PIN_ROOT=
[ -d "$AWF_BPFFS" ] || AWF_PIN_ROOT=$AWF_BPFFS
AWF_RUN_DIR=
[ -d /run/awf-bpf ] || AWF_RUN_DIR=/run/awf-bpf

# The functions test_* of a file, in file order.
list_tests() {
	grep -oE '^(function[[:space:]]+)?test_[A-Za-z0-9_]+[[:space:]]*\(\)' "$1" |
		sed -E 's/^function[[:space:]]+//; s/[[:space:]]*\(\)$//'
}

# Kill everything in a test's cgroup and remove it (bounded).
remove_test_cgroup() {
	local cg=$1 i
	[ -d "$cg" ] || return 0
	[ -e "$cg/cgroup.kill" ] && echo 1 >"$cg/cgroup.kill" 2>/dev/null
	for i in $(seq 1 50); do
		rmdir "$cg" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "tests/run.sh: could not remove $cg" >&2
}

# On interruption: stop the running test (TERM first, so that its EXIT
# trap restores what it changed), then the testbed.
interrupted() {
	local cg pid i
	for cg in "$TESTS_CG"/*/; do
		[ -d "$cg" ] || continue
		for pid in $(live_procs "$cg"); do kill -TERM "$pid" 2>/dev/null; done
		for i in $(seq 1 30); do
			[ -z "$(live_procs "$cg")" ] && break
			sleep 0.1
		done
		remove_test_cgroup "${cg%/}"
	done
	rmdir "$TESTS_CG" 2>/dev/null
	[ -z "$AWF_PARENT_CG" ] || rmdir "$AWF_PARENT_CG" 2>/dev/null
	[ -z "$AWF_PIN_ROOT" ] || rmdir "$AWF_PIN_ROOT" 2>/dev/null
	[ -z "$AWF_RUN_DIR" ] || rmdir "$AWF_RUN_DIR" 2>/dev/null
	[ -z "${CUR_TMP:-}" ] || rm -rf "$CUR_TMP"
	tests/testbed/testbed.sh down >/dev/null 2>&1
	echo "tests/run.sh: interrupted" >&2
	exit 130
}

run_one() { # file name
	local file=$1 name=$2 tmp cg rc out left procs i t0 t1 log
	tmp=$(mktemp -d /tmp/awft-test.XXXXXX)
	CUR_TMP=$tmp
	cg=$TESTS_CG/$name
	remove_test_cgroup "$cg"
	mkdir -p "$cg" || { record FAIL "$name" "cannot create $cg"; FAILED=$((FAILED + 1)); return; }
	awf_state_snapshot | sort >"$tmp/.state-before"
	# Each test starts with empty world logs (the servers append: O_APPEND).
	for log in servers dns-trusted dns-rogue tinyproxy; do
		[ -f "$AWFT_STATE/$log.log" ] && : >"$AWFT_STATE/$log.log"
	done
	t0=$(date +%s)
	timeout -k 5 "$TEST_TIMEOUT" bash -c '
		echo $$ >"$1/cgroup.procs" || exit 99
		export ROOT="$2" TEST_TMP="$4"
		cd "$ROOT" || exit 99
		. tests/lib.sh
		. "$3"
		trap lib_cleanup EXIT
		trap "exit 143" TERM
		trap "exit 130" INT
		set -o pipefail
		"$5"' awft-test "$cg" "$ROOT" "$file" "$tmp" "$name" >"$tmp/.output" 2>&1 </dev/null 9>&-
	rc=$?
	t1=$(date +%s)
	out=$(cat "$tmp/.output")
	[ "$rc" = 124 ] && out+=$'\n'"FAIL: timed out after ${TEST_TIMEOUT}s"

	# Leftovers: processes of the test, awf-bpf cgroups and pins (a short
	# grace period: cgroup removal by awf-bpf on exit is synchronous, but a
	# killed test's processes take a moment to go).
	export AWFT_TEST_CG=${cg#"$CG2"}
	for i in $(seq 1 20); do
		left=$(awf_leftovers "$tmp/.state-before")
		procs=$(live_procs "$cg")
		[ -z "$left" ] && [ -z "$procs" ] && break
		sleep 0.1
	done
	if [ -n "$procs" ]; then
		left+=$'\n'"processes left by the test: $(for p in $procs; do printf '%s(%s) ' "$p" "$(cat "/proc/$p/comm" 2>/dev/null)"; done)"
	fi
	left=$(printf '%s\n' "$left" | sed '/^$/d')
	remove_test_cgroup "$cg"
	if [ -n "$left" ]; then
		awf_remove_leftovers "$tmp/.state-before"
		out+=$'\n'"FAIL: left behind after the test:"$'\n'"$left"
		rc=1
	fi

	if [ "$rc" = 0 ]; then
		PASSED=$((PASSED + 1))
		record ok "$name" "$((t1 - t0))s"
	elif [ "$rc" = 77 ] && printf '%s\n' "$out" | grep -q '^SKIP: '; then
		SKIPPED=$((SKIPPED + 1))
		printf 'skip %s (%s)\n' "$name" "$(printf '%s\n' "$out" | sed -n 's/^SKIP: //p' | head -n 1)"
	else
		FAILED=$((FAILED + 1))
		record FAIL "$name" "exit $rc, $((t1 - t0))s"
		# The failed check first: CI logs may keep only the head of this.
		printf '%s\n' "$out" | grep -m 3 '^FAIL: ' | cut -c 1-400 | indent
		printf '%s\n' "$out" | tail -n 80 | indent
	fi
	rm -rf "$tmp"
}

run_integration() {
	local file name
	if [ -z "$CG2" ]; then
		echo "tests/run.sh: no cgroup2 mount in /proc/self/mountinfo" >&2
		record FAIL integration "no cgroup v2"
		FAILED=$((FAILED + 1))
		return
	fi
	mkdir -p "$TESTS_CG" || { record FAIL integration "cannot create $TESTS_CG"; FAILED=$((FAILED + 1)); return; }
	[ -x "$AWF" ] || echo "tests/run.sh: note: $AWF is missing: integration tests will fail (make all)" >&2

	# One test network per machine: wait for another run (or demo) to end.
	exec 9>/run/awf-bpf-tests.lock
	if ! flock -w 900 9; then
		record FAIL testbed "another test run holds /run/awf-bpf-tests.lock"
		FAILED=$((FAILED + 1))
		return
	fi
	trap interrupted INT TERM
	if ! tests/testbed/testbed.sh up >"/tmp/awft-testbed-up.log" 2>&1 9>&-; then
		record FAIL testbed "testbed.sh up failed"
		indent <"/tmp/awft-testbed-up.log"
		FAILED=$((FAILED + 1))
		tests/testbed/testbed.sh down >/dev/null 2>&1
		return
	fi
	rm -f /tmp/awft-testbed-up.log

	for file in tests/integration/*.sh tests/escape/*.sh; do
		[ -f "$file" ] || continue
		for name in $(list_tests "$file"); do
			if [ -n "$PATTERN" ] && ! printf '%s\n%s\n' "$name" "$(basename "$file" .sh):$name" | grep -Eq -- "$PATTERN"; then
				continue
			fi
			if [ -z "$PATTERN" ] && known_open "$name"; then
				SKIPPED=$((SKIPPED + 1))
				printf 'skip %s (known open: %s)\n' "$name" "$(known_open "$name")"
				continue
			fi
			run_one "$file" "$name"
		done
	done

	tests/testbed/testbed.sh down >/dev/null 2>&1 || { record FAIL testbed "testbed.sh down failed"; FAILED=$((FAILED + 1)); }
	rmdir "$TESTS_CG" 2>/dev/null
	[ -z "$AWF_PARENT_CG" ] || rmdir "$AWF_PARENT_CG" 2>/dev/null
	[ -z "$AWF_PIN_ROOT" ] || rmdir "$AWF_PIN_ROOT" 2>/dev/null
	[ -z "$AWF_RUN_DIR" ] || rmdir "$AWF_RUN_DIR" 2>/dev/null
	trap - INT TERM
}

# Open findings of the escape battery (tests/escape/known-open.txt): the
# full run reports them as skipped; naming one in PATTERN runs it.
known_open() { # name: prints the reason when listed
	awk -F '\t' -v n="$1" '$1 == n { print $2; found = 1 } END { exit !found }' \
		tests/escape/known-open.txt 2>/dev/null
}

# ------------------------------------------------------------ fuzzing

# A short bounded libFuzzer run of every parser of ours (past findings
# replayed first); each harness counts as one test.
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
run_fuzz() {
	local line
	while IFS= read -r line; do
		case $line in
		"fuzz "*": ok "*)
			PASSED=$((PASSED + 1))
			record ok "${line%%:*}" "${line#*: ok }"
			;;
		"fuzz "*": FAIL"*)
			FAILED=$((FAILED + 1))
			record FAIL "${line%%:*}" "${line#*: }"
			;;
		*) printf '%s\n' "$line" | indent ;;
		esac
	done < <(tests/fuzz/run.sh "$FUZZ_SECONDS" 2>&1)
}

# A world-readable copy of the tools, for the workloads run as nobody.
AWFT_TOOLS=$(mktemp -d /tmp/awft-tools.XXXXXX) && cp -r tests/tools/. "$AWFT_TOOLS" &&
	chmod -R a+rX "$AWFT_TOOLS" || { echo "tests/run.sh: cannot copy tests/tools" >&2; exit 1; }
export AWFT_TOOLS
trap 'rm -rf "$AWFT_TOOLS"' EXIT

# tests/bpf/: in-process tests of the BPF programs, counted as unit tests.
[ -n "$PATTERN" ] || run_unit "$BUILD"/tests/test_* "$BUILD"/tests/bpf/test_*
[ -n "$PATTERN" ] || run_fuzz
run_integration

if [ "$FAILED" -gt 0 ]; then
	echo "failed: ${FAILED_NAMES[*]}"
fi
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
