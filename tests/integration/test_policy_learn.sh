# shellcheck shell=bash
# From an audit-only run to a policy: the run reaches what its policy does
# not name, `policy suggest` turns its log into a policy, and that policy
# allows exactly what the run used and refuses the rest.

test_policy_learn_audit_suggest_enforce() {
	local base log sug
	use_testbed_resolver
	base=$(policy base '')
	log=$TEST_TMP/audit.jsonl
	awf_run --audit-only --audit-log "$log" --policy "$base" -- sh -c "
		curl -4 -sS --noproxy '*' --max-time 5 http://allowed.test:8080/; echo
		$PY $PROBE tcp $BLOCKED4 80"
	assert_eq 0 "$AWF_RC" "exit status of the audit-only run"
	assert_contains "$AWF_OUT" "hello from $ALLOWED4:8080" "allowed.test:8080 reached in audit mode"
	assert_contains "$AWF_OUT" "ok hello from $BLOCKED4:80" "$BLOCKED4:80 reached in audit mode"
	assert_contains "$AWF_ERR" "would have denied" "summary"
	assert_contains "$(cat "$log")" '"audit_only":true' "audit log"

	awf policy suggest --base "$base" "$log"
	assert_eq 0 "$AWF_RC" "policy suggest"
	sug=$(policy_file suggested "$AWF_OUT")
	awf policy check "$sug"
	assert_eq 0 "$AWF_RC" "policy check of the suggestion"
	assert_contains "$(cat "$sug")" '"allowed.test"' "suggested names"
	assert_contains "$(cat "$sug")" "$BLOCKED4/32" "suggested addresses"

	# What the run used: allowed under the suggestion, enforcing.
	awf_run --policy "$sug" -- sh -c "
		curl -4 -sS --noproxy '*' --max-time 5 http://allowed.test:8080/; echo
		$PY $PROBE tcp $BLOCKED4 80"
	assert_eq 0 "$AWF_RC" "exit status under the suggested policy"
	assert_contains "$AWF_OUT" "hello from $ALLOWED4:8080" "allowed.test:8080"
	assert_contains "$AWF_OUT" "ok hello from $BLOCKED4:80" "$BLOCKED4:80"
	assert_not_contains "$AWF_ERR" "awf-bpf: denied" "stderr"

	# What it did not use: refused.
	sandbox_probe "$sug" tcp "$BLOCKED4" 8080
	assert_eperm_fast "$PROBE_LINE" "tcp $BLOCKED4:8080 (port not used)"
	sandbox_probe "$sug" tcp "$ALLOWED4" 9000
	assert_eperm_fast "$PROBE_LINE" "tcp $ALLOWED4:9000 (port not used)"
	awf_run --policy "$sug" -- curl -4 -sS --noproxy '*' --max-time 5 http://blocked.test:8080/
	assert_ne 0 "$AWF_RC" "curl of a name the run did not use"
	assert_not_contains "$AWF_OUT" "hello from" "curl output"
}
