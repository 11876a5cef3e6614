#!/usr/bin/env bash
# bench/dns.sh - the awf-bpf DNS filter against the upstream it filters,
# measured side by side in one run: dnsperf straight at the testbed's
# dnsmasq, and the same dnsperf inside an awf-bpf sandbox (every query
# redirected to the filter, which matches the name, forwards it and learns
# the answer into the BPF maps before releasing it). Allowlists of 10 and
# 10,000 entries. Rounds are interleaved so machine noise hits both sides.
#
# Prints a markdown table and writes bench/results/dns-latest.json.
# Not a test: `make test` never runs it. Root; traffic stays in the testbed.
# Alone, it takes the test lock (/run/awf-bpf-tests.lock) and brings the
# testbed up and down itself; bench/run.sh, which holds both, sets
# AWF_BENCH_TESTBED=1.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../tests/testbed/addresses.sh
. "$ROOT/tests/testbed/addresses.sh"
AWF=${AWF:-$ROOT/build/awf-bpf}
ROUNDS=${ROUNDS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-4}
LATENCY_QPS=${LATENCY_QPS:-2000}
OUT=$ROOT/bench/results
WORK=$(mktemp -d /tmp/awf-bench-dns.XXXXXX)
chmod 0755 "$WORK" # dnsperf in the sandbox runs as the sudo user
trap 'rm -rf "$WORK"; [ -n "${KEEP_TESTBED:-}${AWF_BENCH_TESTBED:-}" ] || "$ROOT/tests/testbed/testbed.sh" down >/dev/null 2>&1' EXIT

command -v dnsperf >/dev/null || apt-get install -y -qq dnsperf >/dev/null
[ -x "$AWF" ] || make -C "$ROOT" all >/dev/null
if [ -z "${AWF_BENCH_TESTBED:-}" ]; then
	# One testbed per machine: wait for a test run to end.
	exec 9>/run/awf-bpf-tests.lock
	flock -w 900 9 || { echo "dns.sh: another test run holds /run/awf-bpf-tests.lock" >&2; exit 1; }
	"$ROOT/tests/testbed/testbed.sh" up >/dev/null 9>&-
fi
mkdir -p "$OUT"

printf 'allowed.test A\nmulti.test A\nallowed.test AAAA\nalias.test A\n' >"$WORK/queries"

# An allowlist of N entries that contains the queried names.
make_policy() { # n
	/usr/bin/python3 - "$1" "$DNS4" >"$WORK/policy-$1.json" <<'EOF'
import json, sys
n, dns = int(sys.argv[1]), sys.argv[2]
names = ["allowed.test", "multi.test", "alias.test"]
names += ["n%d.bench%d.example" % (i, i % 97) for i in range(n - len(names))]
json.dump({"version": 1, "dns_servers": [dns], "allow_domains": names}, sys.stdout)
EOF
}

# dnsperf, directly or inside a sandbox; prints its output.
perf() { # direct|filter-N extra-args...
	local mode=$1
	shift
	local cmd=(dnsperf -s "$DNS4" -d "$WORK/queries" -l "$SECONDS_PER_RUN" "$@")
	if [ "$mode" = direct ]; then
		"${cmd[@]}"
	else
		"$AWF" run --log-level error --policy "$WORK/policy-${mode#filter-}.json" -- "${cmd[@]}"
	fi
}

qps_of() { sed -n 's/^ *Queries per second: *\([0-9.]*\).*/\1/p'; }
# p50 and p99 of dnsperf -v per-query latencies, in microseconds.
latency_of() {
	awk '/^> NOERROR/ { print $NF * 1e6 }' | sort -n | awk '
		{ v[NR] = $1 } END { if (!NR) { print "0 0"; exit }
		  print v[int(NR * 0.50) + 1], v[int(NR * 0.99) + 1] }'
}

make_policy 10
make_policy 10000
: >"$WORK/samples"
for round in $(seq "$ROUNDS"); do
	for mode in direct filter-10 filter-10000; do
		qps=$(perf "$mode" -c 4 -T 1 2>/dev/null | qps_of)
		read -r p50 p99 < <(perf "$mode" -Q "$LATENCY_QPS" -v 2>/dev/null | latency_of)
		echo "$round $mode $qps $p50 $p99" | tee -a "$WORK/samples" >&2
	done
done

/usr/bin/python3 - "$WORK/samples" "$OUT/dns-latest.json" <<'EOF'
import json, statistics, sys, platform, os
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
by = {}
for _, mode, qps, p50, p99 in rows:
    by.setdefault(mode, []).append((float(qps or 0), float(p50), float(p99)))
med = {m: [statistics.median(x[i] for x in v) for i in range(3)] for m, v in by.items()}
d = med["direct"]
result = {"benchmark": "dns", "machine": platform.node(), "cpus": os.cpu_count(),
          "rounds": len(by["direct"]), "results": {}}
print("| path | queries/s | ratio to direct | p50 µs | p99 µs | added p50 µs | added p99 µs |")
print("|---|---|---|---|---|---|---|")
for m in ["direct", "filter-10", "filter-10000"]:
    q, p50, p99 = med[m]
    r = q / d[0] if d[0] else 0
    result["results"][m] = {"qps": q, "qps_ratio": r, "p50_us": p50, "p99_us": p99,
                            "added_p50_us": p50 - d[1], "added_p99_us": p99 - d[2]}
    print("| %s | %.0f | %.2f | %.0f | %.0f | %+.0f | %+.0f |" %
          (m, q, r, p50, p99, p50 - d[1], p99 - d[2]))
json.dump(result, open(sys.argv[2], "w"), indent=2)
EOF
