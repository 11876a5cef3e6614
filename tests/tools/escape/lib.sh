# shellcheck shell=bash
# tests/tools/escape/lib.sh - helpers of the escape battery (tests/escape/).
# Each tests/escape/*.sh sources this after tests/lib.sh (tests/run.sh
# sources tests/lib.sh, then the test file).
#
# A test_escape_<what> function is one escape attempt. It calls
# escape_both with the attempt's body, which runs twice, each time in a
# subshell of its own (its own at_exit, background processes, files):
#
#   root  the sandboxed command runs as uid 0 (awf-bpf run without --user,
#         SUDO_UID/SUDO_GID/SUDO_USER removed from awf-bpf's environment);
#   user  it runs as nobody (uid/gid 65534): awf-bpf run --user nobody, or
#         with ESCAPE_USER_MODE=sudo, SUDO_UID=65534 SUDO_GID=65534 in
#         awf-bpf's environment.
#
# Every run checks, from the command's own `id -u`, that it ran as the mode
# says: a build that ignores --user fails the user runs, it never passes
# them as root.
#
# Knobs: ESCAPE_MODES ("root user" by default; "root" or "user" runs one),
# ESCAPE_USER_MODE (flag|sudo), ESCAPE_RESULTS=FILE (one line per test:
# "test_escape_x root=ok user=FAIL").
#
# A body asserts two things: the attempt failed and its target saw nothing
# (the world servers' logs, and the packet sniffer on the world's end of
# the veth), and, where a BPF program refused it, that the audit log
# (--audit-log, always on here) has the deny event.

ESC_TOOLS=$TOOLS/escape
ESC_SOCK=$ESC_TOOLS/sock.py
ESC_SNIFF=$ESC_TOOLS/sniff.py
ESC_UID=65534
ESC_GID=65534
ESC_USER=nobody
ESCAPE_MODES=${ESCAPE_MODES:-root user}
ESCAPE_USER_MODE=${ESCAPE_USER_MODE:-flag}
WORLD_NS=(nsenter "--net=/run/netns/$AWFT_NS")

# Audit reason codes and the texts older builds wrote instead.
declare -A ESC_REASON_TEXT=(
	[not_in_policy]="not in policy"
	[port_not_allowed]="port not allowed"
	[link_local]="link-local/metadata range"
	[loopback]="loopback port not allowed"
	[ipv6_disabled]="ipv6 disabled by policy"
	[socket_type]="socket type not allowed"
	[backstop]="dropped by packet backstop"
	[proxy_only]="proxy-only mode: use the proxy"
)

# ------------------------------------------------------------- the modes

# escape_both BODY: run BODY once per mode (ESC_AS=root|user), each in a
# subshell; the test fails if any run failed, naming the modes.
escape_both() {
	local body=$1 mode rc results=() failed=() name=${FUNCNAME[1]}
	chmod 0755 "$TEST_TMP" # the user run reads its scripts from here
	for mode in $ESCAPE_MODES; do
		log "======== $name as $mode"
		(
			AT_EXIT=()
			BG_PIDS=()
			trap lib_cleanup EXIT
			esc_setup "$mode"
			"$body"
		)
		rc=$?
		if [ "$rc" = 0 ]; then
			results+=("$mode=ok")
		else
			results+=("$mode=FAIL")
			failed+=("$mode")
		fi
		log "======== $name as $mode: $([ "$rc" = 0 ] && echo ok || echo "FAILED (exit $rc)")"
	done
	[ -z "${ESCAPE_RESULTS:-}" ] || printf '%s %s\n' "$name" "${results[*]}" >>"$ESCAPE_RESULTS"
	[ "${#failed[@]}" = 0 ] || fail "$name: the attempt got through, or a check failed, as: ${failed[*]}"
}

esc_setup() {
	ESC_AS=$1
	ESC_DIR=$TEST_TMP/$ESC_AS # readable and writable by the sandboxed user
	mkdir -p "$ESC_DIR" && chmod 1777 "$ESC_DIR"
	ESC_AUDIT=$TEST_TMP/audit-$ESC_AS.jsonl # written by awf-bpf only
	ESC_ARGS=()
	if [ "$ESC_AS" = root ]; then
		unset SUDO_UID SUDO_GID SUDO_USER SUDO_COMMAND
		ESC_EXPECT_UID=0
	else
		ESC_EXPECT_UID=$ESC_UID
		case $ESCAPE_USER_MODE in
		sudo) export SUDO_UID=$ESC_UID SUDO_GID=$ESC_GID SUDO_USER=$ESC_USER ;;
		*) ESC_ARGS=(--user "$ESC_USER") ;;
		esac
	fi
	# What the world's logs held before this run: hits are counted after it.
	ESC_SRV_BASE=$(wc -l <"$AWFT_STATE/servers.log" 2>/dev/null || echo 0)
	ESC_DNS_BASE_trusted=$(wc -l <"$AWFT_STATE/dns-trusted.log" 2>/dev/null || echo 0)
	ESC_DNS_BASE_rogue=$(wc -l <"$AWFT_STATE/dns-rogue.log" 2>/dev/null || echo 0)
	# The command reports its uid first (stderr), then becomes the attempt.
	ESC_WRAP=(sh -c 'echo "escape-uid=$(id -u)" >&2; exec "$@"' escape-wrap)
}

# esc_run POLICY CMD...: awf-bpf run with the audit log, as the mode says.
# Sets AWF_RC, AWF_OUT, AWF_ERR (tests/lib.sh awf); fails when the command
# did not start or ran as another uid than the mode's.
esc_run() {
	local pol=$1
	shift
	awf run "${ESC_ARGS[@]}" --policy "$pol" --audit-log "$ESC_AUDIT" -- "${ESC_WRAP[@]}" "$@"
	esc_check_uid "$AWF_RC" "$AWF_ERR"
}

esc_check_uid() { # rc stderr
	local uid
	uid=$(printf '%s\n' "$2" | sed -n 's/^escape-uid=\([0-9]*\)$/\1/p' | head -n 1)
	[ -n "$uid" ] || fail "the sandboxed command did not start as $ESC_AS (awf-bpf exit $1): $(printf '%s' "$2" | head -c 600)"
	[ "$uid" = "$ESC_EXPECT_UID" ] || fail "the sandboxed command ran as uid $uid, expected $ESC_EXPECT_UID ($ESC_AS run)"
}

# esc_sh POLICY SCRIPT: esc_run POLICY sh -c SCRIPT
esc_sh() { esc_run "$1" sh -c "$2"; }

# esc_run_bg POLICY CMD...: awf-bpf in the background; ESC_BG is its pid.
# The test must wait for it with esc_bg_wait.
esc_run_bg() {
	local pol=$1
	shift
	log "awf-bpf (background) run ${ESC_ARGS[*]} --policy $pol -- $*"
	"$AWF" run "${ESC_ARGS[@]}" --policy "$pol" --audit-log "$ESC_AUDIT" -- "${ESC_WRAP[@]}" "$@" \
		>"$TEST_TMP/bg-$ESC_AS.out" 2>"$TEST_TMP/bg-$ESC_AS.err" </dev/null &
	ESC_BG=$!
	BG_PIDS+=("$ESC_BG")
}

# esc_bg_wait [SECONDS]: wait (bounded, default 20 s) for the background
# awf-bpf; killed if still running. Sets AWF_RC, AWF_OUT, AWF_ERR.
esc_bg_wait() {
	local i limit=$((${1:-20} * 10))
	for ((i = 0; i < limit; i++)); do
		kill -0 "$ESC_BG" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$ESC_BG" 2>/dev/null; then
		log "background awf-bpf $ESC_BG still running after ${1:-20} s: stopping it"
		kill -TERM "$ESC_BG" 2>/dev/null
		sleep 1
		kill -KILL "$ESC_BG" 2>/dev/null
	fi
	wait "$ESC_BG" 2>/dev/null
	AWF_RC=$?
	AWF_OUT=$(cat "$TEST_TMP/bg-$ESC_AS.out")
	AWF_ERR=$(cat "$TEST_TMP/bg-$ESC_AS.err")
	log "background awf-bpf exit $AWF_RC"
	[ -z "$AWF_OUT" ] || printf '%s\n' "$AWF_OUT" | sed 's/^/#   out: /'
	[ -z "$AWF_ERR" ] || printf '%s\n' "$AWF_ERR" | sed 's/^/#   err: /'
}

# esc_cc NAME: compile tests/tools/escape/NAME.c once per test; prints the
# binary's path (world-readable, for the user run).
esc_cc() {
	local bin=$TEST_TMP/bin/$1
	mkdir -p "$TEST_TMP/bin" && chmod 0755 "$TEST_TMP/bin"
	if [ ! -x "$bin" ]; then
		gcc -O1 -Wall -D_GNU_SOURCE -o "$bin" "$ESC_TOOLS/$1.c" >"$TEST_TMP/bin/$1.log" 2>&1 ||
			fail "cannot compile $1.c: $(cat "$TEST_TMP/bin/$1.log")"
		chmod 0755 "$bin"
	fi
	printf '%s\n' "$bin"
}

# esc_require_i386_abi: skip the test where the kernel does not serve the
# i386 syscall ABI (int $0x80) to 64-bit processes: IA32 emulation off, or
# a VM that raises SIGSEGV for every int $0x80. Probed outside the sandbox:
# where it is absent, no workload can use it either.
esc_require_i386_abi() {
	local bin out
	bin=$(esc_cc compat32) || exit 1
	out=$("$bin" probe 2>&1) ||
		skip_test "the kernel does not serve the i386 syscall ABI (int \$0x80: ${out#probe err })"
}

# ------------------------------------------------------- result lines

# esc_line STEP: the first line of the last run's stdout for STEP.
esc_line() { printf '%s\n' "$AWF_OUT" | awk -v s="$1 " 'index($0, s) == 1 { print; exit }'; }

# esc_failed STEP [ERRNO...]: STEP's line is an error (one of ERRNO if given).
esc_failed() {
	local step=$1 line e
	shift
	line=$(esc_line "$step")
	case $line in
	"$step err "*) ;;
	"") fail "no '$step' line in the output (the attempt did not run?): $(printf '%s' "$AWF_OUT" | head -c 1500) / stderr: $(printf '%s' "$AWF_ERR" | head -c 600)" ;;
	*) fail "'$step' worked, it must not: '$line'" ;;
	esac
	[ $# = 0 ] && return 0
	for e; do
		case $line in "$step err $e "*) return 0 ;; esac
	done
	fail "'$step' failed, but with an unexpected error: '$line' (expected one of: $*)"
}

# esc_worked STEP: STEP's line says ok (a precondition of the attempt).
esc_worked() {
	local line
	line=$(esc_line "$1")
	case $line in
	"$1 ok"*) ;;
	*) fail "'$1' should have worked: '${line:-no line}'; stdout: $(printf '%s' "$AWF_OUT" | head -c 1000); stderr: $(printf '%s' "$AWF_ERR" | head -c 600)" ;;
	esac
}

# ------------------------------------------------------------ audit log

esc_audit_show() { log "audit ($ESC_AS): $(cat "$ESC_AUDIT" 2>/dev/null | tail -n 30)"; }

# esc_audit_count JQ_CONDITION: audit events matching the condition.
esc_audit_count() {
	[ -s "$ESC_AUDIT" ] || { echo 0; return; }
	jq -c "select($1)" "$ESC_AUDIT" 2>/dev/null | wc -l
}

# The reason field as a code or as the older text.
esc_reason_cond() {
	local code=$1 text=${ESC_REASON_TEXT[$1]:-$1}
	printf '(.reason == "%s" or .reason == "%s" or .reason_code == "%s")' "$code" "$text" "$code"
}

# esc_audit_deny DST DPORT REASON_CODE [EVENT]: a deny event for DST:DPORT.
esc_audit_deny() {
	local cond n
	cond=".verdict == \"deny\" and .dst == \"$1\" and .dport == $2 and $(esc_reason_cond "$3")"
	[ -z "${4:-}" ] || cond+=" and .event == \"$4\""
	n=$(esc_audit_count "$cond")
	if [ "$n" -lt 1 ]; then
		esc_audit_show
		fail "no audit event {deny $1 port $2 reason $3${4:+ event $4}} in $ESC_AUDIT"
	fi
	log "audit: $n deny event(s) for $1:$2 ($3)"
}

# esc_audit_socket_deny PROTO: a denied socket() of that protocol.
esc_audit_socket_deny() {
	local n
	n=$(esc_audit_count ".verdict == \"deny\" and .event == \"socket\" and (.proto == \"$1\" or (.proto|tostring) == \"$1\") and $(esc_reason_cond socket_type)")
	if [ "$n" -lt 1 ]; then
		esc_audit_show
		fail "no audit event {deny socket proto $1 reason socket_type} in $ESC_AUDIT"
	fi
	log "audit: $n denied socket(s) of protocol $1"
}

# esc_audit_none_to DST: no event says DST was ALLOWED (with --audit all
# only; a deny-only log has no allow events anyway).
esc_audit_no_allow() {
	local n
	n=$(esc_audit_count ".verdict == \"allow\" and .dst == \"$1\"")
	[ "$n" = 0 ] || { esc_audit_show; fail "the audit log shows $n allowed connection(s) to $1"; }
}

# ------------------------------------------------------------- the world

# esc_sniff ADDR...: capture, on the world's end of the veth, every packet
# that arrives for ADDR ("any": every packet). One sniffer per run.
esc_sniff() {
	ESC_SNIFF_OUT=$TEST_TMP/sniff-$ESC_AS.log
	local ready=$TEST_TMP/sniff-$ESC_AS.ready
	: >"$ESC_SNIFF_OUT"
	"${WORLD_NS[@]}" "$PY" "$ESC_SNIFF" --iface "$AWFT_WORLD_IF" --out "$ESC_SNIFF_OUT" \
		--ready-file "$ready" --max-seconds 55 "$@" >"$TEST_TMP/sniff-$ESC_AS.err" 2>&1 &
	BG_PIDS+=($!)
	wait_file "$ready" 50 || fail "packet sniffer did not start: $(cat "$TEST_TMP/sniff-$ESC_AS.err")"
	ESC_SNIFF_ADDRS="$*"
}

# esc_nothing_reached [WHAT]: the sniffer saw no packet for its addresses.
esc_nothing_reached() {
	sleep 0.3 # packets already on the veth reach the sniffer
	if [ -s "$ESC_SNIFF_OUT" ]; then
		fail "${1:-the blocked target} received $(wc -l <"$ESC_SNIFF_OUT") packet(s) ($ESC_SNIFF_ADDRS): $(head -n 5 "$ESC_SNIFF_OUT")"
	fi
	log "sniffer: no packet for $ESC_SNIFF_ADDRS"
}

# esc_no_payload_reached [WHAT]: the sniffer saw no TCP segment carrying
# data for its addresses: connections may open and close (their handshake
# carries none), but no byte the sandbox sent arrived.
esc_no_payload_reached() {
	local n
	sleep 0.3 # packets already on the veth reach the sniffer
	n=$(grep -cE ' proto 6 .* payload [1-9][0-9]*$' "$ESC_SNIFF_OUT")
	[ "${n:-0}" = 0 ] ||
		fail "${1:-the target} received $n TCP segment(s) with data ($ESC_SNIFF_ADDRS): $(grep -E ' payload [1-9]' "$ESC_SNIFF_OUT" | head -n 5)"
	log "sniffer: no TCP data for $ESC_SNIFF_ADDRS ($(wc -l <"$ESC_SNIFF_OUT") packet(s) without any)"
}

# esc_sniffed: the number of packets the sniffer saw so far.
esc_sniffed() { sleep 0.3; wc -l <"$ESC_SNIFF_OUT"; }

# esc_world_servers SPEC...: extra servers.py listeners in the world
# (http:ADDR:PORT, udp:ADDR:PORT), logging to their own file.
esc_world_servers() {
	ESC_WORLD_LOG=$TEST_TMP/world-$ESC_AS.log
	local ready=$TEST_TMP/world-$ESC_AS.ready
	: >"$ESC_WORLD_LOG"
	"${WORLD_NS[@]}" "$PY" "$SERVERS" --log "$ESC_WORLD_LOG" --ready-file "$ready" "$@" \
		>"$TEST_TMP/world-$ESC_AS.err" 2>&1 &
	BG_PIDS+=($!)
	wait_file "$ready" 50 || fail "world servers $* did not start: $(cat "$TEST_TMP/world-$ESC_AS.err")"
}

esc_world_hits() { grep -cF -- "$1" "$ESC_WORLD_LOG" 2>/dev/null; }

# esc_server_log: the testbed servers' log lines of this run.
esc_server_log() { tail -n "+$((ESC_SRV_BASE + 1))" "$AWFT_STATE/servers.log" 2>/dev/null; }

# esc_server_hits PATTERN: lines of this run's server log with PATTERN.
esc_server_hits() { esc_server_log | grep -cF -- "$1"; }

# esc_no_server_hits PATTERN...: the testbed servers logged nothing for
# PATTERN (e.g. 'http 198.18.0.20:80 ') during this run.
esc_no_server_hits() {
	local p n
	for p; do
		n=$(esc_server_hits "$p")
		[ "${n:-0}" = 0 ] || fail "the testbed servers logged $n hit(s) for '$p': $(esc_server_log | grep -F -- "$p" | head -n 3)"
	done
}

# esc_dns_queries trusted|rogue [NAME]: queries the dnsmasq logged in this run.
esc_dns_queries() {
	local base_var=ESC_DNS_BASE_$1
	tail -n "+$((${!base_var} + 1))" "$AWFT_STATE/dns-$1.log" 2>/dev/null |
		grep -F 'query[' | grep -cF -- "${2:-}"
}

# ------------------------------------------------------------- policies

# The usual policy: the allowed host on every port, nothing else.
esc_policy_allowed_host() {
	policy "p-$ESC_AS" "\"allow_cidrs\": [\"$ALLOWED4/32\", \"$ALLOWED6/128\"]${1:+, $1}"
}

# awf-bpf's pid as the background run shows it, and the pids of the
# sandbox: init (the first child) and the workload.
esc_children() { cat "/proc/$1/task/$1/children" 2>/dev/null; }

# esc_nth N: line N (1-based) of the last run's stdout.
esc_nth() { printf '%s\n' "$AWF_OUT" | sed -n "${1}p"; }

# esc_nth_failed N WHAT [ERRNO...]: line N is a probe.py error line
# ("err ERRNO ms"), with one of ERRNO if given.
esc_nth_failed() {
	local n=$1 what=$2 line e
	shift 2
	line=$(esc_nth "$n")
	case $line in
	"err "*) ;;
	"") fail "$what: no result line $n; stdout: $(printf '%s' "$AWF_OUT" | head -c 1000); stderr: $(printf '%s' "$AWF_ERR" | head -c 600)" ;;
	*) fail "$what worked, it must not: '$line'" ;;
	esac
	[ $# = 0 ] && return 0
	for e; do
		case $line in "err $e "*) return 0 ;; esac
	done
	fail "$what: failed with an unexpected error: '$line' (expected one of: $*)"
}

# esc_host_servers SPEC...: servers.py in the HOST network namespace (for
# loopback and host-address services the sandbox must not reach); its
# log is ESC_HOST_LOG.
esc_host_servers() {
	ESC_HOST_LOG=$TEST_TMP/host-$ESC_AS.log
	local ready=$TEST_TMP/host-$ESC_AS.ready
	: >"$ESC_HOST_LOG"
	"$PY" "$SERVERS" --log "$ESC_HOST_LOG" --ready-file "$ready" "$@" >"$TEST_TMP/host-$ESC_AS.err" 2>&1 &
	BG_PIDS+=($!)
	wait_file "$ready" 50 || fail "host servers $* did not start: $(cat "$TEST_TMP/host-$ESC_AS.err")"
}

# esc_host_untouched: the host services logged nothing.
esc_host_untouched() {
	local hits
	hits=$(grep -v ' ready: ' "$ESC_HOST_LOG" 2>/dev/null)
	[ -z "$hits" ] || fail "a host service the policy does not allow was reached: $(printf '%s\n' "$hits" | head -n 3)"
}
