#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""bench/connect_driver.py - the connect-path rounds of bench/run.sh.

Keeps one `connect_bench driven` client per filter and alternates short
batches between them, so that every filter is measured next to the
baseline, many times, within seconds:

  base      one client in the benchmark's cgroup: no filter, and (while its
            batch runs) an iptables jump or an nftables base chain that
            matches only this cgroup
  awf-N     one client inside `awf-bpf run --policy p-N.json` per size: a
            real sandbox (every BPF hook, the seccomp filter, the user)
  bpf-N     one client of ours (root, no seccomp) moved into the cgroup of
            that sandbox: the BPF programs alone

First, each of iptables and nftables is checked to match the baseline
client's traffic: a jump to a chain that drops everything (AWFB-DENY,
c_deny) must make its connect fail. Cycle 0 is a warm-up and is not
reported. Each later cycle runs, in an
order rotated by one each cycle, every filter on every SPEC for one batch.
Prints "run CYCLE FILTER SPEC OPS NS_PER_OP" lines; appends problems to
--notes. The iptables chains AWFB-N and the nftables table ip awf_bench
(chains c_N) are loaded by bench/run.sh, which also removes them; this only
adds and removes the jump to them around each batch.
"""
import argparse
import re
import select
import subprocess
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--awf", required=True)
ap.add_argument("--client", required=True)
ap.add_argument("--policy-dir", required=True)
ap.add_argument("--base-cgroup", required=True, help="directory of the baseline cgroup")
ap.add_argument("--cgroup2", required=True, help="the cgroup v2 mount point")
ap.add_argument("--ipt-cgroup", default="", help="its path for iptables -m cgroup; empty: no iptables")
ap.add_argument("--ipt-output-was", type=int, default=1)
ap.add_argument("--nft-cgroup", default="", help="its path for nft socket cgroupv2; empty: no nftables")
ap.add_argument("--sizes", nargs="+", required=True)
ap.add_argument("--specs", nargs="+", required=True)
ap.add_argument("--cycles", type=int, default=15)
ap.add_argument("--batch-seconds", type=float, default=0.1)
ap.add_argument("--cpu", default="")
ap.add_argument("--budget", type=float, default=300)
ap.add_argument("--notes", required=True)
args = ap.parse_args()

start = time.monotonic()
deadline = start + args.budget
lifetime = str(int(args.budget) + 120)


def note(msg):
    print("connect_driver: %s" % msg, file=sys.stderr)
    with open(args.notes, "a") as f:
        f.write("connect: %s\n" % msg)


def sh(cmd, stdin=None):
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=120)


pin = ["-c", args.cpu] if args.cpu != "" else []
driven = [args.client, "driven", "-l", lifetime] + pin
in_cgroup = ["sh", "-c", 'echo $$ >"$0/cgroup.procs" && exec "$@"']
clients = {"base": in_cgroup + [args.base_cgroup] + driven}
for n in args.sizes:
    clients["awf-" + n] = [args.awf, "run", "--log-level", "error", "--timeout", lifetime,
                           "--policy", "%s/p-%s.json" % (args.policy_dir, n), "--"] + driven

filters = ["none"] + ["awf-" + n for n in args.sizes] + ["bpf-" + n for n in args.sizes]
if args.ipt_cgroup:
    filters += ["ipt-" + n for n in args.sizes]
if args.nft_cgroup:
    filters += ["nft-" + n for n in args.sizes]

procs = {}


def spawn(name, argv):
    procs[name] = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=open("%s/client-%s.err" % (args.policy_dir, name), "w"),
                                   text=True, bufsize=1)


for name, argv in clients.items():
    spawn(name, argv)


def ask(client, spec, max_ops, seconds, timeout):
    p = procs[client]
    p.stdin.write("run %s %d %g\n" % (spec, max_ops, seconds))
    p.stdin.flush()
    ready, _, _ = select.select([p.stdout], [], [], timeout)
    if not ready:
        raise RuntimeError("%s: no answer within %d s" % (client, timeout))
    line = p.stdout.readline().split()
    if len(line) != 5:
        raise RuntimeError("%s: %s" % (client, " ".join(line) or "exited"))
    return line


def output_rules():
    # Only this chain: listing a chain that refers to the big sets, or the
    # big chains, makes nft dump them (more than a minute for a million).
    return sh(["nft", "-a", "list", "chain", "ip", "filter", "OUTPUT"]).stdout


def filter_on(f):
    kind, _, n = f.partition("-")
    if kind == "ipt":
        r = sh(["iptables", "-w", "5", "-I", "OUTPUT", "1", "-m", "cgroup",
                "--path", args.ipt_cgroup, "-j", "AWFB-" + n])
        if r.returncode:
            raise RuntimeError("iptables -I: " + r.stderr.strip())
    elif kind == "nft":
        r = sh(["nft", "-f", "-"],
               'add chain ip awf_bench out { type filter hook output priority 0; policy accept; }\n'
               'add rule ip awf_bench out socket cgroupv2 level 2 "%s" jump c_%s\n'
               % (args.nft_cgroup, n))
        if r.returncode:
            raise RuntimeError("nft: " + r.stderr.strip())


def filter_off(f):
    kind, _, n = f.partition("-")
    if kind == "ipt":
        # Not iptables -D: iptables-nft dumps the whole table for it, which
        # takes minutes with a million rules. By handle, with nft.
        for h in re.findall(r"jump AWFB-%s # handle (\d+)" % n, output_rules()):
            sh(["nft", "delete", "rule", "ip", "filter", "OUTPUT", "handle", h])
        if not args.ipt_output_was:
            rules = [l for l in output_rules().splitlines()
                     if l.strip() and not re.match(r"\s*(table |chain |type |#|\})", l)]
            if not rules:  # our empty base chain would still cost every packet
                sh(["nft", "delete", "chain", "ip", "filter", "OUTPUT"])
    elif kind == "nft":
        sh(["nft", "delete", "chain", "ip", "awf_bench", "out"])




def up(name):
    try:
        ask(name, args.specs[0], 1, 0.01, 120)
        return True
    except RuntimeError as e:
        note("client %s did not start (%s): left out" % (name, e))
        return False


# Every client up (awf-bpf with a million entries takes seconds to load);
# then one of ours into each sandbox's cgroup, which exists by then.
for name in list(procs):
    if not up(name):
        if name == "base":
            filters = [f for f in filters if f[:4] in ("awf-", "bpf-")]
        else:
            filters = [f for f in filters if f not in (name, "bpf-" + name[4:])]
for n in args.sizes:
    if "bpf-" + n in filters:
        spawn("bpf-" + n, in_cgroup + ["%s/awf-bpf/run-%d" % (args.cgroup2, procs["awf-" + n].pid)] + driven)
        if not up("bpf-" + n):
            filters.remove("bpf-" + n)

# The jumps match the baseline client's traffic, or the filter is left out.
for kind in ("ipt", "nft"):
    if not any(f.startswith(kind + "-") for f in filters) or "none" not in filters:
        continue
    try:
        filter_on(kind + "-" + ("DENY" if kind == "ipt" else "deny"))
        try:
            failed = int(ask("base", args.specs[-1], 1, 0.01, 30)[3])
        finally:
            filter_off(kind + "-" + ("DENY" if kind == "ipt" else "deny"))
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
        failed = 0
        note("%s: %s" % (kind, e))
    if not failed:
        note("%s: a jump to a dropping chain did not stop the benchmark's traffic: left out" % kind)
        filters = [f for f in filters if not f.startswith(kind + "-")]

broken = set()
for cycle in range(args.cycles + 1):
    if time.monotonic() > deadline:
        note("cycles %d and later skipped (time budget)" % cycle)
        break
    k = cycle % len(filters)
    for f in filters[k:] + filters[:k]:
        if f in broken:
            continue
        client = "base" if f == "none" or f[:4] in ("ipt-", "nft-") else f
        got = []
        try:
            filter_on(f)
            try:
                for spec in args.specs:
                    s, ops, ns, failed, err = ask(client, spec, 1000000, args.batch_seconds,
                                                  args.batch_seconds + 60)
                    if int(failed):
                        raise RuntimeError("%s: %s of %s operations failed (errno %s)" % (
                            spec, failed, ops, err))
                    got.append("run %d %s %s %s %s" % (cycle, f, s, ops, ns))
            finally:
                filter_off(f)
            print("\n".join(got), flush=True)
        except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
            note("%s: %s: left out" % (f, e))
            broken.add(f)

for p in procs.values():
    try:
        p.stdin.write("quit\n")
        p.stdin.close()
    except OSError:
        pass
for p in procs.values():
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
print("driver %.1f s, %d filters" % (time.monotonic() - start, len(filters)), file=sys.stderr)
