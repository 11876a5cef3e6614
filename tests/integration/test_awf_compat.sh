# shellcheck shell=bash
# awf's command lines carry over (docs/awf-compat.md): https:// and
# http:// entries, --enable-host-access, --allow-host-ports, -e/--env,
# --env-all, `run --version`; and the policy tools: `help policy`,
# `policy check --help`, `policy test`, and `policy suggest` from a run's
# audit log to a policy that allows what the run used and nothing else.

test_compat_https_entry_allows_443_only() {
	use_testbed_resolver
	awf_run --dns-servers "$DNS4" -d https://allowed.test -- sh -c "
		$PY $PROBE tcp allowed.test 443; $PY $PROBE tcp allowed.test 80"
	assert_ok "$(printf '%s\n' "$AWF_OUT" | sed -n 1p)" "hello from $ALLOWED4:443" "https://allowed.test: port 443"
	assert_eperm_fast "$(printf '%s\n' "$AWF_OUT" | sed -n 2p)" "https://allowed.test: port 80"
	assert_contains "$AWF_ERR" "port not allowed"
}

test_compat_http_entry_in_a_policy_file_allows_80_only() {
	local pol
	use_testbed_resolver
	pol=$(policy p '"allow_domains": ["http://allowed.test"]')
	awf_run --policy "$pol" -- sh -c "
		$PY $PROBE tcp allowed.test 80; $PY $PROBE tcp allowed.test 443"
	assert_ok "$(printf '%s\n' "$AWF_OUT" | sed -n 1p)" "hello from $ALLOWED4:80" "http://allowed.test: port 80"
	assert_eperm_fast "$(printf '%s\n' "$AWF_OUT" | sed -n 2p)" "http://allowed.test: port 443"
}

test_compat_entry_with_a_path_is_refused() {
	local pol
	awf_run --dns-servers "$DNS4" -d https://allowed.test/x -- true
	assert_eq 125 "$AWF_RC" "exit status"
	assert_contains "$AWF_ERR" "--allow-domains: allowed.test/x: paths are not supported in a domain entry"
	pol=$(policy p '"allow_domains": [{"domain": "https://allowed.test", "ports": [8080]}]')
	awf_run --policy "$pol" -- true
	assert_eq 125 "$AWF_RC" "exit status"
	assert_contains "$AWF_ERR" "allow_domains[0]: \"ports\" and a scheme in \"domain\""
}

# host_case FLAGS...: Q and R served on the host's loopback, probed from
# the sandbox; LINE_Q, LINE_R.
host_case() {
	Q=$(free_port)
	R=$(free_port)
	[ "$Q" != "$R" ] || R=$((Q + 1))
	bg_listen 127.0.0.1 "$Q"
	bg_listen 127.0.0.1 "$R"
	awf_run --dns-servers "$DNS4" "$@" -- sh -c "
		$PY $PROBE tcp 127.0.0.1 $Q; $PY $PROBE tcp 127.0.0.1 $R"
	LINE_Q=$(printf '%s\n' "$AWF_OUT" | sed -n 1p)
	LINE_R=$(printf '%s\n' "$AWF_OUT" | sed -n 2p)
}

test_compat_enable_host_access() {
	host_case --enable-host-access
	assert_ok "$LINE_Q" "hello from 127.0.0.1:$Q" "--enable-host-access: host port $Q"
	assert_ok "$LINE_R" "hello from 127.0.0.1:$R" "--enable-host-access: host port $R"
	host_case
	assert_eperm_fast "$LINE_Q" "without it: host port $Q"
}

test_compat_allow_host_ports_narrow_host_access() {
	local q r
	q=$(free_port)
	r=$(free_port)
	[ "$q" != "$r" ] || r=$((q + 1))
	bg_listen 127.0.0.1 "$q"
	bg_listen ::1 "$r"
	for flags in "--allow-host-ports $q" "--allow-host-ports $q --enable-host-access" \
		"--enable-host-access --allow-host-ports $q"; do
		# shellcheck disable=SC2086
		awf_run --dns-servers "$DNS4" $flags -- sh -c "
			$PY $PROBE tcp 127.0.0.1 $q; $PY $PROBE tcp ::1 $r"
		assert_ok "$(printf '%s\n' "$AWF_OUT" | sed -n 1p)" "hello from 127.0.0.1:$q" "$flags: port $q"
		assert_eperm_fast "$(printf '%s\n' "$AWF_OUT" | sed -n 2p)" "$flags: port $r"
	done
	awf_run --dns-servers "$DNS4" --localhost deny --allow-host-ports "$q" -- true
	assert_eq 125 "$AWF_RC" "--localhost deny --allow-host-ports"
	assert_contains "$AWF_ERR" "--allow-host-ports: contradicts localhost \"deny\""
}

test_compat_env() {
	awf_run --dns-servers "$DNS4" -e AWFT_ONE=1 --env "AWFT_TWO=a b=c" --env-all \
		-e HOME=/awft-home -- sh -c 'printf "%s|%s|%s\n" "$AWFT_ONE" "$AWFT_TWO" "$HOME"'
	assert_eq 0 "$AWF_RC" "exit status"
	assert_eq "1|a b=c|/awft-home" "$AWF_OUT" "the command's environment"
	AWFT_INHERITED=yes awf_run --dns-servers "$DNS4" -- sh -c 'echo "$AWFT_INHERITED"'
	assert_eq "yes" "$AWF_OUT" "inherited without -e"
	for bad in "NOVALUE" "=x" "1X=y" "A-B=c"; do
		awf_run --dns-servers "$DNS4" -e "$bad" -- true
		assert_eq 125 "$AWF_RC" "-e $bad"
		assert_contains "$AWF_ERR" "--env $bad: expected NAME=VALUE"
	done
}

test_compat_agent_timeout_is_minutes() {
	awf_run --dns-servers "$DNS4" --agent-timeout 1 -- true
	assert_eq 0 "$AWF_RC" "--agent-timeout 1"
	for bad in 0 10081 1.5 1m; do
		awf_run --dns-servers "$DNS4" --agent-timeout "$bad" -- true
		assert_eq 125 "$AWF_RC" "--agent-timeout $bad"
		assert_contains "$AWF_ERR" "--agent-timeout $bad: expected whole minutes from 1 to 10080"
	done
}

test_compat_version_help() {
	local version
	version=$(cat "$ROOT/VERSION")
	awf run --version
	assert_eq 0 "$AWF_RC" "run --version"
	assert_eq "awf-bpf $version" "$AWF_OUT"
	awf help policy
	assert_eq 0 "$AWF_RC" "help policy"
	assert_contains "$AWF_OUT" "awf-bpf policy test [POLICY FLAGS]"
	assert_contains "$AWF_OUT" "awf-bpf policy suggest [--base FILE]"
	assert_contains "$AWF_OUT" "--allow-host-ports LIST"
	awf policy check --help
	assert_eq 0 "$AWF_RC" "policy check --help"
	assert_contains "$AWF_OUT" "Usage: awf-bpf policy check FILE"
	awf help run
	assert_contains "$AWF_OUT" "-e, --env NAME=VALUE"
	assert_contains "$AWF_OUT" "--enable-host-access"
}

test_policy_test_exit_status() {
	awf policy test --dns-servers "$DNS4" -d https://allowed.test allowed.test:443 "$ALLOWED4"
	assert_eq 1 "$AWF_RC" "one DEST denied"
	assert_eq "allow allowed.test:443 learned: by allowed.test (subdomains, ports 443)
deny $ALLOWED4 not_in_policy: no allow_cidrs entry covers it" "$AWF_OUT"
	awf policy test --dns-servers "$DNS4" --allow-cidr "$ALLOWED4/32:80" "$ALLOWED4:80"
	assert_eq 0 "$AWF_RC" "every DEST allowed"
	awf policy test --dns-servers "$DNS4" "allowed.test:http"
	assert_eq 125 "$AWF_RC" "bad DEST"
	assert_contains "$AWF_ERR" "bad DEST allowed.test:http: port \"http\""
	awf policy test --dns-servers "$DNS4" --allow-cidr 10.1.2.3/16 x.test
	assert_eq 125 "$AWF_RC" "bad policy"
	assert_contains "$AWF_ERR" "--allow-cidr: 10.1.2.3/16: host bits set"
}

# A run's audit log (every verdict, --audit all) to a policy; under it the
# same job passes and what it did not use is refused.
test_policy_suggest_from_a_run() {
	local log=$TEST_TMP/audit.jsonl pol
	use_testbed_resolver
	awf_run --dns-servers "$DNS4" -d allowed.test --allow-cidr "$BLOCKED4/32" \
		--audit all --audit-log "$log" -- sh -c "
		$PY $PROBE tcp allowed.test 80; $PY $PROBE tcp $BLOCKED4 8080"
	assert_eq 0 "$AWF_RC" "the audited run"
	awf policy suggest "$log"
	assert_eq 0 "$AWF_RC" "policy suggest"
	pol=$(policy_file suggested "$AWF_OUT")
	assert_eq "allowed.test" "$(jq -r '.allow_domains[0].domain' "$pol")"
	assert_eq "[80]" "$(jq -c '.allow_domains[0].ports' "$pol")"
	assert_eq "$BLOCKED4/32" "$(jq -r '.allow_cidrs[0].cidr' "$pol")"
	assert_eq "[8080]" "$(jq -c '.allow_cidrs[0].ports' "$pol")"
	awf_run --policy "$pol" --dns-servers "$DNS4" -- sh -c "
		$PY $PROBE tcp allowed.test 80; $PY $PROBE tcp $BLOCKED4 8080
		$PY $PROBE tcp allowed.test 8080; $PY $PROBE tcp $BLOCKED4 80"
	assert_ok "$(printf '%s\n' "$AWF_OUT" | sed -n 1p)" "hello from $ALLOWED4:80" "used: allowed.test:80"
	assert_ok "$(printf '%s\n' "$AWF_OUT" | sed -n 2p)" "hello from $BLOCKED4:8080" "used: $BLOCKED4:8080"
	assert_eperm_fast "$(printf '%s\n' "$AWF_OUT" | sed -n 3p)" "not used: allowed.test:8080"
	assert_eperm_fast "$(printf '%s\n' "$AWF_OUT" | sed -n 4p)" "not used: $BLOCKED4:80"
}
