#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""bench/concurrent.py - N commands started at once, each timed from its
launch to its command's first action (issue 14, goal 6).

    concurrent.py [--n 20] [--rounds 3] [--timeout 60] NAME CMD... [:: NAME CMD...]

Each NAME CMD... is one way to start a command (e.g. `awf-bpf run --policy
p.json --` or `unshare --fork --pid --mount --cgroup`); the driver appends
`/bin/date +%s%N`, whose output (CLOCK_REALTIME) is the command's first
action. Per round and per way: N processes are launched back to back as
fast as Popen allows, and for each one the time from its own launch to the
timestamp its command printed is taken. The ways take turns round by
round, so that machine noise hits them alike. Prints one line per round
and way:

    NAME ROUND max_ms median_ms failed

`failed` counts commands that exited non-zero or printed no timestamp
(their time is not in max/median). Bounded: a round's processes that are
not done after --timeout seconds are killed and counted as failed.
Not a test: `make test` never runs it.
"""
import argparse
import statistics
import subprocess
import sys
import time

STAMP = ["/bin/date", "+%s%N"]


def one_round(cmd, n, timeout):
    procs = []
    for _ in range(n):
        t0 = time.time_ns()
        p = subprocess.Popen(cmd + STAMP, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        procs.append((t0, p))
    deadline = time.monotonic() + timeout
    lat, failed = [], 0
    for t0, p in procs:
        try:
            out, err = p.communicate(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            failed += 1
            continue
        try:
            stamp = int(out.split()[0])
        except (IndexError, ValueError):
            stamp = None
        if p.returncode != 0 or stamp is None:
            failed += 1
            sys.stderr.write("concurrent: %s exited %d: %s\n" % (
                cmd[0], p.returncode, err.decode(errors="replace").strip()[-300:]))
            continue
        lat.append((stamp - t0) / 1e6)
    return lat, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("ways", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    ways, cur = [], []
    for w in a.ways + ["::"]:
        if w == "::" and cur:
            ways.append((cur[0], cur[1:]))
            cur = []
        elif w != "::":
            cur.append(w)
    if not ways or any(not cmd for _, cmd in ways):
        ap.error("give NAME CMD... [:: NAME CMD...]")
    for r in range(1, a.rounds + 1):
        for name, cmd in ways:
            lat, failed = one_round(cmd, a.n, a.timeout)
            if lat:
                print("%s %d %.1f %.1f %d" % (name, r, max(lat), statistics.median(lat), failed),
                      flush=True)
            else:
                print("%s %d - - %d" % (name, r, failed), flush=True)
            time.sleep(0.5)  # let the previous round's teardown finish


if __name__ == "__main__":
    main()
