#!/usr/bin/python3
"""probe.py - one network attempt, one line of result, for awf-bpf tests.

Usage: probe.py MODE ARGS... [--send DATA] [--host NAME] [--timeout SECONDS]

  tcp ADDR PORT            connect; send DATA (default: an HTTP GET) and
                           print the reply's last line (HTTP: the body).
                           The GET's Host header is "NAME:PORT": NAME is
                           --host if given, else ADDR exactly as given (a
                           name stays that name, it is never replaced by
                           the address it resolved to). Where the name
                           check applies (an address learned from an
                           allowed name), an IP literal is not an allowed
                           Host: give --host with the name
  udp ADDR PORT            unconnected sendto/recvfrom (DATA default "ping")
  udp-connect ADDR PORT    connect() then send/recv
  v4mapped ADDR PORT       TCP from an AF_INET6 socket to ::ffff:ADDR
  v4mapped-udp ADDR PORT   UDP sendto from an AF_INET6 socket to ::ffff:ADDR
  icmp ADDR                ICMP echo over an ICMP datagram socket
                           (SOCK_DGRAM, IPPROTO_ICMP / IPPROTO_ICMPV6)
  raw ADDR                 ICMP echo over a raw socket (SOCK_RAW)
  dns SERVER NAME [TYPE]   DNS query (A by default) with an unconnected
                           UDP sendto; with --tcp over TCP, with --connect
                           over a connected UDP socket
  listen ADDR PORT         TCP server: answers "hello from ADDR:PORT" until
                           killed or --count connections (for loopback tests);
                           prints "ok listening" once bound (--ready-file F)

Output, exactly one line:
  ok <reply> [peer=ADDR:PORT]     exit 0
  err <ERRNO> <elapsed_ms>        exit 1, ERRNO is the errno name (EPERM,
                                  ECONNREFUSED...) or TIMEOUT
  ok NXDOMAIN / ok <rcode>        (dns) when the answer carries no address
elapsed_ms is measured around the failing operation (socket/connect/send),
so a test can assert "EPERM and fast".
"""

import errno
import os
import random
import socket
import struct
import sys
import time


class Result(Exception):
    pass


def ename(e):
    if isinstance(e, socket.timeout):
        return "TIMEOUT"
    if isinstance(e, socket.gaierror):
        return "EAI"
    if e.errno is not None:
        return errno.errorcode.get(e.errno, str(e.errno))
    return "ERROR"


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def fmt_peer(peer):
    if len(peer) >= 4:
        return "[%s]:%d" % (peer[0], peer[1])
    return "%s:%d" % (peer[0], peer[1])


def clean(data):
    text = data.decode("utf-8", "replace")
    lines = [l.strip() for l in text.replace("\r", "").split("\n") if l.strip()]
    return lines[-1] if lines else "(empty)"


class Probe:
    def __init__(self, timeout, host=None):
        self.timeout = timeout
        self.host = host
        self.t0 = time.monotonic()

    def start(self):
        self.t0 = time.monotonic()

    def elapsed_ms(self):
        return int((time.monotonic() - self.t0) * 1000)


def do_tcp(p, family, addr, port, send):
    p.start()
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(p.timeout)
    target = (addr, port, 0, 0) if family == socket.AF_INET6 else (addr, port)
    s.connect(target)
    if send is None:
        host = p.host if p.host else "[%s]" % addr if ":" in addr else addr
        send = "GET / HTTP/1.0\r\nHost: %s:%d\r\n\r\n" % (host, port)
    s.sendall(send.encode())
    data = b""
    while len(data) < 65536:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    return "ok %s" % clean(data)


def do_udp(p, family, addr, port, send, connected):
    data = (send if send is not None else "ping").encode()
    p.start()
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(p.timeout)
    target = (addr, port, 0, 0) if family == socket.AF_INET6 else (addr, port)
    if connected:
        s.connect(target)
        s.send(data)
        reply, peer = s.recvfrom(65535)
    else:
        s.sendto(data, target)
        reply, peer = s.recvfrom(65535)
    s.close()
    return "ok %s peer=%s" % (clean(reply), fmt_peer(peer))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def icmp_echo(p, addr, stype):
    family = family_of(addr)
    proto = socket.IPPROTO_ICMPV6 if family == socket.AF_INET6 else socket.IPPROTO_ICMP
    etype = 128 if family == socket.AF_INET6 else 8
    ident = os.getpid() & 0xFFFF
    payload = b"awf-bpf-probe"
    hdr = struct.pack("!BBHHH", etype, 0, 0, ident, 1)
    csum = 0 if family == socket.AF_INET6 else checksum(hdr + payload)
    pkt = struct.pack("!BBHHH", etype, 0, csum, ident, 1) + payload
    p.start()
    s = socket.socket(family, stype, proto)
    s.settimeout(p.timeout)
    s.sendto(pkt, (addr, 0))
    deadline = time.monotonic() + p.timeout
    while True:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        data, peer = s.recvfrom(65535)
        if stype == socket.SOCK_RAW and family == socket.AF_INET:
            data = data[(data[0] & 0x0F) * 4:]  # strip the IP header
        if data and data[0] in (0, 129):  # echo reply
            return "ok echo-reply peer=%s" % peer[0]


# --- DNS -------------------------------------------------------------------

QTYPES = {"A": 1, "AAAA": 28, "CNAME": 5, "TXT": 16, "ANY": 255}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def dns_query(name, qtype):
    qid = random.randint(0, 0xFFFF)
    hdr = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
    return qid, hdr + q + struct.pack("!HH", QTYPES[qtype], 1)


def dns_skip_name(msg, off):
    while True:
        n = msg[off]
        if n & 0xC0 == 0xC0:
            return off + 2
        if n == 0:
            return off + 1
        off += 1 + n


def dns_parse(msg, qid):
    rid, flags, qd, an, _, _ = struct.unpack("!HHHHHH", msg[:12])
    if rid != qid:
        return "bad-id"
    off = 12
    for _ in range(qd):
        off = dns_skip_name(msg, off) + 4
    addrs = []
    for _ in range(an):
        off = dns_skip_name(msg, off)
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        rdata = msg[off:off + rdlen]
        off += rdlen
        if rtype == 1 and rdlen == 4:
            addrs.append(socket.inet_ntop(socket.AF_INET, rdata))
        elif rtype == 28 and rdlen == 16:
            addrs.append(socket.inet_ntop(socket.AF_INET6, rdata))
    rcode = flags & 0xF
    if addrs:
        return ",".join(sorted(addrs))
    return RCODES.get(rcode, "RCODE%d" % rcode)


def do_dns(p, server, name, qtype, tcp, connected, port):
    family = family_of(server)
    target = (server, port, 0, 0) if family == socket.AF_INET6 else (server, port)
    qid, q = dns_query(name, qtype)
    p.start()
    if tcp:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(p.timeout)
        s.connect(target)
        s.sendall(struct.pack("!H", len(q)) + q)
        data = b""
        while len(data) < 2 or len(data) < 2 + struct.unpack("!H", data[:2])[0]:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        peer = s.getpeername()
        return "ok %s peer=%s" % (dns_parse(data[2:], qid), fmt_peer(peer))
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(p.timeout)
    if connected:
        s.connect(target)
        s.send(q)
        data, peer = s.recvfrom(65535)
        peer2 = s.getpeername()
        return "ok %s peer=%s getpeername=%s" % (dns_parse(data, qid), fmt_peer(peer), fmt_peer(peer2))
    s.sendto(q, target)
    data, peer = s.recvfrom(65535)
    return "ok %s peer=%s" % (dns_parse(data, qid), fmt_peer(peer))


def do_listen(addr, port, count, ready_file):
    family = family_of(addr)
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    me = "[%s]:%d" % (addr, port) if family == socket.AF_INET6 else "%s:%d" % (addr, port)
    if ready_file:
        with open(ready_file + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(ready_file + ".tmp", ready_file)
    print("ok listening %s" % me, flush=True)
    served = 0
    while count <= 0 or served < count:
        c, _ = s.accept()
        c.settimeout(2)
        try:
            c.recv(4096)
        except OSError:
            pass
        body = ("hello from %s\n" % me).encode()
        try:
            c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        except OSError:
            pass
        c.close()
        served += 1
    return "ok served %d" % served


def main(argv):
    send = None
    host = None
    timeout = 3.0
    tcp = connected = False
    count = 0
    ready_file = None
    port53 = 53
    pos = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--send":
            send = argv[i + 1].encode().decode("unicode_escape")
            i += 2
        elif a == "--timeout":
            timeout = float(argv[i + 1])
            i += 2
        elif a == "--host":
            host = argv[i + 1]
            i += 2
        elif a == "--tcp":
            tcp = True
            i += 1
        elif a == "--connect":
            connected = True
            i += 1
        elif a == "--count":
            count = int(argv[i + 1])
            i += 2
        elif a == "--ready-file":
            ready_file = argv[i + 1]
            i += 2
        elif a == "--port":
            port53 = int(argv[i + 1])
            i += 2
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            pos.append(a)
            i += 1
    if not pos:
        print(__doc__, file=sys.stderr)
        return 2
    mode, args = pos[0], pos[1:]
    p = Probe(timeout, host)
    try:
        if mode == "tcp":
            line = do_tcp(p, family_of(args[0]), args[0], int(args[1]), send)
        elif mode == "udp":
            line = do_udp(p, family_of(args[0]), args[0], int(args[1]), send, False)
        elif mode == "udp-connect":
            line = do_udp(p, family_of(args[0]), args[0], int(args[1]), send, True)
        elif mode == "v4mapped":
            line = do_tcp(p, socket.AF_INET6, "::ffff:" + args[0], int(args[1]), send)
        elif mode == "v4mapped-udp":
            line = do_udp(p, socket.AF_INET6, "::ffff:" + args[0], int(args[1]), send, False)
        elif mode == "icmp":
            line = icmp_echo(p, args[0], socket.SOCK_DGRAM)
        elif mode == "raw":
            line = icmp_echo(p, args[0], socket.SOCK_RAW)
        elif mode == "dns":
            qtype = args[2].upper() if len(args) > 2 else "A"
            line = do_dns(p, args[0], args[1], qtype, tcp, connected, port53)
        elif mode == "listen":
            line = do_listen(args[0], int(args[1]), count, ready_file)
        else:
            print("probe.py: unknown mode %r" % mode, file=sys.stderr)
            return 2
    except (OSError, socket.timeout) as e:
        print("err %s %d" % (ename(e), p.elapsed_ms()), flush=True)
        return 1
    except (IndexError, ValueError, struct.error) as e:
        print("err USAGE %s" % e, flush=True)
        return 2
    print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
