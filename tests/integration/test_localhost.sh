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

# Listening ports stay on loopback (a port open to the outside is a covert
# channel, tests/escape: port_state_covert_channel). A wildcard bind is
# narrowed to loopback and local clients still reach it; a bind with a port
# to another address of this host is refused and audited; port 0 is free.
lo_bind_script() {
	cat <<EOF
import socket
def name(s):
    return s.getsockname()[0]
def bind(fam, addr, port, v6only=None):
    s = socket.socket(fam)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    try:
        s.bind((addr, port))
    except OSError as e:
        return s, "err %d" % e.errno
    return s, name(s)
s4, r = bind(socket.AF_INET, "0.0.0.0", $1); print("any4", r)
s4.listen(1)
c = socket.create_connection(("127.0.0.1", $1), timeout=2); print("reach4 ok"); c.close()
s6, r = bind(socket.AF_INET6, "::", $2, 0); print("any6", r)
s6.listen(1)
c = socket.create_connection(("127.0.0.1", $2), timeout=2); print("reach6 ok"); c.close()
s7, r = bind(socket.AF_INET6, "::", $3, 1); print("any6only", r)
s8, r = bind(socket.AF_INET, "$AWFT_HOST4", $4); print("host4", r)
s9, r = bind(socket.AF_INET6, "$AWFT_HOST6", $4); print("host6", r)
s0, r = bind(socket.AF_INET, "$AWFT_HOST4", 0); print("host4port0", r)
EOF
}

test_localhost_listeners_stay_on_loopback() {
	local p1 p2 p3 p4 pol
	p1=$(free_port 4); p2=$((p1 + 1)); p3=$((p1 + 2)); p4=$((p1 + 3))
	pol=$(policy p '"allow_cidrs": ["198.18.0.10/32"]')
	awf_run --policy "$pol" -- "$PY" -c "$(lo_bind_script "$p1" "$p2" "$p3" "$p4")"
	assert_contains "$AWF_OUT" "any4 127.0.0.1" "0.0.0.0:$p1 narrowed to loopback"
	assert_contains "$AWF_OUT" "reach4 ok" "the sandbox reaches its own narrowed listener"
	assert_contains "$AWF_OUT" "any6 ::ffff:127.0.0.1" "dual-stack [::]:$p2 narrowed to 127.0.0.1"
	assert_contains "$AWF_OUT" "reach6 ok" "the sandbox reaches its dual-stack listener over 127.0.0.1"
	assert_contains "$AWF_OUT" "any6only ::1" "IPV6_V6ONLY [::]:$p3 narrowed to ::1"
	assert_contains "$AWF_OUT" "host4 err 1" "bind to the host's $AWFT_HOST4:$p4"
	assert_contains "$AWF_OUT" "host6 err 1" "bind to the host's $AWFT_HOST6:$p4"
	assert_contains "$AWF_OUT" "host4port0 $AWFT_HOST4" "port 0 on a host address (source selection)"
	assert_contains "$AWF_ERR" "$(deny_prefix tcp "$AWFT_HOST4:$p4")" "the refused bind's audit line"
	assert_contains "$AWF_ERR" "listening port off loopback" "the refused bind's reason"
}
