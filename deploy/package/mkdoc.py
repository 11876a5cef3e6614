#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""deploy/package/mkdoc.py - the man pages and the bash completion, generated
at build time from one source each, so that they cannot drift:

  mkdoc.py man1 BINARY VERSION          awf-bpf(1): `BINARY --help` and
                                        `BINARY help CMD` for every command
  mkdoc.py man5 POLICY_README VERSION   awf-bpf-policy(5): policy/README.md
  mkdoc.py completion BINARY            bash completion: commands, flags, files

A command or flag another change adds to the help text is in the next
build's man page and completion without touching this file.
"""
import re
import subprocess
import sys

DATE = "2026"  # no build date: builds are reproducible


def help_text(binary, *args):
    out = subprocess.run([binary, *args], capture_output=True, text=True)
    return out.stdout or out.stderr


def commands(binary):
    """The commands, in the order `--help` lists them."""
    names, in_list = [], False
    for line in help_text(binary, "--help").splitlines():
        if line.rstrip().endswith("Commands:"):
            in_list = True
            continue
        if in_list:
            if not line.strip():
                break
            for word in re.findall(r"^\s+([a-z][a-z-]*)", line.split("|")[0]):
                if word not in names:
                    names.append(word)
            # "dump|status --agent": every name before the options
            for word in re.findall(r"^\s+([a-z|]+)", line)[:1]:
                for w in word.split("|"):
                    if w and w not in names:
                        names.append(w)
    return names


def flags(text):
    """Every long and short option a help text names."""
    found = []
    for f in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])(?![\w-])", text):
        if f not in found:
            found.append(f)
    return found


def roff(text):
    """Escape a line for roff: backslashes, dashes, leading dots and quotes."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    if text.startswith((".", "'")):
        text = "\\&" + text
    return text


# "  --flag ARG    text" or "  command ARGS   text": a term and its text.
OPTION = re.compile(r"^ {2}(-\S.*?|\S.*?\S {2,}\S.*?)$")
TERM = re.compile(r"^ {2}(\S.*?)(?: {2,}(\S.*))?$")


def help_to_roff(text):
    """One command's help: usage lines, option list (.TP), paragraphs."""
    out, para, in_opts = [], [], False
    lines = text.rstrip("\n").splitlines()

    def flush():
        if para:
            out.append(".PP")
            out.extend(roff(p) for p in para)
            para.clear()

    for line in lines:
        m = TERM.match(line) if OPTION.match(line) else None
        if line.lower().startswith(("usage:", "       awf-bpf")):
            flush()
            out.append(".nf")
            out.append("\\fB" + roff(re.sub(r"^[Uu]sage:\s*", "", line.strip())) + "\\fR")
            out.append(".fi")
            in_opts = False
        elif m:
            flush()
            out.append(".TP")
            out.append("\\fB" + roff(m.group(1).strip()) + "\\fR")
            if m.group(2):
                out.append(roff(m.group(2)))
            in_opts = True
        elif not line.strip():
            flush()
            in_opts = False
        elif in_opts and line.startswith("   "):
            out.append(roff(line.strip()))
        else:
            in_opts = False
            para.append(line.strip())
    flush()
    return out


def man1(binary, version):
    main = help_text(binary, "--help")
    out = [
        '.TH AWF\\-BPF 1 "%s" "awf-bpf %s" "User Commands"' % (DATE, version),
        ".SH NAME",
        "awf\\-bpf \\- kernel\\-enforced egress firewall for a command, a CI job or a host (eBPF, cgroup v2)",
        ".SH SYNOPSIS",
        ".nf",
        "\\fBawf\\-bpf\\fR \\fICOMMAND\\fR [\\fIARGS\\fR]",
        ".fi",
        ".SH DESCRIPTION",
    ]
    out += help_to_roff("\n".join(l for l in main.splitlines() if not l.startswith("Usage:")))
    out.append(".SH COMMANDS")
    for cmd in commands(binary):
        if cmd == "help":
            continue
        out.append(".SS %s" % roff(cmd))
        out += help_to_roff(help_text(binary, "help", cmd))
    out += [
        ".SH FILES",
        ".TP",
        "\\fI/etc/awf\\-bpf/agent.json\\fR, \\fI/etc/awf\\-bpf/policies/\\fR",
        "the agent's configuration and policies (optional: without them the agent serves with an empty policy set)",
        ".TP",
        "\\fI/sys/fs/bpf/awf\\-bpf/\\fR",
        "pinned programs and maps of running sandboxes and of the agent",
        ".TP",
        "\\fI/usr/share/awf\\-bpf/examples/\\fR",
        "example policies",
        ".SH SEE ALSO",
        "\\fBawf\\-bpf\\-policy\\fR(5)",
    ]
    return "\n".join(out) + "\n"


def inline(text):
    """Markdown inline markup to roff: `code`, **bold**, [text](link)."""
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    text = roff(text)
    text = re.sub(r"`([^`]+)`", r"\\fB\1\\fR", text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"\\fB\1\\fR", text)
    return text


def man5(readme, version):
    out = [
        '.TH AWF\\-BPF\\-POLICY 5 "%s" "awf-bpf %s" "File Formats"' % (DATE, version),
        ".SH NAME",
        "awf\\-bpf\\-policy \\- the policy format of awf\\-bpf (JSON, version 1)",
    ]
    code = False
    with open(readme, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for line in lines:
        if line.startswith("```"):
            out.append(".EE" if code else ".EX")
            code = not code
            continue
        if code:
            out.append(roff(line) if line else "")
            continue
        if line.startswith("# "):
            out.append(".SH DESCRIPTION")
        elif line.startswith("## "):
            out.append(".SH " + inline(line[3:]).upper())
        elif line.startswith("### "):
            out.append(".SS " + inline(line[4:]))
        elif re.match(r"^\|\s*-", line):
            continue
        elif line.startswith("|"):
            cells = [inline(c.strip()) for c in line.strip("|").split("|")]
            out.append(".TP")
            out.append(cells[0])
            out.append("; ".join(c for c in cells[1:] if c))
        elif re.match(r"^\s*[-*] ", line):
            out.append(".IP \\(bu 2")
            out.append(inline(re.sub(r"^\s*[-*] ", "", line)))
        elif re.match(r"^\s*\d+\. ", line):
            out.append(".IP %s 3" % re.match(r"^\s*(\d+)\.", line).group(1) + ".")
            out.append(inline(re.sub(r"^\s*\d+\. ", "", line)))
        elif line.startswith("    "):
            out += [".RS", ".nf", roff(line.strip()), ".fi", ".RE"]
        elif not line.strip():
            out.append(".PP")
        else:
            out.append(inline(line.strip()))
    out += [".SH SEE ALSO", "\\fBawf\\-bpf\\fR(1)"]
    return "\n".join(out) + "\n"


def completion(binary):
    cmds = [c for c in commands(binary)]
    cases = []
    for cmd in cmds:
        text = help_text(binary, "help", cmd) if cmd != "help" else ""
        words = flags(text)
        subs = []
        if cmd == "policy":
            subs = re.findall(r"awf-bpf policy ([a-z]+)", text)
        if cmd == "logs":
            subs = ["summary"]
        opts = " ".join(sorted(set(subs + words)))
        cases.append('\t%s) opts="%s" ;;' % (cmd, opts if cmd != "help" else " ".join(cmds)))
    return """# bash completion for awf-bpf (generated by deploy/package/mkdoc.py from
# `awf-bpf help`: do not edit)
_awf_bpf() {
	local cur prev cmd opts
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "%s --help --version" -- "$cur"))
		return
	fi
	cmd=${COMP_WORDS[1]}
	# After "--" comes the sandboxed command and its own arguments.
	local i
	for ((i = 2; i < COMP_CWORD; i++)); do
		if [ "${COMP_WORDS[i]}" = -- ]; then
			COMPREPLY=($(compgen -c -- "$cur"))
			[ "$((i + 1))" -eq "$COMP_CWORD" ] || COMPREPLY=($(compgen -f -- "$cur"))
			return
		fi
	done
	case $prev in
	--policy | --config | --audit-log | --allow-domains-file | --block-domains-file | check | summary)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--localhost) COMPREPLY=($(compgen -W "sandbox allow deny" -- "$cur")); return ;;
	--log-level) COMPREPLY=($(compgen -W "debug info warn error" -- "$cur")); return ;;
	--audit) COMPREPLY=($(compgen -W "all denied" -- "$cur")); return ;;
	--format) COMPREPLY=($(compgen -W "pretty json markdown" -- "$cur")); return ;;
	--user) COMPREPLY=($(compgen -u -- "$cur")); return ;;
	esac
	case $cmd in
%s
	*) opts="" ;;
	esac
	if [[ $cur == -* ]] || [ -z "$opts" ]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	else
		COMPREPLY=($(compgen -W "$opts" -- "$cur") $(compgen -f -- "$cur"))
	fi
}
complete -F _awf_bpf awf-bpf
""" % (" ".join(cmds), "\n".join(cases))


def main(argv):
    if len(argv) == 4 and argv[1] == "man1":
        sys.stdout.write(man1(argv[2], argv[3]))
    elif len(argv) == 4 and argv[1] == "man5":
        sys.stdout.write(man5(argv[2], argv[3]))
    elif len(argv) == 3 and argv[1] == "completion":
        sys.stdout.write(completion(argv[2]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
