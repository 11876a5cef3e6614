# shellcheck shell=bash
# `awf-bpf gc` and the "stale" state of `awf-bpf status`: what an awf-bpf
# killed with SIGKILL leaves (its empty cgroup with the programs attached,
# its pins) goes on demand, and nothing live goes with it.

# gc_start_run NAME: awf-bpf run -- sleep 30 in the background, with its
# maps pinned; its pid in GC_PID.
gc_start_run() {
	"$AWF" run --policy "$(policy "$1" '')" -- sleep 30 >/dev/null 2>"$TEST_TMP/$1.err" </dev/null &
	GC_PID=$!
	BG_PIDS+=("$GC_PID")
	wait_file "$AWF_BPFFS/run-$GC_PID/counters" 50 ||
		fail "run-$GC_PID never pinned its maps: $(cat "$TEST_TMP/$1.err")"
}

# gc_attached CGROUP_DIR: how many programs are attached to it.
gc_attached() {
	bpftool cgroup show "$1" 2>/dev/null | grep -c '^[0-9]'
}

test_gc_removes_a_killed_run_and_nothing_live() {
	local cg2 dead live snap=$TEST_TMP/state-before agentlike
	command -v bpftool >/dev/null || fail "bpftool not installed"
	cg2=$(cgroup2_root)
	awf_state_snapshot | sort >"$snap"
	at_exit "awf_remove_leftovers '$snap'"
	gc_start_run dead
	dead=$GC_PID
	gc_start_run live
	live=$GC_PID
	# The agent names its cgroups run-<pid>-<seq>: never ours to remove.
	agentlike=$cg2/awf-bpf/run-$dead-1
	mkdir "$agentlike" || fail "mkdir $agentlike"
	at_exit "rmdir '$agentlike'"
	kill -KILL "$dead"
	wait "$dead" 2>/dev/null
	for _ in $(seq 1 30); do
		[ -z "$(live_procs "$cg2/awf-bpf/run-$dead")" ] && break
		sleep 0.1
	done
	assert_eq "" "$(live_procs "$cg2/awf-bpf/run-$dead")" "processes of the killed run 3 s after kill -9"
	assert_file_exists "$cg2/awf-bpf/run-$dead" "cgroup of the killed run"
	assert_file_exists "$AWF_BPFFS/run-$dead" "pins of the killed run"
	assert_lt 0 "$(gc_attached "$cg2/awf-bpf/run-$dead")" "programs attached to the killed run's cgroup"

	awf status
	assert_eq 0 "$AWF_RC" "awf-bpf status"
	assert_match "$AWF_OUT" "^run-$dead +$dead +stale " "status of the killed run"
	assert_match "$AWF_OUT" "^run-$live +$live +running " "status of the live run"
	assert_contains "$AWF_OUT" "awf-bpf gc" "status says what removes a stale sandbox"

	awf gc
	assert_eq 0 "$AWF_RC" "awf-bpf gc"
	assert_match "$AWF_OUT" "^removed cgroup $cg2/awf-bpf/run-$dead\$" "gc report"
	assert_match "$AWF_OUT" "^removed pins $AWF_BPFFS/run-$dead\$" "gc report"
	if printf '%s\n' "$AWF_OUT" | grep -Eq "/run-$live(\$|[^0-9])"; then
		fail "gc reported the live run-$live: $AWF_OUT"
	fi
	assert_match "$AWF_OUT" "^gc: removed [1-9][0-9]* cgroups and [1-9][0-9]* pin directories; kept 0 with processes; 0 failed$" "gc summary"
	assert_file_absent "$cg2/awf-bpf/run-$dead" "cgroup of the killed run after gc"
	assert_file_absent "$AWF_BPFFS/run-$dead" "pins of the killed run after gc"
	assert_file_exists "$agentlike" "a cgroup named like the agent's after gc"

	assert_file_exists "$cg2/awf-bpf/run-$live" "cgroup of the live run after gc"
	assert_file_exists "$AWF_BPFFS/run-$live/meta" "pins of the live run after gc"
	assert_lt 0 "$(gc_attached "$cg2/awf-bpf/run-$live")" "programs attached to the live run's cgroup after gc"
	assert_ne "" "$(live_procs "$cg2/awf-bpf/run-$live")" "processes of the live run after gc"

	awf gc
	assert_eq 0 "$AWF_RC" "a second awf-bpf gc"
	assert_eq "gc: removed 0 cgroups and 0 pin directories; kept 0 with processes; 0 failed" \
		"$AWF_OUT" "a second gc finds nothing"

	kill -TERM "$live"
	wait "$live"
	assert_eq 143 "$?" "exit status of the live run, stopped after the gcs"
	assert_file_absent "$cg2/awf-bpf/run-$live" "cgroup of the live run after it ended"
}

# A cgroup that still has a process is still enforced: gc keeps it, and
# the pins with it, until it is empty.
test_gc_keeps_a_populated_cgroup() {
	local cg2 cg dead straggler snap=$TEST_TMP/state-before
	cg2=$(cgroup2_root)
	awf_state_snapshot | sort >"$snap"
	at_exit "awf_remove_leftovers '$snap'"
	gc_start_run dead
	dead=$GC_PID
	cg=$cg2/awf-bpf/run-$dead
	kill -KILL "$dead"
	wait "$dead" 2>/dev/null
	for _ in $(seq 1 30); do
		[ -z "$(live_procs "$cg")" ] && break
		sleep 0.1
	done
	assert_eq "" "$(live_procs "$cg")" "processes of the killed run 3 s after kill -9"
	# A process that outlived its awf-bpf, as far as gc can tell.
	sleep 30 &
	straggler=$!
	BG_PIDS+=("$straggler")
	echo "$straggler" >"$cg/cgroup.procs" || fail "moving pid $straggler into $cg"

	awf gc
	assert_eq 0 "$AWF_RC" "awf-bpf gc with a populated stale cgroup"
	assert_match "$AWF_OUT" "^kept $cg: " "gc report"
	assert_match "$AWF_OUT" "kept [1-9][0-9]* with processes; 0 failed$" "gc summary"
	assert_file_exists "$cg" "the populated cgroup after gc"
	assert_file_exists "$AWF_BPFFS/run-$dead/meta" "its pins after gc"
	awf status
	assert_match "$AWF_OUT" "^run-$dead +$dead +stale " "status of the kept sandbox"

	kill -KILL "$straggler"
	wait "$straggler" 2>/dev/null
	for _ in $(seq 1 30); do
		[ -z "$(live_procs "$cg")" ] && break
		sleep 0.1
	done
	awf gc
	assert_eq 0 "$AWF_RC" "awf-bpf gc once the cgroup is empty"
	assert_match "$AWF_OUT" "^removed cgroup $cg\$" "gc report"
	assert_match "$AWF_OUT" "^removed pins $AWF_BPFFS/run-$dead\$" "gc report"
	assert_file_absent "$cg" "the cgroup once empty and gc ran"
	assert_file_absent "$AWF_BPFFS/run-$dead" "its pins once gc removed the cgroup"
}

# A run that died during its set-up (before the pins, which come once
# its command runs) leaves an empty cgroup named by its pid. The next run
# that gets the same pid takes the name over (gc_sweep_id()): the run
# before it is dead, whatever its pid says. The shell's pid is awf-bpf's
# once it execs, so the stale cgroup is made under that name.
test_gc_run_takes_over_its_own_name() {
	local cg2 snap=$TEST_TMP/state-before
	cg2=$(cgroup2_root)
	awf_state_snapshot | sort >"$snap"
	at_exit "awf_remove_leftovers '$snap'"
	mkdir -p "$cg2/awf-bpf" || fail "mkdir $cg2/awf-bpf"
	sh -c 'mkdir "$0/awf-bpf/run-$$" && echo "$$" >"$1" && shift && exec "$@"' "$cg2" \
		"$TEST_TMP/pid" "$AWF" run --standalone --policy "$(policy p '')" -- touch "$TEST_TMP/ran" \
		>"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null
	assert_eq 0 "$?" "exit status ($(cat "$TEST_TMP/err"))"
	assert_file_exists "$TEST_TMP/ran" "the command's file"
	assert_file_absent "$cg2/awf-bpf/run-$(cat "$TEST_TMP/pid")" "the run's cgroup after it"
	assert_eq "" "$(awf_leftovers "$snap")" "left behind"
}

test_gc_usage() {
	awf gc --help
	assert_eq 0 "$AWF_RC" "awf-bpf gc --help"
	assert_contains "$AWF_OUT" "Usage: awf-bpf gc" "gc --help"
	awf gc extra
	assert_eq 2 "$AWF_RC" "awf-bpf gc with an operand"
	awf gc --bogus
	assert_eq 2 "$AWF_RC" "awf-bpf gc --bogus"
	awf help
	assert_contains "$AWF_OUT" "gc " "awf-bpf help lists gc"
}
