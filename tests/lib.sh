# shellcheck shell=bash
# tests/lib.sh - helpers for the awf-bpf integration tests.
#
# Every test is a bash function test_* in tests/integration/*.sh. tests/run.sh
# runs each one in its own subshell (inside its own cgroup, with a time
# bound) after sourcing this file; the test passes when the function
# returns 0. Assertions print what they expected and got, then `exit 1`:
# call them at the top level of the test, never inside $(...).
#
# Variables: ROOT (the repository), AWF (the binary, build/awf-bpf unless
# set), PY (/usr/bin/python3), PROBE (tests/tools/probe.py), TEST_TMP (a
# fresh directory per test, removed afterwards), and the address plan of
# tests/testbed/addresses.sh.

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=testbed/addresses.sh
. "$ROOT/tests/testbed/addresses.sh"

AWF=${AWF:-$ROOT/build/awf-bpf}
PY=/usr/bin/python3
# Tests that run as nobody read the tools: a clone under a 0700 directory
# is not readable by it, so tests/run.sh points AWFT_TOOLS at a copy.
TOOLS=${AWFT_TOOLS:-$ROOT/tests/tools}
PROBE=$TOOLS/probe.py
SERVERS=$ROOT/tests/testbed/servers.py
TEST_TMP=${TEST_TMP:-} # set by tests/run.sh for each test
AWF_BPFFS=/sys/fs/bpf/awf-bpf
# Longest a denied attempt may take to fail: "refused quickly".
FAST_MS=${FAST_MS:-1000}
# Bound on one awf-bpf run inside a test.
AWF_RUN_TIMEOUT=${AWF_RUN_TIMEOUT:-30}
# Under `sudo make test` awf-bpf would run every workload as the sudo user:
# the tests expect root unless they ask for a user themselves.
unset SUDO_UID SUDO_GID SUDO_USER

# ---------------------------------------------------------------- messages

log() { printf '# %s\n' "$*"; }

fail() {
	printf 'FAIL: %s\n' "$*"
	exit 1
}

# skip_test REASON: the test needs an optional kernel feature this machine
# lacks (probed, never assumed); tests/run.sh counts it as skipped, with
# REASON. Exit status 77, as automake's test drivers use.
SKIP_STATUS=77
skip_test() {
	printf 'SKIP: %s\n' "$*"
	exit "$SKIP_STATUS"
}

# require_socket WHAT FAMILY TYPE PROTO: skip the test where this kernel
# cannot create such a socket (numbers, e.g. 2 1 132 for SCTP over IPv4),
# probed here, outside any sandbox, as root: not built, not loadable, or
# switched off (MPTCP's net.mptcp.enabled). Where the host cannot, no
# workload can, and the vector does not exist (docs/threat-model.md).
# Any other error fails the test.
require_socket() {
	local what=$1 out
	shift
	out=$(/usr/bin/python3 -c '
import errno, socket, sys
fam, typ, proto = (int(a, 0) for a in sys.argv[1:4])
try:
    socket.socket(fam, typ, proto).close()
except OSError as e:
    if e.errno in (errno.EAFNOSUPPORT, errno.EPROTONOSUPPORT,
                   errno.ESOCKTNOSUPPORT, errno.ENOPROTOOPT):
        print("absent", errno.errorcode[e.errno])
        sys.exit(0)
    raise
print("present")' "$@" 2>&1) || fail "probing for $what (socket $*): $out"
	case $out in
	present) ;;
	"absent "*) skip_test "this kernel has no $what (socket($*) outside the sandbox: ${out#absent }): the vector does not exist here" ;;
	*) fail "probing for $what (socket $*): $out" ;;
	esac
}

# ---------------------------------------------------------------- asserts

assert_eq() { # expected actual [what]
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$1', got '$2'"
}

assert_ne() { # unexpected actual [what]
	[ "$1" != "$2" ] || fail "${3:-value}: expected anything but '$1'"
}

assert_contains() { # haystack needle [what]
	case $1 in
	*"$2"*) ;;
	*) fail "${3:-output}: expected to contain '$2', got: $(printf '%s' "$1" | head -c 2000)" ;;
	esac
}

assert_not_contains() { # haystack needle [what]
	case $1 in
	*"$2"*) fail "${3:-output}: expected NOT to contain '$2', got: $(printf '%s' "$1" | head -c 2000)" ;;
	esac
}

assert_match() { # haystack extended-regex [what]
	printf '%s\n' "$1" | grep -Eq -- "$2" ||
		fail "${3:-output}: expected to match /$2/, got: $(printf '%s' "$1" | head -c 2000)"
}

assert_lt() { # a b [what]: integer a < b
	[ "$1" -lt "$2" ] 2>/dev/null || fail "${3:-value}: expected $1 < $2"
}

assert_le() { # a b [what]
	[ "$1" -le "$2" ] 2>/dev/null || fail "${3:-value}: expected $1 <= $2"
}

# assert_exit EXPECTED CMD...: run CMD, compare its exit status. Its output
# is in $TEST_TMP/last.out (stdout and stderr) and $LAST_OUT.
assert_exit() {
	local want=$1 rc
	shift
	"$@" >"$TEST_TMP/last.out" 2>&1
	rc=$?
	LAST_OUT=$(cat "$TEST_TMP/last.out")
	[ "$rc" = "$want" ] || fail "exit status of '$*': expected $want, got $rc; output: $(head -c 2000 "$TEST_TMP/last.out")"
}

assert_file_exists() { [ -e "$1" ] || fail "${2:-file} $1 should exist"; }
assert_file_absent() { [ ! -e "$1" ] || fail "${2:-file} $1 should not exist"; }

# A probe.py result line: "ok ..." with an optional expected reply part.
assert_ok() { # line [needle] [what]
	case $1 in
	ok\ *) ;;
	*) fail "${3:-probe}: expected success, got '$1'" ;;
	esac
	[ -z "${2:-}" ] || assert_contains "$1" "$2" "${3:-probe}"
}

# "err EPERM <ms>" with ms below FAST_MS: refused by the kernel, at once.
assert_eperm_fast() { # line [what]
	local what=${2:-probe} ms
	case $1 in
	"err EPERM "*) ;;
	*) fail "$what: expected 'err EPERM <ms>' (refused by the kernel), got '$1'" ;;
	esac
	ms=${1##* }
	[ "$ms" -lt "$FAST_MS" ] 2>/dev/null || fail "$what: EPERM took ${ms} ms, expected < $FAST_MS ms"
}

# Any refusal (EPERM, ECONNREFUSED...), fast: for loopback where either
# a BPF denial or "nothing listens" is a refusal. Use assert_eperm_fast
# wherever the kernel must answer EPERM.
assert_refused_fast() { # line [what]
	local what=${2:-probe} ms
	case $1 in
	"err "*) ;;
	*) fail "$what: expected an error, got '$1'" ;;
	esac
	ms=${1##* }
	[ "$ms" -lt "$FAST_MS" ] 2>/dev/null || fail "$what: refusal took ${ms} ms, expected < $FAST_MS ms"
}

# ---------------------------------------------------------------- policies

# policy_file NAME JSON: write $TEST_TMP/NAME.json, print its path.
policy_file() {
	printf '%s\n' "$2" >"$TEST_TMP/$1.json"
	printf '%s\n' "$TEST_TMP/$1.json"
}

# policy NAME 'FIELDS': a v1 policy with the trusted DNS server and FIELDS
# (JSON members, without braces), e.g.
#   pol=$(policy p '"allow_cidrs":["198.18.0.10/32"]')
policy() {
	local fields=${2:-}
	[ -n "$fields" ] && fields=", $fields"
	policy_file "$1" "{\"version\": 1, \"dns_servers\": [\"$DNS4\"]$fields}"
}

# ---------------------------------------------------------------- awf-bpf

# awf ARGS...: run "$AWF" ARGS with a time bound. Sets AWF_RC,
# AWF_OUT (stdout), AWF_ERR (stderr), AWF_MS (wall time), and logs them.
# awf_run ARGS... is awf run ARGS...
awf() {
	local t0 t1
	[ -x "$AWF" ] || fail "$AWF is not built (make all)"
	log "awf-bpf $*"
	t0=$(date +%s%N)
	timeout -k 5 "$AWF_RUN_TIMEOUT" "$AWF" "$@" >"$TEST_TMP/awf.out" 2>"$TEST_TMP/awf.err" </dev/null
	AWF_RC=$?
	t1=$(date +%s%N)
	AWF_MS=$(((t1 - t0) / 1000000))
	AWF_OUT=$(cat "$TEST_TMP/awf.out")
	AWF_ERR=$(cat "$TEST_TMP/awf.err")
	log "exit $AWF_RC after ${AWF_MS} ms"
	[ -z "$AWF_OUT" ] || printf '%s\n' "$AWF_OUT" | sed 's/^/#   out: /'
	[ -z "$AWF_ERR" ] || printf '%s\n' "$AWF_ERR" | sed 's/^/#   err: /'
	[ "$AWF_RC" != 124 ] || [ "$AWF_MS" -lt $((AWF_RUN_TIMEOUT * 1000)) ] ||
		log "awf-bpf was killed by the test's time bound"
	return 0
}

awf_run() { awf run "$@"; }

# use_testbed_resolver: from now on $AWF is a wrapper that runs awf-bpf
# (and so the workload) in a mount namespace whose /etc/resolv.conf names
# the testbed's trusted server: names looked up through getaddrinfo
# (curl, Python) go through the sandbox's DNS filter to it, and no lookup
# ever names the host's own resolver.
use_testbed_resolver() {
	local real=$AWF
	printf 'nameserver %s\n' "$DNS4" >"$TEST_TMP/resolv.conf"
	cat >"$TEST_TMP/awf-named" <<EOF
#!/bin/sh
exec unshare -m sh -c 'mount --bind "\$0" /etc/resolv.conf && exec "\$@"' \
	"$TEST_TMP/resolv.conf" "$real" "\$@"
EOF
	chmod +x "$TEST_TMP/awf-named"
	AWF=$TEST_TMP/awf-named
}

# sandbox_probe POLICY_FILE MODE ARGS...: run probe.py inside the sandbox;
# PROBE_LINE is its result line (first line of stdout).
sandbox_probe() {
	local pol=$1
	shift
	awf_run --policy "$pol" -- "$PY" "$PROBE" "$@"
	PROBE_LINE=$(printf '%s\n' "$AWF_OUT" | head -n 1)
}

# probe MODE ARGS...: probe.py from the host, outside any sandbox.
probe() { "$PY" "$PROBE" "$@"; }

# The awf-bpf denial line for a destination, e.g. deny_prefix tcp 198.18.0.20:80
deny_prefix() { printf 'awf-bpf: denied %s %s from pid' "$1" "$2"; }

# ---------------------------------------------------------------- world

# Lines of the trusted / rogue dnsmasq logs, and queries counted in them.
dns_log() { cat "$AWFT_STATE/dns-$1.log" 2>/dev/null; }
dns_queries() { # trusted|rogue [name]
	dns_log "$1" | grep -F 'query[' | grep -cF -- "${2:-}"
}
# How many connections/datagrams the world servers logged for a listener,
# e.g. server_hits 'http 198.18.0.20:80 ' or server_hits 'udp 198.18.0.20:5000 '
server_hits() { grep -cF -- "$1" "$AWFT_STATE/servers.log" 2>/dev/null; }

# ICMP echo requests received by the world netns (v4 or v6).
world_icmp_echos() { # 4|6
	local key=Icmp6InEchos field=InEchos
	if [ "$1" = 6 ]; then
		nsenter --net="/run/netns/$AWFT_NS" cat /proc/net/snmp6 | awk -v k="$key" '$1 == k { print $2 }'
	else
		nsenter --net="/run/netns/$AWFT_NS" cat /proc/net/snmp | awk -v f="$field" '
			$1 == "Icmp:" && !hdr { for (i = 2; i <= NF; i++) col[$i] = i; hdr = 1; next }
			$1 == "Icmp:" && hdr { print $col[f]; exit }'
	fi
}

# ---------------------------------------------------------------- processes

# free_port [N]: the first of N (default 1) consecutive ports that nothing
# uses right now, for TCP and UDP on 127.0.0.1 and ::1. They are taken below
# the kernel's ephemeral range: a port in it can be taken between this check
# and its use by any connection's source port (CI saw a bind of [::]:P+1 fail
# that way).
free_port() {
	"$PY" - "${1:-1}" <<'EOF'
import random, socket, sys
count = int(sys.argv[1])
with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
    ephemeral_low, ephemeral_high = map(int, f.read().split())
low, high = 10000, ephemeral_low - count
if high - low < 1000:  # an unusual range: take the ports above it instead
    low, high = ephemeral_high + 1, 65535 - count
def usable(p):
    for fam, a in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        for t in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(fam, t)
            try:
                s.bind((a, p))
            except OSError:
                return False
            finally:
                s.close()
    return True
for _ in range(200):
    first = random.randint(low, high)
    if all(usable(p) for p in range(first, first + count)):
        print(first)
        break
EOF
}

wait_file() { # file [tenths of a second, default 50]
	local i
	for i in $(seq 1 "${2:-50}"); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

BG_PIDS=()
# bg_listen ADDR PORT: a probe.py TCP server on the host (outside any
# sandbox), stopped by lib_cleanup.
bg_listen() {
	local ready="$TEST_TMP/listen-$2.ready"
	"$PY" "$PROBE" listen "$1" "$2" --ready-file "$ready" >"$TEST_TMP/listen-$2.log" 2>&1 &
	BG_PIDS+=($!)
	wait_file "$ready" || fail "listener $1:$2 did not start: $(cat "$TEST_TMP/listen-$2.log")"
}

bg_start() { # CMD...: start a background process, stopped by lib_cleanup
	"$@" &
	BG_PIDS+=($!)
}

AT_EXIT=()
# at_exit 'COMMAND': run COMMAND (eval) when the test ends, e.g. to restore
# a sysctl. Run in reverse order by lib_cleanup.
at_exit() { AT_EXIT+=("$1"); }

lib_cleanup() {
	local pid i
	for ((i = ${#AT_EXIT[@]} - 1; i >= 0; i--)); do
		eval "${AT_EXIT[i]}"
	done
	AT_EXIT=()
	for pid in "${BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${BG_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	BG_PIDS=()
}

# enable_ping_sockets: let root open ICMP datagram sockets (ping_group_range
# is "1 0" on Debian: nobody may), restored when the test ends. Without it
# an ICMP socket fails with EACCES before awf-bpf is even asked.
enable_ping_sockets() {
	local old
	old=$(sysctl -n net.ipv4.ping_group_range | tr '\t' ' ')
	at_exit "sysctl -qw net.ipv4.ping_group_range='$old'"
	sysctl -qw net.ipv4.ping_group_range="0 0" || fail "cannot set net.ipv4.ping_group_range"
}

# ---------------------------------------------------------------- leftovers

# alive PID: a live process (a zombie waiting for its reaper is not).
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	case ${stat%% *} in Z | X) return 1 ;; esac
	return 0
}

# live_procs CGROUP_DIR: the live processes in a cgroup (not its children).
live_procs() {
	local pid
	for pid in $(cat "$1/cgroup.procs" 2>/dev/null); do
		alive "$pid" && printf '%s ' "$pid"
	done
}

# The cgroup v2 mount point, from /proc/self/mountinfo (/sys/fs/cgroup on a
# pure v2 host, /sys/fs/cgroup/unified on a hybrid one).
cgroup2_root() {
	awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break } }' \
		/proc/self/mountinfo
}

# awf_state_snapshot: the run-* cgroups and bpffs entries of awf-bpf now.
awf_state_snapshot() {
	local cg2
	cg2=$(cgroup2_root)
	[ -n "$cg2" ] && [ -d "$cg2/awf-bpf" ] && find "$cg2/awf-bpf" -mindepth 1 -maxdepth 1 -type d -name 'run-*' 2>/dev/null
	[ -d "$AWF_BPFFS" ] && find "$AWF_BPFFS" -mindepth 1 2>/dev/null
	true
}

# awf_new_items BEFORE_FILE: what of awf-bpf exists now but not in the
# snapshot, and is ours: a run-<pid> cgroup whose awf-bpf <pid> is alive
# outside this test's cgroup (AWFT_TEST_CG, e.g. /awft-tests/test_x; the
# current process's cgroup when unset) belongs to a concurrent run by
# someone else, and is left alone.
awf_new_items() {
	local before=$1 item owner mycg
	mycg=${AWFT_TEST_CG:-$(sed -n 's/^0:://p' /proc/self/cgroup)}
	awf_state_snapshot | sort >"$before.after"
	sort "$before" | comm -13 - "$before.after" | while read -r item; do
		case $item in
		*/run-*)
			owner=${item##*/run-}
			if [ -n "$owner" ] && alive "$owner" &&
				[ "$(sed -n 's/^0:://p' "/proc/$owner/cgroup" 2>/dev/null)" != "$mycg" ]; then
				continue
			fi
			;;
		esac
		printf '%s\n' "$item"
	done
	rm -f "$before.after"
}

# awf_leftovers BEFORE_FILE: print one line per thing of awf-bpf left
# behind since the snapshot BEFORE_FILE (see awf_new_items); nothing when clean.
awf_leftovers() {
	local item procs
	awf_new_items "$1" | while read -r item; do
		case $item in
		"$AWF_BPFFS"/*) echo "bpffs entry left: $item" ;;
		*)
			procs=$(live_procs "$item")
			echo "cgroup left: $item${procs:+ with processes: $procs}"
			;;
		esac
	done
}

# awf_remove_leftovers BEFORE_FILE: kill and remove what awf_leftovers found.
awf_remove_leftovers() {
	local item i
	awf_new_items "$1" | sort -r | while read -r item; do
		case $item in
		"$AWF_BPFFS"/*)
			if [ -d "$item" ]; then rmdir "$item" 2>/dev/null; else rm -f "$item"; fi
			;;
		*)
			[ -e "$item/cgroup.kill" ] && echo 1 >"$item/cgroup.kill" 2>/dev/null
			for i in $(seq 1 30); do
				rmdir "$item" 2>/dev/null && break
				sleep 0.1
			done
			;;
		esac
	done
}
