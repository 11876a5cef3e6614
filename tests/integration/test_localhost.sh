# shellcheck shell=bash
# Loopback: "sandbox" (default: only what the sandbox itself serves, plus
# listed ports), "allow" (everything), "deny" (nothing).
#
# In each test, port P is served INSIDE the sandbox by the workload itself,
# port Q OUTSIDE by the test (a host service the sandbox should not see).

# lo_workload ADDR P Q: a script for sh -c that serves ADDR:P in the
# sandbox, then prints two probe lines: ADDR:P, then ADDR:Q.
lo_workload() {
	local addr=$1 p=$2 q=$3 ready="$TEST_TMP/inside-$2.ready"
	cat <<EOF
$PY $PROBE listen $addr $p --ready-file $ready >/dev/null 2>&1 &
lpid=\$!
i=0
while [ ! -e $ready ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i + 1)); done
$PY $PROBE tcp $addr $p --timeout 2
$PY $PROBE tcp $addr $q --timeout 2
kill \$lpid 2>/dev/null
wait \$lpid 2>/dev/null
exit 0
EOF
}

# lo_case ADDR MODE_JSON: run the workload; sets LINE_P, LINE_Q, P, Q.
lo_case() {
	local addr=$1 mode=$2 pol
	P=$(free_port)
	Q=$(free_port)
	[ "$P" != "$Q" ] || Q=$((P + 1))
	bg_listen "$addr" "$Q"
	mode=${mode//@Q@/$Q}
	pol=$(policy p "${mode:+$mode, }\"allow_cidrs\": [\"198.18.0.10/32\"]")
	awf_run --policy "$pol" -- sh -c "$(lo_workload "$addr" "$P" "$Q")"
	local lines
	mapfile -t lines <<<"$AWF_OUT"
	LINE_P=${lines[0]:-}
	LINE_Q=${lines[1]:-}
	# Control: the outside server does answer outside the sandbox.
	assert_ok "$(probe tcp "$addr" "$Q")" "hello from" "outside server $addr:$Q from the host"
}

name_of() { case $1 in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac; }

test_localhost_sandbox_default() {
	lo_case 127.0.0.1 ''
	assert_eq "ok hello from 127.0.0.1:$P" "$LINE_P" "sandbox mode: the sandbox's own 127.0.0.1:$P"
	assert_eperm_fast "$LINE_Q" "sandbox mode: the host's 127.0.0.1:$Q"
	assert_contains "$AWF_ERR" "$(deny_prefix tcp "127.0.0.1:$Q")" "stderr"
}

test_localhost_sandbox_ipv6() {
	lo_case ::1 '"localhost": "sandbox"'
	assert_eq "ok hello from [::1]:$P" "$LINE_P" "sandbox mode: the sandbox's own [::1]:$P"
	assert_eperm_fast "$LINE_Q" "sandbox mode: the host's [::1]:$Q"
}

test_localhost_sandbox_listed_port() {
	lo_case 127.0.0.1 '"localhost": {"mode": "sandbox", "ports": [@Q@]}'
	assert_eq "ok hello from 127.0.0.1:$P" "$LINE_P" "the sandbox's own port"
	assert_eq "ok hello from 127.0.0.1:$Q" "$LINE_Q" "the host's 127.0.0.1:$Q, listed in localhost.ports"
}

test_localhost_sandbox_udp() {
	local q pol
	q=$(free_port)
	bg_start "$PY" "$SERVERS" --ready-file "$TEST_TMP/udp.ready" "udp:127.0.0.1:$q"
	wait_file "$TEST_TMP/udp.ready" || fail "udp server did not start"
	assert_ok "$(probe udp 127.0.0.1 "$q")" "echo from" "outside udp 127.0.0.1:$q from the host"
	pol=$(policy p '')
	sandbox_probe "$pol" udp 127.0.0.1 "$q"
	assert_eperm_fast "$PROBE_LINE" "sandbox mode: udp to the host's 127.0.0.1:$q"
}

test_localhost_allow() {
	lo_case 127.0.0.1 '"localhost": "allow"'
	assert_eq "ok hello from 127.0.0.1:$P" "$LINE_P" "allow mode: the sandbox's own port"
	assert_eq "ok hello from 127.0.0.1:$Q" "$LINE_Q" "allow mode: the host's 127.0.0.1:$Q"
}

test_localhost_allow_flag_ipv6() {
	local q
	q=$(free_port)
	bg_listen ::1 "$q"
	awf_run --dns-servers "$DNS4" --localhost allow -- "$PY" "$PROBE" tcp ::1 "$q"
	assert_eq "ok hello from [::1]:$q" "$AWF_OUT" "--localhost allow: the host's [::1]:$q"
}

test_localhost_deny() {
	lo_case 127.0.0.1 '"localhost": "deny"'
	assert_refused_fast "$LINE_P" "deny mode: the sandbox's own port"
	assert_eperm_fast "$LINE_Q" "deny mode: the host's 127.0.0.1:$Q"
}

test_localhost_deny_ipv6() {
	lo_case ::1 '"localhost": "deny"'
	assert_refused_fast "$LINE_P" "deny mode: the sandbox's own [::1] port"
	assert_eperm_fast "$LINE_Q" "deny mode: the host's [::1]:$Q"
}

test_localhost_deny_flag_overrides_nothing_else() {
	local q
	q=$(free_port)
	bg_listen 127.0.0.1 "$q"
	awf_run --dns-servers "$DNS4" --localhost deny --allow-cidr 198.18.0.10/32 -- sh -c "
		$PY $PROBE tcp 127.0.0.1 $q; $PY $PROBE tcp $ALLOWED4 8080"
	local lines
	mapfile -t lines <<<"$AWF_OUT"
	assert_eperm_fast "${lines[0]:-}" "--localhost deny: 127.0.0.1:$q"
	assert_eq "ok hello from $ALLOWED4:8080" "${lines[1]:-}" "--localhost deny: the allowed CIDR still works"
}

test_localhost_dns_on_loopback_is_redirected() {
	# A workload whose resolver is on loopback (systemd-resolved style)
	# still gets the forwarder's answer, in every mode.
	local mode pol
	for mode in sandbox allow deny; do
		pol=$(policy "p-$mode" "\"localhost\": \"$mode\", \"allow_domains\": [\"allowed.test\"]")
		awf_run --policy "$pol" -- dig +time=2 +tries=1 +short @127.0.0.1 allowed.test A
		assert_eq "$ALLOWED4" "$AWF_OUT" "localhost $mode: dig @127.0.0.1 allowed.test"
	done
}
