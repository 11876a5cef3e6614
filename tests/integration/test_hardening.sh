# shellcheck shell=bash
# Workload hardening: the user it runs as (sudo user, --user), the
# capabilities it never has, the seccomp filter, the PID namespace with
# our init as pid 1 and a /proc of its own, and no inherited descriptor.

# The capabilities no workload may hold, even as root (bit:name).
HARDEN_DROPPED="12:NET_ADMIN 13:NET_RAW 21:SYS_ADMIN 39:BPF 38:PERFMON 19:SYS_PTRACE
16:SYS_MODULE 17:SYS_RAWIO 22:SYS_BOOT 27:MKNOD 25:SYS_TIME 30:AUDIT_CONTROL
33:MAC_ADMIN 32:MAC_OVERRIDE"

# cap_line SET: the hex value of SET (CapEff...) in $AWF_OUT.
cap_value() {
	local line
	line=$(printf '%s\n' "$AWF_OUT" | grep "^$1:")
	printf '%s\n' "${line##*[[:space:]]}"
}

# assert_no_caps: every capability set printed in $AWF_OUT is empty.
assert_no_caps() {
	local set
	for set in CapInh CapPrm CapEff CapBnd CapAmb; do
		assert_eq 0000000000000000 "$(cap_value "$set")" "$set of the workload"
	done
}

# An identity report: uid, gid, groups, capabilities, HOME/USER/LOGNAME.
ID_SCRIPT='echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"; echo "env=$HOME,$USER,$LOGNAME"; grep "^Cap" /proc/self/status'

id_line() { printf '%s\n' "$AWF_OUT" | grep "^$1="; }

test_hardening_runs_as_sudo_user() {
	local pol
	pol=$(policy p '')
	# awf-bpf itself holds extra groups: the workload must not keep them.
	SUDO_UID=65534 SUDO_GID=65534 awf_run --policy "$pol" -- sh -c "$ID_SCRIPT"
	assert_eq 0 "$AWF_RC" "exit status"
	assert_eq "uid=65534 gid=65534 groups=$(id -G nobody)" "$(id_line uid)" "identity under SUDO_UID=65534 SUDO_GID=65534"
	assert_eq "env=/nonexistent,nobody,nobody" "$(id_line env)" "HOME,USER,LOGNAME"
	assert_no_caps
	# Supplementary groups of awf-bpf (here: 4 and 27) are not inherited.
	local groups
	groups=$(SUDO_UID=65534 SUDO_GID=65534 timeout 30 setpriv --groups 4,27 -- \
		"$AWF" run --policy "$pol" -- id -G 2>"$TEST_TMP/err" </dev/null) ||
		fail "setpriv --groups 4,27 awf-bpf run: $(cat "$TEST_TMP/err")"
	assert_eq "$(id -G nobody)" "$groups" "groups of the workload when awf-bpf has groups 4,27"
	# Malformed: never guess, never run.
	SUDO_UID=nobody SUDO_GID=65534 awf_run --policy "$pol" -- echo ran
	assert_eq 125 "$AWF_RC" "SUDO_UID=nobody"
	assert_not_contains "$AWF_OUT" "ran" "stdout"
	# Not through sudo: the invoking user (root).
	awf_run --policy "$pol" -- id -u
	assert_eq 0 "$AWF_OUT" "uid without SUDO_UID and --user"
}

test_hardening_user_option() {
	local pol
	pol=$(policy p '')
	# --user wins over the sudo user.
	SUDO_UID=0 SUDO_GID=0 awf_run --policy "$pol" --user nobody -- sh -c "$ID_SCRIPT"
	assert_eq 0 "$AWF_RC" "exit status"
	assert_eq "uid=65534 gid=65534 groups=$(id -G nobody)" "$(id_line uid)" "--user nobody"
	assert_eq "env=/nonexistent,nobody,nobody" "$(id_line env)" "HOME,USER,LOGNAME of --user nobody"
	assert_no_caps
	awf_run --policy "$pol" --user 65534:65533 -- sh -c 'echo "$(id -u):$(id -g)"'
	assert_eq "65534:65533" "$AWF_OUT" "--user 65534:65533"
	awf_run --policy "$pol" --user 4242:4242 -- sh -c 'echo "$(id -u):$(id -g):$(id -G)"'
	assert_eq "4242:4242:4242" "$AWF_OUT" "--user 4242:4242 (no passwd entry, no supplementary group)"
	awf_run --policy "$pol" --user awft-no-such-user -- echo ran
	assert_eq 125 "$AWF_RC" "--user awft-no-such-user"
	assert_not_contains "$AWF_OUT" "ran" "stdout"
	awf_run --policy "$pol" --user 4242 -- echo ran
	assert_eq 125 "$AWF_RC" "--user 4242 (no passwd entry, no gid)"
	assert_not_contains "$AWF_OUT" "ran" "stdout"
}

test_hardening_user_root_keeps_no_dangerous_caps() {
	local pol set hex entry bit
	pol=$(policy p '')
	SUDO_UID=65534 SUDO_GID=65534 awf_run --policy "$pol" --user root -- sh -c "$ID_SCRIPT"
	assert_eq 0 "$AWF_RC" "exit status"
	assert_eq "uid=0 gid=0 groups=$(id -G root)" "$(id_line uid)" "--user root"
	for set in CapPrm CapEff CapBnd CapInh CapAmb; do
		hex=$(cap_value "$set")
		[ -n "$hex" ] || fail "no $set in: $AWF_OUT"
		for entry in $HARDEN_DROPPED; do
			bit=${entry%%:*}
			[ $(((0x$hex >> bit) & 1)) = 0 ] || fail "$set of --user root holds CAP_${entry#*:} ($hex)"
		done
	done
	assert_ne 0000000000000000 "$(cap_value CapEff)" "CapEff of --user root (keeps the others)"
}

# Ambient capabilities survive exec: a caller's (capsh --addamb, a
# systemd AmbientCapabilities=) must not reach a root workload.
test_hardening_clears_inherited_ambient_caps() {
	local pol real=$AWF
	command -v capsh >/dev/null || skip_test "capsh not installed"
	pol=$(policy p '')
	cat >"$TEST_TMP/awf-ambient" <<EOF
#!/bin/sh
exec capsh --inh=cap_net_bind_service,cap_sys_nice \\
	--addamb=cap_net_bind_service,cap_sys_nice \\
	-- -c 'grep "^CapAmb:" /proc/self/status >&2; exec "\$0" "\$@"' "$real" "\$@"
EOF
	chmod +x "$TEST_TMP/awf-ambient"
	AWF=$TEST_TMP/awf-ambient awf_run --policy "$pol" --user root -- sh -c "$ID_SCRIPT"
	assert_eq 0 "$AWF_RC" "exit status"
	assert_contains "$AWF_ERR" "0000000000800400" "ambient set awf-bpf was started with"
	assert_eq 0000000000000000 "$(cap_value CapAmb)" "CapAmb of --user root started with ambient capabilities"
}

# The syscalls the filter denies, one "name RESULT" line each (RESULT:
# ok or the errno name). unshare, clone, vsock, netlink audit, ptrace,
# io_uring and keyctl succeed for root without capabilities: only seccomp
# refuses them. The others need a dropped capability as well.
seccomp_script() {
	cat >"$TEST_TMP/sc.py" <<'EOF'
import ctypes, errno, os, platform, socket, subprocess, threading
libc = ctypes.CDLL(None, use_errno=True)
NR = {"x86_64": {"clone": 56, "bpf": 321, "keyctl": 250},
      "aarch64": {"clone": 220, "bpf": 280, "keyctl": 219}}[platform.machine()]
CLONE_NEWUSER = 0x10000000

def report(name, fn):
    try:
        r = fn()
        if isinstance(r, int) and r < 0:
            e = ctypes.get_errno()
            print(name, errno.errorcode.get(e, e), flush=True)
            return
        print(name, "ok", flush=True)
    except OSError as e:
        print(name, errno.errorcode.get(e.errno, e.errno), flush=True)

def unshare_user():
    if hasattr(os, "unshare"):
        return os.unshare(CLONE_NEWUSER)
    return libc.unshare(CLONE_NEWUSER)

def clone_newuser():
    pid = libc.syscall(NR["clone"], CLONE_NEWUSER | 17, 0, 0, 0, 0)
    if pid == 0:
        os._exit(0)
    if pid > 0:
        os.waitpid(pid, 0)
    return pid

buf = ctypes.create_string_buffer(256)
# clone first: after a successful unshare, uid 0 has no mapping in the
# parent user namespace and a nested one is refused whatever the filter.
report("clone_newuser", clone_newuser)
report("unshare", unshare_user)
report("packet", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0).close())
report("vsock", lambda: socket.socket(40, socket.SOCK_STREAM, 0).close())
report("netlink_audit", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 9).close())
report("netlink_route", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0).close())
report("bpf", lambda: libc.syscall(NR["bpf"], 11, buf, 128))
report("mount", lambda: libc.mount(b"none", b"/mnt", b"tmpfs", 0, None))
report("setns", lambda: libc.setns(os.open("/proc/self/ns/net", os.O_RDONLY), 0))
report("io_uring_setup", lambda: libc.syscall(425, 8, buf))
report("keyctl", lambda: libc.syscall(NR["keyctl"], 0, -3, 1))
report("clone3", lambda: libc.syscall(435, buf, 88))
report("ptrace", lambda: libc.ptrace(0, 0, 0, 0))
t = threading.Thread(target=lambda: None)
report("thread", lambda: (t.start(), t.join()) and None)
report("subprocess", lambda: subprocess.run(["true"], check=True) and None)
for l in open("/proc/self/status"):
    if l.startswith("Seccomp:"):
        print("seccomp_mode", l.split()[1])
EOF
}

sc_result() { printf '%s\n' "$AWF_OUT" | awk -v n="$1" '$1 == n { print $2 }'; }

test_hardening_seccomp_denies() {
	local pol name
	pol=$(policy p '')
	seccomp_script
	awf_run --policy "$pol" -- "$PY" "$TEST_TMP/sc.py"
	assert_eq 0 "$AWF_RC" "exit status"
	for name in unshare clone_newuser packet vsock netlink_audit bpf mount setns io_uring_setup keyctl ptrace; do
		assert_eq EPERM "$(sc_result "$name")" "$name in the sandbox"
	done
	assert_eq ENOSYS "$(sc_result clone3)" "clone3 (libc falls back to clone)"
	assert_eq ok "$(sc_result netlink_route)" "NETLINK_ROUTE socket"
	assert_eq ok "$(sc_result thread)" "a thread (clone3 → clone fallback)"
	assert_eq ok "$(sc_result subprocess)" "a subprocess"
	assert_eq 2 "$(sc_result seccomp_mode)" "Seccomp: of the workload (2: filter)"
	assert_not_contains "$AWF_ERR" "seccomp-log" "stderr without --seccomp-log"
	# The same as a non-root user (the filter does not depend on the uid).
	chmod 0711 "$TEST_TMP"
	chmod 0644 "$TEST_TMP/sc.py"
	awf_run --policy "$pol" --user nobody -- "$PY" "$TEST_TMP/sc.py"
	for name in unshare clone_newuser vsock netlink_audit io_uring_setup ptrace; do
		assert_eq EPERM "$(sc_result "$name")" "$name as nobody"
	done
}

# host_features: "name RESULT" lines, as seccomp_script prints them, for
# what a kernel may lack (vsock not loadable, io_uring off or not built,
# no keyrings, user namespaces off), probed outside the sandbox by an
# unprivileged process (nobody, no capabilities): what the kernel refuses
# there, it refuses the sandbox whatever seccomp says.
host_features() {
	(cd / && setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" -c '
import ctypes, errno, os, socket
libc = ctypes.CDLL(None, use_errno=True)
def report(name, r, e=0):
    print(name, "ok" if r >= 0 else errno.errorcode.get(e, e), flush=True)
try:
    socket.socket(40, socket.SOCK_STREAM, 0).close(); report("vsock", 0)
except OSError as ex:
    report("vsock", -1, ex.errno)
try:
    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 9).close(); report("netlink_audit", 0)
except OSError as ex:
    report("netlink_audit", -1, ex.errno)
buf = ctypes.create_string_buffer(256)
fd = libc.syscall(425, 8, buf); report("io_uring_setup", fd, ctypes.get_errno())
if fd >= 0: os.close(fd)
report("keyctl", libc.syscall(250, 0, -3, 1), ctypes.get_errno())
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.write(w, b"%d" % (0 if libc.unshare(0x10000000) == 0 else ctypes.get_errno())); os._exit(0)
os.waitpid(pid, 0); e = int(os.read(r, 16))
report("unshare", -1 if e else 0, e); report("clone_newuser", -1 if e else 0, e)
report("ptrace", 0)')
}

test_hardening_seccomp_log_lets_through() {
	local pol name want
	pol=$(policy p '')
	seccomp_script
	awf_run --policy "$pol" --seccomp-log -- "$PY" "$TEST_TMP/sc.py"
	assert_eq 0 "$AWF_RC" "exit status"
	assert_match "$(printf '%s\n' "$AWF_ERR" | head -n 1)" '^awf-bpf: --seccomp-log: .*ALLOWED.*does not enforce' \
		"first line on stderr (the warning, before anything runs)"
	# What only seccomp refused now passes (and is logged by the kernel),
	# unless this kernel refuses it outside the sandbox too.
	host_features >"$TEST_TMP/host-features" || fail "probing the kernel's features: $(cat "$TEST_TMP/host-features")"
	for name in unshare clone_newuser vsock netlink_audit io_uring_setup keyctl ptrace; do
		want=$(awk -v n="$name" '$1 == n { print $2 }' "$TEST_TMP/host-features")
		[ -n "$want" ] || fail "no probe result for $name: $(cat "$TEST_TMP/host-features")"
		[ "$want" = ok ] || log "$name: $want outside the sandbox as well: this kernel lacks it"
		assert_eq "$want" "$(sc_result "$name")" "$name under --seccomp-log"
	done
	# What a dropped capability refuses stays refused.
	for name in packet bpf mount setns; do
		assert_eq EPERM "$(sc_result "$name")" "$name under --seccomp-log (capabilities)"
	done
	assert_eq ENOSYS "$(sc_result clone3)" "clone3 under --seccomp-log"
	assert_eq ok "$(sc_result subprocess)" "a subprocess after PTRACE_TRACEME (init lets a tracee go)"
}

test_hardening_pid_namespace() {
	local pol host_pid=$BASHPID hostnet ps procs
	pol=$(policy p '')
	hostnet=$(readlink /proc/self/ns/net)
	# ps and ls straight into files: no subshell to show up in the lists.
	awf_run --policy "$pol" -- sh -c "
		echo self=\$\$
		echo init=\$(cat /proc/1/comm)
		ps -e -o pid=,comm= >$TEST_TMP/ps
		ls /proc >$TEST_TMP/procs
		ls /proc/$host_pid/root/ >/dev/null 2>&1 && echo host-root=reachable || echo host-root=unreachable
		ls /proc/1/root/ >/dev/null 2>&1 && echo init-root=reachable || echo init-root=unreachable
		echo net=\$(readlink /proc/self/ns/net)"
	assert_eq 0 "$AWF_RC" "exit status"
	assert_eq "self=2" "$(id_line self)" "the workload's pid in its namespace"
	assert_eq "init=awf-bpf-init" "$(id_line init)" "pid 1 in the sandbox"
	ps=$(tr -s ' \n' ' ' <"$TEST_TMP/ps")
	procs=$(grep -E '^[0-9]+$' "$TEST_TMP/procs" | tr '\n' ' ')
	assert_match "$ps" '^ ?1 awf-bpf-init 2 sh [0-9]+ ps ?$' "ps -e in the sandbox"
	assert_match "$procs" '^1 2 [0-9]+ ?$' "pids in the sandbox's /proc (init, sh, ls)"
	assert_eq "host-root=unreachable" "$(id_line host-root)" "/proc/$host_pid/root (a host process)"
	assert_eq "init-root=unreachable" "$(id_line init-root)" "/proc/1/root (the sandbox's init)"
	assert_eq "net=$hostnet" "$(id_line net)" "network namespace (the host's)"
}

test_hardening_init_reaps_orphans() {
	local pol
	pol=$(policy p '')
	# The subshell exits at once: its sleep is re-parented to init.
	awf_run --policy "$pol" -- sh -c '(sleep 0.2 &); sleep 0.8; ps -e -o stat=,comm= | grep "^Z" | wc -l'
	assert_eq 0 "$AWF_RC" "exit status"
	assert_eq 0 "$AWF_OUT" "zombies left in the sandbox"
}

# run_signalled SIGNAL SCRIPT: start the workload, send SIGNAL to awf-bpf
# once it has touched $TEST_TMP/ready; sets SIG_RC.
run_signalled() {
	local sig=$1 script=$2 pid i
	"$AWF" run --policy "$(policy p '')" -- sh -c "$script" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null &
	pid=$!
	wait_file "$TEST_TMP/ready" 100 || { kill -9 "$pid"; fail "workload did not start: $(cat "$TEST_TMP/err")"; }
	kill "-$sig" "$pid"
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && { kill -9 "$pid"; fail "awf-bpf still running 10 s after SIG$sig"; }
	wait "$pid"
	SIG_RC=$?
	rm -f "$TEST_TMP/ready"
}

test_hardening_signals_through_init() {
	local marker=$TEST_TMP/marker
	run_signalled TERM "
		trap 'cat /proc/1/comm >$marker; trap - TERM; kill -TERM \$\$' TERM
		touch $TEST_TMP/ready
		i=0; while [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done; exit 3"
	assert_eq 143 "$SIG_RC" "exit status after SIGTERM to awf-bpf"
	assert_eq awf-bpf-init "$(cat "$marker" 2>/dev/null)" "the TERM trap ran (under our init)"
	run_signalled USR1 "
		trap 'exit 7' USR1
		touch $TEST_TMP/ready
		i=0; while [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done; exit 3"
	assert_eq 7 "$SIG_RC" "exit status after SIGUSR1 to awf-bpf (trapped: exit 7)"
	run_signalled INT "
		touch $TEST_TMP/ready
		i=0; while [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done; exit 3"
	assert_eq 130 "$SIG_RC" "exit status after SIGINT to awf-bpf (untrapped)"
}

test_hardening_exit_codes_unchanged() {
	local pol code
	pol=$(policy p '')
	for code in 0 3 125 126 127 200 255; do
		awf_run --policy "$pol" -- sh -c "exit $code"
		assert_eq "$code" "$AWF_RC" "sh -c 'exit $code'"
	done
	awf_run --policy "$pol" -- sh -c 'kill -SEGV $$'
	assert_eq 139 "$AWF_RC" "sh -c 'kill -SEGV \$\$'"
	awf_run --policy "$pol" -- sh -c 'kill -9 $$'
	assert_eq 137 "$AWF_RC" "sh -c 'kill -9 \$\$'"
	awf_run --policy "$pol" --user nobody -- sh -c 'kill -TERM $$'
	assert_eq 143 "$AWF_RC" "sh -c 'kill -TERM \$\$' as nobody"
}

test_hardening_no_descriptor_inherited() {
	local pid init wl fd flags bad="" ready=$TEST_TMP/ready go=$TEST_TMP/go
	# Only 0-2 reach awf-bpf: whatever else it holds is its own.
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-"
		done
		exec "$AWF" run --policy "$(policy p '"allow_domains": ["allowed.test"]')" -- \
			sh -c "touch $ready; i=0; while [ ! -e $go ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done; ls /proc/self/fd"
	) >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null &
	pid=$!
	BG_PIDS+=("$pid")
	wait_file "$ready" 100 || fail "workload did not start: $(cat "$TEST_TMP/err")"
	for fd in /proc/"$pid"/fdinfo/*; do
		[ "${fd##*/}" -gt 2 ] || continue
		flags=$(awk '/^flags:/ { print $2 }' "$fd")
		[ $((8#$flags & 8#2000000)) != 0 ] || bad+=" ${fd##*/}($(readlink "/proc/$pid/fd/${fd##*/}"))"
	done
	init=$(pgrep -P "$pid")
	wl=$(pgrep -P "$init")
	log "awf-bpf $pid: $(ls /proc/"$pid"/fd | wc -l) fds; init $init: $(ls /proc/"$init"/fd | tr '\n' ' '); workload $wl: $(ls /proc/"$wl"/fd | tr '\n' ' ')"
	assert_lt 5 "$(ls /proc/"$pid"/fd | wc -l)" "descriptors of awf-bpf (maps, sockets...: the check must see some)"
	assert_eq "" "$bad" "descriptors of awf-bpf without O_CLOEXEC"
	assert_eq "0 1 2" "$(ls /proc/"$init"/fd | sort -n | tr '\n' ' ' | sed 's/ $//')" "descriptors of the sandbox's init"
	assert_eq "0 1 2" "$(ls /proc/"$wl"/fd | sort -n | tr '\n' ' ' | sed 's/ $//')" "descriptors of the workload"
	touch "$go"
	wait "$pid"
	assert_eq 0 "$?" "exit status"
	# ls itself has its directory open as 3.
	assert_eq "0 1 2 3" "$(tr '\n' ' ' <"$TEST_TMP/out" | sed 's/ $//')" "ls /proc/self/fd in the workload"
}

test_hardening_kernel_knobs_read_only() {
	# Root in the sandbox writes each knob's current value back: nothing
	# changes even if a write got through. kernel.core_pattern and
	# uevent_helper would run a program of its choice as root, outside.
	local pol knob
	pol=$(policy p '')
	awf_run --policy "$pol" -- sh -c '
		for f in /proc/sys/kernel/core_pattern /proc/sys/kernel/core_uses_pid /sys/kernel/uevent_helper; do
			[ -e "$f" ] || { echo "$f absent"; continue; }
			if printf "%s\n" "$(cat "$f")" >"$f" 2>/dev/null; then echo "$f written"; else echo "$f refused"; fi
		done
		awk "\$5 == \"/sys\" || \$5 == \"/sys/kernel/tracing\" || \$5 == \"/proc/sys\" { split(\$6, o, \",\"); print \$5, o[1] }" /proc/self/mountinfo'
	assert_eq 0 "$AWF_RC" "exit status"
	for knob in /proc/sys/kernel/core_pattern /proc/sys/kernel/core_uses_pid /sys/kernel/uevent_helper; do
		assert_not_contains "$AWF_OUT" "$knob written" "writing $knob as root in the sandbox"
	done
	assert_contains "$AWF_OUT" "/proc/sys/kernel/core_pattern refused" "kernel.core_pattern"
	assert_contains "$AWF_OUT" "/proc/sys ro" "the sandbox's /proc/sys mount"
	assert_contains "$AWF_OUT" "/sys ro" "the sandbox's /sys mount"
	assert_not_contains "$AWF_OUT" " rw" "mounts under /sys and /proc/sys"
}
