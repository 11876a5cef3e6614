# shellcheck shell=bash
# Exit status of `awf-bpf run`: the command's own; 127 not found, 126 not
# executable, 124 --timeout, 128+N killed by signal N, 125 awf-bpf failed,
# 137 the sandbox killed after SIGTERM/SIGINT (--kill-after).

test_exit_status_passes_through() {
	local pol code
	pol=$(policy p '')
	for code in 0 1 42 255; do
		awf_run --policy "$pol" -- sh -c "exit $code"
		assert_eq "$code" "$AWF_RC" "awf-bpf run -- sh -c 'exit $code'"
	done
}

test_exit_missing_command() {
	local pol
	pol=$(policy p '')
	awf_run --policy "$pol" -- /nonexistent/awft-no-such-command
	assert_eq 127 "$AWF_RC" "missing command (a path)"
	awf_run --policy "$pol" -- awft-no-such-command-in-path
	assert_eq 127 "$AWF_RC" "missing command (looked up in PATH)"
	assert_contains "$AWF_ERR" "awft-no-such-command-in-path" "stderr names the command"
}

test_exit_not_executable() {
	local pol
	pol=$(policy p '')
	printf '#!/bin/sh\necho ran\n' >"$TEST_TMP/not-exec"
	chmod 0644 "$TEST_TMP/not-exec"
	awf_run --policy "$pol" -- "$TEST_TMP/not-exec"
	assert_eq 126 "$AWF_RC" "non-executable file"
	assert_not_contains "$AWF_OUT" "ran" "stdout"
}

test_exit_timeout() {
	local pol
	pol=$(policy p '')
	awf_run --policy "$pol" --timeout 1 -- sleep 30
	assert_eq 124 "$AWF_RC" "--timeout 1 -- sleep 30"
	assert_lt "$AWF_MS" 5000 "wall time of --timeout 1 (ms)"
	# The whole sandbox goes, not only the direct child.
	awf_run --policy "$pol" --timeout 1 -- sh -c "sleep 30 & sleep 30 & echo started; wait"
	assert_eq 124 "$AWF_RC" "--timeout 1 with background children"
	assert_lt "$AWF_MS" 5000 "wall time (ms)"
}

test_exit_killed_by_signal() {
	local pol
	pol=$(policy p '')
	awf_run --policy "$pol" -- sh -c 'kill -9 $$'
	assert_eq 137 "$AWF_RC" "sh -c 'kill -9 \$\$'"
	awf_run --policy "$pol" -- sh -c 'kill -TERM $$'
	assert_eq 143 "$AWF_RC" "sh -c 'kill -TERM \$\$'"
}

test_exit_sigterm_is_forwarded() {
	local pol pid rc ready=$TEST_TMP/ready marker=$TEST_TMP/got-term i
	pol=$(policy p '')
	# The workload dies of the SIGTERM it received, after writing a marker.
	"$AWF" run --policy "$pol" -- sh -c "
		trap 'echo got-term >$marker; trap - TERM; kill -TERM \$\$' TERM
		touch $ready
		i=0; while [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
		exit 3" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null &
	pid=$!
	wait_file "$ready" 100 || { kill -9 "$pid"; fail "workload did not start: $(cat "$TEST_TMP/err")"; }
	kill -TERM "$pid"
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		wait "$pid"
		fail "awf-bpf still running 10 s after SIGTERM"
	fi
	wait "$pid"
	rc=$?
	cat "$TEST_TMP/err"
	assert_file_exists "$marker" "marker written by the workload's TERM trap"
	assert_eq 143 "$rc" "exit status of awf-bpf after SIGTERM"
}

# start_term_ignorer [RUN-OPTIONS...]: awf-bpf run in the background with a
# workload that notes every SIGTERM/SIGINT in $TEST_TMP/got-term and runs
# on, with a child of its own; IGNORER is awf-bpf's pid once it is ready.
start_term_ignorer() {
	local pol
	pol=$(policy p '')
	"$AWF" run --policy "$pol" "$@" -- sh -c "
		trap 'echo term >>$TEST_TMP/got-term' TERM INT
		sleep 60 &
		touch $TEST_TMP/ready
		i=0; while [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
		exit 3" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null &
	IGNORER=$!
	BG_PIDS+=("$IGNORER")
	wait_file "$TEST_TMP/ready" 100 || fail "workload did not start: $(cat "$TEST_TMP/err")"
}

# wait_ignorer TENTHS: wait at most TENTHS/10 s for awf-bpf to exit; sets
# IGNORER_RC and IGNORER_MS (since $T0, in ms).
wait_ignorer() {
	local i
	for i in $(seq 1 "$1"); do
		kill -0 "$IGNORER" 2>/dev/null || break
		sleep 0.1
	done
	IGNORER_MS=$((($(date +%s%N) - T0) / 1000000))
	if kill -0 "$IGNORER" 2>/dev/null; then
		kill -KILL "$IGNORER"
		wait "$IGNORER"
		fail "awf-bpf still running $((IGNORER_MS / 1000)) s after SIGTERM"
	fi
	wait "$IGNORER"
	IGNORER_RC=$?
	cat "$TEST_TMP/err"
}

test_exit_kill_after_grace() {
	start_term_ignorer --kill-after 1
	T0=$(date +%s%N)
	kill -TERM "$IGNORER"
	wait_ignorer 100
	assert_eq 137 "$IGNORER_RC" "exit status when the sandbox was killed"
	assert_file_exists "$TEST_TMP/got-term" "the workload's note of the SIGTERM passed on"
	assert_le 900 "$IGNORER_MS" "ms from SIGTERM to exit (--kill-after 1)"
	assert_lt "$IGNORER_MS" 5000 "ms from SIGTERM to exit (--kill-after 1)"
	assert_contains "$(cat "$TEST_TMP/err")" "--kill-after" "stderr says why"
}

test_exit_second_sigterm_kills() {
	# The default grace is 10 s: the second SIGTERM must not wait for it.
	start_term_ignorer
	kill -TERM "$IGNORER"
	wait_file "$TEST_TMP/got-term" 50 || fail "the first SIGTERM was not passed on"
	kill -0 "$IGNORER" || fail "awf-bpf exited on the first SIGTERM"
	T0=$(date +%s%N)
	kill -TERM "$IGNORER"
	wait_ignorer 100
	assert_eq 137 "$IGNORER_RC" "exit status after a second SIGTERM"
	assert_lt "$IGNORER_MS" 3000 "ms from the second SIGTERM to exit"
}

test_exit_kill_after_zero() {
	start_term_ignorer --kill-after 0
	T0=$(date +%s%N)
	kill -INT "$IGNORER"
	wait_ignorer 100
	assert_eq 137 "$IGNORER_RC" "exit status with --kill-after 0"
	assert_lt "$IGNORER_MS" 3000 "ms from SIGINT to exit (--kill-after 0)"
	assert_file_absent "$TEST_TMP/got-term" "a SIGINT passed on despite --kill-after 0"
}

test_exit_kill_after_bad_values() {
	local v pol
	pol=$(policy p '')
	for v in -1 +5 abc 1s 1.5 604801 99999999999999999999 ''; do
		awf_run --policy "$pol" --kill-after "$v" -- touch "$TEST_TMP/ran"
		assert_eq 125 "$AWF_RC" "--kill-after '$v'"
		assert_contains "$AWF_ERR" "--kill-after" "stderr names the flag"
	done
	assert_file_absent "$TEST_TMP/ran" "command run despite a bad --kill-after"
}

test_exit_stdio_passes_through() {
	local pol
	pol=$(policy p '')
	awf_run --policy "$pol" -- sh -c 'echo to-stdout; echo to-stderr >&2; exit 7'
	assert_eq 7 "$AWF_RC" "exit status"
	assert_eq "to-stdout" "$AWF_OUT" "stdout"
	assert_contains "$AWF_ERR" "to-stderr" "stderr"
	local out
	out=$(echo from-stdin | timeout 30 "$AWF" run --policy "$pol" -- cat 2>/dev/null)
	assert_eq "from-stdin" "$out" "stdin"
}

test_exit_usage_errors() {
	awf_run --dns-servers "$DNS4"
	assert_eq 125 "$AWF_RC" "awf-bpf run without a command"
	awf_run --dns-servers "$DNS4" --
	assert_eq 125 "$AWF_RC" "awf-bpf run -- (nothing after it)"
	awf_run --no-such-option -- true
	assert_eq 125 "$AWF_RC" "awf-bpf run --no-such-option"
	assert_contains "$AWF_ERR" "no-such-option" "stderr"
}

test_help_and_version() {
	awf --help
	assert_eq 0 "$AWF_RC" "awf-bpf --help"
	assert_contains "$AWF_OUT" "run" "--help"
	awf --version
	assert_eq 0 "$AWF_RC" "awf-bpf --version"
	assert_contains "$AWF_OUT" "$(cat "$ROOT/VERSION")" "--version"
	awf help run
	assert_eq 0 "$AWF_RC" "awf-bpf help run"
	assert_contains "$AWF_OUT" "--allow-cidr" "help run"
	assert_contains "$AWF_OUT" "--policy" "help run"
}
