# shellcheck shell=bash
# Escape battery, names and proxies: making an allowed NAME lead to a
# blocked ADDRESS (curl --connect-to / --resolve, a Host header), and
# going around the proxy in proxy-only mode.
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

# RESIDUAL (domain fronting, shared addresses): a connection to an allowed
# ADDRESS carrying another name (Host: blocked.test; with TLS, the SNI).
# awf-bpf decides addresses, not names inside connections: the request
# reaches the allowed address with whatever name it carries. Behind a CDN
# that serves both names from one address this reaches the other name. The
# blocked host itself sees nothing.
esc_host_header_fronting_residual() {
	local pol
	pol=$(policy "p-$ESC_AS" '"allow_domains": ["allowed.test"]')
	esc_sniff "$BLOCKED4"
	esc_sh "$pol" "$DIGN @$DNS4 allowed.test >/dev/null
		curl -s -m 3 --noproxy '*' -H 'Host: blocked.test' http://$ALLOWED4/"
	assert_eq "hello from $ALLOWED4:80" "$AWF_OUT" "Host: blocked.test sent to the allowed address (residual: it is delivered there)"
	esc_nothing_reached
	log "RESIDUAL: no Host/SNI check; a shared address serves whatever name the request carries"
}
test_escape_host_header_fronting_residual() { escape_both esc_host_header_fronting_residual; }

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
