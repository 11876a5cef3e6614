# shellcheck shell=bash
# `awf-bpf dump` and `status` read a running sandbox from its pins alone
# (/sys/fs/bpf/awf-bpf/run-<pid>/); the pins go when the run ends, and a
# dead run's pins go with the next run.
# shellcheck source=../audit_lib.sh
. "$ROOT/tests/audit_lib.sh"

PINNED_MAPS="cidr4 cidr6 cidr_exact4 cidr_exact6 cidr_ports counters domains learned4 learned6 meta names sk_state "

# A HOOK for awf_paused: paused_dump, plus bpftool's view of a pin.
paused_dump_bpftool() {
	paused_dump
	BPFTOOL_LEARNED=$(bpftool map dump pinned "$AWF_BPFFS/$SANDBOX_ID/learned4" 2>&1)
	BPFTOOL_META=$(bpftool map dump pinned "$AWF_BPFFS/$SANDBOX_ID/meta" 2>&1)
}

test_audit_dump_during_run_matches_what_was_resolved() {
	local pol port ready=$TEST_TMP/listening
	port=$(free_port)
	pol=$(policy p "\"allow_domains\": [\"allowed.test\", {\"domain\": \"db.test\", \"ports\": [5432], \"subdomains\": false}],
		\"block_domains\": [\"blocked.test\"],
		\"allow_cidrs\": [{\"cidr\": \"$ALLOWED4_B/32\", \"ports\": [9000]}]")
	awf_paused paused_dump_bpftool "
		${DIGT[*]} +short @$DNS4 allowed.test
		${DIGT[*]} +short @$DNS4 AAAA allowed.test
		$PY $PROBE listen 127.0.0.1 $port --ready-file $ready >/dev/null 2>&1 &
		i=0; while [ ! -e $ready ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i + 1)); done" \
		--policy "$pol" --audit-log "$TEST_TMP/audit.jsonl"
	assert_eq 0 "$AWF_RC" "exit status"
	assert_eq "$ALLOWED4
$ALLOWED6" "$AWF_OUT" "what the workload resolved"
	log "dump: $DUMP"
	# Who and what.
	assert_eq "\"$SANDBOX_ID\"" "$(dump_get .sandbox)" "sandbox id"
	assert_eq "$AWF_PID" "$(dump_get .pid)" "awf-bpf pid"
	assert_eq true "$(dump_get .alive)" "alive"
	assert_eq '"sh"' "$(dump_get '.command[0]')" "command"
	assert_eq "\"$(expected_user)\"" "$(dump_get .user)" "user"
	assert_eq "\"$TEST_TMP/audit.jsonl\"" "$(dump_get .audit_log)" "audit log"
	assert_match "$(dump_get .started)" '^"[0-9]{4}-[0-9]{2}-[0-9]{2}T' "start time"
	# The policy entries.
	assert_eq '{"id":1,"domain":"allowed.test","subdomains":true,"ports":[80,443]}' "$(dump_get '.policy.allow_domains[0]')" "allow_domains[0]"
	assert_eq '{"id":2,"domain":"db.test","subdomains":false,"ports":[5432]}' "$(dump_get '.policy.allow_domains[1]')" "allow_domains[1]"
	assert_eq '"blocked.test"' "$(dump_get '.policy.block_domains[0].domain')" "block_domains[0]"
	assert_eq "[\"$DNS4\"]" "$(dump_get .policy.dns_servers)" "dns_servers"
	assert_eq '"sandbox"' "$(dump_get .policy.localhost.mode)" "localhost mode"
	# The CIDR tries, with the reserved ranges.
	assert_eq '{"cidr":"198.18.0.11/32","kind":"allow","rule_id":1,"ports":[9000]}' \
		"$(dump_get '.cidrs[] | select(.cidr == "198.18.0.11/32")')" "the allow_cidrs entry"
	assert_eq '"reserved"' "$(dump_get '.cidrs[] | select(.cidr == "169.254.0.0/16") | .kind')" "169.254.0.0/16"
	# Exactly what was resolved, with its name, ports and expiry.
	assert_eq 2 "$(dump_get '.learned | length')" "learned addresses"
	assert_eq "{\"address\":\"$ALLOWED4\",\"family\":\"ipv4\",\"name\":\"allowed.test\",\"ports\":[80,443],\"expired\":false}" \
		"$(dump_get ".learned[] | select(.address == \"$ALLOWED4\") | {address, family, name, ports, expired}")" "learned $ALLOWED4"
	assert_eq "{\"address\":\"$ALLOWED6\",\"family\":\"ipv6\",\"name\":\"allowed.test\",\"ports\":[80,443],\"expired\":false}" \
		"$(dump_get ".learned[] | select(.address == \"$ALLOWED6\") | {address, family, name, ports, expired}")" "learned $ALLOWED6"
	assert_eq true "$(dump_get ".learned[0].expires_in_s > 0 and .learned[0].expires_in_s <= 60")" "time to expiry (min_ttl 60)"
	# The loopback port the workload serves.
	assert_eq "{\"port\":$port,\"proto\":\"tcp\",\"refs\":1}" "$(dump_get ".lo_ports[] | select(.port == $port)")" "lo_ports"
	# The counters, the DNS ones written by user space.
	assert_eq 2 "$(dump_get .counters.dns_allowed)" "dns_allowed"
	assert_le 2 "$(dump_get .counters.dns_redirected)" "dns_redirected"
	# The text form and the list of every sandbox say the same.
	assert_contains "$DUMP_TEXT" "$ALLOWED4"
	assert_contains "$DUMP_TEXT" "allowed.test ports 80,443, expires in"
	assert_eq "$AWF_PID" "$(jq ".sandboxes[] | select(.sandbox == \"$SANDBOX_ID\") | .pid" <<<"$DUMP_ALL")" "dump without SANDBOX"
	# status lists it.
	assert_contains "$STATUS" "$SANDBOX_ID"
	assert_match "$STATUS" "^$SANDBOX_ID +$AWF_PID +running +$(expected_user) +[0-9-]+T.* sh -c"
	assert_eq "$AWF_PID" "$(jq ".sandboxes[] | select(.sandbox == \"$SANDBOX_ID\") | .pid" <<<"$STATUS_JSON")" "status --json"
	# The pins, with BTF: bpftool names the fields.
	assert_eq "$PINNED_MAPS" "$PIN_FILES" "pinned maps"
	assert_contains "$BPFTOOL_LEARNED" '"name_id": 1'
	assert_contains "$BPFTOOL_META" '"sandbox": "'
	# Gone with the run.
	assert_file_absent "$AWF_BPFFS/$SANDBOX_ID" "pin directory after the run"
	assert_exit 1 "$AWF" dump "$SANDBOX_ID"
}

test_audit_dump_counts_match_the_run() {
	local pol
	pol=$(policy p "\"allow_cidrs\": [\"$ALLOWED4/32\"]")
	awf_paused paused_dump "
		$PY $PROBE tcp $ALLOWED4 80 >/dev/null
		$PY $PROBE tcp $BLOCKED4 80 >/dev/null
		$PY $PROBE udp $BLOCKED4 $UDP_ECHO_PORT >/dev/null; true" --policy "$pol"
	assert_eq 1 "$(dump_get .counters.connect_allowed)" "connect_allowed"
	assert_eq 1 "$(dump_get .counters.connect_denied)" "connect_denied"
	assert_eq 1 "$(dump_get .counters.sendmsg_denied)" "sendmsg_denied"
	assert_eq '{"not_in_policy":2}' "$(dump_get .counters.denied_by_reason)" "denied_by_reason"
	assert_eq null "$(dump_get .audit_log)" "audit log"
}

# lo_ports is read from the sandbox's sockets (no program counts them at
# release): a socket closed is gone from it, UDP counts, as do two sockets
# of an SO_REUSEPORT group and one socket shared by two processes once.
test_audit_dump_lo_ports_follow_the_sockets() {
	local ready=$TEST_TMP/bound script=$TEST_TMP/bind.py tcp udp group gone
	tcp=$(free_port)
	udp=$(free_port)
	group=$(free_port)
	gone=$(free_port)
	cat >"$script" <<EOF
import os, socket, time
def sock(kind, port, reuse=False):
    s = socket.socket(socket.AF_INET, kind)
    if reuse:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("127.0.0.1", port))
    return s
t = sock(socket.SOCK_STREAM, $tcp)
t.listen()
u = sock(socket.SOCK_DGRAM, $udp)
g = [sock(socket.SOCK_STREAM, $group, True) for _ in range(2)]
sock(socket.SOCK_STREAM, $gone).close()
def pause():
    for _ in range(300):
        if os.path.exists("$TEST_TMP/paused.go"):
            break
        time.sleep(0.1)
if os.fork() == 0:
    pause()
    os._exit(0)
open("$ready", "w").close()
pause()
EOF
	awf_paused paused_dump "
		$PY $script &
		i=0; while [ ! -e $ready ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i + 1)); done" \
		--policy "$(policy p)"
	assert_eq 0 "$AWF_RC" "exit status"
	assert_eq "{\"port\":$tcp,\"proto\":\"tcp\",\"refs\":1}" "$(dump_get ".lo_ports[] | select(.port == $tcp)")" "a listener held by two processes"
	assert_eq "{\"port\":$udp,\"proto\":\"udp\",\"refs\":1}" "$(dump_get ".lo_ports[] | select(.port == $udp)")" "a UDP socket"
	assert_eq "{\"port\":$group,\"proto\":\"tcp\",\"refs\":2}" "$(dump_get ".lo_ports[] | select(.port == $group)")" "an SO_REUSEPORT group"
	assert_eq "" "$(dump_get ".lo_ports[] | select(.port == $gone)")" "a closed socket"
	assert_eq 3 "$(dump_get '.lo_ports | length')" "nothing else"
}

# Who started awf-bpf, as meta records it: the sudo user through sudo.
expected_user() {
	if [ "$(id -u)" = 0 ] && [ -n "${SUDO_USER:-}" ] && [ -n "${SUDO_UID:-}" ]; then
		printf '%s\n' "$SUDO_USER"
	else
		id -un
	fi
}

# new_pin_dirs BEFORE: sandbox pin directories that were not in BEFORE.
new_pin_dirs() {
	ls "$AWF_BPFFS" 2>/dev/null | sort | comm -13 "$1" -
}

test_audit_pins_gone_after_failed_setup() {
	local pol before=$TEST_TMP/pins-before
	pol=$(policy p '')
	ls "$AWF_BPFFS" 2>/dev/null | sort >"$before"
	# --user is resolved when the sandbox is spawned, before the programs
	# load and anything is pinned (a failure after the spawn:
	# test_failclosed_setup_fails_after_spawn; while pinning:
	# test_failclosed_publish_fails_after_start).
	awf_run --policy "$pol" --log-level debug --user awft-no-such-user-x -- true
	assert_eq 125 "$AWF_RC" "exit status of a failed set-up"
	assert_contains "$AWF_ERR" "no such user: awft-no-such-user-x" "the error"
	assert_eq "" "$(new_pin_dirs "$before")" "pin directories left by a failed set-up"
	awf_run --policy "$pol" -- /nonexistent/awft-command
	assert_eq 127 "$AWF_RC" "exit status of a command that does not exist"
	assert_eq "" "$(new_pin_dirs "$before")" "pin directories left by a command that failed"
}

test_audit_stale_pins_are_swept() {
	local pol snap dead
	pol=$(policy p '')
	snap=$TEST_TMP/state-before
	awf_state_snapshot | sort >"$snap"
	# awf-bpf cannot clean up after SIGKILL: its cgroup is removed here.
	at_exit "awf_remove_leftovers '$snap'"
	"$AWF" run --policy "$pol" -- sleep 20 >/dev/null 2>&1 &
	dead=$!
	BG_PIDS+=("$dead")
	wait_file "$AWF_BPFFS/run-$dead/counters" 50 || fail "run-$dead never pinned its maps"
	kill -KILL "$dead"
	wait "$dead" 2>/dev/null
	assert_file_exists "$AWF_BPFFS/run-$dead" "pins of the killed run"
	assert_contains "$("$AWF" status)" "run-$dead" "status"
	assert_match "$("$AWF" status)" "^run-$dead +$dead +stale " "status of a killed run"
	assert_eq false "$("$AWF" dump --json "run-$dead" | jq '.sandboxes[0].alive')" "alive"
	awf_run --policy "$pol" -- true
	assert_eq 0 "$AWF_RC"
	assert_file_absent "$AWF_BPFFS/run-$dead" "pins of the killed run after the next run"
}

# A large policy reaches the tries exactly (user/kernel/rules.c writes them
# in batches of BPF_MAP_UPDATE_BATCH): 6000 entries of 100.64.0.0/10 and
# 2001:db8::/32 in a scrambled order, repeats with other ports, prefixes
# inside prefixes with ports of their own, v4-mapped IPv6, a named part of
# a reserved range. `dump --json` must list every merged prefix with the
# ports of the allows that cover it, as an independent model (below) says.
test_audit_dump_large_policy_tries_exact() {
	local pol=$TEST_TMP/large.json want=$TEST_TMP/large-want.json
	"$PY" - "$pol" "$want" "$DNS4" <<'EOF'
import ipaddress, json, random, sys
path, want_path, dns = sys.argv[1:4]
r = random.Random(14)
entries = []  # (text, ports or None)
def add(net, ports=None):
    entries.append((net, ports))
add("100.64.0.0/10", [443]); add("100.64.4.0/22", [8080, "9000-9010"])
add("2001:db8::/32", [443]); add("2001:db8:0:1::/64", [8443])
add("169.254.169.0/24", [80]); add("::ffff:100.65.1.0/120", [53])
for i in range(4000):
    a = ipaddress.IPv4Address(int(ipaddress.IPv4Address("100.64.0.0")) + r.randrange(1 << 16))
    add(str(a) + "/32", [1000 + i % 50])
    if i % 7 == 0:
        add(str(a), [22])
    if i % 11 == 0:
        add(str(a) + "/32", [1000 + i % 50])  # the same entry again
for i in range(2000):
    a = ipaddress.IPv6Address("2001:db8::") + (r.randrange(1 << 12) << 64) + r.randrange(1 << 16)
    add(str(a) + "/128", [2000 + i % 30])
    if i % 7 == 0:
        add(str(ipaddress.IPv6Network(str(a) + "/64", strict=False)), ["9000-9100"])
r.shuffle(entries)
doc = {"version": 1, "dns_servers": [dns],
       "allow_cidrs": [{"cidr": t, "ports": p} for t, p in entries]}
json.dump(doc, open(path, "w"))

def net_of(text):
    n = ipaddress.ip_network(text, strict=True)
    if n.version == 6 and n.prefixlen >= 96 and n.network_address.ipv4_mapped:
        n = ipaddress.ip_network("%s/%d" % (n.network_address.ipv4_mapped, n.prefixlen - 96))
    return n
def ranges(ports):
    out = []
    for p in ports:
        lo, _, hi = str(p).partition("-")
        out.append((int(lo), int(hi or lo)))
    return out
def union(a, b):
    merged = []
    for lo, hi in sorted(a + b):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
# the policy keeps the first of identical entries: ids are its indexes + 1
ids = {}
for text, ports in entries:
    ids.setdefault((net_of(text), tuple(ranges(ports))), len(ids) + 1)
own = {}  # prefix -> (id of its first entry, merged ports)
for (net, rg), i in sorted(ids.items(), key=lambda kv: kv[1]):
    if net in own:
        own[net] = (own[net][0], union(own[net][1], list(rg)))
    else:
        own[net] = (i, list(rg))
reserved = [ipaddress.ip_network(n) for n in ("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128")]
want = {}
for net, (i, rg) in own.items():
    ports = rg
    for plen in range(net.prefixlen - 1, -1, -1):
        cover = net.supernet(new_prefix=plen)
        if cover in reserved:
            break
        if cover in own:
            ports = union(ports, own[cover][1])
    want[str(net)] = {"rule_id": i, "ports": ports}
json.dump(want, open(want_path, "w"))
EOF
	awf_paused paused_dump "" --policy "$pol"
	assert_eq 0 "$AWF_RC" "awf-bpf exit status"
	local verdict
	verdict=$(jq -c '.sandboxes[0].cidrs' <<<"$DUMP" | "$PY" -c '
import json, sys
got = json.loads(sys.stdin.read()); want = json.load(open(sys.argv[1]))
def ranges(p):
    if p == "all":
        return [[0, 65535]]
    return [[int(str(x).partition("-")[0]), int(str(x).partition("-")[2] or x)] for x in p]
allows = {c["cidr"]: {"rule_id": c["rule_id"], "ports": ranges(c["ports"])} for c in got if c["kind"] == "allow"}
kinds = {c["cidr"]: c["kind"] for c in got}
want = {k: {"rule_id": v["rule_id"], "ports": [list(x) for x in v["ports"]]} for k, v in want.items()}
bad = [k for k in want if allows.get(k) != want[k]] + [k for k in allows if k not in want]
print("allows %d want %d bad %d %s reserved %s %s" % (len(allows), len(want), len(bad), bad[:3],
      kinds.get("169.254.0.0/16"), kinds.get("fe80::/10")))
' "$want")
	log "$verdict"
	assert_match "$verdict" '^allows ([0-9]{4,}) want \1 bad 0 \[\] reserved reserved reserved$' "tries against the model"
}
