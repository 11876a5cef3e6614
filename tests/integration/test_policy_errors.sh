# shellcheck shell=bash
# A bad policy: exit 125, one line on stderr naming the file and the key
# path, the command never ran, nothing left behind (tests/run.sh checks).

# bad_policy_case NAME JSON NEEDLE...: run a marker-writing command under
# the policy; assert 125, one line naming the file and every NEEDLE.
bad_policy_case() {
	local name=$1 json=$2 pol marker=$TEST_TMP/ran-$1 needle lines
	shift 2
	pol=$(policy_file "$name" "$json")
	awf_run --policy "$pol" -- sh -c "touch $marker"
	assert_eq 125 "$AWF_RC" "exit status with policy $name"
	assert_file_absent "$marker" "marker of the command (it must never run)"
	lines=$(printf '%s\n' "$AWF_ERR" | sed '/^[[:space:]]*$/d' | wc -l)
	assert_eq 1 "$lines" "lines on stderr for policy $name"
	assert_contains "$AWF_ERR" "$pol" "the error names the file"
	for needle in "$@"; do
		assert_contains "$AWF_ERR" "$needle" "the error for policy $name"
	done
	# `policy check` says the same.
	awf policy check "$pol"
	assert_eq 125 "$AWF_RC" "awf-bpf policy check $name"
	assert_contains "$AWF_ERR" "$pol" "policy check names the file"
}

test_policy_bad_json() {
	bad_policy_case bad-json '{"version": 1, "allow_cidrs": ["198.18.0.10/32",'
}

test_policy_not_an_object() {
	bad_policy_case not-object '["198.18.0.10/32"]'
}

test_policy_unknown_key() {
	bad_policy_case unknown-key "{\"version\": 1, \"dns_servers\": [\"$DNS4\"], \"allow_cidr\": [\"198.18.0.10/32\"]}" \
		allow_cidr
}

test_policy_unknown_nested_key() {
	bad_policy_case unknown-nested "{\"version\": 1, \"dns_servers\": [\"$DNS4\"], \"allow_cidrs\": [{\"cidr\": \"198.18.0.10/32\", \"port\": [80]}]}" \
		"allow_cidrs[0]"
}

test_policy_bad_cidr() {
	bad_policy_case bad-cidr "{\"version\": 1, \"dns_servers\": [\"$DNS4\"], \"allow_cidrs\": [\"198.18.0.300/32\"]}" \
		"allow_cidrs[0]"
	bad_policy_case bad-prefix "{\"version\": 1, \"dns_servers\": [\"$DNS4\"], \"allow_cidrs\": [\"198.18.0.10/32\", \"198.18.0.0/33\"]}" \
		"allow_cidrs[1]"
	bad_policy_case bad-cidr6 "{\"version\": 1, \"dns_servers\": [\"$DNS4\"], \"allow_cidrs\": [{\"cidr\": \"fd42:a0f0::zz/64\"}]}" \
		"allow_cidrs[0]"
}

test_policy_bad_port() {
	bad_policy_case bad-port "{\"version\": 1, \"dns_servers\": [\"$DNS4\"], \"allow_cidrs\": [{\"cidr\": \"198.18.0.10/32\", \"ports\": [70000]}]}" \
		"allow_cidrs[0].ports[0]"
	bad_policy_case bad-range "{\"version\": 1, \"dns_servers\": [\"$DNS4\"], \"allow_cidrs\": [{\"cidr\": \"198.18.0.10/32\", \"ports\": [80, \"9001-9000\"]}]}" \
		"allow_cidrs[0].ports[1]"
	bad_policy_case bad-default-port "{\"version\": 1, \"dns_servers\": [\"$DNS4\"], \"ports\": [\"http\"]}" \
		"ports[0]"
}

test_policy_bad_version() {
	bad_policy_case bad-version "{\"version\": 2, \"dns_servers\": [\"$DNS4\"]}" version
}

test_policy_bad_values() {
	bad_policy_case bad-localhost "{\"version\": 1, \"dns_servers\": [\"$DNS4\"], \"localhost\": \"maybe\"}" localhost
	bad_policy_case bad-proxy "{\"version\": 1, \"dns_servers\": [\"$DNS4\"], \"proxy\": \"$PROXY4\"}" proxy
	bad_policy_case bad-dns "{\"version\": 1, \"dns_servers\": [\"not-an-address\"]}" "dns_servers[0]"
	bad_policy_case bad-ipv6 "{\"version\": 1, \"dns_servers\": [\"$DNS4\"], \"ipv6\": \"no\"}" ipv6
	bad_policy_case bad-domain "{\"version\": 1, \"dns_servers\": [\"$DNS4\"], \"allow_domains\": [\"ok.test\", \"bad domain..test\"]}" "allow_domains[1]"
}

test_policy_missing_file() {
	local marker=$TEST_TMP/ran
	awf_run --policy "$TEST_TMP/no-such-policy.json" -- sh -c "touch $marker"
	assert_eq 125 "$AWF_RC" "exit status with a missing policy file"
	assert_file_absent "$marker" "marker of the command"
	assert_contains "$AWF_ERR" "$TEST_TMP/no-such-policy.json" "the error names the file"
}

test_policy_bad_flags() {
	local marker=$TEST_TMP/ran flag
	for flag in "--allow-cidr=198.18.0.999/32" "--allow-cidr=198.18.0.10/32:99999" \
		"--localhost=maybe" "--proxy=not-a-host" "--dns-servers=nowhere" "--timeout=soon"; do
		awf_run --dns-servers "$DNS4" "${flag%%=*}" "${flag#*=}" -- sh -c "touch $marker"
		assert_eq 125 "$AWF_RC" "exit status with $flag"
		assert_file_absent "$marker" "marker of the command ($flag)"
		assert_contains "$AWF_ERR" "${flag%%=*}" "the error for $flag names the flag"
	done
}

test_policy_check_good() {
	local pol
	pol=$(policy p '"allow_cidrs": ["198.18.0.10/32", {"cidr": "fd42:a0f0::10/128", "ports": [8080, "9000-9001"]}],
		"localhost": {"mode": "sandbox", "ports": [5432]}, "ipv6": true, "allow_domains": ["allowed.test"], "ports": [80, 443]')
	awf policy check "$pol"
	assert_eq 0 "$AWF_RC" "awf-bpf policy check (good policy)"
	printf '%s\n' "$AWF_OUT" | jq -e . >/dev/null || fail "policy check output is not JSON: $AWF_OUT"
	assert_eq 1 "$(printf '%s\n' "$AWF_OUT" | jq '.version')" "normalized version"
	assert_contains "$(printf '%s\n' "$AWF_OUT" | jq -c '.dns_servers')" "$DNS4" "normalized dns_servers"
	assert_contains "$(printf '%s\n' "$AWF_OUT" | jq -c '.allow_cidrs')" "198.18.0.10/32" "normalized allow_cidrs"
	assert_contains "$(printf '%s\n' "$AWF_OUT" | jq -c '.allow_cidrs')" "fd42:a0f0::10/128" "normalized allow_cidrs"
	# The normalized output is itself a valid policy, and a fixed point.
	printf '%s\n' "$AWF_OUT" >"$TEST_TMP/normalized.json"
	local first=$AWF_OUT
	awf policy check "$TEST_TMP/normalized.json"
	assert_eq 0 "$AWF_RC" "policy check of the normalized policy"
	assert_eq "$first" "$AWF_OUT" "normalizing twice"
}

test_policy_example_files_are_valid() {
	local f n=0
	for f in "$ROOT"/policy/examples/*.json; do
		[ -e "$f" ] || continue
		awf policy check "$f"
		assert_eq 0 "$AWF_RC" "awf-bpf policy check $f"
		n=$((n + 1))
	done
	log "$n example policies checked"
	assert_lt 0 "$n" "number of policy/examples/*.json"
}

# A repeated key: json-c would keep the last one, here the wider one.
test_policy_duplicate_key() {
	bad_policy_case duplicate-key "{\"version\": 1, \"dns_servers\": [\"$DNS4\"], \"localhost\": \"deny\", \"localhost\": \"allow\"}" \
		'duplicate key "localhost"'
}

# refused_input_case WHAT FLAG PATH NEEDLE: exit 125 within 2 s, an error
# naming PATH and holding NEEDLE, the command never ran.
refused_input_case() {
	local what=$1 flag=$2 path=$3 needle=$4 marker=$TEST_TMP/ran-$1
	awf_run --dns-servers "$DNS4" "$flag" "$path" -- sh -c "touch $marker"
	assert_eq 125 "$AWF_RC" "exit status with $flag $what"
	assert_lt "$AWF_MS" 2000 "ms to refuse $flag $what"
	assert_file_absent "$marker" "marker of the command ($flag $what)"
	assert_contains "$AWF_ERR" "$path" "the error for $flag $what names it"
	assert_contains "$AWF_ERR" "$needle" "the error for $flag $what"
}

# A FIFO without a writer blocked open() forever; /dev/zero grew to
# gigabytes: both are refused at once, as a policy and as domain lists.
test_policy_input_not_regular() {
	local flag
	mkfifo "$TEST_TMP/fifo"
	for flag in --policy --allow-domains-file --block-domains-file; do
		refused_input_case fifo "$flag" "$TEST_TMP/fifo" \
			"$TEST_TMP/fifo: not a regular file"
		refused_input_case zero "$flag" /dev/zero \
			"/dev/zero: not a regular file"
	done
	truncate -s $((64 * 1024 * 1024 + 1)) "$TEST_TMP/huge.txt"
	refused_input_case huge --allow-domains-file "$TEST_TMP/huge.txt" \
		"larger than the limit of 64 MiB"
}

# Bytes that are not UTF-8 are shown escaped, never raw on the terminal.
test_policy_domains_file_bad_bytes() {
	printf 'ok.test\ncaf\351.test\n' >"$TEST_TMP/latin1.txt"
	refused_input_case latin1 --allow-domains-file "$TEST_TMP/latin1.txt" \
		"latin1.txt:2: caf\\xe9.test: "
	assert_not_contains "$AWF_ERR" $'\351' "the raw byte"
	printf 'ok.test\nb.test\0evil.test\n' >"$TEST_TMP/nul.txt"
	refused_input_case nul --block-domains-file "$TEST_TMP/nul.txt" \
		"nul.txt:2: contains a NUL byte"
}

test_policy_null() {
	bad_policy_case null-policy 'null' "expected a JSON object at the top level, not null"
}
