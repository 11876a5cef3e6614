# shellcheck shell=bash
# DNS: every query of the sandbox, to whatever server, is answered by
# awf-bpf's forwarder from the policy's dns_servers (the trusted dnsmasq);
# the server the workload named (here the rogue one) never sees a query,
# and the workload cannot tell (the reply comes from the address it used).
# Allowed domains: addresses learned from answers become reachable.
#
# Never let a test depend on the host's resolver (/etc/resolv.conf): every
# lookup names a testbed server explicitly (dig @..., probe.py dns ...).

DIG=(dig +time=2 +tries=1)
# The names these tests look up are allowed domains: the forwarder may
# refuse to resolve names that the policy does not allow.
DNS_ALLOW='"allow_domains": ["allowed.test"]'

# Run CMD... in a sandbox and check that the rogue server got nothing and
# the trusted one got at least one query for NAME.
dns_run() { # name awf-args... -- cmd...
	local name=$1
	shift
	ROGUE_BEFORE=$(dns_queries rogue)
	TRUSTED_BEFORE=$(dns_queries trusted "$name")
	awf_run "$@"
	assert_eq "$ROGUE_BEFORE" "$(dns_queries rogue)" "queries received by the rogue DNS server"
	assert_lt "$TRUSTED_BEFORE" "$(dns_queries trusted "$name")" "queries for $name received by the trusted server (before: $TRUSTED_BEFORE)"
}

test_dns_rogue_server_udp() {
	local pol
	pol=$(policy p "$DNS_ALLOW")
	dns_run allowed.test --policy "$pol" -- "${DIG[@]}" +short "@$ROGUE4" allowed.test A
	assert_eq 0 "$AWF_RC" "dig's exit status"
	assert_eq "$ALLOWED4" "$AWF_OUT" "dig @$ROGUE4 allowed.test (the trusted answer, not $ROGUE_ALLOWED4)"
}

test_dns_rogue_server_tcp() {
	local pol
	pol=$(policy p "$DNS_ALLOW")
	dns_run allowed.test --policy "$pol" -- "${DIG[@]}" +tcp +short "@$ROGUE4" allowed.test A
	assert_eq 0 "$AWF_RC" "dig +tcp exit status"
	assert_eq "$ALLOWED4" "$AWF_OUT" "dig +tcp @$ROGUE4 allowed.test"
}

test_dns_rogue_server_ipv6() {
	local pol
	pol=$(policy p "$DNS_ALLOW")
	dns_run allowed.test --policy "$pol" -- sh -c "
		${DIG[*]} +short @$ROGUE6 allowed.test A; ${DIG[*]} +short @$ROGUE6 allowed.test AAAA
		${DIG[*]} +tcp +short @$ROGUE6 allowed.test AAAA"
	assert_eq 0 "$AWF_RC" "exit status"
	assert_eq "$ALLOWED4
$ALLOWED6
$ALLOWED6" "$AWF_OUT" "dig @$ROGUE6 allowed.test A, AAAA, AAAA over TCP"
}

test_dns_sendto_reply_source_is_hidden() {
	local pol
	pol=$(policy p "$DNS_ALLOW")
	dns_run allowed.test --policy "$pol" -- "$PY" "$PROBE" dns "$ROGUE4" allowed.test
	assert_eq "ok $ALLOWED4 peer=$ROGUE4:53" "$AWF_OUT" "unconnected sendto to $ROGUE4:53: answer and recvfrom's source"
	dns_run allowed.test --policy "$pol" -- "$PY" "$PROBE" dns "$ROGUE6" allowed.test AAAA
	assert_eq "ok $ALLOWED6 peer=[$ROGUE6]:53" "$AWF_OUT" "unconnected sendto to [$ROGUE6]:53"
}

test_dns_connected_socket_peer_is_hidden() {
	local pol
	pol=$(policy p "$DNS_ALLOW")
	dns_run allowed.test --policy "$pol" -- "$PY" "$PROBE" dns "$ROGUE4" allowed.test --connect
	assert_eq "ok $ALLOWED4 peer=$ROGUE4:53 getpeername=$ROGUE4:53" "$AWF_OUT" "connected UDP to $ROGUE4:53"
	dns_run allowed.test --policy "$pol" -- "$PY" "$PROBE" dns "$ROGUE4" allowed.test --tcp
	assert_eq "ok $ALLOWED4 peer=$ROGUE4:53" "$AWF_OUT" "TCP to $ROGUE4:53 (getpeername)"
	dns_run allowed.test --policy "$pol" -- "$PY" "$PROBE" dns "$ROGUE6" allowed.test AAAA --connect
	assert_eq "ok $ALLOWED6 peer=[$ROGUE6]:53 getpeername=[$ROGUE6]:53" "$AWF_OUT" "connected UDP to [$ROGUE6]:53"
	dns_run allowed.test --policy "$pol" -- "$PY" "$PROBE" dns "$ROGUE6" allowed.test AAAA --tcp
	assert_eq "ok $ALLOWED6 peer=[$ROGUE6]:53" "$AWF_OUT" "TCP to [$ROGUE6]:53 (getpeername)"
}

test_dns_host_without_dns_server() {
	local pol
	pol=$(policy p "$DNS_ALLOW")
	dns_run allowed.test --policy "$pol" -- "${DIG[@]}" +short "@$ALLOWED4" allowed.test A
	assert_eq 0 "$AWF_RC" "dig's exit status"
	assert_eq "$ALLOWED4" "$AWF_OUT" "dig @$ALLOWED4 (no DNS server there) allowed.test"
}

test_dns_nxdomain_passes_through() {
	local pol
	pol=$(policy p "$DNS_ALLOW")
	dns_run no-such-name.allowed.test --policy "$pol" -- "${DIG[@]}" "@$ROGUE4" no-such-name.allowed.test A
	assert_contains "$AWF_OUT" "status: NXDOMAIN" "dig @$ROGUE4 no-such-name.allowed.test"
}

test_dns_dns_servers_flag() {
	# --dns-servers on the command line instead of the policy file.
	ROGUE_BEFORE=$(dns_queries rogue)
	awf_run --dns-servers "$DNS6" -d blocked.test -- "${DIG[@]}" +short "@$ROGUE4" blocked.test A
	assert_eq "$BLOCKED4" "$AWF_OUT" "dig @$ROGUE4 blocked.test with --dns-servers $DNS6"
	assert_eq "$ROGUE_BEFORE" "$(dns_queries rogue)" "queries received by the rogue DNS server"
}

test_dns_allowed_domain_is_learned() {
	local pol
	pol=$(policy p '"allow_domains": ["allowed.test"]')
	awf_run --policy "$pol" -- sh -c "
		$PY $PROBE tcp $ALLOWED4 80 --host allowed.test
		${DIG[*]} +short @$ROGUE4 allowed.test A
		$PY $PROBE tcp $ALLOWED4 80 --host allowed.test; $PY $PROBE tcp $ALLOWED4 443 --host allowed.test
		$PY $PROBE tcp $ALLOWED4 8080 --host allowed.test"
	local lines
	mapfile -t lines <<<"$AWF_OUT"
	assert_eperm_fast "${lines[0]:-}" "tcp $ALLOWED4:80 before allowed.test was resolved"
	assert_eq "$ALLOWED4" "${lines[1]:-}" "dig allowed.test"
	assert_eq "ok hello from $ALLOWED4:80" "${lines[2]:-}" "tcp $ALLOWED4:80 after resolving allowed.test"
	assert_eq "ok hello from $ALLOWED4:443" "${lines[3]:-}" "tcp $ALLOWED4:443 (default ports 80, 443)"
	assert_eperm_fast "${lines[4]:-}" "tcp $ALLOWED4:8080 (not in the default ports)"
}

test_dns_domain_ports_and_ipv6() {
	local pol
	pol=$(policy p '"allow_domains": ["allowed.test"], "ports": [8080]')
	awf_run --policy "$pol" -- sh -c "
		${DIG[*]} +short @$DNS4 allowed.test A; ${DIG[*]} +short @$DNS4 allowed.test AAAA
		$PY $PROBE tcp $ALLOWED4 8080 --host allowed.test; $PY $PROBE tcp $ALLOWED6 8080 --host allowed.test
		$PY $PROBE tcp $ALLOWED4 80 --host allowed.test"
	local lines
	mapfile -t lines <<<"$AWF_OUT"
	assert_eq "$ALLOWED4" "${lines[0]:-}" "dig allowed.test A"
	assert_eq "$ALLOWED6" "${lines[1]:-}" "dig allowed.test AAAA"
	assert_eq "ok hello from $ALLOWED4:8080" "${lines[2]:-}" "tcp $ALLOWED4:8080 (\"ports\": [8080])"
	assert_eq "ok hello from [$ALLOWED6]:8080" "${lines[3]:-}" "tcp [$ALLOWED6]:8080 (learned from AAAA)"
	assert_eperm_fast "${lines[4]:-}" "tcp $ALLOWED4:80 (not in \"ports\": [8080])"
}

test_dns_other_domain_not_learned() {
	local pol
	pol=$(policy p '"allow_domains": ["allowed.test"]')
	awf_run --policy "$pol" -- sh -c "
		${DIG[*]} +short @$DNS4 blocked.test A >/dev/null
		$PY $PROBE tcp $BLOCKED4 80"
	assert_eperm_fast "$(printf '%s\n' "$AWF_OUT" | tail -n 1)" "tcp $BLOCKED4:80 after resolving blocked.test (not allowed)"
	assert_contains "$AWF_ERR" "$(deny_prefix tcp "$BLOCKED4:80")" "stderr"
}

test_dns_cname_and_multiple_addresses() {
	local pol
	pol=$(policy p '"allow_domains": ["alias.test", "multi.test"]')
	awf_run --policy "$pol" -- sh -c "
		${DIG[*]} +short @$DNS4 alias.test A >/dev/null
		$PY $PROBE tcp $ALLOWED4 80 --host alias.test
		${DIG[*]} +short @$DNS4 multi.test A >/dev/null
		$PY $PROBE tcp $ALLOWED4_B 80 --host multi.test"
	local lines
	mapfile -t lines <<<"$AWF_OUT"
	assert_eq "ok hello from $ALLOWED4:80" "${lines[0]:-}" "tcp $ALLOWED4:80 after alias.test (CNAME allowed.test)"
	assert_eq "ok hello from $ALLOWED4_B:80" "${lines[1]:-}" "tcp $ALLOWED4_B:80 (second A of multi.test)"
}

test_dns_block_domains_win() {
	local pol
	pol=$(policy p '"allow_domains": ["allowed.test", "blocked.test"], "block_domains": ["blocked.test"]')
	awf_run --policy "$pol" -- sh -c "
		${DIG[*]} +short @$DNS4 allowed.test A >/dev/null; ${DIG[*]} +short @$DNS4 blocked.test A >/dev/null
		$PY $PROBE tcp $ALLOWED4 80 --host allowed.test; $PY $PROBE tcp $BLOCKED4 80"
	local lines
	mapfile -t lines <<<"$AWF_OUT"
	assert_eq "ok hello from $ALLOWED4:80" "${lines[0]:-}" "allowed.test (allowed, not blocked)"
	assert_eperm_fast "${lines[1]:-}" "blocked.test is in block_domains"
}

test_dns_allow_domains_flag_and_min_ttl() {
	# -d on the command line; short-ttl.test has a TTL of 2 s, the learned
	# address must outlive it (dns_min_ttl, 60 s by default).
	awf_run --dns-servers "$DNS4" -d short-ttl.test -- sh -c "
		${DIG[*]} +short @$ROGUE4 short-ttl.test A >/dev/null
		sleep 3
		$PY $PROBE tcp $ALLOWED4 80 --host short-ttl.test"
	assert_eq "ok hello from $ALLOWED4:80" "$AWF_OUT" "tcp $ALLOWED4:80 3 s after a 2 s TTL answer"
}

test_dns_domain_files() {
	printf '# allowed names\nallowed.test\n\nblocked.test # both, then blocked below\n' >"$TEST_TMP/allow.txt"
	printf 'blocked.test\n' >"$TEST_TMP/block.txt"
	awf_run --dns-servers "$DNS4" --allow-domains-file "$TEST_TMP/allow.txt" --block-domains-file "$TEST_TMP/block.txt" -- sh -c "
		${DIG[*]} +short @$DNS4 allowed.test A >/dev/null; ${DIG[*]} +short @$DNS4 blocked.test A >/dev/null
		$PY $PROBE tcp $ALLOWED4 80 --host allowed.test; $PY $PROBE tcp $BLOCKED4 80"
	local lines
	mapfile -t lines <<<"$AWF_OUT"
	assert_eq "ok hello from $ALLOWED4:80" "${lines[0]:-}" "allowed.test from --allow-domains-file"
	assert_eperm_fast "${lines[1]:-}" "blocked.test from --block-domains-file"
}

test_dns_works_with_localhost_deny() {
	local pol
	pol=$(policy p "\"localhost\": \"deny\", $DNS_ALLOW")
	dns_run allowed.test --policy "$pol" -- "${DIG[@]}" +short "@$ROGUE4" allowed.test A
	assert_eq "$ALLOWED4" "$AWF_OUT" "dig @$ROGUE4 allowed.test with localhost deny"
}

# The endpoint's answer cache (dns.cache_entries). A repeated question is
# answered without asking upstream (dig +nocookie: a DNS cookie, random per
# dig, is part of the question, as it is of the answer), and the answer still goes through the
# filter: its addresses are written into the maps again before the client
# has it. Here max_ips_per_name 1 makes the AAAA answer push the A address
# out of learned4; the cached A answer must put it back before release.
test_dns_cache_hit_learns_again() {
	local pol before
	pol=$(policy p '"allow_domains": ["allowed.test"], "dns": {"max_ips_per_name": 1}')
	before=$(dns_queries trusted 'allowed.test from')
	awf_run --policy "$pol" -- sh -c "
		${DIG[*]} +nocookie +short @$DNS4 allowed.test A; ${DIG[*]} +nocookie +short @$DNS4 allowed.test AAAA
		$PY $PROBE tcp $ALLOWED4 80 --host allowed.test
		${DIG[*]} +nocookie +short @$DNS4 allowed.test A
		$PY $PROBE tcp $ALLOWED4 80 --host allowed.test"
	local lines
	mapfile -t lines <<<"$AWF_OUT"
	assert_eq "$ALLOWED4" "${lines[0]:-}" "dig allowed.test A"
	assert_eq "$ALLOWED6" "${lines[1]:-}" "dig allowed.test AAAA"
	assert_eperm_fast "${lines[2]:-}" "tcp $ALLOWED4:80 once the AAAA answer evicted it (max_ips_per_name 1)"
	assert_eq "$ALLOWED4" "${lines[3]:-}" "dig allowed.test A again (from the cache)"
	assert_eq "ok hello from $ALLOWED4:80" "${lines[4]:-}" "tcp $ALLOWED4:80 right after the cached answer"
	# Two questions reached the server: A and AAAA, the second A did not.
	assert_eq $((before + 2)) "$(dns_queries trusted 'allowed.test from')" "queries for allowed.test at the trusted server"
}

# A cached answer is a DNS decision like any other: in the audit log
# (marked "cached") and in the summary built from it.
test_dns_cache_hit_audited() {
	local pol audit=$TEST_TMP/audit.jsonl
	pol=$(policy p '"allow_domains": ["allowed.test"]')
	awf_run --policy "$pol" --audit-log "$audit" -- sh -c "
		${DIG[*]} +nocookie +short @$DNS4 allowed.test A; ${DIG[*]} +nocookie +short @$DNS4 allowed.test A"
	assert_eq "$ALLOWED4
$ALLOWED4" "$AWF_OUT" "dig allowed.test A twice"
	assert_eq 2 "$(jq -c 'select(.event == "dns" and .name == "allowed.test" and .verdict == "allow" and .learned == 1)' "$audit" | wc -l)" \
		"allowed dns records for allowed.test in the audit log"
	assert_eq 1 "$(jq -c 'select(.event == "dns" and .cached == true)' "$audit" | wc -l)" "records marked cached"
	assert_eq 2 "$("$AWF" logs summary "$audit" --format json | jq .dns_allowed)" "dns_allowed in the summary of the log"
}

# Never past its TTL: short-ttl.test has a TTL of 2 s; asked again at once
# it comes from the cache, 3 s later from the server again.
test_dns_cache_refetched_after_ttl() {
	local pol before
	pol=$(policy p '"allow_domains": ["short-ttl.test"]')
	before=$(dns_queries trusted 'short-ttl.test from')
	awf_run --policy "$pol" -- sh -c "
		${DIG[*]} +nocookie +short @$DNS4 short-ttl.test A; ${DIG[*]} +nocookie +short @$DNS4 short-ttl.test A
		sleep 3; ${DIG[*]} +nocookie +short @$DNS4 short-ttl.test A"
	assert_eq "$ALLOWED4
$ALLOWED4
$ALLOWED4" "$AWF_OUT" "dig short-ttl.test A three times"
	assert_eq $((before + 2)) "$(dns_queries trusted 'short-ttl.test from')" "queries for short-ttl.test at the trusted server"
}
