# shellcheck shell=bash
# IPv4 CIDR rules: what a policy names works, everything else is refused by
# the kernel with EPERM, at once, and reported on stderr.

test_cidr_allowed_port_works() {
	local pol
	pol=$(policy p '"allow_cidrs": [{"cidr": "198.18.0.10/32", "ports": [8080]}]')
	sandbox_probe "$pol" tcp "$ALLOWED4" 8080
	assert_eq 0 "$AWF_RC" "exit status"
	assert_eq "ok hello from $ALLOWED4:8080" "$PROBE_LINE" "tcp $ALLOWED4:8080"
	assert_not_contains "$AWF_ERR" "awf-bpf: denied" "stderr"
}

test_cidr_other_port_refused() {
	local pol before
	pol=$(policy p '"allow_cidrs": [{"cidr": "198.18.0.10/32", "ports": [8080]}]')
	before=$(server_hits "http $ALLOWED4:9000 ")
	sandbox_probe "$pol" tcp "$ALLOWED4" 9000
	assert_eperm_fast "$PROBE_LINE" "tcp $ALLOWED4:9000"
	assert_eq 1 "$AWF_RC" "exit status (the probe's)"
	assert_eq "$before" "$(server_hits "http $ALLOWED4:9000 ")" "connections seen by $ALLOWED4:9000"
	assert_contains "$AWF_ERR" "$(deny_prefix tcp "$ALLOWED4:9000")" "stderr"
	assert_contains "$AWF_ERR" "(python3)" "stderr"
}

test_cidr_port_range() {
	local pol
	pol=$(policy p '"allow_cidrs": [{"cidr": "198.18.0.10/32", "ports": ["9000-9001", 443]}]')
	sandbox_probe "$pol" tcp "$ALLOWED4" 9000
	assert_eq "ok hello from $ALLOWED4:9000" "$PROBE_LINE" "tcp $ALLOWED4:9000 (in 9000-9001)"
	sandbox_probe "$pol" tcp "$ALLOWED4" 443
	assert_eq "ok hello from $ALLOWED4:443" "$PROBE_LINE" "tcp $ALLOWED4:443"
	sandbox_probe "$pol" tcp "$ALLOWED4" 8080
	assert_eperm_fast "$PROBE_LINE" "tcp $ALLOWED4:8080 (not in 9000-9001, 443)"
}

test_cidr_entry_without_ports_allows_every_port() {
	local pol
	pol=$(policy p '"allow_cidrs": ["198.18.0.10/32"]')
	awf_run --policy "$pol" -- sh -c "
		for port in 80 443 8080 9000; do $PY $PROBE tcp $ALLOWED4 \$port; done
		$PY $PROBE udp $ALLOWED4 $UDP_ECHO_PORT"
	assert_eq 0 "$AWF_RC" "exit status"
	assert_eq "ok hello from $ALLOWED4:80
ok hello from $ALLOWED4:443
ok hello from $ALLOWED4:8080
ok hello from $ALLOWED4:9000
ok echo from $ALLOWED4:$UDP_ECHO_PORT: ping peer=$ALLOWED4:$UDP_ECHO_PORT" "$AWF_OUT" "probes"
}

test_cidr_other_host_refused() {
	local pol before
	pol=$(policy p '"allow_cidrs": ["198.18.0.10/32"]')
	before=$(server_hits "http $BLOCKED4:80 ")
	sandbox_probe "$pol" tcp "$BLOCKED4" 80
	assert_eperm_fast "$PROBE_LINE" "tcp $BLOCKED4:80"
	assert_eq "$before" "$(server_hits "http $BLOCKED4:80 ")" "connections seen by the blocked host"
	assert_contains "$AWF_ERR" "$(deny_prefix tcp "$BLOCKED4:80")" "stderr"
	assert_contains "$AWF_ERR" "(python3)" "stderr"
}

test_cidr_curl_denied_line() {
	local pol
	pol=$(policy p '"allow_cidrs": ["198.18.0.10/32"]')
	awf_run --policy "$pol" -- curl -sS --noproxy '*' --max-time 5 "http://$BLOCKED4:80/"
	assert_ne 0 "$AWF_RC" "curl's exit status"
	assert_lt "$AWF_MS" 3000 "wall time of a refused curl (ms)"
	assert_not_contains "$AWF_OUT" "hello from" "curl output"
	assert_contains "$AWF_ERR" "$(deny_prefix tcp "$BLOCKED4:80")" "stderr"
	assert_contains "$AWF_ERR" "(curl)" "stderr"
	# The allowed host, same run shape: works.
	awf_run --policy "$pol" -- curl -sS --noproxy '*' --max-time 5 "http://$ALLOWED4:8080/"
	assert_eq 0 "$AWF_RC" "curl to the allowed host"
	assert_eq "hello from $ALLOWED4:8080" "$AWF_OUT" "curl output"
}

test_cidr_udp_refused() {
	local pol before
	pol=$(policy p '"allow_cidrs": [{"cidr": "198.18.0.10/32", "ports": [8080]}]')
	before=$(server_hits "udp $BLOCKED4:$UDP_ECHO_PORT ")
	sandbox_probe "$pol" udp "$BLOCKED4" "$UDP_ECHO_PORT"
	assert_eperm_fast "$PROBE_LINE" "udp sendto $BLOCKED4:$UDP_ECHO_PORT"
	assert_contains "$AWF_ERR" "$(deny_prefix udp "$BLOCKED4:$UDP_ECHO_PORT")" "stderr"
	sandbox_probe "$pol" udp-connect "$BLOCKED4" "$UDP_ECHO_PORT"
	assert_eperm_fast "$PROBE_LINE" "udp connect $BLOCKED4:$UDP_ECHO_PORT"
	# Allowed host, port not allowed for it.
	sandbox_probe "$pol" udp "$ALLOWED4" "$UDP_ECHO_PORT"
	assert_eperm_fast "$PROBE_LINE" "udp sendto $ALLOWED4:$UDP_ECHO_PORT (port not allowed)"
	assert_eq "$before" "$(server_hits "udp $BLOCKED4:$UDP_ECHO_PORT ")" "datagrams seen by the blocked host"
}

test_cidr_icmp_socket_refused() {
	local pol before
	enable_ping_sockets
	# Control: from the host, an ICMP datagram socket reaches the world.
	assert_ok "$(probe icmp "$BLOCKED4" --timeout 2)" "echo-reply" "icmp from the host"
	pol=$(policy p '"allow_cidrs": ["0.0.0.0/0"]')
	before=$(world_icmp_echos 4)
	sandbox_probe "$pol" icmp "$BLOCKED4"
	assert_eperm_fast "$PROBE_LINE" "icmp datagram socket (even with 0.0.0.0/0 allowed)"
	assert_eq "$before" "$(world_icmp_echos 4)" "ICMP echo requests received by the world"
}

test_cidr_ping_refused() {
	local pol before
	enable_ping_sockets
	pol=$(policy p '"allow_cidrs": ["198.18.0.10/32"]')
	before=$(world_icmp_echos 4)
	awf_run --policy "$pol" -- ping -n -c 1 -W 2 "$BLOCKED4"
	assert_ne 0 "$AWF_RC" "ping's exit status"
	assert_lt "$AWF_MS" 1500 "wall time of a refused ping (ms)"
	assert_eq "$before" "$(world_icmp_echos 4)" "ICMP echo requests received by the world"
	awf_run --policy "$pol" -- ping -n -c 1 -W 2 "$ALLOWED4"
	assert_ne 0 "$AWF_RC" "ping to an allowed CIDR (ICMP is never allowed)"
	assert_eq "$before" "$(world_icmp_echos 4)" "ICMP echo requests received by the world"
}

test_cidr_raw_socket_refused() {
	local pol before
	pol=$(policy p '"allow_cidrs": ["0.0.0.0/0"]')
	before=$(world_icmp_echos 4)
	sandbox_probe "$pol" raw "$BLOCKED4"
	assert_eperm_fast "$PROBE_LINE" "raw socket"
	assert_eq "$before" "$(world_icmp_echos 4)" "ICMP echo requests received by the world"
}

test_cidr_v4mapped_refused() {
	local pol before
	pol=$(policy p '"allow_cidrs": ["198.18.0.10/32"]')
	before=$(server_hits "http $BLOCKED4:80 ")
	sandbox_probe "$pol" v4mapped "$BLOCKED4" 80
	assert_eperm_fast "$PROBE_LINE" "tcp ::ffff:$BLOCKED4:80 from an AF_INET6 socket"
	assert_contains "$AWF_ERR" "$(deny_prefix tcp "$BLOCKED4:80")" "stderr (v4-mapped is reported as IPv4)"
	sandbox_probe "$pol" v4mapped-udp "$BLOCKED4" "$UDP_ECHO_PORT"
	assert_eperm_fast "$PROBE_LINE" "udp ::ffff:$BLOCKED4:$UDP_ECHO_PORT from an AF_INET6 socket"
	assert_eq "$before" "$(server_hits "http $BLOCKED4:80 ")" "connections seen by the blocked host"
	# The same address family trick towards the allowed host is that host.
	sandbox_probe "$pol" v4mapped "$ALLOWED4" 80
	assert_eq "ok hello from $ALLOWED4:80" "$PROBE_LINE" "tcp ::ffff:$ALLOWED4:80 (allowed)"
}

test_cidr_native_ipv6_refused() {
	local pol
	pol=$(policy p '"allow_cidrs": ["198.18.0.10/32"]')
	sandbox_probe "$pol" tcp "$BLOCKED6" 80
	assert_eperm_fast "$PROBE_LINE" "tcp [$BLOCKED6]:80"
	# The v4 rule does not extend to the host's v6 address.
	sandbox_probe "$pol" tcp "$ALLOWED6" 80
	assert_eperm_fast "$PROBE_LINE" "tcp [$ALLOWED6]:80 (only its IPv4 address is allowed)"
	sandbox_probe "$pol" udp "$BLOCKED6" "$UDP_ECHO_PORT"
	assert_eperm_fast "$PROBE_LINE" "udp [$BLOCKED6]:$UDP_ECHO_PORT"
}

test_cidr_linklocal_denied_even_with_everything_allowed() {
	local pol before
	pol=$(policy p '"allow_cidrs": ["0.0.0.0/0"]')
	before=$(server_hits "http $LINKLOCAL4:80 ")
	sandbox_probe "$pol" tcp "$LINKLOCAL4" 80
	assert_eperm_fast "$PROBE_LINE" "tcp $LINKLOCAL4:80 with 0.0.0.0/0 allowed"
	assert_eq "$before" "$(server_hits "http $LINKLOCAL4:80 ")" "connections seen by $LINKLOCAL4"
	# Control: 0.0.0.0/0 does allow an ordinary host.
	sandbox_probe "$pol" tcp "$BLOCKED4" 80
	assert_eq "ok hello from $BLOCKED4:80" "$PROBE_LINE" "tcp $BLOCKED4:80 with 0.0.0.0/0 allowed"
}

test_cidr_linklocal_allowed_when_named() {
	local pol
	pol=$(policy p '"allow_cidrs": ["169.254.77.77/32"]')
	sandbox_probe "$pol" tcp "$LINKLOCAL4" 80
	assert_eq "ok hello from $LINKLOCAL4:80" "$PROBE_LINE" "tcp $LINKLOCAL4:80 named by a CIDR"
}

test_cidr_covering_prefixes_add_up() {
	local pol
	pol=$(policy p '"allow_cidrs": [{"cidr": "198.18.0.0/24", "ports": [80]},
		{"cidr": "198.18.0.10/32", "ports": [8080]}]')
	awf_run --policy "$pol" -- sh -c "
		$PY $PROBE tcp $ALLOWED4 80; $PY $PROBE tcp $ALLOWED4 8080
		$PY $PROBE tcp $BLOCKED4 80; $PY $PROBE tcp $BLOCKED4 8080; $PY $PROBE tcp $ALLOWED4 9000"
	local lines
	mapfile -t lines <<<"$AWF_OUT"
	assert_eq "ok hello from $ALLOWED4:80" "${lines[0]:-}" "$ALLOWED4:80 (from the /24 entry)"
	assert_eq "ok hello from $ALLOWED4:8080" "${lines[1]:-}" "$ALLOWED4:8080 (from the /32 entry)"
	assert_eq "ok hello from $BLOCKED4:80" "${lines[2]:-}" "$BLOCKED4:80 (from the /24 entry)"
	assert_eperm_fast "${lines[3]:-}" "$BLOCKED4:8080"
	assert_eperm_fast "${lines[4]:-}" "$ALLOWED4:9000"
}

test_cidr_command_line_flag() {
	awf_run --dns-servers "$DNS4" --allow-cidr "198.18.0.10/32:8080,9000" -- sh -c "
		$PY $PROBE tcp $ALLOWED4 8080; $PY $PROBE tcp $ALLOWED4 9000; $PY $PROBE tcp $ALLOWED4 80"
	local lines
	mapfile -t lines <<<"$AWF_OUT"
	assert_eq "ok hello from $ALLOWED4:8080" "${lines[0]:-}" "--allow-cidr ...:8080,9000 -> 8080"
	assert_eq "ok hello from $ALLOWED4:9000" "${lines[1]:-}" "--allow-cidr ...:8080,9000 -> 9000"
	assert_eperm_fast "${lines[2]:-}" "--allow-cidr ...:8080,9000 -> 80"
	# Repeatable, and IPv6 as [cidr]:PORTS.
	awf_run --dns-servers "$DNS4" --allow-cidr "198.18.0.20/32:80" --allow-cidr "[fd42:a0f0::10/128]:9000" -- sh -c "
		$PY $PROBE tcp $BLOCKED4 80; $PY $PROBE tcp $ALLOWED6 9000; $PY $PROBE tcp $ALLOWED6 8080"
	mapfile -t lines <<<"$AWF_OUT"
	assert_eq "ok hello from $BLOCKED4:80" "${lines[0]:-}" "first --allow-cidr"
	assert_eq "ok hello from [$ALLOWED6]:9000" "${lines[1]:-}" "--allow-cidr [v6]:9000"
	assert_eperm_fast "${lines[2]:-}" "--allow-cidr [v6]:9000 -> 8080"
}

test_cidr_nothing_allowed_by_default() {
	local pol
	pol=$(policy p '')
	awf_run --policy "$pol" -- sh -c "
		$PY $PROBE tcp $ALLOWED4 80; $PY $PROBE tcp $ALLOWED6 80; $PY $PROBE udp $ALLOWED4 $UDP_ECHO_PORT"
	local lines
	mapfile -t lines <<<"$AWF_OUT"
	assert_eperm_fast "${lines[0]:-}" "tcp $ALLOWED4:80 with an empty policy"
	assert_eperm_fast "${lines[1]:-}" "tcp [$ALLOWED6]:80 with an empty policy"
	assert_eperm_fast "${lines[2]:-}" "udp $ALLOWED4:$UDP_ECHO_PORT with an empty policy"
}
