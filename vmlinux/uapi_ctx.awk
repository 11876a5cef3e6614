# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# uapi_ctx.awk - vmlinux.h with the context types of the BPF UAPI taken out
# of its preserve_access_index region (Makefile: $(BPF_VMLINUX)).
#
# The kernel's ABI fixes their layout (fields are only ever appended), and
# the verifier rewrites every access to them anyway. Compiled with
# preserve_access_index, each access is a CO-RE relocation that the kernel
# resolves against its BTF at every load of `run`'s light skeleton: 309 of
# its 343 relocations. Every other type keeps its relocations.
#
# bpftool writes each top-level type as "struct NAME {" ... "};" in column
# 0, inside one "#pragma clang attribute push ... pop" region; the region
# is closed before each of ours and opened again at the next line that is
# not blank (two of ours in a row share the gap: clang refuses a region
# that applies to nothing).
BEGIN {
	n = split("bpf_sock __sk_buff sk_msg_md bpf_sock_addr bpf_sock_ops bpf_sock_tuple", t, " ")
	for (i = 1; i <= n; i++)
		ours["struct " t[i] " {"] = 1
	push = "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)"
}
$0 in ours {
	if (!reopen)
		print "#pragma clang attribute pop"
	reopen = 0
	inside = 1
	found++
	print
	next
}
inside {
	print
	if ($0 == "};") {
		inside = 0
		reopen = 1
	}
	next
}
reopen && $0 != "" {
	print push
	reopen = 0
}
{ print }
END {
	if (found != n) {
		printf "uapi_ctx.awk: %d of the %d context types found in %s\n", found, n, FILENAME > "/dev/stderr"
		exit 1
	}
}
