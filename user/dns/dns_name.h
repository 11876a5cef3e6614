/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * dns_name.h - domain names of hostile DNS messages (RFC 1035 3.1, 4.1.4):
 * read with compression pointers followed, compared, spelled as text.
 * The rules are those ldns applied before, a little stricter (pointer
 * hops bounded lower): at most 255 bytes of wire form, labels of at most
 * 63 bytes, label types 0x40 and 0x80 refused, no pointer to offset 0 or
 * past the message.
 */
#ifndef AWF_DNS_NAME_H
#define AWF_DNS_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX 255 /* wire form, root label included */
#define DNS_LABEL_MAX 63
/*
 * Pointer hops followed in one name: a name of 255 bytes has at most
 * 127 labels, each reachable with one hop; more is a loop or a chain of
 * pointers to pointers no encoder writes.
 */
#define DNS_NAME_MAX_HOPS 127

/* A name decompressed: its labels as on the wire, the root one last. */
struct dns_name {
	unsigned int len; /* bytes of wire, root label included: 1..255 */
	uint8_t wire[DNS_NAME_MAX];
};

/*
 * Reads the name at *off of the message m (len bytes), following
 * pointers; *off steps over the name where it is written (past its first
 * pointer, if any). -1 if the name is broken, out then undefined.
 */
int dns_name_read(const uint8_t *m, size_t len, size_t *off,
		  struct dns_name *out);
/* Equal names: labels compared ASCII case-insensitively (RFC 4343). */
bool dns_name_equal(const struct dns_name *a, const struct dns_name *b);
/*
 * The name as text, as the filter reports and judges it: lower case, no
 * trailing dot ("" for the root); '.', ';', '(', ')' and '\' in a label
 * get a backslash, bytes outside printable ASCII become \DDD (ldns's
 * spelling). Cut to size - 1 characters; size > 0.
 */
void dns_name_to_text(const struct dns_name *n, char *out, size_t size);

#endif /* AWF_DNS_NAME_H */
