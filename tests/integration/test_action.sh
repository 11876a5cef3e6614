# shellcheck shell=bash
# The GitHub Actions wrapper (action.yml, deploy/github/awf-bpf-action.sh),
# run here as a runner would run the composite action: each step of
# action.yml, its ${{ inputs.* }} filled in, its env set, with the
# variables GitHub sets (RUNNER_TEMP, GITHUB_WORKSPACE,
# GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, GITHUB_ACTION_PATH) pointing into
# TEST_TMP. No network: the binary comes from a local path, or from a
# file:// release URL with its SHA-256.

# action_steps INPUTS_JSON: one line per step of action.yml, as JSON
# {"id":..., "run":..., "env":{...}} with the inputs (or their defaults)
# in place.
action_steps() {
	"$PY" - "$ROOT/action.yml" "$1" <<'PY'
import json, re, sys, yaml
action = yaml.safe_load(open(sys.argv[1]))
given = json.loads(sys.argv[2])
inputs = {k: str(given.get(k, v.get("default", ""))) for k, v in action["inputs"].items()}
for k in given:
    if k not in inputs:
        sys.exit("no input %s in action.yml" % k)
for k, v in action["inputs"].items():
    if v.get("required") and not inputs[k]:
        sys.exit("input %s is required" % k)
def fill(s):
    return re.sub(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", lambda m: inputs[m.group(1)], str(s))
assert action["runs"]["using"] == "composite"
for step in action["runs"]["steps"]:
    assert step["shell"] == "bash"
    print(json.dumps({"id": step.get("id", ""), "run": fill(step["run"]),
                      "env": {k: fill(v) for k, v in step.get("env", {}).items()}}))
PY
}

# run_action INPUTS_JSON: every step in order, as GitHub does (bash -e,
# the step's env); stops at the first failing step. ACTION_RC: its status.
run_action() {
	local step
	export RUNNER_TEMP=$TEST_TMP/runner-temp GITHUB_WORKSPACE=$TEST_TMP/workspace \
		GITHUB_STEP_SUMMARY=$TEST_TMP/step-summary.md GITHUB_ACTION_PATH=$ROOT
	mkdir -p "$RUNNER_TEMP" "$GITHUB_WORKSPACE"
	: >"$GITHUB_STEP_SUMMARY"
	action_steps "$1" >"$TEST_TMP/steps.jsonl" || fail "reading action.yml: $(cat "$TEST_TMP/steps.jsonl")"
	ACTION_RC=0
	while IFS= read -r step; do
		GITHUB_OUTPUT=$TEST_TMP/output-$(jq -r .id <<<"$step")
		: >"$GITHUB_OUTPUT"
		log "step: $(jq -r .run <<<"$step")"
		(
			export GITHUB_OUTPUT
			eval "$(jq -r '.env | to_entries[] | "export \(.key)=\(.value | @sh)"' <<<"$step")"
			exec bash -e -c "$(jq -r .run <<<"$step")"
		) >>"$TEST_TMP/action.out" 2>&1 </dev/null || ACTION_RC=$?
		[ "$ACTION_RC" = 0 ] || break
	done <"$TEST_TMP/steps.jsonl"
	log "action exit $ACTION_RC; output: $(cat "$TEST_TMP/action.out")"
}

test_action_runs_command_under_policy_and_sums_up() {
	local pol
	pol=$(policy p "\"allow_cidrs\": [\"$ALLOWED4/32\"]")
	run_action "$(jq -cn --arg bin "$AWF" --arg pol "$pol" --arg run "
		$PY $PROBE tcp $ALLOWED4 80 --timeout 2 >allowed.txt
		$PY $PROBE tcp $BLOCKED4 80 --timeout 2 >blocked.txt || true
		pwd >where.txt
		exit 3" '{binary: $bin, policy: $pol, run: $run}')"
	assert_eq 3 "$ACTION_RC" "the action's status (the command's)"
	assert_eq "exit-code=3" "$(cat "$TEST_TMP/output-run")" "the exit-code output"
	assert_eq "$TEST_TMP/workspace" "$(cat "$TEST_TMP/workspace/where.txt")" "the command's directory (GITHUB_WORKSPACE)"
	assert_ok "$(cat "$TEST_TMP/workspace/allowed.txt")" "hello from $ALLOWED4:80" "the allowed host"
	assert_eperm_fast "$(cat "$TEST_TMP/workspace/blocked.txt")" "the blocked host"
	assert_contains "$(cat "$TEST_TMP/step-summary.md")" "$BLOCKED4" "the step summary names the denied destination"
	assert_contains "$(cat "$TEST_TMP/step-summary.md")" "--allow-cidr $BLOCKED4/32:80" "the step summary gives the fix"
	assert_contains "$(cat "$TEST_TMP/step-summary.md")" "<details>" "markdown for the step summary"
	assert_contains "$(cat "$TEST_TMP/action.out")" "installed at $TEST_TMP/runner-temp/awf-bpf/awf-bpf" "the install step"
}

test_action_release_url_checks_sha256() {
	local sum url
	sum=$(sha256sum "$AWF" | cut -d' ' -f1)
	url=file://$AWF
	run_action "$(jq -cn --arg url "$url" '{"release-url": $url, sha256: "0000", run: "true"}')"
	assert_ne 0 "$ACTION_RC" "a binary with another SHA-256"
	assert_contains "$(cat "$TEST_TMP/action.out")" "SHA-256 $sum, expected 0000"
	assert_file_absent "$TEST_TMP/runner-temp/awf-bpf/awf-bpf" "the installed binary"
	run_action "$(jq -cn --arg url "$url" '{"release-url": $url, run: "true"}')"
	assert_ne 0 "$ACTION_RC" "a release URL without sha256"
	assert_contains "$(cat "$TEST_TMP/action.out")" "release-url needs sha256"
	run_action "$(jq -cn --arg url "$url" --arg sum "$sum" '{"release-url": $url, sha256: $sum, "allow-domains": "allowed.test", run: "true"}')"
	assert_eq 0 "$ACTION_RC" "the right SHA-256"
	assert_contains "$(cat "$TEST_TMP/step-summary.md")" "0 denied" "the step summary of a clean run"
}

# awf-bpf itself fails (a bad policy): exit 125, the command never ran,
# and the summary says so.
test_action_bad_policy_exit_125() {
	local pol
	pol=$(policy_file bad '{"version": 1, "alow_domains": []}')
	run_action "$(jq -cn --arg bin "$AWF" --arg pol "$pol" '{binary: $bin, policy: $pol, run: "touch ran"}')"
	assert_eq 125 "$ACTION_RC" "the action's status"
	assert_file_absent "$TEST_TMP/workspace/ran" "a file the command would have made"
	assert_contains "$(cat "$TEST_TMP/step-summary.md")" "could not set up the sandbox"
}
