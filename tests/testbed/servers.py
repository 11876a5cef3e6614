#!/usr/bin/python3
"""servers.py - the HTTP, HTTPS, TCP and UDP echo servers of the awf-bpf testbed.

Usage: servers.py [--log FILE] [--ready-file FILE] [--tls-dir DIR]
                  [--tls-names NAME,NAME...] SPEC...
  SPEC is KIND:ADDR:PORT, IPv6 as KIND:[ADDR]:PORT, KIND one of:

  http   any request gets "200 OK" with the body "hello from ADDR:PORT\\n"
         (IPv6 as [ADDR]:PORT), then the connection is closed.
  host   HTTP answering with the Host header it got: "hello from HOST at
         ADDR:PORT\\n" (HOST as sent, with its port if any; "(none)").
  https  real TLS (1.2 and 1.3) with one certificate per name of
         --tls-names (DIR/NAME.crt, DIR/NAME.key, covering NAME and
         *.NAME), picked by the ClientHello's server_name; a name of none
         of them, or no server_name, gets the first name's certificate.
         Then one HTTP request: "hello from SNI at ADDR:PORT (Host: HOST)\\n",
         SNI being the server_name the client sent ("(none)" without one).
  echo   raw TCP: a greeting line "greeting from ADDR:PORT\\r\\n" at once,
         then the first bytes the client sends come back as "echo: DATA",
         and the connection is closed (no protocol a name check knows).
  udp    every datagram is answered with "echo from ADDR:PORT: <data>".

Every connection and datagram is logged to --log (one line, flushed), so a
test can prove that a host received nothing (https: the server_name, TLS
version and request line; "handshake failed" when there was none).

One thread per listener, one per TCP connection (bounded read size and
time). Runs until SIGTERM/SIGINT. The testbed starts one instance inside
the world network namespace; tests may start one on loopback.
"""

import os
import signal
import socket
import ssl
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
    if kind not in KINDS:
        raise ValueError("bad spec %r: want KIND:ADDR:PORT, KIND one of %s" % (spec, ", ".join(KINDS)))
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


def read_request(conn):
    """The request head (bounded by MAX_REQUEST and the socket's timeout)."""
    data = b""
    while b"\r\n\r\n" not in data and b"\n\n" not in data and len(data) < MAX_REQUEST:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def first_line(data):
    return data.split(b"\n", 1)[0].strip().decode("latin-1", "replace")


def host_of(data):
    """The Host header of a request head, as sent; "(none)" without one."""
    for line in data.split(b"\n")[1:]:
        line = line.strip()
        if not line:
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"host":
            return value.strip().decode("latin-1", "replace") or "(none)"
    return "(none)"


def reply(conn, text):
    body = text.encode()
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/plain\r\n"
        "Content-Length: %d\r\n"
        "Connection: close\r\n\r\n" % len(body)
    ).encode()
    conn.sendall(head + body)


def handle_http(conn, peer, me):
    try:
        conn.settimeout(CONN_TIMEOUT)
        data = read_request(conn)
        log("http %s from %s: %s" % (me, peer_name(peer), first_line(data)))
        reply(conn, "hello from %s\n" % me)
    except OSError as e:
        log("http %s from %s: error %s" % (me, peer_name(peer), e))
    finally:
        conn.close()


def handle_host(conn, peer, me):
    try:
        conn.settimeout(CONN_TIMEOUT)
        data = read_request(conn)
        host = host_of(data)
        log("host %s from %s: host %s: %s" % (me, peer_name(peer), host, first_line(data)))
        reply(conn, "hello from %s at %s\n" % (host, me))
    except OSError as e:
        log("host %s from %s: error %s" % (me, peer_name(peer), e))
    finally:
        conn.close()


# --- TLS -------------------------------------------------------------------

_tls = {"names": [], "contexts": {}, "default": None}


def tls_setup(tls_dir, names):
    """One server context per name; the first is the default."""
    for name in names:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.maximum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_cert_chain(os.path.join(tls_dir, name + ".crt"), os.path.join(tls_dir, name + ".key"))
        _tls["names"].append(name)
        _tls["contexts"][name] = ctx
    default = _tls["contexts"][names[0]]
    for ctx in _tls["contexts"].values():
        ctx.sni_callback = pick_certificate
    _tls["default"] = default


def context_for(server_name):
    if server_name:
        sni = server_name.lower().rstrip(".")
        for name in _tls["names"]:
            if sni == name or sni.endswith("." + name):
                return _tls["contexts"][name]
    return _tls["default"]


# The server_name of each connection, by its SSLSocket (set in the
# callback, read once the handshake is done).
_sni = {}
_sni_lock = threading.Lock()


def pick_certificate(sslsock, server_name, _ctx):
    with _sni_lock:
        _sni[id(sslsock)] = server_name
    sslsock.context = context_for(server_name)
    return None


def handle_https(conn, peer, me):
    tls = None
    try:
        conn.settimeout(CONN_TIMEOUT)
        tls = _tls["default"].wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        try:
            tls.do_handshake()
        except (ssl.SSLError, OSError) as e:
            with _sni_lock:
                sni = _sni.pop(id(tls), None) or "(none)"
            log("https %s from %s: sni %s: handshake failed: %s" % (me, peer_name(peer), sni, e))
            return
        with _sni_lock:
            sni = _sni.pop(id(tls), None) or "(none)"
        data = read_request(tls)
        host = host_of(data)
        log("https %s from %s: sni %s %s host %s: %s"
            % (me, peer_name(peer), sni, tls.version(), host, first_line(data)))
        reply(tls, "hello from %s at %s (Host: %s)\n" % (sni, me, host))
        try:
            tls.unwrap()
        except (ssl.SSLError, OSError):
            pass
    except (ssl.SSLError, OSError) as e:
        log("https %s from %s: error %s" % (me, peer_name(peer), e))
    finally:
        if tls is not None:
            with _sni_lock:
                _sni.pop(id(tls), None)
            tls.close()
        conn.close()


def handle_echo(conn, peer, me):
    try:
        conn.settimeout(CONN_TIMEOUT)
        conn.sendall(("greeting from %s\r\n" % me).encode())
        data = conn.recv(4096)
        log("echo %s from %s: %r" % (me, peer_name(peer), data[:64]))
        if data:
            conn.sendall(b"echo: " + data)
    except OSError as e:
        log("echo %s from %s: error %s" % (me, peer_name(peer), e))
    finally:
        conn.close()


def serve_tcp(sock, me, handler):
    while True:
        try:
            conn, peer = sock.accept()
        except OSError:
            continue
        t = threading.Thread(target=handler, args=(conn, peer, me), daemon=True)
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


TCP_HANDLERS = {"http": handle_http, "host": handle_host, "https": handle_https, "echo": handle_echo}
KINDS = tuple(TCP_HANDLERS) + ("udp",)


def open_listener(kind, family, addr, port):
    stype = socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM
    s = socket.socket(family, stype)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port))
    if kind != "udp":
        s.listen(64)
    return s


def main(argv):
    global _log_file
    specs = []
    ready_file = None
    tls_dir = None
    tls_names = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--log":
            _log_file = open(argv[i + 1], "a", buffering=1)
            i += 2
        elif a == "--ready-file":
            ready_file = argv[i + 1]
            i += 2
        elif a == "--tls-dir":
            tls_dir = argv[i + 1]
            i += 2
        elif a == "--tls-names":
            tls_names = [n for n in argv[i + 1].split(",") if n]
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

    parsed = [parse_spec(spec) for spec in specs]
    if any(kind == "https" for kind, _, _, _ in parsed):
        if not tls_dir or not tls_names:
            print("servers.py: https needs --tls-dir and --tls-names", file=sys.stderr)
            return 2
        tls_setup(tls_dir, tls_names)
    threads = []
    for kind, family, addr, port in parsed:
        sock = open_listener(kind, family, addr, port)
        me = name_of(family, addr, port)
        if kind == "udp":
            threads.append(threading.Thread(target=serve_udp, args=(sock, me), daemon=True))
        else:
            threads.append(threading.Thread(target=serve_tcp, args=(sock, me, TCP_HANDLERS[kind]),
                                            daemon=True))
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
