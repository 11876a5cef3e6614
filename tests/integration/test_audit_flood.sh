# shellcheck shell=bash
# A flood of denials: every one is either in the audit log or counted as
# lost, in the log ("lost" records), in the "end" record and on stderr.
# shellcheck source=../audit_lib.sh
. "$ROOT/tests/audit_lib.sh"

FLOOD=20000

test_audit_flood_loses_nothing_unreported() {
	local pol audit=$TEST_TMP/audit.jsonl logged lost lost_end counted
	pol=$(policy p "\"allow_cidrs\": [\"$ALLOWED4/32\"]")
	awf_run --policy "$pol" --audit-log "$audit" -- "$PY" -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
denied = 0
for _ in range($FLOOD):
    try:
        s.sendto(b'x', ('$BLOCKED4', $UDP_ECHO_PORT))
    except PermissionError:
        denied += 1
print(denied)"
	assert_eq "$FLOOD" "$AWF_OUT" "sendto calls refused"
	audit_validate "$audit"
	logged=$(audit_count "$audit" ".event == \"sendmsg\" and .verdict == \"deny\" and .dst == \"$BLOCKED4\" and .dport == $UDP_ECHO_PORT")
	lost=$(jq -s '[.[] | select(.event == "lost") | .count] | add // 0' "$audit")
	lost_end=$(jq -s '[.[] | select(.event == "end")][0].events_lost' "$audit")
	counted=$(jq -s '[.[] | select(.event == "end")][0].counters.sendmsg_denied' "$audit")
	log "$logged logged, $lost lost"
	assert_eq "$FLOOD" "$((logged + lost))" "denials logged + reported lost"
	assert_eq "$lost" "$lost_end" "events_lost of the end record"
	assert_eq "$FLOOD" "$counted" "sendmsg_denied of the end record"
	if [ "$lost" -gt 0 ]; then
		assert_contains "$AWF_ERR" "awf-bpf: $lost events lost (ring buffer full)" "stderr"
	else
		assert_not_contains "$AWF_ERR" "events lost" "stderr"
	fi
	# Every denial not lost has its stderr line.
	assert_eq "$logged" "$(printf '%s\n' "$AWF_ERR" | grep -cF "$(deny_prefix udp "$BLOCKED4:$UDP_ECHO_PORT")")" "denial lines on stderr"
	assert_contains "$(summary_lines)" "udp $BLOCKED4:$UDP_ECHO_PORT from pid"
}
