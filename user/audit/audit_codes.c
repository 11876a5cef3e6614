// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <netinet/in.h>
#include <string.h>

#include "audit/audit_codes.h"

struct reason_name {
	const char *code;
	const char *text;
};

static const struct reason_name reasons[AWF_R_MAX] = {
	[AWF_R_NONE] = { "none", "none" },
	[AWF_R_NOT_IN_POLICY] = { "not_in_policy", "not in policy" },
	[AWF_R_PORT_NOT_ALLOWED] = { "port_not_allowed", "port not allowed" },
	[AWF_R_RESERVED_RANGE] = { "link_local", "link-local/metadata range" },
	[AWF_R_LOOPBACK] = { "loopback", "loopback port not allowed" },
	[AWF_R_IPV6_DISABLED] = { "ipv6_disabled", "ipv6 disabled by policy" },
	[AWF_R_SOCKET_TYPE] = { "socket_type", "socket type not allowed" },
	[AWF_R_BACKSTOP] = { "backstop", "dropped by packet backstop" },
	[AWF_R_DNS_REDIRECT] = { "dns_redirect",
				 "dns sent to the awf-bpf resolver" },
	[AWF_R_CIDR] = { "cidr", "allow_cidrs" },
	[AWF_R_PROXY] = { "proxy", "proxy" },
	[AWF_R_LEARNED] = { "learned", "learned from an allowed domain" },
	[AWF_R_PROXY_ONLY] = { "proxy_only", "proxy-only mode: use the proxy" },
	[AWF_R_DNS_ALLOWED] = { "dns_allowed", "allowed" },
	[AWF_R_BLOCKED_DOMAIN] = { "blocked_domain", "blocked domain" },
	[AWF_R_NAME_NOT_ALLOWED] = { "name_not_allowed", "name not allowed" },
	[AWF_R_DNS_UPSTREAM_FAILURE] = { "dns_upstream_failure",
					 "every upstream DNS server failed" },
	[AWF_R_DNS_LOCAL_ANSWER] = { "dns_local_answer",
				     "answered locally (PTR, ANY)" },
	[AWF_R_DNS_MALFORMED] = { "dns_malformed", "malformed DNS query" },
	[AWF_R_DNS_BAD_ANSWER] = { "dns_bad_answer",
				   "upstream answer rejected" },
	[AWF_R_BIND_NOT_LOOPBACK] = { "bind_not_loopback",
				      "listening port off loopback" },
	[AWF_R_TC_EGRESS] = { "tc_egress",
			      "dropped by the host-wide tc layer" },
	[AWF_R_TLS_NAME] = { "tls_name_not_allowed", "name not allowed" },
	[AWF_R_HTTP_HOST] = { "http_host_not_allowed", "name not allowed" },
	[AWF_R_NO_NAME] = { "no_name", "no server name or Host" },
	[AWF_R_NOT_TLS_OR_HTTP] = { "not_tls_or_http",
				    "neither TLS nor HTTP on a web port" },
	[AWF_R_HELLO_UNCHECKABLE] = { "hello_uncheckable",
				      "ClientHello the kernel cannot read" },
	[AWF_R_NAME_UNCHECKED] = { "name_unchecked",
				   "bytes sent before the name check" },
	[AWF_R_NAME_BLOCKED] = { "name_blocked", "blocked domain" },
	[AWF_R_NAME_OK] = { "name_allowed", "name allowed" },
	[AWF_R_UDP_TO_NAME] = { "udp_to_name",
				"UDP to a name's address (\"udp\": true allows it)" },
	[AWF_R_SPOOFED_SOURCE] = { "spoofed_source",
				   "source address not of this host" },
};

static const char *const verdicts[] = {
	[AWF_ALLOW] = "allow",
	[AWF_DENY] = "deny",
	[AWF_REDIRECT] = "redirect",
};

static const char *const kinds[] = {
	[AWF_EV_CONNECT] = "connect",	 [AWF_EV_SENDMSG] = "sendmsg",
	[AWF_EV_SOCK_CREATE] = "socket", [AWF_EV_PACKET] = "packet",
	[AWF_EV_BIND] = "bind",		 [AWF_EV_TLS] = "tls",
	[AWF_EV_HTTP] = "http",		 [AWF_EV_PAYLOAD] = "payload",
};

static const char *const counters[AWF_C_DENIED_BY_REASON] = {
	[AWF_C_CONNECT_ALLOWED] = "connect_allowed",
	[AWF_C_CONNECT_DENIED] = "connect_denied",
	[AWF_C_SENDMSG_ALLOWED] = "sendmsg_allowed",
	[AWF_C_SENDMSG_DENIED] = "sendmsg_denied",
	[AWF_C_DNS_REDIRECTED] = "dns_redirected",
	[AWF_C_SOCKET_DENIED] = "sockets_denied",
	[AWF_C_PACKETS_DROPPED] = "packets_dropped",
	[AWF_C_EVENTS_LOST] = "events_lost",
	[AWF_C_DNS_ALLOWED] = "dns_allowed",
	[AWF_C_DNS_BLOCKED] = "dns_blocked",
	[AWF_C_DNS_FAILED] = "dns_failed",
	[AWF_C_NAMES_PASSED] = "names_passed",
	[AWF_C_NAMES_DENIED] = "names_denied",
};

#define N_OF(t) (sizeof(t) / sizeof((t)[0]))

const char *reason_code(unsigned int reason)
{
	return reason < AWF_R_MAX && reasons[reason].code ?
		       reasons[reason].code :
		       "unknown";
}

const char *reason_text(unsigned int reason)
{
	return reason < AWF_R_MAX && reasons[reason].text ?
		       reasons[reason].text :
		       "unknown";
}

int reason_from_code(const char *code)
{
	for (unsigned int i = 0; i < AWF_R_MAX; i++)
		if (reasons[i].code && strcmp(reasons[i].code, code) == 0)
			return (int)i;
	return -1;
}

bool reason_is_dns(unsigned int reason)
{
	return reason >= AWF_R_DNS_ALLOWED && reason <= AWF_R_DNS_BAD_ANSWER;
}

const char *verdict_code(unsigned int verdict)
{
	return verdict < N_OF(verdicts) && verdicts[verdict] ?
		       verdicts[verdict] :
		       "unknown";
}

const char *verdict_word(unsigned int verdict)
{
	switch (verdict) {
	case AWF_DENY:
		return "denied";
	case AWF_REDIRECT:
		return "redirected";
	default:
		return "allowed";
	}
}

const char *event_kind_code(unsigned int kind)
{
	return kind < N_OF(kinds) && kinds[kind] ? kinds[kind] : "unknown";
}

int event_kind_from_code(const char *code)
{
	for (unsigned int i = 0; i < N_OF(kinds); i++)
		if (kinds[i] && strcmp(kinds[i], code) == 0)
			return (int)i;
	return -1;
}

const char *proto_code(unsigned int proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_RAW:
		return "raw";
	case IPPROTO_MPTCP:
		return "mptcp";
	case IPPROTO_UDPLITE:
		return "udplite";
	default:
		return NULL;
	}
}

const char *sock_type_code(unsigned int type)
{
	static const char *const types[] = {
		[1] = "stream",	   [2] = "dgram", [3] = "raw",	  [4] = "rdm",
		[5] = "seqpacket", [6] = "dccp",  [10] = "packet"
	};

	return type < N_OF(types) && types[type] ? types[type] : "unknown";
}

const char *counter_code(unsigned int idx)
{
	return idx < N_OF(counters) ? counters[idx] : NULL;
}
