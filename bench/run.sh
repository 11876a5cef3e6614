#!/usr/bin/env bash
# bench/run.sh - the awf-bpf benchmark suite (`sudo make bench`).
#
# Every figure is a ratio against a baseline measured in the same run, the
# two interleaved round by round so that machine noise hits both alike:
#
#   1. start-up   hyperfine -N: awf-bpf run -- /bin/true against /bin/true,
#                 unshare -n, unshare --fork --pid --mount --cgroup (the
#                 goal's baseline), systemd-run and bwrap (where they
#                 work); 20 runs started at once (bench/concurrent.py); the
#                 BPF open/load/verify/attach breakdown (bench/load_bench.c,
#                 and strace -T of its bpf() calls)
#   2. connect    bench/connect_bench.c: ns per TCP connection and per UDP
#                 connect+send, on loopback and to the testbed, with awf-bpf
#                 policies of 10, 10k and 1M CIDR entries, against no filter,
#                 an iptables chain and an nftables set of the same entries
#                 (bench/connect_driver.py alternates short batches); then
#                 the kernel's run time of each BPF program per operation,
#                 and of programs that allow at once at the same hooks
#                 (bench/hook_floor.bpf.c): the floor of that figure
#   3. packet     iperf3 bulk TCP over the testbed veth, from a sandbox
#                 (every awf-bpf hook attached) and from no sandbox; to a
#                 learned name with its first bytes checked, and the same
#                 policy with "name_check": false
#   3b. names     per connection: connect + a 517-byte ClientHello + close
#                 to a learned name, name check on and off; the run time
#                 of each BPF program (sock_ops, sk_msg among them)
#   4. DNS        bench/dns.sh (dnsperf through the filter and straight, to a
#                 loopback dnsmasq and to the testbed's; goals dns-qps, dns-latency)
#   5. memory     RSS of awf-bpf; BPF map and program memory of a sandbox;
#                 per 1k learned addresses (written into learned4 by bpftool);
#                 large policies (1M CIDRs, 100k domains): time until the
#                 command runs and peak RSS (goals cidrs-1m, domains-100k)
#   6. agent      bench/agent.sh: run through the agent vs standalone,
#                 sandboxes built per second, memory per sandbox
#                 (bench/results/agent-latest.txt)
#
# Writes bench/results/latest.json, bench/results/latest.md, and the
# generated part of docs/benchmarks.md (between its BEGIN/END markers).
#
# Not a test: `make test` never runs it. Root. Installs hyperfine, iperf3,
# dnsperf, iptables, nftables and strace from Debian when missing.
# Traffic goes to loopback and to the testbed network namespace only
# (tests/testbed/), which it brings up and down itself under the test lock
# /run/awf-bpf-tests.lock (so a test run and the benchmark never share it).
# iptables/nftables: it adds a chain per size in table ip filter, one table
# ip awf_bench, and a jump that matches only its own cgroup while one
# measurement runs; all removed on exit (also on INT/TERM), the rest of the
# host's rules untouched. Bounded: BENCH_BUDGET seconds (780) in all.
#
# Knobs (environment): ROUNDS (3), SIZES ("10 10000 1000000"),
# CONNECT_CYCLES (20) of CONNECT_BATCH seconds (0.15) per filter and case,
# LOAD_ITERS (10) of load_bench, IPERF_ROUNDS (2 * ROUNDS) of IPERF_PAIRS
# (3) pairs of IPERF_SECONDS (2) transfers, BENCH_BUDGET,
# BENCH_QUICK=1 (`make bench-quick`: one round, sizes 10 and 10000, short
# runs, 180 s in all: a check of a change; results in bench/results/quick,
# docs/benchmarks.md untouched unless BENCH_DOC names it),
# BENCH_PHASES (which of "startup connect progstats packet names dns memory
# agent" run; default all),
# BENCH_OUT and BENCH_DOC (where latest.* and the doc go).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SELF=$ROOT/bench/run.sh
# shellcheck source=../tests/testbed/addresses.sh
. "$ROOT/tests/testbed/addresses.sh"
BUILD=${BUILD:-$ROOT/build} # where `make all bench-tools` left awf-bpf and the tools
AWF=${AWF:-$BUILD/awf-bpf}
LOCK=/run/awf-bpf-tests.lock

if [ -n "${BENCH_QUICK:-}" ]; then
	ROUNDS=${ROUNDS:-1}
	SIZES=${SIZES:-10 10000}
	CONNECT_CYCLES=${CONNECT_CYCLES:-2} # a warm-up cycle and one measured
	LOAD_ITERS=${LOAD_ITERS:-3}
	IPERF_SECONDS=${IPERF_SECONDS:-1}
	IPERF_ROUNDS=${IPERF_ROUNDS:-5} # the fewest the A/A control judges with
	IPERF_PAIRS=${IPERF_PAIRS:-2}
	export SECONDS_PER_RUN=${SECONDS_PER_RUN:-1}
	BENCH_BUDGET=${BENCH_BUDGET:-180} # make bench-quick: three minutes
	# A check of a change: the committed results and docs stay as they are.
	BENCH_OUT=${BENCH_OUT:-$ROOT/bench/results/quick}
	BENCH_DOC=${BENCH_DOC-}
fi
OUT=${BENCH_OUT:-$ROOT/bench/results}
DOC=${BENCH_DOC-$ROOT/docs/benchmarks.md} # empty: no doc written
RESERVE=45 # seconds kept for the report and the cleanup
[ -n "${BENCH_QUICK:-}" ] && RESERVE=10
ROUNDS=${ROUNDS:-3}
SIZES=${SIZES:-10 10000 1000000}
CONNECT_CYCLES=${CONNECT_CYCLES:-20}
CONNECT_BATCH=${CONNECT_BATCH:-0.15}
LOAD_ITERS=${LOAD_ITERS:-10}
IPERF_SECONDS=${IPERF_SECONDS:-2}
# Fewer rounds of more pairs: a round's error falls with its number of
# connections, the largest of the rounds' errors grows with the rounds.
IPERF_ROUNDS=${IPERF_ROUNDS:-$((ROUNDS * 2))}
IPERF_PAIRS=${IPERF_PAIRS:-3} # pairs of transfers per sender and round
BENCH_BUDGET=${BENCH_BUDGET:-780}
PORT=7101       # connect_bench server, loopback and testbed
IPERF_PORT=5201  # iperf3 server in the testbed
IPERF_PORT2=5202 # its twin: the two transfers of a packet round at once

say() { printf 'bench: [%4ds] %s\n' "$SECONDS" "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (sudo make bench)"

# ------------------------------------------------------------ lock, bound

# One testbed per machine: wait for a test run or demo to end, then bound
# the whole suite. The lock's fd is inherited by the timed re-run.
if [ -z "${AWF_BENCH_INNER:-}" ]; then
	exec 9>"$LOCK"
	say "waiting for $LOCK (a test run may hold it)"
	flock -w 900 9 || die "another test run holds $LOCK"
	export AWF_BENCH_INNER=1
	# timeout signals the whole process group: the TERM trap below cleans up.
	exec timeout -k 30 "$BENCH_BUDGET" "$SELF" "$@"
fi
DEADLINE=$((SECONDS + BENCH_BUDGET - RESERVE)) # room left for the report and cleanup
left() { echo $((DEADLINE - SECONDS)); }

# What each phase takes in quick mode here (2 cores, other builds
# running), in seconds: what the time-budget checks of quick mode keep
# free for the phases still to come. The checks of a full run keep the
# amounts written at each check.
declare -A QUICK_SECS=([startup]=25 [connect]=25 [progstats]=15 [packet]=35
	[names]=6 [dns]=15 [memory]=20 [agent]=15)
PHASE_ORDER=(startup connect progstats packet names dns memory agent)
BENCH_PHASES=${BENCH_PHASES:-${PHASE_ORDER[*]}}
want() { case " $BENCH_PHASES " in *" $1 "*) return 0 ;; esac; return 1; }

# Quick mode: the seconds of the selected phases after PHASE.
quick_after() { # phase
	local p after=0 seen=0
	for p in "${PHASE_ORDER[@]}"; do
		[ "$seen" = 1 ] && want "$p" && after=$((after + QUICK_SECS[$p]))
		[ "$p" = "$1" ] && seen=1
	done
	echo "$after"
}

# What must stay free when the next step of PHASE starts: FULL seconds in
# a full run; in quick mode, OWN seconds for the step itself and what the
# phases still to come take.
reserve_for() { # full phase own
	if [ -n "${BENCH_QUICK:-}" ]; then echo $(($3 + $(quick_after "$2"))); else echo "$1"; fi
}
room() { # full phase own: whether the step fits
	local need
	need=$(reserve_for "$@")
	[ "$(left)" -gt "$need" ] && return 0
	ROOM_WHY="time budget: $(left) s left, $need s needed"
	return 1
}

# ------------------------------------------------------------ set-up

NEED=(hyperfine:hyperfine iperf3:iperf3 dnsperf:dnsperf iptables:iptables
	nft:nftables strace:strace bpftool:bpftool jq:jq)
missing=()
for n in "${NEED[@]}"; do
	command -v "${n%%:*}" >/dev/null 2>&1 || missing+=("${n#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing: ${missing[*]}"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get install ${missing[*]} failed"
fi
[ -x "$AWF" ] || die "$AWF is missing (make all)"
for t in connect_bench load_bench; do
	[ -x "$BUILD/bench/$t" ] || die "$BUILD/bench/$t is missing (make bench-tools)"
done

CG2=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") { print $5; exit } break } }' /proc/self/mountinfo)
[ -n "$CG2" ] || die "no cgroup v2 mount"
BCG=$CG2/awf-bench # our cgroups: client (baselines), load (load_bench)
# What every awf-bpf run shares and leaves (tests/run.sh does the same):
# its cgroup parent, the pin root, the agent's run directory. Those we
# made go at the end, if empty.
AWF_SHARED_MADE=()
for d in "$CG2/awf-bpf" /sys/fs/bpf/awf-bpf /run/awf-bpf; do
	[ -d "$d" ] || AWF_SHARED_MADE+=("$d")
done

WORK=$(mktemp -d /tmp/awf-bench.XXXXXX)
chmod 0755 "$WORK" # the sandboxed commands run as the sudo user
BIN=$WORK/bin
PIDS=()           # servers we started
IPT_CHAINS=()     # chains we created in table ip filter
IPT_TABLE_WAS=0   # table ip filter existed before us
IPT_OUTPUT_WAS=0  # its OUTPUT chain existed before us
IPT_LOADED=0      # we looked at table ip filter and loaded our chains
NFT_TABLE=0       # table ip awf_bench is ours
BPF_STATS_WAS=    # kernel.bpf_stats_enabled before we turned it on
AUTOGROUP_WAS=    # our autogroup's nice value before the packet phase raised it

note() { # a line for the report: what was skipped or failed, and why
	say "note: $*"
	printf '%s\n' "$*" >>"$WORK/notes.txt"
}

# A row of the goals table (issue 14), from the phase that measured it:
# goal ID MEASURED MET, MET yes or no. The goal's text and the rows that
# no phase measured come from GOALS in bench/report.py; a phase whose
# figure is derived from several samples may instead call add_goal() there.
goal() {
	printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$WORK/goals.tsv"
}

# Handles of the rules of table ip filter's OUTPUT that jump to $1.
ipt_jump_handles() {
	nft -a list chain ip filter OUTPUT 2>/dev/null |
		sed -n "s/.* jump $1 # handle \([0-9][0-9]*\)\$/\1/p"
}

# Removing a rule with iptables -D makes iptables-nft dump the whole table:
# minutes with a million rules. nft deletes our own objects by handle.
ipt_off() { # chain
	local h
	for h in $(ipt_jump_handles "$1"); do
		nft delete rule ip filter OUTPUT handle "$h" 2>/dev/null
	done
	# An empty OUTPUT base chain of our making would still cost every
	# packet of the host something: remove it between measurements (nft
	# would delete it with any rules in it: count them first).
	if [ "$IPT_OUTPUT_WAS" = 0 ] && nft list chain ip filter OUTPUT >/dev/null 2>&1 &&
		[ "$(nft list chain ip filter OUTPUT 2>/dev/null | grep -cvE '^[[:space:]]*(table |chain |type |#|\}|$)')" = 0 ]; then
		nft delete chain ip filter OUTPUT 2>/dev/null
	fi
	return 0
}

ipt_cleanup() {
	local c
	for c in "${IPT_CHAINS[@]}"; do
		ipt_off "$c"
		nft flush chain ip filter "$c" 2>/dev/null
		nft delete chain ip filter "$c" 2>/dev/null
	done
	IPT_CHAINS=()
	# Table ip filter, if we created it and nothing else is in it.
	if [ "$IPT_LOADED" = 1 ] && [ "$IPT_TABLE_WAS" = 0 ] && nft list table ip filter >/dev/null 2>&1 &&
		! nft list table ip filter 2>/dev/null | grep -q 'chain '; then
		nft delete table ip filter 2>/dev/null
	fi
	return 0
}

nft_off() { # only ever in our own table
	[ "$NFT_TABLE" = 1 ] || return 0
	nft flush chain ip awf_bench out 2>/dev/null
	nft delete chain ip awf_bench out 2>/dev/null
	return 0
}

# With sched_autogroup_enabled (Debian's default) every session shares
# the CPU with every other session at equal weight, whatever the nice
# value of its processes: the builds of another login take half a CPU
# from a benchmark at nice -20. 3. packet raises the autogroup of our
# session (the sandboxes are in it too: awf-bpf makes no new session)
# for its transfers, and puts it back after (and on exit).
AUTOGROUP=/proc/$$/autogroup
autogroup_raise() {
	[ -w "$AUTOGROUP" ] && [ "$(sysctl -n kernel.sched_autogroup_enabled 2>/dev/null)" = 1 ] || return 1
	AUTOGROUP_WAS=$(sed -n 's/.* nice \(-\{0,1\}[0-9]*\)$/\1/p' "$AUTOGROUP")
	[ -n "$AUTOGROUP_WAS" ] || return 1
	echo -20 >"$AUTOGROUP" || { AUTOGROUP_WAS=; return 1; }
}
autogroup_restore() {
	[ -n "$AUTOGROUP_WAS" ] || return 0
	echo "$AUTOGROUP_WAS" >"$AUTOGROUP" 2>/dev/null
	AUTOGROUP_WAS=
}

cleanup() {
	local pid i cg alive
	trap - EXIT INT TERM
	[ -n "$BPF_STATS_WAS" ] && sysctl -q -w kernel.bpf_stats_enabled="$BPF_STATS_WAS"
	autogroup_restore
	nft_off
	[ "$NFT_TABLE" = 1 ] && nft delete table ip awf_bench 2>/dev/null
	ipt_cleanup
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for i in $(seq 1 20); do
		alive=0
		for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		[ "$alive" = 0 ] && break
		sleep 0.1
	done
	for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	for cg in "$BCG/client" "$BCG/load" "$BCG/floor"; do
		[ -d "$cg" ] || continue
		echo 1 >"$cg/cgroup.kill" 2>/dev/null
		for i in $(seq 1 20); do rmdir "$cg" 2>/dev/null && break; sleep 0.1; done
	done
	rmdir "$BCG" 2>/dev/null
	for i in "${AWF_SHARED_MADE[@]}"; do rmdir "$i" 2>/dev/null; done
	"$ROOT/tests/testbed/testbed.sh" down >/dev/null 2>&1 9>&-
	if [ -n "${KEEP_WORK:-}" ]; then say "samples kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM # the run's own trap comes below

mkdir -p "$BCG/client" "$BCG/load" "$BIN" "$OUT" || die "cannot create $BCG"

# CMD... in our baseline cgroup (awf-bpf puts its sandbox in a cgroup of
# the same depth): also what the iptables/nftables rules match on.
in_cg() { sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$BCG/client" "$@"; }

# Copies of awf-bpf and the tools: a rebuild of build/ during the run
# changes nothing.
cp "$AWF" "$BIN/awf-bpf" || die "copying $AWF"
cp "$BUILD/bench/connect_bench" "$BUILD/bench/load_bench" "$BUILD/bench/hook_floor" "$BIN/" ||
	die "copying the benchmark tools"
AWF=$BIN/awf-bpf
# The static build (`make static`; what the GitHub Action runs) beside it
# in phase 1: no shared library to map and relocate at every start
# (until ldns was dropped, it alone brought OpenSSL's: several ms of CPU
# per exec here).
AWF_STATIC=
if [ -x "$BUILD/awf-bpf-static" ] && ! [ "$BUILD/awf-bpf-static" -ot "$BUILD/awf-bpf" ]; then
	cp "$BUILD/awf-bpf-static" "$BIN/" && AWF_STATIC=$BIN/awf-bpf-static
fi
chmod -R a+rX "$WORK"
CB=$BIN/connect_bench

CPU_SERVER=() CPU_CLIENT=()
if [ "$(nproc)" -ge 2 ]; then CPU_SERVER=(0) CPU_CLIENT=(-c 1); fi

say "generating the allowlists ($SIZES entries)"
# shellcheck disable=SC2086
python3 "$ROOT/bench/gen_rules.py" "$WORK" "$ALLOWED4" "$DNS4" "$PORT" $SIZES ||
	die "gen_rules.py"
printf '{"version": 1, "dns_servers": ["%s"]}\n' "$DNS4" >"$WORK/p-0.json"
printf '{"version": 1, "dns_servers": ["%s"], "allow_cidrs": [{"cidr": "%s/32", "ports": [%d, %d]}]}\n' \
	"$DNS4" "$ALLOWED4" "$IPERF_PORT" "$IPERF_PORT2" >"$WORK/p-iperf.json"
# The same learned name with the name check on and off (3. packet, 3b).
for cfg in names nocheck; do
	printf '{"version": 1, "dns_servers": ["%s"], "allow_domains": [{"domain": "allowed.test", "ports": [%d, %d, %d]%s}]}\n' \
		"$DNS4" "$PORT" "$IPERF_PORT" "$IPERF_PORT2" "$([ "$cfg" = nocheck ] && echo ', "name_check": false')" >"$WORK/p-$cfg.json"
done
chmod a+r "$WORK"/*.json

# Machine and versions, for the report.
{
	echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "cpus=$(nproc)"
	echo "mem_gib=$(awk '/^MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)"
	echo "kernel=$(uname -r)"
	echo "os=Debian $(cat /etc/debian_version 2>/dev/null)"
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "awf_version=$("$AWF" --version 2>/dev/null | head -n 1)"
	rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)
	[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] && rev="$rev+changes"
	echo "git=$rev"
	echo "iptables=$(iptables -V 2>/dev/null)"
	echo "nft=$(nft -v 2>/dev/null)"
	echo "hyperfine=$(hyperfine -V 2>/dev/null)"
	echo "iperf3=$(iperf3 -v 2>/dev/null | head -n 1)"
	echo "rounds=$ROUNDS"
	echo "sizes=$SIZES"
	echo "connect_cycles=$CONNECT_CYCLES"
	echo "connect_batch=$CONNECT_BATCH"
	echo "iperf_seconds=$IPERF_SECONDS"
	echo "iperf_rounds=$IPERF_ROUNDS"
	echo "iperf_pairs=$IPERF_PAIRS"
	echo "quick=${BENCH_QUICK:-}"
} >"$WORK/meta.env"

say "testbed up"
"$ROOT/tests/testbed/testbed.sh" up >"$WORK/testbed.log" 2>&1 9>&- ||
	{ cat "$WORK/testbed.log" >&2; die "testbed.sh up failed"; }

# Servers: ours, killed by pid on exit (and by testbed.sh down).
start_server() { # name command...
	local name=$1
	shift
	"$@" >"$WORK/$name.out" 2>&1 </dev/null 9>&- &
	PIDS+=("$!")
}
start_server srv-lo "$CB" serve 127.0.0.1 "$PORT" "$BENCH_BUDGET" "${CPU_SERVER[@]}"
start_server srv-tb nsenter --net="/run/netns/$AWFT_NS" "$CB" serve "$ALLOWED4" "$PORT" "$BENCH_BUDGET" "${CPU_SERVER[@]}"
# The iperf3 servers share the clients' CPU (3. packet says why).
start_server iperf3 nsenter --net="/run/netns/$AWFT_NS" iperf3 -s -B "$ALLOWED4" -p "$IPERF_PORT" ${CPU_CLIENT[1]:+-A "${CPU_CLIENT[1]}"}
IPERF_SERVER_PIDS=("$!") # nsenter execs iperf3
start_server iperf3b nsenter --net="/run/netns/$AWFT_NS" iperf3 -s -B "$ALLOWED4" -p "$IPERF_PORT2" ${CPU_CLIENT[1]:+-A "${CPU_CLIENT[1]}"}
IPERF_SERVER_PIDS+=("$!")
for i in $(seq 1 50); do
	grep -q ready "$WORK/srv-lo.out" 2>/dev/null && grep -q ready "$WORK/srv-tb.out" 2>/dev/null && break
	sleep 0.1
done
grep -q ready "$WORK/srv-tb.out" || die "connect_bench server: $(cat "$WORK/srv-tb.out")"

# ------------------------------------------------------------ 1. start-up

phase_startup() {
	local r cmds=() n big t0
	say "1. start-up (hyperfine, $ROUNDS rounds)"
	cmds+=(-n "/bin/true" "/bin/true")
	cmds+=(-n "unshare -n" "unshare -n /bin/true")
	# What a sandbox's process gets besides the BPF programs: the baseline
	# of issue 14's start-up goals.
	cmds+=(-n "unshare --fork --pid --mount --cgroup" "unshare --fork --pid --mount --cgroup /bin/true")
	if timeout 10 systemd-run --quiet --scope /bin/true >/dev/null 2>&1; then
		cmds+=(-n "systemd-run --scope" "systemd-run --quiet --scope /bin/true")
	else
		note "start-up: systemd-run left out: it does not work here (no systemd as PID 1: $(cat /proc/1/comm))"
	fi
	if command -v bwrap >/dev/null && timeout 10 bwrap --dev-bind / / --unshare-net /bin/true >/dev/null 2>&1; then
		cmds+=(-n "bwrap --unshare-net" "bwrap --dev-bind / / --unshare-net /bin/true")
	else
		note "start-up: bwrap left out: not installed"
	fi
	cmds+=(-n "awf-bpf run" "$AWF run --standalone --policy $WORK/p-0.json -- /bin/true")
	if [ -n "$AWF_STATIC" ]; then
		cmds+=(-n "awf-bpf run, static build" "$AWF_STATIC run --standalone --policy $WORK/p-0.json -- /bin/true")
	else
		note "start-up: the static build is left out: build/awf-bpf-static is missing or older than build/awf-bpf (make static)"
	fi
	# The policy most sandboxes have: a domain, its names checked
	# (the names group and maps load beside the others).
	cmds+=(-n "awf-bpf run, 1 domain" "$AWF run --standalone --policy $WORK/p-names.json -- /bin/true")
	for n in $SIZES; do
		[ "$n" -le 10000 ] && cmds+=(-n "awf-bpf run, $n CIDRs" "$AWF run --policy $WORK/p-$n.json -- /bin/true")
	done
	for r in $(seq 1 "$ROUNDS"); do
		room 400 startup 20 || { note "start-up: round $r skipped ($ROOM_WHY)"; break; }
		hyperfine -N --style none --warmup 3 --runs 15 --export-json "$WORK/startup-$r.json" \
			"${cmds[@]}" >/dev/null 2>"$WORK/hyperfine.err" ||
			note "start-up: hyperfine failed: $(tail -n 3 "$WORK/hyperfine.err")"
		for big in $SIZES; do
			[ "$big" -gt 10000 ] || continue
			hyperfine -N --style none --runs 1 --export-json "$WORK/startup-big-$big-$r.json" \
				-n "awf-bpf run, $big CIDRs" "$AWF run --policy $WORK/p-$big.json -- /bin/true" \
				>/dev/null 2>>"$WORK/hyperfine.err" || note "start-up: $big CIDRs failed"
		done
	done

	say "1. start-up: BPF load breakdown (load_bench)"
	# Alternating with whole awf-bpf runs, so that the share of each step
	# is taken against a total measured at the same time.
	for r in $(seq 1 "$LOAD_ITERS"); do
		"$BIN/load_bench" "$BCG/load" 1 >>"$WORK/load.txt" 2>>"$WORK/load.err" ||
			{ note "start-up: load_bench failed: $(tail -n 3 "$WORK/load.err")"; break; }
		t0=$(date +%s%N)
		"$AWF" run --policy "$WORK/p-0.json" -- /bin/true
		echo "$r total awf_run_us $((($(date +%s%N) - t0) / 1000))" >>"$WORK/load.txt"
	done
	strace -f -T -e trace=bpf -o "$WORK/load-strace.txt" "$BIN/load_bench" "$BCG/load" $((LOAD_ITERS / 2)) \
		>"$WORK/load-strace-out.txt" 2>>"$WORK/load.err" || note "start-up: strace of load_bench failed"

	say "1. start-up: 20 runs at once (bench/concurrent.py)"
	# Each command's first action is to print the time: from its launch
	# to then, under the load of the 19 others, against unshare alone.
	local static=()
	[ -z "$AWF_STATIC" ] ||
		static=(:: "awf-bpf run, static build" "$AWF_STATIC" run --standalone --policy "$WORK/p-0.json" --)
	timeout 300 python3 "$ROOT/bench/concurrent.py" --n 20 --rounds "$ROUNDS" \
		"unshare" unshare --fork --pid --mount --cgroup :: \
		"awf-bpf run" "$AWF" run --standalone --policy "$WORK/p-0.json" -- "${static[@]}" \
		>"$WORK/concurrent.txt" 2>"$WORK/concurrent.err" ||
		note "start-up: concurrent.py failed: $(tail -n 3 "$WORK/concurrent.err")"
}

# ------------------------------------------------------------ 2. connect

SPECS=("tcp:127.0.0.1:$PORT" "udp:127.0.0.1:$PORT" "tcp:$ALLOWED4:$PORT" "udp:$ALLOWED4:$PORT")

# The nftables cgroupv2 match takes a path below /sys/fs/cgroup.
NFT_CG=
case $CG2 in
/sys/fs/cgroup) NFT_CG=awf-bench/client ;;
/sys/fs/cgroup/*) NFT_CG=${CG2#/sys/fs/cgroup/}/awf-bench/client ;;
esac

load_iptables() {
	local n t0
	nft list table ip filter >/dev/null 2>&1 && IPT_TABLE_WAS=1
	nft list chain ip filter OUTPUT >/dev/null 2>&1 && IPT_OUTPUT_WAS=1
	IPT_LOADED=1
	for n in $SIZES DENY; do
		if nft list chain ip filter "AWFB-$n" >/dev/null 2>&1; then
			note "connect: chain AWFB-$n already exists in table ip filter: iptables left out"
			return 1
		fi
	done
	for n in $SIZES; do
		t0=$(date +%s%N)
		IPT_CHAINS+=("AWFB-$n")
		timeout 120 iptables-restore -w 5 --noflush "$WORK/ipt-$n.rules" ||
			{ note "connect: iptables-restore of $n rules failed: iptables left out"; return 1; }
		echo "load iptables $n $((($(date +%s%N) - t0) / 1000000))" >>"$WORK/connect.txt"
	done
	# A chain that drops everything: the driver checks that the jump matches.
	IPT_CHAINS+=("AWFB-DENY")
	printf '*filter\n:AWFB-DENY - [0:0]\n-A AWFB-DENY -j DROP\nCOMMIT\n' |
		iptables-restore -w 5 --noflush || { note "connect: iptables-restore failed: iptables left out"; return 1; }
}

load_nftables() {
	local t0
	if [ -z "$NFT_CG" ]; then
		note "connect: nftables left out: cgroup2 is not below /sys/fs/cgroup ($CG2)"
		return 1
	fi
	if nft list table ip awf_bench >/dev/null 2>&1; then
		note "connect: table ip awf_bench already exists: nftables left out"
		return 1
	fi
	t0=$(date +%s%N)
	NFT_TABLE=1
	timeout 120 nft -f "$WORK/nft.nft" || { note "connect: nft -f failed: nftables left out"; return 1; }
	echo "load nftables all $((($(date +%s%N) - t0) / 1000000))" >>"$WORK/connect.txt"
}

phase_connect() {
	local n t0 ipt_cg='' nft_cg='' budget
	say "2. connect path: loading the iptables chains and the nftables sets"
	load_iptables && ipt_cg=${BCG#"$CG2"/}/client
	load_nftables && nft_cg=$NFT_CG
	for n in $SIZES; do
		# What awf-bpf needs to start with this policy (policy file read to
		# command started and gone), for comparison with the loads above.
		t0=$(date +%s%N)
		"$AWF" run --log-level error --policy "$WORK/p-$n.json" -- /bin/true
		echo "load awf-bpf $n $((($(date +%s%N) - t0) / 1000000))" >>"$WORK/connect.txt"
	done
	budget=$(($(left) - $(reserve_for 200 connect 0))) # what the later phases need
	if [ "$budget" -lt 30 ]; then
		note "connect: skipped (time budget)"
	else
		say "2. connect path: $CONNECT_CYCLES cycles of ${CONNECT_BATCH}s batches (bench/connect_driver.py)"
		# shellcheck disable=SC2086
		python3 "$ROOT/bench/connect_driver.py" --awf "$AWF" --client "$CB" \
			--policy-dir "$WORK" --base-cgroup "$BCG/client" --cgroup2 "$CG2" \
			--ipt-cgroup "$ipt_cg" --ipt-output-was "$IPT_OUTPUT_WAS" --nft-cgroup "$nft_cg" \
			--sizes $SIZES --specs "${SPECS[@]}" --cycles "$CONNECT_CYCLES" \
			--batch-seconds "$CONNECT_BATCH" --cpu "${CPU_CLIENT[1]:-}" \
			--budget "$budget" --notes "$WORK/notes.txt" \
			>>"$WORK/connect.txt" 2>"$WORK/connect.err" 9>&- ||
			note "connect: connect_driver.py failed: $(tail -n 3 "$WORK/connect.err" | tr '\n' ' ')"
	fi
	say "2. connect path: removing the iptables chains and the nftables table"
	nft_off
	[ "$NFT_TABLE" = 1 ] && nft delete table ip awf_bench 2>/dev/null
	NFT_TABLE=0
	ipt_cleanup
}

# What the BPF programs themselves take: the kernel's per-program run time
# statistics (kernel.bpf_stats_enabled, on only for this), while a client of
# ours runs in the cgroup of a sandbox. Lines:
#   progstat SIZE SPEC PROGRAM CALLS OPS RUN_TIME_NS
prog_stats() { # pid: "prog_id run_time_ns run_cnt" of its program fds
	local f
	for f in /proc/"$1"/fdinfo/*; do
		awk '/^prog_id:/ { id = $2 } /^run_time_ns:/ { t = $2 } /^run_cnt:/ { c = $2 }
			END { if (id != "") print id, t, c }' "$f" 2>/dev/null
	done | sort -u
}

# "prog_id name" of the programs pid holds, asked one id at a time: a whole
# listing fails when another sandbox's programs, released by the kernel
# after its cgroup went, vanish while bpftool walks them.
prog_names() { # pid
	local id
	prog_stats "$1" | while read -r id _; do
		bpftool -j prog show id "$id" 2>/dev/null | jq -r '"\(.id) \(.name)"'
	done
}

# "NAME CALLS NS" of each program that ran between two prog_stats samples
# (NAMES: prog_names of their holder).
prog_delta() { # before after names
	awk -v names="$3" '
		BEGIN { k = split(names, l, "\n"); for (i = 1; i <= k; i++) { split(l[i], p, " "); nm[p[1]] = p[2] } }
		FNR == NR { t[$1] = $2; c[$1] = $3; next }
		$3 > c[$1] { print nm[$1], $3 - c[$1], $2 - t[$1] }' "$1" "$2"
}

# The programs of PID (NAMES: its prog_names) that ran for SPEC, a client
# in cgroup CG making its operations: "progstat N SPEC PROG CALLS OPS NS"
# lines into progstat.txt.
progstats_measure() { # pid cgroup n spec names
	local ops
	prog_stats "$1" >"$WORK/stats.before"
	ops=$(printf 'run %s 200 0.05\nrun %s 1000000 0.5\n' "$4" "$4" |
		sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$2" \
			"$CB" driven "${CPU_CLIENT[@]}" | awk '{ s += $2 } END { print s + 0 }')
	prog_stats "$1" >"$WORK/stats.after"
	prog_delta "$WORK/stats.before" "$WORK/stats.after" "$5" |
		awk -v n="$3" -v spec="$4" -v ops="$ops" '{ print "progstat", n, spec, $1, $2, ops, $3 }' \
			>>"$WORK/progstat.txt"
}

# The floor (size "floor"): programs that allow at once at the hooks a TCP
# connect meets (bench/hook_floor.bpf.c), in a cgroup of ours, with the
# same client and statistics: what those calls cost before any work.
progstats_floor() {
	local fpid cg=$BCG/floor i
	mkdir -p "$cg" || { note "program run time: no floor ($cg cannot be created)"; return; }
	"$BIN/hook_floor" "$cg" >"$WORK/floor.out" 2>&1 &
	fpid=$!
	for i in $(seq 1 50); do
		grep -q ready "$WORK/floor.out" && break
		kill -0 "$fpid" 2>/dev/null || break
		sleep 0.1
	done
	if grep -q ready "$WORK/floor.out"; then
		progstats_measure "$fpid" "$cg" floor "tcp:$ALLOWED4:$PORT" "$(prog_names "$fpid")"
	else
		note "program run time: no floor ($(tail -n 1 "$WORK/floor.out"))"
	fi
	kill -TERM "$fpid" 2>/dev/null
	wait "$fpid" 2>/dev/null
	rmdir "$cg" 2>/dev/null
}

phase_progstats() {
	local n apid spec names
	room 220 progstats 15 || { note "program run time: skipped ($ROOM_WHY)"; return; }
	say "2. connect path: run time of each BPF program (kernel.bpf_stats_enabled)"
	BPF_STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null) || { note "program run time: no kernel.bpf_stats_enabled"; return; }
	sysctl -q -w kernel.bpf_stats_enabled=1
	for n in $SIZES; do
		"$AWF" run --log-level error --policy "$WORK/p-$n.json" -- sleep 120 9>&- &
		apid=$!
		if sandbox_up "$apid"; then
			names=$(prog_names "$apid")
			for spec in "${SPECS[@]}"; do
				progstats_measure "$apid" "$CG2/awf-bpf/run-$apid" "$n" "$spec" "$names"
			done
		else
			note "program run time: awf-bpf with $n CIDRs did not start"
		fi
		kill -TERM "$apid" 2>/dev/null
		wait "$apid" 2>/dev/null
	done
	progstats_floor
	sysctl -q -w kernel.bpf_stats_enabled="$BPF_STATS_WAS"
	BPF_STATS_WAS=
}

# ------------------------------------------------------------ 3. packet

# A sandbox's command that first learns allowed.test through the DNS
# filter, then runs CMD... towards its address: a learned-only destination.
LEARN_FIRST='dig +short +time=2 +tries=1 "@$0" allowed.test >/dev/null && exec "$@"'

# Configurations: none (no sandbox, in our cgroup, as deep in the
# hierarchy as a sandbox's), awf (allow_cidrs: no name check), names (the
# learned name, its first bytes checked), nocheck (the same policy with
# "name_check": false), none2 (no sandbox again: the A/A control, whose
# ratio to none is what noise alone does to a round). Quick mode: awf and
# the control only.
PACKET_CFGS=(none2 awf names nocheck)
[ -n "${BENCH_QUICK:-}" ] && PACKET_CFGS=(none2 awf)

# CMD... as configuration $1 runs it (none: in our cgroup; names and
# nocheck: after learning allowed.test). PACKET_EXEC=exec: in place of
# the (background) shell, so that $! is awf-bpf's pid.
packet_run() {
	local cfg=$1 x=${PACKET_EXEC:-}
	shift
	case $cfg in
	none*) in_cg "$@" ;;
	awf) $x "$AWF" run --log-level error --policy "$WORK/p-iperf.json" -- "$@" ;;
	*) $x "$AWF" run --log-level error --policy "$WORK/p-$cfg.json" -- sh -c "$LEARN_FIRST" "$DNS4" "$@" ;;
	esac
}

# What the programs take per packet of a bulk transfer: one more iperf3
# run of configurations awf and names with kernel.bpf_stats_enabled on
# (not among the rounds: the clock reads would slow the sandbox alone).
# The sandbox's command waits for a start file, so that the statistics
# are read around the transfer only. Lines:
#   pktprog CFG PROGRAM CALLS RUN_TIME_NS
packet_bulk_stats() {
	local cfg apid i names gate
	BPF_STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null) || { note "packet: no kernel.bpf_stats_enabled"; return; }
	sysctl -q -w kernel.bpf_stats_enabled=1
	for cfg in awf names; do
		gate=$WORK/go-$cfg
		rm -f "$gate" "$WORK/bulk-$cfg.out"
		PACKET_EXEC=exec packet_run "$cfg" sh -c 'while [ ! -e "$0" ]; do sleep 0.05; done; iperf3 "$@"; echo bulk-done; exec sleep 60' \
			"$gate" "$@" >"$WORK/bulk-$cfg.out" 2>&1 9>&- &
		apid=$!
		if [ "$cfg" = names ]; then # the sandbox is up once it learned the name: as the rounds do
			sleep 1
		fi
		sandbox_up "$apid" || { note "packet: bulk statistics of $cfg: no sandbox"; kill -TERM "$apid" 2>/dev/null; wait "$apid"; continue; }
		prog_stats "$apid" >"$WORK/stats-bulk.before"
		names=$(prog_names "$apid")
		touch "$gate"
		for i in $(seq 1 $((IPERF_SECONDS * 20 + 100))); do
			grep -q bulk-done "$WORK/bulk-$cfg.out" 2>/dev/null && break
			sleep 0.05
		done
		prog_stats "$apid" >"$WORK/stats-bulk.after"
		kill -TERM "$apid" 2>/dev/null
		wait "$apid" 2>/dev/null
		prog_delta "$WORK/stats-bulk.before" "$WORK/stats-bulk.after" "$names" |
			awk -v cfg="$cfg" '{ print "pktprog", cfg, $1, $2, $3 }' >>"$WORK/packet-prog.txt"
	done
	sysctl -q -w kernel.bpf_stats_enabled="$BPF_STATS_WAS"
	BPF_STATS_WAS=
}

# Bulk TCP, side by side (issue 14, goal 5: >= 97 % of unfiltered in
# every round). This machine's throughput swings by 10-20 % from one
# second to the next (a VM on a shared host, builds of others), more than
# the goal's 3 %, so the two transfers a round compares run at the same
# time: the unfiltered sender and the other, each to its own server
# (ports IPERF_PORT and IPERF_PORT2), both clients and both servers
# pinned to one CPU (iperf3 -A), all at nice -20 in an autogroup at nice
# -20 (autogroup_raise). Whatever slows that CPU slows both; the ratio of
# their received bits/s is the ratio of what a byte costs each. One CPU,
# not clients on one and servers on the other: split, a flow's segments
# leave from two CPUs (the sender's writes on its own, what the ACKs
# clock out in the softirq of the receiver's CPU) through two backlog
# queues, arrive out of order, and thousands of spurious fast
# retransmits a second made the pairs differ by up to 10 % (A/A). A round
# is IPERF_PAIRS such pairs, each sender started first in every other
# one and the ports swapped with it; its ratio is the sum of the
# sender's bits/s over the unfiltered sender's. Each sender
# lives through the phase (a shell in our cgroup, as deep as a
# sandbox's; one awf-bpf run per sandbox) and runs one iperf3 per line
# "N PORT" it reads (FIFO in), answering N (FIFO done), its result in
# N.json: no start-up or set-up falls into a round. none2 (the A/A
# control) is a second unfiltered sender run against the first.
packet_sender_start() { # cfg iperf3-args...
	local cfg=$1 dir=$WORK/iperf-$1 learn=: fd_in fd_done
	shift
	mkdir -p "$dir" && mkfifo "$dir/in" "$dir/done" && chmod -R a+rwX "$dir" || return 1
	# names and nocheck learn allowed.test again before each transfer:
	# the phase outlasts the learned address's lifetime (min_ttl, 60 s).
	case $cfg in names | nocheck) learn="dig +short +time=2 +tries=1 @$DNS4 allowed.test" ;; esac
	exec {fd_in}<>"$dir/in" {fd_done}<>"$dir/done"
	PACKET_IN[$cfg]=$fd_in PACKET_DONE[$cfg]=$fd_done
	PACKET_EXEC=exec packet_run "$cfg" sh -c '
		d=$0 learn=$1
		shift
		exec 3>"$d/done" 4<"$d/in"
		echo ready >&3
		while read -r n port <&4 && [ "$n" != quit ]; do
			$learn >/dev/null 2>&1
			iperf3 -p "$port" "$@" </dev/null >"$d/$n.json" 2>"$d/$n.err"
			echo "$n" >&3
		done' "$dir" "$learn" "$@" >"$dir/out" 2>&1 9>&- &
	PACKET_PID[$cfg]=$!
	packet_sender_wait "$cfg" ready 20 || return 1
	# The sandboxed command cannot raise its own priority: its cgroup's
	# processes are reniced from here (iperf3 inherits it).
	xargs renice -n -20 -p <"$(packet_sender_cgroup "$cfg")/cgroup.procs" >/dev/null
}

packet_sender_cgroup() { # cfg
	case $1 in none*) echo "$BCG/client" ;; *) echo "$CG2/awf-bpf/run-${PACKET_PID[$1]}" ;; esac
}

# Wait (bounded) for the line WANT from the sender of CFG.
packet_sender_wait() { # cfg want seconds
	local line
	while read -r -t "$3" line <&"${PACKET_DONE[$1]}"; do
		[ "$line" = "$2" ] && return 0
	done
	return 1
}

# The result of transfer N of CFG: "BITS_PER_S RETRANSMITS", or nothing.
packet_result() { # cfg n
	local f=$WORK/iperf-$1/$2.json bps
	packet_sender_wait "$1" "$2" $((IPERF_SECONDS + 20)) || return 1
	bps=$(jq -r '.end.sum_received.bits_per_second // empty' "$f" 2>/dev/null)
	[ -n "$bps" ] || return 1
	echo "$bps $(jq -r '.end.sum_sent.retransmits // 0' "$f")"
}

packet_senders_stop() {
	local cfg fd_in fd_done
	for cfg in "${!PACKET_PID[@]}"; do
		echo quit >&"${PACKET_IN[$cfg]}"
		kill -0 "${PACKET_PID[$cfg]}" 2>/dev/null && sleep 0.2
		kill -TERM "${PACKET_PID[$cfg]}" 2>/dev/null
		wait "${PACKET_PID[$cfg]}" 2>/dev/null
		fd_in=${PACKET_IN[$cfg]} fd_done=${PACKET_DONE[$cfg]}
		exec {fd_in}>&- {fd_done}>&-
	done
	PACKET_PID=()
}

# Transfer pair N: CFG against the unfiltered sender, FIRST (none or CFG)
# asked first, the ports swapped with it. Its line:
# "pair ROUND CFG NONE_BPS CFG_BPS NONE_RETR CFG_RETR CFG_PORT FIRST".
packet_pair() { # round cfg n first
	local r=$1 cfg=$2 n=$3 p1=$IPERF_PORT p2=$IPERF_PORT2 a b a_bps a_retr b_bps b_retr
	[ "$4" = "$cfg" ] && p1=$IPERF_PORT2 p2=$IPERF_PORT
	if [ "$4" = none ]; then
		echo "$n $p1" >&"${PACKET_IN[none]}"
		echo "$n $p2" >&"${PACKET_IN[$cfg]}"
	else
		echo "$n $p2" >&"${PACKET_IN[$cfg]}"
		echo "$n $p1" >&"${PACKET_IN[none]}"
	fi
	a=$(packet_result none "$n") && b=$(packet_result "$cfg" "$n") ||
		{ note "packet: $cfg round $r failed: $(cat "$WORK"/iperf-*/"$n".err 2>/dev/null | tail -n 2 | tr '\n' ' ')"; return 1; }
	read -r a_bps a_retr <<<"$a"
	read -r b_bps b_retr <<<"$b"
	echo "pair $r $cfg $a_bps $b_bps $a_retr $b_retr $p2 $4" >>"$WORK/iperf.txt"
}

phase_packet() {
	local r i k cfg first args n=0
	local -A PACKET_PID=() PACKET_IN=() PACKET_DONE=()
	args=(-c "$ALLOWED4" -t "$IPERF_SECONDS" -J ${CPU_CLIENT[1]:+-A "${CPU_CLIENT[1]}"})
	say "3. packet path: starting the senders (none ${PACKET_CFGS[*]})"
	autogroup_raise || note "packet: no autogroup to raise (kernel.sched_autogroup_enabled off?): other sessions share the CPU at full weight"
	renice -n -20 -p "${IPERF_SERVER_PIDS[@]}" >/dev/null
	for cfg in none "${PACKET_CFGS[@]}"; do
		packet_sender_start "$cfg" "${args[@]}" ||
			{ note "packet: the $cfg sender did not start: $(tail -n 2 "$WORK/iperf-$cfg/out" | tr '\n' ' ')"; break; }
	done
	for r in $(seq 1 "$IPERF_ROUNDS"); do
		[ -n "${PACKET_PID[none]:-}" ] || break
		room 150 packet 15 || { note "packet: round $r skipped ($ROOM_WHY)"; break; }
		say "3. packet path (iperf3 over the veth): round $r of $IPERF_ROUNDS"
		for i in "${!PACKET_CFGS[@]}"; do
			cfg=${PACKET_CFGS[$(((i + r) % ${#PACKET_CFGS[@]}))]}
			[ -n "${PACKET_PID[$cfg]:-}" ] || continue
			for k in $(seq 1 "$IPERF_PAIRS"); do
				first=none
				[ $(((k + r) % 2)) = 0 ] && first=$cfg
				n=$((n + 1))
				packet_pair "$r" "$cfg" "$n" "$first" || break
			done
		done
	done
	packet_senders_stop
	renice -n 0 -p "${IPERF_SERVER_PIDS[@]}" >/dev/null
	autogroup_restore
	room 120 packet 10 || { note "packet: bulk statistics skipped ($ROOM_WHY)"; return; }
	say "3. packet path: the programs' run time per packet of a bulk transfer"
	# The client on the other CPU than its server: on one CPU the
	# receiver's softirq work interrupts the sender's program and counts
	# in its run time.
	packet_bulk_stats -c "$ALLOWED4" -t "$IPERF_SECONDS" -J ${CPU_SERVER[0]:+-A "${CPU_SERVER[0]}"} -p "$IPERF_PORT"
}

# ------------------------------------------------------------ 3b. names

# The cost of the name check per connection: connect, send a 517-byte
# ClientHello naming allowed.test, close (connect_bench hello:), from a
# client of ours in the cgroup of a sandbox that learned allowed.test,
# check on (names) and off (nocheck), batches alternating. With the
# kernel's run time of each program (kernel.bpf_stats_enabled). Lines:
#   names CYCLE CFG SPEC OPS NS_PER_OP FAILED ERRNO
#   namesprog CFG PROGRAM CALLS OPS RUN_TIME_NS
phase_names() {
	local cfg c i spec=hello:$ALLOWED4:$PORT line ops names
	local -A apid
	room 100 names 6 || { note "names: skipped ($ROOM_WHY)"; return; }
	say "3b. name check: $CONNECT_CYCLES cycles of ${CONNECT_BATCH}s batches, check on and off"
	for cfg in names nocheck; do
		"$AWF" run --log-level error --policy "$WORK/p-$cfg.json" -- \
			sh -c "$LEARN_FIRST" "$DNS4" sh -c 'echo learned; exec sleep 120' \
			>"$WORK/$cfg.out" 2>&1 9>&- &
		apid[$cfg]=$!
	done
	for i in $(seq 1 100); do
		grep -q learned "$WORK/names.out" 2>/dev/null && grep -q learned "$WORK/nocheck.out" 2>/dev/null && break
		sleep 0.1
	done
	if ! grep -q learned "$WORK/names.out" || ! grep -q learned "$WORK/nocheck.out"; then
		note "names: the sandboxes did not learn allowed.test: $(cat "$WORK/names.out" "$WORK/nocheck.out" | tr '\n' ' ')"
	else
		BPF_STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null) && sysctl -q -w kernel.bpf_stats_enabled=1
		for cfg in names nocheck; do prog_stats "${apid[$cfg]}" >"$WORK/stats-$cfg.before"; done
		for c in $(seq 0 "$CONNECT_CYCLES"); do
			for cfg in $([ $((c % 2)) = 0 ] && echo names nocheck || echo nocheck names); do
				line=$(printf 'run %s 1000000 %s\n' "$spec" "$CONNECT_BATCH" |
					sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG2/awf-bpf/run-${apid[$cfg]}" \
						"$CB" driven "${CPU_CLIENT[@]}" 9>&-)
				[ "$c" = 0 ] || echo "names $c $cfg $line" >>"$WORK/names.txt"
			done
		done
		names=$(prog_names "${apid[names]}"; prog_names "${apid[nocheck]}")
		for cfg in names nocheck; do
			prog_stats "${apid[$cfg]}" >"$WORK/stats-$cfg.after"
			ops=$(awk -v c="$cfg" '$3 == c { s += $5 } END { print s + 0 }' "$WORK/names.txt")
			prog_delta "$WORK/stats-$cfg.before" "$WORK/stats-$cfg.after" "$names" |
				awk -v cfg="$cfg" -v ops="$ops" '{ print "namesprog", cfg, $1, $2, ops, $3 }' \
					>>"$WORK/names.txt"
		done
		[ -n "$BPF_STATS_WAS" ] && sysctl -q -w kernel.bpf_stats_enabled="$BPF_STATS_WAS"
		BPF_STATS_WAS=
	fi
	for cfg in names nocheck; do kill -TERM "${apid[$cfg]}" 2>/dev/null; done
	for cfg in names nocheck; do wait "${apid[$cfg]}" 2>/dev/null; done
}

# ------------------------------------------------------------ 4. DNS

# Quick mode: 1 round of 1 s runs, cache on only: about 15 s. Full: about
# 50 s per round.
phase_dns() {
	room $((ROUNDS * 50 + 40)) dns 15 || { note "dns: skipped ($ROOM_WHY)"; return; }
	say "4. DNS (bench/dns.sh, $ROUNDS rounds)"
	if AWF_BENCH_TESTBED=1 AWF="$AWF" ROUNDS="$ROUNDS" BENCH_OUT="$OUT" timeout $((ROUNDS * 70 + 60)) \
		"$ROOT/bench/dns.sh" >"$WORK/dns.md" 2>"$WORK/dns.err"; then
		cp "$OUT/dns-latest.json" "$WORK/dns.json"
	else
		note "dns: bench/dns.sh failed: $(tail -n 3 "$WORK/dns.err" | tr '\n' ' ')"
	fi
}

# ------------------------------------------------------------ 5. memory

# "name memlock" of every BPF map and program a process holds a fd of.
bpf_objects() { # pid
	local f names
	names=$(bpftool -j map show 2>/dev/null | jq -r '.[] | "\(.id) \(.name // "?")"')
	for f in /proc/"$1"/fdinfo/*; do
		awk -v names="$names" '
			BEGIN { n = split(names, l, "\n"); for (i = 1; i <= n; i++) { split(l[i], p, " "); nm[p[1]] = p[2] } }
			/^memlock:/ { m = $2 } /^map_id:/ { id = "map " $2 } /^prog_id:/ { id = "prog " $2 }
			END { if (id != "") { split(id, p, " "); print id, (p[1] == "map" ? nm[p[2]] : "-"), m } }' "$f" 2>/dev/null
	done | sort -u
}

# Wait (bounded) until the sandbox of awf-bpf $1 has its command running.
# The sandbox of awf-bpf run PID has its programs attached: its processes
# are in the cgroup before that (they set up while the programs load, at a
# gate before exec); its pins are published after attach, counters last.
sandbox_up() {
	local i
	for i in $(seq 1 600); do
		[ -e "/sys/fs/bpf/awf-bpf/run-$1/counters" ] &&
			[ -n "$(cat "$CG2/awf-bpf/run-$1/cgroup.procs" 2>/dev/null)" ] && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# Write COUNT learned IPv4 addresses (240/4, never contacted) into map ID.
fill_learned() { # map_id value_size from count
	python3 - "$@" >"$WORK/fill.batch" <<'EOF'
import sys
mid, vsize, start, count = (int(x) for x in sys.argv[1:5])
value = " ".join(["ff"] * 8 + ["00"] * (vsize - 8))  # expires: never
for i in range(start, start + count):
    a = (240 << 24) + 0x10000 + i
    key = " ".join("%02x" % b for b in a.to_bytes(4, "big"))
    print("map update id %d key hex %s value hex %s" % (mid, key, value))
EOF
	bpftool batch file "$WORK/fill.batch" >/dev/null
}

# Large policies (issue 14, goal 4). Per run: from the launch of `awf-bpf
# run` until its command runs (the command is `date +%s%N`: it prints when
# it started), the whole run's wall time (with the tear-down), and the peak
# RSS of awf-bpf (ru_maxrss from wait4: the largest process of its tree,
# which is awf-bpf itself: its init and the command are small). Lines
# "big LABEL START_MS WALL_MS MAXRSS_KIB" in bigpolicy.txt.
big_policy_run() { # label policy
	python3 - "$AWF" "$@" >>"$WORK/bigpolicy.txt" 2>>"$WORK/bigpolicy.err" <<'EOF'
import os, subprocess, sys, time
awf, label, policy = sys.argv[1:4]
t0 = time.clock_gettime_ns(time.CLOCK_REALTIME)
p = subprocess.Popen([awf, "run", "--standalone", "--log-level", "error", "--policy",
                      policy, "--", "date", "+%s%N"], stdout=subprocess.PIPE)
out = p.stdout.read()
_, status, ru = os.wait4(p.pid, 0)
t1 = time.clock_gettime_ns(time.CLOCK_REALTIME)
if status != 0 or not out.strip().isdigit():
    sys.exit("%s: awf-bpf run failed (wait status %d)" % (label, status))
print("big %s %.1f %.1f %d" % (label, (int(out) - t0) / 1e6, (t1 - t0) / 1e6, ru.ru_maxrss))
EOF
}

phase_bigpolicy() {
	local r
	say "5. memory: large policies ($ROUNDS rounds)"
	[ -f "$WORK/p-1000000.json" ] ||
		python3 "$ROOT/bench/gen_rules.py" --cidrs "$WORK" "$ALLOWED4" "$DNS4" "$PORT" 1000000 ||
		{ note "memory: generating the 1M-CIDR policy failed"; return; }
	python3 "$ROOT/bench/gen_rules.py" --domains "$WORK" "$DNS4" 100000 ||
		{ note "memory: generating the 100k-domain policy failed"; return; }
	chmod a+r "$WORK"/*.json
	# interleaved: each round runs all three
	for r in $(seq 1 "$ROUNDS"); do
		room 60 memory 12 || { note "memory: large policies, round $r skipped ($ROOM_WHY)"; break; }
		big_policy_run empty "$WORK/p-0.json" &&
			big_policy_run cidrs-1m "$WORK/p-1000000.json" &&
			big_policy_run domains-100k "$WORK/d-100000.json" ||
			{ note "memory: large policies: $(tail -n 1 "$WORK/bigpolicy.err")"; break; }
	done
}

# A sandbox of POLICY that sleeps, its pid in MEMORY_PID once it is up;
# else a note naming WHAT, and nothing left running.
memory_sandbox() { # policy what
	"$AWF" run --log-level error --policy "$1" -- sleep 120 9>&- &
	MEMORY_PID=$!
	sandbox_up "$MEMORY_PID" && return 0
	note "memory: awf-bpf with $2 did not start"
	kill -TERM "$MEMORY_PID" 2>/dev/null
	wait "$MEMORY_PID" 2>/dev/null
	return 1
}

# What learned addresses cost: learned4 of a sandbox whose policy names a
# domain (a policy without one gets a learned set of one entry, loader.c),
# filled by bpftool to 1k and 10k entries.
memory_learned() {
	local apid objs lid vsize m0 m1 m10
	room 30 memory 5 || { note "memory: learned addresses skipped ($ROOM_WHY)"; return; }
	memory_sandbox "$WORK/p-names.json" "a domain" || return
	apid=$MEMORY_PID
	objs=$(bpf_objects "$apid")
	lid=$(printf '%s\n' "$objs" | awk '$1 == "map" && $3 == "learned4" { print $2; exit }')
	vsize=$(bpftool -j map show id "$lid" 2>/dev/null | jq -r '.bytes_value // empty')
	if [ -n "$lid" ] && [ -n "$vsize" ]; then
		m0=$(bpftool -j map show id "$lid" | jq -r .bytes_memlock)
		fill_learned "$lid" "$vsize" 0 1000 &&
			m1=$(bpftool -j map show id "$lid" | jq -r .bytes_memlock) &&
			fill_learned "$lid" "$vsize" 1000 9000 &&
			m10=$(bpftool -j map show id "$lid" | jq -r .bytes_memlock) &&
			echo "learned4 $m0 $m1 $m10" >>"$WORK/memory.txt" ||
			note "memory: filling learned4 failed"
		echo "rss-learned $(awk '/^VmRSS/ { print $2 }' "/proc/$apid/status")" >>"$WORK/memory.txt"
	else
		note "memory: learned4 map not found"
	fi
	kill -TERM "$apid" 2>/dev/null
	wait "$apid" 2>/dev/null
}

phase_memory() {
	local n apid rss hwm objs
	for n in 0 $SIZES; do
		room 60 memory 14 || { note "memory: $n CIDRs skipped ($ROOM_WHY)"; continue; }
		say "5. memory: sandbox with $n CIDR entries"
		memory_sandbox "$WORK/p-$n.json" "$n CIDRs" || continue
		apid=$MEMORY_PID
		sleep 0.5
		for _ in 1 2 3 4 5; do
			awk '/^VmRSS/ { print $2 }' "/proc/$apid/status"
			sleep 0.2
		done | sort -n | sed -n 3p >"$WORK/rss"
		rss=$(cat "$WORK/rss")
		hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$apid/status")
		echo "rss $n $rss $hwm" >>"$WORK/memory.txt"
		objs=$(bpf_objects "$apid")
		printf '%s\n' "$objs" | sed "s/^/obj $n /" >>"$WORK/memory.txt"
		kill -TERM "$apid" 2>/dev/null
		wait "$apid" 2>/dev/null
	done
	memory_learned
	phase_bigpolicy
}

# ------------------------------------------------------------ 6. agent

# The host-wide agent: start-up through it, sandboxes built per second,
# memory per sandbox (bench/agent.sh prints its own ratios).
phase_agent() {
	room 60 agent 15 || { note "agent: skipped ($ROOM_WHY)"; return; }
	say "6. agent (bench/agent.sh)"
	[ -n "${BENCH_QUICK:-}" ] && export AGENT_RUNS=${AGENT_RUNS:-15} AGENT_SANDBOXES=${AGENT_SANDBOXES:-100}
	# The static build beside it, when made from the same sources.
	if [ -x "$BUILD/awf-bpf-static" ] && ! [ "$BUILD/awf-bpf" -nt "$BUILD/awf-bpf-static" ]; then
		cp "$BUILD/awf-bpf-static" "$BIN/" || note "agent: copying awf-bpf-static failed"
	fi
	BENCH_OUT=$OUT AWF=$AWF GOALS_FILE=$WORK/goals.tsv CONCURRENT_ROUNDS=$ROUNDS \
		timeout -k 5 "$(left)" bash "$ROOT/bench/agent.sh" >&2 2> >(tee "$WORK/agent.err" >&2) ||
		note "agent: bench/agent.sh failed: $(grep -m 1 error: "$WORK/agent.err")"
}

# ------------------------------------------------------------ run

# The report of what was measured, also when BENCH_BUDGET runs out
# (timeout's TERM): the goals the phase left unmeasured say so.
REPORTED=0
report() {
	[ "$REPORTED" = 0 ] || return 0
	REPORTED=1
	say "report"
	python3 "$ROOT/bench/report.py" "$WORK" "$OUT" "$DOC" || { KEEP_WORK=1; die "report.py failed"; }
	say "done: $OUT/latest.json, $OUT/latest.md${DOC:+, $DOC}"
}
PHASE=setup PHASE_T0=0
trap 'say "interrupted"; exit 130' INT
trap 'note "$PHASE: stopped when BENCH_BUDGET ($BENCH_BUDGET s) ran out"; phase_end stopped; report; exit 124' TERM

# Lines "PHASE START_S END_S STATUS" for the report: what each phase took.
phase_end() { # status
	echo "$PHASE $PHASE_T0 $SECONDS $1" >>"$WORK/phases.txt"
}
for PHASE in "${PHASE_ORDER[@]}"; do # first: a cut run still says which were left out
	want "$PHASE" || echo "$PHASE - - not-selected" >>"$WORK/phases.txt"
done
for PHASE in "${PHASE_ORDER[@]}"; do
	want "$PHASE" || continue
	PHASE_T0=$SECONDS
	"phase_$PHASE"
	phase_end ran
done
PHASE=report
report
