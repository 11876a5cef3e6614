# shellcheck shell=bash
# IPv6: CIDR rules for v6 destinations, and "ipv6": false.

V6_POLICY='"allow_cidrs": [{"cidr": "fd42:a0f0::10/128", "ports": [8080, "9000-9001"]}]'

test_ipv6_cidr_allowed() {
	local pol
	pol=$(policy p "$V6_POLICY")
	awf_run --policy "$pol" -- sh -c "
		$PY $PROBE tcp $ALLOWED6 8080; $PY $PROBE tcp $ALLOWED6 9000"
	assert_eq 0 "$AWF_RC" "exit status"
	assert_eq "ok hello from [$ALLOWED6]:8080
ok hello from [$ALLOWED6]:9000" "$AWF_OUT" "tcp to the allowed v6 host"
}

test_ipv6_other_port_and_host_refused() {
	local pol before
	pol=$(policy p "$V6_POLICY")
	before=$(server_hits "http [$BLOCKED6]:80 ")
	sandbox_probe "$pol" tcp "$ALLOWED6" 80
	assert_eperm_fast "$PROBE_LINE" "tcp [$ALLOWED6]:80 (port not allowed)"
	sandbox_probe "$pol" tcp "$BLOCKED6" 80
	assert_eperm_fast "$PROBE_LINE" "tcp [$BLOCKED6]:80"
	assert_contains "$AWF_ERR" "$(deny_prefix tcp "[$BLOCKED6]:80")" "stderr"
	assert_contains "$AWF_ERR" "(python3)" "stderr"
	assert_eq "$before" "$(server_hits "http [$BLOCKED6]:80 ")" "connections seen by the blocked host"
	# The v6 rule does not extend to the host's v4 address.
	sandbox_probe "$pol" tcp "$ALLOWED4" 8080
	assert_eperm_fast "$PROBE_LINE" "tcp $ALLOWED4:8080 (only its v6 address is allowed)"
}

test_ipv6_udp() {
	local pol
	pol=$(policy p '"allow_cidrs": ["fd42:a0f0::10/128"]')
	sandbox_probe "$pol" udp "$ALLOWED6" "$UDP_ECHO_PORT"
	assert_eq "ok echo from [$ALLOWED6]:$UDP_ECHO_PORT: ping peer=[$ALLOWED6]:$UDP_ECHO_PORT" "$PROBE_LINE" "udp to the allowed v6 host"
	sandbox_probe "$pol" udp "$BLOCKED6" "$UDP_ECHO_PORT"
	assert_eperm_fast "$PROBE_LINE" "udp [$BLOCKED6]:$UDP_ECHO_PORT"
	sandbox_probe "$pol" udp-connect "$BLOCKED6" "$UDP_ECHO_PORT"
	assert_eperm_fast "$PROBE_LINE" "connected udp [$BLOCKED6]:$UDP_ECHO_PORT"
}

test_ipv6_disabled_refuses_allowed_v6() {
	local pol
	pol=$(policy p "\"ipv6\": false, \"allow_cidrs\": [\"198.18.0.10/32\", {\"cidr\": \"fd42:a0f0::10/128\", \"ports\": [8080]}]")
	sandbox_probe "$pol" tcp "$ALLOWED6" 8080
	assert_eperm_fast "$PROBE_LINE" "tcp [$ALLOWED6]:8080 with \"ipv6\": false"
	sandbox_probe "$pol" udp "$ALLOWED6" "$UDP_ECHO_PORT"
	assert_eperm_fast "$PROBE_LINE" "udp [$ALLOWED6]:$UDP_ECHO_PORT with \"ipv6\": false"
	# IPv4 is unaffected.
	sandbox_probe "$pol" tcp "$ALLOWED4" 8080
	assert_eq "ok hello from $ALLOWED4:8080" "$PROBE_LINE" "tcp $ALLOWED4:8080 with \"ipv6\": false"
}

test_ipv6_icmp6_and_raw_refused() {
	local pol before
	enable_ping_sockets
	assert_ok "$(probe icmp "$BLOCKED6" --timeout 2)" "echo-reply" "icmpv6 from the host"
	pol=$(policy p '"allow_cidrs": ["::/0"]')
	before=$(world_icmp_echos 6)
	sandbox_probe "$pol" icmp "$BLOCKED6"
	assert_eperm_fast "$PROBE_LINE" "icmpv6 datagram socket (even with ::/0 allowed)"
	sandbox_probe "$pol" raw "$BLOCKED6"
	assert_eperm_fast "$PROBE_LINE" "raw icmpv6 socket"
	awf_run --policy "$pol" -- ping -6 -n -c 1 -W 2 "$BLOCKED6"
	assert_ne 0 "$AWF_RC" "ping -6 exit status"
	assert_eq "$before" "$(world_icmp_echos 6)" "ICMPv6 echo requests received by the world"
}

test_ipv6_everything_allowed_but_reserved() {
	local pol
	pol=$(policy p '"allow_cidrs": ["::/0"]')
	sandbox_probe "$pol" tcp "$BLOCKED6" 8080
	assert_eq "ok hello from [$BLOCKED6]:8080" "$PROBE_LINE" "tcp [$BLOCKED6]:8080 with ::/0 allowed"
	# ::/0 is not 0.0.0.0/0 (v4-mapped destinations are IPv4 ones).
	sandbox_probe "$pol" v4mapped "$BLOCKED4" 8080
	assert_eperm_fast "$PROBE_LINE" "tcp ::ffff:$BLOCKED4:8080 with only ::/0 allowed"
}
