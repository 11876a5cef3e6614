# shellcheck shell=bash
# Proxy-only mode: "proxy": "198.18.0.3:3128". The workload's environment
# points at the proxy; the proxy (outside the sandbox) reaches what the
# sandbox itself may not.

PROXY_URL=http://$PROXY4:$PROXY_PORT

test_proxy_environment() {
	local pol
	pol=$(policy p "\"proxy\": \"$PROXY4:$PROXY_PORT\"")
	awf_run --policy "$pol" -- env
	assert_eq 0 "$AWF_RC" "exit status of env"
	local var
	for var in HTTP_PROXY HTTPS_PROXY https_proxy; do
		assert_contains "$AWF_OUT" "$var=$PROXY_URL"$'\n' "environment: $var"
	done
	assert_match "$AWF_OUT" "^NO_PROXY=localhost,127\\.0\\.0\\.1,::1\$" "environment: NO_PROXY"
}

test_proxy_flag_environment() {
	awf_run --dns-servers "$DNS4" --proxy "$PROXY4:$PROXY_PORT" -- env
	assert_contains "$AWF_OUT" "HTTPS_PROXY=$PROXY_URL" "environment with --proxy"
}

test_proxy_curl_explicit_proxy() {
	local pol
	pol=$(policy p "\"proxy\": \"$PROXY4:$PROXY_PORT\"")
	awf_run --policy "$pol" -- sh -c 'curl -sS --max-time 10 -x "$HTTPS_PROXY" http://198.18.0.10:8080/'
	assert_eq 0 "$AWF_RC" "curl -x \$HTTPS_PROXY exit status"
	assert_eq "hello from $ALLOWED4:8080" "$AWF_OUT" "curl through the proxy"
}

test_proxy_curl_from_environment() {
	# curl reads the proxy from the environment (for http:// URLs it only
	# honours lower-case http_proxy), like most tools an agent runs.
	local pol
	pol=$(policy p "\"proxy\": \"$PROXY4:$PROXY_PORT\"")
	awf_run --policy "$pol" -- curl -sS --max-time 10 "http://$ALLOWED4:8080/"
	assert_eq 0 "$AWF_RC" "curl http://$ALLOWED4:8080/ with the sandbox's environment"
	assert_eq "hello from $ALLOWED4:8080" "$AWF_OUT" "curl output"
}

test_proxy_connect_tunnel_and_names() {
	local pol
	pol=$(policy p "\"proxy\": \"$PROXY4:$PROXY_PORT\"")
	# CONNECT (what HTTPS uses) to port 443 (plain HTTP there), and a name
	# resolved by the proxy, not by the sandbox.
	awf_run --policy "$pol" -- sh -c '
		curl -sS --max-time 10 -p -x "$HTTPS_PROXY" http://198.18.0.10:443/
		curl -sS --max-time 10 -x "$HTTPS_PROXY" http://allowed.test:9000/'
	assert_eq "hello from $ALLOWED4:443" "$(printf '%s\n' "$AWF_OUT" | sed -n 1p)" "CONNECT tunnel"
	# The proxy may pick either of the name's A and AAAA records.
	assert_match "$(printf '%s\n' "$AWF_OUT" | sed -n 2p)" \
		"^hello from ($ALLOWED4|\\[$ALLOWED6\\]):9000\$" "a name resolved by the proxy"
}

test_proxy_direct_connect_refused() {
	local pol before
	pol=$(policy p "\"proxy\": \"$PROXY4:$PROXY_PORT\"")
	before=$(server_hits "http $ALLOWED4:8080 from 198.18.0.1:")
	sandbox_probe "$pol" tcp "$ALLOWED4" 8080
	assert_eperm_fast "$PROBE_LINE" "direct tcp $ALLOWED4:8080 in proxy-only mode"
	assert_contains "$AWF_ERR" "$(deny_prefix tcp "$ALLOWED4:8080")" "stderr"
	sandbox_probe "$pol" tcp "$PROXY4" 80
	assert_eperm_fast "$PROBE_LINE" "tcp $PROXY4:80 (the proxy host, another port)"
	sandbox_probe "$pol" udp "$ALLOWED4" "$UDP_ECHO_PORT"
	assert_eperm_fast "$PROBE_LINE" "udp $ALLOWED4:$UDP_ECHO_PORT in proxy-only mode"
	assert_eq "$before" "$(server_hits "http $ALLOWED4:8080 from 198.18.0.1:")" "direct connections seen by $ALLOWED4:8080"
}
