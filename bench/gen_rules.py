#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""bench/gen_rules.py OUTDIR TARGET DNS LO_PORT SIZE...

The same allowlist of SIZE IPv4 host addresses for each filter of the
connect benchmark (bench/run.sh):

  OUTDIR/p-SIZE.json       awf-bpf policy: allow_cidrs, every port, plus
                           the loopback port LO_PORT of the benchmark server
  OUTDIR/ipt-SIZE.rules    iptables-restore --noflush input: chain AWFB-SIZE,
                           loopback accepted first (as awf-bpf decides
                           loopback before the CIDRs), one ACCEPT rule per
                           entry with TARGET the last one (every other rule
                           is tried first, as for any address not listed),
                           then DROP
  OUTDIR/nft.nft           table ip awf_bench: per SIZE an interval set
                           s_SIZE and a regular chain c_SIZE (loopback
                           accept, @s_SIZE accept, drop), and c_deny (drop,
                           to check that the jump matches). No base chain:
                           nothing jumps here until bench/run.sh hooks it.

The entries: TARGET, then up to 131070 random /32s of 198.18.0.0/15 around
it (so that the LPM trie is as deep around TARGET as the list allows), then
random /32s of 240.0.0.0/4. Nothing ever connects to any of them but TARGET,
an address of the testbed. Deterministic (fixed seed).

bench/gen_rules.py --cidrs OUTDIR TARGET DNS LO_PORT SIZE...

  OUTDIR/p-SIZE.json only, as above.

bench/gen_rules.py --domains OUTDIR DNS SIZE...

  OUTDIR/d-SIZE.json       awf-bpf policy: SIZE allow_domains, all under
                           .test (RFC 2606: never resolvable), as a large
                           allowlist mixes them: plain names (with their
                           subdomains), "*." wildcards, names alone
                           ("subdomains": false) with their own ports,
                           "*" inside a label, "udp" and "name_check"
                           switches; plus SIZE / 100 block_domains, each
                           a name below an allowed one.
"""
import ipaddress
import json
import random
import sys


def entries(n, target):
    r = random.Random(20261128 + n)
    t = int(ipaddress.IPv4Address(target))
    base = int(ipaddress.IPv4Address("198.18.0.0"))
    host = int(ipaddress.IPv4Address("198.18.0.1"))  # the testbed host side
    near = min(n - 1, (1 << 17) - 2)
    pick = [a for a in r.sample(range(base, base + (1 << 17)), near + 2)
            if a not in (t, host)][:near]
    pick += [(240 << 24) + x for x in r.sample(range(1 << 28), n - 1 - len(pick))]
    r.shuffle(pick)
    return [str(ipaddress.IPv4Address(a)) for a in pick] + [target]


def domain_entries(n):
    r = random.Random(20261205 + n)
    allow = []
    for i in range(n):
        zone = "z%d.test" % r.randrange(max(1, n // 50))
        kind = i % 20
        if kind < 14:
            allow.append("h%d.%s" % (i, zone))
        elif kind < 16:
            allow.append("*.w%d.%s" % (i, zone))
        elif kind < 18:
            allow.append({"domain": "n%d.%s" % (i, zone), "subdomains": False,
                          "ports": [443, "8000-8100"]})
        elif kind < 19:
            allow.append({"domain": "api-*.s%d.%s" % (i, zone), "ports": [443]})
        else:
            allow.append({"domain": "q%d.%s" % (i, zone), "udp": True,
                          "name_check": False})
    # allow[20 * i] is a plain name: block one name below it
    block = ["b%d.%s" % (i, allow[20 * i]) for i in range(n // 100)]
    return allow, block


def domains_main(out, dns, sizes):
    for n in sizes:
        allow, block = domain_entries(n)
        with open("%s/d-%d.json" % (out, n), "w") as f:
            json.dump({"version": 1, "dns_servers": [dns],
                       "allow_domains": allow, "block_domains": block}, f)


def write_policy(out, n, addrs, dns, lo_port):
    with open("%s/p-%d.json" % (out, n), "w") as f:
        json.dump({"version": 1, "dns_servers": [dns],
                   "localhost": {"mode": "sandbox", "ports": [int(lo_port)]},
                   "allow_cidrs": addrs}, f)


def main():
    if sys.argv[1] == "--domains":
        domains_main(sys.argv[2], sys.argv[3], [int(s) for s in sys.argv[4:]])
        return
    only_policy = sys.argv[1] == "--cidrs"
    args = sys.argv[2:] if only_policy else sys.argv[1:]
    out, target, dns, lo_port = args[0:4]
    sizes = [int(s) for s in args[4:]]
    nft = ["table ip awf_bench {"]
    for n in sizes:
        addrs = entries(n, target)
        write_policy(out, n, addrs, dns, lo_port)
        if only_policy:
            continue
        chain = "AWFB-%d" % n
        with open("%s/ipt-%d.rules" % (out, n), "w") as f:
            f.write("*filter\n:%s - [0:0]\n-A %s -o lo -j ACCEPT\n" % (chain, chain))
            f.writelines("-A %s -d %s/32 -j ACCEPT\n" % (chain, a) for a in addrs)
            f.write("-A %s -j DROP\nCOMMIT\n" % chain)
        nft.append("  set s_%d { type ipv4_addr; flags interval; elements = {" % n)
        nft.append(",\n".join(addrs))
        nft.append("  } }")
        nft.append('  chain c_%d { oifname "lo" accept; ip daddr @s_%d accept; drop; }' % (n, n))
    if only_policy:
        return
    nft.append("  chain c_deny { drop; }")
    nft.append("}")
    with open("%s/nft.nft" % out, "w") as f:
        f.write("\n".join(nft) + "\n")


if __name__ == "__main__":
    main()
