# shellcheck shell=bash
# --audit-log FILE: one JSON object per line per event.

# audit_lines_are_json FILE: every non-empty line parses as one object.
audit_lines_are_json() {
	local n=0 line
	[ -s "$1" ] || fail "audit log $1 is empty or missing"
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		printf '%s\n' "$line" | jq -e 'type == "object"' >/dev/null 2>&1 ||
			fail "audit log line is not a JSON object: $line"
		n=$((n + 1))
	done <"$1"
	log "$n audit lines"
}

test_audit_denial_tcp() {
	local pol audit=$TEST_TMP/audit.jsonl
	pol=$(policy p '"allow_cidrs": ["198.18.0.10/32"]')
	awf_run --policy "$pol" --audit-log "$audit" -- "$PY" "$PROBE" tcp "$BLOCKED4" 80
	assert_eperm_fast "$AWF_OUT" "tcp $BLOCKED4:80"
	audit_lines_are_json "$audit"
	log "audit: $(cat "$audit")"
	assert_eq 1 "$(jq -c 'select(.verdict == "deny" and .dst == "198.18.0.20" and .dport == 80 and .proto == "tcp")' "$audit" | wc -l)" \
		"deny events for tcp 198.18.0.20:80 in the audit log"
}

test_audit_denial_udp_and_ipv6() {
	local pol audit=$TEST_TMP/audit.jsonl
	pol=$(policy p '"allow_cidrs": ["198.18.0.10/32"]')
	awf_run --policy "$pol" --audit-log "$audit" -- sh -c "
		$PY $PROBE udp $BLOCKED4 $UDP_ECHO_PORT; $PY $PROBE tcp $BLOCKED6 8080"
	audit_lines_are_json "$audit"
	log "audit: $(cat "$audit")"
	assert_le 1 "$(jq -c 'select(.verdict == "deny" and .dst == "198.18.0.20" and .dport == 5000 and .proto == "udp")' "$audit" | wc -l)" \
		"deny events for udp 198.18.0.20:5000"
	assert_le 1 "$(jq -c 'select(.verdict == "deny" and .dst == "fd42:a0f0::20" and .dport == 8080 and .proto == "tcp")' "$audit" | wc -l)" \
		"deny events for tcp [fd42:a0f0::20]:8080"
}

test_audit_allowed_connection_is_not_a_denial() {
	local pol audit=$TEST_TMP/audit.jsonl
	pol=$(policy p '"allow_cidrs": ["198.18.0.10/32"]')
	awf_run --policy "$pol" --audit-log "$audit" -- "$PY" "$PROBE" tcp "$ALLOWED4" 8080
	assert_eq "ok hello from $ALLOWED4:8080" "$AWF_OUT" "allowed connection"
	if [ -s "$audit" ]; then
		audit_lines_are_json "$audit"
		assert_eq 0 "$(jq -c 'select(.verdict == "deny")' "$audit" | wc -l)" "deny events in the audit log of an allowed run"
	fi
	assert_not_contains "$AWF_ERR" "awf-bpf: denied" "stderr"
}

test_audit_log_keeps_stderr_line() {
	local pol audit=$TEST_TMP/audit.jsonl
	pol=$(policy p '')
	awf_run --policy "$pol" --audit-log "$audit" -- "$PY" "$PROBE" tcp "$BLOCKED4" 443
	assert_eperm_fast "$AWF_OUT" "tcp $BLOCKED4:443"
	assert_contains "$AWF_ERR" "$(deny_prefix tcp "$BLOCKED4:443")" "stderr still has the denial line"
	assert_le 1 "$(jq -c 'select(.verdict == "deny" and .dport == 443)' "$audit" | wc -l)" "deny event for port 443"
}

test_audit_log_appends() {
	# "--audit-log FILE: append every event as a JSON line"
	local pol audit=$TEST_TMP/audit.jsonl
	pol=$(policy p '')
	echo '{"earlier": true}' >"$audit"
	awf_run --policy "$pol" --audit-log "$audit" -- "$PY" "$PROBE" tcp "$BLOCKED4" 8080
	assert_eperm_fast "$AWF_OUT" "tcp $BLOCKED4:8080"
	assert_eq 1 "$(grep -c '"earlier"' "$audit")" "earlier content of the audit log (kept: appended, not truncated)"
	assert_le 1 "$(jq -c 'select(.verdict == "deny" and .dport == 8080)' "$audit" | wc -l)" "deny event for port 8080"
}

test_audit_all_logs_allowed_connections() {
	local pol audit=$TEST_TMP/audit.jsonl
	pol=$(policy p '"allow_cidrs": ["198.18.0.10/32"]')
	awf_run --policy "$pol" --audit-log "$audit" --audit all -- sh -c "
		$PY $PROBE tcp $ALLOWED4 9000; $PY $PROBE tcp $BLOCKED4 9000"
	assert_contains "$AWF_OUT" "ok hello from $ALLOWED4:9000" "allowed connection"
	audit_lines_are_json "$audit"
	log "audit: $(cat "$audit")"
	assert_le 1 "$(jq -c 'select(.verdict != "deny" and .dst == "198.18.0.10" and .dport == 9000 and .proto == "tcp")' "$audit" | wc -l)" \
		"allow events for tcp 198.18.0.10:9000 with --audit all"
	assert_le 1 "$(jq -c 'select(.verdict == "deny" and .dst == "198.18.0.20" and .dport == 9000)' "$audit" | wc -l)" \
		"deny events for tcp 198.18.0.20:9000 with --audit all"
}
