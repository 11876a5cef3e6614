#!/usr/bin/python3
"""dnsd.py - a hostile authoritative DNS server for the escape battery: it
answers one zone with whatever addresses it is given (DNS rebinding to
loopback, link-local, metadata, the host's own addresses).

Usage: dnsd.py --listen ADDR [--port 53] --zone NAME [--ready-file F]
               [--log FILE] [--hold SECONDS] RECORD...
  RECORD is A:ADDR or AAAA:ADDR; every name at or below NAME gets all
  records of the asked type (TTL 60); other names get NXDOMAIN.
UDP only; runs in the world network namespace; stops after --hold seconds.
"""

import socket
import struct
import sys
import time


def parse(argv):
    o = {"listen": None, "port": 53, "zone": None, "ready": None, "log": None, "hold": 60.0}
    recs = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--listen", "--zone", "--ready-file", "--log"):
            o[{"--listen": "listen", "--zone": "zone", "--ready-file": "ready", "--log": "log"}[a]] = argv[i + 1]
            i += 2
        elif a in ("--port", "--hold"):
            o[a[2:]] = float(argv[i + 1]) if a == "--hold" else int(argv[i + 1])
            i += 2
        else:
            t, _, addr = a.partition(":")
            recs.append((t.upper(), addr))
            i += 1
    if not o["listen"] or not o["zone"]:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    return o, recs


def qname(msg, off):
    labels = []
    while True:
        n = msg[off]
        off += 1
        if n == 0:
            return ".".join(labels).lower(), off
        labels.append(msg[off:off + n].decode("ascii", "replace"))
        off += n


def answer(msg, zone, recs):
    qid, flags, qd = struct.unpack("!HHH", msg[:6])
    name, off = qname(msg, 12)
    qtype, qclass = struct.unpack("!HH", msg[off:off + 4])
    question = msg[12:off + 4]
    inzone = name == zone or name.endswith("." + zone)
    rrs = b""
    n = 0
    if inzone:
        for t, addr in recs:
            if t == "A" and qtype == 1:
                rdata = socket.inet_pton(socket.AF_INET, addr)
            elif t == "AAAA" and qtype == 28:
                rdata = socket.inet_pton(socket.AF_INET6, addr)
            else:
                continue
            rrs += b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 60, len(rdata)) + rdata
            n += 1
    rcode = 0 if inzone else 3
    hdr = struct.pack("!HHHHHH", qid, 0x8400 | (flags & 0x0100) | rcode, 1, n, 0, 0)
    return hdr + question + rrs, name, qtype


def main(argv):
    o, recs = parse(argv)
    fam = socket.AF_INET6 if ":" in o["listen"] else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((o["listen"], o["port"]))
    s.settimeout(0.5)
    log = open(o["log"], "a", buffering=1) if o["log"] else None
    if o["ready"]:
        open(o["ready"], "w").write("ready\n")
    t0 = time.monotonic()
    while time.monotonic() - t0 < o["hold"]:
        try:
            msg, peer = s.recvfrom(4096)
        except socket.timeout:
            continue
        try:
            reply, name, qtype = answer(msg, o["zone"], recs)
        except (IndexError, struct.error, UnicodeError):
            continue
        if log:
            log.write("query %s type %d from %s\n" % (name, qtype, peer[0]))
        s.sendto(reply, peer)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
