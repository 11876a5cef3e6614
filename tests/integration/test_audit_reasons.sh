# shellcheck shell=bash
# Every reason code of the audit trail, produced for real: each appears in
# the JSON log (valid under docs/audit.schema.json), in the dump taken while
# the sandbox runs (counters.denied_by_reason), in the summary on stderr
# and in `awf-bpf logs summary`.
# shellcheck source=../audit_lib.sh
. "$ROOT/tests/audit_lib.sh"

test_audit_reason_not_in_policy() {
	local pol pid
	pol=$(policy p "\"allow_cidrs\": [\"$ALLOWED4/32\"]")
	reason_case not_in_policy "not in policy" "$PY $PROBE tcp $BLOCKED4 80" --policy "$pol"
	assert_eperm_fast "$AWF_OUT" "tcp $BLOCKED4:80"
	# The record carries who, what, from where, to where.
	assert_eq 1 "$(audit_count "$AUDIT" ".event == \"connect\" and .dst == \"$BLOCKED4\" and .dport == 80 and .proto == \"tcp\" and .family == \"ipv4\" and .src == \"0.0.0.0\" and .sport == 0 and .comm == \"python3\" and .uid == 0 and .cgroup_id > 0 and .pid > 0 and .tid > 0 and .reason_text == \"not in policy\"")" \
		"the connect record of tcp $BLOCKED4:80"
	pid=$(jq -r 'select(.event == "connect") | .pid' "$AUDIT")
	assert_contains "$(summary_lines)" "tcp $BLOCKED4:80 from pid $pid (python3): not in policy (1 time)"
	assert_contains "$(summary_lines)" "awf-bpf: to allow these, add: --allow-cidr $BLOCKED4/32:80"
	assert_eq 1 "$(dump_get .counters.connect_denied)" "connect_denied in the dump"
	assert_eq 1 "$(jq -c 'select(.event == "end") | .counters.connect_denied' "$AUDIT")" "connect_denied in the end record"
}

test_audit_source_address_of_bound_socket() {
	local pol audit=$TEST_TMP/audit.jsonl port
	pol=$(policy p '')
	# Port 0: a bind with a port off loopback is refused (bind4/6).
	awf_run --policy "$pol" --audit-log "$audit" -- "$PY" -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('$AWFT_HOST4', 0))
print(s.getsockname()[1])
try:
    s.sendto(b'x', ('$BLOCKED4', $UDP_ECHO_PORT))
except PermissionError:
    print('EPERM')"
	port=$(printf '%s\n' "$AWF_OUT" | head -n 1)
	assert_eq EPERM "$(printf '%s\n' "$AWF_OUT" | sed -n 2p)" "sendto from a bound socket"
	audit_validate "$audit"
	assert_eq 1 "$(audit_count "$audit" ".event == \"sendmsg\" and .src == \"$AWFT_HOST4\" and .sport == $port and .dst == \"$BLOCKED4\" and .dport == $UDP_ECHO_PORT and .proto == \"udp\"")" \
		"sendmsg record with the bound source $AWFT_HOST4:$port"
}

test_audit_reason_port_not_allowed() {
	local pol
	pol=$(policy p "\"allow_cidrs\": [{\"cidr\": \"$ALLOWED4/32\", \"ports\": [80]}]")
	reason_case port_not_allowed "port not allowed" "$PY $PROBE tcp $ALLOWED4 8080" --policy "$pol"
	assert_eperm_fast "$AWF_OUT" "tcp $ALLOWED4:8080"
	assert_contains "$(summary_lines)" "awf-bpf: to allow these, add: --allow-cidr $ALLOWED4/32:8080"
}

test_audit_reason_port_not_allowed_names_the_domain() {
	local pol
	pol=$(policy p '"allow_domains": ["allowed.test"]')
	reason_case port_not_allowed "port not allowed" "
		${DIGT[*]} +short @$DNS4 allowed.test
		$PY $PROBE tcp $ALLOWED4 8080" --policy "$pol"
	assert_eq "$ALLOWED4" "$(printf '%s\n' "$AWF_OUT" | sed -n 1p)" "allowed.test resolves"
	assert_eperm_fast "$(printf '%s\n' "$AWF_OUT" | sed -n 2p)" "tcp $ALLOWED4:8080"
	assert_eq 1 "$(audit_count "$AUDIT" ".event == \"connect\" and .dst == \"$ALLOWED4\" and .dport == 8080 and .domain == \"allowed.test\" and .name_id == 1")" \
		"the connect record names the domain the address was learned from"
	assert_match "$AWF_ERR" "^$(deny_prefix tcp "$ALLOWED4:8080") [0-9]+ \\(python3\\): port not allowed \\(allowed.test\\)$" "the denial line"
	assert_contains "$(summary_lines)" "tcp $ALLOWED4:8080 (allowed.test) from pid"
	# The address belongs to a name: no --allow-cidr for it.
	assert_not_contains "$(summary_lines)" "--allow-cidr" "summary"
	assert_eq 1 "$(audit_count "$AUDIT" '.event == "dns" and .verdict == "allow" and .name == "allowed.test" and .reason == "dns_allowed" and .learned == 1')" \
		"the dns record of allowed.test"
}

test_audit_reason_blocked_domain() {
	local pol
	pol=$(policy p '"allow_domains": ["allowed.test", "blocked.test"], "block_domains": ["blocked.test"]')
	reason_case blocked_domain "blocked domain" "${DIGT[*]} +short @$DNS4 blocked.test; true" --policy "$pol"
	assert_eq 1 "$(audit_count "$AUDIT" '.event == "dns" and .verdict == "deny" and .name == "blocked.test" and .qtype == "A" and .rcode == 3')" \
		"the dns record of blocked.test"
	assert_contains "$(summary_lines)" "domain blocked.test: blocked domain (1 query)"
	# A name the policy blocks on purpose is not offered for allowing.
	assert_not_contains "$(summary_lines)" "--allow-domains" "summary"
	assert_eq 1 "$(dump_get .counters.dns_blocked)" "dns_blocked in the dump"
}

test_audit_reason_name_not_allowed() {
	local pol
	pol=$(policy p '"allow_domains": ["allowed.test"]')
	reason_case name_not_allowed "name not allowed" "
		${DIGT[*]} +short @$DNS4 blocked.test
		${DIGT[*]} +short @$DNS4 AAAA blocked.test; true" --policy "$pol"
	assert_contains "$(summary_lines)" "domain blocked.test: name not allowed (2 queries)"
	assert_contains "$(summary_lines)" "awf-bpf: to allow these, add: --allow-domains blocked.test"
	assert_eq 2 "$(dump_get .counters.denied_by_reason.name_not_allowed)" "name_not_allowed in the dump"
}

test_audit_reason_socket_type() {
	local pol
	pol=$(policy p '"allow_cidrs": ["0.0.0.0/0"]')
	# UDP-Lite needs no capability: the sock_create hook is what refuses it.
	reason_case socket_type "socket type not allowed" "$PY -c '
import socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM, 136)
    print(\"created\")
except PermissionError:
    print(\"EPERM\")'" --policy "$pol"
	assert_eq EPERM "$AWF_OUT" "UDP-Lite socket"
	assert_eq 1 "$(audit_count "$AUDIT" '.event == "socket" and .sock_type == 2 and .sock_type_name == "dgram" and .proto == "udplite" and .comm == "python3"')" \
		"the socket record"
	assert_contains "$(summary_lines)" "socket ipv4 dgram/udplite from pid"
	assert_eq 1 "$(dump_get .counters.sockets_denied)" "sockets_denied in the dump"
}

test_audit_reason_backstop() {
	local pol
	pol=$(policy p "\"allow_cidrs\": [\"$ALLOWED6/128\"]")
	# A segment routing header (no capability needed): sendto() names the
	# allowed host, the packet goes to the blocked one first. The socket
	# hook allows; the backstop drops what it cannot parse as TCP or UDP.
	reason_case backstop "dropped by packet backstop" "$PY -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
srh = bytes([0, 2, 4, 0, 0, 0, 0, 0]) + socket.inet_pton(socket.AF_INET6, \"$BLOCKED6\")
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RTHDR, srh)
try:
    s.sendto(b\"x\", (\"$ALLOWED6\", $UDP_ECHO_PORT))
    print(\"sent\")
except PermissionError:
    print(\"EPERM\")'" --policy "$pol"
	assert_eq EPERM "$AWF_OUT" "sendto with a routing header through $BLOCKED6"
	# From the IP header: the first hop, the routing header's protocol.
	assert_eq 1 "$(audit_count "$AUDIT" ".event == \"packet\" and .family == \"ipv6\" and .dst == \"$BLOCKED6\" and .proto == 43 and .src == \"$AWFT_HOST6\"")" \
		"the packet record"
	assert_contains "$(summary_lines)" "protocol 43 [$BLOCKED6]:0 from pid"
	assert_eq 1 "$(dump_get .counters.packets_dropped)" "packets_dropped in the dump"
}

test_audit_reason_spoofed_source() {
	local pol
	pol=$(policy p "\"allow_cidrs\": [\"$ALLOWED6/128\"]")
	# IP_FREEBIND needs no capability: the bind hook is what refuses a
	# source that is not this host's, and sendmsg6 an IPV6_PKTINFO one.
	reason_case spoofed_source "source address not of this host" "$PY -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 15, 1)
try:
    s.bind((\"$BLOCKED6\", 0))
    print(\"bound\")
except PermissionError:
    print(\"EPERM\")
info = socket.inet_pton(socket.AF_INET6, \"$BLOCKED6\") + bytes(4)
try:
    s.sendmsg([b\"x\"], [(socket.IPPROTO_IPV6, socket.IPV6_PKTINFO, info)], 0, (\"$ALLOWED6\", $UDP_ECHO_PORT))
    print(\"sent\")
except PermissionError:
    print(\"EPERM\")'" --policy "$pol"
	assert_eq "EPERM EPERM" "$(printf '%s\n' "$AWF_OUT" | tr '\n' ' ' | sed 's/ $//')" "bind and sendmsg from $BLOCKED6"
	assert_eq 1 "$(audit_count "$AUDIT" ".event == \"bind\" and .dst == \"$BLOCKED6\" and .dport == 0 and .reason == \"spoofed_source\"")" \
		"the bind record"
	assert_eq 1 "$(audit_count "$AUDIT" ".event == \"sendmsg\" and .dst == \"$ALLOWED6\" and .src == \"$BLOCKED6\" and .reason == \"spoofed_source\"")" \
		"the sendmsg record"
	assert_eq 1 "$(dump_get .counters.sendmsg_denied)" "sendmsg_denied in the dump"
}

test_audit_reason_dns_upstream_failure() {
	local pol
	# 198.18.0.10 (the testbed's "allowed" host) runs no DNS server.
	pol=$(policy_file p "{\"version\": 1, \"dns_servers\": [\"$ALLOWED4\"], \"allow_domains\": [\"allowed.test\"]}")
	reason_case dns_upstream_failure "every upstream DNS server failed" \
		"dig +time=8 +tries=1 @$DNS4 allowed.test | grep -o 'status: [A-Z]*'" --policy "$pol"
	assert_eq "status: SERVFAIL" "$AWF_OUT"
	assert_eq 1 "$(audit_count "$AUDIT" '.event == "dns" and .name == "allowed.test" and .rcode == 2')" "the dns record"
	assert_eq 1 "$(dump_get .counters.dns_failed)" "dns_failed in the dump"
	assert_contains "$(summary_lines)" "domain allowed.test: every upstream DNS server failed (1 query)"
}

test_audit_reason_link_local() {
	local pol
	pol=$(policy p '"allow_cidrs": ["0.0.0.0/0"]')
	reason_case link_local "link-local/metadata range" "$PY $PROBE tcp $LINKLOCAL4 80" --policy "$pol"
	assert_eperm_fast "$AWF_OUT" "tcp $LINKLOCAL4:80"
	assert_not_contains "$(summary_lines)" "--allow-cidr" "summary"
}

test_audit_reason_loopback() {
	local pol port
	port=$(free_port)
	pol=$(policy p '"localhost": "deny"')
	reason_case loopback "loopback port not allowed" "$PY $PROBE tcp 127.0.0.1 $port" --policy "$pol"
	assert_eperm_fast "$AWF_OUT" "tcp 127.0.0.1:$port"
	assert_contains "$(summary_lines)" "tcp 127.0.0.1:$port from pid"
	assert_not_contains "$(summary_lines)" "--allow-cidr" "summary"
}

test_audit_reason_ipv6_disabled() {
	local pol
	pol=$(policy p "\"ipv6\": false, \"allow_cidrs\": [\"$ALLOWED6/128\"]")
	reason_case ipv6_disabled "ipv6 disabled by policy" "$PY $PROBE tcp $ALLOWED6 80" --policy "$pol"
	assert_eperm_fast "$AWF_OUT" "tcp [$ALLOWED6]:80"
	assert_eq 1 "$(audit_count "$AUDIT" ".family == \"ipv6\" and .dst == \"$ALLOWED6\" and .src == \"::\"")" "the ipv6 record"
	assert_contains "$(summary_lines)" "tcp [$ALLOWED6]:80 from pid"
}

test_audit_reason_proxy_only() {
	local pol
	pol=$(policy p "\"allow_domains\": [\"allowed.test\"], \"proxy\": \"$PROXY4:$PROXY_PORT\"")
	reason_case proxy_only "proxy-only mode: use the proxy" "
		${DIGT[*]} +short @$DNS4 allowed.test >/dev/null
		$PY $PROBE tcp $ALLOWED4 80" --policy "$pol"
	assert_eperm_fast "$AWF_OUT" "direct tcp $ALLOWED4:80 in proxy-only mode"
	assert_eq 1 "$(audit_count "$AUDIT" ".reason == \"proxy_only\" and .domain == \"allowed.test\"")" "the record names the domain"
}

test_audit_reason_dns_local_answer() {
	local pol
	pol=$(policy p '"allow_domains": ["allowed.test"]')
	reason_case dns_local_answer "answered locally (PTR, ANY)" \
		"${DIGT[*]} @$DNS4 -x $ALLOWED4 | grep -o 'status: [A-Z]*'" --policy "$pol"
	assert_eq "status: NXDOMAIN" "$AWF_OUT"
	assert_eq 1 "$(audit_count "$AUDIT" '.event == "dns" and .qtype == "PTR" and .name == "10.0.18.198.in-addr.arpa" and .rcode == 3')" "the dns record"
	assert_not_contains "$(summary_lines)" "--allow-domains" "summary"
}

test_audit_reason_dns_malformed() {
	local pol
	pol=$(policy p '')
	# A header that promises a question and ends: never sent upstream.
	reason_case dns_malformed "malformed DNS query" "$PY -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(bytes([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff]), (\"$DNS4\", 53))
reply = s.recv(512)
print(\"rcode\", reply[3] & 15)'" --policy "$pol"
	assert_eq "rcode 1" "$AWF_OUT" "FORMERR"
	assert_eq 1 "$(audit_count "$AUDIT" '.event == "dns" and .reason == "dns_malformed" and .rcode == 1')" "the dns record"
}

test_audit_reason_dns_bad_answer() {
	local pol ready=$TEST_TMP/fake-dns.ready fake=127.86.0.53
	# An upstream on loopback that answers another question than it was
	# asked: the filter refuses the answer (SERVFAIL).
	cat >"$TEST_TMP/fake-dns.py" <<PYEOF
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("$fake", 53))
open("$ready", "w").close()
s.settimeout(20)
while True:
    q, peer = s.recvfrom(512)
    other = b"\x05other\x04test\x00\x00\x01\x00\x01"
    s.sendto(q[:2] + b"\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00" + other, peer)
PYEOF
	bg_start "$PY" "$TEST_TMP/fake-dns.py"
	wait_file "$ready" 50 || fail "the fake DNS server did not start"
	pol=$(policy_file p "{\"version\": 1, \"dns_servers\": [\"$fake\"], \"allow_domains\": [\"allowed.test\"]}")
	reason_case dns_bad_answer "upstream answer rejected" \
		"${DIGT[*]} @$DNS4 allowed.test | grep -o 'status: [A-Z]*'" --policy "$pol"
	assert_eq "status: SERVFAIL" "$AWF_OUT"
	assert_eq 1 "$(audit_count "$AUDIT" '.event == "dns" and .name == "allowed.test" and .reason_text == "answer to another question" and .rcode == 2')" "the dns record"
	assert_eq 1 "$(dump_get .counters.dns_failed)" "dns_failed in the dump"
}

test_audit_reason_blocked_domain_through_a_cname() {
	local pol
	# alias.test is a CNAME of allowed.test, which is blocked.
	pol=$(policy p '"allow_domains": ["alias.test"], "block_domains": ["allowed.test"]')
	reason_case blocked_domain "blocked domain" "${DIGT[*]} @$DNS4 alias.test | grep -o 'status: [A-Z]*'" --policy "$pol"
	assert_eq "status: SERVFAIL" "$AWF_OUT"
	assert_eq 1 "$(audit_count "$AUDIT" '.event == "dns" and .name == "alias.test" and .reason_text == "cname into a blocked domain"')" "the dns record"
	assert_eq 0 "$(dump_get '.learned | length')" "learned addresses"
}

# 200 malformed queries: stderr shows a burst of them and counts the rest
# on one line; the summary and the audit log still count every one.
test_audit_dns_malformed_lines_limited() {
	local pol audit=$TEST_TMP/audit.jsonl shown held
	pol=$(policy p '')
	awf_run --policy "$pol" --audit-log "$audit" -- "$PY" -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
for i in range(200):
    s.sendto(bytes([i, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff]), ('$DNS4', 53))
    s.recv(512)
print('done')"
	assert_eq done "$AWF_OUT" "200 queries answered"
	shown=$(printf '%s\n' "$AWF_ERR" | grep -c ': malformed query$')
	held=$(printf '%s\n' "$AWF_ERR" |
		sed -n 's/^awf-bpf: denied dns: \([0-9]*\) more lines for malformed DNS query not shown.*/\1/p' |
		awk '{ n += $1 } END { print n + 0 }')
	assert_le "$shown" 20 "malformed-query lines on stderr"
	assert_lt 0 "$held" "lines counted, not shown"
	assert_eq 200 "$((shown + held))" "lines shown plus lines counted"
	assert_eq 200 "$(audit_count "$audit" '.event == "dns" and .reason == "dns_malformed"')" "dns records in the audit log"
	assert_contains "$AWF_ERR" "summary: 200 denied" "the summary counts them all"
}
