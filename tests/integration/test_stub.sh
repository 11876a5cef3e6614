# shellcheck shell=bash
# A host whose /etc/resolv.conf names only a local stub resolver on
# 127.0.0.53 (systemd-resolved, as on GitHub's Ubuntu runners) and lists
# no upstream servers of it elsewhere: awf-bpf forwards the sandbox's
# allowed queries to the stub from outside the sandbox, and the sandbox
# itself cannot reach the stub but through the filter. The "host" is a
# network namespace of this test with a dnsmasq of its own on 127.0.0.53
# (answering two names itself, forwarding nothing); awf-bpf runs there in
# a mount namespace whose /etc/resolv.conf names the stub (and where
# /run/systemd/resolve, if this machine has one, is an empty directory).

stub_up() {
	STUB_NS=awft-stub$$
	STUB_LOG=$TEST_TMP/stub.log
	ip netns add "$STUB_NS" || fail "ip netns add $STUB_NS"
	at_exit "ip netns del $STUB_NS"
	nsenter --net="/run/netns/$STUB_NS" ip link set lo up || fail "lo up in $STUB_NS"
	: >"$STUB_LOG"
	bg_start nsenter --net="/run/netns/$STUB_NS" dnsmasq --keep-in-foreground --conf-file=/dev/null \
		--user=root --group=root --pid-file= --no-resolv --no-hosts --local=/#/ \
		--listen-address=127.0.0.53 --bind-interfaces --log-queries --log-facility="$STUB_LOG" \
		--host-record="allowed.test,$ALLOWED4" --host-record="blocked.test,$BLOCKED4"
	for _ in $(seq 1 50); do
		nsenter --net="/run/netns/$STUB_NS" dig +short +time=1 +tries=1 @127.0.0.53 allowed.test 2>/dev/null |
			grep -qx "$ALLOWED4" && break
		sleep 0.1
	done
	grep -q 'query\[A\] allowed.test' "$STUB_LOG" || fail "the stub on 127.0.0.53 did not start: $(cat "$STUB_LOG")"
	: >"$STUB_LOG"
	printf 'nameserver 127.0.0.53\noptions edns0 trust-ad\n' >"$TEST_TMP/resolv.conf"
	mkdir -p "$TEST_TMP/empty"
	cat >"$TEST_TMP/awf-stub" <<EOF2
#!/bin/sh
exec nsenter --net=/run/netns/$STUB_NS unshare -m sh -c '
	mount --bind "\$0" /etc/resolv.conf || exit 99
	[ ! -d /run/systemd/resolve ] || mount --bind "$TEST_TMP/empty" /run/systemd/resolve || exit 99
	exec "\$@"' "$TEST_TMP/resolv.conf" "$AWF" "\$@"
EOF2
	chmod +x "$TEST_TMP/awf-stub"
	AWF=$TEST_TMP/awf-stub
}

test_stub_resolver_on_127_0_0_53() {
	stub_up
	awf_run --allow-domains allowed.test -- sh -c '
		echo "allowed=$(getent hosts allowed.test | cut -d" " -f1)"
		echo "blocked=$(getent hosts blocked.test | cut -d" " -f1)"
		echo "direct=$(dig +short +time=2 +tries=1 @127.0.0.53 blocked.test)"'
	assert_eq 0 "$AWF_RC" "exit status"
	assert_contains "$AWF_OUT" "allowed=$ALLOWED4" "allowed.test through the filter and the stub"
	assert_contains "$AWF_OUT" "blocked=" "the line for blocked.test"
	assert_not_contains "$AWF_OUT" "blocked=$BLOCKED4" "blocked.test"
	assert_not_contains "$AWF_OUT" "direct=$BLOCKED4" "a query sent straight to 127.0.0.53"
	assert_contains "$AWF_ERR" "blocked.test" "the denial on stderr"
	# The stub saw the allowed name, asked by awf-bpf, and never the other.
	grep -q 'query\[A\] allowed.test from ' "$STUB_LOG" ||
		fail "the stub got no query for allowed.test from awf-bpf: $(cat "$STUB_LOG")"
	grep -q 'blocked.test' "$STUB_LOG" && fail "blocked.test reached the stub: $(cat "$STUB_LOG")"
	return 0
}
