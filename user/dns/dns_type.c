// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>

#include "common/array.h"
#include "dns/dns_type.h"

/* Types 1..65 in order; NULL: unassigned (54, 56, 57), spelled TYPE<n>. */
static const char *const low_types[] = {
	NULL,	   "A",		 "NS",	   "MD",	 "MF",	   "CNAME",
	"SOA",	   "MB",	 "MG",	   "MR",	 "NULL",   "WKS",
	"PTR",	   "HINFO",	 "MINFO",  "MX",	 "TXT",	   "RP",
	"AFSDB",   "X25",	 "ISDN",   "RT",	 "NSAP",   "NSAP-PTR",
	"SIG",	   "KEY",	 "PX",	   "GPOS",	 "AAAA",   "LOC",
	"NXT",	   "EID",	 "NIMLOC", "SRV",	 "ATMA",   "NAPTR",
	"KX",	   "CERT",	 "A6",	   "DNAME",	 "SINK",   "OPT",
	"APL",	   "DS",	 "SSHFP",  "IPSECKEY",	 "RRSIG",  "NSEC",
	"DNSKEY",  "DHCID",	 "NSEC3",  "NSEC3PARAM", "TLSA",   "SMIMEA",
	NULL,	   "HIP",	 NULL,	   NULL,	 "TALINK", "CDS",
	"CDNSKEY", "OPENPGPKEY", "CSYNC",  "ZONEMD",	 "SVCB",   "HTTPS",
};

static const struct {
	unsigned int type;
	const char *name;
} high_types[] = {
	{ 99, "SPF" },	  { 104, "NID" },   { 105, "L32" },   { 106, "L64" },
	{ 107, "LP" },	  { 108, "EUI48" }, { 109, "EUI64" }, { 249, "TKEY" },
	{ 250, "TSIG" },  { 251, "IXFR" },  { 252, "AXFR" },  { 253, "MAILB" },
	{ 254, "MAILA" }, { 255, "ANY" },   { 256, "URI" },   { 257, "CAA" },
	{ 32769, "DLV" },
};

static const char *type_name(unsigned int type)
{
	if (type < ARRAY_SIZE(low_types))
		return low_types[type];
	for (size_t i = 0; i < ARRAY_SIZE(high_types); i++)
		if (high_types[i].type == type)
			return high_types[i].name;
	return NULL;
}

void dns_type_to_text(unsigned int type, char *out, size_t size)
{
	const char *name = type_name(type);

	if (name)
		snprintf(out, size, "%s", name);
	else
		snprintf(out, size, "TYPE%u", type);
}
