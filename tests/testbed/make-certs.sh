#!/usr/bin/env bash
# tests/testbed/make-certs.sh DIR NAME...
#
# The testbed's TLS material, made fresh by `testbed.sh up` (openssl CLI):
#   DIR/ca.crt, DIR/ca.key      a test CA (EC P-256, valid 2 days), the
#                               only thing a client needs (curl --cacert)
#   DIR/NAME.crt, DIR/NAME.key  per NAME a server certificate signed by
#                               that CA, for NAME and *.NAME
# Nothing here is trusted by the host: the CA exists only in DIR.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 DIR NAME..." >&2; exit 2; }
dir=$1
shift
command -v openssl >/dev/null || { echo "make-certs: openssl is not installed (make deps)" >&2; exit 1; }
mkdir -p "$dir"
chmod 0755 "$dir"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)

openssl req -x509 "${ec[@]}" -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 2 \
	-subj "/CN=awf-bpf testbed CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

for name in "$@"; do
	openssl req -new "${ec[@]}" -keyout "$dir/$name.key" -out "$dir/$name.csr" \
		-subj "/CN=$name" 2>/dev/null
	printf '%s\n' "subjectAltName=DNS:$name,DNS:*.$name" "basicConstraints=CA:FALSE" \
		"keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$dir/$name.ext"
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
		-CAcreateserial -days 2 -extfile "$dir/$name.ext" -out "$dir/$name.crt" 2>/dev/null
	rm -f "$dir/$name.csr" "$dir/$name.ext"
	openssl verify -CAfile "$dir/ca.crt" "$dir/$name.crt" >/dev/null
done
rm -f "$dir/ca.srl"
chmod 0644 "$dir"/*.crt
chmod 0600 "$dir"/*.key
