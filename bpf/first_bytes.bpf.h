/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * first_bytes.bpf.h - the name in the first bytes a client sends on a
 * connection: the server_name of a TLS ClientHello, or the Host header of
 * an HTTP/1.x request; and the verdict on those bytes (names.bpf.h). The
 * bytes are a copy in a scratch buffer, read at masked offsets so that
 * any length the client chose stays inside it.
 */
#ifndef AWF_FIRST_BYTES_BPF_H
#define AWF_FIRST_BYTES_BPF_H

#include "common.bpf.h"
#include "names.bpf.h"

#define TLS_HANDSHAKE 0x16
#define TLS_CLIENT_HELLO 1
#define TLS_EXT_SERVER_NAME 0
#define TLS_RECORD_MAX (5 + 16384) /* header + the largest plaintext */
#define TLS_MAX_EXTENSIONS 64
#define HTTP_HEAD_MAX 4096
#define HTTP_METHOD_MAX 16

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct first_bytes);
	__uint(max_entries, 1);
} first_bytes_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct name_build);
	__uint(max_entries, 1);
} name_build_scratch SEC(".maps");

/* What the first bytes say, and where their name is. */
struct first_look {
	__u8 kind;	/* AWF_EV_TLS, AWF_EV_HTTP or AWF_EV_PAYLOAD */
	__u8 reason;	/* a denial the bytes alone decide; 0: none */
	__u32 need;	/* more bytes needed: the total to wait for */
	__u32 name_off; /* the name as sent, for the event */
	__u32 name_len;
	__u32 klen; /* its key's length; 0: not a name */
};

static __always_inline __u32 byte_at(const __u8 *b, __u32 off)
{
	return b[off & SCRATCH_MASK];
}

static __always_inline __u32 be16_at(const __u8 *b, __u32 off)
{
	return byte_at(b, off) << 8 | byte_at(b, off + 1);
}

static __always_inline void look_name(const struct first_bytes *fb, __u32 off,
				      __u32 n, struct name_build *nb,
				      struct first_look *fl)
{
	fl->name_off = off;
	fl->name_len = n;
	fl->klen = name_to_key(fb, off, n, nb);
}

/* The server_name extension's body at off, elen bytes. */
static __always_inline void look_sni(const struct first_bytes *fb, __u32 off,
				     __u32 elen, struct name_build *nb,
				     struct first_look *fl)
{
	const __u8 *b = fb->buf;
	__u32 n;

	if (elen < 5 || be16_at(b, off) + 2 > elen) {
		fl->reason = AWF_R_HELLO_UNCHECKABLE;
		return;
	}
	if (byte_at(b, off + 2) != 0) { /* not host_name: the only type */
		fl->reason = AWF_R_NO_NAME;
		return;
	}
	n = be16_at(b, off + 3);
	if (n + 5 > elen) {
		fl->reason = AWF_R_HELLO_UNCHECKABLE;
		return;
	}
	look_name(fb, off + 5, n, nb, fl);
}

/* Past session id, cipher suites and compression methods: the extensions. */
static __always_inline __u32 hello_extensions(const __u8 *b, __u32 end)
{
	__u32 off = 9 + 2 + 32; /* handshake header, version, random */

	if (off + 1 > end)
		return 0;
	off += 1 + byte_at(b, off);
	if (off + 2 > end)
		return 0;
	off += 2 + be16_at(b, off);
	if (off + 1 > end)
		return 0;
	off += 1 + byte_at(b, off);
	return off;
}

/* Where tls_extension() walks a ClientHello's extensions. */
struct ext_walk {
	const struct first_bytes *fb;
	struct name_build *nb;
	struct first_look *fl;
	__u32 ext_end;
};

/*
 * One extension of a ClientHello, at nb->ext_off (bpf_loop: checked once,
 * not once for each of TLS_MAX_EXTENSIONS). 1 stops the walk, fl told
 * why: server_name found and looked at, or the list ended without it;
 * an extension that runs past the list leaves the caller's reason.
 */
static long tls_extension(__u32 i, struct ext_walk *w)
{
	const __u8 *b = w->fb->buf;
	__u32 off = w->nb->ext_off, type, elen;

	if (off + 4 > w->ext_end) {
		w->fl->reason = AWF_R_NO_NAME;
		return 1;
	}
	type = be16_at(b, off);
	elen = be16_at(b, off + 2);
	off += 4;
	if (off + elen > w->ext_end)
		return 1;
	if (type == TLS_EXT_SERVER_NAME) {
		w->fl->reason = 0;
		look_sni(w->fb, off, elen, w->nb, w->fl);
		return 1;
	}
	w->nb->ext_off = off + elen;
	return 0;
}

/*
 * A ClientHello in one TLS record (len bytes so far). One whose handshake
 * message goes on in a second record is refused, not reassembled: no
 * client library sends one.
 */
AWF_SUBPROG int look_tls(const struct first_bytes *fb, __u32 len,
			 struct name_build *nb, struct first_look *fl)
{
	struct ext_walk w = { .fb = fb, .nb = nb, .fl = fl };
	__u32 rec_end, end, off, ext_end;
	const __u8 *b;

	if (!fb || !nb || !fl)
		return 0;
	b = fb->buf;
	fl->kind = AWF_EV_TLS;
	if (len < 5) {
		fl->need = 5;
		return 0;
	}
	rec_end = 5 + be16_at(b, 3);
	if (rec_end > TLS_RECORD_MAX) {
		fl->reason = AWF_R_HELLO_UNCHECKABLE;
		return 0;
	}
	if (len < rec_end) {
		fl->need = rec_end;
		return 0;
	}
	end = 9 + (byte_at(b, 6) << 16 | be16_at(b, 7));
	if (byte_at(b, 5) != TLS_CLIENT_HELLO || end > rec_end) {
		fl->reason = AWF_R_HELLO_UNCHECKABLE;
		return 0;
	}
	off = hello_extensions(b, end);
	if (!off || off + 2 > end) {
		fl->reason = off ? AWF_R_NO_NAME : AWF_R_HELLO_UNCHECKABLE;
		return 0;
	}
	ext_end = off + 2 + be16_at(b, off);
	if (ext_end > end) {
		fl->reason = AWF_R_HELLO_UNCHECKABLE;
		return 0;
	}
	/* a walk that never stops (more extensions than that) says this */
	fl->reason = AWF_R_HELLO_UNCHECKABLE;
	w.ext_end = ext_end;
	nb->ext_off = off + 2;
	bpf_loop(TLS_MAX_EXTENSIONS, tls_extension, &w, 0);
	return 0;
}

/* "TOKEN " with TOKEN in A-Z; *partial when len ends inside the token. */
static __always_inline bool http_method(const __u8 *b, __u32 len, bool *partial)
{
	__u32 c;

	for (__u32 i = 0; i < HTTP_METHOD_MAX; i++) {
		if (i >= len) {
			*partial = i > 0;
			return false;
		}
		c = byte_at(b, i);
		if (c == ' ')
			return i > 0;
		if (c < 'A' || c > 'Z')
			return false;
	}
	return false;
}

static __always_inline bool is_host_header(const __u8 *b, __u32 i)
{
	return (byte_at(b, i + 1) | 0x20) == 'h' &&
	       (byte_at(b, i + 2) | 0x20) == 'o' &&
	       (byte_at(b, i + 3) | 0x20) == 's' &&
	       (byte_at(b, i + 4) | 0x20) == 't' && byte_at(b, i + 5) == ':';
}

/* Where host_name_byte() reads the Host value from. */
struct host_walk {
	const __u8 *b;
	__u32 off;
	__u32 len;
};

/*
 * Whether byte i of the Host value ends its name (bpf_loop: checked once,
 * not once per byte of a name). 1 stops the walk.
 */
static long host_name_byte(__u32 i, struct host_walk *w)
{
	__u32 c;

	if (w->off + i >= w->len)
		return 1;
	c = byte_at(w->b, w->off + i);
	return c == ':' || c == '\r' || c == '\n' || c == ' ' || c == '\t';
}

/* The Host value at off: up to a port, a space or the line's end. */
AWF_SUBPROG int look_host_value(const struct first_bytes *fb, __u32 len,
				__u32 off, struct name_build *nb,
				struct first_look *fl)
{
	struct host_walk w = { .len = len };
	__u32 n, c;

	if (!fb || !nb || !fl)
		return 0;
	w.b = fb->buf;

	for (__u32 i = 0; i < 8 && off < len; i++) {
		c = byte_at(w.b, off);
		if (c != ' ' && c != '\t')
			break;
		off++;
	}
	w.off = off;
	/*
	 * The rounds it ran, one past the byte that stopped it: a name of
	 * the bytes before, of AWF_NAME_LEN at most (the round after them
	 * stops it or ends the walk).
	 */
	n = bpf_loop(AWF_NAME_LEN + 1, host_name_byte, &w, 0);
	n = n > AWF_NAME_LEN ? AWF_NAME_LEN : n - 1;
	/* An IP literal ("[::1]:80" too) is not a name. */
	look_name(fb, off, n, nb, fl);
	return 0;
}

/* Where a scan of the request head is; host: where the Host value starts. */
struct head_scan {
	const struct first_bytes *fb;
	__u32 len;
	__u32 host;
	bool end; /* the head ended without one */
};

/*
 * One byte of the head (bpf_loop: checked once, not once per byte as a
 * loop of HTTP_HEAD_MAX would be). 1 stops the scan.
 */
static long scan_head_byte(__u32 i, struct head_scan *hs)
{
	const __u8 *b = hs->fb->buf;
	__u32 c;

	if (i + 6 > hs->len) {
		hs->end = true;
		return 1;
	}
	if (byte_at(b, i) != '\n')
		return 0;
	if (is_host_header(b, i)) {
		hs->host = i + 6;
		return 1;
	}
	c = byte_at(b, i + 1);
	hs->end = c == '\r' || c == '\n';
	return hs->end;
}

/*
 * An HTTP/1.x request head: its Host header must be in these bytes (the
 * first write); a head without one, or cut before it, is refused.
 */
AWF_SUBPROG int look_http(const struct first_bytes *fb, __u32 len,
			  struct name_build *nb, struct first_look *fl)
{
	struct head_scan hs = { .fb = fb, .len = len };

	if (!fb || !nb || !fl)
		return 0;
	fl->kind = AWF_EV_HTTP;
	bpf_loop(HTTP_HEAD_MAX, scan_head_byte, &hs, 0);
	if (hs.host)
		look_host_value(fb, len, hs.host, nb, fl);
	else
		fl->reason = AWF_R_NO_NAME;
	return 0;
}

static __always_inline bool is_web_port(__u16 port)
{
	return port == 80 || port == 443;
}

/*
 * Read len bytes sent to port: what they are and their name. fl->need
 * set: the decision waits for that many bytes.
 */
static __always_inline void first_look(const struct first_bytes *fb, __u32 len,
				       __u16 port, struct name_build *nb,
				       struct first_look *fl)
{
	const __u8 *b = fb->buf;
	bool partial = false;

	if (byte_at(b, 0) == TLS_HANDSHAKE && (len < 2 || byte_at(b, 1) == 3)) {
		look_tls(fb, len, nb, fl);
		return;
	}
	if (http_method(b, len, &partial)) {
		look_http(fb, len, nb, fl);
		return;
	}
	fl->kind = AWF_EV_PAYLOAD;
	if (partial && len < HTTP_METHOD_MAX)
		fl->need = HTTP_METHOD_MAX;
	else if (is_web_port(port))
		fl->reason = AWF_R_NOT_TLS_OR_HTTP;
}

/* The verdict on what first_look() found (fl->need unset). */
static __always_inline void first_bytes_decide(__u32 slot, __u16 port,
					       struct name_build *nb,
					       const struct first_look *fl,
					       struct awf_decision *dec)
{
	if (fl->reason) {
		deny(dec, fl->reason);
		return;
	}
	if (fl->kind == AWF_EV_PAYLOAD) {
		allow(dec, AWF_R_NAME_OK, 0);
		return;
	}
	name_decide(slot, &nb->key, fl->klen, port, dec);
	if (fl->kind == AWF_EV_HTTP && dec->reason == AWF_R_TLS_NAME)
		dec->reason = AWF_R_HTTP_HOST;
}

/*
 * The verdict on the len bytes in fb that a sandbox of slot sends to
 * port: false while it waits for more (fl->need). nb is cleared here.
 */
static __always_inline bool
first_bytes_verdict(const struct first_bytes *fb, __u32 len, __u32 slot,
		    __u16 port, struct name_build *nb, struct first_look *fl,
		    struct awf_decision *dec)
{
	__builtin_memset(nb, 0, sizeof(*nb));
	first_look(fb, len, port, nb, fl);
	if (fl->need)
		return false;
	first_bytes_decide(slot, port, nb, fl, dec);
	return true;
}

#endif /* AWF_FIRST_BYTES_BPF_H */
