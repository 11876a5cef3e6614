#!/usr/bin/env bash
# bench/agent.sh - the host-wide agent, measured side by side in one run
# (bench/run.sh calls it last; alone: sudo bench/agent.sh):
#
#   1. start-up   hyperfine -N, ROUNDS rounds of RUNS runs each: /bin/true,
#                 unshare --fork --pid --mount --cgroup, `awf-bpf run`
#                 through the agent's control socket (and the same with
#                 awf-bpf-static, the GitHub Action's binary, when `make
#                 static` built it from these sources), `awf-bpf run
#                 --standalone`; the ratio to unshare is each round's, and
#                 the median of the rounds'; then 20 of each started at once
#                 (bench/concurrent.py), launch to first action (GOALS_FILE:
#                 the goal rows startup-agent, concurrent-agent)
#   2. build      N sandboxes (cgroups a selector matches) built and torn
#                 down by the agent: ms per sandbox
#   3. memory     the agent's RSS and fds per sandbox, its BPF map memory
#
# Loopback only: the agent's tc layer goes on lo, its sandboxes never send.
# Its attach point is /awf-bench-agent; everything is removed on exit.
# Writes bench/results/agent-latest.txt (BENCH_OUT).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AWF=${AWF:-$ROOT/build/awf-bpf}
STATIC=$(dirname "$AWF")/awf-bpf-static
OUT=${BENCH_OUT:-$ROOT/bench/results}
N=${AGENT_SANDBOXES:-500}
# Rounds, as the standalone start-up's (bench/run.sh): unshare alone moves
# by 20-30 % from one batch of runs to the next here, which one batch of
# each command compared across batches takes for the sandbox's cost.
ROUNDS=${AGENT_ROUNDS:-5}
RUNS=${AGENT_RUNS:-20}
CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
ATTACH=/awf-bench-agent
SOCK=/run/awf-bpf/bench-agent.sock
AG_PID=

say() { printf 'bench-agent: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"
[ -x "$AWF" ] || die "$AWF is not built (make all)"
command -v hyperfine >/dev/null || die "hyperfine is missing (apt-get install hyperfine)"
if pgrep -f "awf-bpf agent" >/dev/null || [ -e /sys/fs/bpf/awf-bpf/agent ]; then
	die "an agent is installed on this host: the benchmark needs its own"
fi

WORK=$(mktemp -d /tmp/awf-bench-agent.XXXXXX)
# The agent makes its socket's directory; gone again if we made it.
RUN_DIR_WAS=$([ -d "$(dirname "$SOCK")" ] && echo yes || true)

cleanup() {
	local d
	[ -z "$AG_PID" ] || { kill "$AG_PID" 2>/dev/null; wait "$AG_PID" 2>/dev/null || true; }
	"$AWF" agent --uninstall >/dev/null 2>&1 || true
	for d in $(find "$CG2$ATTACH" -depth -type d 2>/dev/null); do
		rmdir "$d" 2>/dev/null || true
	done
	rm -rf "$WORK" "$SOCK"
	[ -n "$RUN_DIR_WAS" ] || rmdir "$(dirname "$SOCK")" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

mkdir -p "$WORK/policies" "$OUT"
cat >"$WORK/agent.json" <<EOF
{"version": 1, "attach": [{"cgroup": "$ATTACH", "default_policy": "deny"}],
 "policies_dir": "$WORK/policies", "interfaces": ["lo"],
 "control_socket": "$SOCK", "control_group": "root"}
EOF
cat >"$WORK/policies/web.json" <<EOF
{"version": 1, "selector": "$ATTACH/web*", "allow_cidrs": ["127.0.0.2/32"],
 "allow_domains": ["example.test"], "dns_servers": ["127.0.0.1"]}
EOF
echo '{"version": 1, "dns_servers": ["127.0.0.1"]}' >"$WORK/p.json"

"$AWF" agent --config "$WORK/agent.json" >/dev/null 2>"$WORK/agent.log" &
AG_PID=$!
for _ in $(seq 100); do grep -q ready "$WORK/agent.log" && break; sleep 0.05; done
grep -q ready "$WORK/agent.log" || die "the agent did not start: $(cat "$WORK/agent.log")"

# The static binary loads no shared library: what is left of the client's
# start-up without the dynamic loader (docs/benchmarks.md).
static_run=()
if [ -x "$STATIC" ] && ! [ "$AWF" -nt "$STATIC" ]; then
	static_run=(-n "awf-bpf-static run (agent)" "$STATIC run --policy $WORK/p.json -- /bin/true")
fi
say "1. start-up ($ROUNDS rounds of $RUNS runs each)"
for r in $(seq 1 "$ROUNDS"); do
	AWF_BPF_AGENT_SOCKET=$SOCK hyperfine -N --style none --warmup 3 --runs "$RUNS" \
		--export-json "$WORK/startup-$r.json" \
		-n "/bin/true" "/bin/true" \
		-n "unshare" "unshare --fork --pid --mount --cgroup /bin/true" \
		-n "awf-bpf run (agent)" "$AWF run --policy $WORK/p.json -- /bin/true" \
		"${static_run[@]}" \
		-n "awf-bpf run --standalone" "$AWF run --standalone --policy $WORK/p.json -- /bin/true" \
		>/dev/null
done

say "1b. 20 runs at once, through the agent and standalone"
AWF_BPF_AGENT_SOCKET=$SOCK timeout 300 python3 "$ROOT/bench/concurrent.py" --n 20 \
	--rounds "${CONCURRENT_ROUNDS:-3}" \
	"unshare" unshare --fork --pid --mount --cgroup :: \
	"agent" "$AWF" run --policy "$WORK/p.json" -- :: \
	"standalone" "$AWF" run --standalone --policy "$WORK/p.json" -- \
	>"$WORK/concurrent.txt"

rss() { awk '/^VmRSS/ { print $2 }' "/proc/$AG_PID/status"; }
fds() { ls "/proc/$AG_PID/fd" | wc -l; }
built() { grep -c "$ATTACH/web-[0-9]*: policy web" "$WORK/agent.log" || true; }
gone() { grep -c "$ATTACH/web-[0-9]*: gone" "$WORK/agent.log" || true; }
map_memlock() {
	bpftool -j map show | python3 -c "
import json, sys
names = {'cidr4', 'cidr6', 'learned4', 'learned6', 'lo_ports', 'slots',
         'configs', 'counters', 'events', 'sk_state', 'uplinks'}
print(sum(m.get('bytes_memlock', 0) for m in json.load(sys.stdin) if m.get('name') in names))"
}

say "2. build and tear down $N sandboxes"
rss0=$(rss); fds0=$(fds); mem0=$(map_memlock)
t0=$(date +%s%N)
for i in $(seq 0 $((N - 1))); do mkdir "$CG2$ATTACH/web-$i"; done
for _ in $(seq 600); do [ "$(built)" -ge "$N" ] && break; sleep 0.05; done
t1=$(date +%s%N)
[ "$(built)" -ge "$N" ] || die "the agent built $(built) of $N sandboxes"
rss1=$(rss); fds1=$(fds); mem1=$(map_memlock)
for i in $(seq 0 $((N - 1))); do rmdir "$CG2$ATTACH/web-$i"; done
for _ in $(seq 600); do [ "$(gone)" -ge "$N" ] && break; sleep 0.05; done
t2=$(date +%s%N)

python3 - "$WORK" "$N" "$t0" "$t1" "$t2" "$rss0" "$rss1" "$fds0" "$fds1" \
	"$mem0" "$mem1" "$WORK/concurrent.txt" "${GOALS_FILE:-}" <<'EOF' | tee "$OUT/agent-latest.txt"
import glob, json, os, statistics, sys
rounds = {}  # command -> its median in each round, in s
for path in sorted(glob.glob(os.path.join(sys.argv[1], "startup-*.json"))):
    for r in json.load(open(path))["results"]:
        rounds.setdefault(r["command"], []).append(r["median"])
res = {k: statistics.median(v) for k, v in rounds.items()}


def unshare_ratios(name):
    return [a / u for a, u in zip(rounds.get(name, []), rounds["unshare"]) if u]


conc = {}
for l in open(sys.argv[12]):
    f = l.split()
    ms = float("inf") if f[2] == "-" else float(f[2])
    med_ = float("inf") if f[3] == "-" else float(f[3])
    conc.setdefault(f[0], []).append((ms, med_, int(f[4])))
n = int(sys.argv[2])
t0, t1, t2 = (int(x) for x in sys.argv[3:6])
rss0, rss1, fds0, fds1, mem0, mem1 = (int(x) for x in sys.argv[6:12])
base = res["/bin/true"]
agent = res["awf-bpf run (agent)"]
alone = res["awf-bpf run --standalone"]
ratios = unshare_ratios("awf-bpf run (agent)")
ratio = statistics.median(ratios)
print("awf-bpf agent benchmark (medians of %d rounds' medians; ratios from the same"
      " rounds)" % len(ratios))
print("start-up of `awf-bpf run -- /bin/true`:")
for name in ("/bin/true", "unshare", "awf-bpf run (agent)", "awf-bpf-static run (agent)",
             "awf-bpf run --standalone"):
    if name in res:
        m = res[name]
        print("  %-28s %8.2f ms  %6.1fx /bin/true" % (name, m * 1e3, m / base))
uns = res["unshare"]
static = res.get("awf-bpf-static run (agent)")
s_ratios = unshare_ratios("awf-bpf-static run (agent)")
print("  through the agent: %.1fx faster than standalone; %.2fx `unshare --fork --pid"
      " --mount --cgroup` (rounds: %s)" % (alone / agent, ratio,
                                          ", ".join("%.2f" % x for x in ratios)))
print("20 runs at once, launch to the command's first action (worst round):")
for name, v in conc.items():
    print("  %-12s max %7.1f ms  median %7.1f ms  failed %d" % (
        name, max(x[0] for x in v), max(x[1] for x in v), sum(x[2] for x in v)))
if sys.argv[13]:
    with open(sys.argv[13], "a") as g:
        g.write("startup-agent\t%.1f ms = %.2fx unshare (%.1f ms; %d rounds %.2f-%.2fx)%s\t%s\n" % (
            agent * 1e3, ratio, uns * 1e3, len(ratios), min(ratios), max(ratios),
            "; static binary %.1f ms = %.2fx" % (static * 1e3, statistics.median(s_ratios))
            if static else "",
            "yes" if ratio <= 1.5 else "no"))
        if "agent" in conc:
            v = conc["agent"]
            worst, failed = max(x[0] for x in v), sum(x[2] for x in v)
            g.write("concurrent-agent\tmax %.2f s, median %.2f s (unshare: max %.2f s)%s\t%s\n" % (
                worst / 1e3, max(x[1] for x in v) / 1e3,
                max(x[0] for x in conc.get("unshare", [(0, 0, 0)])) / 1e3,
                ", %d failed" % failed if failed else "",
                "yes" if worst <= 500 and not failed else "no"))
print("%d sandboxes built by the agent (selector, inotify): %.2f ms each;"
      " torn down: %.2f ms each" % (n, (t1 - t0) / 1e6 / n, (t2 - t1) / 1e6 / n))
print("agent RSS: %d KiB idle, %d KiB with %d sandboxes: %.0f KiB per sandbox"
      % (rss0, rss1, n, (rss1 - rss0) / n))
print("agent fds: %d idle, %d with %d sandboxes (%.1f per sandbox)"
      % (fds0, fds1, n, (fds1 - fds0) / n))
print("agent BPF maps (bytes_memlock): %d KiB idle, %d KiB with %d sandboxes"
      % (mem0 // 1024, mem1 // 1024, n))
EOF
