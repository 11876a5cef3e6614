# shellcheck shell=bash
# Escape battery, socket families and protocols whose traffic the address
# hooks (connect/sendmsg) would not see: ICMP, raw IP, packet sockets,
# AF_XDP, SCTP, MPTCP, UDP-Lite, vsock, netlink, tun, io_uring, and the
# 32-bit syscall ABI around the seccomp filter.
# shellcheck source=../tools/escape/lib.sh
. "$ROOT/tests/tools/escape/lib.sh"

# esc_socket_refused STEP_PREFIX: the line "<prefix>socket err EPERM ..."
esc_ping_sockets_for_everyone() {
	local old
	old=$(sysctl -n net.ipv4.ping_group_range | tr '\t' ' ')
	at_exit "sysctl -qw net.ipv4.ping_group_range='$old'"
	# Without this the kernel itself refuses ICMP sockets (EACCES) before
	# awf-bpf is asked: open them to every group, root and nobody alike.
	sysctl -qw net.ipv4.ping_group_range="0 2147483647" || fail "cannot set net.ipv4.ping_group_range"
}

# ICMP echo over ICMP datagram ("ping") sockets, v4 and v6, with the kernel
# letting every group open them: sock_create admits only TCP and UDP.
esc_icmp_ping_socket() {
	local pol before4 before6
	esc_ping_sockets_for_everyone
	pol=$(esc_policy_allowed_host)
	before4=$(world_icmp_echos 4)
	before6=$(world_icmp_echos 6)
	esc_sniff "$BLOCKED4" "$BLOCKED6" "$ALLOWED4"
	esc_sh "$pol" "$PY $PROBE icmp $BLOCKED4; $PY $PROBE icmp $BLOCKED6; $PY $PROBE icmp $ALLOWED4"
	esc_nth_failed 1 "icmp socket to $BLOCKED4" EPERM
	esc_nth_failed 2 "icmpv6 socket to $BLOCKED6" EPERM
	esc_nth_failed 3 "icmp socket to $ALLOWED4 (an allowed host: ICMP is not TCP/UDP)" EPERM
	esc_nothing_reached "any host (ICMP)"
	assert_eq "$before4" "$(world_icmp_echos 4)" "ICMP echo requests received by the world"
	assert_eq "$before6" "$(world_icmp_echos 6)" "ICMPv6 echo requests received by the world"
	esc_audit_socket_deny icmp
	esc_audit_socket_deny icmpv6
}
test_escape_icmp_ping_socket() { escape_both esc_icmp_ping_socket; }

# /usr/bin/ping (file capability cap_net_raw): no_new_privs keeps the
# capability from being granted, and its ICMP socket is refused.
esc_ping_binary() {
	local pol before
	pol=$(esc_policy_allowed_host)
	before=$(world_icmp_echos 4)
	esc_sniff "$BLOCKED4" "$BLOCKED6"
	esc_sh "$pol" "ping -c 1 -W 1 $BLOCKED4 >/dev/null 2>&1; echo \"ping=\$?\"; ping -6 -c 1 -W 1 $BLOCKED6 >/dev/null 2>&1; echo \"ping6=\$?\""
	assert_not_contains "$AWF_OUT" "ping=0" "ping $BLOCKED4"
	assert_not_contains "$AWF_OUT" "ping6=0" "ping -6 $BLOCKED6"
	esc_nothing_reached "the blocked host (ping)"
	assert_eq "$before" "$(world_icmp_echos 4)" "ICMP echo requests received by the world"
}
test_escape_ping_binary() { escape_both esc_ping_binary; }

# Raw IP sockets (ICMP, TCP, IPPROTO_RAW with IP_HDRINCL, IPv6): they
# need CAP_NET_RAW, which is dropped; a raw packet would also meet the
# backstop.
esc_raw_sockets() {
	local pol before
	pol=$(esc_policy_allowed_host)
	before=$(world_icmp_echos 4)
	esc_sniff "$BLOCKED4" "$BLOCKED6"
	esc_sh "$pol" "$PY $PROBE raw $BLOCKED4; $PY $PROBE raw $BLOCKED6
		$PY $ESC_SOCK socket inet raw raw --sendto $BLOCKED4 0 | sed 's/^/hdrincl-/'
		$PY $ESC_SOCK socket inet raw tcp --sendto $BLOCKED4 0 | sed 's/^/rawtcp-/'"
	esc_nth_failed 1 "raw icmp to $BLOCKED4" EPERM
	esc_nth_failed 2 "raw icmpv6 to $BLOCKED6" EPERM
	esc_failed hdrincl-socket EPERM
	esc_failed rawtcp-socket EPERM
	esc_nothing_reached "the blocked host (raw IP)"
	assert_eq "$before" "$(world_icmp_echos 4)" "ICMP echo requests received by the world"
}
test_escape_raw_sockets() { escape_both esc_raw_sockets; }

# AF_PACKET (SOCK_RAW and SOCK_DGRAM): frames written straight to the
# veth bypass the IP stack and with it every cgroup hook, the backstop
# included. Refused by seccomp, and by the missing CAP_NET_RAW.
esc_af_packet() {
	local pol
	pol=$(esc_policy_allowed_host)
	esc_sniff "$BLOCKED4"
	esc_sh "$pol" "$PY $ESC_SOCK socket packet raw all --frame-to $BLOCKED4 $AWFT_HOST_IF | sed 's/^/raw-/'
		$PY $ESC_SOCK socket packet dgram ip --frame-to $BLOCKED4 $AWFT_HOST_IF | sed 's/^/dgram-/'"
	esc_failed raw-socket EPERM
	esc_failed dgram-socket EPERM
	esc_nothing_reached "the blocked host (AF_PACKET)"
	esc_no_server_hits "udp $BLOCKED4:"
}
test_escape_af_packet() { escape_both esc_af_packet; }

# AF_PACKET with PACKET_QDISC_BYPASS: frames skip even the qdisc layer.
esc_af_packet_qdisc_bypass() {
	local pol
	pol=$(esc_policy_allowed_host)
	esc_sniff "$BLOCKED4"
	esc_run "$pol" "$PY" "$ESC_SOCK" socket packet raw all --qdisc-bypass --frame-to "$BLOCKED4" "$AWFT_HOST_IF"
	esc_failed socket EPERM
	esc_nothing_reached "the blocked host (AF_PACKET, qdisc bypass)"
}
test_escape_af_packet_qdisc_bypass() { escape_both esc_af_packet_qdisc_bypass; }

# AF_XDP sockets: another path from user space to a NIC's queue.
esc_af_xdp() {
	local pol
	pol=$(esc_policy_allowed_host)
	esc_run "$pol" "$PY" "$ESC_SOCK" socket xdp raw 0
	esc_failed socket EPERM
}
test_escape_af_xdp() { escape_both esc_af_xdp; }

# SCTP (stream and seqpacket, v4 and v6): its connects do not go through
# the TCP/UDP hooks; sock_create refuses it. Skipped where the kernel has
# no SCTP (not built, or the module not loadable).
esc_sctp() {
	local pol step
	pol=$(esc_policy_allowed_host)
	esc_sniff "$BLOCKED4" "$BLOCKED6"
	esc_sh "$pol" "$PY $ESC_SOCK socket inet stream sctp --connect $BLOCKED4 80 | sed 's/^/s4-/'
		$PY $ESC_SOCK socket inet seqpacket sctp --sendto $BLOCKED4 80 | sed 's/^/q4-/'
		$PY $ESC_SOCK socket inet6 stream sctp --connect $BLOCKED6 80 | sed 's/^/s6-/'"
	for step in s4-socket q4-socket s6-socket; do
		esc_failed "$step" EPERM
	done
	esc_audit_socket_deny sctp
	esc_nothing_reached "the blocked host (SCTP)"
}
test_escape_sctp() {
	require_socket SCTP 2 1 132
	escape_both esc_sctp
}

# MPTCP (v4 and v6): subflows are TCP sockets the kernel creates itself.
esc_mptcp() {
	local pol
	pol=$(esc_policy_allowed_host)
	esc_sniff "$BLOCKED4" "$BLOCKED6"
	esc_sh "$pol" "$PY $ESC_SOCK socket inet stream mptcp --connect $BLOCKED4 80 | sed 's/^/m4-/'
		$PY $ESC_SOCK socket inet6 stream mptcp --connect $BLOCKED6 80 | sed 's/^/m6-/'"
	esc_failed m4-socket EPERM
	esc_failed m6-socket EPERM
	esc_nothing_reached "the blocked host (MPTCP)"
	esc_audit_socket_deny mptcp
}
test_escape_mptcp() {
	require_socket MPTCP 2 1 262
	escape_both esc_mptcp
}

# UDP-Lite (v4 and v6): another datagram protocol, refused at sock_create.
esc_udplite() {
	local pol
	pol=$(esc_policy_allowed_host)
	esc_sniff "$BLOCKED4" "$BLOCKED6"
	esc_sh "$pol" "$PY $ESC_SOCK socket inet dgram udplite --sendto $BLOCKED4 $UDP_ECHO_PORT | sed 's/^/l4-/'
		$PY $ESC_SOCK socket inet6 dgram udplite --sendto $BLOCKED6 $UDP_ECHO_PORT | sed 's/^/l6-/'"
	esc_failed l4-socket EPERM
	esc_failed l6-socket EPERM
	esc_nothing_reached "the blocked host (UDP-Lite)"
	esc_audit_socket_deny udplite
}
test_escape_udplite() {
	require_socket UDP-Lite 2 2 136
	escape_both esc_udplite
}

# AF_VSOCK (stream, dgram, seqpacket): on a VM it reaches the hypervisor
# host, a network no cgroup hook sees. Only socket() is tried: its peer
# would be no test host.
esc_vsock() {
	local pol
	pol=$(esc_policy_allowed_host)
	esc_sh "$pol" "$PY $ESC_SOCK socket vsock stream 0 | sed 's/^/stream-/'
		$PY $ESC_SOCK socket vsock dgram 0 | sed 's/^/dgram-/'
		$PY $ESC_SOCK socket vsock seqpacket 0 | sed 's/^/seqpacket-/'"
	esc_failed stream-socket EPERM
	esc_failed dgram-socket EPERM
	esc_failed seqpacket-socket EPERM
}
test_escape_vsock() { escape_both esc_vsock; }

# Netlink families other than NETLINK_ROUTE (netfilter, xfrm, sock_diag,
# audit, generic) and AF_KEY: firewall rules, IPsec policies, socket
# destruction. NETLINK_ROUTE stays (getifaddrs needs it; changes need
# CAP_NET_ADMIN: test_escape_ip_route_changes).
esc_netlink_families() {
	local pol p
	pol=$(esc_policy_allowed_host)
	esc_sh "$pol" "for p in netfilter xfrm sock_diag audit generic; do
			$PY $ESC_SOCK socket netlink raw \$p | sed \"s/^/\$p-/\"
		done
		$PY $ESC_SOCK socket key raw pfkey | sed 's/^/pfkey-/'"
	for p in netfilter xfrm sock_diag audit generic pfkey; do
		esc_failed "$p-socket" EPERM
	done
}
test_escape_netlink_families() { escape_both esc_netlink_families; }

# A tun device (TUNSETIFF, CAP_NET_ADMIN): packets written to it enter the
# host's stack from outside any socket of the sandbox.
esc_tun_device() {
	local pol dev=awfesc-${ESC_AS:0:1}
	at_exit "ip link del '$dev' 2>/dev/null"
	pol=$(esc_policy_allowed_host)
	esc_run "$pol" "$PY" -c "
import fcntl, os, struct
try:
    fd = os.open('/dev/net/tun', os.O_RDWR)
    print('open-tun ok')
except OSError as e:
    print('open-tun err', e.strerror.replace(' ', '_'), 0); raise SystemExit
try:
    fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', b'$dev', 0x0001 | 0x1000))
    print('tunsetiff ok CREATED')
except OSError as e:
    print('tunsetiff err', e.strerror.replace(' ', '_'), 0)"
	case $(esc_line open-tun) in "open-tun ok"*) esc_failed tunsetiff ;; esac
	ip link show "$dev" >/dev/null 2>&1 && fail "the sandbox created the tun device $dev"
	return 0
}
test_escape_tun_device() { escape_both esc_tun_device; }

# io_uring IORING_OP_CONNECT (inline and in an io-wq worker): seccomp
# refuses io_uring_setup; were it allowed, connect must still meet the
# hooks (the socket's cgroup is the sandbox's).
esc_io_uring_connect() {
	local pol bin
	bin=$(esc_cc uring)
	pol=$(esc_policy_allowed_host)
	esc_sniff "$BLOCKED4"
	esc_run "$pol" "$bin" connect "$BLOCKED4" 80
	case $(esc_line setup) in
	"setup err "*) esc_failed setup EPERM ;;
	*)
		esc_failed connect EPERM
		esc_failed connect-async EPERM
		esc_audit_deny "$BLOCKED4" 80 not_in_policy connect
		;;
	esac
	esc_nothing_reached "the blocked host (io_uring connect)"
}
test_escape_io_uring_connect() { escape_both esc_io_uring_connect; }

# io_uring IORING_OP_SENDMSG of an unconnected UDP socket, and
# IORING_OP_SOCKET of a packet socket.
esc_io_uring_sendmsg() {
	local pol bin
	bin=$(esc_cc uring)
	pol=$(esc_policy_allowed_host)
	esc_sniff "$BLOCKED4"
	esc_sh "$pol" "$bin sendmsg $BLOCKED4 $UDP_ECHO_PORT; $bin socket 17 3 768 | sed 's/^/packet-/'"
	case $(esc_line setup) in
	"setup err "*)
		esc_failed setup EPERM
		esc_failed packet-setup EPERM
		;;
	*)
		esc_failed sendmsg EPERM
		esc_failed sendmsg-async EPERM
		esc_failed packet-socket-op EPERM
		esc_audit_deny "$BLOCKED4" "$UDP_ECHO_PORT" not_in_policy sendmsg
		;;
	esac
	esc_nothing_reached "the blocked host (io_uring sendmsg)"
	esc_no_server_hits "udp $BLOCKED4:"
}
test_escape_io_uring_sendmsg() { escape_both esc_io_uring_sendmsg; }

# The i386 syscall ABI (int $0x80) from a 64-bit process: a seccomp filter
# written for x86_64 numbers only would let socket(AF_VSOCK),
# socketcall(AF_PACKET), unshare(CLONE_NEWUSER) and io_uring_setup
# through; connect() and sendto() through it must still meet the hooks.
esc_seccomp_compat_abi() {
	local pol bin
	bin=$(esc_cc compat32)
	pol=$(esc_policy_allowed_host)
	esc_sniff "$BLOCKED4"
	esc_sh "$pol" "$bin socket 40 1 0; $bin socketcall 17 3 768; $bin unshare 0x10000000; $bin io_uring_setup
		$bin connect $BLOCKED4 80; $bin sendto $BLOCKED4 $UDP_ECHO_PORT"
	esc_failed socket32 EPERM ENOSYS
	esc_failed socketcall32 EPERM ENOSYS
	esc_failed unshare32 EPERM ENOSYS
	esc_failed io_uring_setup32 EPERM ENOSYS
	esc_failed connect32 EPERM ENOSYS
	esc_failed sendto32 EPERM ENOSYS
	esc_nothing_reached "the blocked host (i386 ABI)"
	case $(esc_line connect32) in
	*EPERM*)
		esc_audit_deny "$BLOCKED4" 80 not_in_policy connect
		esc_audit_deny "$BLOCKED4" "$UDP_ECHO_PORT" not_in_policy sendmsg
		;;
	esac
}
test_escape_seccomp_compat_abi() {
	esc_require_i386_abi
	escape_both esc_seccomp_compat_abi
}
