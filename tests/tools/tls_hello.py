#!/usr/bin/python3
"""tls_hello.py - send one hand-built TLS ClientHello, report what came back.

Usage: tls_hello.py HOST PORT [--sni NAME | --no-sni] [--tls12] [--size N]
                    [--split K] [--pause MS] [--records K] [-4 | -6]
                    [--timeout SECONDS]

  HOST         an address, or a name (getaddrinfo; -4 / -6 pick the family)
  --sni NAME   the server_name to send (default: HOST when it is a name)
  --no-sni     no server_name extension at all (default when HOST is an
               address and --sni is not given)
  --tls12      a TLS 1.2 style hello: no supported_versions, key_share or
               psk_key_exchange_modes, TLS 1.2 cipher suites only; the
               default is a TLS 1.3 style hello (which also offers 1.2)
  --size N     pad with the padding extension (21) so that the whole
               record, header included, is exactly N bytes (e.g. 3000,
               more than an MSS; at most 16389, a full record)
  --split K    write the bytes in K pieces of about equal size, with
               TCP_NODELAY and a pause of --pause MS (default 50) between
  --records K  carry the handshake message in K TLS records instead of one
               (each fragment gets its own 5-byte record header; --size is
               the size of the unfragmented record)
  --timeout S  bound on the whole attempt (default 3)

The hello is built by hand (no ssl module): the bytes are exactly what the
options say. Nothing is sent but the hello; nothing is verified.

Output, exactly one line, the elapsed milliseconds (from before connect())
last:
  serverhello VERSION MS   a handshake record with a ServerHello came back
                           (VERSION tls1.3 or tls1.2)            exit 0
  refused ERRNO MS         connect, send or recv failed: EACCES, EPERM,
                           ECONNRESET, ECONNREFUSED...          exit 1
  alert DESCRIPTION MS     the server answered with an alert    exit 1
  closed MS                the connection closed with no reply  exit 1
  other MS                 something that is not a ServerHello  exit 1
  timeout MS               nothing within --timeout              exit 1
  err USAGE text           bad arguments                         exit 2
"""

import errno
import os
import socket
import struct
import sys
import time

CT_ALERT = 21
CT_HANDSHAKE = 22
HS_CLIENT_HELLO = 1
HS_SERVER_HELLO = 2
MAX_RECORD = 16384

EXT_SERVER_NAME = 0
EXT_SUPPORTED_GROUPS = 10
EXT_EC_POINT_FORMATS = 11
EXT_SIGNATURE_ALGORITHMS = 13
EXT_PADDING = 21
EXT_EXTENDED_MASTER_SECRET = 23
EXT_SUPPORTED_VERSIONS = 43
EXT_PSK_KEY_EXCHANGE_MODES = 45
EXT_KEY_SHARE = 51
EXT_RENEGOTIATION_INFO = 0xFF01

# ECDHE with ECDSA and RSA, AES-GCM and ChaCha20, then plain RSA ones.
SUITES_12 = [0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0x009C, 0x009D, 0x002F, 0x0035]
SUITES_13 = [0x1301, 0x1302, 0x1303]
SCSV_RENEGOTIATION = 0x00FF
GROUPS = [0x001D, 0x0017, 0x0018]  # x25519, secp256r1, secp384r1
SIG_ALGS = [0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601]

ALERTS = {
    0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 22: "record_overflow",
    40: "handshake_failure", 42: "bad_certificate", 47: "illegal_parameter", 50: "decode_error",
    51: "decrypt_error", 70: "protocol_version", 71: "insufficient_security",
    80: "internal_error", 109: "missing_extension", 112: "unrecognized_name",
    120: "no_application_protocol",
}


class Usage(Exception):
    pass


def u8(n):
    return struct.pack("!B", n)


def u16(n):
    return struct.pack("!H", n)


def u24(n):
    return struct.pack("!I", n)[1:]


def ext(etype, body):
    return u16(etype) + u16(len(body)) + body


def extensions(sni, tls12):
    out = []
    if sni is not None:
        name = sni.encode("ascii")
        entry = u8(0) + u16(len(name)) + name  # host_name
        out.append(ext(EXT_SERVER_NAME, u16(len(entry)) + entry))
    out.append(ext(EXT_EC_POINT_FORMATS, u8(1) + u8(0)))
    groups = b"".join(u16(g) for g in GROUPS)
    out.append(ext(EXT_SUPPORTED_GROUPS, u16(len(groups)) + groups))
    sigs = b"".join(u16(s) for s in SIG_ALGS)
    out.append(ext(EXT_SIGNATURE_ALGORITHMS, u16(len(sigs)) + sigs))
    out.append(ext(EXT_EXTENDED_MASTER_SECRET, b""))
    out.append(ext(EXT_RENEGOTIATION_INFO, u8(0)))
    if not tls12:
        out.append(ext(EXT_SUPPORTED_VERSIONS, u8(4) + u16(0x0304) + u16(0x0303)))
        out.append(ext(EXT_PSK_KEY_EXCHANGE_MODES, u8(1) + u8(1)))  # psk_dhe_ke
        # An X25519 public value: any 32 bytes are one (the peer's shared
        # secret is then unknown to us too, which does not matter here).
        key = bytearray(os.urandom(32))
        key[31] &= 0x7F
        share = u16(0x001D) + u16(32) + bytes(key)
        out.append(ext(EXT_KEY_SHARE, u16(len(share)) + share))
    return out


def client_hello_body(sni, tls12, exts):
    suites = (SUITES_12 if tls12 else SUITES_13 + SUITES_12) + [SCSV_RENEGOTIATION]
    suites = b"".join(u16(s) for s in suites)
    session_id = b"" if tls12 else os.urandom(32)  # 1.3 "middlebox compatibility"
    ext_bytes = b"".join(exts)
    return (u16(0x0303) + os.urandom(32) + u8(len(session_id)) + session_id
            + u16(len(suites)) + suites + u8(1) + u8(0)
            + u16(len(ext_bytes)) + ext_bytes)


def build_hello(sni, tls12, size):
    """The handshake message (type, length, body), padded so that one
    record carrying it is `size` bytes."""
    exts = extensions(sni, tls12)
    msg = lambda body: u8(HS_CLIENT_HELLO) + u24(len(body)) + body
    plain = msg(client_hello_body(sni, tls12, exts))
    if size is None:
        return plain
    # A padding extension costs 4 bytes of header plus its zeros.
    pad = size - (5 + len(plain)) - 4
    if pad < 0:
        raise Usage("--size %d: the hello is %d bytes without padding (%d with an empty one)"
                    % (size, 5 + len(plain), 5 + len(plain) + 4))
    if size - 5 > MAX_RECORD:
        raise Usage("--size %d: a record holds at most %d bytes (%d with its header)"
                    % (size, MAX_RECORD, MAX_RECORD + 5))
    hello = msg(client_hello_body(sni, tls12, exts + [ext(EXT_PADDING, bytes(pad))]))
    assert 5 + len(hello) == size
    return hello


def records(hello, count):
    """The handshake message in `count` records of about equal size."""
    count = max(1, min(count, len(hello)))
    step = -(-len(hello) // count)
    out = b""
    for i in range(0, len(hello), step):
        frag = hello[i:i + step]
        out += u8(CT_HANDSHAKE) + u16(0x0301) + u16(len(frag)) + frag
    return out


def pieces(data, count):
    count = max(1, min(count, len(data)))
    step = -(-len(data) // count)
    return [data[i:i + step] for i in range(0, len(data), step)]


def ename(e):
    if e.errno is not None:
        return errno.errorcode.get(e.errno, str(e.errno))
    return type(e).__name__


def server_version(body):
    """TLS version a ServerHello body selected."""
    version = struct.unpack("!H", body[0:2])[0]
    off = 2 + 32
    off += 1 + body[off]            # session id
    off += 2 + 1                    # cipher suite, compression
    if len(body) >= off + 2:
        end = off + 2 + struct.unpack("!H", body[off:off + 2])[0]
        off += 2
        while off + 4 <= min(end, len(body)):
            etype, elen = struct.unpack("!HH", body[off:off + 4])
            if etype == EXT_SUPPORTED_VERSIONS and elen == 2:
                version = struct.unpack("!H", body[off + 4:off + 6])[0]
            off += 4 + elen
    return {0x0304: "tls1.3", 0x0303: "tls1.2", 0x0302: "tls1.1", 0x0301: "tls1.0"}.get(
        version, "0x%04x" % version)


def read_reply(sock, deadline):
    """The first record back (type, payload); None on EOF before one."""
    data = b""
    while True:
        if len(data) >= 5:
            need = 5 + struct.unpack("!H", data[3:5])[0]
            if len(data) >= need or len(data) >= 5 + MAX_RECORD + 256:
                return data[0], data[5:need]
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            return (data[0], data[5:]) if len(data) >= 5 else None
        data += chunk


def attempt(opts, t0):
    deadline = t0 + opts["timeout"]
    family = {4: socket.AF_INET, 6: socket.AF_INET6}.get(opts["family"], socket.AF_UNSPEC)
    infos = socket.getaddrinfo(opts["host"], opts["port"], family, socket.SOCK_STREAM)
    fam, _, _, _, target = infos[0]
    hello = build_hello(opts["sni"], opts["tls12"], opts["size"])
    wire = records(hello, opts["records"])
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.connect(target)
        parts = pieces(wire, opts["split"])
        for i, part in enumerate(parts):
            if i:
                time.sleep(opts["pause"] / 1000.0)
            s.settimeout(max(0.01, deadline - time.monotonic()))
            s.sendall(part)
        got = read_reply(s, deadline)
    finally:
        s.close()
    ms = int((time.monotonic() - t0) * 1000)
    if got is None:
        return 1, "closed %d" % ms
    ctype, payload = got
    if ctype == CT_HANDSHAKE and len(payload) >= 4 and payload[0] == HS_SERVER_HELLO:
        return 0, "serverhello %s %d" % (server_version(payload[4:]), ms)
    if ctype == CT_ALERT and len(payload) >= 2:
        return 1, "alert %s %d" % (ALERTS.get(payload[1], str(payload[1])), ms)
    return 1, "other %d" % ms


def parse(argv):
    opts = {"host": None, "port": None, "sni": None, "no_sni": False, "tls12": False,
            "size": None, "split": 1, "pause": 50.0, "records": 1, "family": 0,
            "timeout": 3.0}
    pos = []
    i = 0
    try:
        while i < len(argv):
            a = argv[i]
            if a == "--sni":
                opts["sni"] = argv[i + 1]
                i += 2
            elif a == "--no-sni":
                opts["no_sni"] = True
                i += 1
            elif a == "--tls12":
                opts["tls12"] = True
                i += 1
            elif a == "--size":
                opts["size"] = int(argv[i + 1])
                i += 2
            elif a == "--split":
                opts["split"] = int(argv[i + 1])
                i += 2
            elif a == "--pause":
                opts["pause"] = float(argv[i + 1])
                i += 2
            elif a == "--records":
                opts["records"] = int(argv[i + 1])
                i += 2
            elif a in ("-4", "-6"):
                opts["family"] = int(a[1])
                i += 1
            elif a == "--timeout":
                opts["timeout"] = float(argv[i + 1])
                i += 2
            elif a.startswith("-") and a != "-":
                raise Usage("unknown option %s" % a)
            else:
                pos.append(a)
                i += 1
    except (IndexError, ValueError):
        raise Usage("bad value for %s" % argv[i])
    if len(pos) != 2:
        raise Usage("want HOST PORT")
    opts["host"], opts["port"] = pos[0], int(pos[1])
    if opts["no_sni"] and opts["sni"] is not None:
        raise Usage("--sni and --no-sni")
    if opts["sni"] is None and not opts["no_sni"] and not is_address(opts["host"]):
        opts["sni"] = opts["host"]
    if opts["split"] < 1 or opts["records"] < 1:
        raise Usage("--split and --records want at least 1")
    return opts


def is_address(host):
    for fam in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(fam, host)
            return True
        except OSError:
            pass
    return False


def main(argv):
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__)
        return 0
    try:
        opts = parse(argv)
        build_hello(opts["sni"], opts["tls12"], opts["size"])  # size errors before connecting
    except (Usage, UnicodeError) as e:
        print("err USAGE %s" % e, flush=True)
        return 2
    t0 = time.monotonic()
    try:
        rc, line = attempt(opts, t0)
    except socket.timeout:
        rc, line = 1, "timeout %d" % int((time.monotonic() - t0) * 1000)
    except socket.gaierror:
        rc, line = 1, "refused EAI %d" % int((time.monotonic() - t0) * 1000)
    except OSError as e:
        rc, line = 1, "refused %s %d" % (ename(e), int((time.monotonic() - t0) * 1000))
    print(line, flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
