# shellcheck shell=bash
# Fail closed: awf-bpf killed with SIGKILL at any moment (during set-up,
# while the workload runs, while a DNS answer is in flight) leaves no
# process of the workload running, and nothing of the workload reaches a
# host the policy does not allow. The sandbox's init dies with awf-bpf
# (PR_SET_PDEATHSIG) and the kernel kills its whole PID namespace; the
# programs stay attached to the cgroup until then. The stale run-<pid>
# cgroup is removed by the next awf-bpf run.

FC_ITERATIONS=${FC_ITERATIONS:-20}

# fc_loop_script: a workload that tries the blocked host over and over
# (argv: MODE RESULTS MARKER; MODE dns also resolves names through the
# sandbox's DNS endpoint, by way of the trusted server's address). One line
# per attempt on the blocked host in RESULTS: "ok ADDR" or "err ADDR ERRNO".
fc_loop_script() {
	cat >"$TEST_TMP/loop.py" <<EOF
import errno, socket, sys, time
sys.path.insert(0, "$TOOLS")
import probe
mode, results = sys.argv[1], sys.argv[2]
out = open(results, "a", buffering=1)

def resolve(name):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.3)
    try:
        qid, q = probe.dns_query(name, "A")
        s.sendto(q, ("$DNS4", 53))
        data, _ = s.recvfrom(4096)
        return [a for a in probe.dns_parse(data, qid).split(",") if a.count(".") == 3]
    except OSError:
        return []
    finally:
        s.close()

t0 = time.monotonic()
while time.monotonic() - t0 < 20:
    targets = ["$BLOCKED4"]
    if mode == "dns":
        resolve("allowed.test")
        targets += resolve("blocked.test")
    for addr in targets:
        s = socket.socket()
        s.settimeout(0.3)
        try:
            s.connect((addr, 80))
            out.write("ok %s\n" % addr)
        except OSError as e:
            out.write("err %s %s\n" % (addr, errno.errorcode.get(e.errno, e.errno)))
        finally:
            s.close()
    time.sleep(0.005)
EOF
}

# fc_wait_gone MARKER CGROUP_DIR: within 2 s, no process whose command
# line holds MARKER (awf-bpf, the sandbox's init, the workload) and none in
# the cgroup. Prints what survived, nothing when all are gone.
fc_wait_gone() {
	local marker=$1 cg=$2 i left
	for i in $(seq 1 20); do
		left="$(pgrep -f -- "$marker" | tr '\n' ' ')$(live_procs "$cg")"
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	printf '%s\n' "$left"
}

# fc_kill_loop MODE POLICY: FC_ITERATIONS runs of the loop, each awf-bpf
# SIGKILLed after a random 0-300 ms. Sets FC_RAN (iterations in which the
# workload got to write a result).
fc_kill_loop() {
	local mode=$1 pol=$2 i delay marker awf_pid survivors cg2 n_before n_after
	local results=$TEST_TMP/results
	cg2=$(cgroup2_root)
	FC_RAN=0
	: >"$results"
	for i in $(seq 1 "$FC_ITERATIONS"); do
		delay=$((RANDOM % 300))
		marker="awft-failclosed-$mode-$i-$$"
		n_before=$(wc -l <"$results")
		"$AWF" run --policy "$pol" -- "$PY" "$TEST_TMP/loop.py" "$mode" "$results" "$marker" \
			>/dev/null 2>>"$TEST_TMP/awf.err" </dev/null &
		awf_pid=$!
		sleep "$(printf '0.%03d' "$delay")"
		kill -KILL "$awf_pid" 2>/dev/null
		wait "$awf_pid" 2>/dev/null
		survivors=$(fc_wait_gone "$marker" "$cg2/awf-bpf/run-$awf_pid")
		n_after=$(wc -l <"$results")
		log "iteration $i: SIGKILL after ${delay} ms, $((n_after - n_before)) attempts"
		[ -z "$survivors" ] || fail "iteration $i (SIGKILL after ${delay} ms): still running 2 s later: $survivors"
		[ "$n_after" -gt "$n_before" ] && FC_RAN=$((FC_RAN + 1))
	done
}

# fc_check HITS_BEFORE SNAPSHOT: nothing reached the blocked host; then the
# next run removes every stale cgroup the SIGKILLs left.
fc_check() {
	local before_hits=$1 snap=$2 left
	log "the workload ran in $FC_RAN of $FC_ITERATIONS iterations"
	assert_lt 0 "$FC_RAN" "iterations in which the workload ran (none: the test proves nothing)"
	assert_eq "$before_hits" "$(server_hits "http $BLOCKED4:80 ")" "connections seen by the blocked host"
	assert_eq 0 "$(grep -c '^ok' "$TEST_TMP/results")" "connections that succeeded: $(grep '^ok' "$TEST_TMP/results" | sort | uniq -c | head -3)"
	assert_contains "$(cat "$TEST_TMP/results")" "err $BLOCKED4 EPERM" "results of the workload"
	awf_run --policy "$(policy sweep '')" -- true
	assert_eq 0 "$AWF_RC" "a run after the SIGKILLs"
	left=$(awf_leftovers "$snap")
	assert_eq "" "$left" "left behind after the next run (gc_sweep)"
}

test_failclosed_sigkill_while_connecting() {
	local pol before snap=$TEST_TMP/state-before
	awf_state_snapshot | sort >"$snap"
	at_exit "awf_remove_leftovers '$snap'"
	fc_loop_script
	pol=$(policy p '"allow_cidrs": ["198.18.0.10/32"]')
	before=$(server_hits "http $BLOCKED4:80 ")
	fc_kill_loop connect "$pol"
	fc_check "$before" "$snap"
}

test_failclosed_sigkill_while_resolving() {
	local pol before snap=$TEST_TMP/state-before
	awf_state_snapshot | sort >"$snap"
	at_exit "awf_remove_leftovers '$snap'"
	fc_loop_script
	pol=$(policy p '"allow_domains": ["allowed.test"]')
	before=$(server_hits "http $BLOCKED4:80 ")
	fc_kill_loop dns "$pol"
	fc_check "$before" "$snap"
	# The DNS endpoint did answer in some of the runs.
	assert_lt 0 "$(dns_queries trusted allowed.test)" "queries for allowed.test forwarded to the trusted server"
}

test_failclosed_kill9_leaves_no_process_and_next_run_sweeps() {
	local pol cg2 cg awf_pid pids pid ready=$TEST_TMP/ready snap=$TEST_TMP/state-before
	cg2=$(cgroup2_root)
	awf_state_snapshot | sort >"$snap"
	at_exit "awf_remove_leftovers '$snap'"
	pol=$(policy p '')
	# Background children: the workload's direct child is not all of it.
	"$AWF" run --policy "$pol" -- sh -c "sleep 60 & sleep 60 & touch $ready; wait" \
		>/dev/null 2>"$TEST_TMP/err" </dev/null &
	awf_pid=$!
	wait_file "$ready" 100 || { kill -9 "$awf_pid"; fail "workload did not start: $(cat "$TEST_TMP/err")"; }
	cg=$cg2/awf-bpf/run-$awf_pid
	pids=$(cat "$cg/cgroup.procs")
	log "processes in $cg: $(echo $pids)"
	assert_le 3 "$(echo "$pids" | wc -w)" "processes in the sandbox (sh, 2 x sleep; init)"
	kill -KILL "$awf_pid"
	wait "$awf_pid" 2>/dev/null
	for _ in $(seq 1 20); do
		[ -z "$(live_procs "$cg")" ] && break
		sleep 0.1
	done
	for pid in $pids; do
		alive "$pid" && fail "process $pid ($(cat "/proc/$pid/comm" 2>/dev/null)) of the workload still runs 2 s after kill -9 of awf-bpf"
	done
	assert_file_exists "$cg" "the killed run's cgroup (awf-bpf could not remove it)"
	awf_run --policy "$pol" -- true
	assert_eq 0 "$AWF_RC" "the next run"
	assert_file_absent "$cg" "the killed run's cgroup after the next run (gc_sweep)"
}

# clone's number, as /proc/PID/syscall shows it.
fc_sys_clone() {
	case $(uname -m) in
	x86_64) echo 56 ;;
	aarch64) echo 220 ;;
	*) skip_test "clone's syscall number on $(uname -m) unknown to the test" ;;
	esac
}

# awf-bpf SIGKILLed while the workload waits at the gate, before exec: its
# init is then asleep in clone (CLONE_VFORK: until the workload execs or
# exits), and the SIGKILL that PR_SET_PDEATHSIG sends must end that sleep
# at once, and with init the whole PID namespace; the command never runs.
# strace (nothing else traced) holds awf-bpf's main thread at the return
# of the clone3 that makes the sandbox, for as long as the test needs:
# the gate, which the main thread opens after attach, stays shut. The
# clone3s before it start the threads that load the programs (glibc >=
# 2.34 makes threads with clone3): one on two CPUs or fewer, where the
# main thread is the second lane (user/kernel/loader.c), two otherwise.
test_failclosed_sigkill_while_workload_at_gate() {
	local pol cg2 tracer awf='' init='' wl='' clone_nr snap=$TEST_TMP/state-before
	local sandbox_clone=3
	command -v strace >/dev/null || skip_test "no strace"
	[ "$(nproc)" -le 2 ] && sandbox_clone=2
	clone_nr=$(fc_sys_clone)
	cg2=$(cgroup2_root)
	awf_state_snapshot | sort >"$snap"
	at_exit "awf_remove_leftovers '$snap'"
	pol=$(policy p '')
	strace -o /dev/null -e trace=clone3 -e inject=clone3:delay_exit=20000000:when=$sandbox_clone \
		"$AWF" run --policy "$pol" -- touch "$TEST_TMP/ran" \
		>/dev/null 2>"$TEST_TMP/err" </dev/null &
	tracer=$!
	at_exit "kill -KILL $tracer 2>/dev/null"
	for _ in $(seq 1 100); do
		awf=$(pgrep -P "$tracer")
		[ -n "$awf" ] && init=$(pgrep -P "$awf")
		[ -n "$init" ] && wl=$(pgrep -P "$init")
		[ -n "$wl" ] && [ "$(cut -d' ' -f1 "/proc/$wl/syscall" 2>/dev/null)" = 0 ] && break
		sleep 0.1
	done
	[ -n "$wl" ] || fail "no workload at the gate within 10 s: $(cat "$TEST_TMP/err")"
	log "awf-bpf $awf, init $init (in syscall $(cut -d' ' -f1 "/proc/$init/syscall")), workload $wl"
	assert_eq "$clone_nr" "$(cut -d' ' -f1 "/proc/$init/syscall")" "the syscall init is in (clone)"
	assert_eq "$(readlink "/proc/$init/exe")" "$(readlink "/proc/$wl/exe")" "the workload's program (not exec'd yet)"
	# A tracee stopped by its tracer dies of SIGKILL once let go: strace
	# killed, it is.
	kill -KILL "$awf"
	kill -KILL "$tracer"
	wait "$tracer" 2>/dev/null
	for _ in $(seq 1 20); do
		alive "$awf" || alive "$init" || alive "$wl" || break
		sleep 0.1
	done
	alive "$awf" && fail "awf-bpf $awf still runs 2 s after kill -9"
	alive "$init" && fail "init $init still runs 2 s after kill -9 of awf-bpf (state $(awk '{print $3}' "/proc/$init/stat"))"
	alive "$wl" && fail "workload $wl still runs 2 s after kill -9 of awf-bpf"
	assert_eq "" "$(live_procs "$cg2/awf-bpf/run-$awf")" "processes left in the sandbox cgroup"
	assert_file_absent "$TEST_TMP/ran" "a file the command would have made"
	# The next run sweeps the stale cgroup once awf-bpf's pid is free:
	# orphaned by strace, its zombie is pid 1's to reap.
	for _ in $(seq 1 50); do
		[ -e "/proc/$awf" ] || break
		sleep 0.1
	done
	[ -e "/proc/$awf" ] && { log "awf-bpf's zombie not reaped by pid 1 within 5 s: no sweep to check"; return 0; }
	awf_run --policy "$pol" -- true
	assert_eq 0 "$AWF_RC" "the next run"
	assert_eq "" "$(awf_leftovers "$snap")" "left behind after the next run (gc_sweep)"
}

# The sandbox is spawned while the programs are loaded, and its workload
# waits right before exec: a set-up that fails after that point (here:
# the audit log cannot be opened, which happens once the core's maps
# exist, while the groups load) must not let the command run, and must
# leave no process behind.
test_failclosed_setup_fails_after_spawn() {
	local pol snap=$TEST_TMP/state-before
	awf_state_snapshot | sort >"$snap"
	at_exit "awf_remove_leftovers '$snap'"
	pol=$(policy p '')
	"$AWF" run --standalone --policy "$pol" \
		--audit-log "$TEST_TMP/no-such-dir/audit.jsonl" \
		-- touch "$TEST_TMP/ran" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null
	AWF_RC=$?
	assert_eq 125 "$AWF_RC" "exit status ($(cat "$TEST_TMP/err"))"
	assert_contains "$(cat "$TEST_TMP/err")" "$TEST_TMP/no-such-dir/audit.jsonl" "the error"
	assert_file_absent "$TEST_TMP/ran" "a file the command would have made"
	assert_eq "" "$(awf_leftovers "$snap")" "left behind"
}

# The programs load in groups on two threads (user/kernel/group_load.h):
# the core (every map, awf_recvmsg4) on the first, then groups A to G
# (and NAMES where names are checked), each thread taking the next as it
# is done. Whichever fails, while the others may be loading or
# done: the command never runs, exit 125, one line of error that names
# the group, and nothing is left (the other groups' programs, the core's
# maps). tests/tools/fail_loader.c fails the load of one program, or the
# creation of one map, by name; a static binary takes no LD_PRELOAD.
group_load_fails_case() { # policy env=name what [group]
	local pol=$1 env=$2 what=$3 group=${4:-}
	env LD_PRELOAD="$shim" "$env" "$AWF" run --standalone --policy "$pol" \
		-- touch "$TEST_TMP/ran" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null
	AWF_RC=$?
	assert_eq 125 "$AWF_RC" "exit status, $what failing ($(cat "$TEST_TMP/err"))"
	if [ -n "$group" ]; then
		assert_contains "$(cat "$TEST_TMP/err")" "loading BPF programs, group $group: Operation not permitted" "the error, $what failing"
	else
		assert_contains "$(cat "$TEST_TMP/err")" "loading BPF programs: Operation not permitted" "the error, $what failing"
	fi
	assert_eq 1 "$(wc -l <"$TEST_TMP/err")" "lines of error, $what failing"
	assert_file_absent "$TEST_TMP/ran" "a file the command would have made, $what failing"
	assert_eq "" "$(awf_leftovers "$snap")" "left behind, $what failing"
}

test_failclosed_group_load_fails() {
	local pol shim snap=$TEST_TMP/state-before
	file -b "$AWF" | grep -q 'statically linked' && skip_test "a static binary takes no LD_PRELOAD"
	shim=$TEST_TMP/fail_loader.so
	gcc -O1 -Wall -shared -fPIC -o "$shim" "$TOOLS/fail_loader.c" -ldl >"$TEST_TMP/cc.log" 2>&1 ||
		fail "building the shim: $(cat "$TEST_TMP/cc.log")"
	awf_state_snapshot | sort >"$snap"
	at_exit "awf_remove_leftovers '$snap'"
	pol=$(policy p '')
	group_load_fails_case "$pol" AWF_TEST_FAIL_MAP=learned4 "the core's map learned4"
	group_load_fails_case "$pol" AWF_TEST_FAIL_PROG=awf_recvmsg4 "the core's program"
	group_load_fails_case "$pol" AWF_TEST_FAIL_PROG=awf_egress "group A's first program" a
	group_load_fails_case "$pol" AWF_TEST_FAIL_PROG=awf_getpeername6 "group A's last program" a
	group_load_fails_case "$pol" AWF_TEST_FAIL_PROG=awf_sendmsg6 "group B's program" b
	group_load_fails_case "$pol" AWF_TEST_FAIL_PROG=awf_connect4 "group E's program" e
	group_load_fails_case "$pol" AWF_TEST_FAIL_PROG=awf_bind6 "group F's first program" f
	group_load_fails_case "$pol" AWF_TEST_FAIL_PROG=awf_post_bind4 "group G's last program" g
	# A policy whose names are checked has one group more, NAMES.
	pol=$(policy names '"allow_domains": ["example.test"]')
	group_load_fails_case "$pol" AWF_TEST_FAIL_PROG=awf_first_bytes "group NAMES's program" names
	# The shim fails nothing else: the same run without a name.
	LD_PRELOAD=$shim "$AWF" run --standalone --policy "$pol" -- touch "$TEST_TMP/ran" \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null
	assert_eq 0 "$?" "exit status with the shim failing nothing ($(cat "$TEST_TMP/err"))"
	assert_file_exists "$TEST_TMP/ran" "the command's file"
}

# A policy that turns out to be invalid ends a --standalone run with
# 125, nothing run and nothing left (no load thread, no cgroup, no pin).
test_failclosed_bad_policy_while_loading() {
	local pol=$TEST_TMP/bad.json snap=$TEST_TMP/state-before
	awf_state_snapshot | sort >"$snap"
	at_exit "awf_remove_leftovers '$snap'"
	printf '%s\n' '{"version": 1, "dns_servers": ["127.0.0.1"], "allow_cidrs": [{"cidr": "not-a-cidr"}]}' >"$pol"
	"$AWF" run --standalone --policy "$pol" -- touch "$TEST_TMP/ran" \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null
	AWF_RC=$?
	assert_eq 125 "$AWF_RC" "exit status ($(cat "$TEST_TMP/err"))"
	assert_contains "$(cat "$TEST_TMP/err")" "not-a-cidr" "the error"
	assert_file_absent "$TEST_TMP/ran" "a file the command would have made"
	assert_eq "" "$(awf_leftovers "$snap")" "left behind"
}

# The pins are made once the command runs (they serve `dump` and
# `status`, not enforcement): when they cannot be (here: the pin
# directory of this run's id is taken by one it cannot remove), the
# command runs on, confined all the same, and awf-bpf says that the
# sandbox cannot be seen.
test_failclosed_publish_fails_after_start() {
	local pol taken line snap=$TEST_TMP/state-before
	awf_state_snapshot | sort >"$snap"
	at_exit "awf_remove_leftovers '$snap'"
	pol=$(policy p '"allow_cidrs": [{"cidr": "198.18.0.10/32", "ports": [8080]}]')
	mkdir -p "$AWF_BPFFS" || fail "cannot create $AWF_BPFFS"
	# The shell's pid is awf-bpf's once it execs: its run-<pid> is known.
	# The probe connects once the pins have failed (they come within ms).
	sh -c 'mkdir "$0/run-$$" "$0/run-$$/taken" && exec "$@"' "$AWF_BPFFS" \
		"$AWF" run --standalone --policy "$pol" -- sh -c \
		'sleep 0.3; "$0" "$1" tcp "$2" 9000' "$PY" "$PROBE" "$ALLOWED4" \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null
	AWF_RC=$?
	taken=$(find "$AWF_BPFFS" -maxdepth 2 -path '*/run-*/taken')
	[ -n "$taken" ] && rmdir "$taken" "$(dirname "$taken")"
	line=$(head -n 1 "$TEST_TMP/out")
	assert_eperm_fast "$line" "tcp $ALLOWED4:9000 in a sandbox without pins"
	assert_eq 1 "$AWF_RC" "exit status (the probe's) ($(cat "$TEST_TMP/err"))"
	assert_contains "$(cat "$TEST_TMP/err")" "mkdir $AWF_BPFFS/run-" "the error"
	assert_contains "$(cat "$TEST_TMP/err")" "cannot see it" "the error"
	assert_eq "" "$(awf_leftovers "$snap")" "left behind"
}
