# shellcheck shell=bash
# Escape battery, names and proxies: making an allowed NAME lead to a
# blocked ADDRESS (curl --connect-to / --resolve), another name on an
# allowed address (a Host header, the TLS SNI), and going around the
# proxy in proxy-only mode.
# shellcheck source=../tools/escape/lib.sh
. "$ROOT/tests/tools/escape/lib.sh"

DIGN="dig +time=2 +tries=1 +short"

# curl --connect-to allowed.test:80:<blocked>:80: the URL names an allowed
# domain (looked up first, so its address is learned), the connection goes
# to the blocked address, which no DNS answer gave.
esc_curl_connect_to() {
	local pol
	pol=$(policy "p-$ESC_AS" '"allow_domains": ["allowed.test"]')
	esc_sniff "$BLOCKED4"
	esc_sh "$pol" "$DIGN @$DNS4 allowed.test >/dev/null
		curl -s -m 3 --noproxy '*' --connect-to allowed.test:80:$BLOCKED4:80 http://allowed.test/; echo \"curl=\$?\""
	assert_eq "curl=7" "$AWF_OUT" "curl --connect-to (7: could not connect)"
	esc_nothing_reached
	esc_no_server_hits "http $BLOCKED4:80 "
	esc_audit_deny "$BLOCKED4" 80 not_in_policy connect
}
test_escape_curl_connect_to() { escape_both esc_curl_connect_to; }

# curl --resolve allowed.test:80:<blocked>: a name mapped by hand to an
# address; only addresses the filter learned from real answers count.
esc_curl_resolve() {
	local pol
	pol=$(policy "p-$ESC_AS" '"allow_domains": ["allowed.test"]')
	esc_sniff "$BLOCKED4" "$BLOCKED6"
	esc_sh "$pol" "$DIGN @$DNS4 allowed.test >/dev/null
		curl -s -m 3 --noproxy '*' --resolve allowed.test:80:$BLOCKED4 http://allowed.test/; echo \"curl=\$?\"
		curl -s -m 3 --noproxy '*' --resolve allowed.test:80:[$BLOCKED6] http://allowed.test/; echo \"curl=\$?\""
	assert_eq "curl=7
curl=7" "$AWF_OUT" "curl --resolve to $BLOCKED4 and [$BLOCKED6] (7: could not connect)"
	esc_nothing_reached
	esc_audit_deny "$BLOCKED4" 80 not_in_policy connect
	esc_audit_deny "$BLOCKED6" 80 not_in_policy connect
}
test_escape_curl_resolve() { escape_both esc_curl_resolve; }

# Domain fronting on a shared address (closed, issue 12: names checked in
# the kernel). good.test and other.test live on one address, as behind a
# CDN; the policy allows good.test. A connection to that address carrying
# the other name, in the HTTP Host header or the TLS SNI, is refused before
# its first byte leaves the host (send() fails with EACCES) and named on
# stderr and in the audit log. The same for the allowed host's own address
# with Host: blocked.test. Connections open (their handshake is allowed),
# but no TCP segment with data reaches either address.
esc_host_header_fronting() {
	local pol
	pol=$(policy "p-$ESC_AS" '"allow_domains": ["good.test", "allowed.test"]')
	esc_sniff "$SHARED4" "$ALLOWED4"
	esc_sh "$pol" "$DIGN @$DNS4 good.test >/dev/null; $DIGN @$DNS4 allowed.test >/dev/null
		curl -s -m 3 --noproxy '*' -H 'Host: other.test' http://$SHARED4/; echo \"curl=\$?\"
		$PY $TOOLS/tls_hello.py $SHARED4 443 --sni other.test
		curl -s -m 3 --noproxy '*' -H 'Host: blocked.test' http://$ALLOWED4/; echo \"curl=\$?\""
	assert_eq "curl=55" "$(esc_nth 1)" "curl -H 'Host: other.test' to good.test's address (55: send failure)"
	assert_contains "$(esc_nth 2)" "refused EACCES " "a ClientHello naming other.test to good.test's address"
	assert_eq "curl=55" "$(esc_nth 3)" "curl -H 'Host: blocked.test' to allowed.test's address"
	assert_contains "$AWF_ERR" "awf-bpf: denied http host other.test to $SHARED4:80 from pid "
	assert_contains "$AWF_ERR" "awf-bpf: denied tls sni other.test to $SHARED4:443 from pid "
	assert_contains "$AWF_ERR" "awf-bpf: denied http host blocked.test to $ALLOWED4:80 from pid "
	esc_no_payload_reached "good.test's and allowed.test's addresses"
	esc_no_server_hits ": host other.test" ": sni other.test" ": GET / HTTP"
	esc_audit_deny "$SHARED4" 80 http_host_not_allowed
	esc_audit_deny "$SHARED4" 443 tls_name_not_allowed
	esc_audit_deny "$ALLOWED4" 80 http_host_not_allowed
}
test_escape_host_header_fronting() { escape_both esc_host_header_fronting; }

# RESIDUAL (domain fronting through an allowed name): the kernel reads the
# ClientHello's server_name and a plaintext Host; inside TLS the request can
# name anything. A TLS connection with SNI good.test carrying "Host:
# other.test" reaches the shared host, which sees other.test. Only a
# TLS-terminating proxy could tell.
esc_tls_inner_host_fronting_residual() {
	local pol
	pol=$(policy "p-$ESC_AS" '"allow_domains": ["good.test"]')
	cp "$AWFT_CA" "$ESC_DIR/ca.crt" && chmod 0644 "$ESC_DIR/ca.crt"
	esc_sh "$pol" "$DIGN @$DNS4 good.test >/dev/null
		curl -s -m 3 --noproxy '*' --cacert $ESC_DIR/ca.crt --resolve good.test:443:$SHARED4 -H 'Host: other.test' https://good.test/"
	assert_eq "hello from good.test at $SHARED4:443 (Host: other.test)" "$AWF_OUT" \
		"SNI good.test, Host other.test inside TLS (residual: delivered with the inner name)"
	[ "$(esc_server_log | grep -cE ': sni good\.test TLSv1\.[23] host other\.test: GET ')" -ge 1 ] ||
		fail "the shared host did not log the request for other.test inside good.test's TLS"
	log "RESIDUAL: a name inside TLS (Host, HTTP/2 :authority) is not seen; only a TLS-terminating proxy sees it"
}
test_escape_tls_inner_host_fronting_residual() { escape_both esc_tls_inner_host_fronting_residual; }

# Proxy-only mode: a client told not to use the proxy (NO_PROXY=*,
# --noproxy, proxy variables removed, Python without proxies) connects
# directly to an address learned from an allowed name; and UDP to the
# proxy's port, TCP to the proxy host's other port.
esc_proxy_bypass() {
	local pol
	pol=$(policy "p-$ESC_AS" "\"allow_domains\": [\"allowed.test\"], \"proxy\": \"$PROXY4:$PROXY_PORT\"")
	esc_sniff "$ALLOWED4" "$PROXY4"
	esc_sh "$pol" "$DIGN @$DNS4 allowed.test >/dev/null
		NO_PROXY='*' no_proxy='*' curl -s -m 3 http://$ALLOWED4:8080/; echo \"curl=\$?\"
		curl -s -m 3 --noproxy '*' http://$ALLOWED4:80/; echo \"curl=\$?\"
		env -u http_proxy -u HTTP_PROXY -u https_proxy -u HTTPS_PROXY curl -s -m 3 http://$ALLOWED4:9000/; echo \"curl=\$?\"
		$PY -c 'import urllib.request as u; o = u.build_opener(u.ProxyHandler({}));
try:
    print(o.open(\"http://$ALLOWED4:443/\", timeout=3).read())
except Exception as e:
    print(\"urllib failed\", type(e).__name__)'
		$PY $PROBE udp $PROXY4 $PROXY_PORT
		$PY $PROBE tcp $PROXY4 80"
	assert_eq "curl=7" "$(esc_nth 1)" "NO_PROXY=* curl"
	assert_eq "curl=7" "$(esc_nth 2)" "curl --noproxy '*'"
	assert_eq "curl=7" "$(esc_nth 3)" "curl without the proxy variables"
	assert_contains "$(esc_nth 4)" "urllib failed" "Python urllib without proxies"
	esc_nth_failed 5 "udp $PROXY4:$PROXY_PORT" EPERM
	esc_nth_failed 6 "tcp $PROXY4:80" EPERM
	esc_nothing_reached "the allowed host (directly) or the proxy host off its port"
	esc_no_server_hits "http $ALLOWED4:"
	esc_audit_deny "$ALLOWED4" 8080 proxy_only connect
	esc_audit_deny "$ALLOWED4" 80 proxy_only connect
	esc_audit_deny "$PROXY4" "$PROXY_PORT" not_in_policy sendmsg
}
test_escape_proxy_bypass() { escape_both esc_proxy_bypass; }
