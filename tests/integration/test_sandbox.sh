# shellcheck shell=bash
# The sandbox itself: the workload runs in its own cgroup, as the invoking
# user (root here) without the capabilities that could lift the filter,
# and cannot get out from under it.

test_sandbox_runs_in_own_cgroup() {
	# Seen from the host, the workload is in <cgroup2>/awf-bpf/run-*.
	# (Inside, a cgroup namespace may show that cgroup as "/".)
	local pol pid cg2 procfile rc bg pidfile=$TEST_TMP/pid go=$TEST_TMP/go
	cg2=$(cgroup2_root)
	pol=$(policy p '')
	"$AWF" run --policy "$pol" -- sh -c "echo \$\$ >$pidfile; i=0
		while [ ! -e $go ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done; id -u" \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null &
	bg=$!
	BG_PIDS+=("$bg")
	wait_file "$pidfile" 100 || fail "workload did not start: $(cat "$TEST_TMP/err")"
	# $$ inside is its pid in the sandbox's PID namespace: from the host,
	# the workload is the child of the sandbox's init, awf-bpf's child.
	pid=$(pgrep -P "$(pgrep -P "$bg")")
	[ -n "$pid" ] || fail "no workload under awf-bpf $bg"
	local cgline
	cgline=$(grep '^0::' "/proc/$pid/cgroup")
	log "workload $pid: $cgline"
	assert_match "$cgline" '^0::/awf-bpf/run-[^/]+$' "the workload's cgroup (from the host)"
	procfile="$cg2${cgline#0::}/cgroup.procs"
	grep -qx "$pid" "$procfile" || fail "workload $pid not in $procfile: $(cat "$procfile")"
	touch "$go"
	wait "$bg"
	rc=$?
	assert_eq 0 "$rc" "exit status"
	assert_eq 0 "$(cat "$TEST_TMP/out")" "uid inside (the invoking user)"
}

test_sandbox_capabilities_dropped() {
	local pol line set hex bit name
	pol=$(policy p '')
	awf_run --policy "$pol" -- grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)):' /proc/self/status
	assert_eq 0 "$AWF_RC" "exit status"
	for set in CapInh CapPrm CapEff CapBnd CapAmb; do
		line=$(printf '%s\n' "$AWF_OUT" | grep "^$set:")
		[ -n "$line" ] || fail "no $set line in: $AWF_OUT"
		hex=${line##*[[:space:]]}
		for bit in 12:CAP_NET_ADMIN 13:CAP_NET_RAW 21:CAP_SYS_ADMIN 39:CAP_BPF; do
			name=${bit#*:}
			bit=${bit%%:*}
			[ $(((0x$hex >> bit) & 1)) = 0 ] || fail "$set of the workload holds $name ($set: $hex)"
		done
	done
	# Still root otherwise: it may, e.g., read /proc/self/status of init.
	line=$(printf '%s\n' "$AWF_OUT" | grep '^CapEff:')
	assert_ne "0000000000000000" "${line##*[[:space:]]}" "CapEff (root keeps the other capabilities)"
}

test_sandbox_cannot_leave_its_cgroup() {
	local pol cg2 before
	cg2=$(cgroup2_root)
	pol=$(policy p '"allow_cidrs": ["198.18.0.10/32"]')
	before=$(server_hits "http $BLOCKED4:80 ")
	at_exit "rmdir '$cg2/awft-escape' 2>/dev/null"
	# Move to the root cgroup, or to a new one, then connect.
	awf_run --policy "$pol" -- sh -c "
		echo \$\$ >$cg2/cgroup.procs 2>/dev/null && echo moved-to-root >&2
		$PY $PROBE tcp $BLOCKED4 80
		mkdir $cg2/awft-escape 2>/dev/null && echo \$\$ >$cg2/awft-escape/cgroup.procs 2>/dev/null && echo moved-to-new >&2
		$PY $PROBE tcp $BLOCKED4 80
		grep '^0::' /proc/self/cgroup >&2"
	local lines
	mapfile -t lines <<<"$AWF_OUT"
	assert_eperm_fast "${lines[0]:-}" "tcp $BLOCKED4:80 after trying to move to the root cgroup"
	assert_eperm_fast "${lines[1]:-}" "tcp $BLOCKED4:80 after trying to move to a new cgroup"
	assert_eq "$before" "$(server_hits "http $BLOCKED4:80 ")" "connections seen by the blocked host"
}

test_sandbox_killing_awf_bpf_keeps_network_closed() {
	# A root workload may signal its parent (same uid). Its parent is the
	# sandbox's init (pid 1 of its PID namespace, immune to SIGKILL from
	# inside); awf-bpf is out of its sight. Should the kill land anyway,
	# the filter must not go with it while the workload lives on: the
	# workload SIGKILLs its parent, then connects in a tight loop for 2 s.
	# (awf-bpf SIGKILLed from outside: tests/integration/test_failclosed.sh.)
	local pol before snap results=$TEST_TMP/results
	pol=$(policy p '"allow_cidrs": ["198.18.0.10/32"]')
	before=$(server_hits "http $BLOCKED4:80 ")
	snap=$TEST_TMP/state-before
	awf_state_snapshot | sort >"$snap"
	# awf-bpf cannot clean up after a SIGKILL: remove its stale cgroup.
	at_exit "awf_remove_leftovers '$snap'"
	cat >"$TEST_TMP/killer.py" <<EOF
import os, signal, socket, sys, time
out = open("$results", "a", buffering=1)
ppid = os.getppid()
comm = open("/proc/%d/comm" % ppid).read().strip()
out.write("parent %d %s\n" % (ppid, comm))
if comm not in ("awf-bpf", "awf-bpf-init"):
    sys.exit(9)
os.kill(ppid, signal.SIGKILL)
t0 = time.monotonic()
n = ok = 0
while time.monotonic() - t0 < 2 and n < 500:
    s = socket.socket()
    s.settimeout(0.5)
    try:
        s.connect(("$BLOCKED4", 80))
        ok += 1
        if ok == 1:
            out.write("CONNECTED %.1f ms after the kill\n" % ((time.monotonic() - t0) * 1000))
    except OSError:
        pass
    s.close()
    n += 1
    time.sleep(0.002)
out.write("attempts=%d connected=%d\n" % (n, ok))
EOF
	awf_run --policy "$pol" -- "$PY" "$TEST_TMP/killer.py"
	assert_ne 9 "$AWF_RC" "exit status (awf-bpf or its init must be the workload's parent)"
	sleep 2.5 # an orphaned workload's loop ends within 2 s
	log "results: $(tr '\n' ';' <"$results" 2>/dev/null)"
	assert_contains "$(cat "$results" 2>/dev/null)" "parent" "the workload ran"
	assert_eq "$before" "$(server_hits "http $BLOCKED4:80 ")" "connections to the blocked host after awf-bpf was killed"
	assert_not_contains "$(cat "$results")" "CONNECTED" "results of the workload"
}

test_sandbox_cannot_use_bpf() {
	# bpf(BPF_PROG_GET_NEXT_ID) needs CAP_SYS_ADMIN: the first step of
	# finding the sandbox's programs to detach them.
	local pol
	pol=$(policy p '')
	awf_run --policy "$pol" -- "$PY" -c '
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
attr = ctypes.create_string_buffer(128)
r = libc.syscall(321, 11, attr, 128)  # SYS_bpf, BPF_PROG_GET_NEXT_ID
print("bpf", r, errno.errorcode.get(ctypes.get_errno(), ctypes.get_errno()) if r < 0 else "ok")'
	assert_eq "bpf -1 EPERM" "$AWF_OUT" "bpf(BPF_PROG_GET_NEXT_ID) inside the sandbox"
}
