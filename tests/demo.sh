#!/usr/bin/env bash
# tests/demo.sh - what `sudo make demo` shows, after building build/awf-bpf:
# one allowed and one denied request from a sandboxed command, against two
# web servers that live in a network namespace on this machine (nothing
# leaves it), then a domain allowlist: an allowed name reached, another
# refused by the DNS filter, and the summary with the flag that allows it. Exits non-zero if awf-bpf did not behave as shown.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=testbed/addresses.sh
. "$ROOT/tests/testbed/addresses.sh"
AWF=${AWF:-$ROOT/build/awf-bpf}

if [ -t 1 ]; then B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'; else B='' G='' R='' N=''; fi
step() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
show() { printf '%s$ %s%s\n' "$B" "$*" "$N"; }
good() { printf '%s%s%s\n' "$G" "$*" "$N"; }
bad() { printf '%s%s%s\n' "$R" "$*" "$N"; FAILED=1; }
FAILED=0

[ "$(id -u)" = 0 ] || { echo "demo: run as root: sudo make demo" >&2; exit 1; }
[ -x "$AWF" ] || { echo "demo: $AWF is missing: run make first" >&2; exit 1; }

# One test network per machine: wait for a test run to end.
exec 9>/run/awf-bpf-tests.lock
flock -w 900 9 || { echo "demo: another test run holds /run/awf-bpf-tests.lock" >&2; exit 1; }

TMP=$(mktemp -d /tmp/awf-demo.XXXXXX)
cleanup() {
	"$ROOT/tests/testbed/testbed.sh" down >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "Setting up two test web servers in a network namespace"
if ! "$ROOT/tests/testbed/testbed.sh" up >"$TMP/testbed.log" 2>&1 9>&-; then
	cat "$TMP/testbed.log"
	echo "demo: could not set up the test network" >&2
	exit 1
fi
echo "  allowed host  $ALLOWED4   (http://$ALLOWED4:8080/)"
echo "  blocked host  $BLOCKED4   (http://$BLOCKED4/)"
echo "  DNS server    $DNS4"

POLICY=$TMP/policy.json
cat >"$POLICY" <<EOF
{
  "version": 1,
  "allow_cidrs": [{"cidr": "$ALLOWED4/32", "ports": [8080]}],
  "dns_servers": ["$DNS4"]
}
EOF
step "The policy: only $ALLOWED4, port 8080"
show "cat policy.json"
cat "$POLICY"

step "1. An allowed request"
show "awf-bpf run --policy policy.json -- curl -s http://$ALLOWED4:8080/"
out=$("$AWF" run --policy "$POLICY" -- curl -s --noproxy '*' --max-time 5 "http://$ALLOWED4:8080/" 2>"$TMP/err1")
rc=$?
printf '%s\n' "$out"
cat "$TMP/err1"
if [ "$rc" = 0 ] && [ "$out" = "hello from $ALLOWED4:8080" ]; then
	good "-> allowed: the server answered."
else
	bad "-> UNEXPECTED: the allowed request failed (exit $rc)."
fi

step "2. A request the policy does not name"
# curl -s without -S: curl stays quiet, so awf-bpf's own line stands alone.
show "awf-bpf run --policy policy.json -- curl -s http://$BLOCKED4/"
start=$(date +%s%N)
out=$("$AWF" run --policy "$POLICY" -- curl -s --noproxy '*' --max-time 5 "http://$BLOCKED4/" 2>"$TMP/err2")
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ -z "$out" ] || printf '%s\n' "$out"
cat "$TMP/err2"
echo "(curl's exit status: $rc)"
if [ "$rc" != 0 ] && [ -z "$out" ] && grep -q "awf-bpf: denied tcp $BLOCKED4:80" "$TMP/err2"; then
	good "-> denied by the kernel (EPERM) after ${ms} ms; awf-bpf's line says who tried what."
else
	bad "-> UNEXPECTED: the request was not denied as it should be (exit $rc)."
fi

step "3. A domain allowlist: only allowed.test"
# The workload's /etc/resolv.conf names the test network's DNS server (a
# mount namespace of this demo): every lookup goes through awf-bpf's DNS
# filter to that server, and nothing reaches this machine's own resolver.
printf 'nameserver %s\n' "$DNS4" >"$TMP/resolv.conf"
show "awf-bpf run --allow-domains allowed.test -- sh -c 'curl -s http://allowed.test/; curl -s http://blocked.test/'"
out=$(unshare -m sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$TMP/resolv.conf" \
	"$AWF" run --allow-domains allowed.test --dns-servers "$DNS4" -- \
	sh -c "curl -s --noproxy '*' --max-time 5 http://allowed.test/; echo; curl -s --noproxy '*' --max-time 5 http://blocked.test/; echo \"(curl's exit status for blocked.test: \$?)\"" \
	2>"$TMP/err3")
rc=$?
printf '%s\n' "$out" | sed '/^$/d'
cat "$TMP/err3"
if [ "$rc" = 0 ] && printf '%s\n' "$out" | grep -Eq "hello from ($ALLOWED4|\[$ALLOWED6\]):80" &&
	grep -q "blocked.test" "$TMP/err3" && grep -q -- "--allow-domains blocked.test" "$TMP/err3"; then
	good "-> allowed.test answered; blocked.test was refused by the DNS filter (the name never"
	good "   resolved, so there was nothing to connect to), and the summary says how to allow it."
else
	bad "-> UNEXPECTED: the domain allowlist did not behave as shown (exit $rc)."
fi

step "Cleaning up"
"$ROOT/tests/testbed/testbed.sh" down >/dev/null 2>&1 && echo "test network removed."
if [ "$FAILED" = 0 ]; then
	printf '\n%sDemo complete.%s Next: sudo make test, and policy/README.md.\n' "$G" "$N"
fi
exit "$FAILED"
