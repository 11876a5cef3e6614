# shellcheck shell=bash
# Domain allowlist: the sandbox resolves only allowed names (the filter
# answers the rest itself, nothing reaches upstream) and connects only to
# addresses an allowed name resolved to, on that entry's ports, until the
# record expires.
#
# Names are looked up through getaddrinfo: awf-bpf and the workload run in
# a mount namespace whose /etc/resolv.conf names the testbed's trusted
# server, so no lookup ever names the host's own resolver
# (use_testbed_resolver, tests/lib.sh).

DIGT=(dig +time=3 +tries=1)

test_domain_allowed_name_on_default_ports_only() {
	local pol
	use_testbed_resolver
	pol=$(policy p '"allow_domains": ["allowed.test"]')
	awf_run --policy "$pol" -- sh -c "
		curl -4 -s -m 5 http://allowed.test/; echo \" curl=\$?\"
		$PY $PROBE tcp allowed.test 8080"
	assert_eq 1 "$AWF_RC" "exit status (the probe's, refused)"
	assert_contains "$AWF_OUT" "hello from $ALLOWED4:80" "allowed.test:80 (a default port)"
	assert_contains "$AWF_OUT" "curl=0"
	assert_eperm_fast "$(printf '%s\n' "$AWF_OUT" | tail -n 1)" "allowed.test:8080 (not a listed port)"
	assert_contains "$AWF_ERR" "$(deny_prefix tcp "$ALLOWED4:8080")"
	assert_contains "$AWF_ERR" "port not allowed"
}

test_domain_entry_ports_replace_defaults() {
	local pol
	use_testbed_resolver
	pol=$(policy p '"allow_domains": [{"domain": "allowed.test", "ports": [8080]}]')
	awf_run --policy "$pol" -- sh -c "
		$PY $PROBE tcp allowed.test 8080; $PY $PROBE tcp allowed.test 80"
	assert_ok "$(printf '%s\n' "$AWF_OUT" | sed -n 1p)" "hello from $ALLOWED4:8080" "allowed.test:8080"
	assert_eperm_fast "$(printf '%s\n' "$AWF_OUT" | sed -n 2p)" "allowed.test:80"
}

test_domain_not_allowed_is_nxdomain_and_never_sent_upstream() {
	local pol label before blocked_before
	use_testbed_resolver
	label=r$RANDOM$RANDOM
	pol=$(policy p '"allow_domains": ["allowed.test"]')
	before=$(dns_queries trusted "$label")
	blocked_before=$(dns_queries trusted blocked.test)
	awf_run --policy "$pol" -- sh -c "
		${DIGT[*]} @$DNS4 blocked.test | grep -o 'status: [A-Z]*'
		${DIGT[*]} @$DNS4 $label.evil.test | grep -o 'status: [A-Z]*'
		${DIGT[*]} +tcp @$ROGUE4 $label.blocked.test | grep -o 'status: [A-Z]*'"
	assert_eq "status: NXDOMAIN
status: NXDOMAIN
status: NXDOMAIN" "$AWF_OUT" "answers for names outside the allowlist"
	assert_eq "$blocked_before" "$(dns_queries trusted blocked.test)" "queries for blocked.test upstream"
	assert_eq "$before" "$(dns_queries trusted "$label")" "queries for the random label upstream"
	assert_contains "$AWF_ERR" "awf-bpf: denied dns A blocked.test: name not allowed"
	assert_contains "$AWF_ERR" "awf-bpf: denied dns A $label.evil.test: name not allowed"
}

test_domain_block_wins_over_allow() {
	local pol
	use_testbed_resolver
	pol=$(policy p '"allow_domains": ["allowed.test", "blocked.test"], "block_domains": ["blocked.test"]')
	awf_run --policy "$pol" -- sh -c "
		${DIGT[*]} +short @$DNS4 allowed.test
		${DIGT[*]} @$DNS4 blocked.test | grep -o 'status: [A-Z]*'"
	assert_eq "$ALLOWED4
status: NXDOMAIN" "$AWF_OUT"
	assert_contains "$AWF_ERR" "denied dns A blocked.test: blocked domain"
}

test_domain_resolve_trick_is_refused() {
	local pol
	use_testbed_resolver
	pol=$(policy p '"allow_domains": ["allowed.test"]')
	awf_run --policy "$pol" -- curl -s -m 5 --resolve "blocked.test:80:$BLOCKED4" \
		--connect-to "allowed.test:80:$BLOCKED4:80" http://blocked.test/
	assert_eq 7 "$AWF_RC" "curl exit status (could not connect)"
	assert_not_contains "$AWF_OUT" "hello" "curl output"
	assert_contains "$AWF_ERR" "$(deny_prefix tcp "$BLOCKED4:80")"
	assert_contains "$AWF_ERR" "not in policy"
}

test_domain_address_needs_a_lookup_first() {
	local pol
	pol=$(policy p '"allow_domains": ["allowed.test"]')
	awf_run --policy "$pol" -- sh -c "
		$PY $PROBE tcp $ALLOWED4 80 --host allowed.test
		${DIGT[*]} +short @$DNS4 allowed.test >/dev/null
		$PY $PROBE tcp $ALLOWED4 80 --host allowed.test"
	assert_eperm_fast "$(printf '%s\n' "$AWF_OUT" | sed -n 1p)" "IP literal before any lookup"
	assert_ok "$(printf '%s\n' "$AWF_OUT" | sed -n 2p)" "hello from $ALLOWED4:80" "after the lookup"
}

test_domain_cname_chain_is_learned() {
	local pol
	use_testbed_resolver
	# alias.test is a CNAME of allowed.test, which is not itself listed.
	pol=$(policy p '"allow_domains": ["alias.test"]')
	awf_run --policy "$pol" -- sh -c "
		$PY $PROBE tcp alias.test 80
		${DIGT[*]} @$DNS4 allowed.test | grep -o 'status: [A-Z]*'"
	assert_ok "$(printf '%s\n' "$AWF_OUT" | sed -n 1p)" "hello from $ALLOWED4:80" "alias.test -> allowed.test"
	assert_eq "status: NXDOMAIN" "$(printf '%s\n' "$AWF_OUT" | sed -n 2p)" "allowed.test asked directly"
}

test_domain_every_address_of_a_name_is_learned() {
	local pol
	pol=$(policy p '"allow_domains": ["multi.test"]')
	awf_run --policy "$pol" -- sh -c "
		${DIGT[*]} +short @$DNS4 multi.test | sort
		$PY $PROBE tcp $ALLOWED4 80 --host multi.test; $PY $PROBE tcp $ALLOWED4_B 80 --host multi.test"
	assert_eq "$ALLOWED4
$ALLOWED4_B" "$(printf '%s\n' "$AWF_OUT" | sed -n 1,2p)" "multi.test records"
	assert_ok "$(printf '%s\n' "$AWF_OUT" | sed -n 3p)" "" "$ALLOWED4:80"
	assert_ok "$(printf '%s\n' "$AWF_OUT" | sed -n 4p)" "" "$ALLOWED4_B:80"
}

test_domain_ipv6_answers_are_learned() {
	local pol
	pol=$(policy p '"allow_domains": ["allowed.test"]')
	awf_run --policy "$pol" -- sh -c "
		${DIGT[*]} +short @$DNS6 allowed.test AAAA
		$PY $PROBE tcp $ALLOWED6 80 --host allowed.test; $PY $PROBE tcp $BLOCKED6 80"
	assert_eq "$ALLOWED6" "$(printf '%s\n' "$AWF_OUT" | sed -n 1p)"
	assert_ok "$(printf '%s\n' "$AWF_OUT" | sed -n 2p)" "hello from [$ALLOWED6]:80"
	assert_eperm_fast "$(printf '%s\n' "$AWF_OUT" | sed -n 3p)" "[$BLOCKED6]:80"
}

# short-ttl.test has TTL 2 and min_ttl is 1: after 4 s a new connect is
# refused while a connection opened before keeps working.
test_domain_expiry_keeps_established_connections() {
	local pol
	cat >"$TEST_TMP/expiry.py" <<EOF
import socket, subprocess, time, errno
subprocess.run(["dig", "+short", "@$DNS4", "short-ttl.test"], check=True,
               stdout=subprocess.DEVNULL)
held = socket.create_connection(("$ALLOWED4", 80), timeout=5)
# The head is finished after the expiry; its Host is the name the
# address was learned from (checked on the first bytes, issue 12).
held.sendall(b"GET / HTTP/1.0\r\nHost: short-ttl.test\r\n")
time.sleep(4)
try:
    socket.create_connection(("$ALLOWED4", 80), timeout=5)
    print("new: ok")
except OSError as e:
    print("new: " + errno.errorcode.get(e.errno, str(e.errno)))
held.sendall(b"\r\n")
reply = b""
while True:
    chunk = held.recv(4096)
    if not chunk:
        break
    reply += chunk
print("held: " + reply.decode().strip().splitlines()[-1])
EOF
	pol=$(policy p '"allow_domains": ["short-ttl.test"], "dns": {"min_ttl": 1}')
	awf_run --policy "$pol" -- "$PY" "$TEST_TMP/expiry.py"
	assert_eq 0 "$AWF_RC" "exit status"
	assert_eq "new: EPERM
held: hello from $ALLOWED4:80" "$AWF_OUT" "after expiry"
}

test_domain_min_ttl_extends_short_records() {
	local pol
	pol=$(policy p '"allow_domains": ["short-ttl.test"], "dns": {"min_ttl": 60}')
	awf_run --policy "$pol" -- sh -c "
		${DIGT[*]} +short @$DNS4 short-ttl.test >/dev/null; sleep 3
		$PY $PROBE tcp $ALLOWED4 80 --host short-ttl.test"
	assert_ok "$AWF_OUT" "hello from $ALLOWED4:80" "3 s after a TTL-2 answer with min_ttl 60"
}

test_domain_upstream_down_is_servfail() {
	local pol
	# 198.18.0.10 runs no DNS server: every upstream attempt fails.
	pol=$(policy_file p "{\"version\": 1, \"dns_servers\": [\"$ALLOWED4\"], \"allow_domains\": [\"allowed.test\"]}")
	awf_run --policy "$pol" -- sh -c "
		dig +time=8 +tries=1 @$DNS4 allowed.test | grep -o 'status: [A-Z]*'
		$PY $PROBE tcp $ALLOWED4 80"
	assert_eq "status: SERVFAIL" "$(printf '%s\n' "$AWF_OUT" | sed -n 1p)"
	assert_eperm_fast "$(printf '%s\n' "$AWF_OUT" | sed -n 2p)" "nothing learned"
}

test_domain_ptr_and_any_answered_locally() {
	local pol before
	pol=$(policy p '"allow_domains": ["allowed.test"]')
	before=$(dns_queries trusted in-addr.arpa)
	awf_run --policy "$pol" -- sh -c "
		${DIGT[*]} @$DNS4 -x $ALLOWED4 | grep -o 'status: [A-Z]*'
		${DIGT[*]} @$DNS4 allowed.test ANY | grep -o 'status: [A-Z]*'"
	assert_eq "status: NXDOMAIN
status: NOTIMP" "$AWF_OUT"
	assert_eq "$before" "$(dns_queries trusted in-addr.arpa)" "PTR queries upstream"
}

test_domain_proxy_only_mode_refuses_direct_connects() {
	local pol
	pol=$(policy p "\"allow_domains\": [\"allowed.test\"], \"proxy\": \"$PROXY4:$PROXY_PORT\"")
	awf_run --policy "$pol" -- sh -c "
		${DIGT[*]} +short @$DNS4 allowed.test
		$PY $PROBE tcp $ALLOWED4 80"
	assert_eq "$ALLOWED4" "$(printf '%s\n' "$AWF_OUT" | sed -n 1p)" "the name still resolves"
	assert_eperm_fast "$(printf '%s\n' "$AWF_OUT" | sed -n 2p)" "direct connect in proxy-only mode"
	assert_contains "$AWF_ERR" "proxy-only mode"
}

test_domain_learning_is_per_sandbox() {
	local pol ready
	pol=$(policy p '"allow_domains": ["allowed.test"]')
	ready=$TEST_TMP/first-resolved
	# The first sandbox resolves allowed.test and stays alive meanwhile.
	timeout 20 "$AWF" run --policy "$pol" -- sh -c "
		${DIGT[*]} +short @$DNS4 allowed.test >/dev/null && touch $ready && sleep 8" \
		>/dev/null 2>&1 &
	wait_file "$ready" 100 || fail "first sandbox did not resolve"
	awf_run --policy "$pol" -- "$PY" "$PROBE" tcp "$ALLOWED4" 80
	assert_eperm_fast "$AWF_OUT" "second sandbox, no lookup of its own"
	kill %1 2>/dev/null
	wait
}
