# shellcheck shell=bash
# Escape battery, the sandbox's walls: leaving the cgroup, new namespaces,
# the BPF programs and maps, awf-bpf's own process, fds and sockets from
# outside, killing the supervisor, host network configuration, sysctls,
# set-uid binaries. The network attempt after each wall is what matters:
# the blocked host must see nothing.
# shellcheck source=../tools/escape/lib.sh
. "$ROOT/tests/tools/escape/lib.sh"

TRY=". $TOOLS/escape/try.sh"

# ------------------------------------------------------------- cgroups

# Move to another cgroup whose sockets are not filtered: the root cgroup,
# awf-bpf's parent cgroup, a new cgroup (mkdir), and the same files
# through /proc/<pid>/root of init and of a process outside. The cgroup2
# mount is read-only in the sandbox's mount namespace; the outside pid
# does not exist in its PID namespace.
esc_cgroup_move() {
	local pol cg2 step
	cg2=$(cgroup2_root)
	pol=$(esc_policy_allowed_host)
	at_exit "rmdir '$cg2/awft-escape-$ESC_AS' 2>/dev/null"
	esc_sniff "$BLOCKED4"
	esc_sh "$pol" "$TRY
		try to-root wr $cg2/cgroup.procs \$\$
		try to-parent wr $cg2/awf-bpf/cgroup.procs \$\$
		try mkdir mkdir $cg2/awft-escape-$ESC_AS
		try to-new wr $cg2/awft-escape-$ESC_AS/cgroup.procs \$\$
		try via-init-root wr /proc/1/root$cg2/cgroup.procs \$\$
		try via-outside-root wr /proc/$BASHPID/root$cg2/cgroup.procs \$\$
		echo \"cgroup \$(grep '^0::' /proc/self/cgroup)\"
		$PY $PROBE tcp $BLOCKED4 80 | sed 's/^/probe /'"
	for step in to-root to-parent mkdir to-new via-init-root via-outside-root; do
		esc_failed "$step"
	done
	assert_eq "cgroup 0::/" "$(esc_line cgroup)" "the workload's cgroup (the sandbox is the root of its cgroup namespace)"
	esc_failed probe EPERM
	[ ! -d "$cg2/awft-escape-$ESC_AS" ] || fail "the sandbox created $cg2/awft-escape-$ESC_AS"
	esc_nothing_reached
	esc_audit_deny "$BLOCKED4" 80 not_in_policy connect
}
test_escape_cgroup_move() { escape_both esc_cgroup_move; }

# ---------------------------------------------------------- namespaces

# New user namespaces (unshare -U, -Ur, Python's unshare(2)): full
# capabilities inside one are the first step of many kernel exploits and
# of re-mounting what the sandbox sealed. seccomp refuses them.
esc_unshare_user() {
	local pol
	pol=$(esc_policy_allowed_host)
	esc_sh "$pol" "$TRY
		try unshare-U unshare -U true
		try unshare-Ur unshare -Ur true
		$PY $ESC_SOCK unshare user"
	esc_failed unshare-U
	esc_failed unshare-Ur
	esc_failed unshare-user EPERM
}
test_escape_unshare_user() { escape_both esc_unshare_user; }

# New network namespaces (unshare -n, -Urn, unshare(CLONE_NEWNET)), and the
# other kinds (mount, cgroup, pid): a fresh mount namespace in a user
# namespace would mount a writable cgroup2.
esc_unshare_namespaces() {
	local pol kind
	pol=$(esc_policy_allowed_host)
	esc_sh "$pol" "$TRY
		try unshare-n unshare -n true
		try unshare-Urn unshare -Urn true
		try unshare-Urm-cgroup2 unshare -Urm sh -c 'mount -t cgroup2 none $ESC_DIR && echo \$\$ > $ESC_DIR/cgroup.procs'
		for k in net mnt cgroup pid uts ipc user,net; do $PY $ESC_SOCK unshare \$k; done"
	esc_failed unshare-n
	esc_failed unshare-Urn
	esc_failed unshare-Urm-cgroup2
	for kind in net mnt cgroup pid uts ipc user,net; do
		esc_failed "unshare-$kind" EPERM
	done
}
test_escape_unshare_namespaces() { escape_both esc_unshare_namespaces; }

# Whatever unshare allows, raw and packet sockets in a user namespace
# still face the HOST network namespace, whose owner is the initial user
# namespace: no CAP_NET_RAW there. And a new network namespace has no
# route out.
esc_userns_raw_sockets() {
	local pol
	pol=$(esc_policy_allowed_host)
	esc_sniff "$BLOCKED4"
	esc_sh "$pol" "unshare -Ur sh -c '$PY $PROBE raw $BLOCKED4; $PY $ESC_SOCK socket packet raw all --frame-to $BLOCKED4 $AWFT_HOST_IF' 2>&1 | sed 's/^/userns /'
		unshare -Urn sh -c '$PY $PROBE tcp $BLOCKED4 80' 2>&1 | sed 's/^/netns /'
		echo done"
	assert_not_contains "$AWF_OUT" "userns ok" "raw socket in a user namespace"
	assert_not_contains "$AWF_OUT" "userns socket ok" "packet socket in a user namespace"
	assert_not_contains "$AWF_OUT" "netns ok" "tcp from a new network namespace"
	esc_nothing_reached
}
test_escape_userns_raw_sockets() { escape_both esc_userns_raw_sockets; }

# Enter another network namespace: the test world's (ip netns, nsenter)
# and init's, with setns(2).
esc_setns() {
	local pol
	pol=$(esc_policy_allowed_host)
	esc_sniff "$BLOCKED4"
	esc_sh "$pol" "$TRY
		$PY $ESC_SOCK setns /run/netns/$AWFT_NS | sed 's/^/world-/'
		$PY $ESC_SOCK setns /proc/1/ns/net | sed 's/^/init-/'
		try nsenter nsenter --net=/run/netns/$AWFT_NS $PY $PROBE tcp $BLOCKED4 80"
	esc_failed world-setns EPERM EACCES ENOENT
	esc_failed init-setns EPERM EACCES
	esc_failed nsenter
	esc_nothing_reached
}
test_escape_setns() { escape_both esc_setns; }

# Undo the seal: remount the cgroup2 hierarchy read-write, unmount it,
# mount a fresh cgroup2, proc or bpffs, or use the new mount API (fsopen).
esc_mount() {
	local pol cg2 step
	cg2=$(cgroup2_root)
	pol=$(esc_policy_allowed_host)
	mkdir -p "$ESC_DIR/mnt" && chmod 0777 "$ESC_DIR/mnt"
	esc_sh "$pol" "$TRY
		try remount-rw mount -o remount,rw $cg2
		try bind-rw mount --bind $cg2 $ESC_DIR/mnt
		try umount umount $cg2
		try umount-lazy umount -l $cg2
		try mount-cgroup2 mount -t cgroup2 none $ESC_DIR/mnt
		try mount-bpffs mount -t bpf bpf $ESC_DIR/mnt
		try mount-proc mount -t proc proc $ESC_DIR/mnt
		$PY -c 'import ctypes; l = ctypes.CDLL(None, use_errno=True); r = l.syscall(430, b\"cgroup2\", 0)
print(\"fsopen\", \"ok\" if r >= 0 else \"err %d 0\" % ctypes.get_errno())'
		try still-sealed wr $cg2/cgroup.procs \$\$"
	for step in remount-rw bind-rw umount umount-lazy mount-cgroup2 mount-bpffs mount-proc fsopen still-sealed; do
		esc_failed "$step"
	done
}
test_escape_mount() { escape_both esc_mount; }

# ------------------------------------------------------------------ BPF

# bpf(2): list programs and maps, get fds by id, query and detach the
# cgroup's programs, get a pinned object. seccomp and the missing
# CAP_BPF/CAP_SYS_ADMIN/CAP_NET_ADMIN refuse every one.
esc_bpf_syscall() {
	local pol cg2 c
	cg2=$(cgroup2_root)
	pol=$(esc_policy_allowed_host)
	esc_sh "$pol" "for c in prog-next-id map-next-id 'prog-get 1' 'map-get 1' 'obj-get /sys/fs/bpf/awf-bpf' 'prog-query $cg2/awf-bpf' 'prog-detach $cg2'; do
			$PY $ESC_SOCK bpf \$c
		done
		echo \"bpffs \$(ls -A /sys/fs/bpf 2>&1 | tr '\\n' ' ')\""
	for c in prog-next-id map-next-id prog-get map-get obj-get prog-query prog-detach; do
		esc_failed "bpf-$c" EPERM
	done
	assert_eq "bpffs " "$(esc_line bpffs)" "/sys/fs/bpf in the sandbox (no pinned maps or links)"
}
test_escape_bpf_syscall() { escape_both esc_bpf_syscall; }

# bpftool against this very sandbox: detach its connect4 program by id,
# dump its learned-address map, list programs; then connect to the
# blocked host. The ids come from outside while the workload waits.
esc_bpftool_detach() {
	local pol cg2 cgdir prog map i line
	cg2=$(cgroup2_root)
	pol=$(esc_policy_allowed_host)
	esc_sniff "$BLOCKED4"
	esc_run_bg "$pol" sh -c "$TRY
		set -- \$(wait_go $ESC_DIR/go)
		echo \"go \$*\"
		try detach bpftool cgroup detach \"\$1\" connect4 id \"\$2\"
		try detach-all bpftool cgroup detach \"\$1\" egress id \"\$3\"
		try map-dump bpftool map dump id \"\$4\"
		try prog-show bpftool prog show id \"\$2\"
		$PY $PROBE tcp $BLOCKED4 80 | sed 's/^/probe /'"
	cgdir=$cg2/awf-bpf/run-$ESC_BG
	for i in $(seq 1 50); do [ -d "$cgdir" ] && break; sleep 0.1; done
	[ -d "$cgdir" ] || { esc_bg_wait 5; fail "no sandbox cgroup $cgdir"; }
	# The cgroup exists before the programs are loaded and attached into
	# it (user/run/run.c): wait for the attach, bounded, as the workload
	# (held behind its gate until then) does.
	local egress
	for i in $(seq 1 50); do
		line=$(bpftool -j cgroup show "$cgdir" 2>/dev/null)
		# By name: the "allow" programs that turn the hooks on while
		# the sandbox loads (user/kernel/hook_warm.h) are not its.
		prog=$(printf '%s' "$line" | jq -r '[.[] | select((.attach_type == "cgroup_inet4_connect" or .attach_type == "connect4") and .name == "awf_connect4")][0].id')
		egress=$(printf '%s' "$line" | jq -r '[.[] | select((.attach_type == "cgroup_inet_egress" or .attach_type == "egress") and .name == "awf_egress")][0].id')
		[ -n "$prog" ] && [ "$prog" != null ] && [ -n "$egress" ] &&
			[ "$egress" != null ] && break
		sleep 0.1
	done
	map=$(bpftool -j prog show id "$prog" 2>/dev/null | jq -r '.map_ids[0]')
	log "sandbox cgroup $cgdir: connect4 prog $prog, egress prog $egress, map $map"
	[ -n "$prog" ] && [ "$prog" != null ] || { echo stop >"$ESC_DIR/go"; esc_bg_wait 5; fail "no connect4 program on $cgdir: $line"; }
	echo "$cgdir $prog $egress $map" >"$ESC_DIR/go"
	esc_bg_wait 20
	esc_check_uid "$AWF_RC" "$AWF_ERR"
	esc_failed detach
	esc_failed detach-all
	esc_failed map-dump
	esc_failed prog-show
	esc_failed probe EPERM
	esc_nothing_reached
	esc_audit_deny "$BLOCKED4" 80 not_in_policy connect
}
test_escape_bpftool_detach() { escape_both esc_bpftool_detach; }

# ------------------------------------------------- awf-bpf's process

# ptrace awf-bpf (by its pid outside, passed in, and init, pid 1 of the
# sandbox's PID namespace): PTRACE_ATTACH/SEIZE, strace -p, gdb -p.
esc_ptrace_awf_bpf() {
	local pol step
	pol=$(esc_policy_allowed_host)
	esc_run_bg "$pol" sh -c "$TRY
		P=\$(wait_go $ESC_DIR/go)
		$PY $ESC_SOCK ptrace \$P | sed 's/^/awf-/'
		$PY $ESC_SOCK ptrace 1 | sed 's/^/init-/'
		try strace timeout 5 strace -qq -e trace=none -p \$P
		try strace-init timeout 5 strace -qq -e trace=none -p 1
		out=\$(timeout 10 gdb -q -batch -p \$P -ex 'info registers rip' 2>&1)
		case \$out in *rip*0x*) echo 'gdb ok ATTACHED';; *) echo \"gdb err \$(printf %s \"\$out\" | tail -n 1 | tr ' ' _) 0\";; esac"
	echo "$ESC_BG" >"$ESC_DIR/go"
	esc_bg_wait 30
	esc_check_uid "$AWF_RC" "$AWF_ERR"
	for step in awf-ptrace-attach awf-ptrace-seize init-ptrace-attach init-ptrace-seize strace strace-init gdb; do
		esc_failed "$step"
	done
	kill -0 "$ESC_BG" 2>/dev/null && fail "awf-bpf still running"
	return 0
}
test_escape_ptrace_awf_bpf() { escape_both esc_ptrace_awf_bpf; }

# Read awf-bpf's memory and steal its descriptors (its upstream DNS
# sockets are outside the sandbox's cgroup): /proc/<pid>/mem, environ,
# maps, fd/, root/; process_vm_readv; pidfd_getfd. For awf-bpf (pid from
# outside) and init (pid 1, same uid as a root workload, not dumpable).
esc_read_awf_memory() {
	local pol who step
	pol=$(esc_policy_allowed_host)
	esc_run_bg "$pol" sh -c "
		P=\$(. $TOOLS/escape/try.sh; wait_go $ESC_DIR/go)
		for who in awf:\$P init:1; do
			p=\${who#*:}; n=\${who%%:*}
			{ $PY $ESC_SOCK procfiles \$p; $PY $ESC_SOCK vmread \$p; $PY $ESC_SOCK pidfd-getfd \$p; } | sed \"s/^/\$n-/\"
		done"
	echo "$ESC_BG" >"$ESC_DIR/go"
	esc_bg_wait 20
	esc_check_uid "$AWF_RC" "$AWF_ERR"
	for who in awf init; do
		for step in open-mem open-environ open-maps open-fd list-root process_vm_readv; do
			esc_failed "$who-$step"
		done
		case $(esc_line "$who-pidfd_open") in
		"$who-pidfd_open ok"*) esc_failed "$who-pidfd_getfd" EPERM ;;
		*) esc_failed "$who-pidfd_open" ;;
		esac
	done
}
test_escape_read_awf_memory() { escape_both esc_read_awf_memory; }

# Descriptors inherited from awf-bpf (maps, ring buffer, DNS sockets,
# pidfds): the workload starts with 0, 1 and 2 only.
esc_inherited_fds() {
	local pol
	pol=$(esc_policy_allowed_host)
	esc_run "$pol" "$PY" "$ESC_SOCK" fds
	assert_eq "fds 0,1,2" "$(esc_line fds)" "open descriptors of the workload"
}
test_escape_inherited_fds() { escape_both esc_inherited_fds; }

# A socket created OUTSIDE the sandbox keeps its creator's cgroup: no hook
# of the sandbox sees its traffic. What holds: the workload has no such
# socket (only fds 0-2) and cannot take one from awf-bpf (pidfd_getfd of
# init refused). RESIDUAL: an outside process that cooperates can pass one
# in over a unix socket (SCM_RIGHTS), and it reaches the blocked host.
esc_passed_socket_residual() {
	local pol
	pol=$(esc_policy_allowed_host)
	"$PY" "$ESC_SOCK" --hold 20 --count 1 --ready-file "$ESC_DIR/fdpass.ready" fdpass-serve "$ESC_DIR/fd.sock" \
		>"$TEST_TMP/fdpass-$ESC_AS.log" 2>&1 &
	BG_PIDS+=($!)
	wait_file "$ESC_DIR/fdpass.ready" 50 || fail "the outside fd-passing server did not start"
	esc_sh "$pol" "$PY $ESC_SOCK fds; $PY $ESC_SOCK pidfd-getfd 1
		$PY $ESC_SOCK recvfd $ESC_DIR/fd.sock $BLOCKED4 $UDP_ECHO_PORT"
	# What holds.
	assert_eq "fds 0,1,2" "$(esc_line fds)" "open descriptors of the workload"
	esc_failed pidfd_getfd EPERM
	# The residual risk, as documented (docs/threat-model.md).
	esc_worked recvfd
	esc_worked sendto
	[ "$(esc_server_hits "udp $BLOCKED4:$UDP_ECHO_PORT ")" -ge 1 ] ||
		fail "the passed-in socket did not reach $BLOCKED4 (did the residual risk go away? update docs/threat-model.md)"
	assert_eq 0 "$(esc_audit_count ".dst == \"$BLOCKED4\"")" "audit events for the passed-in socket (the filter never sees it)"
	log "RESIDUAL: a socket passed in by a cooperating outside process reaches $BLOCKED4 unseen"
}
test_escape_passed_socket_residual() { escape_both esc_passed_socket_residual; }

# kill -9 awf-bpf from inside (its outside pid, passed in, and init, pid
# 1), while a daemon (double fork, setsid) and the workload keep
# connecting to the blocked host: the network must stay closed; if
# awf-bpf did die, every process of the sandbox must die with it.
esc_kill_awf_bpf_from_inside() {
	local pol snap cgdir i procs
	pol=$(esc_policy_allowed_host)
	snap=$TEST_TMP/state-$ESC_AS
	awf_state_snapshot | sort >"$snap"
	at_exit "awf_remove_leftovers '$snap'"
	cat >"$ESC_DIR/killer.py" <<EOF
import os, signal, socket, sys, time
res = "$ESC_DIR/results"
def attempts(tag, seconds):
    out = open(res, "a", buffering=1)
    t0 = time.monotonic()
    n = ok = 0
    while time.monotonic() - t0 < seconds and n < 400:
        s = socket.socket()
        s.settimeout(0.3)
        try:
            s.connect(("$BLOCKED4", 80))
            ok += 1
            out.write("%s CONNECTED\n" % tag)
        except OSError:
            pass
        s.close()
        n += 1
        time.sleep(0.01)
    out.write("%s attempts=%d connected=%d\n" % (tag, n, ok))
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        attempts("daemon", 4)
    os._exit(0)
for _ in range(150):
    if os.path.exists("$ESC_DIR/go") and os.path.getsize("$ESC_DIR/go") > 0:
        break
    time.sleep(0.1)
awf = int(open("$ESC_DIR/go").read())
for tag, pid in (("kill-awf", awf), ("kill-init", 1)):
    try:
        os.kill(pid, signal.SIGKILL)
        print(tag, "ok SENT", flush=True)
    except OSError as e:
        print(tag, "err", e.strerror.replace(" ", "_"), 0, flush=True)
attempts("workload", 2)
EOF
	chmod 0644 "$ESC_DIR/killer.py"
	esc_sniff "$BLOCKED4"
	esc_run_bg "$pol" "$PY" "$ESC_DIR/killer.py"
	cgdir=$(cgroup2_root)/awf-bpf/run-$ESC_BG
	echo "$ESC_BG" >"$ESC_DIR/go"
	esc_bg_wait 20
	log "results: $(tr '\n' ';' <"$ESC_DIR/results" 2>/dev/null)"
	if [ "$AWF_RC" = 137 ]; then
		log "awf-bpf was killed from inside: every sandbox process must be gone"
		for i in $(seq 1 30); do
			procs=$(live_procs "$cgdir")
			[ -z "$procs" ] && break
			sleep 0.1
		done
		[ -z "$procs" ] || fail "awf-bpf died but sandbox processes live on: $procs"
	else
		esc_check_uid "$AWF_RC" "$AWF_ERR"
		esc_failed kill-awf
		log "kill-init: $(esc_line kill-init) (signals from inside do not kill the namespace's init)"
		esc_audit_deny "$BLOCKED4" 80 not_in_policy connect
	fi
	sleep 1 # the daemon's loop ends 4 s after it starts
	assert_not_contains "$(cat "$ESC_DIR/results" 2>/dev/null)" "CONNECTED" "connections to the blocked host"
	esc_nothing_reached
	esc_no_server_hits "http $BLOCKED4:"
}
test_escape_kill_awf_bpf_from_inside() { escape_both esc_kill_awf_bpf_from_inside; }

# Fail closed: awf-bpf is SIGKILLed from outside (OOM killer, a crash)
# while the workload and a setsid daemon connect to the blocked host in a
# loop: the whole sandbox dies with it, and nothing gets out meanwhile.
esc_awf_bpf_killed_fail_closed() {
	local pol snap cgdir i procs
	pol=$(esc_policy_allowed_host)
	snap=$TEST_TMP/state-$ESC_AS
	awf_state_snapshot | sort >"$snap"
	at_exit "awf_remove_leftovers '$snap'"
	cat >"$ESC_DIR/looper.py" <<EOF
import os, socket, time
def attempts(tag, seconds):
    out = open("$ESC_DIR/results", "a", buffering=1)
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < seconds and n < 600:
        s = socket.socket()
        s.settimeout(0.3)
        try:
            s.connect(("$BLOCKED4", 80))
            out.write("%s CONNECTED\n" % tag)
        except OSError:
            pass
        s.close()
        n += 1
        time.sleep(0.01)
    out.write("%s alive after %d attempts\n" % (tag, n))
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        attempts("daemon", 5)
    os._exit(0)
open("$ESC_DIR/ready", "w").write("ready\n")
attempts("workload", 5)
EOF
	chmod 0644 "$ESC_DIR/looper.py"
	esc_sniff "$BLOCKED4"
	esc_run_bg "$pol" "$PY" "$ESC_DIR/looper.py"
	cgdir=$(cgroup2_root)/awf-bpf/run-$ESC_BG
	wait_file "$ESC_DIR/ready" 100 || { esc_bg_wait 5; fail "the workload did not start"; }
	sleep 0.5
	log "SIGKILL to awf-bpf $ESC_BG (sandbox processes: $(live_procs "$cgdir"))"
	kill -KILL "$ESC_BG"
	esc_bg_wait 5
	for i in $(seq 1 30); do
		procs=$(live_procs "$cgdir")
		[ -z "$procs" ] && break
		sleep 0.1
	done
	[ -z "$procs" ] || fail "awf-bpf was killed but sandbox processes live on: $procs ($(for p in $procs; do cat "/proc/$p/comm"; done | tr '\n' ' '))"
	sleep 0.5
	log "results: $(tr '\n' ';' <"$ESC_DIR/results" 2>/dev/null)"
	assert_not_contains "$(cat "$ESC_DIR/results" 2>/dev/null)" "CONNECTED" "connections to the blocked host"
	assert_not_contains "$(cat "$ESC_DIR/results" 2>/dev/null)" "alive after" "a sandbox process that outlived awf-bpf"
	esc_nothing_reached
	# The denials before the kill are in the audit log (flushed per line).
	esc_audit_deny "$BLOCKED4" 80 not_in_policy connect
}
test_escape_awf_bpf_killed_fail_closed() { escape_both esc_awf_bpf_killed_fail_closed; }

# ------------------------------------------------ host configuration

# Change the host's routing and interfaces (ip route/addr/link/rule) and
# nftables (over netlink: no nft binary needed): CAP_NET_ADMIN is dropped,
# non-ROUTE netlink refused.
esc_ip_route_changes() {
	local pol mtu step
	mtu=$(cat "/sys/class/net/$AWFT_HOST_IF/mtu")
	at_exit "ip route del unreachable 198.18.0.99/32 2>/dev/null; ip addr del 198.18.0.99/32 dev lo 2>/dev/null
		ip link del awfesc-d 2>/dev/null; ip rule del priority 99 2>/dev/null
		ip -6 route del unreachable fd42:a0f0::99/128 2>/dev/null; ip link set $AWFT_HOST_IF mtu $mtu
		'$PY' '$ESC_SOCK' nft-deltable awfescape >/dev/null 2>&1"
	pol=$(esc_policy_allowed_host)
	esc_sh "$pol" "$TRY
		try route-add ip route add unreachable 198.18.0.99/32
		try route6-add ip -6 route add unreachable fd42:a0f0::99/128
		try addr-add ip addr add 198.18.0.99/32 dev lo
		try link-add ip link add awfesc-d type dummy
		try rule-add ip rule add to $BLOCKED4 lookup main priority 99
		try link-mtu ip link set $AWFT_HOST_IF mtu 1280
		$PY $ESC_SOCK nft-newtable awfescape"
	for step in route-add route6-add addr-add link-add rule-add link-mtu; do
		esc_failed "$step"
	done
	case $(esc_line netlink-netfilter) in
	"netlink-netfilter err "*) esc_failed netlink-netfilter EPERM ;;
	*) esc_failed nft-newtable EPERM ;;
	esac
	[ -z "$(ip route show 198.18.0.99/32)" ] || fail "the sandbox added a route"
	[ "$(cat "/sys/class/net/$AWFT_HOST_IF/mtu")" = "$mtu" ] || fail "the sandbox changed $AWFT_HOST_IF's MTU"
}
test_escape_ip_route_changes() { escape_both esc_ip_route_changes; }

# Write sysctls (each gets its current value back: nothing changes if the
# write is allowed): kernel.core_pattern (a pipe helper runs as root
# outside every cgroup), ip_forward, ping_group_range, the veth's
# forwarding, core_uses_pid. And open (never write) for writing the
# kernel's other root-only knobs: /proc/sysrq-trigger, a /sys attribute.
# /proc/sys and /sys must not be writable from the sandbox.
esc_sysctl_write() {
	local pol step
	pol=$(esc_policy_allowed_host)
	esc_sh "$pol" "$TRY
		for s in kernel/core_pattern net/ipv4/ip_forward net/ipv4/ping_group_range net/ipv4/conf/$AWFT_HOST_IF/forwarding kernel/core_uses_pid; do
			try \$(echo \$s | tr / -) wr /proc/sys/\$s \"\$(cat /proc/sys/\$s)\"
		done
		$PY -c '
import os
for name, path in ((\"sysrq\", \"/proc/sysrq-trigger\"), (\"sys-attr\", \"/sys/kernel/mm/transparent_hugepage/enabled\")):
    try:
        os.close(os.open(path, os.O_WRONLY))
        print(\"openw-\" + name, \"ok OPENED\")
    except OSError as e:
        print(\"openw-\" + name, \"err\", e.strerror.replace(\" \", \"_\"), 0)'"
	for step in kernel-core_pattern net-ipv4-ip_forward net-ipv4-ping_group_range "net-ipv4-conf-$AWFT_HOST_IF-forwarding" kernel-core_uses_pid openw-sysrq; do
		esc_failed "$step"
	done
	case $(esc_line openw-sys-attr) in
	"openw-sys-attr err No_such_file"*) log "no $(esc_line openw-sys-attr)" ;;
	*) esc_failed openw-sys-attr ;;
	esac
}
test_escape_sysctl_write() { escape_both esc_sysctl_write; }

# The full chain through kernel.core_pattern: point it at a helper
# ("|/path"), crash a process. The kernel would run the helper as root,
# in the root cgroup, with every capability: it connects to the blocked
# host. /proc/sys must be read-only for a root workload too.
esc_core_pattern_helper() {
	local pol saved=$TEST_TMP/core_pattern.saved
	cat /proc/sys/kernel/core_pattern >"$saved"
	at_exit "cat '$saved' >/proc/sys/kernel/core_pattern"
	cat >"$ESC_DIR/core-helper.sh" <<EOF
#!/bin/sh
{ echo "helper uid=\$(id -u) \$(grep '^0::' /proc/self/cgroup) \$(grep '^CapEff' /proc/self/status)"; $PY $PROBE tcp $BLOCKED4 80 --timeout 2; } >$ESC_DIR/core-helper.out 2>&1
cat >/dev/null
EOF
	chmod 0755 "$ESC_DIR/core-helper.sh"
	cp "$saved" "$ESC_DIR/core_pattern.saved" && chmod 0644 "$ESC_DIR/core_pattern.saved"
	pol=$(esc_policy_allowed_host)
	esc_sniff "$BLOCKED4"
	esc_sh "$pol" "$TRY
		try set-core-pattern wr /proc/sys/kernel/core_pattern '|$ESC_DIR/core-helper.sh'
		sh -c 'kill -SEGV \$\$'
		sleep 1.5
		try restore wr /proc/sys/kernel/core_pattern \"\$(cat $ESC_DIR/core_pattern.saved)\""
	cat "$saved" >/proc/sys/kernel/core_pattern
	if [ -e "$ESC_DIR/core-helper.out" ]; then
		fail "the core_pattern helper ran outside the sandbox: $(tr '\n' ';' <"$ESC_DIR/core-helper.out")"
	fi
	esc_failed set-core-pattern
	esc_nothing_reached
	esc_no_server_hits "http $BLOCKED4:"
}
test_escape_core_pattern_helper() { escape_both esc_core_pattern_helper; }

# A set-uid-root binary and one with file capabilities (cap_net_raw,
# cap_net_admin, cap_sys_admin): no_new_privs keeps exec from granting
# either (the file-capability binary is refused outright, EPERM: it would
# not get the capabilities it demands); the bounding set keeps the
# capabilities out for good.
esc_setuid_filecaps() {
	local pol bin line cap hex
	bin=$(esc_cc privs)
	cp "$bin" "$ESC_DIR/privs-suid" && chown root:root "$ESC_DIR/privs-suid" && chmod 4755 "$ESC_DIR/privs-suid"
	cp "$bin" "$ESC_DIR/privs-fcap" && chmod 0755 "$ESC_DIR/privs-fcap"
	setcap 'cap_net_raw,cap_net_admin,cap_sys_admin+ep' "$ESC_DIR/privs-fcap" || fail "setcap failed"
	pol=$(esc_policy_allowed_host)
	esc_sh "$pol" "$ESC_DIR/privs-suid | sed 's/^/suid-/'; $ESC_DIR/privs-fcap | sed 's/^/fcap-/'"
	for line in "$(esc_line suid-privs)" "$(esc_line fcap-privs)"; do
		if [ -z "$line" ]; then
			continue
		fi
		assert_contains "$line" "euid=$ESC_EXPECT_UID " "effective uid after exec ($line)"
		hex=$(printf '%s' "$line" | sed -n 's/.*capeff=\([0-9a-f]*\).*/\1/p')
		for cap in 12 13 21 39; do
			[ $(((0x$hex >> cap) & 1)) = 0 ] || fail "capability $cap granted by exec: $line"
		done
	done
	[ -n "$(esc_line suid-privs)" ] || fail "the set-uid helper did not run: $AWF_ERR"
	[ -n "$(esc_line fcap-privs)" ] || assert_contains "$AWF_ERR" "privs-fcap: Operation not permitted" "exec of the file-capability helper"
}
test_escape_setuid_filecaps() { escape_both esc_setuid_filecaps; }

# ------------------------------------------------------ who runs it

# Not an attack: the two ways the battery's "user" runs select nobody
# (--user nobody, and SUDO_UID/SUDO_GID as sudo sets them) give uid 65534
# with no capabilities at all; a root run keeps uid 0 without the
# dropped ones.
test_escape_user_selection() {
	local pol eff
	pol=$(policy p '')
	awf run --user nobody --policy "$pol" -- sh -c 'id -u; grep ^CapEff /proc/self/status'
	assert_eq 0 "$AWF_RC" "awf-bpf run --user nobody"
	assert_eq 65534 "$(printf '%s\n' "$AWF_OUT" | sed -n 1p)" "uid with --user nobody"
	assert_match "$(printf '%s\n' "$AWF_OUT" | sed -n 2p)" 'CapEff:[[:space:]]+0+$' "capabilities with --user nobody"
	SUDO_UID=65534 SUDO_GID=65534 SUDO_USER=nobody awf run --policy "$pol" -- sh -c 'id -u; id -g'
	assert_eq 0 "$AWF_RC" "awf-bpf run with SUDO_UID=65534"
	assert_eq "65534
65534" "$AWF_OUT" "uid and gid with SUDO_UID/SUDO_GID=65534"
	(
		unset SUDO_UID SUDO_GID SUDO_USER
		awf run --policy "$pol" -- sh -c 'id -u; grep ^CapEff /proc/self/status'
		assert_eq 0 "$(printf '%s\n' "$AWF_OUT" | sed -n 1p)" "uid of a root run"
		eff=$(printf '%s\n' "$AWF_OUT" | sed -n 2p)
		eff=${eff##*[[:space:]]}
		for cap in 12 13 21 39; do
			[ $(((0x$eff >> cap) & 1)) = 0 ] || fail "a root run holds capability $cap (CapEff $eff)"
		done
	) || exit 1
}
