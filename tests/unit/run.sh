#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# tests/unit/run.sh [BINARY...] - runs cmocka test binaries (default: every
# $BUILD/tests/test_*, BUILD=build) and counts their tests from cmocka's
# summary lines. `make unit`, `make asan` and tests/run.sh use it. One line
# per binary:
#   ok   unit:NAME (N passed[, N skipped])
#   FAIL unit:NAME (N passed, N failed, exit RC)   and the end of its output
# A binary that exits non-zero without reporting a failure (a crash, a
# sanitizer report, a time-out after UNIT_TIMEOUT seconds, 300) counts as
# one failure. A skipped test (cmocka skip(): e.g. no BPF privilege) prints
# its reason in the binary's output and is counted apart.
#
# Last line: "N passed, N failed, N skipped"; the exit status is non-zero
# when anything failed. Runs as any user, from the top of the tree (some
# tests read policy/examples/).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-300}
PASSED=0
FAILED=0
SKIPPED=0

# The sum of N over cmocka's "[  WHAT  ] N test(s)..." lines in $1.
count() { # output what
	printf '%s\n' "$1" | sed -n "s/^\[  $2 *\] \([0-9][0-9]*\) test.*/\1/p" |
		awk '{ s += $1 } END { print s + 0 }'
}

run_one() { # binary
	local bin=$1 name out rc p f s
	name=unit:$(basename "$bin")
	out=$(timeout -k 5 "$UNIT_TIMEOUT" "$bin" 2>&1)
	rc=$?
	p=$(count "$out" PASSED)
	f=$(count "$out" FAILED)
	s=$(count "$out" SKIPPED)
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # crashed, timed out or failed without a cmocka summary
	fi
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	SKIPPED=$((SKIPPED + s))
	if [ "$f" -eq 0 ] && [ "$s" -gt 0 ]; then
		printf 'ok   %s (%s passed, %s skipped)\n' "$name" "$p" "$s"
		# the reasons, as the tests print them
		printf '%s\n' "$out" | grep '^skipped: ' | sort -u | sed 's/^/    | /'
	elif [ "$f" -eq 0 ]; then
		printf 'ok   %s (%s passed)\n' "$name" "$p"
	else
		printf 'FAIL %s (%s passed, %s failed, exit %s)\n' "$name" "$p" "$f" "$rc"
		printf '%s\n' "$out" | tail -n 60 | sed 's/^/    | /'
	fi
}

if [ $# = 0 ]; then
	set -- "$BUILD"/tests/test_*
fi
for bin in "$@"; do
	if [ -f "$bin" ] && [ -x "$bin" ]; then
		run_one "$bin"
	elif [ "$bin" != "$BUILD/tests/test_*" ]; then
		printf 'FAIL unit:%s (not built: %s)\n' "$(basename "$bin")" "$bin"
		FAILED=$((FAILED + 1))
	fi
done
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
