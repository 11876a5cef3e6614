# shellcheck shell=bash
# tests/audit_lib.sh - helpers of the audit trail tests
# (tests/integration/test_audit_*.sh source it after tests/lib.sh).

AUDIT_SCHEMA=$ROOT/docs/audit.schema.json
VALIDATE=$ROOT/tests/tools/validate_audit.py
DIGT=(dig +time=3 +tries=1)

# audit_validate FILE: every line is valid under docs/audit.schema.json.
audit_validate() {
	local out
	out=$("$PY" "$VALIDATE" "$AUDIT_SCHEMA" "$1" 2>&1) ||
		fail "audit log $1 does not validate against the schema: $out"
	log "schema: $out"
}

# audit_count FILE JQ_FILTER: how many records match (select(FILTER)).
audit_count() {
	jq -c "select($2)" "$1" | wc -l
}

# summary_lines: the end-of-run summary lines of the last run's stderr
# (the per-denial lines are "awf-bpf: denied ...", the summary's are not).
summary_lines() {
	printf '%s\n' "$AWF_ERR" | grep -E '^awf-bpf: (summary:|  |to allow these)'
}

# awf_paused HOOK SCRIPT RUN_ARGS...: awf-bpf run RUN_ARGS -- sh -c SCRIPT
# in the background; once SCRIPT is done the workload waits, HOOK (a shell
# function) runs from outside the sandbox, then the workload ends. Sets
# SANDBOX_ID (run-<pid>), AWF_PID, AWF_RC, AWF_OUT, AWF_ERR. Bounded: the
# workload waits 30 s at most, the script must be done within 20 s.
awf_paused() {
	local hook=$1 script=$2 ready=$TEST_TMP/paused.ready go=$TEST_TMP/paused.go
	shift 2
	rm -f "$ready" "$go"
	[ -x "$AWF" ] || fail "$AWF is not built (make all)"
	log "awf-bpf run $* -- (paused after) $script"
	"$AWF" run "$@" -- sh -c "$script
touch '$ready'
i=0
while [ ! -e '$go' ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done" \
		>"$TEST_TMP/awf.out" 2>"$TEST_TMP/awf.err" </dev/null &
	AWF_PID=$!
	BG_PIDS+=("$AWF_PID")
	SANDBOX_ID=run-$AWF_PID
	if wait_file "$ready" 200; then
		"$hook"
	else
		log "the workload never got to its pause"
	fi
	touch "$go"
	wait "$AWF_PID"
	AWF_RC=$?
	AWF_OUT=$(cat "$TEST_TMP/awf.out")
	AWF_ERR=$(cat "$TEST_TMP/awf.err")
	log "exit $AWF_RC"
	[ -z "$AWF_OUT" ] || printf '%s\n' "$AWF_OUT" | sed 's/^/#   out: /'
	[ -z "$AWF_ERR" ] || printf '%s\n' "$AWF_ERR" | head -n 60 | sed 's/^/#   err: /'
}

# A HOOK for awf_paused: the sandbox seen from outside.
paused_dump() {
	DUMP=$("$AWF" dump --json "$SANDBOX_ID" 2>"$TEST_TMP/dump.err") ||
		log "dump failed: $(cat "$TEST_TMP/dump.err")"
	DUMP_TEXT=$("$AWF" dump "$SANDBOX_ID" 2>&1)
	DUMP_ALL=$("$AWF" dump --json 2>&1)
	STATUS=$("$AWF" status 2>&1)
	STATUS_JSON=$("$AWF" status --json 2>&1)
	PIN_FILES=$(ls "$AWF_BPFFS/$SANDBOX_ID" 2>&1 | LC_ALL=C sort | tr '\n' ' ')
}

# dump_get JQ: a value of the one sandbox in $DUMP.
dump_get() {
	jq -c ".sandboxes[0] | $1" <<<"$DUMP"
}

# reason_case CODE TEXT SCRIPT RUN_ARGS...: SCRIPT is denied for CODE.
# Checks the audit log (a deny record with reason CODE; every line valid),
# the dump taken during the run (denied_by_reason.CODE), the summary on
# stderr and `logs summary` of the log (a line ending in ": TEXT (...)").
# Leaves AUDIT (the log file), DUMP and the run's output.
reason_case() {
	local code=$1 text=$2 script=$3 n line
	shift 3
	AUDIT=$TEST_TMP/audit.jsonl
	awf_paused paused_dump "$script" --audit-log "$AUDIT" "$@"
	log "audit: $(cat "$AUDIT" 2>/dev/null)"
	audit_validate "$AUDIT"
	n=$(audit_count "$AUDIT" ".verdict == \"deny\" and .reason == \"$code\" and .sandbox == \"$SANDBOX_ID\"")
	assert_le 1 "$n" "deny records with reason $code in the audit log"
	assert_le 1 "$(dump_get ".counters.denied_by_reason.$code // 0")" \
		"denied_by_reason.$code in the dump taken during the run"
	line=$(summary_lines | grep -F -- ": $text (")
	[ -n "$line" ] || fail "summary on stderr: expected a line with ': $text (', got: $(summary_lines)"
	log "summary line: $line"
	"$AWF" logs summary "$AUDIT" --format pretty >"$TEST_TMP/logs-summary.out" 2>&1 ||
		fail "awf-bpf logs summary failed: $(cat "$TEST_TMP/logs-summary.out")"
	assert_contains "$(cat "$TEST_TMP/logs-summary.out")" ": $text (" "logs summary of the audit log"
}
