# shellcheck shell=bash
# awf-bpf agent: the host-wide enforcer. Each test starts its own agent
# with an attach point of its own (/awft-agent-<pid>), policies in
# TEST_TMP, the tc layer on the testbed's veth only, and a control socket
# of its own; at the end it stops the agent, uninstalls the pins and
# removes its cgroups.

CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
WORLD=(nsenter --net=/run/netns/"$AWFT_NS")

# agent_setup [DEFAULT_POLICY]: config and policy directory; the policy
# "web" selects <attach>/web* and allows ALLOWED4 (and allowed.test).
agent_setup() {
	AG_ATTACH=/awft-agent-$$
	AG_DIR=$TEST_TMP/agent
	AG_SOCK=/run/awf-bpf/awft-$$.sock
	AG_LOG=$TEST_TMP/agent.log
	AG_AUDIT=$TEST_TMP/agent-audit.jsonl
	mkdir -p "$AG_DIR/policies"
	cat >"$AG_DIR/agent.json" <<EOF
{"version": 1, "attach": [{"cgroup": "$AG_ATTACH", "default_policy": "${1:-deny}"}],
 "policies_dir": "$AG_DIR/policies", "interfaces": ["$AWFT_HOST_IF"],
 "control_socket": "$AG_SOCK", "control_group": "root"}
EOF
	agent_policy web "$ALLOWED4/32"
	at_exit agent_teardown
}

# agent_policy NAME CIDR: <attach>/NAME* may reach CIDR and allowed.test.
agent_policy() {
	cat >"$AG_DIR/policies/$1.json" <<EOF
{"version": 1, "selector": "$AG_ATTACH/$1*", "allow_cidrs": ["$2"],
 "allow_domains": ["allowed.test"], "dns_servers": ["$DNS4"]}
EOF
}

agent_start() {
	local i ready
	ready=$(grep -c "ready" "$AG_LOG" 2>/dev/null)
	"$AWF" agent --config "$AG_DIR/agent.json" >>"$AG_AUDIT" 2>>"$AG_LOG" &
	AG_PID=$!
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c "ready" "$AG_LOG")" -gt "${ready:-0}" ] && return 0
		kill -0 "$AG_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "the agent did not start: $(cat "$AG_LOG")"
}

agent_stop() { # [SIGNAL]
	[ -n "${AG_PID:-}" ] || return 0
	kill -"${1:-TERM}" "$AG_PID" 2>/dev/null
	wait "$AG_PID" 2>/dev/null
	AG_PID=
}

agent_teardown() {
	local d
	agent_stop
	"$AWF" agent --uninstall >/dev/null 2>&1
	# Children first: rmdir of a cgroup fails while it has any.
	for d in $(find "$CG2$AG_ATTACH" -depth -type d 2>/dev/null); do
		[ -e "$d/cgroup.kill" ] && echo 1 >"$d/cgroup.kill" 2>/dev/null
		rmdir "$d" 2>/dev/null
	done
	rm -f "$AG_SOCK"
}

# in_cgroup REL CMD...: run CMD in <attach>/REL (created if missing).
in_cgroup() {
	local cg=$CG2$AG_ATTACH/$1
	shift
	mkdir -p "$cg"
	sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg" "$@"
}

# wait_for FILE TEXT: bounded wait for TEXT to appear in FILE.
wait_for() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# A long-lived TCP flow: an echo server on ALLOWED4:PORT in the world and
# a client in a sandbox that sends a line every 100 ms, for SECONDS.
flow_server() {
	FLOW_PORT=$(free_port)
	bg_start "${WORLD[@]}" "$PY" -c "
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$ALLOWED4', $FLOW_PORT)); s.listen(8)
def serve(c):
    while True:
        d = c.recv(4096)
        if not d: break
        c.sendall(d)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"
	sleep 0.3
}

flow_client() { # CGROUP SECONDS OUT
	bg_start in_cgroup "$1" "$PY" -c "
import socket, time, sys
s = socket.create_connection(('$ALLOWED4', $FLOW_PORT), timeout=2)
print('connected', flush=True)
ok = bad = 0
end = time.time() + $2
while time.time() < end:
    try:
        s.sendall(b'ping\n')
        ok += s.recv(16) == b'ping\n'
    except OSError as e:
        bad += 1
        print('error', e, flush=True)
        break
    time.sleep(0.1)
print('done ok=%d bad=%d' % (ok, bad), flush=True)
" >"$3" 2>&1
	FLOW_PID=$!
	wait_for "$3" connected || fail "the flow did not connect: $(cat "$3")"
}

probe_in() { # CGROUP MODE ARGS...: PROBE_LINE
	local cg=$1
	shift
	PROBE_LINE=$(in_cgroup "$cg" "$PY" "$PROBE" "$@" 2>&1 | head -n 1)
	log "$cg: probe $*: $PROBE_LINE"
}

dig_in() { # CGROUP NAME: the first address, "" for none (or failure)
	in_cgroup "$1" dig +short +time=1 +tries=1 "@$DNS4" "$2" 2>&1 | grep -v '^;;' | head -n 1
}

test_agent_selector_default_and_dns() {
	local port
	agent_setup
	agent_start
	probe_in web1 tcp "$ALLOWED4" 80 --timeout 2
	assert_ok "$PROBE_LINE" "hello from" "web1 (policy web): $ALLOWED4:80"
	probe_in web1 tcp "$BLOCKED4" 80 --timeout 2
	assert_eperm_fast "$PROBE_LINE" "web1: $BLOCKED4:80"
	probe_in other tcp "$ALLOWED4" 80 --timeout 2
	assert_eperm_fast "$PROBE_LINE" "other (default deny): $ALLOWED4:80"
	assert_eq "$ALLOWED4" "$(dig_in web1 allowed.test)" "allowed.test through web1's resolver"
	assert_eq "" "$(dig_in web1 other.test)" "other.test through web1's resolver"
	assert_eq "" "$(dig_in other allowed.test)" "allowed.test under the default deny"
	# A child of a selected cgroup inherits its policy.
	probe_in web1/job tcp "$ALLOWED4" 80 --timeout 2
	assert_ok "$PROBE_LINE" "hello from" "web1/job inherits web"
	# Another sandbox's DNS endpoint (here the default's) is a loopback
	# service web1 did not bind: refused, also by UDP.
	port=$("$PY" -c "
import json
for e in json.load(open('/run/awf-bpf/agent-state.json'))['sandboxes']:
    if e['kind'] == 'default':
        print(e['dns_port'])")
	probe_in web1 tcp 127.0.0.1 "$port" --timeout 2
	assert_eperm_fast "$PROBE_LINE" "web1 to the default sandbox's DNS endpoint 127.0.0.1:$port"
	probe_in web1 udp 127.0.0.1 "$port" --timeout 2
	assert_eperm_fast "$PROBE_LINE" "web1 to the default sandbox's DNS endpoint, UDP"
	# IPv6: the slot-keyed IPv6 trie.
	mkdir "$CG2$AG_ATTACH/v6web1"
	agent_policy v6web "$ALLOWED6/128"
	kill -HUP "$AG_PID"
	wait_for "$AG_LOG" "$AG_ATTACH/v6web1: policy v6web" || fail "v6web1 not selected after the reload"
	probe_in v6web1 tcp "$ALLOWED6" 80 --timeout 2
	assert_ok "$PROBE_LINE" "hello from" "v6web1: [$ALLOWED6]:80"
	probe_in v6web1 tcp "$BLOCKED6" 80 --timeout 2
	assert_eperm_fast "$PROBE_LINE" "v6web1: [$BLOCKED6]:80"
	probe_in web1 tcp "$ALLOWED6" 80 --timeout 2
	assert_eperm_fast "$PROBE_LINE" "web1: [$ALLOWED6]:80 (another sandbox's CIDR)"
	wait_for "$AG_AUDIT" "\"sandbox\":\"deny:$AG_ATTACH\"" || fail "no audit line for the default sandbox"
	audit_validate "$AG_AUDIT"
	assert_contains "$(cat "$AG_AUDIT")" "\"sandbox\":\"web:$AG_ATTACH/web1\",\"event\":\"connect\",\"verdict\":\"deny\""
	assert_eq 0 "$(dns_queries trusted other.test)" "queries for other.test upstream"
}

test_agent_picks_up_new_cgroups() {
	agent_setup
	agent_start
	mkdir "$CG2$AG_ATTACH/web-late"
	wait_for "$AG_LOG" "$AG_ATTACH/web-late: policy web" || fail "web-late not picked up: $(cat "$AG_LOG")"
	probe_in web-late tcp "$ALLOWED4" 80 --timeout 2
	assert_ok "$PROBE_LINE" "hello from" "a cgroup made after the agent started"
	rmdir "$CG2$AG_ATTACH/web-late"
	wait_for "$AG_LOG" "$AG_ATTACH/web-late: gone" || fail "web-late's removal not seen"
}

test_agent_sighup_reload_keeps_flows() {
	local out=$TEST_TMP/flow.out
	agent_setup
	flow_server
	agent_policy web "$ALLOWED4/32"
	agent_start
	flow_client web1 3 "$out"
	# The new policy no longer lists ALLOWED4: new connections are
	# refused, the established one goes on.
	agent_policy web "$ALLOWED4_B/32"
	kill -HUP "$AG_PID"
	wait_for "$AG_LOG" "SIGHUP" || fail "no reload"
	sleep 0.3
	probe_in web1 tcp "$ALLOWED4" 80 --timeout 2
	assert_eperm_fast "$PROBE_LINE" "$ALLOWED4:80 after the reload"
	probe_in web1 tcp "$ALLOWED4_B" 80 --timeout 2
	assert_ok "$PROBE_LINE" "hello from" "$ALLOWED4_B:80 after the reload"
	wait "$FLOW_PID"
	assert_match "$(cat "$out")" "done ok=[1-9][0-9]* bad=0" "the flow established before the reload"
	# A broken policy file changes nothing.
	echo '{"version": 1, "selector": 7}' >"$AG_DIR/policies/web.json"
	kill -HUP "$AG_PID"
	wait_for "$AG_LOG" "reload refused" || fail "a broken policy was not refused: $(cat "$AG_LOG")"
	probe_in web1 tcp "$ALLOWED4_B" 80 --timeout 2
	assert_ok "$PROBE_LINE" "hello from" "the policy in force after a refused reload"
}

test_agent_restart_no_gap() {
	local out=$TEST_TMP/flow.out before after
	agent_setup
	flow_server
	agent_start
	assert_eq "$ALLOWED4" "$(dig_in web1 allowed.test)" "allowed.test before the restart"
	flow_client web1 4 "$out"
	before=$(server_hits "$BLOCKED4")
	agent_stop KILL
	# While no agent runs: still enforced; DNS fails, never unfiltered.
	probe_in web1 tcp "$BLOCKED4" 80 --timeout 2
	assert_eperm_fast "$PROBE_LINE" "$BLOCKED4:80 with the agent dead"
	probe_in web1 tcp "$ALLOWED4" 80 --timeout 2
	assert_ok "$PROBE_LINE" "hello from" "$ALLOWED4:80 with the agent dead"
	probe_in other tcp "$ALLOWED4" 80 --timeout 2
	assert_eperm_fast "$PROBE_LINE" "the default deny with the agent dead"
	assert_eq "" "$(dig_in web1 other.test)" "other.test with the agent dead"
	assert_eq 0 "$(dns_queries trusted other.test)" "queries for other.test upstream"
	agent_start
	assert_contains "$(cat "$AG_LOG")" "adopting 2 sandboxes"
	# The adopted learned set keeps the names behind its entries.
	awf dump --agent --json "$AG_ATTACH/web1"
	assert_contains "$AWF_OUT" '"name":"allowed.test"' "the learned address's name after the restart"
	assert_eq "$ALLOWED4" "$(dig_in web1 allowed.test)" "allowed.test after the restart"
	probe_in web1 tcp "$BLOCKED4" 80 --timeout 2
	assert_eperm_fast "$PROBE_LINE" "$BLOCKED4:80 after the restart"
	wait "$FLOW_PID"
	assert_match "$(cat "$out")" "done ok=[1-9][0-9]* bad=0" "the flow across the restart"
	after=$(server_hits "$BLOCKED4")
	assert_eq "$before" "$after" "requests the blocked host got"
}

# tc_layer_alone [tcx|clsact]
tc_layer_alone() {
	local id before
	agent_setup
	[ -z "${1:-}" ] || sed -i "s/\"control_group\"/\"tc\": \"$1\", \"control_group\"/" "$AG_DIR/agent.json"
	agent_start
	probe_in web1 tcp "$BLOCKED4" 80 --timeout 2
	assert_eperm_fast "$PROBE_LINE" "$BLOCKED4:80 with every layer"
	# Take the socket hooks and the cgroup backstop away, as an escape
	# would: only the tc layer on the uplink is left.
	for id in $(bpftool -j link show | "$PY" -c "
import json, sys
for l in json.load(sys.stdin):
    if l.get('type') == 'cgroup' and l.get('cgroup_id') == $(stat -c %i "$CG2$AG_ATTACH"):
        print(l['id'])"); do
		bpftool link detach id "$id" || fail "detaching link $id"
	done
	before=$(server_hits "$BLOCKED4")
	probe_in web1 tcp "$BLOCKED4" 80 --timeout 2
	assert_contains "$PROBE_LINE" "TIMEOUT" "$BLOCKED4:80 with the tc layer alone (SYN dropped)"
	assert_eq "$before" "$(server_hits "$BLOCKED4")" "requests the blocked host got"
	probe_in web1 tcp "$ALLOWED4" 80 --timeout 2
	assert_ok "$PROBE_LINE" "hello from" "$ALLOWED4:80 with the tc layer alone"
	wait_for "$AG_AUDIT" '"reason":"tc_egress"' || fail "no tc_egress audit event"
	# A new agent re-links the detached attach point.
	agent_stop
	agent_start
	probe_in web1 tcp "$BLOCKED4" 80 --timeout 2
	assert_eperm_fast "$PROBE_LINE" "$BLOCKED4:80 after the agent re-attached"
}

test_agent_tc_layer_alone() { tc_layer_alone; }

# Kernels without TCX get a clsact filter: forced here, same behaviour;
# uninstall takes the filter off again.
test_agent_tc_layer_clsact() {
	tc_layer_alone clsact
	assert_contains "$(tc filter show dev "$AWFT_HOST_IF" egress)" "awf_tc_egress" "the clsact filter"
	[ ! -e "$AWF_BPFFS/agent/links/tc-$(cat "/sys/class/net/$AWFT_HOST_IF/ifindex")" ] ||
		fail "a TCX link although clsact was asked for"
	agent_teardown
	assert_not_contains "$(tc filter show dev "$AWFT_HOST_IF" egress)" "awf_tc_egress" "the filter after uninstall"
}

test_agent_run_fast_path() {
	local pol
	agent_setup
	agent_start
	pol=$(policy p "\"allow_cidrs\": [\"$ALLOWED4/32\"], \"allow_domains\": [\"allowed.test\"]")
	AWF_BPF_AGENT_SOCKET=$AG_SOCK awf_run --policy "$pol" --audit-log "$TEST_TMP/run.jsonl" -- sh -c "
		cat /proc/self/cgroup | grep '^0::'
		$PY $PROBE tcp $ALLOWED4 80 --timeout 2
		$PY $PROBE tcp $BLOCKED4 80 --timeout 2
		dig +short +time=2 +tries=1 @$DNS4 allowed.test
		exit 7"
	assert_eq 7 "$AWF_RC" "exit status of the command"
	assert_contains "$AWF_OUT" "ok hello from $ALLOWED4:80"
	assert_contains "$AWF_OUT" "err EPERM"
	assert_contains "$AWF_OUT" "$ALLOWED4"
	assert_contains "$(cat "$AG_LOG")" "$AG_ATTACH/run-" "the agent made the sandbox"
	assert_contains "$AWF_ERR" "$(deny_prefix tcp "$BLOCKED4:80")" "the denial relayed to run's stderr"
	assert_contains "$AWF_ERR" "summary: 1 denied"
	audit_validate "$TEST_TMP/run.jsonl"
	assert_contains "$(cat "$TEST_TMP/run.jsonl")" '"event":"dns","verdict":"allow"' "DNS decisions relayed"
	wait_for "$AG_LOG" "client gone" || fail "the agent did not see the client go"
	[ -z "$(find "$CG2$AG_ATTACH" -maxdepth 1 -name 'run-*')" ] || fail "the run cgroup is left"
	assert_not_contains "$(cat /run/awf-bpf/agent-state.json)" '"kind":"run"' "run sandboxes in the agent's state"
	# Agent installed but stopped: run says so rather than building a
	# sandbox under the agent's default policy; --standalone still works.
	agent_stop
	AWF_BPF_AGENT_SOCKET=$AG_SOCK awf_run --policy "$pol" -- true
	assert_eq 125 "$AWF_RC" "run with the agent installed but stopped"
	assert_contains "$AWF_ERR" "agent is installed" "why"
	AWF_BPF_AGENT_SOCKET=$AG_SOCK awf_run --standalone --policy "$pol" -- true
	assert_eq 0 "$AWF_RC" "run --standalone with the agent stopped"
	agent_start
	# A sandboxed process may not ask for another sandbox.
	AWF_BPF_AGENT_SOCKET=$AG_SOCK awf_run --policy "$pol" -- env AWF_BPF_AGENT_SOCKET="$AG_SOCK" "$AWF" run --policy "$pol" -- true
	assert_ne 0 "$AWF_RC" "a nested run"
	assert_contains "$AWF_ERR" "inside a sandbox" "why the agent refused the nested run"
}

# Each sandbox the agent serves leaves nothing open in it: a leaked fd of
# a removed cgroup keeps that cgroup dying for as long as the agent lives,
# and a long-lived agent would run out of fds.
test_agent_run_leaves_no_fd() {
	local pol before after i
	agent_setup
	agent_start
	pol=$(policy p "\"allow_cidrs\": [\"$ALLOWED4/32\"]")
	AWF_BPF_AGENT_SOCKET=$AG_SOCK awf_run --policy "$pol" -- true
	assert_eq 0 "$AWF_RC" "the first run"
	wait_for "$AG_LOG" "client gone" || fail "the agent did not see the client go"
	before=$(ls /proc/"$AG_PID"/fd | wc -l)
	for ((i = 0; i < 10; i++)); do
		AWF_BPF_AGENT_SOCKET=$AG_SOCK awf_run --policy "$pol" -- true
		assert_eq 0 "$AWF_RC" "run $i"
	done
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c "client gone" "$AG_LOG")" -ge 11 ] && break
		sleep 0.05
	done
	after=$(ls /proc/"$AG_PID"/fd | wc -l)
	assert_eq "$before" "$after" "the agent's open fds after 10 more runs"
}

# The host's addresses a new sandbox gets (its own address counts as
# loopback: refused by default) follow the host's changes, added and
# removed, although the agent no longer reads them for every sandbox.
# TEST-NET-1 on a veth of the test's whose peer stays down: a connection
# to an address of it that is not the host's goes nowhere.
test_agent_host_addresses_follow_changes() {
	local pol dev=awftd$$ addr=192.0.2.77
	ip link add "$dev" type veth peer name "awftp$$" || fail "ip link add $dev"
	at_exit "ip link del $dev"
	ip link set "$dev" up
	ip addr add 192.0.2.1/24 dev "$dev"
	agent_setup
	agent_start
	pol=$(policy p "\"allow_cidrs\": [\"192.0.2.0/24\"]")
	AWF_BPF_AGENT_SOCKET=$AG_SOCK awf_run --policy "$pol" -- "$PY" "$PROBE" tcp "$addr" 80 --timeout 0.5
	assert_not_contains "$AWF_OUT" "err EPERM" "$addr: not the host's, allowed"
	ip addr add "$addr/32" dev "$dev" || fail "ip addr add"
	AWF_BPF_AGENT_SOCKET=$AG_SOCK awf_run --policy "$pol" -- "$PY" "$PROBE" tcp "$addr" 80 --timeout 0.5
	assert_contains "$AWF_OUT" "err EPERM" "$addr added to the host: loopback, refused"
	ip addr del "$addr/32" dev "$dev" || fail "ip addr del"
	AWF_BPF_AGENT_SOCKET=$AG_SOCK awf_run --policy "$pol" -- "$PY" "$PROBE" tcp "$addr" 80 --timeout 0.5
	assert_not_contains "$AWF_OUT" "err EPERM" "$addr removed from the host: allowed again"
}

# fake_agent MODE: tests/tools/fake_agent.py on a socket of its own, with
# the cgroup FAKE_REL to hand out; FAKE_OUT is what it saw.
fake_agent() {
	local i
	FAKE_SOCK=$TEST_TMP/fake-agent.sock
	FAKE_REL=/awft-fake-$$/run-1
	FAKE_OUT=$TEST_TMP/fake-agent.out
	mkdir -p "$CG2/awft-fake-$$"
	at_exit fake_agent_teardown
	bg_start "$PY" "$TOOLS/fake_agent.py" "$FAKE_SOCK" "$CG2" "$FAKE_REL" "$1" "$FAKE_OUT"
	for ((i = 0; i < 100; i++)); do
		[ -S "$FAKE_SOCK" ] && return 0
		sleep 0.05
	done
	fail "the fake agent did not start"
}

fake_agent_teardown() {
	local d
	for d in "$CG2$FAKE_REL" "$CG2/awft-fake-$$"; do
		[ -e "$d/cgroup.kill" ] && echo 1 >"$d/cgroup.kill" 2>/dev/null
		rmdir "$d" 2>/dev/null
	done
}

# The agent hands out the cgroup ahead of the policy and the sandbox's
# init starts in it; the sandbox is then refused: the command never runs,
# run exits 125, and nothing of it is left in the cgroup.
# early_cgroup_fails MODE WHY: run against the fake agent in MODE fails
# with WHY, its command never ran, and its init left the early cgroup.
early_cgroup_fails() {
	fake_agent "$1"
	AWF_BPF_AGENT_SOCKET=$FAKE_SOCK awf_run -- sh -c "touch $TEST_TMP/ran"
	assert_eq 125 "$AWF_RC" "run with the fake agent in mode $1"
	assert_contains "$AWF_ERR" "$2" "why"
	[ ! -e "$TEST_TMP/ran" ] || fail "the command ran"
	wait_for "$FAKE_OUT" left_populated || fail "the fake agent saw no hang-up"
	assert_contains "$(cat "$FAKE_OUT")" "populated=1" "init in the early cgroup"
	assert_contains "$(cat "$FAKE_OUT")" "left_populated=0" "the early cgroup emptied"
}

test_agent_run_early_cgroup_refused() {
	early_cgroup_fails refuse "refused by the fake agent"
}

# The same when the agent goes away instead of answering.
test_agent_run_early_cgroup_agent_gone() {
	early_cgroup_fails hangup "agent: no reply"
}

# An agent older than the early cgroup refuses to make it, and serves the
# sandbox as ever: the command runs in the cgroup of its reply.
test_agent_run_older_agent() {
	fake_agent old
	AWF_BPF_AGENT_SOCKET=$FAKE_SOCK awf_run -- sh -c 'sleep 0.3; echo ran'
	assert_eq 0 "$AWF_RC" "run through an older agent"
	assert_eq ran "$AWF_OUT" "the command ran"
	wait_for "$FAKE_OUT" left_populated || fail "the fake agent saw no hang-up"
	assert_contains "$(cat "$FAKE_OUT")" "populated=1" "the command in the reply's cgroup"
	assert_contains "$(cat "$FAKE_OUT")" "left_populated=0" "the cgroup emptied"
}

# A fresh host: no /etc/awf-bpf/agent.json, no policies directory (an
# /etc/awf-bpf of this machine is hidden by an empty directory in the
# agent's own mount namespace). The agent starts with the defaults and an
# empty policy set, says both on stderr, and serves `awf-bpf run` through
# its default socket; the run's own policy is enforced.
fresh_agent_teardown() {
	if [ -n "${AG_PID:-}" ]; then
		kill -TERM "$AG_PID" 2>/dev/null
		wait "$AG_PID" 2>/dev/null
	fi
	"$AWF" agent --uninstall >/dev/null 2>&1
	rm -f /run/awf-bpf/agent.sock
}

test_agent_fresh_host_without_config() {
	local pol i log=$TEST_TMP/agent.log
	[ ! -e /run/awf-bpf/agent.sock ] && [ ! -e "$AWF_BPFFS/agent" ] ||
		fail "an agent is installed on this machine (/run/awf-bpf/agent.sock or $AWF_BPFFS/agent): this test needs the default paths"
	unset AWF_BPF_AGENT_SOCKET
	mkdir -p "$TEST_TMP/empty-etc"
	at_exit fresh_agent_teardown
	unshare -m sh -c '[ ! -d /etc/awf-bpf ] || mount --bind "$0" /etc/awf-bpf || exit 99; exec "$@"' \
		"$TEST_TMP/empty-etc" "$AWF" agent >"$TEST_TMP/agent-audit.jsonl" 2>"$log" &
	AG_PID=$!
	for ((i = 0; i < 100; i++)); do
		grep -q "ready" "$log" && break
		kill -0 "$AG_PID" 2>/dev/null || fail "the agent exited: $(cat "$log")"
		sleep 0.05
	done
	assert_contains "$(cat "$log")" "no /etc/awf-bpf/agent.json: the defaults apply" "stderr on a fresh host"
	assert_contains "$(cat "$log")" "no policies directory /etc/awf-bpf/policies: serving with an empty policy set" "stderr on a fresh host"
	assert_contains "$(cat "$log")" "0 policies, ready" "the agent's ready line"
	pol=$(policy p "\"allow_cidrs\": [\"$ALLOWED4/32\"]")
	awf_run --policy "$pol" -- sh -c "
		$PY $PROBE tcp $ALLOWED4 80 --timeout 2
		$PY $PROBE tcp $BLOCKED4 80 --timeout 2
		exit 7"
	assert_eq 7 "$AWF_RC" "exit status of the run (the command's)"
	assert_contains "$(cat "$log")" "/awf-bpf/run-" "the agent made the run's sandbox"
	assert_ok "$(printf '%s\n' "$AWF_OUT" | sed -n 1p)" "hello from $ALLOWED4:80" "$ALLOWED4:80 through the agent"
	assert_eperm_fast "$(printf '%s\n' "$AWF_OUT" | sed -n 2p)" "$BLOCKED4:80 through the agent"
}

test_agent_bad_config_exit_125() {
	agent_setup
	echo '{"version": 1, "attach": "nope"}' >"$AG_DIR/agent.json"
	awf agent --config "$AG_DIR/agent.json"
	assert_eq 125 "$AWF_RC" "exit status"
	assert_contains "$AWF_ERR" "attach" "the message names the member"
	[ ! -e "$AWF_BPFFS/agent/links" ] || fail "links pinned by a refused config"
	agent_setup
	echo '{"version": 1, "selector": "/elsewhere/*", "allow_cidrs": []}' >"$AG_DIR/policies/bad.json"
	awf agent --config "$AG_DIR/agent.json"
	assert_eq 125 "$AWF_RC" "a selector outside every attach point"
	[ ! -e "$AWF_BPFFS/agent/links" ] || fail "links pinned by a refused policy"
}

test_agent_uninstall_leaves_nothing() {
	local before
	agent_setup
	before=$(bpftool -j prog show | "$PY" -c "import json,sys; print(len(json.load(sys.stdin)))")
	agent_start
	probe_in web1 tcp "$ALLOWED4" 80 --timeout 2
	agent_stop
	[ -e "$AWF_BPFFS/agent/links" ] || fail "SIGTERM removed the links: enforcement would stop"
	assert_eq 18 "$(ls "$AWF_BPFFS/agent/progs" | wc -l)" "programs pinned under progs/"
	awf agent --uninstall
	assert_eq 0 "$AWF_RC" "uninstall"
	[ ! -e "$AWF_BPFFS/agent" ] || fail "$AWF_BPFFS/agent is left"
	sleep 0.5 # programs go once their last reference does
	assert_eq "$before" "$(bpftool -j prog show | "$PY" -c "import json,sys; print(len(json.load(sys.stdin)))")" "BPF programs loaded"
	assert_eq "" "$(bpftool net show dev "$AWFT_HOST_IF" | grep -i tcx)" "tc links on $AWFT_HOST_IF"
}

map_entries() { # MAP: entries in a pinned agent map
	bpftool -j map dump pinned "$AWF_BPFFS/agent/maps/$1" 2>/dev/null |
		"$PY" -c "import json,sys; print(len(json.load(sys.stdin)))"
}

# 1,000 sandboxes at once under one agent, then none, with nothing left.
test_agent_scale_1000() {
	local i n base_cidr base_src4 base_src6 base_fds rss mem
	agent_setup
	agent_start
	base_cidr=$(map_entries cidr4)
	base_src4=$(map_entries host_addrs4)
	base_src6=$(map_entries host_addrs6)
	base_fds=$(ls "/proc/$AG_PID/fd" | wc -l)
	for ((i = 0; i < 1000; i++)); do
		mkdir "$CG2$AG_ATTACH/web-$i"
	done
	for ((i = 0; i < 200; i++)); do
		n=$(grep -c "$AG_ATTACH/web-[0-9]*: policy web" "$AG_LOG")
		[ "$n" -ge 1000 ] && break
		sleep 0.1
	done
	assert_eq 1000 "$n" "sandboxes the agent built"
	probe_in web-999 tcp "$ALLOWED4" 80 --timeout 2
	assert_ok "$PROBE_LINE" "hello from" "web-999: $ALLOWED4:80"
	probe_in web-0 tcp "$BLOCKED4" 80 --timeout 2
	assert_eperm_fast "$PROBE_LINE" "web-0: $BLOCKED4:80"
	assert_eq "$ALLOWED4" "$(dig_in web-500 allowed.test)" "web-500's resolver"
	assert_eq 1001 "$(map_entries slots)" "cgroups bound to a slot"
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$AG_PID/status")
	mem=$(bpftool -j map show | "$PY" -c "
import json, sys
print(sum(m.get('bytes_memlock', 0) for m in json.load(sys.stdin)
          if m.get('name', '') in ('cidr4', 'cidr6', 'learned4', 'learned6',
                                   'lo_ports', 'slots', 'configs', 'counters',
                                   'events', 'sk_state', 'uplinks')))")
	log "1001 sandboxes: agent RSS ${rss} KiB; agent maps ${mem} bytes (memlock)"
	for ((i = 0; i < 1000; i++)); do
		rmdir "$CG2$AG_ATTACH/web-$i"
	done
	for ((i = 0; i < 200; i++)); do
		n=$(grep -c "$AG_ATTACH/web-[0-9]*: gone" "$AG_LOG")
		[ "$n" -ge 1000 ] && break
		sleep 0.1
	done
	assert_eq 1000 "$n" "sandboxes the agent removed"
	assert_eq 1 "$(map_entries slots)" "cgroups bound to a slot (the default)"
	assert_eq "$base_cidr" "$(map_entries cidr4)" "CIDR entries"
	assert_eq "$base_src4" "$(map_entries host_addrs4)" "IPv4 source addresses"
	assert_eq "$base_src6" "$(map_entries host_addrs6)" "IPv6 source addresses"
	assert_eq 0 "$(map_entries learned4)" "learned addresses"
	assert_eq 1 "$(grep -c '"slot"' /run/awf-bpf/agent-state.json)" "sandboxes in the state file"
	assert_eq "$base_fds" "$(ls "/proc/$AG_PID/fd" | wc -l)" "the agent's open fds"
}

# dump and status read the pins: they work with the agent stopped.
test_agent_dump_status_with_agent_stopped() {
	agent_setup
	agent_start
	probe_in web1 tcp "$BLOCKED4" 80 --timeout 2
	assert_eq "$ALLOWED4" "$(dig_in web1 allowed.test)" "allowed.test in web1"
	awf status --agent
	assert_eq 0 "$AWF_RC" "status --agent with the agent running"
	assert_contains "$AWF_OUT" "$AG_ATTACH/web1"
	agent_stop
	awf status --agent --json
	assert_eq 3 "$AWF_RC" "status --agent with the agent stopped (still enforcing)"
	assert_contains "$AWF_OUT" "$AG_ATTACH/web1"
	awf dump --agent --json "$AG_ATTACH/web1"
	assert_eq 0 "$AWF_RC" "dump --agent with the agent stopped"
	assert_contains "$AWF_OUT" "\"$ALLOWED4\"" "the learned address (or its CIDR) in the dump"
	"$PY" -c "
import json, sys
d = json.loads(sys.argv[1])
s = d if 'cidrs' in d else d['sandboxes'][0]
assert any(c.get('cidr', c.get('prefix', '')).startswith('$ALLOWED4') for c in s['cidrs']), s['cidrs']
assert any(l.get('address') == '$ALLOWED4' and l.get('name') == 'allowed.test' for l in s['learned']), s['learned']
print('connect_denied', s['counters']['connect_denied'])
" "$AWF_OUT" >"$TEST_TMP/dump.check" 2>&1 || fail "dump --agent: $(cat "$TEST_TMP/dump.check")"
	assert_contains "$(cat "$TEST_TMP/dump.check")" "connect_denied 1" "the denial counted for web1"
	awf agent --uninstall
	awf status --agent
	assert_eq 1 "$AWF_RC" "status --agent once uninstalled"
}

# tc_layer_on IFNAME: the agent's tc program is on IFNAME, as a TCX link
# (pinned as links/tc-<ifindex>) or, on kernels without TCX, a clsact filter.
tc_layer_on() {
	[ -e "$AWF_BPFFS/agent/links/tc-$(cat "/sys/class/net/$1/ifindex")" ] ||
		tc filter show dev "$1" egress 2>/dev/null | grep -q awf_tc_egress
}

# An uplink that appears after the agent started gets the tc layer too.
test_agent_new_interface_gets_tc_layer() {
	local ifname=awftl$$ ifindex i
	agent_setup
	sed -i "s/\"interfaces\": \[\"$AWFT_HOST_IF\"\]/\"interfaces\": [\"$AWFT_HOST_IF\", \"$ifname\"]/" "$AG_DIR/agent.json"
	agent_start
	ip link add "$ifname" type veth peer name "${ifname}p" || fail "ip link add"
	at_exit "ip link del $ifname 2>/dev/null"
	ifindex=$(cat "/sys/class/net/$ifname/ifindex")
	# A TCX link where the kernel has TCX (6.6+), else a clsact filter.
	for ((i = 0; i < 100; i++)); do
		tc_layer_on "$ifname" && break
		sleep 0.05
	done
	tc_layer_on "$ifname" || fail "no tc layer on $ifname (ifindex $ifindex): links $(ls "$AWF_BPFFS/agent/links"); agent: $(tail -n 5 "$AG_LOG")"
	! tc_layer_on "${ifname}p" || fail "the tc layer went on ${ifname}p, which the config does not name"
}

# A sandbox's process in a network namespace of its own (a pod, a
# container) has its own loopback: the agent serves the sandbox's DNS
# endpoint there too, and lets the namespace go when the process leaves.
test_agent_dns_in_own_netns() {
	local ns=awft-pod$$ out i
	agent_setup
	agent_start
	ip netns add "$ns" || fail "ip netns add"
	at_exit "ip netns del $ns 2>/dev/null"
	ip -n "$ns" link set lo up
	mkdir -p "$CG2$AG_ATTACH/web1"
	out=$(nsenter --net=/run/netns/"$ns" sh -c '
		echo $$ >"$0/cgroup.procs" || exit 1
		i=0
		while [ $i -lt 30 ]; do
			a=$(dig +short +time=1 +tries=1 @"$1" allowed.test 2>/dev/null | grep -v "^;;")
			[ -n "$a" ] && break
			sleep 0.1; i=$((i + 1))
		done
		echo "allowed=$a after $i"
		echo "other=$(dig +short +time=1 +tries=1 @"$1" other.test 2>/dev/null | grep -v "^;;")"' \
		"$CG2$AG_ATTACH/web1" "$DNS4")
	log "in $ns: $out"
	assert_contains "$out" "allowed=$ALLOWED4" "allowed.test from a process in its own network namespace"
	assert_contains "$out" "other=" "other.test"
	assert_not_contains "$out" "other=1" "other.test must not resolve"
	assert_contains "$(cat "$AG_LOG")" "$AG_ATTACH/web1: DNS endpoint also in network namespace"
	assert_eq 0 "$(dns_queries trusted other.test)" "queries for other.test upstream"
	wait_for "$AG_LOG" "$AG_ATTACH/web1: DNS endpoint closed in namespaces it left" ||
		fail "the namespace's endpoint was not closed after its process left"
}

# Names checked in the kernel (issue 12, tests/integration/test_names.sh)
# hold under the agent too: a sandbox whose policy allows good.test reaches
# the shared address with a ClientHello naming good.test; one naming
# other.test, to the same address, is refused with EACCES before it
# leaves, and recorded in the agent's audit output. The same through the
# `run` fast path, with the denial line relayed to run's stderr.
test_agent_names_checked() {
	local hello=$TOOLS/tls_hello.py good other pol n
	agent_setup
	cat >"$AG_DIR/policies/web.json" <<EOF2
{"version": 1, "selector": "$AG_ATTACH/web*", "allow_domains": ["good.test"], "dns_servers": ["$DNS4"]}
EOF2
	agent_start
	assert_eq "$SHARED4" "$(dig_in web1 good.test)" "good.test through web1's resolver"
	good=$(in_cgroup web1 "$PY" "$hello" "$SHARED4" 443 --sni good.test 2>&1 | head -n 1)
	other=$(in_cgroup web1 "$PY" "$hello" "$SHARED4" 443 --sni other.test 2>&1 | head -n 1)
	log "web1: good.test: $good; other.test: $other"
	case $good in "serverhello "*) ;; *) fail "web1: ClientHello naming good.test: expected serverhello, got '$good'" ;; esac
	case $other in "refused EACCES "*) ;; *) fail "web1: ClientHello naming other.test: expected 'refused EACCES <ms>', got '$other'" ;; esac
	[ "${other##* }" -lt 1500 ] || fail "web1: other.test refused after ${other##* } ms, expected < 1500 ms"
	wait_for "$AG_AUDIT" '"name":"other.test"' || fail "no audit record names other.test: $(tail -n 5 "$AG_AUDIT")"
	n=$(jq -c "select(.sandbox == \"web:$AG_ATTACH/web1\" and .verdict == \"deny\" and .reason == \"tls_name_not_allowed\" and .name == \"other.test\" and .dst == \"$SHARED4\" and .dport == 443)" "$AG_AUDIT" | wc -l)
	assert_eq 1 "$n" "web1's audit records {deny tls_name_not_allowed other.test}"
	# run through the agent: the line on run's stderr.
	pol=$(policy p '"allow_domains": ["good.test"]')
	AWF_BPF_AGENT_SOCKET=$AG_SOCK awf_run --policy "$pol" -- sh -c "
		dig +short +time=2 +tries=1 @$DNS4 good.test >/dev/null
		$PY $hello $SHARED4 443 --sni good.test
		$PY $hello $SHARED4 443 --sni other.test"
	assert_contains "$(printf '%s\n' "$AWF_OUT" | sed -n 1p)" "serverhello " "run via the agent: good.test"
	assert_contains "$(printf '%s\n' "$AWF_OUT" | sed -n 2p)" "refused EACCES " "run via the agent: other.test"
	assert_match "$AWF_ERR" "^awf-bpf: denied tls sni other\\.test to ${SHARED4//./\\.}:443 from pid [0-9]+ \\(python3\\): name not allowed$" "run via the agent: the denial line"
}

# "mode": "audit" in an agent policy: its sandboxes reach what it refuses,
# logged as audit_only; reserved ranges stay refused; a bad mode is refused.
test_agent_policy_mode_audit() {
	# shellcheck source=../audit_lib.sh
	. "$ROOT/tests/audit_lib.sh"
	agent_setup
	cat >"$AG_DIR/policies/aud.json" <<EOF2
{"version": 1, "selector": "$AG_ATTACH/aud*", "allow_cidrs": ["$ALLOWED4/32"],
 "dns_servers": ["$DNS4"], "mode": "audit"}
EOF2
	agent_start
	assert_contains "$(cat "$AG_LOG")" "aud.json: audit-only mode: nothing this policy refuses is enforced" "the agent's log"
	probe_in aud1 tcp "$BLOCKED4" 80 --timeout 2
	assert_ok "$PROBE_LINE" "hello from $BLOCKED4:80" "aud1 (audit-only): $BLOCKED4:80"
	probe_in web1 tcp "$BLOCKED4" 80 --timeout 2
	assert_eperm_fast "$PROBE_LINE" "web1 (enforcing) beside it: $BLOCKED4:80"
	assert_eq "$SHARED4" "$(dig_in aud1 other.test)" "other.test through aud1's resolver"
	probe_in aud1 tcp "$LINKLOCAL4" 80 --timeout 2
	assert_eperm_fast "$PROBE_LINE" "aud1: $LINKLOCAL4:80 stays refused"
	wait_for "$AG_AUDIT" "\"name\":\"other.test\"" || fail "no dns record of other.test"
	assert_eq 1 "$(audit_count "$AG_AUDIT" ".sandbox == \"aud:$AG_ATTACH/aud1\" and .event == \"connect\" and .dst == \"$BLOCKED4\" and .verdict == \"deny\" and .audit_only == true")" \
		"aud1's audit-only connect record"
	assert_eq 1 "$(audit_count "$AG_AUDIT" ".sandbox == \"aud:$AG_ATTACH/aud1\" and .event == \"dns\" and .name == \"other.test\" and .reason == \"name_not_allowed\" and .audit_only == true")" \
		"aud1's audit-only dns record"
	assert_eq 1 "$(audit_count "$AG_AUDIT" ".sandbox == \"aud:$AG_ATTACH/aud1\" and .dst == \"$LINKLOCAL4\" and .reason == \"link_local\" and (has(\"audit_only\") | not)")" \
		"aud1's link_local record is a plain denial"
	assert_eq 0 "$(audit_count "$AG_AUDIT" ".sandbox == \"web:$AG_ATTACH/web1\" and has(\"audit_only\")")" \
		"no audit_only record of the enforcing sandbox"
	agent_stop
	sed -i 's/"mode": "audit"/"mode": "Audit"/' "$AG_DIR/policies/aud.json"
	awf agent --config "$AG_DIR/agent.json"
	assert_eq 125 "$AWF_RC" "a bad mode"
	assert_contains "$AWF_ERR" 'mode: expected "enforce" or "audit"' "the message names the member"
}

# `run --audit-only` through the agent: the mode goes with the policy.
test_agent_run_fast_path_audit_only() {
	local pol audit=$TEST_TMP/run.jsonl
	# shellcheck source=../audit_lib.sh
	. "$ROOT/tests/audit_lib.sh"
	agent_setup
	agent_start
	pol=$(policy p "\"allow_cidrs\": [\"$ALLOWED4/32\"]")
	AWF_BPF_AGENT_SOCKET=$AG_SOCK awf_run --policy "$pol" --audit-only --audit-log "$audit" -- sh -c "
		$PY $PROBE tcp $BLOCKED4 80 --timeout 2
		dig +short +time=2 +tries=1 @$DNS4 other.test"
	assert_contains "$(cat "$AG_LOG")" "$AG_ATTACH/run-" "the agent made the sandbox"
	assert_eq "ok hello from $BLOCKED4:80
$SHARED4" "$AWF_OUT" "what the policy refuses, reached"
	assert_contains "$AWF_ERR" "awf-bpf: audit-only mode: nothing the policy refuses is enforced" "the start line"
	audit_validate "$audit"
	assert_eq 1 "$(audit_count "$audit" ".event == \"connect\" and .dst == \"$BLOCKED4\" and .audit_only == true")" \
		"the audit-only connect record, relayed"
	assert_eq 1 "$(audit_count "$audit" '.event == "dns" and .name == "other.test" and .audit_only == true')" \
		"the audit-only dns record, relayed"
	assert_contains "$AWF_ERR" "would have denied tcp $BLOCKED4:80" "summary"
}
