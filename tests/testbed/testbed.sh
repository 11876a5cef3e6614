#!/usr/bin/env bash
# tests/testbed/testbed.sh up|down|status
#
# The awf-bpf test world: a network namespace (awft-world) behind a veth
# pair, holding an "allowed" and a "blocked" HTTP/UDP host, a "shared"
# host serving two names over real TLS (a test CA made here, in
# $AWFT_STATE/tls), a trusted and a rogue dnsmasq, a tinyproxy and a
# link-local address we own. The address plan is in addresses.sh. No traffic of the tests ever leaves this
# machine: the world netns has no default route, and the host netns has
# "unreachable" safety routes for the test ranges in case the veth is gone.
#
#   up      tears down leftovers, builds everything, verifies routes and
#           that every server answers (bounded wait); non-zero on failure
#   down    removes netns, veth, routes, processes and state (idempotent)
#   status  prints what exists
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=addresses.sh
. "$HERE/addresses.sh"

PY=/usr/bin/python3
NSENTER=(nsenter "--net=/run/netns/$AWFT_NS")

say() { printf 'testbed: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

ns_exists() { [ -e "/run/netns/$AWFT_NS" ]; }

# Whether a pid is a live process (a zombie waiting for its reaper is not).
alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	case ${stat%% *} in Z | X) return 1 ;; esac
	return 0
}

# Stop one process we started, by pid: TERM, bounded wait, KILL.
stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] && alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 20); do
		alive "$pid" || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	for i in $(seq 1 20); do
		alive "$pid" || return 0
		sleep 0.1
	done
}

cmd_down() {
	local f pid
	# Processes we recorded.
	if [ -d "$AWFT_STATE" ]; then
		for f in "$AWFT_STATE"/*.pid; do
			[ -e "$f" ] || continue
			pid=$(cat "$f" 2>/dev/null)
			stop_pid "$pid"
		done
	fi
	# Anything else still living in the world netns (ours by construction).
	if ns_exists; then
		for pid in $(ip netns pids "$AWFT_NS" 2>/dev/null); do
			stop_pid "$pid"
		done
		ip netns del "$AWFT_NS" 2>/dev/null
	fi
	ip link del "$AWFT_HOST_IF" 2>/dev/null
	local r
	for r in $AWFT_SAFETY4; do
		ip route del unreachable "$r" metric "$AWFT_SAFETY_METRIC" 2>/dev/null
	done
	for r in $AWFT_SAFETY6; do
		ip -6 route del unreachable "$r" metric "$AWFT_SAFETY_METRIC" 2>/dev/null
	done
	rm -rf "$AWFT_STATE"
	if ns_exists || ip link show "$AWFT_HOST_IF" >/dev/null 2>&1; then
		die "down: could not remove $AWFT_NS / $AWFT_HOST_IF"
	fi
	return 0
}

# Start a long-running program inside the world netns; record its pid.
# nsenter (and unshare, without --fork) exec the program: $! is its pid.
start_bg() {
	local name=$1
	shift
	"$@" >"$AWFT_STATE/$name.out" 2>&1 </dev/null &
	echo $! >"$AWFT_STATE/$name.pid"
}

wait_for() { # description, command...: bounded wait (10 s)
	local what=$1 i
	shift
	for i in $(seq 1 100); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	die "up: $what did not come up (see $AWFT_STATE/*.out)"
}

http_ok() { # addr port
	local url
	case $1 in *:*) url="http://[$1]:$2/" ;; *) url="http://$1:$2/" ;; esac
	curl -s --max-time 2 --noproxy '*' "$url" | grep -qF "hello from"
}

# bracket an IPv6 address for a URL or curl --resolve
url_addr() { case $1 in *:*) printf '[%s]' "$1" ;; *) printf '%s' "$1" ;; esac; }

# The shared host's HTTPS, verified with the test CA, serving NAME's
# certificate for SNI NAME.
https_ok() { # addr name
	curl -s --max-time 2 --noproxy '*' --cacert "$AWFT_CA" \
		--resolve "$2:$SHARED_HTTPS_PORT:$(url_addr "$1")" "https://$2:$SHARED_HTTPS_PORT/" |
		grep -qF "hello from $2 at $(url_addr "$1"):$SHARED_HTTPS_PORT (Host: $2)"
}

# The shared host's HTTP answers with the Host it got.
host_ok() { # addr name
	curl -s --max-time 2 --noproxy '*' -H "Host: $2" "http://$(url_addr "$1"):$SHARED_HTTP_PORT/" |
		grep -qF "hello from $2 at"
}

# The raw TCP service greets first, then echoes.
echo_ok() { # addr port
	$PY - "$1" "$2" <<'EOF'
import socket, sys
a, p = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((a, p), timeout=2)
greeting = s.recv(4096)
s.sendall(b"ping\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
sys.exit(0 if greeting.startswith(b"greeting from") and data == b"echo: ping\n" else 1)
EOF
}

udp_ok() { # addr port
	$PY - "$1" "$2" <<'EOF'
import socket, sys
a, p = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.sendto(b"ping", (a, p))
d, _ = s.recvfrom(4096)
sys.exit(0 if d.endswith(b"ping") else 1)
EOF
}

dig_is() { # server name type expected...
	local server=$1 name=$2 type=$3
	shift 3
	local got
	got=$(dig +time=1 +tries=1 +short "@$server" "$name" "$type" 2>/dev/null | sort | tr '\n' ' ')
	[ "$got" = "$* " ]
}

route_via_veth() { # addr
	local fam=-4
	case $1 in *:*) fam=-6 ;; esac
	ip "$fam" route get "$1" 2>/dev/null | grep -q "dev $AWFT_HOST_IF"
}

cmd_up() {
	local a p spec
	command -v dnsmasq >/dev/null || die "dnsmasq is not installed (dnsmasq-base)"
	command -v tinyproxy >/dev/null || die "tinyproxy is not installed (tinyproxy-bin)"
	command -v openssl >/dev/null || die "openssl is not installed (make deps)"
	[ -x "$PY" ] || die "$PY is missing"
	cmd_down || return 1
	mkdir -p "$AWFT_STATE" && chmod 0755 "$AWFT_STATE"

	# Safety routes first: from now on the test ranges never leave the host.
	for a in $AWFT_SAFETY4; do
		ip route add unreachable "$a" metric "$AWFT_SAFETY_METRIC" || die "safety route $a"
	done
	for a in $AWFT_SAFETY6; do
		ip -6 route add unreachable "$a" metric "$AWFT_SAFETY_METRIC" || die "safety route $a"
	done

	ip netns add "$AWFT_NS" || die "ip netns add $AWFT_NS"
	ip link add "$AWFT_HOST_IF" type veth peer name "$AWFT_WORLD_IF" netns "$AWFT_NS" ||
		die "ip link add $AWFT_HOST_IF"
	ip addr add "$AWFT_HOST4/24" dev "$AWFT_HOST_IF" || die "host address"
	ip -6 addr add "$AWFT_HOST6/64" dev "$AWFT_HOST_IF" nodad || die "host address v6"
	ip link set "$AWFT_HOST_IF" up || die "link up"
	ip route add "$LINKLOCAL4/32" dev "$AWFT_HOST_IF" src "$AWFT_HOST4" || die "link-local route"

	"${NSENTER[@]}" ip link set lo up || die "world lo"
	for a in $AWFT_WORLD4; do
		"${NSENTER[@]}" ip addr add "$a/24" dev "$AWFT_WORLD_IF" || die "world address $a"
	done
	"${NSENTER[@]}" ip addr add "$LINKLOCAL4/32" dev "$AWFT_WORLD_IF" || die "world $LINKLOCAL4"
	for a in $AWFT_WORLD6; do
		"${NSENTER[@]}" ip -6 addr add "$a/64" dev "$AWFT_WORLD_IF" nodad || die "world address $a"
	done
	"${NSENTER[@]}" ip link set "$AWFT_WORLD_IF" up || die "world link up"
	# Replies to 198.18.0.1 / fd42:a0f0::1 are on-link; nothing else is routed.

	for a in $AWFT_WORLD4 $LINKLOCAL4 $AWFT_WORLD6; do
		route_via_veth "$a" || die "up: $a does not route via $AWFT_HOST_IF: $(ip route get "$a" 2>&1)"
	done

	# The shared host's TLS material: a test CA and one certificate per name.
	"$HERE/make-certs.sh" "$AWFT_TLS_DIR" "$SHARED_NAME" "$OTHER_NAME" ||
		die "up: cannot make the test certificates"

	# HTTP, HTTPS, TCP and UDP echo servers.
	local specs=()
	for a in "$ALLOWED4" "[$ALLOWED6]"; do
		for p in $ALLOWED_HTTP_PORTS; do specs+=("http:$a:$p"); done
		specs+=("udp:$a:$UDP_ECHO_PORT")
	done
	for a in "$BLOCKED4" "[$BLOCKED6]"; do
		for p in $BLOCKED_HTTP_PORTS; do specs+=("http:$a:$p"); done
		specs+=("udp:$a:$UDP_ECHO_PORT")
	done
	specs+=("http:$ALLOWED4_B:80" "http:$ALLOWED4_B:8080" "http:$LINKLOCAL4:80" "udp:$LINKLOCAL4:$UDP_ECHO_PORT")
	for a in "$SHARED4" "[$SHARED6]"; do
		specs+=("https:$a:$SHARED_HTTPS_PORT" "host:$a:$SHARED_HTTP_PORT" "echo:$a:$SHARED_RAW_PORT")
	done
	start_bg servers "${NSENTER[@]}" "$PY" "$HERE/servers.py" \
		--log "$AWFT_STATE/servers.log" \
		--tls-dir "$AWFT_TLS_DIR" --tls-names "$SHARED_NAME,$OTHER_NAME" "${specs[@]}"

	# DNS: trusted and rogue dnsmasq.
	local common=(--keep-in-foreground --conf-file=/dev/null --user=root --group=root --pid-file=)
	: >"$AWFT_STATE/dns-trusted.log"
	: >"$AWFT_STATE/dns-rogue.log"
	start_bg dns-trusted "${NSENTER[@]}" dnsmasq "${common[@]}" \
		--conf-file="$HERE/dnsmasq-trusted.conf" \
		--listen-address="$DNS4" --listen-address="$DNS6" \
		--log-facility="$AWFT_STATE/dns-trusted.log"
	start_bg dns-rogue "${NSENTER[@]}" dnsmasq "${common[@]}" \
		--conf-file="$HERE/dnsmasq-rogue.conf" \
		--listen-address="$ROGUE4" --listen-address="$ROGUE6" \
		--log-facility="$AWFT_STATE/dns-rogue.log"

	# tinyproxy, in its own mount namespace whose /etc/resolv.conf names the
	# trusted dnsmasq, so it resolves *.test and nothing else.
	echo "nameserver $DNS4" >"$AWFT_STATE/resolv.conf"
	: >"$AWFT_STATE/tinyproxy.log"
	chmod 0666 "$AWFT_STATE/tinyproxy.log"
	cat >"$AWFT_STATE/tinyproxy.conf" <<EOF
Port $PROXY_PORT
Listen $PROXY4
Timeout 20
MaxClients 32
LogFile "$AWFT_STATE/tinyproxy.log"
LogLevel Info
Allow 198.18.0.0/24
Allow 127.0.0.1
ViaProxyName "awft-proxy"
EOF
	start_bg tinyproxy "${NSENTER[@]}" unshare --mount --propagation private \
		sh -c 'mount --bind "$1" /etc/resolv.conf && exec tinyproxy -d -c "$2"' sh \
		"$AWFT_STATE/resolv.conf" "$AWFT_STATE/tinyproxy.conf"

	# Verify that everything answers (bounded wait).
	for a in "$ALLOWED4" "$ALLOWED6"; do
		for p in $ALLOWED_HTTP_PORTS; do wait_for "http $a:$p" http_ok "$a" "$p"; done
		wait_for "udp $a:$UDP_ECHO_PORT" udp_ok "$a" "$UDP_ECHO_PORT"
	done
	for a in "$BLOCKED4" "$BLOCKED6"; do
		for p in $BLOCKED_HTTP_PORTS; do wait_for "http $a:$p" http_ok "$a" "$p"; done
		wait_for "udp $a:$UDP_ECHO_PORT" udp_ok "$a" "$UDP_ECHO_PORT"
	done
	wait_for "http $ALLOWED4_B:80" http_ok "$ALLOWED4_B" 80
	for a in "$SHARED4" "$SHARED6"; do
		for p in "$SHARED_NAME" "$OTHER_NAME"; do
			wait_for "https $p on $a:$SHARED_HTTPS_PORT" https_ok "$a" "$p"
			wait_for "http Host $p on $a:$SHARED_HTTP_PORT" host_ok "$a" "$p"
		done
		wait_for "tcp echo $a:$SHARED_RAW_PORT" echo_ok "$a" "$SHARED_RAW_PORT"
	done
	wait_for "http $LINKLOCAL4:80" http_ok "$LINKLOCAL4" 80
	for a in "$DNS4" "$DNS6"; do
		wait_for "trusted dns $a" dig_is "$a" allowed.test A "$ALLOWED4"
	done
	dig_is "$DNS4" allowed.test AAAA "$ALLOWED6" || die "up: trusted dns AAAA"
	dig_is "$DNS4" multi.test A "$ALLOWED4 $ALLOWED4_B" || die "up: trusted dns multi.test"
	for a in "$SHARED_NAME" "www.$SHARED_NAME" "$OTHER_NAME"; do
		dig_is "$DNS4" "$a" A "$SHARED4" || die "up: trusted dns $a A"
		dig_is "$DNS4" "$a" AAAA "$SHARED6" || die "up: trusted dns $a AAAA"
	done
	for a in "$ROGUE4" "$ROGUE6"; do
		wait_for "rogue dns $a" dig_is "$a" allowed.test A "$ROGUE_ALLOWED4"
	done
	wait_for "tinyproxy $PROXY4:$PROXY_PORT" \
		sh -c "curl -s --max-time 2 -x http://$PROXY4:$PROXY_PORT http://$ALLOWED4:8080/ | grep -qF 'hello from $ALLOWED4:8080'"
	say "up: $AWFT_NS ready ($AWFT_HOST_IF $AWFT_HOST4 <-> $AWFT_WORLD_IF)"
}

cmd_status() {
	local f pid rc=0
	if ns_exists; then echo "netns $AWFT_NS: present"; else echo "netns $AWFT_NS: absent"; rc=1; fi
	ip -br addr show "$AWFT_HOST_IF" 2>/dev/null || { echo "link $AWFT_HOST_IF: absent"; rc=1; }
	ns_exists && "${NSENTER[@]}" ip -br addr show "$AWFT_WORLD_IF" 2>/dev/null
	ip route show | grep -E "unreachable|$AWFT_HOST_IF" | sed 's/^/route: /'
	ip -6 route show | grep -E "unreachable fd42|$AWFT_HOST_IF" | sed 's/^/route6: /'
	for f in "$AWFT_STATE"/*.pid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f")
		if alive "$pid"; then
			echo "$(basename "$f" .pid): running (pid $pid)"
		else
			echo "$(basename "$f" .pid): NOT running"
			rc=1
		fi
	done
	return $rc
}

[ "$(id -u)" = 0 ] || die "must run as root"
case ${1:-} in
up) cmd_up ;;
down) cmd_down && say "down: done" ;;
status) cmd_status ;;
*)
	echo "usage: $0 up|down|status" >&2
	exit 2
	;;
esac
