# shellcheck shell=bash
# Names checked in the kernel (issue 12). A TCP connection whose
# destination is allowed only because the DNS filter learned its address
# from an allowed name has its first bytes checked before they leave the
# host: a TLS ClientHello's server_name, or an HTTP/1.x request's Host,
# must be a name the policy allows on that port (block_domains win); other
# bytes pass on ports other than 80 and 443. A refusal fails the client's
# send() with EACCES at once, and awf-bpf names it on stderr and in the
# audit log.
#
# The world: the testbed's shared host (tests/testbed/addresses.sh)
# serves good.test and other.test on one address, SHARED4 / SHARED6:
# real TLS on 443 (the reply names the SNI it served), HTTP on 80 (the
# reply names the Host it got), raw TCP greeting/echo on 2222. The tests
# allow good.test; other.test is the name that must not get through.
# tests/tools/tls_hello.py sends ClientHellos built byte by byte.
#
# Every refusal is checked three ways: what the client saw (curl's exit
# status, tls_hello's "refused EACCES"), that it saw it promptly (well
# under the client's own timeout), and the one line awf-bpf printed; and
# where it matters, that the shared host never saw the refused name.
#
#   sudo tests/run.sh test_names      (the agent's case: test_agent_names)
# shellcheck source=../audit_lib.sh
. "$ROOT/tests/audit_lib.sh"

# A refusal must come this fast (the clients wait 3-5 s for an answer).
NAMES_FAST_MS=${NAMES_FAST_MS:-1500}
HELLO=$TOOLS/tls_hello.py
DIGN="dig +time=2 +tries=1 +short"

# names_setup: names resolve through the sandbox's DNS filter to the
# testbed (getaddrinfo too), the test CA is where the sandbox reads it,
# and $TIMED wraps a command with its exit status and duration.
names_setup() {
	use_testbed_resolver
	cp "$AWFT_CA" "$TEST_TMP/ca.crt" || fail "no test CA at $AWFT_CA: is the testbed up?"
	chmod 0644 "$TEST_TMP/ca.crt"
	CURL="curl -sS --noproxy '*' --max-time 5 --cacert $TEST_TMP/ca.crt"
	TIMED=$TEST_TMP/timed
	cat >"$TIMED" <<'EOF'
#!/bin/sh
# timed LABEL CMD...: run CMD, then print "LABEL rc=N ms=M" on a line of its own.
# CMD's stderr goes to stdout: the client's own error message must not
# interleave with the denial lines awf-bpf writes to stderr.
label=$1
shift
t0=$(date +%s%N)
"$@" 2>&1
rc=$?
t1=$(date +%s%N)
printf '\n%s rc=%d ms=%d\n' "$label" "$rc" "$(((t1 - t0) / 1000000))"
EOF
	chmod 0755 "$TIMED"
}

# names_policy NAME 'ALLOW_DOMAINS JSON' ['MORE FIELDS']: a policy file.
names_policy() {
	policy "$1" "\"allow_domains\": $2${3:+, $3}"
}

# ------------------------------------------------------------ results

# timed_field LABEL rc|ms: from the "LABEL rc=N ms=M" line of the last run.
timed_field() {
	printf '%s\n' "$AWF_OUT" | awk -v l="$1" -v f="$2=" '
		$1 == l && $2 ~ /^rc=[0-9]+$/ && $3 ~ /^ms=[0-9]+$/ {
			for (i = 2; i <= 3; i++) if (index($i, f) == 1) print substr($i, length(f) + 1)
			exit
		}'
}

# assert_timed_ok LABEL NEEDLE: LABEL exited 0 and stdout has NEEDLE.
assert_timed_ok() {
	local rc
	rc=$(timed_field "$1" rc)
	[ -n "$rc" ] || fail "$1: no result line (did it run?); stdout: $(printf '%s' "$AWF_OUT" | head -c 1500)"
	[ "$rc" = 0 ] || fail "$1: expected to work, exit status $rc; stderr: $(printf '%s' "$AWF_ERR" | head -c 1500)"
	assert_contains "$AWF_OUT" "$2" "$1"
}

# assert_timed_refused LABEL "RC..." [WHAT]: LABEL failed with one of the
# exit statuses, within NAMES_FAST_MS.
assert_timed_refused() {
	local rc ms want
	rc=$(timed_field "$1" rc)
	ms=$(timed_field "$1" ms)
	[ -n "$rc" ] || fail "$1: no result line (did it run?); stdout: $(printf '%s' "$AWF_OUT" | head -c 1500)"
	for want in $2; do
		[ "$rc" = "$want" ] && break
	done
	[ "$rc" = "$want" ] || fail "${3:-$1}: expected exit status one of {$2} (refused), got $rc"
	[ "$ms" -lt "$NAMES_FAST_MS" ] || fail "${3:-$1}: refused after $ms ms, expected < $NAMES_FAST_MS ms"
	log "$1: refused (exit $rc) in $ms ms"
}

# hello_line LABEL: tls_hello.py's result, printed as "LABEL <result>".
hello_line() { printf '%s\n' "$AWF_OUT" | sed -n "s/^$1 //p" | head -n 1; }

# assert_serverhello LABEL [VERSION]: the server answered the hello.
assert_serverhello() {
	local line
	line=$(hello_line "$1")
	case $line in
	"serverhello ${2:-}"*) ;;
	*) fail "$1: expected 'serverhello ${2:-}...', got '${line:-no line}'; stderr: $(printf '%s' "$AWF_ERR" | head -c 1000)" ;;
	esac
}

# assert_hello_refused LABEL: send() failed with EACCES, promptly.
assert_hello_refused() {
	local line ms
	line=$(hello_line "$1")
	case $line in
	"refused EACCES "*) ;;
	*) fail "$1: expected 'refused EACCES <ms>' (the hello refused before it left), got '${line:-no line}'" ;;
	esac
	ms=${line##* }
	[ "$ms" -lt "$NAMES_FAST_MS" ] || fail "$1: refused after $ms ms, expected < $NAMES_FAST_MS ms"
}

# assert_probe_eacces LABEL: a probe.py line "LABEL err EACCES <ms>", prompt.
assert_probe_eacces() {
	local line ms
	line=$(hello_line "$1")
	case $line in
	"err EACCES "*) ;;
	*) fail "$1: expected 'err EACCES <ms>', got '${line:-no line}'" ;;
	esac
	ms=${line##* }
	[ "$ms" -lt "$NAMES_FAST_MS" ] || fail "$1: refused after $ms ms, expected < $NAMES_FAST_MS ms"
}

# re_quote TEXT: TEXT as an extended regex matching itself.
re_quote() { printf '%s' "$1" | sed 's/[][\.*^$(){}?+|/]/\\&/g'; }

# addr_port ADDR PORT as awf-bpf prints it: ADDR:PORT, [ADDR]:PORT for IPv6.
addr_port() { case $1 in *:*) printf '[%s]:%s' "$1" "$2" ;; *) printf '%s:%s' "$1" "$2" ;; esac; }

# assert_deny_line WHAT ADDR PORT COMM TEXT [COUNT]: exactly COUNT (1)
# stderr lines
#   awf-bpf: denied WHAT to ADDR:PORT from pid N (COMM): TEXT
# e.g. WHAT "tls sni other.test", "http host (none)", "tcp payload".
assert_deny_line() {
	local re n
	re="^awf-bpf: denied $(re_quote "$1") to $(re_quote "$(addr_port "$2" "$3")") from pid [0-9]+ \\($(re_quote "$4")\\): $(re_quote "$5")\$"
	n=$(printf '%s\n' "$AWF_ERR" | grep -cE -- "$re")
	[ "$n" = "${6:-1}" ] || fail "stderr: expected ${6:-1} line(s) /$re/, found $n; denial lines: $(printf '%s' "$AWF_ERR" | grep -F 'awf-bpf: denied' | head -c 1500)"
}

# assert_no_denials: awf-bpf printed no denial at all.
assert_no_denials() {
	assert_not_contains "$AWF_ERR" "awf-bpf: denied" "stderr ($1)"
}

# The shared host never saw NAME in a ClientHello (servers.py logs
# ": sni NAME TLSv1.3 host ..." or ": sni NAME: handshake failed ...").
# A log line written after awf-bpf returned can only hide a failure here,
# never cause one.
assert_server_never_saw_sni() {
	local a b
	a=$(server_hits ": sni $1 ")
	b=$(server_hits ": sni $1:")
	assert_eq 0 "$((${a:-0} + ${b:-0}))" "ClientHellos with server_name $1 the shared host received"
}
# ... nor NAME in a Host header (": host NAME: GET ..." or ": host NAME:80: ...").
assert_server_never_saw_host() {
	local a
	a=$(server_hits ": host $1:")
	assert_eq 0 "${a:-0}" "requests with Host $1 the shared host received"
}

# ------------------------------------------------------- what works

test_names_allowed_name_over_https_and_http() {
	local pol
	names_setup
	pol=$(names_policy p '["good.test"]')
	awf_run --policy "$pol" -- sh -c "
		$TIMED https4 $CURL -4 https://good.test/
		$TIMED https6 $CURL -6 https://good.test/
		$TIMED http4 $CURL -4 http://good.test/
		echo \"p \$($PY $PROBE tcp good.test 80)\""
	assert_timed_ok https4 "hello from good.test at $SHARED4:443 (Host: good.test)"
	assert_timed_ok https6 "hello from good.test at [$SHARED6]:443 (Host: good.test)"
	assert_timed_ok http4 "hello from good.test at $SHARED4:80"
	# probe.py sends "Host: good.test:80": the port is not part of the name.
	assert_contains "$AWF_OUT" "p ok hello from good.test:80 at $SHARED4:80" "Host with a port"
	assert_no_denials "good.test over HTTPS and HTTP"
}

test_names_hand_built_hellos_with_an_allowed_name() {
	local pol
	names_setup
	pol=$(names_policy p '["good.test"]')
	# Bigger than an MSS (3000), almost a full record (16000), written in
	# three send()s, TLS 1.2 style; and the same over IPv6.
	awf_run --policy "$pol" -- sh -c "
		$DIGN @$DNS4 good.test >/dev/null; $DIGN @$DNS4 good.test AAAA >/dev/null
		echo \"plain \$($PY $HELLO $SHARED4 443 --sni good.test)\"
		echo \"big3000 \$($PY $HELLO $SHARED4 443 --sni good.test --size 3000)\"
		echo \"big16000 \$($PY $HELLO $SHARED4 443 --sni good.test --size 16000)\"
		echo \"split3 \$($PY $HELLO $SHARED4 443 --sni good.test --split 3)\"
		echo \"split3big \$($PY $HELLO $SHARED4 443 --sni good.test --size 3000 --split 3)\"
		echo \"split7huge \$($PY $HELLO $SHARED4 443 --sni good.test --size 16000 --split 7 --pause 20)\"
		echo \"tls12 \$($PY $HELLO $SHARED4 443 --sni good.test --tls12)\"
		echo \"tls12split \$($PY $HELLO $SHARED4 443 --sni good.test --tls12 --size 3000 --split 3)\"
		echo \"v6big \$($PY $HELLO $SHARED6 443 --sni good.test --size 3000)\"
		echo \"v6split \$($PY $HELLO $SHARED6 443 --sni good.test --split 3)\""
	assert_serverhello plain tls1.3
	assert_serverhello big3000 tls1.3
	assert_serverhello big16000 tls1.3
	assert_serverhello split3 tls1.3
	assert_serverhello split3big tls1.3
	assert_serverhello split7huge tls1.3
	assert_serverhello tls12 tls1.2
	assert_serverhello tls12split tls1.2
	assert_serverhello v6big tls1.3
	assert_serverhello v6split tls1.3
	assert_no_denials "ClientHellos naming good.test"
}

test_names_raw_tcp_to_an_allowed_name_on_another_port() {
	local pol
	names_setup
	pol=$(names_policy p "[{\"domain\": \"good.test\", \"ports\": [80, 443, $SHARED_RAW_PORT]}]")
	# The echo service greets first, then echoes: neither TLS nor HTTP,
	# on a port that is not 80 or 443, passes unchecked.
	awf_run --policy "$pol" -- sh -c "
		echo \"raw4 \$($PY $PROBE tcp good.test $SHARED_RAW_PORT --send 'SSH-2.0-x\\r\\n')\"
		$DIGN @$DNS4 good.test AAAA >/dev/null
		echo \"raw6 \$($PY $PROBE tcp $SHARED6 $SHARED_RAW_PORT --send 'ping\\n')\""
	assert_eq "ok echo: SSH-2.0-x" "$(hello_line raw4)" "raw TCP to good.test:$SHARED_RAW_PORT"
	assert_eq "ok echo: ping" "$(hello_line raw6)" "raw TCP to [$SHARED6]:$SHARED_RAW_PORT"
	assert_no_denials "raw TCP on port $SHARED_RAW_PORT"
}

test_names_allow_cidrs_destination_needs_no_name() {
	local pol
	names_setup
	# The shared address is listed as a CIDR: allowed for that reason, not
	# only because good.test resolved to it, so nothing is checked, even
	# after good.test was looked up.
	pol=$(names_policy p '["good.test"]' "\"allow_cidrs\": [\"$SHARED4/32\"]")
	awf_run --policy "$pol" -- sh -c "
		$DIGN @$DNS4 good.test >/dev/null
		$TIMED other $CURL --resolve other.test:443:$SHARED4 https://other.test/
		$TIMED otherhost $CURL -H 'Host: other.test' http://$SHARED4/
		echo \"nosni \$($PY $HELLO $SHARED4 443 --no-sni)\""
	assert_timed_ok other "hello from other.test at $SHARED4:443 (Host: other.test)"
	assert_timed_ok otherhost "hello from other.test at $SHARED4:80"
	assert_serverhello nosni
	assert_no_denials "a CIDR destination"
}

test_names_port_of_the_entry_is_checked_at_connect() {
	local pol
	names_setup
	# Existing behaviour, unchanged: a port the entry does not list is
	# refused at connect(), before any byte.
	pol=$(names_policy p '[{"domain": "good.test", "ports": [443]}]')
	awf_run --policy "$pol" -- sh -c "
		$TIMED https $CURL -4 https://good.test/
		echo \"p80 \$($PY $PROBE tcp good.test 80)\""
	assert_timed_ok https "hello from good.test at $SHARED4:443"
	assert_eperm_fast "$(hello_line p80)" "good.test:80 (the entry lists 443 only)"
	assert_contains "$AWF_ERR" "$(deny_prefix tcp "$SHARED4:80")"
	assert_contains "$AWF_ERR" "port not allowed"
}

# ---------------------------------------------------- what is refused

test_names_tls_to_another_name_on_the_address_refused() {
	local pol
	names_setup
	pol=$(names_policy p '["good.test"]')
	awf_run --policy "$pol" -- sh -c "
		$DIGN @$DNS4 good.test >/dev/null
		$TIMED resolve $CURL --resolve other.test:443:$SHARED4 https://other.test/"
	assert_timed_refused resolve "35 55" "curl --resolve other.test:443:$SHARED4"
	assert_not_contains "$AWF_OUT" "hello from" "curl output"
	assert_deny_line "tls sni other.test" "$SHARED4" 443 curl "name not allowed"
	assert_server_never_saw_sni other.test
}

test_names_connect_to_another_name_refused() {
	local pol
	names_setup
	pol=$(names_policy p '["good.test"]')
	# curl looks up good.test (learned), connects there, sends SNI other.test.
	awf_run --policy "$pol" -- sh -c "
		$TIMED connectto $CURL -4 --connect-to other.test:443:good.test:443 https://other.test/"
	assert_timed_refused connectto "35 55" "curl --connect-to other.test:443:good.test:443"
	assert_not_contains "$AWF_OUT" "hello from" "curl output"
	assert_deny_line "tls sni other.test" "$SHARED4" 443 curl "name not allowed"
	assert_server_never_saw_sni other.test
}

test_names_http_host_of_another_name_refused() {
	local pol
	names_setup
	pol=$(names_policy p '["good.test"]')
	awf_run --policy "$pol" -- sh -c "
		$TIMED host $CURL -4 -H 'Host: other.test' http://good.test/"
	assert_timed_refused host 55 "curl -H 'Host: other.test' http://good.test/"
	assert_not_contains "$AWF_OUT" "hello from" "curl output"
	assert_deny_line "http host other.test" "$SHARED4" 80 curl "name not allowed"
	assert_server_never_saw_host other.test
}

test_names_hand_built_hello_with_another_name_refused() {
	local pol
	names_setup
	pol=$(names_policy p '["good.test"]')
	# Split in three writes (the kernel waits for the whole record before
	# it decides), TLS 1.2 style, and a big one.
	awf_run --policy "$pol" -- sh -c "
		$DIGN @$DNS4 good.test >/dev/null
		echo \"split \$($PY $HELLO $SHARED4 443 --sni other.test --split 3)\"
		echo \"tls12 \$($PY $HELLO $SHARED4 443 --sni other.test --tls12)\"
		echo \"big \$($PY $HELLO $SHARED4 443 --sni other.test --size 16000)\""
	assert_hello_refused split
	assert_hello_refused tls12
	assert_hello_refused big
	assert_deny_line "tls sni other.test" "$SHARED4" 443 python3 "name not allowed" 3
	assert_server_never_saw_sni other.test
}

test_names_no_server_name_or_host_refused() {
	local pol
	names_setup
	pol=$(names_policy p '["good.test"]')
	# curl sends no SNI for an address in the URL.
	awf_run --policy "$pol" -- sh -c "
		$DIGN @$DNS4 good.test >/dev/null
		echo \"nosni \$($PY $HELLO $SHARED4 443 --no-sni)\"
		$TIMED curlip $CURL -k https://$SHARED4/
		echo \"nohost \$($PY $PROBE tcp $SHARED4 80 --send 'GET / HTTP/1.0\\r\\n\\r\\n')\""
	assert_hello_refused nosni
	assert_timed_refused curlip "35 55" "curl -k https://$SHARED4/ (no SNI)"
	assert_probe_eacces nohost
	assert_deny_line "tls sni (none)" "$SHARED4" 443 python3 "no server name or Host"
	assert_deny_line "tls sni (none)" "$SHARED4" 443 curl "no server name or Host"
	assert_deny_line "http host (none)" "$SHARED4" 80 python3 "no server name or Host"
}

test_names_hello_in_several_records_refused() {
	local pol
	names_setup
	pol=$(names_policy p '["good.test"]')
	# A ClientHello whose handshake message spans two TLS records: the
	# kernel does not reassemble records, so it cannot read the name.
	awf_run --policy "$pol" -- sh -c "
		$DIGN @$DNS4 good.test >/dev/null
		echo \"records \$($PY $HELLO $SHARED4 443 --sni good.test --records 2)\""
	assert_hello_refused records
	assert_match "$AWF_ERR" "^awf-bpf: denied tls sni [^ ]+ to $(re_quote "$SHARED4"):443 from pid [0-9]+ \\(python3\\): ClientHello the kernel cannot read$" "stderr"
}

test_names_raw_bytes_to_web_ports_refused() {
	local pol
	names_setup
	pol=$(names_policy p '["good.test"]')
	awf_run --policy "$pol" -- sh -c "
		echo \"raw443 \$($PY $PROBE tcp good.test 443 --send 'SSH-2.0-x\\r\\n')\"
		echo \"raw80 \$($PY $PROBE tcp good.test 80 --send 'SSH-2.0-x\\r\\n')\""
	assert_probe_eacces raw443
	assert_probe_eacces raw80
	assert_deny_line "tcp payload" "$SHARED4" 443 python3 "neither TLS nor HTTP on a web port"
	assert_deny_line "tcp payload" "$SHARED4" 80 python3 "neither TLS nor HTTP on a web port"
	# The HTTP service logs the first line it got (port 80).
	assert_eq 0 "$(server_hits ": SSH-2.0-x")" "raw bytes the shared host received on port 80"
}

test_names_ipv6_other_name_refused() {
	local pol
	names_setup
	pol=$(names_policy p '["good.test"]')
	awf_run --policy "$pol" -- sh -c "
		$TIMED good6 $CURL -6 https://good.test/
		$TIMED other6 $CURL -6 --resolve other.test:443:[$SHARED6] https://other.test/
		$TIMED host6 $CURL -6 -H 'Host: other.test' http://good.test/"
	assert_timed_ok good6 "hello from good.test at [$SHARED6]:443"
	assert_timed_refused other6 "35 55" "curl -6 --resolve other.test:443:[$SHARED6]"
	assert_timed_refused host6 55 "curl -6 -H 'Host: other.test'"
	assert_deny_line "tls sni other.test" "$SHARED6" 443 curl "name not allowed"
	assert_deny_line "http host other.test" "$SHARED6" 80 curl "name not allowed"
	assert_server_never_saw_sni other.test
}

# An AF_INET6 socket to ::ffff:a.b.c.d runs connect6, not connect4, and
# sends IPv4 packets: its first bytes are checked all the same.
test_names_v4_mapped_other_name_refused() {
	local pol
	names_setup
	pol=$(names_policy p '["good.test"]')
	awf_run --policy "$pol" -- sh -c "
		$DIGN @$DNS4 good.test A >/dev/null
		echo \"good \$($PY $HELLO ::ffff:$SHARED4 443 --sni good.test)\"
		echo \"other \$($PY $HELLO ::ffff:$SHARED4 443 --sni other.test)\""
	assert_serverhello good
	assert_hello_refused other
	assert_deny_line "tls sni other.test" "$SHARED4" 443 python3 "name not allowed"
	assert_server_never_saw_sni other.test
}

# The check's programs are loaded only for a policy that needs them (they
# are the costliest to load); attached, the sk_msg one to its sockhash.
test_names_programs_only_where_names_are_checked() {
	local pol pid cg progs
	for pol in "cidrs:\"allow_cidrs\": [\"$ALLOWED4/32\"]" \
		"unchecked:\"allow_domains\": [{\"domain\": \"good.test\", \"name_check\": false}]" \
		"checked:\"allow_domains\": [\"good.test\"]"; do
		"$AWF" run --policy "$(policy "${pol%%:*}" "${pol#*:}")" -- sleep 20 >/dev/null 2>&1 &
		pid=$!
		BG_PIDS+=("$pid")
		cg=$(cgroup2_root)/awf-bpf/run-$pid
		wait_file "$AWF_BPFFS/run-$pid/counters" 50 || fail "run-$pid never pinned its maps"
		progs=$(bpftool -j cgroup show "$cg" | jq -r '.[].name' | sort | tr '\n' ' ')
		kill -TERM "$pid"
		wait "$pid" 2>/dev/null
		assert_contains "$progs" "awf_connect4" "programs of the ${pol%%:*} policy"
		case ${pol%%:*} in
		checked) assert_contains "$progs" "awf_sockops" "programs of a policy with checked names" ;;
		*) assert_not_contains "$progs" "awf_sockops" "programs of the ${pol%%:*} policy" ;;
		esac
	done
}

# ------------------------------------------------------ policy semantics

test_names_name_check_off_for_the_entry() {
	local pol
	names_setup
	pol=$(names_policy p '[{"domain": "good.test", "name_check": false}]')
	awf_run --policy "$pol" -- sh -c "
		$DIGN @$DNS4 good.test >/dev/null
		$TIMED other $CURL --resolve other.test:443:$SHARED4 https://other.test/
		$TIMED host $CURL -4 -H 'Host: other.test' http://good.test/"
	assert_timed_ok other "hello from other.test at $SHARED4:443"
	assert_timed_ok host "hello from other.test at $SHARED4:80"
	assert_no_denials "\"name_check\": false"
}

test_names_block_domains_win_over_the_allowed_zone() {
	local pol
	names_setup
	pol=$(names_policy p '["good.test"]' '"block_domains": ["bad.good.test"]')
	awf_run --policy "$pol" -- sh -c "
		$DIGN @$DNS4 good.test >/dev/null
		echo \"www \$($PY $HELLO $SHARED4 443 --sni www.good.test)\"
		echo \"bad \$($PY $HELLO $SHARED4 443 --sni bad.good.test)\"
		echo \"deeper \$($PY $HELLO $SHARED4 443 --sni x.bad.good.test)\"
		$TIMED badhost $CURL -4 -H 'Host: bad.good.test' http://good.test/"
	assert_serverhello www
	assert_hello_refused bad
	assert_hello_refused deeper
	assert_timed_refused badhost 55 "Host: bad.good.test"
	assert_deny_line "tls sni bad.good.test" "$SHARED4" 443 python3 "blocked domain"
	assert_deny_line "tls sni x.bad.good.test" "$SHARED4" 443 python3 "blocked domain"
	assert_deny_line "http host bad.good.test" "$SHARED4" 80 curl "blocked domain"
	assert_server_never_saw_sni bad.good.test
}

# UDP carries no name the kernel can check (QUIC's Initial is encrypted):
# to a name's address it needs "udp": true on the entry; TCP is checked.
test_names_udp_to_a_learned_name_needs_the_udp_key() {
	local tcp_only with_udp n quic='\xc3\x00\x00\x00\x01quic'
	names_setup
	tcp_only=$(names_policy tcp "[{\"domain\": \"allowed.test\", \"ports\": [$UDP_ECHO_PORT, 443]}, \"good.test\"]")
	with_udp=$(names_policy udp "[{\"domain\": \"allowed.test\", \"ports\": [$UDP_ECHO_PORT], \"udp\": true}]")
	awf_run --policy "$tcp_only" -- sh -c "
		$DIGN @$DNS4 allowed.test A >/dev/null; $DIGN @$DNS4 good.test A >/dev/null
		echo \"echo \$($PY $PROBE udp-connect $ALLOWED4 $UDP_ECHO_PORT)\"
		echo \"sendto \$($PY $PROBE udp $ALLOWED4 $UDP_ECHO_PORT)\"
		echo \"quic \$($PY $PROBE udp-connect $SHARED4 443 --send '$quic')\""
	assert_eperm_fast "$(hello_line echo)" "udp connect to allowed.test's address without \"udp\""
	assert_eperm_fast "$(hello_line sendto)" "udp sendto allowed.test's address without \"udp\""
	assert_eperm_fast "$(hello_line quic)" "QUIC to good.test's (shared) address"
	assert_contains "$AWF_ERR" "$(deny_prefix udp "$ALLOWED4:$UDP_ECHO_PORT")" "stderr"
	# sendto by its hook; the connected sockets' datagrams by the backstop
	n=$(printf '%s\n' "$AWF_ERR" | grep -c "^awf-bpf: denied .*: UDP to a name's address (\"udp\": true allows it)")
	[ "$n" -ge 3 ] || fail "expected 3 udp_to_name denial lines (sendto, 2 connected sends), got $n: $AWF_ERR"
	awf_run --policy "$with_udp" -- sh -c "
		$DIGN @$DNS4 allowed.test A >/dev/null
		echo \"echo \$($PY $PROBE udp-connect $ALLOWED4 $UDP_ECHO_PORT)\"
		echo \"unlearned \$($PY $PROBE udp-connect $SHARED4 $UDP_ECHO_PORT)\""
	case $(hello_line echo) in
	"ok "*) ;;
	*) fail "udp to allowed.test's address with \"udp\": true: expected 'ok ...', got '$(hello_line echo)'" ;;
	esac
	assert_eperm_fast "$(hello_line unlearned)" "udp to an address no allowed name has"
}

# The run's fix (--summary-format json, allow_policy) for a UDP denial to
# a name's address says "udp": true; merged into the policy, UDP goes.
test_names_summary_fix_allows_udp_to_a_name() {
	local tcp_only fixed json
	names_setup
	tcp_only=$(names_policy tcpfix "[{\"domain\": \"allowed.test\", \"ports\": [443]}]")
	awf_run --policy "$tcp_only" --summary-format json -- sh -c "
		$DIGN @$DNS4 allowed.test A >/dev/null
		echo \"echo \$($PY $PROBE udp $ALLOWED4 $UDP_ECHO_PORT)\""
	assert_eperm_fast "$(hello_line echo)" "udp sendto allowed.test's address without \"udp\""
	json=$(printf '%s\n' "$AWF_ERR" | tail -n 1)
	assert_eq "{\"domain\":\"allowed.test\",\"subdomains\":false,\"ports\":[$UDP_ECHO_PORT],\"udp\":true}" \
		"$(jq -c '.allow_policy.allow_domains[] | objects' <<<"$json")" "allow_policy's entry"
	assert_contains "$(jq -r '.no_flag[]' <<<"$json")" 'allowed.test: UDP to its addresses takes an entry with "udp": true' "no_flag"
	fixed=$TEST_TMP/fixed.json
	jq -s '.[0].allow_domains += .[1].allow_domains | .[0]' "$tcp_only" - <<<"$(jq .allow_policy <<<"$json")" >"$fixed" ||
		fail "merging allow_policy into $tcp_only"
	chmod 0644 "$fixed"
	awf_run --policy "$fixed" -- sh -c "
		$DIGN @$DNS4 allowed.test A >/dev/null
		echo \"echo \$($PY $PROBE udp $ALLOWED4 $UDP_ECHO_PORT)\""
	case $(hello_line echo) in
	"ok "*) ;;
	*) fail "udp to allowed.test's address with the fix merged: expected 'ok ...', got '$(hello_line echo)'; stderr: $AWF_ERR" ;;
	esac
}

test_names_exact_and_wildcard_entries() {
	local pol
	names_setup
	# "subdomains": false: the name itself only.
	pol=$(names_policy exact '[{"domain": "good.test", "subdomains": false}]')
	awf_run --policy "$pol" -- sh -c "
		$DIGN @$DNS4 good.test >/dev/null
		echo \"apex \$($PY $HELLO $SHARED4 443 --sni good.test)\"
		echo \"sub \$($PY $HELLO $SHARED4 443 --sni www.good.test)\""
	assert_serverhello apex
	assert_hello_refused sub
	assert_deny_line "tls sni www.good.test" "$SHARED4" 443 python3 "name not allowed"
	# "*.good.test": every name below, not the name itself.
	pol=$(names_policy wild '["*.good.test"]')
	awf_run --policy "$pol" -- sh -c "
		$DIGN @$DNS4 www.good.test >/dev/null
		echo \"sub \$($PY $HELLO $SHARED4 443 --sni api.good.test)\"
		echo \"apex \$($PY $HELLO $SHARED4 443 --sni good.test)\""
	assert_serverhello sub
	assert_hello_refused apex
	assert_deny_line "tls sni good.test" "$SHARED4" 443 python3 "name not allowed"
}

test_names_entry_ports_apply_to_the_name() {
	local pol
	names_setup
	# Both names resolve to the shared address, each allowed on one port:
	# the address is reachable on both, each name only on its own.
	pol=$(names_policy p '[{"domain": "good.test", "ports": [443]}, {"domain": "other.test", "ports": [80]}]')
	awf_run --policy "$pol" -- sh -c "
		$DIGN @$DNS4 good.test >/dev/null; $DIGN @$DNS4 other.test >/dev/null
		echo \"good443 \$($PY $HELLO $SHARED4 443 --sni good.test)\"
		echo \"other443 \$($PY $HELLO $SHARED4 443 --sni other.test)\"
		echo \"other80 \$($PY $PROBE tcp $SHARED4 80 --host other.test)\"
		echo \"good80 \$($PY $PROBE tcp $SHARED4 80 --host good.test)\""
	assert_serverhello good443
	assert_hello_refused other443
	assert_eq "ok hello from other.test:80 at $SHARED4:80" "$(hello_line other80)" "Host other.test on port 80"
	assert_probe_eacces good80
	assert_deny_line "tls sni other.test" "$SHARED4" 443 python3 "name not allowed"
	assert_deny_line "http host good.test" "$SHARED4" 80 python3 "name not allowed"
}

# ------------------------------------------------------ audit, summary

test_names_audit_record_and_summary() {
	local pol audit=$TEST_TMP/audit.jsonl cond
	names_setup
	pol=$(names_policy p '["good.test"]')
	awf_run --policy "$pol" --audit-log "$audit" -- sh -c "
		$DIGN @$DNS4 good.test >/dev/null
		$TIMED sni $CURL --resolve other.test:443:$SHARED4 https://other.test/
		$TIMED host $CURL -4 -H 'Host: other.test' http://good.test/"
	assert_timed_refused sni "35 55"
	assert_timed_refused host 55
	log "audit: $(cat "$audit")"
	audit_validate "$audit"
	# The kind of record: "event" as every other record has it (docs/audit.md).
	cond=".verdict == \"deny\" and .dst == \"$SHARED4\" and .dport == 443 and .name == \"other.test\" and .reason == \"tls_name_not_allowed\" and (.event == \"tls\" or .kind == \"tls\")"
	assert_eq 1 "$(audit_count "$audit" "$cond")" "audit records {deny tls other.test tls_name_not_allowed}"
	cond=".verdict == \"deny\" and .dst == \"$SHARED4\" and .dport == 80 and .name == \"other.test\" and .reason == \"http_host_not_allowed\" and (.event == \"http\" or .kind == \"http\")"
	assert_eq 1 "$(audit_count "$audit" "$cond")" "audit records {deny http other.test http_host_not_allowed}"
	assert_contains "$(summary_lines)" "--allow-domains other.test" "the summary's suggestion"
}
