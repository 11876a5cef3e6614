# shellcheck shell=bash
# Escape battery, this host: services on loopback, on the host's own
# addresses and on the unspecified address, which a connection reaches
# without ever leaving the machine. Under "localhost": "sandbox" (the
# default) the sandbox reaches only the ports it serves itself.
# shellcheck source=../tools/escape/lib.sh
. "$ROOT/tests/tools/escape/lib.sh"

# A host service on 127.0.0.1 (TCP and UDP) and on [::1], not allowed by
# the policy: a local database, an agent's credentials helper...
esc_loopback_host_service() {
	local pol q r
	q=$(free_port)
	r=$(free_port)
	esc_host_servers "http:127.0.0.1:$q" "udp:127.0.0.1:$q" "http:[::1]:$r"
	pol=$(esc_policy_allowed_host)
	esc_sh "$pol" "$PY $PROBE tcp 127.0.0.1 $q; $PY $PROBE udp 127.0.0.1 $q; $PY $PROBE tcp ::1 $r"
	esc_nth_failed 1 "tcp 127.0.0.1:$q" EPERM
	esc_nth_failed 2 "udp 127.0.0.1:$q" EPERM
	esc_nth_failed 3 "tcp [::1]:$r" EPERM
	esc_host_untouched
	esc_audit_deny 127.0.0.1 "$q" loopback connect
	esc_audit_deny 127.0.0.1 "$q" loopback sendmsg
	esc_audit_deny ::1 "$r" loopback connect
}
test_escape_loopback_host_service() { escape_both esc_loopback_host_service; }

# Port squatting: the host serves 127.0.0.1:Q. The sandbox binds port Q
# on ANOTHER local address ([::1], 127.0.0.2, the host's own address),
# which makes Q one of "the ports the sandbox serves", then connects to
# the host's 127.0.0.1:Q. Binding a port must not open the host's service
# on that port.
esc_loopback_port_squatting() {
	local pol q q2 got=() case bind conn port
	q=$(free_port)
	q2=$(free_port)
	esc_host_servers "http:127.0.0.1:$q" "http:$AWFT_HOST4:$q2"
	pol=$(esc_policy_allowed_host)
	for case in "::1 $q 127.0.0.1" "127.0.0.2 $q 127.0.0.1" "127.0.0.1 $q2 $AWFT_HOST4"; do
		read -r bind port conn <<<"$case"
		esc_run "$pol" "$PY" "$ESC_SOCK" --timeout 2 squat "$bind" "$port" "$conn"
		esc_failed connect-before EPERM
		esc_worked bind
		case $(esc_line connect-after) in
		"connect-after ok"*) got+=("bound $bind:$port, then reached the host's $conn:$port: '$(esc_line connect-after)'") ;;
		esac
	done
	[ "${#got[@]}" = 0 ] || fail "port squatting opened host services: $(printf '%s; ' "${got[@]}")"
	esc_host_untouched
	esc_audit_deny 127.0.0.1 "$q" loopback connect
	esc_audit_deny "$AWFT_HOST4" "$q2" loopback connect
}
test_escape_loopback_port_squatting() { escape_both esc_loopback_port_squatting; }

# Port squatting through SO_REUSEPORT: a host service listens on
# 127.0.0.1:Q with SO_REUSEPORT, run by the same user as the workload (root
# for the root run, nobody for the user run: the kernel lets only the same
# uid join a group). The sandbox joins the group with listeners of its
# own, so that a socket of the sandbox now "serves" 127.0.0.1:Q; the
# kernel spreads new connections over the group by their source port, and
# some land on the host's service. Connections to a port the sandbox
# shares with someone else must not count as its own.
# esc_reuseport_host_service PORT: the host's service on 127.0.0.1:PORT
# with SO_REUSEPORT, as the run's user; its log is ESC_REUSEPORT_LOG.
esc_reuseport_host_service() {
	ESC_REUSEPORT_LOG=$TEST_TMP/reuseport-$ESC_AS.log
	local as=()
	[ "$ESC_AS" = root ] || as=(setpriv --reuid "$ESC_UID" --regid "$ESC_GID" --clear-groups --)
	"${as[@]}" "$PY" "$ESC_SOCK" --hold 30 --ready-file "$ESC_DIR/host.ready" reuseport-serve 127.0.0.1 "$1" \
		>"$ESC_REUSEPORT_LOG" 2>&1 &
	BG_PIDS+=($!)
	wait_file "$ESC_DIR/host.ready" 50 || fail "the host's SO_REUSEPORT service did not start: $(cat "$ESC_REUSEPORT_LOG")"
}

esc_loopback_reuseport_squatting() {
	local pol q
	q=$(free_port)
	esc_reuseport_host_service "$q"
	pol=$(esc_policy_allowed_host)
	esc_run "$pol" "$PY" "$ESC_SOCK" reuseport-squat 127.0.0.1 "$q"
	esc_failed connect-before EPERM
	esc_audit_deny 127.0.0.1 "$q" loopback connect
	esc_failed reach-host
	assert_not_contains "$(cat "$ESC_REUSEPORT_LOG")" "accepted" "connections the host's service accepted"
}
test_escape_loopback_reuseport_squatting() { escape_both esc_loopback_reuseport_squatting; }

# The same through the i386 ABI: setsockopt(SO_REUSEPORT) made with int
# $0x80 (nr 366) on a socket of the 64-bit ABI. The kernel runs no
# cgroup/setsockopt program for 32-bit (compat) setsockopt calls, so the
# sandbox's socket joins the group unseen.
esc_loopback_reuseport_compat_setsockopt() {
	local pol q bin
	bin=$(esc_cc compat32)
	q=$(free_port)
	esc_reuseport_host_service "$q"
	pol=$(esc_policy_allowed_host)
	esc_run "$pol" "$bin" reuseport-squat 127.0.0.1 "$q"
	esc_failed connect-before EPERM
	case $(esc_line setsockopt32) in
	"setsockopt32 err "*) log "the i386 setsockopt() was refused: $(esc_line setsockopt32)" ;;
	*) esc_failed reach-host ;;
	esac
	assert_not_contains "$(cat "$ESC_REUSEPORT_LOG")" "accepted" "connections the host's service accepted"
}
test_escape_loopback_reuseport_compat_setsockopt() {
	esc_require_i386_abi
	escape_both esc_loopback_reuseport_compat_setsockopt
}

# The host's own non-loopback addresses (198.18.0.1, fd42:a0f0::1) reach
# services bound to all addresses without leaving the machine: they get
# the loopback rules, not the CIDR rules.
esc_host_own_address() {
	local pol q r
	q=$(free_port)
	r=$(free_port)
	esc_host_servers "http:0.0.0.0:$q" "http:[::]:$r"
	# Even a policy that allows the whole test subnet.
	pol=$(policy "p-$ESC_AS" '"allow_cidrs": ["198.18.0.0/24", "fd42:a0f0::/64"]')
	esc_sh "$pol" "$PY $PROBE tcp $AWFT_HOST4 $q; $PY $PROBE tcp $AWFT_HOST6 $r"
	esc_nth_failed 1 "tcp $AWFT_HOST4:$q" EPERM
	esc_nth_failed 2 "tcp [$AWFT_HOST6]:$r" EPERM
	esc_host_untouched
	esc_audit_deny "$AWFT_HOST4" "$q" loopback connect
	esc_audit_deny "$AWFT_HOST6" "$r" loopback connect
}
test_escape_host_own_address() { escape_both esc_host_own_address; }

# connect() to 0.0.0.0 and to [::] means "this host" to the kernel: they
# reach services on any address.
esc_unspecified_address() {
	local pol q r
	q=$(free_port)
	r=$(free_port)
	esc_host_servers "http:0.0.0.0:$q" "http:[::]:$r"
	pol=$(policy "p-$ESC_AS" '"allow_cidrs": ["0.0.0.0/0", "::/0"]')
	esc_sh "$pol" "$PY $PROBE tcp 0.0.0.0 $q; $PY $PROBE tcp :: $r"
	esc_nth_failed 1 "tcp 0.0.0.0:$q" EPERM
	esc_nth_failed 2 "tcp [::]:$r" EPERM
	esc_host_untouched
	esc_audit_deny 0.0.0.0 "$q" loopback connect
	esc_audit_deny :: "$r" loopback connect
}
test_escape_unspecified_address() { escape_both esc_unspecified_address; }

# Other spellings of loopback: 127.1.2.3 (all of 127/8 is loopback) and
# ::ffff:127.0.0.1 (v4-mapped) to a service on all addresses.
esc_loopback_aliases() {
	local pol q
	q=$(free_port)
	esc_host_servers "http:0.0.0.0:$q"
	pol=$(esc_policy_allowed_host)
	esc_sh "$pol" "$PY $PROBE tcp 127.1.2.3 $q; $PY $PROBE v4mapped 127.0.0.1 $q; $PY $PROBE tcp 0.1.2.3 $q"
	esc_nth_failed 1 "tcp 127.1.2.3:$q" EPERM
	esc_nth_failed 2 "tcp [::ffff:127.0.0.1]:$q" EPERM
	esc_nth_failed 3 "tcp 0.1.2.3:$q" EPERM EINVAL ENETUNREACH
	esc_host_untouched
	esc_audit_deny 127.1.2.3 "$q" loopback connect
	esc_audit_deny 127.0.0.1 "$q" loopback connect
}
test_escape_loopback_aliases() { escape_both esc_loopback_aliases; }
