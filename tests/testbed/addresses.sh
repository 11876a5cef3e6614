# shellcheck shell=bash
# tests/testbed/addresses.sh - the fixed address plan of the awf-bpf testbed.
# Sourced by testbed.sh, tests/lib.sh, tests/run.sh and tests/demo.sh.
#
# Every address below lives in the network namespace $AWFT_NS that
# testbed.sh creates, behind the veth pair $AWFT_HOST_IF <-> $AWFT_WORLD_IF.
# Nothing here is, or may ever be, an address outside this machine.

AWFT_NS=awft-world
AWFT_HOST_IF=awft0
AWFT_WORLD_IF=awft1
AWFT_STATE=${AWFT_STATE:-/run/awf-bpf-testbed}

# Host side of the veth.
AWFT_HOST4=198.18.0.1
AWFT_HOST6=fd42:a0f0::1
AWFT_PREFIX4=198.18.0.0/24
AWFT_PREFIX6=fd42:a0f0::/64

# "Allowed" host: HTTP on 80, 8080, 9000, 443 (plain HTTP); UDP echo 5000.
ALLOWED4=198.18.0.10
ALLOWED6=fd42:a0f0::10
ALLOWED4_B=198.18.0.11          # second A record of multi.test
# "Blocked" host: HTTP on 80, 443, 8080; UDP echo 5000.
BLOCKED4=198.18.0.20
BLOCKED6=fd42:a0f0::20
# "Shared" host: two unrelated names on one address, as behind a CDN.
# good.test (the tests allow it) and other.test (they do not) resolve, with
# every name below them, to SHARED4/SHARED6. Real TLS on 443 (a test CA
# made at `up`, one certificate per name, picked by SNI; the reply names
# the SNI), HTTP on 80 answering with the Host it got, and a raw TCP
# greeting/echo service on 2222.
SHARED4=198.18.0.30
SHARED6=fd42:a0f0::30
SHARED_NAME=good.test
OTHER_NAME=other.test
SHARED_HTTPS_PORT=443
SHARED_HTTP_PORT=80
SHARED_RAW_PORT=2222
AWFT_TLS_DIR=$AWFT_STATE/tls
AWFT_CA=$AWFT_TLS_DIR/ca.crt    # curl --cacert "$AWFT_CA"
# Trusted DNS upstream (dnsmasq, UDP+TCP 53).
DNS4=198.18.0.53
DNS6=fd42:a0f0::53
# Rogue DNS (dnsmasq answering the same names with other addresses).
ROGUE4=198.18.0.54
ROGUE6=fd42:a0f0::54
ROGUE_ALLOWED4=198.18.0.66      # the rogue's answer for allowed.test
ROGUE_ALLOWED6=fd42:a0f0::66
# HTTP proxy (tinyproxy).
PROXY4=198.18.0.3
PROXY_PORT=3128
# A link-local address we own (never 169.254.169.254).
LINKLOCAL4=169.254.77.77
LINKLOCAL_NET=169.254.77.0/24

ALLOWED_HTTP_PORTS="80 8080 9000 443"
BLOCKED_HTTP_PORTS="80 443 8080"
UDP_ECHO_PORT=5000

# Every address of the world side (v4 prefix /24, v6 prefix /64, the
# link-local one /32).
AWFT_WORLD4="$ALLOWED4 $ALLOWED4_B $BLOCKED4 $SHARED4 $DNS4 $ROGUE4 $PROXY4"
AWFT_WORLD6="$ALLOWED6 $BLOCKED6 $SHARED6 $DNS6 $ROGUE6"

# Safety routes in the host netns: if the veth disappears, these ranges are
# unreachable instead of following the default route off the machine.
AWFT_SAFETY4="198.18.0.0/15 169.254.77.0/24"
AWFT_SAFETY6="fd42:a0f0::/32"
AWFT_SAFETY_METRIC=4000

# The test policies always name the trusted DNS server explicitly.
AWFT_DNS_SERVERS=$DNS4
