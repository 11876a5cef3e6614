#!/usr/bin/python3
"""sniff.py - count the IP packets that reach the test world, for the escape
battery: "the target saw nothing" at the packet level, whatever the
protocol (also ICMP, raw, source-routed or L2 frames no server would log).

Usage: sniff.py --iface IF --out FILE [--ready-file F] [--max-seconds N] ADDR...

Runs inside the world network namespace (nsenter --net=/run/netns/...),
on the world end of the veth. Every IPv4/IPv6 packet that ARRIVES on IF
(not the ones the world sends) whose destination is one of ADDR (or any
destination with ADDR "any"), or whose source is one of the ADDR given as
"src:ADDR" (a spoofed source: the host never sends from the world's
addresses), is written to FILE as one flushed line:

  <time> v4|v6 <src> > <dst> proto <n> len <bytes> [dport <p>] [payload <bytes>]

payload (TCP only) is the segment's data length, from the IP length field
and the TCP data offset: 0 for a handshake, an ACK, a FIN or a RST.

Stops after --max-seconds (default 120) or on SIGTERM; it never sends.
"""

import os
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def parse_args(argv):
    opts = {"iface": None, "out": None, "ready": None, "max": 120.0}
    addrs = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--iface":
            opts["iface"] = argv[i + 1]
            i += 2
        elif a == "--out":
            opts["out"] = argv[i + 1]
            i += 2
        elif a == "--ready-file":
            opts["ready"] = argv[i + 1]
            i += 2
        elif a == "--max-seconds":
            opts["max"] = float(argv[i + 1])
            i += 2
        else:
            addrs.append(a)
            i += 1
    if not opts["iface"] or not opts["out"] or not addrs:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    return opts, addrs


def norm(addr):
    if addr == "any":
        return addr
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    return socket.inet_ntop(fam, socket.inet_pton(fam, addr))


def ports(proto, l4):
    if proto in (6, 17, 136) and len(l4) >= 4:
        return " dport %d" % struct.unpack("!H", l4[2:4])[0]
    return ""


def tcp_payload(proto, l4_len, l4):
    """ payload N" for TCP: l4_len is the IP payload length from the IP
    header (the frame may carry Ethernet padding beyond it)."""
    if proto != 6 or len(l4) < 13:
        return ""
    return " payload %d" % max(0, l4_len - (l4[12] >> 4) * 4)


def describe(frame):
    """(dst, src, line) of an Ethernet frame carrying IP, else None."""
    if len(frame) < 14:
        return None
    off = 12
    etype = struct.unpack("!H", frame[off:off + 2])[0]
    off += 2
    while etype in (0x8100, 0x88A8) and len(frame) >= off + 4:  # VLAN tags
        etype = struct.unpack("!H", frame[off + 2:off + 4])[0]
        off += 4
    ip = frame[off:]
    if etype == 0x0800 and len(ip) >= 20:
        ihl = (ip[0] & 0x0F) * 4
        src = socket.inet_ntop(socket.AF_INET, ip[12:16])
        dst = socket.inet_ntop(socket.AF_INET, ip[16:20])
        proto = ip[9]
        l4_len = struct.unpack("!H", ip[2:4])[0] - ihl
        return dst, src, "v4 %s > %s proto %d len %d%s%s" % (src, dst, proto, len(ip), ports(proto, ip[ihl:]),
                                                       tcp_payload(proto, l4_len, ip[ihl:]))
    if etype == 0x86DD and len(ip) >= 40:
        src = socket.inet_ntop(socket.AF_INET6, ip[8:24])
        dst = socket.inet_ntop(socket.AF_INET6, ip[24:40])
        proto = ip[6]
        l4_len = struct.unpack("!H", ip[4:6])[0]  # no extension headers before TCP
        return dst, src, "v6 %s > %s proto %d len %d%s%s" % (src, dst, proto, len(ip), ports(proto, ip[40:]),
                                                       tcp_payload(proto, l4_len, ip[40:]))
    return None


def main(argv):
    opts, addrs = parse_args(argv)
    want = set(norm(a) for a in addrs if not a.startswith("src:"))
    want_src = set(norm(a[4:]) for a in addrs if a.startswith("src:"))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((opts["iface"], 0))
    s.settimeout(0.2)
    out = open(opts["out"], "a", buffering=1)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    if opts["ready"]:
        with open(opts["ready"] + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(opts["ready"] + ".tmp", opts["ready"])
    deadline = time.monotonic() + opts["max"]
    while not stop and time.monotonic() < deadline:
        try:
            frame, meta = s.recvfrom(65535)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        if len(meta) >= 3 and meta[2] == PACKET_OUTGOING:
            continue
        d = describe(frame)
        if d and ("any" in want or d[0] in want or d[1] in want_src):
            out.write("%.3f %s\n" % (time.time(), d[2]))
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
