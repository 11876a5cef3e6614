#!/usr/bin/python3
"""servers.py - the HTTP and UDP echo servers of the awf-bpf testbed.

Usage: servers.py [--log FILE] [--ready-file FILE] SPEC...
  SPEC is http:ADDR:PORT or udp:ADDR:PORT; IPv6 as http:[ADDR]:PORT.

HTTP: any request gets "200 OK" with the body "hello from ADDR:PORT\\n"
(IPv6 as [ADDR]:PORT), then the connection is closed.
UDP: every datagram is answered with "echo from ADDR:PORT: <data>".
Every connection and datagram is logged to --log (one line, flushed), so a
test can prove that a host received nothing.

One thread per listener, one per HTTP connection (bounded read size and
time). Runs until SIGTERM/SIGINT. The testbed starts one instance inside
the world network namespace; tests may start one on loopback.
"""

import os
import signal
import socket
import sys
import threading
import time

MAX_REQUEST = 16384
CONN_TIMEOUT = 5.0

_log_lock = threading.Lock()
_log_file = None


def log(line):
    if _log_file is None:
        return
    with _log_lock:
        _log_file.write("%.3f %s\n" % (time.time(), line))
        _log_file.flush()


def parse_spec(spec):
    kind, _, rest = spec.partition(":")
    if kind not in ("http", "udp"):
        raise ValueError("bad spec %r: want http:ADDR:PORT or udp:ADDR:PORT" % spec)
    if rest.startswith("["):
        addr, _, port = rest[1:].partition("]:")
    else:
        addr, _, port = rest.rpartition(":")
    if not addr or not port:
        raise ValueError("bad spec %r" % spec)
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    return kind, family, addr, int(port)


def name_of(family, addr, port):
    return "[%s]:%d" % (addr, port) if family == socket.AF_INET6 else "%s:%d" % (addr, port)


def peer_name(peer):
    if len(peer) == 4:
        return "[%s]:%d" % (peer[0], peer[1])
    return "%s:%d" % (peer[0], peer[1])


def handle_http(conn, peer, me):
    try:
        conn.settimeout(CONN_TIMEOUT)
        data = b""
        while b"\r\n\r\n" not in data and b"\n\n" not in data and len(data) < MAX_REQUEST:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        first = data.split(b"\n", 1)[0].strip().decode("latin-1", "replace")
        log("http %s from %s: %s" % (me, peer_name(peer), first))
        body = ("hello from %s\n" % me).encode()
        head = (
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: %d\r\n"
            "Connection: close\r\n\r\n" % len(body)
        ).encode()
        conn.sendall(head + body)
    except OSError as e:
        log("http %s from %s: error %s" % (me, peer_name(peer), e))
    finally:
        conn.close()


def serve_http(sock, me):
    while True:
        try:
            conn, peer = sock.accept()
        except OSError:
            continue
        t = threading.Thread(target=handle_http, args=(conn, peer, me), daemon=True)
        t.start()


def serve_udp(sock, me):
    prefix = ("echo from %s: " % me).encode()
    while True:
        try:
            data, peer = sock.recvfrom(65535)
        except OSError:
            continue
        log("udp %s from %s: %r" % (me, peer_name(peer), data[:64]))
        try:
            sock.sendto(prefix + data, peer)
        except OSError as e:
            log("udp %s reply to %s: error %s" % (me, peer_name(peer), e))


def open_listener(kind, family, addr, port):
    stype = socket.SOCK_STREAM if kind == "http" else socket.SOCK_DGRAM
    s = socket.socket(family, stype)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port))
    if kind == "http":
        s.listen(64)
    return s


def main(argv):
    global _log_file
    specs = []
    ready_file = None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--log":
            _log_file = open(argv[i + 1], "a", buffering=1)
            i += 2
        elif a == "--ready-file":
            ready_file = argv[i + 1]
            i += 2
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            specs.append(a)
            i += 1
    if not specs:
        print(__doc__, file=sys.stderr)
        return 2

    threads = []
    for spec in specs:
        kind, family, addr, port = parse_spec(spec)
        sock = open_listener(kind, family, addr, port)
        me = name_of(family, addr, port)
        target = serve_http if kind == "http" else serve_udp
        threads.append(threading.Thread(target=target, args=(sock, me), daemon=True))
    for t in threads:
        t.start()
    log("ready: %s" % " ".join(specs))
    if ready_file:
        with open(ready_file + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(ready_file + ".tmp", ready_file)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(3600):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
