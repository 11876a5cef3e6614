/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * events.bpf.h - the audit trail: counters per sandbox and the events
 * ring buffer (struct awf_event). Needs a variant header (run_maps.bpf.h
 * or agent_maps.bpf.h) first, for AWF_PIN, counters and counter_add().
 */
#ifndef AWF_EVENTS_BPF_H
#define AWF_EVENTS_BPF_H

#include "common.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, AWF_RINGBUF_BYTES);
	AWF_PIN;
} events SEC(".maps");

/*
 * Global (AWF_SUBPROG): inlined, it was walked again at each of its
 * dozen call sites and for each state there, ~450 instructions of the
 * verifier's per run; a call costs the connect path a few ns.
 */
AWF_SUBPROG int count(__u32 slot, __u32 idx)
{
	__u32 key = slot * AWF_C_MAX + idx;
	__u64 *val = bpf_map_lookup_elem(&counters, &key);

	if (val)
		counter_add(val);
	return 0;
}

static __always_inline void count_denial(__u32 slot, __u8 reason)
{
	count(slot, AWF_C_DENIED_BY_REASON + (reason < AWF_R_MAX ? reason : 0));
}

static __always_inline void fill_event(struct awf_event *e, __u32 slot,
				       __u8 kind, const struct awf_dst *d,
				       const struct awf_src *src,
				       const struct awf_decision *dec,
				       __u64 cgroup_id)
{
	__u64 id = bpf_get_current_pid_tgid();

	e->slot = slot;
	e->pad3 = 0;
	e->ts_ns = bpf_ktime_get_ns();
	e->cgroup_id = cgroup_id;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->rule_id = dec->rule_id;
	e->name_id = dec->name_id;
	e->kind = kind;
	e->verdict = dec->verdict;
	e->reason = dec->reason;
	e->family = d->family;
	e->proto = d->proto;
	e->flags = dec->audit_only ? AWF_EVF_AUDIT_ONLY : 0;
	e->dport = d->port;
	e->sport = src->port;
	e->pad2[0] = 0;
	e->pad2[1] = 0;
	__builtin_memcpy(e->daddr, d->addr, 16);
	__builtin_memcpy(e->saddr, src->addr, 16);
	e->sock_type = src->sock_type;
	e->sock_proto = src->sock_proto;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

/*
 * An event, filled in the caller. For sock_create and bind4/6, which
 * write events on few paths: a global function is a JIT image of its own
 * in every program that calls it (compiled, hashed and text_poke'd at
 * each load: about 0.1 ms an image here). Inline, the three programs are
 * one image each and verify in about as many instructions (sock_create
 * 235 -> 163, bind4 332 -> 323, bind6 592 -> 663).
 */
static __always_inline void emit_inline(__u32 slot, __u8 kind,
					const struct awf_dst *d,
					const struct awf_src *src,
					const struct awf_decision *dec,
					__u64 cgroup_id)
{
	struct awf_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(slot, AWF_C_EVENTS_LOST);
		return;
	}
	fill_event(e, slot, kind, d, src, dec, cgroup_id);
	bpf_ringbuf_submit(e, 0);
}

/*
 * emit()'s body, a global function: every denial and audited verdict of a
 * program ends here, each reaching it in a state of its own (the family,
 * which parts of the destination its path wrote), and the verifier would
 * walk the filling of the event once for each (about 15 times in the
 * backstop). Only paths that write an event pay the call. slot_kind:
 * slot << 8 | kind, as five arguments are the most a function takes.
 */
AWF_SUBPROG int emit_event(__u32 slot_kind, const struct awf_dst *d,
			   const struct awf_src *src,
			   const struct awf_decision *dec, __u64 cgroup_id)
{
	if (!d || !src || !dec)
		return 0;
	emit_inline(slot_kind >> 8, slot_kind & 0xff, d, src, dec, cgroup_id);
	return 0;
}

_Static_assert(AWF_MAX_SLOTS <= (1 << 24), "slot_kind holds a slot");

static __always_inline void emit(__u32 slot, __u8 kind, const struct awf_dst *d,
				 const struct awf_src *src,
				 const struct awf_decision *dec,
				 __u64 cgroup_id)
{
	emit_event(slot << 8 | kind, d, src, dec, cgroup_id);
}

/* An event about a name: name_len bytes of it at name (kernel memory). */
static __always_inline void emit_name(__u32 slot, __u8 kind,
				      const struct awf_dst *d,
				      const struct awf_src *src,
				      const struct awf_decision *dec,
				      const void *name, __u32 name_len)
{
	struct awf_name_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(slot, AWF_C_EVENTS_LOST);
		return;
	}
	fill_event(&e->ev, slot, kind, d, src, dec,
		   bpf_get_current_cgroup_id());
	if (name_len > AWF_NAME_LEN - 1)
		name_len = AWF_NAME_LEN - 1;
	if (bpf_probe_read_kernel(e->name, name_len, name))
		name_len = 0;
	e->name[name_len & (AWF_NAME_LEN - 1)] = '\0';
	bpf_ringbuf_submit(e, 0);
}

#endif /* AWF_EVENTS_BPF_H */
