#!/usr/bin/python3
"""sock.py - escape attempts for the awf-bpf escape battery (tests/escape/).

Usage: sock.py MODE ARGS... [--timeout SECONDS]

Every step of an attempt prints one line:
  <step> ok [detail]              the step worked
  <step> err <ERRNO> <ms>         it failed (ERRNO: EPERM, EACCES, TIMEOUT...)
The exit status is 0 unless the arguments are wrong (2). A test decides
what each line means; nothing here asserts.

Modes (inside the sandbox unless said otherwise):
  socket FAMILY TYPE PROTO [ACTION]
        FAMILY inet|inet6|packet|xdp|vsock|netlink|key|unix|NUMBER,
        TYPE stream|dgram|raw|seqpacket|NUMBER, PROTO a name (tcp udp icmp
        icmpv6 sctp mptcp udplite raw all ip route netfilter xfrm ...) or a
        number. ACTION, after the socket exists:
          --connect ADDR PORT    connect (and send a line)
          --sendto ADDR PORT     sendto one datagram / packet
          --qdisc-bypass         (packet) setsockopt PACKET_QDISC_BYPASS
          --frame-to IPV4 IFACE  (packet) send an Ethernet frame carrying
                                 UDP to IPV4:5000 out of IFACE
        A vsock socket is only created, never connected: its peer would be
        the hypervisor, which is no test host.
  tfo ADDR PORT                  TCP Fast Open: sendto(MSG_FASTOPEN)
  sendmmsg ADDR PORT ADDR PORT...  one sendmmsg(), one datagram per target
  udp-connect-sendto A P B Q     connect(A:P), send, then sendto(B:Q)
  reconnect tcp|udp A P B Q      connect(A:P), connect(AF_UNSPEC), connect(B:Q)
  bindtodevice IFACE ADDR PORT   SO_BINDTODEVICE, then connect
  transparent ADDR PORT SRC      IP_TRANSPARENT, bind(SRC), connect
  freebind ADDR PORT SRC         IP_FREEBIND, bind(SRC) (a spoofed source), connect
  spoof-bind ADDR PORT SRC       UDP, IP_FREEBIND, bind(SRC, 0), sendto ADDR:PORT
                                 ~1.2 KB (the payload an ICMP error would quote)
  spoof-pktinfo ADDR PORT SRC [connected] [dns=NAME]   UDP, IP_FREEBIND,
                                 sendmsg with SRC as IP_PKTINFO / IPV6_PKTINFO
                                 source, to ADDR:PORT (connected: connect
                                 first, then sendmsg without an address;
                                 dns=NAME: a DNS query for NAME as payload)
  lsrr tcp|udp VIA ADDR PORT     IPv4 loose source route: the socket names
                                 ADDR, the packet goes to VIA first
  srh6 tcp|udp VIA ADDR PORT     IPv6 segment routing header (IPV6_RTHDR,
                                 unprivileged): the packet goes to VIA first
  tcp-repair ADDR PORT           TCP_REPAIR, then connect
  broadcast ADDR PORT            SO_BROADCAST, sendto
  squat BINDADDR PORT CONNADDR   connect(CONNADDR:PORT); bind a TCP socket to
                                 BINDADDR:PORT; connect again
  reuseport-squat ADDR PORT      join the SO_REUSEPORT group of a service on
                                 ADDR:PORT with listeners of ours, connect
  reuseport-serve ADDR PORT [--hold S] [--ready-file F]   (OUTSIDE) such a
                                 service: a banner, a line per connection
  ptrace PID                     PTRACE_ATTACH, PTRACE_SEIZE (detached at once)
  vmread PID                     process_vm_readv
  procfiles PID                  open /proc/PID/{mem,environ,maps}, the fds
                                 listed in /proc/PID/fd, list /proc/PID/root
  pidfd-getfd PID                pidfd_open + pidfd_getfd of fds 0..63
  fds                            the open file descriptors
  bpf CMD [ARG]                  bpf(2): prog-next-id, map-next-id,
                                 prog-get ID, map-get ID, obj-get PATH,
                                 prog-query CGROUP_DIR, prog-detach CGROUP_DIR
  unshare FLAG[,FLAG...]         unshare(2): user,net,mnt,pid,cgroup,uts,ipc
  setns PATH                     setns(2) into the namespace file PATH
  nft-newtable NAME | nft-deltable NAME   nftables over netlink
  recvfd PATH ADDR PORT          receive a socket over the unix socket PATH
                                 (SCM_RIGHTS), sendto ADDR:PORT through it
  fdpass-serve PATH [--ready-file F] [--count N]   (OUTSIDE) hand a UDP
                                 socket created here to every client of PATH
  listen-ports PORT... [--hold S] [--ready-file F]   listen on 0.0.0.0:PORT
  probe-ports SRC HOST PORT...   (OUTSIDE, world) connect from SRC to each
                                 HOST:PORT; "bits" 1 = no answer, 0 = refused
  tcp-accept PORT [--ready-file F]   listen on 0.0.0.0:PORT, accept once
  udp-reply PORT [--ready-file F]    receive one datagram, answer its sender
  world-connect SRC HOST PORT    (OUTSIDE, world) connect from SRC, send a line
  world-udp SRC HOST PORT        (OUTSIDE, world) one datagram from SRC
"""

import ctypes
import ctypes.util
import errno
import os
import socket
import struct
import sys
import time

TIMEOUT = 3.0
READY = None
HOLD = 10.0
COUNT = 1

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

# x86_64 syscall numbers (the battery runs on x86_64).
SYS_ptrace = 101
SYS_process_vm_readv = 310
SYS_bpf = 321
SYS_unshare = 272
SYS_setns = 308
SYS_pidfd_open = 434
SYS_pidfd_getfd = 438
SYS_sendmmsg = 307

FAMILIES = {"inet": socket.AF_INET, "inet6": socket.AF_INET6, "packet": 17,
            "xdp": 44, "vsock": 40, "netlink": 16, "key": 15, "unix": 1}
TYPES = {"stream": 1, "dgram": 2, "raw": 3, "seqpacket": 5}
PROTOS = {"0": 0, "tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "sctp": 132,
          "mptcp": 262, "udplite": 136, "raw": 255, "route": 0, "netfilter": 12,
          "xfrm": 6, "audit": 9, "sock_diag": 4, "generic": 16, "pfkey": 2,
          "all": socket.htons(0x0003), "ip": socket.htons(0x0800)}

CLONE = {"user": 0x10000000, "net": 0x40000000, "mnt": 0x00020000,
         "pid": 0x20000000, "cgroup": 0x02000000, "uts": 0x04000000,
         "ipc": 0x08000000}


class Step:
    """Times one step and prints its line."""

    def __init__(self, name):
        self.name = name
        self.t0 = time.monotonic()

    def ms(self):
        return int((time.monotonic() - self.t0) * 1000)

    def ok(self, detail=""):
        print(("%s ok %s" % (self.name, detail)).rstrip(), flush=True)
        return True

    def err(self, e):
        print("%s err %s %d" % (self.name, ename(e), self.ms()), flush=True)
        return False


def ename(e):
    if isinstance(e, socket.timeout):
        return "TIMEOUT"
    if isinstance(e, int):
        return errno.errorcode.get(e, str(e))
    if getattr(e, "errno", None) is not None:
        return errno.errorcode.get(e.errno, str(e.errno))
    return type(e).__name__


def run(name, fn, *args):
    """Run fn(*args) as step `name`; its return value is the detail."""
    st = Step(name)
    try:
        detail = fn(*args)
    except (OSError, socket.timeout) as e:
        st.err(e)
        return None
    st.ok("" if detail is None or detail is True else str(detail))
    return detail if detail is not None else True


def check(rc):
    """A raw libc/syscall return: -1 becomes OSError(errno)."""
    if rc < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return rc


def fam(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def target(addr, port):
    return (addr, int(port), 0, 0) if ":" in addr else (addr, int(port))


def last_line(data):
    lines = [l.strip() for l in data.decode("utf-8", "replace").splitlines() if l.strip()]
    return lines[-1] if lines else "(empty)"


def talk(s, addr, port, stype):
    """After connect: send a request, return the reply's last line."""
    if stype == socket.SOCK_STREAM:
        s.sendall(b"GET / HTTP/1.0\r\nHost: escape\r\n\r\n")
        data = b""
        while len(data) < 65536:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return last_line(data)
    s.send(b"escape")
    return last_line(s.recv(4096))


def number(table, text):
    try:
        return int(text, 0)
    except ValueError:
        return table[text]


# ----------------------------------------------------------------- socket

def ether_frame(dst_ip, iface):
    """Broadcast Ethernet frame: IPv4/UDP 198.18.0.1:40000 -> dst_ip:5000."""
    payload = b"escape via AF_PACKET"
    udp = struct.pack("!HHHH", 40000, 5000, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                      socket.inet_aton("198.18.0.1"), socket.inet_aton(dst_ip))
    csum = 0
    for i in range(0, 20, 2):
        csum += (hdr[i] << 8) + hdr[i + 1]
    csum = (csum >> 16) + (csum & 0xFFFF)
    csum = ~(csum + (csum >> 16)) & 0xFFFF
    hdr = hdr[:10] + struct.pack("!H", csum) + hdr[12:]
    try:
        with open("/sys/class/net/%s/address" % iface) as f:
            src_mac = bytes.fromhex(f.read().strip().replace(":", ""))
    except OSError:
        src_mac = b"\x02\x00\x00\x00\x00\x01"
    return b"\xff" * 6 + src_mac + struct.pack("!H", 0x0800) + hdr + udp


def mode_socket(args):
    if len(args) < 3:
        return usage()
    family = number(FAMILIES, args[0])
    stype = number(TYPES, args[1])
    proto = number(PROTOS, args[2])
    rest = args[3:]
    if family == FAMILIES["vsock"] and rest:
        print("vsock sockets are only created, never used", file=sys.stderr)
        return 2
    st = Step("socket")
    try:
        s = socket.socket(family, stype, proto)
    except OSError as e:
        st.err(e)
        return 0
    st.ok()
    s.settimeout(TIMEOUT)
    i = 0
    while i < len(rest):
        a = rest[i]
        if a == "--connect":
            addr, port = rest[i + 1], rest[i + 2]
            i += 3

            def conn():
                s.connect(target(addr, port))
                return talk(s, addr, port, stype)
            run("connect", conn)
        elif a == "--sendto":
            addr, port = rest[i + 1], rest[i + 2]
            i += 3
            run("sendto", lambda: s.sendto(b"escape", target(addr, port)) and "sent")
        elif a == "--qdisc-bypass":
            i += 1
            run("qdisc-bypass", lambda: s.setsockopt(263, 20, 1))  # SOL_PACKET, PACKET_QDISC_BYPASS
        elif a == "--frame-to":
            dst, iface = rest[i + 1], rest[i + 2]
            i += 3
            frame = ether_frame(dst, iface)
            if stype == socket.SOCK_RAW:
                def send_raw():
                    s.bind((iface, 0))
                    return "sent %d" % s.send(frame)
                run("frame", send_raw)
            else:
                run("frame", lambda: "sent %d" % s.sendto(frame[14:], (iface, 0x0800, 0, 0, b"\xff" * 6)))
        else:
            return usage()
    s.close()
    return 0


# ------------------------------------------------------------- UDP / TCP

def mode_tfo(args):
    addr, port = args[0], int(args[1])
    s = socket.socket(fam(addr), socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)

    def tfo():
        s.sendto(b"GET / HTTP/1.0\r\nHost: escape\r\n\r\n", 0x20000000, target(addr, port))  # MSG_FASTOPEN
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return last_line(data)
    run("tfo", tfo)
    return 0


class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                ("iov", ctypes.POINTER(iovec)), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


class mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", msghdr), ("len", ctypes.c_uint)]


def sockaddr_in(addr, port):
    return struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + socket.inet_aton(addr) + b"\0" * 8


def mode_sendmmsg(args):
    pairs = [(args[i], int(args[i + 1])) for i in range(0, len(args) - 1, 2)]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    n = len(pairs)
    keep = []
    vec = (mmsghdr * n)()
    for i, (addr, port) in enumerate(pairs):
        name = ctypes.create_string_buffer(sockaddr_in(addr, port), 16)
        data = ctypes.create_string_buffer(b"escape sendmmsg %d" % i)
        iov = iovec(ctypes.cast(data, ctypes.c_void_p), len(data.raw) - 1)
        keep += [name, data, iov]
        vec[i].hdr.name = ctypes.cast(name, ctypes.c_void_p)
        vec[i].hdr.namelen = 16
        vec[i].hdr.iov = ctypes.pointer(keep[-1])
        vec[i].hdr.iovlen = 1
    start = 0
    while start < n:
        st = Step("sendmmsg[%d]" % start)
        rc = libc.syscall(SYS_sendmmsg, s.fileno(), ctypes.byref(vec, start * ctypes.sizeof(mmsghdr)),
                          n - start, 0)
        if rc < 0:
            st.err(ctypes.get_errno())
            start += 1  # skip the refused one, try the rest
            continue
        st.ok("sent=%d" % rc)
        start += max(rc, 1)
    # Replies of whatever was delivered (the UDP echo servers answer).
    got = []
    s.settimeout(1.0)
    try:
        while len(got) < n:
            data, peer = s.recvfrom(4096)
            got.append("%s:%d" % peer)
    except (socket.timeout, OSError):
        pass
    print("replies from %s" % (",".join(sorted(got)) or "none"), flush=True)
    return 0


def mode_udp_connect_sendto(args):
    a, p, b, q = args[0], int(args[1]), args[2], int(args[3])
    s = socket.socket(fam(a), socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    run("connect", lambda: s.connect(target(a, p)))
    run("send", lambda: "sent %d" % s.send(b"escape connected"))
    run("sendto", lambda: "sent %d" % s.sendto(b"escape sendto", target(b, q)))
    return 0


def mode_reconnect(args):
    kind, a, p, b, q = args[0], args[1], int(args[2]), args[3], int(args[4])
    stype = socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(fam(a), stype)
    s.settimeout(TIMEOUT)
    run("connect-allowed", lambda: s.connect(target(a, p)))
    unspec = struct.pack("=H14x", socket.AF_UNSPEC)
    run("disconnect", lambda: check(libc.connect(s.fileno(), unspec, len(unspec))))

    def second():
        s.connect(target(b, q))
        return talk(s, b, q, stype)
    run("connect-blocked", second)
    return 0


def mode_bindtodevice(args):
    iface, addr, port = args[0], args[1], int(args[2])
    s = socket.socket(fam(addr), socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    run("bindtodevice", lambda: s.setsockopt(socket.SOL_SOCKET, 25, iface.encode() + b"\0"))

    def conn():
        s.connect(target(addr, port))
        return talk(s, addr, port, socket.SOCK_STREAM)
    run("connect", conn)
    return 0


def mode_transparent(args, opt=19, name="transparent"):
    addr, port, src = args[0], int(args[1]), args[2]
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    run(name, lambda: s.setsockopt(socket.IPPROTO_IP, opt, 1))  # IP_TRANSPARENT / IP_FREEBIND
    run("bind", lambda: s.bind((src, 0)))

    def conn():
        s.connect((addr, port))
        return talk(s, addr, port, socket.SOCK_STREAM)
    run("connect", conn)
    return 0


SPOOF_PAYLOAD = b"escape spoofed source " * 55  # ~1.2 KB


def mode_spoof_bind(args):
    addr, port, src = args[0], int(args[1]), args[2]
    s = socket.socket(fam(addr), socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    run("freebind", lambda: s.setsockopt(socket.IPPROTO_IP, 15, 1))  # IP_FREEBIND
    if run("bind", lambda: s.bind(target(src, 0))) is None:
        return 0  # not from SRC: sending now would prove nothing
    run("sendto", lambda: "sent %d" % s.sendto(SPOOF_PAYLOAD, target(addr, port)))
    return 0


def pktinfo(src):
    """The ancillary data that names src as the datagram's source."""
    if ":" in src:
        # struct in6_pktinfo: the address, then the interface (0: any)
        return (socket.IPPROTO_IPV6, socket.IPV6_PKTINFO,
                socket.inet_pton(socket.AF_INET6, src) + struct.pack("@I", 0))
    # struct in_pktinfo: ifindex, ipi_spec_dst (the source), ipi_addr
    return (socket.IPPROTO_IP, 8,  # IP_PKTINFO
            struct.pack("@i", 0) + socket.inet_aton(src) + bytes(4))


def dns_query(name):
    """A DNS query (A, recursion desired) for name."""
    q = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", 0x5353, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", 1, 1)


def mode_spoof_pktinfo(args):
    addr, port, src = args[0], int(args[1]), args[2]
    opts = args[3:]
    payload = SPOOF_PAYLOAD
    for o in opts:
        if o.startswith("dns="):
            payload = dns_query(o[4:])
    s = socket.socket(fam(addr), socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    run("freebind", lambda: s.setsockopt(socket.IPPROTO_IP, 15, 1))  # IP_FREEBIND
    if "connected" in opts:
        if run("connect", lambda: s.connect(target(addr, port))) is None:
            return 0
        run("sendmsg", lambda: "sent %d" % s.sendmsg([payload], [pktinfo(src)]))
    else:
        run("sendmsg", lambda: "sent %d" % s.sendmsg([payload], [pktinfo(src)], 0,
                                                     target(addr, port)))
    return 0


def mode_lsrr(args):
    kind, via, addr, port = args[0], args[1], args[2], int(args[3])
    stype = socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET, stype)
    s.settimeout(TIMEOUT)
    opt = bytes([1, 131, 7, 4]) + socket.inet_aton(via)  # NOP, LSRR len 7 ptr 4, first hop
    run("ip-options", lambda: s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, opt))
    if kind == "tcp":
        def conn():
            s.connect((addr, port))
            return talk(s, addr, port, stype)
        run("connect", conn)
    else:
        run("sendto", lambda: "sent %d" % s.sendto(b"escape lsrr", (addr, port)))
    return 0


def mode_srh6(args):
    kind, via, addr, port = args[0], args[1], args[2], int(args[3])
    stype = socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET6, stype)
    s.settimeout(TIMEOUT)
    segs = [socket.inet_pton(socket.AF_INET6, addr), socket.inet_pton(socket.AF_INET6, via)]
    # nexthdr, hdrlen (8-octet units after the first 8), type 4, segments_left,
    # last_entry, flags, tag; segments[0] is the final destination.
    srh = struct.pack("!BBBBBBH", 0, 2 * len(segs), 4, len(segs) - 1, len(segs) - 1, 0, 0) + b"".join(segs)
    run("ipv6-rthdr", lambda: s.setsockopt(socket.IPPROTO_IPV6, 57, srh))  # IPV6_RTHDR
    if kind == "tcp":
        def conn():
            s.connect((addr, port, 0, 0))
            return talk(s, addr, port, stype)
        run("connect", conn)
    else:
        run("sendto", lambda: "sent %d" % s.sendto(b"escape srh", (addr, port, 0, 0)))
    return 0


def mode_tcp_repair(args):
    addr, port = args[0], int(args[1])
    s = socket.socket(fam(addr), socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    run("tcp-repair", lambda: s.setsockopt(socket.IPPROTO_TCP, 19, 1))  # TCP_REPAIR

    def conn():
        s.connect(target(addr, port))
        return "connected"
    run("connect", conn)
    return 0


def mode_broadcast(args):
    addr, port = args[0], int(args[1])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    run("so-broadcast", lambda: s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1))
    run("sendto", lambda: "sent %d" % s.sendto(b"escape broadcast", (addr, port)))
    return 0


def mode_squat(args):
    bind_addr, port, conn_addr = args[0], int(args[1]), args[2]

    def conn():
        c = socket.socket(fam(conn_addr), socket.SOCK_STREAM)
        c.settimeout(TIMEOUT)
        try:
            c.connect(target(conn_addr, port))
            return talk(c, conn_addr, port, socket.SOCK_STREAM)
        finally:
            c.close()
    run("connect-before", conn)
    b = socket.socket(fam(bind_addr), socket.SOCK_STREAM)
    if ":" in bind_addr:
        b.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    run("bind", lambda: b.bind(target(bind_addr, port)))
    run("connect-after", conn)
    b.close()
    return 0


def mode_reuseport_serve(args):
    """(OUTSIDE) a host service with SO_REUSEPORT: banner, one line per accept."""
    addr, port = args[0], int(args[1])
    s = socket.socket(fam(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(target(addr, port))
    s.listen(64)
    s.settimeout(0.5)
    ready()
    t0 = time.monotonic()
    while time.monotonic() - t0 < HOLD:
        try:
            c, peer = s.accept()
        except socket.timeout:
            continue
        try:
            c.sendall(b"HOST-SERVICE\n")
        except OSError:
            pass
        c.close()
        print("accepted from %s:%d" % peer[:2], flush=True)
    return 0


def mode_reuseport_squat(args):
    """Join the host service's SO_REUSEPORT group with 1..8 listeners of
    our own, connecting after each: the hook may judge by one member of
    the group while the connection lands on another."""
    addr, port = args[0], int(args[1])

    def attempt():
        c = socket.socket(fam(addr), socket.SOCK_STREAM)
        c.settimeout(0.3)
        try:
            c.connect(target(addr, port))
            return "HOST" if b"HOST-SERVICE" in c.recv(64) else "own"
        except socket.timeout:
            return "own"  # our own listener: accepted by the kernel, never answered
        except OSError as e:
            return ename(e)
        finally:
            c.close()
    print("connect-before %s" % ("ok" if attempt() in ("HOST", "own") else "err EPERM 0"), flush=True)
    mine = []
    for k in range(1, 9):
        b = socket.socket(fam(addr), socket.SOCK_STREAM)
        b.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            b.bind(target(addr, port))
            b.listen(64)
        except OSError as e:
            print("join-%d err %s 0" % (k, ename(e)), flush=True)
            break
        mine.append(b)
        res = [attempt() for _ in range(8)]
        print("group-%d %s" % (k, ",".join(res)), flush=True)
        if "HOST" in res:
            print("reach-host ok REACHED the host service with %d socket(s) of ours in its group" % k, flush=True)
            return 0
    print("reach-host err NEVER 0", flush=True)
    return 0


# ------------------------------------------------------------ processes

def mode_ptrace(args):
    pid = int(args[0])
    libc.ptrace.restype = ctypes.c_long
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    for name, req in (("ptrace-attach", 16), ("ptrace-seize", 0x4206)):
        st = Step(name)
        if libc.ptrace(req, pid, None, None) < 0:
            st.err(ctypes.get_errno())
        else:
            st.ok("ATTACHED")
            time.sleep(0.05)
            libc.ptrace(17, pid, None, None)  # PTRACE_DETACH at once
    return 0


def mode_vmread(args):
    pid = int(args[0])
    addr = 0x400000
    try:
        with open("/proc/%d/maps" % pid) as f:
            addr = int(f.readline().split("-")[0], 16)
    except (OSError, ValueError, IndexError):
        pass
    buf = ctypes.create_string_buffer(64)
    local = iovec(ctypes.cast(buf, ctypes.c_void_p), 64)
    remote = iovec(ctypes.c_void_p(addr), 64)
    st = Step("process_vm_readv")
    rc = libc.syscall(SYS_process_vm_readv, pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    if rc < 0:
        e = ctypes.get_errno()
        # EFAULT means the permission check passed: only the address was bad.
        st.err(e)
    else:
        st.ok("READ %d bytes" % rc)
    return 0


def mode_procfiles(args):
    pid = int(args[0])
    for name in ("mem", "environ", "maps"):
        path = "/proc/%d/%s" % (pid, name)

        def rd(path=path):
            with open(path, "rb") as f:
                return "READ %d bytes" % len(f.read(256))
        run("open-" + name, rd)

    def open_fds():
        # Listing /proc/PID/fd may be allowed (a non-dumpable process's
        # directory belongs to root); opening what it lists must not be.
        names = os.listdir("/proc/%d/fd" % pid)
        opened, first = [], None
        for n in names:
            try:
                os.close(os.open("/proc/%d/fd/%s" % (pid, n), os.O_RDONLY))
                opened.append(n)
            except OSError as e:
                first = first or e
        if opened:
            return "OPENED %s of %d" % (",".join(opened), len(names))
        raise first or OSError(errno.ENOENT, "no descriptors listed")
    run("open-fd", open_fds)
    run("list-root", lambda: "LISTED %d" % len(os.listdir("/proc/%d/root/" % pid)))
    return 0


def mode_pidfd_getfd(args):
    pid = int(args[0])
    st = Step("pidfd_open")
    pfd = libc.syscall(SYS_pidfd_open, pid, 0)
    if pfd < 0:
        st.err(ctypes.get_errno())
        return 0
    st.ok()
    got, first_err = [], None
    for n in range(64):
        fd = libc.syscall(SYS_pidfd_getfd, pfd, n, 0)
        if fd >= 0:
            got.append(n)
            os.close(fd)
        elif first_err is None or first_err == errno.EBADF:
            first_err = ctypes.get_errno()
    if got:
        print("pidfd_getfd ok GOT fds %s" % ",".join(map(str, got)), flush=True)
    else:
        print("pidfd_getfd err %s 0" % ename(first_err or 0), flush=True)
    return 0


def mode_fds(args):
    fds = []
    for fd in range(0, 4096):
        try:
            os.fstat(fd)
            fds.append(fd)
        except OSError:
            pass
    print("fds %s" % ",".join(map(str, fds)), flush=True)
    return 0


# ------------------------------------------------------------------ bpf

def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 128)
    rc = libc.syscall(SYS_bpf, cmd, buf, 128)
    return check(rc), buf


def mode_bpf(args):
    cmd = args[0]
    st = Step("bpf-" + cmd)
    try:
        if cmd == "prog-next-id":
            bpf(11, struct.pack("=I", 0))
        elif cmd == "map-next-id":
            bpf(12, struct.pack("=I", 0))
        elif cmd == "prog-get":
            bpf(13, struct.pack("=I", int(args[1])))
        elif cmd == "map-get":
            bpf(14, struct.pack("=I", int(args[1])))
        elif cmd == "obj-get":
            path = ctypes.create_string_buffer(args[1].encode())
            bpf(7, struct.pack("=Q", ctypes.addressof(path)))
        elif cmd in ("prog-query", "prog-detach"):
            fd = os.open(args[1], os.O_RDONLY | os.O_DIRECTORY)
            if cmd == "prog-query":
                ids = (ctypes.c_uint32 * 64)()
                # target_fd, attach_type (BPF_CGROUP_INET4_CONNECT=10), query_flags, attach_flags, prog_ids, prog_cnt
                bpf(16, struct.pack("=IIIIQI", fd, 10, 0, 0, ctypes.addressof(ids), 64))
            else:
                bpf(9, struct.pack("=III", fd, 0, 10))  # BPF_PROG_DETACH target_fd, attach_bpf_fd, attach_type
        else:
            return usage()
    except OSError as e:
        st.err(e)
        return 0
    st.ok("GRANTED")
    return 0


# ----------------------------------------------------------- namespaces

def mode_unshare(args):
    flags = 0
    for name in args[0].split(","):
        flags |= CLONE[name]
    st = Step("unshare-" + args[0])
    if libc.syscall(SYS_unshare, flags) < 0:
        st.err(ctypes.get_errno())
    else:
        st.ok("NEW NAMESPACE")
    return 0


def mode_setns(args):
    st = Step("setns")
    try:
        fd = os.open(args[0], os.O_RDONLY)
    except OSError as e:
        st.err(e)
        return 0
    if libc.syscall(SYS_setns, fd, 0) < 0:
        st.err(ctypes.get_errno())
    else:
        st.ok("JOINED")
    return 0


def nlattr(atype, data):
    ln = 4 + len(data)
    return struct.pack("=HH", ln, atype) + data + b"\0" * ((4 - ln % 4) % 4)


def nft_batch(msg_type, name):
    NFNL_SUBSYS_NFTABLES = 10
    NLM_F_REQUEST, NLM_F_ACK, NLM_F_CREATE = 1, 4, 0x400

    def nfmsg(mtype, flags, seq, family, res_id, payload):
        body = struct.pack("=BBH", family, 0, socket.htons(res_id)) + payload
        return struct.pack("=IHHII", 16 + len(body), mtype, flags, seq, 0) + body
    begin = nfmsg(0x10, NLM_F_REQUEST, 1, 0, NFNL_SUBSYS_NFTABLES, b"")  # NFNL_MSG_BATCH_BEGIN
    tbl = nlattr(1, name.encode() + b"\0")  # NFTA_TABLE_NAME
    flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_CREATE if msg_type == 0 else 0)
    msg = nfmsg((NFNL_SUBSYS_NFTABLES << 8) | msg_type, flags, 2, 1, 0, tbl)  # NFPROTO_INET
    end = nfmsg(0x11, NLM_F_REQUEST, 3, 0, NFNL_SUBSYS_NFTABLES, b"")  # NFNL_MSG_BATCH_END
    return begin + msg + end


def mode_nft(args, msg_type):
    name = args[0]
    st = Step("netlink-netfilter")
    try:
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
    except OSError as e:
        st.err(e)
        return 0
    st.ok()
    st = Step("nft-newtable" if msg_type == 0 else "nft-deltable")
    s.settimeout(TIMEOUT)
    try:
        s.bind((0, 0))
        s.send(nft_batch(msg_type, name))
        data = s.recv(65536)
    except OSError as e:
        st.err(e)
        return 0
    # The first NLMSG_ERROR carries the answer: 0 is success.
    off = 0
    while off + 16 <= len(data):
        ln, mtype = struct.unpack("=IH", data[off:off + 6])
        if mtype == 2:  # NLMSG_ERROR
            code = struct.unpack("=i", data[off + 16:off + 20])[0]
            if code == 0:
                st.ok("CHANGED")
            else:
                st.err(-code)
            return 0
        off += (ln + 3) & ~3
        if ln == 0:
            break
    st.ok("no error reported")
    return 0


# ---------------------------------------------------------- fd passing

def mode_recvfd(args):
    path, addr, port = args[0], args[1], int(args[2])
    u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    u.settimeout(TIMEOUT)
    if not run("unix-connect", lambda: u.connect(path)):
        return 0

    def recv():
        msg, fds, _, _ = socket.recv_fds(u, 16, 1)
        if not fds:
            raise OSError(errno.ENODATA, "no fd")
        return fds[0]
    fd = run("recvfd", recv)
    if fd is None:
        return 0
    s = socket.socket(fileno=fd)
    s.settimeout(TIMEOUT)
    run("sendto", lambda: "sent %d" % s.sendto(b"escape via a passed socket", (addr, port)))
    try:
        data, peer = s.recvfrom(4096)
        print("reply ok %s" % last_line(data), flush=True)
    except (OSError, socket.timeout) as e:
        print("reply err %s 0" % ename(e), flush=True)
    return 0


def ready(port=None):
    """port: also publish the bound port in READY.port (a port 0 bind)."""
    if READY and port is not None:
        with open(READY + ".port.tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(READY + ".port.tmp", READY + ".port")
    if READY:
        with open(READY + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(READY + ".tmp", READY)


def mode_fdpass_serve(args):
    path = args[0]
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    os.chmod(path, 0o777)
    srv.listen(4)
    srv.settimeout(HOLD)
    ready()
    for _ in range(COUNT):
        try:
            c, _ = srv.accept()
        except socket.timeout:
            break
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        socket.send_fds(c, [b"fd"], [udp.fileno()])
        udp.close()
        c.close()
    return 0


# ------------------------------------------------- inbound and listening

def mode_listen_ports(args):
    socks = []
    for p in args:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", int(p)))
        s.listen(8)
        socks.append(s)
    print("listen ok %s" % ",".join(args), flush=True)
    ready()
    time.sleep(HOLD)
    return 0


def mode_probe_ports(args):
    src, host, ports = args[0], args[1], args[2:]
    bits = []
    for p in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(TIMEOUT)
        s.bind((src, 0))
        try:
            s.connect((host, int(p)))
            bits.append("C")  # connected: should never happen
        except socket.timeout:
            bits.append("1")
        except OSError:
            bits.append("0")
        s.close()
    print("bits %s" % " ".join(bits), flush=True)
    return 0


def mode_tcp_accept(args):
    port = int(args[0])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(8)
    s.settimeout(TIMEOUT)
    ready(s.getsockname()[1])

    def acc():
        c, peer = s.accept()
        c.settimeout(TIMEOUT)
        c.sendall(b"secret from the sandbox\n")
        return "ACCEPTED %s:%d" % peer
    run("accept", acc)
    return 0


def mode_udp_reply(args):
    port = int(args[0])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    s.settimeout(TIMEOUT)
    ready(s.getsockname()[1])
    peer = run("recvfrom", lambda: s.recvfrom(4096)[1])
    if not isinstance(peer, tuple):
        return 0
    print("peer ok %s:%d" % peer, flush=True)
    run("sendto-peer", lambda: "sent %d" % s.sendto(b"secret reply", peer))
    run("connect-peer", lambda: s.connect(peer))
    run("send-peer", lambda: "sent %d" % s.send(b"secret reply 2"))
    return 0


def mode_world_connect(args):
    src, host, port = args[0], args[1], int(args[2])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.bind((src, 0))

    def conn():
        s.connect((host, port))
        s.sendall(b"hello sandbox\n")
        return "CONNECTED " + last_line(s.recv(4096))
    run("world-connect", conn)
    return 0


def mode_world_udp(args):
    src, host, port = args[0], args[1], int(args[2])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    s.bind((src, 0))
    run("world-send", lambda: "sent %d" % s.sendto(b"hello sandbox", (host, port)))
    run("world-recv", lambda: "GOT " + last_line(s.recv(4096)))
    return 0


def usage():
    print(__doc__, file=sys.stderr)
    return 2


MODES = {
    "socket": mode_socket, "tfo": mode_tfo, "sendmmsg": mode_sendmmsg,
    "udp-connect-sendto": mode_udp_connect_sendto, "reconnect": mode_reconnect,
    "bindtodevice": mode_bindtodevice,
    "transparent": lambda a: mode_transparent(a, 19, "transparent"),
    "freebind": lambda a: mode_transparent(a, 15, "freebind"),
    "spoof-bind": mode_spoof_bind, "spoof-pktinfo": mode_spoof_pktinfo,
    "lsrr": mode_lsrr, "srh6": mode_srh6, "tcp-repair": mode_tcp_repair,
    "broadcast": mode_broadcast, "squat": mode_squat, "ptrace": mode_ptrace,
    "reuseport-serve": mode_reuseport_serve, "reuseport-squat": mode_reuseport_squat,
    "vmread": mode_vmread, "procfiles": mode_procfiles,
    "pidfd-getfd": mode_pidfd_getfd, "fds": mode_fds, "bpf": mode_bpf,
    "unshare": mode_unshare, "setns": mode_setns,
    "nft-newtable": lambda a: mode_nft(a, 0), "nft-deltable": lambda a: mode_nft(a, 2),
    "recvfd": mode_recvfd, "fdpass-serve": mode_fdpass_serve,
    "listen-ports": mode_listen_ports, "probe-ports": mode_probe_ports,
    "tcp-accept": mode_tcp_accept, "udp-reply": mode_udp_reply,
    "world-connect": mode_world_connect, "world-udp": mode_world_udp,
}


def main(argv):
    global TIMEOUT, READY, HOLD, COUNT
    pos = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--timeout":
            TIMEOUT = float(argv[i + 1])
            i += 2
        elif a == "--ready-file":
            READY = argv[i + 1]
            i += 2
        elif a == "--hold":
            HOLD = float(argv[i + 1])
            i += 2
        elif a == "--count":
            COUNT = int(argv[i + 1])
            i += 2
        else:
            pos.append(a)
            i += 1
    if not pos or pos[0] not in MODES:
        return usage()
    try:
        return MODES[pos[0]](pos[1:])
    except (IndexError, ValueError, KeyError) as e:
        print("usage error: %r" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
