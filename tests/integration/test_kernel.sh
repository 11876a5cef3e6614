# shellcheck shell=bash
# The start-up check of the kernel (user/kernel/kernel_check.c): a kernel
# without what awf-bpf needs gets one line naming it and exit 125, with
# nothing attached and the command not run. AWF_BPF_KERNEL_BTF points the
# BTF probe at a missing file, as on a kernel built without BTF.

test_kernel_without_btf_exit_125() {
	local pol state=/run/awf-bpf/agent-state.json state_before
	pol=$(policy p "\"allow_cidrs\": [\"$ALLOWED4/32\"]")
	AWF_BPF_KERNEL_BTF=/nonexistent/vmlinux awf_run --standalone --policy "$pol" -- touch "$TEST_TMP/ran"
	assert_eq 125 "$AWF_RC" "exit status"
	assert_file_absent "$TEST_TMP/ran" "a file the command would have made"
	assert_eq 1 "$(printf '%s\n' "$AWF_ERR" | grep -c .)" "lines on stderr"
	assert_contains "$AWF_ERR" "this kernel has no BTF (/nonexistent/vmlinux: No such file or directory)"
	assert_contains "$AWF_ERR" "needs Linux 6.2 or newer built with CONFIG_DEBUG_INFO_BTF=y"
	assert_not_contains "$AWF_ERR" "libbpf"
	# The agent checks the same before it pins anything.
	[ -e "$AWF_BPFFS/agent" ] && fail "an agent is installed here: this test would not see a fresh start"
	mkdir -p "$TEST_TMP/policies"
	cat >"$TEST_TMP/agent.json" <<EOF
{"version": 1, "attach": [{"cgroup": "/awft-kernel-$$", "default_policy": "deny"}],
 "policies_dir": "$TEST_TMP/policies", "interfaces": ["$AWFT_HOST_IF"],
 "control_socket": "$TEST_TMP/agent.sock", "control_group": "root"}
EOF
	# The state file is the previous agent's (its sandboxes, for the next
	# one to adopt): an agent that never started leaves it as it was.
	state_before=$(cat "$state" 2>/dev/null || echo absent)
	AWF_BPF_KERNEL_BTF=/nonexistent/vmlinux awf agent --config "$TEST_TMP/agent.json"
	assert_eq 125 "$AWF_RC" "exit status of the agent"
	assert_contains "$AWF_ERR" "this kernel has no BTF"
	assert_file_absent "$AWF_BPFFS/agent/links" "the agent's links"
	assert_file_absent "$TEST_TMP/agent.sock" "the agent's control socket"
	assert_eq "$state_before" "$(cat "$state" 2>/dev/null || echo absent)" "the agent state file"
}

# On this kernel the check passes, and a run works as usual.
test_kernel_check_passes_here() {
	local pol
	pol=$(policy p "\"allow_cidrs\": [\"$ALLOWED4/32\"]")
	awf_run --standalone --policy "$pol" -- true
	assert_eq 0 "$AWF_RC" "exit status"
	assert_not_contains "$AWF_ERR" "this kernel"
}

# tools/gen_group_loader.c writes a group's loader program to take the
# core's maps, for the programs named: it refuses an object whose maps
# are not the core's (here: the agent's build), one whose .rodata would
# be read otherwise, and a program the object does not have.
test_kernel_group_loader_refuses_other_maps() {
	local gen=$ROOT/build/tools/gen_group_loader b=$ROOT/build
	[ -x "$gen" ] || fail "$gen not built (make)"
	"$gen" "$b/awf_group_core.bpf.o" "$b/awf.bpf.o" a awf_egress awf_recvmsg6 \
		>"$TEST_TMP/a.h" 2>"$TEST_TMP/err" ||
		fail "the build's own group A: $(cat "$TEST_TMP/err")"
	assert_contains "$(cat "$TEST_TMP/a.h")" '"awf_egress",' "group A's programs"
	assert_contains "$(cat "$TEST_TMP/a.h")" '"awf_recvmsg6",' "group A's programs"
	assert_not_contains "$(cat "$TEST_TMP/a.h")" '"awf_connect4",' "a program not named"
	"$gen" "$b/awf_group_core.bpf.o" "$b/awf.bpf.o" x awf_nonesuch >"$TEST_TMP/x.h" 2>"$TEST_TMP/err"
	assert_eq 1 "$?" "exit status for a program the object lacks"
	assert_contains "$(cat "$TEST_TMP/err")" "no program awf_nonesuch" "the error"
	"$gen" "$b/awf_group_core.bpf.o" "$b/awf_agent.bpf.o" x >"$TEST_TMP/x.h" 2>"$TEST_TMP/err"
	assert_eq 1 "$?" "exit status for the agent's object"
	assert_contains "$(cat "$TEST_TMP/err")" "gen_group_loader: " "the error"
	"$gen" "$b/awf_agent.bpf.o" "$b/awf.bpf.o" x awf_egress >"$TEST_TMP/x.h" 2>"$TEST_TMP/err"
	assert_eq 1 "$?" "exit status with the agent's object as the core"
}

# Each of the sandbox's programs attaches in its hook's warm-up program's
# place (user/kernel/hook_warm.h, BPF_F_REPLACE): while the command runs,
# every hook of the sandbox cgroup holds exactly one program, the
# sandbox's, and no allow-everything warm-up program is left beside it.
test_kernel_warmup_programs_replaced() {
	local pol pid cg progs snap=$TEST_TMP/state-before
	command -v bpftool >/dev/null || fail "bpftool not installed"
	awf_state_snapshot | sort >"$snap"
	at_exit "awf_remove_leftovers '$snap'"
	pol=$(policy p '')
	"$AWF" run --standalone --policy "$pol" -- sleep 30 >/dev/null 2>"$TEST_TMP/err" </dev/null &
	pid=$!
	BG_PIDS+=("$pid")
	wait_file "$AWF_BPFFS/run-$pid/counters" 50 ||
		fail "run-$pid never pinned its maps: $(cat "$TEST_TMP/err")"
	cg=$(cgroup2_root)/awf-bpf/run-$pid
	progs=$(bpftool cgroup show "$cg" | awk '/^[0-9]/ {print $2, $4}')
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	assert_lt 10 "$(printf '%s\n' "$progs" | grep -c .)" "programs on the sandbox cgroup ($progs)"
	assert_eq "" "$(printf '%s\n' "$progs" | awk '$2 !~ /^awf_/ || $2 == "awf_warm"')" "programs not the sandbox's"
	assert_eq "" "$(printf '%s\n' "$progs" | awk '{print $1}' | sort | uniq -d)" "hooks with two programs"
}
