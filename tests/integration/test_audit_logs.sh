# shellcheck shell=bash
# The audit log as a whole: every kind of line validates; `awf-bpf logs`
# prints it (pretty, json, markdown), sums it up (`logs summary`), follows
# a running sandbox; the end-of-run summary and --quiet.
# shellcheck source=../audit_lib.sh
. "$ROOT/tests/audit_lib.sh"

# A run that writes every kind of line but "lost" (test_audit_flood.sh).
every_kind_run() {
	local pol
	pol=$(policy p "\"allow_domains\": [\"allowed.test\"], \"allow_cidrs\": [\"$ALLOWED4_B/32\"]")
	AUDIT=$TEST_TMP/audit.jsonl
	awf_run --policy "$pol" --audit-log "$AUDIT" --audit all -- sh -c "
		${DIGT[*]} +short @$DNS4 allowed.test >/dev/null
		${DIGT[*]} +short @$DNS4 blocked.test >/dev/null
		$PY $PROBE tcp $ALLOWED4 80 --host allowed.test >/dev/null
		$PY $PROBE tcp $BLOCKED4 80 >/dev/null
		$PY $PROBE udp $BLOCKED4 $UDP_ECHO_PORT >/dev/null
		$PY -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM, 136)' 2>/dev/null
		exit 3"
	assert_eq 3 "$AWF_RC" "exit status"
}

test_audit_schema_covers_every_kind() {
	local kind
	every_kind_run
	audit_validate "$AUDIT"
	for kind in start connect sendmsg socket dns end; do
		assert_le 1 "$(audit_count "$AUDIT" ".event == \"$kind\"")" "$kind records"
	done
	assert_eq 1 "$(audit_count "$AUDIT" ".event == \"connect\" and .verdict == \"allow\" and .reason == \"learned\" and .domain == \"allowed.test\" and .rule_id == 1")" \
		"the allowed connect to $ALLOWED4:80 (--audit all)"
	assert_le 1 "$(audit_count "$AUDIT" '.verdict == "redirect" and .reason == "dns_redirect" and .dport == 53')" "DNS redirect records (--audit all)"
	assert_eq 1 "$(audit_count "$AUDIT" '.event == "end" and .exit_status == 3 and .events_lost == 0')" "the end record"
	assert_eq 1 "$(audit_count "$AUDIT" ".event == \"start\" and .command[0] == \"sh\" and .awf_pid > 0 and .pid > 0")" "the start record"
	# The validator does fail on a bad line.
	cp "$AUDIT" "$TEST_TMP/bad.jsonl"
	echo '{"schema": 1, "time": "x", "sandbox": "run-1", "event": "connect"}' >>"$TEST_TMP/bad.jsonl"
	assert_exit 1 "$PY" "$VALIDATE" "$AUDIT_SCHEMA" "$TEST_TMP/bad.jsonl"
}

test_audit_logs_formats() {
	local out
	every_kind_run
	out=$("$AWF" logs "$AUDIT") || fail "awf-bpf logs: $out"
	log "pretty: $out"
	assert_match "$out" "T[0-9:.]+Z run-[0-9]+ denied tcp $BLOCKED4:80 from pid [0-9]+ \\(python3\\): not in policy$"
	assert_match "$out" "allowed tcp $ALLOWED4:80 from pid [0-9]+ \\(python3\\): learned from an allowed domain \\(allowed.test\\)$"
	assert_contains "$out" "denied dns A blocked.test: name not allowed"
	assert_contains "$out" "allowed dns A allowed.test: 1 address learned"
	assert_contains "$out" "denied socket ipv4 dgram/udplite from pid"
	assert_contains "$out" "end: exit status 3"
	assert_eq "$(wc -l <"$AUDIT")" "$(printf '%s\n' "$out" | wc -l)" "one pretty line per record"
	out=$("$AWF" logs "$AUDIT" --format json)
	assert_eq "$(jq -c . "$AUDIT")" "$(printf '%s\n' "$out" | jq -c .)" "--format json"
	out=$("$AWF" logs --format markdown "$AUDIT")
	assert_contains "$out" "| Time | Sandbox | Event | Verdict | Destination | Process | Reason |"
	assert_contains "$out" "| connect | deny | tcp $BLOCKED4:80 | python3 ("
	assert_eq "$(($(wc -l <"$AUDIT") + 2))" "$(printf '%s\n' "$out" | wc -l)" "markdown rows"
	# Standard input, and a line that is not ours.
	out=$(cat "$AUDIT" | "$AWF" logs - | wc -l)
	assert_eq "$(wc -l <"$AUDIT")" "$out" "lines read from stdin"
	echo 'not json' >>"$AUDIT"
	assert_exit 1 "$AWF" logs "$AUDIT"
	assert_contains "$LAST_OUT" "audit.jsonl:$(wc -l <"$AUDIT"): not a JSON object"
	assert_exit 1 "$AWF" logs "$TEST_TMP/no-such-file"
	assert_exit 2 "$AWF" logs "$AUDIT" --format yaml
}

test_audit_logs_summary_markdown() {
	local out
	every_kind_run
	out=$("$AWF" logs summary "$AUDIT" --format markdown) || fail "logs summary: $out"
	log "markdown: $out"
	assert_eq "<details>" "$(printf '%s\n' "$out" | head -n 1)" "first line"
	assert_eq "</details>" "$(printf '%s\n' "$out" | tail -n 1)" "last line"
	assert_contains "$out" "<summary>awf-bpf: 4 denied (1 domain, 3 destinations)</summary>"
	assert_contains "$out" "| Domain | Allowed | Denied |"
	assert_contains "$out" "| allowed.test | 3 | 0 |"
	assert_contains "$out" "| blocked.test | 0 | 1 |"
	assert_contains "$out" "| connect_denied | 1 |"
	assert_contains "$out" "| sockets_denied | 1 |"
	assert_contains "$out" "| tcp $BLOCKED4:80 | python3 ("
	assert_contains "$out" "To allow these, add: \`--allow-domains blocked.test --allow-cidr $BLOCKED4/32:80,$UDP_ECHO_PORT\`"
	# The same from JSON, and markdown is the default.
	assert_eq "$out" "$("$AWF" logs summary "$AUDIT")" "default format"
	out=$("$AWF" logs summary "$AUDIT" --format json)
	assert_eq 4 "$(jq .denied <<<"$out")" "denied (json)"
	assert_eq "\"--allow-domains blocked.test --allow-cidr $BLOCKED4/32:80,$UDP_ECHO_PORT\"" "$(jq .allow_flags <<<"$out")" "allow_flags (json)"
}

test_audit_summary_on_stderr_and_quiet() {
	local pol
	pol=$(policy p '"allow_domains": ["allowed.test"]')
	awf_run --policy "$pol" -- sh -c "
		${DIGT[*]} +short @$DNS4 pypi.test >/dev/null
		${DIGT[*]} +short @$DNS4 files.pypi.test >/dev/null
		$PY $PROBE tcp $BLOCKED4 443 >/dev/null; true"
	log "summary: $(summary_lines)"
	assert_eq "awf-bpf: summary: 3 denied (2 domains, 1 destination)" "$(summary_lines | head -n 1)" "summary head"
	assert_contains "$(summary_lines)" "awf-bpf:   domain pypi.test: name not allowed (1 query)"
	assert_contains "$(summary_lines)" "awf-bpf:   tcp $BLOCKED4:443 from pid"
	assert_eq "awf-bpf: to allow these, add: --allow-domains pypi.test,files.pypi.test --allow-cidr $BLOCKED4/32:443" \
		"$(summary_lines | tail -n 1)" "the ready line"
	# --quiet: the per-denial lines stay, the summary goes.
	awf_run --policy "$pol" --quiet -- "$PY" "$PROBE" tcp "$BLOCKED4" 443
	assert_contains "$AWF_ERR" "$(deny_prefix tcp "$BLOCKED4:443")" "per-denial line with --quiet"
	assert_eq "" "$(summary_lines)" "summary with --quiet"
	# --log-level error: the other way round.
	awf_run --policy "$pol" --log-level error -- "$PY" "$PROBE" tcp "$BLOCKED4" 443
	assert_not_contains "$AWF_ERR" "awf-bpf: denied" "stderr with --log-level error"
	assert_contains "$(summary_lines)" "awf-bpf: summary: 1 denied"
	# Nothing denied: no summary.
	awf_run --policy "$pol" -- true
	assert_eq "" "$(summary_lines)" "summary of a run that was denied nothing"
}

test_audit_summary_leaves_out_internal_noise() {
	local pol port ready=$TEST_TMP/listening
	port=$(free_port)
	pol=$(policy p '"allow_domains": ["allowed.test"]')
	# DNS redirects and the sandbox's own loopback traffic, with --audit all,
	# around one real denial.
	awf_run --policy "$pol" --audit all --audit-log "$TEST_TMP/audit.jsonl" -- sh -c "
		$PY $PROBE listen 127.0.0.1 $port --count 1 --ready-file $ready >/dev/null 2>&1 &
		i=0; while [ ! -e $ready ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i + 1)); done
		$PY $PROBE tcp 127.0.0.1 $port
		${DIGT[*]} +short @$DNS4 allowed.test
		$PY $PROBE tcp $BLOCKED4 80; wait"
	assert_contains "$AWF_OUT" "ok hello from 127.0.0.1:$port" "the sandbox's own loopback"
	assert_le 1 "$(audit_count "$TEST_TMP/audit.jsonl" '.verdict == "redirect"')" "redirect records in the log"
	assert_le 1 "$(audit_count "$TEST_TMP/audit.jsonl" '.verdict == "allow" and .reason == "loopback"')" "loopback records in the log"
	assert_eq "awf-bpf: summary: 1 denied (0 domains, 1 destination)" "$(summary_lines | head -n 1)" "summary head"
	assert_not_contains "$(summary_lines)" "127.0.0.1" "summary"
	assert_not_contains "$(summary_lines)" ":53" "summary"
}

# Follow a log while its sandbox runs: FOLLOW_OUT, FOLLOW_RC.
follow_bg() {
	"$AWF" logs --follow "$@" >"$TEST_TMP/follow.out" 2>&1 &
	FOLLOW_PID=$!
	BG_PIDS+=("$FOLLOW_PID")
}

follow_wait() { # tenths of a second
	local i
	for i in $(seq 1 "$1"); do
		alive "$FOLLOW_PID" || break
		sleep 0.1
	done
	alive "$FOLLOW_PID" && fail "logs --follow still runs after its sandbox ended: $(cat "$TEST_TMP/follow.out")"
	wait "$FOLLOW_PID"
	FOLLOW_RC=$?
	FOLLOW_OUT=$(cat "$TEST_TMP/follow.out")
	log "follow (exit $FOLLOW_RC): $FOLLOW_OUT"
}

test_audit_logs_follow_until_the_end() {
	local pol audit=$TEST_TMP/audit.jsonl go=$TEST_TMP/go
	pol=$(policy p '')
	# Started before the file exists: it waits for it.
	follow_bg "$audit"
	awf_run --policy "$pol" --audit-log "$audit" -- sh -c "
		$PY $PROBE tcp $BLOCKED4 80 >/dev/null
		sleep 1
		$PY $PROBE tcp $BLOCKED4 443 >/dev/null; true"
	follow_wait 50
	assert_eq 0 "$FOLLOW_RC" "exit status of logs --follow"
	assert_contains "$FOLLOW_OUT" "denied tcp $BLOCKED4:80 from pid"
	assert_contains "$FOLLOW_OUT" "denied tcp $BLOCKED4:443 from pid"
	assert_contains "$FOLLOW_OUT" "end: exit status 0"
	# A sandbox id: its own log, found through its pins.
	awf_paused follow_sandbox "$PY $PROBE tcp $BLOCKED4 8080 >/dev/null" --policy "$pol" --audit-log "$TEST_TMP/second.jsonl"
	follow_wait 50
	assert_eq 0 "$FOLLOW_RC" "exit status of logs --follow $SANDBOX_ID"
	assert_contains "$FOLLOW_OUT" "$SANDBOX_ID denied tcp $BLOCKED4:8080 from pid"
	assert_contains "$FOLLOW_OUT" "$SANDBOX_ID end: exit status 0"
}

follow_sandbox() {
	follow_bg "$SANDBOX_ID"
	sleep 0.5
}

test_audit_logs_follow_a_killed_sandbox() {
	local pol audit=$TEST_TMP/audit.jsonl snap dead
	pol=$(policy p '')
	snap=$TEST_TMP/state-before
	awf_state_snapshot | sort >"$snap"
	at_exit "awf_remove_leftovers '$snap'"
	"$AWF" run --policy "$pol" --audit-log "$audit" -- sh -c "$PY $PROBE tcp $BLOCKED4 80; sleep 20" >/dev/null 2>&1 &
	dead=$!
	BG_PIDS+=("$dead")
	wait_file "$AWF_BPFFS/run-$dead/counters" 50 || fail "run-$dead never pinned its maps"
	follow_bg "$audit"
	sleep 1
	alive "$FOLLOW_PID" || fail "logs --follow ended while its sandbox runs: $(cat "$TEST_TMP/follow.out")"
	# No end record will come: the pins of a dead awf-bpf end the follow.
	kill -KILL "$dead"
	follow_wait 30
	assert_eq 0 "$FOLLOW_RC" "exit status of logs --follow"
	assert_contains "$FOLLOW_OUT" "denied tcp $BLOCKED4:80 from pid"
	assert_not_contains "$FOLLOW_OUT" "end:"
}
