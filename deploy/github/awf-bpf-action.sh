#!/usr/bin/env bash
# deploy/github/awf-bpf-action.sh install|run - the shell logic of the
# composite action (action.yml at the repository root). Inputs come as
# AWF_ACTION_* variables, the runner's as GitHub sets them (RUNNER_TEMP,
# GITHUB_WORKSPACE, GITHUB_STEP_SUMMARY, GITHUB_OUTPUT).
#
# install: the binary to $RUNNER_TEMP/awf-bpf/awf-bpf, from
#   AWF_ACTION_BINARY (a path) or AWF_ACTION_RELEASE_URL (checked against
#   AWF_ACTION_SHA256, which is then required: a firewall binary is not
#   run unverified); it must run (--version).
# run: awf-bpf run [--policy] [--allow-domains] [ARGS] --audit-log ... --
#   bash -e -o pipefail -c "$AWF_ACTION_RUN", through sudo unless root (the
#   command runs as the runner's user: awf-bpf honours SUDO_UID); then the
#   markdown summary of the audit log to $GITHUB_STEP_SUMMARY, whatever
#   the command's status; exits with that status (also the exit-code
#   output).
set -euo pipefail

die() {
	echo "::error title=awf-bpf::$*" >&2
	exit 1
}

: "${RUNNER_TEMP:?RUNNER_TEMP is not set (not on a GitHub runner?)}"
DIR=$RUNNER_TEMP/awf-bpf
BIN=$DIR/awf-bpf
AUDIT=$DIR/audit.jsonl
# awf-bpf needs root; GitHub's runners give the runner user sudo.
SUDO=()
[ "$(id -u)" = 0 ] || SUDO=(sudo --preserve-env env "PATH=$PATH")

install_binary() {
	local url=${AWF_ACTION_RELEASE_URL:-} src=${AWF_ACTION_BINARY:-} sum
	mkdir -p "$DIR"
	if [ -n "$src" ]; then
		[ -f "$src" ] || die "binary: no file $src"
		install -m 0755 "$src" "$BIN.new"
	elif [ -n "$url" ]; then
		[ -n "${AWF_ACTION_SHA256:-}" ] || die "release-url needs sha256 (the binary's SHA-256)"
		curl --fail --silent --show-error --location --proto '=https,file' \
			--retry 3 --output "$BIN.new" -- "$url" || die "downloading $url failed"
		sum=$(sha256sum "$BIN.new" | cut -d' ' -f1)
		if [ "$sum" != "${AWF_ACTION_SHA256,,}" ]; then
			rm -f "$BIN.new"
			die "$url: SHA-256 $sum, expected $AWF_ACTION_SHA256"
		fi
		chmod 0755 "$BIN.new"
	else
		die "set binary (a path) or release-url and sha256"
	fi
	"$BIN.new" --version >/dev/null || die "the awf-bpf binary does not run here"
	mv -f "$BIN.new" "$BIN"
	echo "awf-bpf: $("$BIN" --version) installed at $BIN"
}

append_summary() { # exit status
	local out=${GITHUB_STEP_SUMMARY:-/dev/null}
	if [ -s "$AUDIT" ]; then
		"${SUDO[@]}" "$BIN" logs summary --format markdown "$AUDIT" >>"$out" ||
			echo "awf-bpf: the audit log $AUDIT could not be summed up" >>"$out"
	elif [ "$1" = 125 ]; then
		printf '**awf-bpf** could not set up the sandbox: the command did not run (see the step log).\n' >>"$out"
	else
		printf '**awf-bpf**: nothing was denied.\n' >>"$out"
	fi
}

run_command() {
	local cmd=() extra=() rc=0 wd=${AWF_ACTION_WORKDIR:-}
	[ -x "$BIN" ] || die "awf-bpf is not installed (the install step did not run)"
	[ -n "${AWF_ACTION_RUN:-}" ] || die "run: no command given"
	[ -n "$wd" ] || wd=${GITHUB_WORKSPACE:-$PWD}
	cd "$wd" || die "working-directory: cannot enter $wd"
	cmd=("${SUDO[@]}" "$BIN" run)
	[ -z "${AWF_ACTION_POLICY:-}" ] || cmd+=(--policy "$AWF_ACTION_POLICY")
	[ -z "${AWF_ACTION_ALLOW_DOMAINS:-}" ] || cmd+=(--allow-domains "$AWF_ACTION_ALLOW_DOMAINS")
	read -r -a extra <<<"${AWF_ACTION_ARGS:-}"
	cmd+=("${extra[@]}" --audit-log "$AUDIT" -- bash -e -o pipefail -c "$AWF_ACTION_RUN")
	rm -f "$AUDIT"
	"${cmd[@]}" || rc=$?
	append_summary "$rc"
	[ -z "${GITHUB_OUTPUT:-}" ] || echo "exit-code=$rc" >>"$GITHUB_OUTPUT"
	exit "$rc"
}

case ${1:-} in
install) install_binary ;;
run) run_command ;;
*)
	echo "usage: $0 install|run" >&2
	exit 2
	;;
esac
