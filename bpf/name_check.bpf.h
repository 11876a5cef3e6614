/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * name_check.bpf.h - the first bytes of a connection to a learned address
 * (docs/architecture.md, "Names on shared addresses"). connect tags the
 * socket (sock_state.bpf.h, tag_allowed); sock_ops puts it in name_socks
 * once established; the sk_msg program of name_socks reads the first
 * bytes the client sends, before TCP has them, and passes them or fails
 * the send() with EACCES. Passed, its later sends are not looked at
 * (bpf_msg_apply_bytes). The packet backstop drops any
 * payload of a socket still pending (packet.bpf.h): bytes that never went
 * through sk_msg (sent in the same call that waited for the handshake,
 * or in a TCP Fast Open SYN) never leave unchecked. Needs a variant
 * header first.
 */
#ifndef AWF_NAME_CHECK_BPF_H
#define AWF_NAME_CHECK_BPF_H

#include "common.bpf.h"
#include "events.bpf.h"
#include "first_bytes.bpf.h"
#include "sock_state.bpf.h"

/* socket cookie -> socket: connections whose first bytes are awaited */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__type(key, __u64);
	__type(value, __u64);
	__uint(max_entries, AWF_MAX_NAME_SOCKS);
	AWF_PIN;
} name_socks SEC(".maps");

/*
 * A connection that must name its name is established: from now on its
 * sends go through awf_first_bytes. If it cannot be added it stays
 * pending, and the backstop drops its payload.
 */
static __always_inline void await_first_bytes(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct awf_sk_state *st;

	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB || !sk)
		return;
	st = bpf_sk_storage_get(&sk_state, sk, NULL, 0);
	if (!st || st->name_check != AWF_NC_PENDING)
		return;
	st->name_cookie = bpf_get_socket_cookie(skops);
	if (!bpf_sock_hash_update(skops, &name_socks, &st->name_cookie,
				  BPF_ANY))
		bpf_sock_ops_cb_flags_set(skops,
					  skops->bpf_sock_ops_cb_flags |
						  BPF_SOCK_OPS_RTT_CB_FLAG);
}

/*
 * Checked and passed, a connection leaves name_socks: a socket of a
 * sockhash sends through the sockmap path (a copy of every send, no
 * zero-copy), which costs bulk transfers about half their throughput
 * (docs/benchmarks.md). sk_msg programs may not delete from a sockhash,
 * sock_ops programs may; the first RTT sample after the first send (an
 * ACK of data) is where. Then the callback is turned off again.
 */
static __always_inline void release_checked(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;
	struct awf_sk_state *st;

	if (skops->op != BPF_SOCK_OPS_RTT_CB || !sk)
		return;
	st = bpf_sk_storage_get(&sk_state, sk, NULL, 0);
	if (!st || st->name_check == AWF_NC_PENDING)
		return;
	if (st->name_check == AWF_NC_PASSED)
		bpf_map_delete_elem(&name_socks, &st->name_cookie);
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags &
						 ~BPF_SOCK_OPS_RTT_CB_FLAG);
}

/*
 * Only the first bytes are ours: the verdict holds for the next 4 GiB
 * (then this runs once more, and passes), or until sock_ops takes the
 * socket out of name_socks (release_checked()).
 */
#define PASS_FOR_GOOD 0xffffffff

static __always_inline void dst_of_state(const struct awf_sk_state *st,
					 struct awf_dst *d)
{
	d->family = st->allowed_family;
	d->proto = IPPROTO_TCP;
	d->port = st->allowed_port;
	__builtin_memcpy(d->addr, st->allowed_addr, 16);
}

static __always_inline int settle(struct sk_msg_md *msg,
				  struct awf_sk_state *st,
				  const struct first_bytes *fb,
				  const struct first_look *fl,
				  struct awf_decision *dec)
{
	bool allowed = dec->verdict == AWF_ALLOW;
	__u32 slot = st->name_slot;
	struct awf_src src = {};
	struct awf_dst d = {};
	struct awf_scope sc;
	bool scoped = scope_of_slot(&sc, slot);

	dec->audit_only = !allowed && scoped && audit_passes(&sc, dec->reason);
	st->name_check =
		allowed || dec->audit_only ? AWF_NC_PASSED : AWF_NC_REFUSED;
	count(slot, allowed ? AWF_C_NAMES_PASSED : AWF_C_NAMES_DENIED);
	if (!allowed)
		count_denial(slot, dec->reason);
	if (!allowed || (scoped && sc.cfg->audit_allowed)) {
		dst_of_state(st, &d);
		src_of_sock(msg->sk, &src);
		dec->name_id = st->name_id;
		emit_name(slot, fl->kind, &d, &src, dec,
			  &fb->buf[fl->name_off & SCRATCH_MASK], fl->name_len);
	}
	if (!allowed && !dec->audit_only)
		return SK_DROP;
	bpf_msg_apply_bytes(msg, PASS_FOR_GOOD);
	return SK_PASS;
}

static __always_inline int refuse_unread(struct sk_msg_md *msg,
					 struct awf_sk_state *st,
					 const struct first_bytes *fb)
{
	struct first_look fl = { .kind = AWF_EV_PAYLOAD };
	struct awf_decision dec = {};

	deny(&dec, AWF_R_HELLO_UNCHECKABLE);
	return settle(msg, st, fb, &fl, &dec);
}

/*
 * The first send()s of a connection in name_socks. A ClientHello larger
 * than the bytes so far is corked: the kernel holds them and runs this
 * again once the whole record is there.
 */
static __always_inline int check_first_bytes(struct sk_msg_md *msg)
{
	struct bpf_sock *sk = msg->sk;
	struct awf_decision dec = {};
	struct first_look fl = {};
	struct name_build *nb;
	struct first_bytes *fb;
	struct awf_sk_state *st;
	__u32 zero = 0, len;

	if (!sk)
		return SK_DROP;
	st = bpf_sk_storage_get(&sk_state, sk, NULL, 0);
	if (!st || st->name_check == AWF_NC_REFUSED)
		return SK_DROP;
	if (st->name_check != AWF_NC_PENDING) {
		bpf_msg_apply_bytes(msg, PASS_FOR_GOOD);
		return SK_PASS;
	}
	fb = bpf_map_lookup_elem(&first_bytes_scratch, &zero);
	nb = bpf_map_lookup_elem(&name_build_scratch, &zero);
	if (!fb || !nb)
		return SK_DROP;
	len = msg->size;
	if (len > TLS_RECORD_MAX)
		len = TLS_RECORD_MAX;
	/* One load of size: the bound must hold for the value used. */
	barrier_var(len);
	if (!len || bpf_msg_pull_data(msg, 0, len, 0) ||
	    msg->data + len > msg->data_end ||
	    bpf_probe_read_kernel(fb->buf, len & SCRATCH_MASK, msg->data))
		return refuse_unread(msg, st, fb);
	if (first_bytes_verdict(fb, len, st->name_slot, st->allowed_port, nb,
				&fl, &dec))
		return settle(msg, st, fb, &fl, &dec);
	if (fl.need > len && fl.need <= TLS_RECORD_MAX) {
		bpf_msg_cork_bytes(msg, fl.need);
		return SK_PASS;
	}
	return refuse_unread(msg, st, fb);
}

/*
 * The backstop's part: a TCP segment with payload from a socket whose
 * first bytes were not passed. l4 is where its TCP header starts.
 */
static __always_inline bool unchecked_payload(struct __sk_buff *skb,
					      const struct awf_sk_state *st,
					      __u32 l4)
{
	__u8 doff;

	if (!st || st->name_check == AWF_NC_NONE ||
	    st->name_check == AWF_NC_PASSED)
		return false;
	if (bpf_skb_load_bytes(skb, l4 + 12, &doff, 1))
		return true;
	return skb->len > l4 + (doff >> 4) * 4;
}

#endif /* AWF_NAME_CHECK_BPF_H */
