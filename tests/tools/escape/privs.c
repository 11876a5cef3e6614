// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * privs.c - what a process holds after exec: the escape battery installs it
 * set-uid root (and with file capabilities) and runs it inside the sandbox.
 * no_new_privs must keep both from granting anything.
 *
 * Prints one line: "privs uid=<ruid> euid=<euid> capeff=<hex> capbnd=<hex>"
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void cap_line(const char *key, char *out, size_t len)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	snprintf(out, len, "?");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, strlen(key))) {
			char *v = line + strlen(key);

			while (*v == ' ' || *v == '\t')
				v++;
			v[strcspn(v, "\n")] = '\0';
			snprintf(out, len, "%s", v);
		}
	}
	fclose(f);
}

int main(void)
{
	char eff[64], bnd[64];

	cap_line("CapEff:", eff, sizeof(eff));
	cap_line("CapBnd:", bnd, sizeof(bnd));
	printf("privs uid=%u euid=%u capeff=%s capbnd=%s\n", getuid(), geteuid(),
	       eff, bnd);
	return 0;
}
