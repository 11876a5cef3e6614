#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Writes the seed corpora of the DNS fuzz harnesses (python3 stdlib only).

  tests/fuzz/corpus/dns_wire/    one DNS message per file (fuzz_dns_wire)
  tests/fuzz/corpus/dns_msg/     the same messages (fuzz_dns_msg)
  tests/fuzz/corpus/dns_filter/  a flag byte, then 16-bit length prefixed
                                 query, answer, query, answer... chunks
                                 (fuzz_dns_filter; see its header)
  tests/fuzz/corpus/prog_prune/  32 bytes of .rodata, then BPF
                                 instructions (fuzz_prog_prune)

Deterministic: running it again rewrites the same bytes. Every seed is
well under 1 KiB.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WIRE_DIR = os.path.join(HERE, "corpus", "dns_wire")
MSG_DIR = os.path.join(HERE, "corpus", "dns_msg")
FILTER_DIR = os.path.join(HERE, "corpus", "dns_filter")
PRUNE_DIR = os.path.join(HERE, "corpus", "prog_prune")

A, NS, CNAME, PTR, MX, TXT, AAAA, OPT, ANY = 1, 2, 5, 12, 15, 16, 28, 41, 255
IN = 1
RD, TC, QR, AA, RA = 0x0100, 0x0200, 0x8000, 0x0400, 0x0080
NXDOMAIN = 3
QUESTION = 12  # offset of the first question name: a compression target


def name(text):
    out = b""
    for label in text.split(".") if text else []:
        raw = label.encode("latin-1")
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def ptr(offset):
    return bytes([0xC0 | offset >> 8, offset & 0xFF])


def header(qid, flags, qd=1, an=0, ns=0, ar=0):
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)


def question(owner, qtype=A, qclass=IN):
    return owner + struct.pack(">HH", qtype, qclass)


def rr(owner, rtype, rdata, ttl=300, rclass=IN):
    return owner + struct.pack(">HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def opt(payload=4096, ext_rcode=0, do=False, options=b""):
    ttl = ext_rcode << 24 | (0x8000 if do else 0)
    return rr(b"\0", OPT, options, ttl=ttl, rclass=payload)


def ipv4(text):
    return bytes(int(x) for x in text.split("."))


def ipv6(text):
    head, _, tail = text.partition("::")
    h = [int(x, 16) for x in head.split(":") if x]
    t = [int(x, 16) for x in tail.split(":") if x]
    return struct.pack(">8H", *(h + [0] * (8 - len(h) - len(t)) + t))


def query(qname, qtype=A, qid=0x1234, flags=RD, edns=None):
    msg = header(qid, flags, ar=1 if edns else 0) + question(name(qname), qtype)
    return msg + (opt(edns) if edns else b"")


def answer(qname, qtype, records, qid=0x1234, flags=QR | RD | RA, rcode=0,
           edns=None, ns=()):
    """records: (owner, type, rdata); owner None means the question name."""
    msg = header(qid, flags | rcode, an=len(records), ns=len(ns),
                 ar=1 if edns else 0)
    msg += question(name(qname), qtype)
    for owner, rtype, rdata in list(records) + list(ns):
        msg += rr(ptr(QUESTION) if owner is None else owner, rtype, rdata)
    return msg + (opt(edns) if edns else b"")


def long_name():
    # 5 labels of 63 bytes: 321 bytes on the wire, past the 255 limit.
    return ".".join(["a" * 62 + str(i) for i in range(5)]) + ".example.com"


def self_pointer_answer(qid):
    """An answer record whose owner name is a pointer to itself."""
    msg = header(qid, QR | RD, an=1) + question(name("loop.example.com"))
    return msg + rr(ptr(len(msg)), A, ipv4("192.0.2.1"))


def wire_seeds():
    s = {}
    s["query_a"] = query("www.example.com")
    s["query_aaaa_edns"] = query("www.example.com", AAAA, edns=4096)
    s["query_edns_small"] = query("example.com", A, edns=100)
    s["query_edns_huge"] = query("example.com", A, edns=65535)
    s["query_edns_do_option"] = (
        header(7, RD, ar=1) + question(name("example.com"), TXT)
        + opt(1232, do=True, options=struct.pack(">HH", 10, 8) + b"cookie!!"))
    s["query_any"] = query("example.com", ANY)
    s["query_ptr"] = query("4.3.2.1.in-addr.arpa", PTR)
    s["query_qdcount0_edns"] = header(9, RD, qd=0, ar=1) + opt(2048)
    s["query_qdcount2"] = (header(10, RD, qd=2) + question(name("a.example.com"))
                           + question(ptr(QUESTION), AAAA))
    s["query_long_name"] = query(long_name())
    s["query_root"] = header(11, RD) + question(b"\0", NS)
    s["header_only"] = header(12, RD, qd=0)
    s["header_counts_lie"] = header(13, RD, qd=3, an=0xFFFF, ns=0xFFFF,
                                    ar=0xFFFF)
    s["answer_a"] = answer("www.example.com", A,
                           [(None, A, ipv4("93.184.216.34"))], edns=1232)
    s["answer_aaaa"] = answer("www.example.com", AAAA,
                              [(None, AAAA, ipv6("2606:2800:220:1::248"))])
    # www -> cdn.example.com (target compressed against the question),
    # then an A record owned by a pointer into the CNAME's rdata.
    cname_rdata = b"\x03cdn" + ptr(QUESTION + 4)
    first_rr = 12 + len(name("www.example.com")) + 4
    cdn_at = first_rr + 2 + 10
    s["answer_cname_compressed"] = answer(
        "www.example.com", A,
        [(None, CNAME, cname_rdata), (ptr(cdn_at), A, ipv4("192.0.2.7"))])
    # Pointer loops: a name pointing at itself, and two pointing at each
    # other. dns_skip_name does not follow them; dns_name_read must stop.
    s["answer_ptr_self"] = self_pointer_answer(14)
    loop_q = header(15, QR | RD, an=1) + question(ptr(18)) + b"\x01x" + ptr(12)
    s["answer_ptr_loop2"] = loop_q + rr(ptr(12), A, ipv4("192.0.2.2"))
    s["query_ptr_forward"] = header(16, RD) + question(ptr(0x3FFF))
    s["answer_truncated_rr"] = answer(
        "www.example.com", A, [(None, A, ipv4("192.0.2.3"))])[:-2]
    s["answer_rdlength_lies"] = (
        header(19, QR | RD, an=1) + question(name("www.example.com"))
        + ptr(QUESTION) + struct.pack(">HHIH", A, IN, 60, 0xFFFF)
        + b"\1\2\3\4")
    s["answer_tc"] = answer("big.example.com", TXT, [], flags=QR | RD | RA | TC)
    s["answer_nxdomain_soa"] = answer(
        "nope.example.com", A, [], rcode=NXDOMAIN,
        ns=[(name("example.com"), 6, name("ns.example.com")
             + name("admin.example.com") + struct.pack(">5I", 1, 2, 3, 4, 5))])
    s["reserved_label_type"] = header(17, RD) + b"\x40abc\0" + struct.pack(
        ">HH", A, IN)
    s["edns_after_other_ar"] = (header(18, RD, ar=2) + question(name("x.test"))
                                + rr(name("x.test"), TXT, b"\x02hi")
                                + opt(8192))
    s["opt_then_garbage"] = query("example.com", edns=1400) + b"\xde\xad\xbe\xef"
    return s


def pack_filter(flags, *chunks):
    out = bytes([flags])
    for c in chunks:
        out += struct.pack(">H", len(c)) + c
    return out


def filter_seeds():
    s = {}
    www_a = answer("www.example.com", A, [(None, A, ipv4("93.184.216.34")),
                                          (None, A, ipv4("93.184.216.35"))])
    s["allowed_a"] = pack_filter(0, query("www.example.com"), www_a)
    s["allowed_aaaa_edns"] = pack_filter(
        0, query("example.com", AAAA, edns=4096),
        answer("example.com", AAAA, [(None, AAAA, ipv6("2001:db8::1"))],
               edns=4096))
    s["upper_case"] = pack_filter(
        0, query("WWW.Example.COM"),
        answer("www.example.com", A, [(None, A, ipv4("192.0.2.9"))]))
    s["cname_to_cdn"] = pack_filter(0, query("www.example.com"), answer(
        "www.example.com", A,
        [(None, CNAME, name("edge1.cdn.test")),
         (name("edge1.cdn.test"), CNAME, name("x.edge2.cdn.test")),
         (name("x.edge2.cdn.test"), A, ipv4("198.51.100.1")),
         (name("unrelated.test"), A, ipv4("198.51.100.2"))]))
    s["cname_into_blocked"] = pack_filter(0, query("www.example.com"), answer(
        "www.example.com", A,
        [(None, CNAME, name("tracker.ads.example.com")),
         (name("tracker.ads.example.com"), A, ipv4("203.0.113.66"))]))
    s["cname_loop"] = pack_filter(0, query("a.example.com"), answer(
        "a.example.com", A,
        [(None, CNAME, name("b.example.com")),
         (name("b.example.com"), CNAME, name("a.example.com")),
         (name("b.example.com"), A, ipv4("192.0.2.10"))]))
    s["blocked_query"] = pack_filter(0, query("ads.example.com"), answer(
        "ads.example.com", A, [(None, A, ipv4("203.0.113.1"))]))
    s["outside_query"] = pack_filter(0, query("evil.test"), answer(
        "evil.test", A, [(None, A, ipv4("203.0.113.2"))]))
    s["cdn_apex_not_allowed"] = pack_filter(0, query("cdn.test"))
    s["glob_label"] = pack_filter(0, query("api-7.svc.test"), answer(
        "api-7.svc.test", A, [(None, A, ipv4("192.0.2.20"))]))
    s["allowed_name_as_prefix"] = pack_filter(
        0, query("www.example.com.evil.test"), b"")
    # One label "evil.example" with a dot inside, then "com".
    s["dot_inside_label"] = pack_filter(
        0, header(1, RD) + b"\x0cevil.example\x03com\0" + struct.pack(
            ">HH", A, IN))
    s["any_and_ptr"] = pack_filter(
        0, query("example.com", ANY), b"", query("1.2.0.192.in-addr.arpa", PTR))
    s["qdcount0"] = pack_filter(0, header(2, RD, qd=0), header(2, QR, qd=0))
    s["qdcount2"] = pack_filter(0, header(3, RD, qd=2)
                                + question(name("www.example.com"))
                                + question(name("evil.test")))
    s["long_name"] = pack_filter(0, query(long_name()))
    s["ptr_loop_answer"] = pack_filter(
        0, query("loop.example.com"), self_pointer_answer(0x1234))
    s["truncated_answer"] = pack_filter(
        0, query("www.example.com"), www_a[:-3])
    s["tc_answer"] = pack_filter(0, query("big.example.com", TXT), answer(
        "big.example.com", TXT, [], flags=QR | RD | RA | TC))
    s["nxdomain"] = pack_filter(0, query("nope.example.com"), answer(
        "nope.example.com", A, [(None, A, ipv4("192.0.2.30"))], rcode=NXDOMAIN))
    s["other_question"] = pack_filter(0, query("www.example.com"), answer(
        "evil.test", A, [(None, A, ipv4("203.0.113.3"))]))
    s["shared_cdn_address"] = pack_filter(
        0, query("www.example.com"),
        answer("www.example.com", A, [(None, A, ipv4("198.51.100.9"))]),
        query("img.cdn.test"),
        answer("img.cdn.test", A, [(None, A, ipv4("198.51.100.9"))]))
    s["evict_one_per_name"] = pack_filter(
        1 | 4, query("www.example.com"),
        answer("www.example.com", A, [(None, A, ipv4("192.0.2.%d" % i))
                                      for i in range(1, 5)]),
        query("www.example.com"),
        answer("www.example.com", A, [(None, A, ipv4("192.0.2.1"))]))
    s["mixed_a_aaaa"] = pack_filter(2, query("v6.example.com", AAAA), answer(
        "v6.example.com", AAAA,
        [(None, A, ipv4("192.0.2.40")), (None, AAAA, ipv6("2001:db8::40")),
         (None, AAAA, b"\1\2\3")]))
    # Audit-only mode (flag 0x08): refused names forwarded, learned as
    # AWF_LEARNED_AUDIT_ONLY; one shares an allowed name's address.
    s["audit_outside_then_allowed"] = pack_filter(
        8, query("evil.test"),
        answer("evil.test", A, [(None, A, ipv4("198.51.100.9"))]),
        query("www.example.com"),
        answer("www.example.com", A, [(None, A, ipv4("198.51.100.9"))]),
        query("ads.example.com"),
        answer("ads.example.com", A, [(None, A, ipv4("198.51.100.9"))]))
    s["audit_cname_into_blocked"] = pack_filter(
        8, query("www.example.com"), answer(
            "www.example.com", A,
            [(None, CNAME, name("tracker.ads.example.com")),
             (name("tracker.ads.example.com"), A, ipv4("203.0.113.66"))]))
    return s


def insn(code, dst=0, src=0, off=0, imm=0):
    return struct.pack("<BBhi", code, src << 4 | dst, off, imm)


# The opcodes of the shapes below (linux/bpf.h).
MOV_K, ADD_K, LSH_K = 0xb7, 0x07, 0x67
LDX_B, LDX_W, LDX_DW, STX_DW = 0x71, 0x61, 0x79, 0x7b
JEQ_K, JNE_K, JA, EXIT = 0x15, 0x55, 0x05, 0x95
JEQ32_K = 0x16
LD_IMM64 = 0x18
MAP_IDX_VALUE = 6


def rodata_ptr(dst, off):
    """A pointer to .rodata + off (map 0 of the fd_array): two slots."""
    return (insn(LD_IMM64, dst, MAP_IDX_VALUE, 0, 0) +
            insn(0, 0, 0, 0, off))


def branch_on_byte(byte):
    """if (rodata[0]) return 2; return 1; under .rodata byte 0 = byte."""
    rodata = bytes([byte]) + bytes(31)
    prog = (rodata_ptr(1, 0) + insn(LDX_B, 1, 1) + insn(JNE_K, 1, 0, 2) +
            insn(MOV_K, 0, imm=1) + insn(EXIT) + insn(MOV_K, 0, imm=2) +
            insn(EXIT))
    return rodata + prog


def prune_seeds():
    s = {}
    s["branch_never_taken"] = branch_on_byte(0)
    s["branch_always_taken"] = branch_on_byte(1)
    # a 32-bit comparison of a 64-bit constant whose low half is 0
    s["jmp32_low_half"] = (struct.pack("<Q", 1 << 32) + bytes(24) +
                           rodata_ptr(1, 0) + insn(LDX_DW, 1, 1) +
                           insn(JEQ32_K, 1, 0, 2) + insn(MOV_K, 0, imm=1) +
                           insn(EXIT) + insn(MOV_K, 0, imm=2) + insn(EXIT))
    # constants met at a join: r3 is 1 or 2 by a context word
    s["join"] = (bytes(32) + insn(LDX_W, 2, 1) + insn(MOV_K, 3, imm=1) +
                 insn(JEQ_K, 2, 0, 1) + insn(MOV_K, 3, imm=2) +
                 insn(JEQ_K, 3, 0, 2, 1) + insn(MOV_K, 0, imm=1) + insn(EXIT) +
                 insn(MOV_K, 0, imm=2) + insn(EXIT))
    # arithmetic on a .rodata byte, a store to the context, a 64-bit load
    s["alu_store"] = (bytes([0, 2]) + bytes(30) + rodata_ptr(3, 0) +
                      insn(LDX_B, 2, 3, 1) + insn(ADD_K, 2, imm=3) +
                      insn(LSH_K, 2, imm=4) + insn(JEQ_K, 2, 0, 3, 0x50) +
                      insn(LD_IMM64, 0, 0, 0, 7) + insn(0) + insn(EXIT) +
                      insn(STX_DW, 1, 2, 16) + insn(MOV_K, 0, imm=9) +
                      insn(JA, 0, 0, 0) + insn(EXIT))
    return s


def write(directory, seeds):
    os.makedirs(directory, exist_ok=True)
    for old in os.listdir(directory):
        os.unlink(os.path.join(directory, old))
    for label, data in sorted(seeds.items()):
        if len(data) >= 1024:
            sys.exit("make_seeds.py: %s is %d bytes" % (label, len(data)))
        with open(os.path.join(directory, label), "wb") as f:
            f.write(data)
    print("%s: %d seeds" % (os.path.relpath(directory), len(seeds)))


if __name__ == "__main__":
    write(WIRE_DIR, wire_seeds())
    write(MSG_DIR, wire_seeds())
    write(FILTER_DIR, filter_seeds())
    write(PRUNE_DIR, prune_seeds())
