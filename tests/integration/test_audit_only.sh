# shellcheck shell=bash
# Audit-only mode (`run --audit-only`, "mode": "audit"): what the policy
# refuses goes through and is logged as what enforcing mode would have
# refused ("audit_only": true); reserved ranges, socket types and the
# sandbox stay enforced. And the reserved ranges of the other clouds and
# of NAT64, refused under 0.0.0.0/0 and ::/0, against real hosts in a
# namespace of the test's own.
# shellcheck source=../audit_lib.sh
. "$ROOT/tests/audit_lib.sh"

AUDIT_ONLY_LINE="awf-bpf: audit-only mode: nothing the policy refuses is enforced"

# One policy for the run tests: only ALLOWED4 and allowed.test.
audit_only_policy() {
	policy p "\"allow_cidrs\": [\"$ALLOWED4/32\"], \"allow_domains\": [\"allowed.test\"]${1:-}"
}

test_audit_only_reaches_what_the_policy_refuses() {
	local pol audit=$TEST_TMP/audit.jsonl
	pol=$(audit_only_policy)
	awf_run --policy "$pol" --audit-only --audit-log "$audit" -- sh -c "
		$PY $PROBE tcp $BLOCKED4 80
		$PY $PROBE udp $BLOCKED4 $UDP_ECHO_PORT
		${DIGT[*]} +short @$DNS4 blocked.test
		$PY $PROBE tcp $BLOCKED4 8080
		$PY $PROBE tcp $ALLOWED4 80"
	assert_eq 0 "$AWF_RC" "exit status"
	assert_eq "ok hello from $BLOCKED4:80
ok echo from $BLOCKED4:$UDP_ECHO_PORT: ping peer=$BLOCKED4:$UDP_ECHO_PORT
$BLOCKED4
ok hello from $BLOCKED4:8080
ok hello from $ALLOWED4:80" "$AWF_OUT" "probes"
	assert_contains "$AWF_ERR" "$AUDIT_ONLY_LINE" "the start line"
	assert_contains "$AWF_ERR" "awf-bpf: audit-only, not enforced: denied tcp $BLOCKED4:80 from pid" "stderr"
	audit_validate "$audit"
	# The same record as enforcing mode writes, plus audit_only.
	assert_eq 1 "$(audit_count "$audit" ".event == \"connect\" and .dst == \"$BLOCKED4\" and .dport == 80 and .verdict == \"deny\" and .reason == \"not_in_policy\" and .audit_only == true")" \
		"the audit-only connect record of tcp $BLOCKED4:80"
	assert_eq 1 "$(audit_count "$audit" ".dst == \"$BLOCKED4\" and .dport == $UDP_ECHO_PORT and .proto == \"udp\" and .verdict == \"deny\" and .audit_only == true")" \
		"the audit-only record of udp $BLOCKED4:$UDP_ECHO_PORT"
	assert_eq 1 "$(audit_count "$audit" '.event == "dns" and .name == "blocked.test" and .verdict == "deny" and .reason == "name_not_allowed" and .rcode == 3 and .audit_only == true')" \
		"the audit-only dns record of blocked.test"
	# The name's address is known by the name it came from.
	assert_eq 1 "$(audit_count "$audit" ".event == \"connect\" and .dst == \"$BLOCKED4\" and .dport == 8080 and .domain == \"blocked.test\" and .audit_only == true")" \
		"the connect to blocked.test's address names it"
	# Allowed decisions are logged too (as with --audit all).
	assert_eq 1 "$(audit_count "$audit" ".event == \"connect\" and .dst == \"$ALLOWED4\" and .verdict == \"allow\" and (has(\"audit_only\") | not)")" \
		"the allowed connect record, without audit_only"
	assert_eq 0 "$(audit_count "$audit" '.audit_only == false')" "audit_only is never false"
	assert_contains "$AWF_ERR" "awf-bpf: audit-only mode: " "the summary's audit line"
	assert_contains "$AWF_ERR" "awf-bpf:   would have denied tcp $BLOCKED4:80 from pid" "summary"
	assert_contains "$AWF_ERR" "awf-bpf:   would have denied domain blocked.test: name not allowed" "summary"
	assert_contains "$AWF_ERR" "awf-bpf: to allow these, add: --allow-domains blocked.test --allow-cidr $BLOCKED4/32:80,$UDP_ECHO_PORT" "the fix"
}

# A policy without a domain has programs that tag no socket (may_tag()),
# unless audit-only: the socket of a refused connect() it let through is
# tagged, so that the backstop passes its packets under the connect's one
# record. Untagged, the backstop drops them.
test_audit_only_without_domains_one_record_per_connection() {
	local pol audit=$TEST_TMP/audit.jsonl
	pol=$(policy p "\"allow_cidrs\": [\"$ALLOWED4/32\"]")
	awf_run --policy "$pol" --audit-only --audit-log "$audit" -- \
		$PY $PROBE tcp $BLOCKED4 80
	assert_eq 0 "$AWF_RC" "exit status"
	assert_eq "ok hello from $BLOCKED4:80" "$AWF_OUT" "the probe"
	audit_validate "$audit"
	assert_eq 1 "$(audit_count "$audit" ".event == \"connect\" and .dst == \"$BLOCKED4\" and .dport == 80 and .audit_only == true")" \
		"the audit-only connect record"
	assert_eq 0 "$(audit_count "$audit" ".event == \"packet\" and .dst == \"$BLOCKED4\"")" \
		"no record per packet"
}

# The same policy enforced refuses all of it: the test above can fail.
test_audit_only_same_policy_enforced_refuses() {
	local pol
	pol=$(audit_only_policy)
	sandbox_probe "$pol" tcp "$BLOCKED4" 80
	assert_eperm_fast "$PROBE_LINE" "tcp $BLOCKED4:80 enforced"
	assert_not_contains "$AWF_ERR" "$AUDIT_ONLY_LINE" "stderr"
}

test_audit_only_policy_mode_key() {
	local pol audit=$TEST_TMP/audit.jsonl
	pol=$(audit_only_policy ', "mode": "audit"')
	awf_run --policy "$pol" --audit-log "$audit" -- "$PY" "$PROBE" tcp "$BLOCKED4" 80
	assert_eq "ok hello from $BLOCKED4:80" "$AWF_OUT" "tcp $BLOCKED4:80 under \"mode\": \"audit\""
	assert_contains "$AWF_ERR" "$AUDIT_ONLY_LINE" "the start line"
	assert_eq 1 "$(audit_count "$audit" '.event == "connect" and .audit_only == true')" "audit-only record"
	pol=$(audit_only_policy ', "mode": "enforce"')
	sandbox_probe "$pol" tcp "$BLOCKED4" 80
	assert_eperm_fast "$PROBE_LINE" "tcp $BLOCKED4:80 under \"mode\": \"enforce\""
	pol=$(audit_only_policy ', "mode": "permissive"')
	awf_run --policy "$pol" -- true
	assert_eq 125 "$AWF_RC" "exit status of a bad mode"
	assert_contains "$AWF_ERR" "mode" "the error names the field"
	assert_contains "$AWF_ERR" '"enforce" or "audit"' "the error says what is expected"
}

test_audit_only_summary_json() {
	local pol json
	pol=$(audit_only_policy)
	awf_run --policy "$pol" --audit-only --summary-format json -- \
		"$PY" "$PROBE" tcp "$BLOCKED4" 443
	assert_eq "ok hello from $BLOCKED4:443" "$AWF_OUT" "probe"
	json=$(printf '%s\n' "$AWF_ERR" | tail -n 1)
	assert_eq 1 "$(jq .would_deny <<<"$json")" "would_deny"
	assert_eq "{\"version\":1,\"allow_domains\":[],\"allow_cidrs\":[{\"cidr\":\"$BLOCKED4/32\",\"ports\":[443]}]}" \
		"$(jq -c .allow_policy <<<"$json")" "allow_policy"
	# The fix is a policy that loads.
	jq .allow_policy <<<"$json" >"$TEST_TMP/fix.json"
	awf policy check "$TEST_TMP/fix.json"
	assert_eq 0 "$AWF_RC" "awf-bpf policy check of allow_policy"
	awf_run --summary-format yaml -- true
	assert_eq 125 "$AWF_RC" "exit status of a bad --summary-format"
}

# Audit mode opens the policy, not the sandbox.
test_audit_only_keeps_reserved_ranges_and_socket_types() {
	local pol audit=$TEST_TMP/audit.jsonl before
	pol=$(policy p '"allow_cidrs": ["0.0.0.0/0"]')
	before=$(server_hits "http $LINKLOCAL4:80 ")
	awf_run --policy "$pol" --audit-only --audit-log "$audit" -- sh -c "
		$PY $PROBE tcp $LINKLOCAL4 80
		$PY -c '
import socket
for fam, typ, proto, what in ((socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP, \"raw\"),
                              (socket.AF_PACKET, socket.SOCK_RAW, 0, \"packet\"),
                              (socket.AF_INET, socket.SOCK_DGRAM, 136, \"udplite\")):
    try:
        socket.socket(fam, typ, proto)
        print(what, \"open\")
    except OSError as e:
        print(what, \"refused\", e.errno)'"
	assert_eperm_fast "$(printf '%s\n' "$AWF_OUT" | head -n 1)" "tcp $LINKLOCAL4:80 in audit-only mode"
	assert_eq "$before" "$(server_hits "http $LINKLOCAL4:80 ")" "connections seen by $LINKLOCAL4"
	assert_eq "raw refused 1
packet refused 1
udplite refused 1" "$(printf '%s\n' "$AWF_OUT" | tail -n 3)" "raw, packet and UDP-Lite sockets"
	audit_validate "$audit"
	assert_eq 1 "$(audit_count "$audit" ".event == \"connect\" and .dst == \"$LINKLOCAL4\" and .reason == \"link_local\" and .verdict == \"deny\" and (has(\"audit_only\") | not)")" \
		"the link_local record is a plain denial"
	assert_eq 1 "$(audit_count "$audit" '.event == "socket" and .reason == "socket_type" and (has("audit_only") | not)')" \
		"the socket_type record is a plain denial"
}

# ------------------------------------------------ reserved ranges (item 5)

RES_NS=awft-res-$$
RES_HOST_IF=awftr0
RES_NS_IF=awftr1
# The other clouds' metadata / host-agent addresses, and NAT64 forms of
# 169.254.169.254, 168.63.129.16 and 100.100.100.200.
RES_V4="168.63.129.16 100.100.100.200"
RES_V6="64:ff9b::a9fe:a9fe 64:ff9b::a83f:8110 64:ff9b::6464:64c8"
RES_PORT=80

res_down() {
	local a
	for a in $RES_V4; do ip route del "$a/32" dev "$RES_HOST_IF" 2>/dev/null; done
	for a in $RES_V6; do ip -6 route del "$a/128" dev "$RES_HOST_IF" 2>/dev/null; done
	ip link del "$RES_HOST_IF" 2>/dev/null
	ip netns del "$RES_NS" 2>/dev/null
	true
}

# Hosts answering on every reserved address, in a namespace of our own;
# the host reaches them over a veth, by /32 and /128 routes.
res_up() {
	local a
	at_exit res_down
	ip netns add "$RES_NS" || fail "ip netns add"
	ip link add "$RES_HOST_IF" type veth peer name "$RES_NS_IF" netns "$RES_NS" || fail "veth"
	ip addr add 198.19.77.1/30 dev "$RES_HOST_IF"
	ip -6 addr add fd42:a0f1::1/64 dev "$RES_HOST_IF" nodad
	ip link set "$RES_HOST_IF" up
	nsenter --net="/run/netns/$RES_NS" sh -c "
		ip link set lo up && ip link set $RES_NS_IF up &&
		ip addr add 198.19.77.2/30 dev $RES_NS_IF &&
		ip -6 addr add fd42:a0f1::2/64 dev $RES_NS_IF nodad &&
		ip route add default via 198.19.77.1 &&
		ip -6 route add default via fd42:a0f1::1" || fail "netns addresses"
	for a in $RES_V4; do
		nsenter --net="/run/netns/$RES_NS" ip addr add "$a/32" dev lo || fail "$a"
		ip route add "$a/32" dev "$RES_HOST_IF" src 198.19.77.1 || fail "route $a"
	done
	for a in $RES_V6; do
		nsenter --net="/run/netns/$RES_NS" ip -6 addr add "$a/128" dev lo nodad || fail "$a"
		ip -6 route add "$a/128" dev "$RES_HOST_IF" via fd42:a0f1::2 || fail "route $a"
	done
	# One dual-stack listener that says where it was reached.
	bg_start nsenter --net="/run/netns/$RES_NS" "$PY" -c "
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(('::', $RES_PORT))
s.listen(16)
while True:
    c, _ = s.accept()
    c.settimeout(1)
    try:
        c.recv(4096)
    except OSError:
        pass
    me = c.getsockname()
    c.sendall(('hello from %s:%d\n' % (me[0].replace('::ffff:', ''), me[1])).encode())
    c.close()"
	# Bounded wait for the listener (5 s).
	for _ in $(seq 1 50); do
		probe tcp "${RES_V4%% *}" "$RES_PORT" | grep -q '^ok' && break
		sleep 0.1
	done
}

res_probes() {
	local a script=
	for a in $RES_V4 $RES_V6; do
		script="$script
$PY $PROBE tcp $a $RES_PORT"
	done
	printf '%s\n' "$script"
}

test_reserved_other_clouds_and_nat64_refused_under_everything() {
	local pol a audit=$TEST_TMP/audit.jsonl n=0 mode
	res_up
	# Reachable from the host: a refusal below is the sandbox's.
	for a in $RES_V4 $RES_V6; do
		assert_ok "$(probe tcp "$a" "$RES_PORT")" "hello from $a" "tcp $a:$RES_PORT outside the sandbox"
	done
	pol=$(policy p '"allow_cidrs": ["0.0.0.0/0", "::/0", "100.64.0.0/10"]')
	for mode in "" --audit-only; do
		rm -f "$audit"
		# shellcheck disable=SC2086 # $mode: no flag, or one
		awf_run --policy "$pol" $mode --audit-log "$audit" -- sh -c "$(res_probes)"
		n=0
		for a in $RES_V4 $RES_V6; do
			n=$((n + 1))
			assert_eperm_fast "$(printf '%s\n' "$AWF_OUT" | sed -n "${n}p")" "tcp $a:$RES_PORT under 0.0.0.0/0 and ::/0 ${mode:-enforcing}"
			assert_eq 1 "$(audit_count "$audit" ".event == \"connect\" and .dst == \"$a\" and .reason == \"link_local\" and (has(\"audit_only\") | not)")" \
				"the link_local record of $a ${mode:-enforcing}"
		done
	done
	# Named exactly, a reserved address is the operator's to open.
	pol=$(policy p '"allow_cidrs": ["168.63.129.16/32", "64:ff9b::a9fe:a9fe/128"]')
	awf_run --policy "$pol" -- sh -c "$PY $PROBE tcp 168.63.129.16 $RES_PORT; $PY $PROBE tcp 64:ff9b::a9fe:a9fe $RES_PORT"
	assert_eq "ok hello from 168.63.129.16:$RES_PORT
ok hello from 64:ff9b::a9fe:a9fe:$RES_PORT" "$AWF_OUT" "named reserved addresses"
}

# ------------------------------------- names and UDP in audit-only mode

# A name other than the one an address was learned for goes through the
# kernel's name check (tls_name_not_allowed, audit_only), and so do the
# datagrams of a UDP socket connected to a name's address without "udp"
# (udp_to_name, from the backstop, once for the socket's destination).
test_audit_only_name_check_and_udp_to_name() {
	local pol audit=$TEST_TMP/audit.jsonl curl
	cp "$AWFT_CA" "$TEST_TMP/ca.crt" || fail "no test CA at $AWFT_CA"
	chmod 0644 "$TEST_TMP/ca.crt"
	curl="curl -sS --noproxy '*' --max-time 5 --cacert $TEST_TMP/ca.crt"
	pol=$(policy p "\"allow_domains\": [\"good.test\", {\"domain\": \"allowed.test\", \"ports\": [$UDP_ECHO_PORT]}]")
	awf_run --policy "$pol" --audit-only --audit-log "$audit" -- sh -c "
		${DIGT[*]} +short @$DNS4 good.test
		${DIGT[*]} +short @$DNS4 allowed.test
		$curl --resolve other.test:443:$SHARED4 https://other.test/
		$PY -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect((\"$ALLOWED4\", $UDP_ECHO_PORT))
for i in range(3):
    s.send(b\"ping\")
    print(\"udp\", s.recv(256).decode().split(\":\")[0])'"
	assert_eq 0 "$AWF_RC" "exit status"
	assert_eq "$SHARED4
$ALLOWED4
hello from other.test at $SHARED4:443 (Host: other.test)
udp echo from $ALLOWED4
udp echo from $ALLOWED4
udp echo from $ALLOWED4" "$AWF_OUT" "outputs"
	audit_validate "$audit"
	assert_eq 1 "$(audit_count "$audit" ".event == \"tls\" and .name == \"other.test\" and .reason == \"tls_name_not_allowed\" and .domain == \"good.test\" and .audit_only == true")" \
		"the audit-only tls record of other.test"
	assert_eq 1 "$(audit_count "$audit" ".event == \"packet\" and .dst == \"$ALLOWED4\" and .dport == $UDP_ECHO_PORT and .reason == \"udp_to_name\" and .audit_only == true")" \
		"one audit-only udp_to_name record for three datagrams"
	assert_contains "$AWF_ERR" "would have denied tls sni other.test" "summary"
}
