#!/usr/bin/env bash
# bench/dns.sh - the awf-bpf DNS filter against the upstream it filters,
# measured side by side in one run, for two upstreams:
#   loopback  a dnsmasq of this benchmark's own on $LO_DNS (127.0.0.0/8),
#             no query log: the fastest upstream this machine has;
#   testbed   the testbed's dnsmasq ($DNS4, behind a veth, logs queries).
# For each: dnsperf straight at the upstream ("direct"), and the same
# dnsperf inside an awf-bpf sandbox, every query redirected to the filter,
# which matches the name, answers from its cache or forwards, and learns
# the answer's addresses into the BPF maps before releasing it:
#   filter          allowlist of 10 names, the default answer cache
#   filter-nocache  the same with "dns": {"cache_entries": 0} (full mode)
#   filter-10000    allowlist of 10,000 names (full mode, testbed only)
#   base            $AWF_BASE (an older awf-bpf, if given) with the
#                   10-name policy: before/after in one run
# Each: queries per second with 4 clients (dnsperf -c 4, as fast as it
# goes, SECONDS_PER_RUN s), then per-query latency at LATENCY_QPS (2000)
# queries/s for LATENCY_SECONDS s: p50 and p99 from dnsperf -v, the
# first 250 ms left out on every path (warm-up). Rounds
# interleave every case so machine noise hits all alike.
#
# Prints a markdown table and writes bench/results/dns-latest.json (BENCH_OUT)
# with the goal rows dns-qps and dns-latency (bench/report.py shows them).
# Not a test: `make test` never runs it. Root; traffic stays on loopback
# and in the testbed. Alone, it takes the test lock
# (/run/awf-bpf-tests.lock) and brings the testbed up and down itself;
# bench/run.sh, which holds both, sets AWF_BENCH_TESTBED=1.
#
# Knobs: ROUNDS (3), SECONDS_PER_RUN (3), LATENCY_SECONDS (3),
# LATENCY_QPS (2000), DNS_MODES (default "filter filter-nocache
# filter-10000"; BENCH_QUICK=1: "filter"), AWF, AWF_BASE.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../tests/testbed/addresses.sh
. "$ROOT/tests/testbed/addresses.sh"
AWF=${AWF:-$ROOT/build/awf-bpf}
AWF_BASE=${AWF_BASE:-}
ROUNDS=${ROUNDS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
LATENCY_SECONDS=${LATENCY_SECONDS:-$SECONDS_PER_RUN}
LATENCY_QPS=${LATENCY_QPS:-2000}
if [ -n "${BENCH_QUICK:-}" ]; then
	DNS_MODES=${DNS_MODES:-filter}
fi
DNS_MODES=${DNS_MODES:-filter filter-nocache filter-10000}
LO_DNS=127.83.53.53 # the loopback upstream; port 53, as dns_servers must be
OUT=${BENCH_OUT:-$ROOT/bench/results}
WORK=$(mktemp -d /tmp/awf-bench-dns.XXXXXX)
chmod 0755 "$WORK" # dnsperf in the sandbox runs as the sudo user
LO_PID=
cleanup() {
	# A dnsmasq that is gone already (or failed) must not stop the rest
	# under set -e.
	if [ -n "$LO_PID" ]; then
		kill "$LO_PID" 2>/dev/null || true
		wait "$LO_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
	[ -n "${KEEP_TESTBED:-}${AWF_BENCH_TESTBED:-}" ] || "$ROOT/tests/testbed/testbed.sh" down >/dev/null 2>&1
}
trap cleanup EXIT

command -v dnsperf >/dev/null || apt-get install -y -qq dnsperf >/dev/null
[ -x "$AWF" ] || make -C "$ROOT" all >/dev/null
if [ -z "${AWF_BENCH_TESTBED:-}" ]; then
	# One testbed per machine: wait for a test run to end.
	exec 9>/run/awf-bpf-tests.lock
	flock -w 900 9 || { echo "dns.sh: another test run holds /run/awf-bpf-tests.lock" >&2; exit 1; }
	"$ROOT/tests/testbed/testbed.sh" up >/dev/null 9>&-
fi
mkdir -p "$OUT"

# The loopback upstream: the testbed's names, nothing forwarded, no log.
cat >"$WORK/lo-dnsmasq.conf" <<EOF
no-resolv
no-hosts
no-poll
local=/#/
bind-interfaces
listen-address=$LO_DNS
host-record=allowed.test,$ALLOWED4,$ALLOWED6
host-record=multi.test,$ALLOWED4
host-record=multi.test,$ALLOWED4_B
cname=alias.test,allowed.test
local-ttl=60
log-facility=$WORK/lo-dnsmasq.log
EOF
dnsmasq --keep-in-foreground --conf-file="$WORK/lo-dnsmasq.conf" --user=root \
	--group=root --pid-file= 9>&- &
LO_PID=$!
for _ in $(seq 50); do
	dig +short +time=1 +tries=1 @"$LO_DNS" allowed.test A 2>/dev/null | grep -q . && break
	sleep 0.1
done
# Ours, not another that holds the address: it would be measured instead.
kill -0 "$LO_PID" 2>/dev/null ||
	{ echo "dns.sh: the loopback dnsmasq on $LO_DNS did not start (address in use?)" >&2; exit 1; }
dig +short +time=1 +tries=1 @"$LO_DNS" allowed.test A | grep -q "$ALLOWED4" ||
	{ echo "dns.sh: the loopback dnsmasq on $LO_DNS does not answer" >&2; exit 1; }

printf 'allowed.test A\nmulti.test A\nallowed.test AAAA\nalias.test A\n' >"$WORK/queries"

# An allowlist of N entries that contains the queried names; cache as given
# ("" leaves the key out, for an awf-bpf that does not know it).
make_policy() { # file n dns_server cache_entries
	/usr/bin/python3 - "$2" "$3" "$4" >"$WORK/$1" <<'EOF'
import json, sys
n, dns, cache = int(sys.argv[1]), sys.argv[2], sys.argv[3]
names = ["allowed.test", "multi.test", "alias.test"]
names += ["n%d.bench%d.example" % (i, i % 97) for i in range(n - len(names))]
p = {"version": 1, "dns_servers": [dns], "allow_domains": names}
if cache != "":
    p["dns"] = {"cache_entries": int(cache)}
json.dump(p, sys.stdout)
EOF
}
for up in loopback testbed; do
	srv=$LO_DNS
	[ "$up" = testbed ] && srv=$DNS4
	make_policy "$up-filter.json" 10 "$srv" ""
	make_policy "$up-filter-nocache.json" 10 "$srv" 0
	make_policy "$up-filter-10000.json" 10000 "$srv" ""
	make_policy "$up-base.json" 10 "$srv" ""
done

# dnsperf at the upstream, directly or inside a sandbox; prints its output.
perf() { # upstream mode extra-args...
	local up=$1 mode=$2 srv=$LO_DNS awf=$AWF
	shift 2
	[ "$up" = testbed ] && srv=$DNS4
	[ "$mode" = base ] && awf=$AWF_BASE
	local cmd=(dnsperf -s "$srv" -d "$WORK/queries" "$@")
	if [ "$mode" = direct ]; then
		"${cmd[@]}"
	else
		"$awf" run --standalone --log-level error --policy "$WORK/$up-$mode.json" -- "${cmd[@]}"
	fi
}

qps_of() { sed -n 's/^ *Queries per second: *\([0-9.]*\).*/\1/p'; }
# p50 and p99 of dnsperf -v per-query latencies, in microseconds, after
# the first 250 ms (on every path alike): the steady state. A new
# sandbox's first queries miss the cache and queue behind each other for
# a few ms; what a miss costs is what filter-nocache measures.
WARMUP=$((LATENCY_QPS / 4))
latency_of() {
	awk -v skip="$WARMUP" '/^> NOERROR/ && ++n > skip { print $NF * 1e6 }' | sort -n | awk '
		{ v[NR] = $1 } END { if (!NR) { print "0 0"; exit }
		  print v[int(NR * 0.50) + 1], v[int(NR * 0.99) + 1] }'
}

modes="direct $DNS_MODES"
[ -z "$AWF_BASE" ] || modes="$modes base"
: >"$WORK/samples"
for round in $(seq "$ROUNDS"); do
	for up in loopback testbed; do
		for mode in $modes; do
			[ "$mode:$up" != filter-10000:loopback ] || continue
			qps=$(perf "$up" "$mode" -c 4 -T 1 -l "$SECONDS_PER_RUN" 2>/dev/null | qps_of)
			read -r p50 p99 < <(perf "$up" "$mode" -Q "$LATENCY_QPS" \
				-l "$LATENCY_SECONDS" -v 2>/dev/null | latency_of)
			echo "$round $up $mode ${qps:-0} $p50 $p99" | tee -a "$WORK/samples" >&2
		done
	done
done

/usr/bin/python3 - "$WORK/samples" "$OUT/dns-latest.json" "$LATENCY_QPS" <<'EOF'
import json, statistics, sys, platform, os
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
by = {}
for _, up, mode, qps, p50, p99 in rows:
    by.setdefault(up, {}).setdefault(mode, []).append((float(qps), float(p50), float(p99)))
result = {"benchmark": "dns", "machine": platform.node(), "cpus": os.cpu_count(),
          "latency_qps": int(sys.argv[3]), "rounds": len(by["loopback"]["direct"]),
          "results": {}, "goals": {}}
print("| upstream | path | queries/s | ratio to direct | p50 µs | p99 µs | added p50 µs | added p99 µs |")
print("|---|---|---|---|---|---|---|---|")
for up, modes in by.items():
    med = {m: [statistics.median(x[i] for x in v) for i in range(3)] for m, v in modes.items()}
    d = med["direct"]
    result["results"][up] = {}
    for m, (q, p50, p99) in med.items():
        r = q / d[0] if d[0] else 0
        result["results"][up][m] = {"qps": q, "qps_ratio": r, "p50_us": p50, "p99_us": p99,
                                    "added_p50_us": p50 - d[1], "added_p99_us": p99 - d[2],
                                    "qps_rounds": [x[0] for x in modes[m]]}
        print("| %s | %s | %.0f | %.2f | %.0f | %.0f | %+.0f | %+.0f |" %
              (up, m, q, r, p50, p99, p50 - d[1], p99 - d[2]))
res = result["results"]
ups = [u for u in ("loopback", "testbed") if "filter" in res.get(u, {})]
qtext = ", ".join("%s %.2fx (%.0f vs %.0f q/s)" % (u, res[u]["filter"]["qps_ratio"],
                  res[u]["filter"]["qps"], res[u]["direct"]["qps"]) for u in ups)
result["goals"]["dns-qps"] = {"measured": qtext,
                              "met": all(res[u]["filter"]["qps_ratio"] >= 1.0 for u in ups)}
ltext = ", ".join("%s p50 %+.0f us, p99 %+.0f us (direct %.0f / %.0f us)" % (
                  u, res[u]["filter"]["added_p50_us"], res[u]["filter"]["added_p99_us"],
                  res[u]["direct"]["p50_us"], res[u]["direct"]["p99_us"]) for u in ups)
result["goals"]["dns-latency"] = {
    "measured": ltext,
    "met": all(res[u]["filter"]["added_p50_us"] <= 50 and res[u]["filter"]["added_p99_us"] <= 1000
               for u in ups)}
print()
for g, v in result["goals"].items():
    print("goal %s: %s (%s)" % (g, v["measured"], "met" if v["met"] else "not met"))
json.dump(result, open(sys.argv[2], "w"), indent=2)
EOF
