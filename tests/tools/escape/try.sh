# shellcheck shell=sh
# tests/tools/escape/try.sh - sourced by the shell scripts the escape
# battery runs INSIDE the sandbox (POSIX sh: dash).
#
#   try STEP CMD...   run CMD; print "STEP ok" or "STEP err <message> 0"
#                     (the message with blanks squeezed to "_"), the
#                     format tests/tools/escape/lib.sh reads.
#   wr FILE VALUE     write VALUE to FILE (for try: try step wr FILE VALUE)
#   wait_go FILE      wait (bounded, 15 s) for FILE; print its content

try() {
	_n=$1
	shift
	if _e=$( { "$@"; } 2>&1); then
		echo "$_n ok"
	else
		_e=$(printf '%s' "$_e" | tr -s ' \n\t' '___' | cut -c1-100)
		echo "$_n err ${_e:-failed} 0"
	fi
}

wr() { printf '%s\n' "$2" >"$1"; }

wait_go() {
	_i=0
	while [ ! -s "$1" ] && [ $_i -lt 150 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	cat "$1" 2>/dev/null
}
