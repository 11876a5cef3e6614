// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "audit/audit_codes.h"
#include "kernel/counters.h"

/* A zeroed value of the per-CPU map: *cpus slots; NULL with errno. */
static uint64_t *percpu_value(int *cpus)
{
	int n = libbpf_num_possible_cpus();

	if (n <= 0) {
		errno = n < 0 ? -n : EINVAL;
		return NULL;
	}
	*cpus = n;
	return calloc((size_t)n, sizeof(uint64_t));
}

/* free() that keeps the errno of the failure being reported. */
static void percpu_free(uint64_t *vals)
{
	int saved = errno;

	free(vals);
	errno = saved;
}

int counters_read_one(int map_fd, uint32_t idx, uint64_t *out)
{
	int cpus, ret;
	uint64_t *vals = percpu_value(&cpus);

	if (!vals)
		return -1;
	*out = 0;
	ret = bpf_map_lookup_elem(map_fd, &idx, vals) ? -1 : 0;
	for (int c = 0; !ret && c < cpus; c++)
		*out += vals[c];
	percpu_free(vals);
	return ret;
}

int counters_read(int map_fd, uint64_t *out)
{
	for (uint32_t i = 0; i < AWF_C_MAX; i++)
		if (counters_read_one(map_fd, i, &out[i]))
			return -1;
	return 0;
}

int counters_store(int map_fd, uint32_t idx, uint64_t value)
{
	int cpus, ret;
	uint64_t *vals = percpu_value(&cpus);

	if (!vals)
		return -1;
	vals[0] = value;
	ret = bpf_map_update_elem(map_fd, &idx, vals, BPF_ANY) ? -1 : 0;
	percpu_free(vals);
	return ret;
}

void counters_from_json(json_object *o, uint64_t *out)
{
	json_object *by_reason = NULL;

	memset(out, 0, AWF_C_MAX * sizeof(*out));
	for (uint32_t i = 0; i < AWF_C_DENIED_BY_REASON; i++) {
		json_object *v;

		if (json_object_object_get_ex(o, counter_code(i), &v))
			out[i] = (uint64_t)json_object_get_int64(v);
	}
	if (!json_object_object_get_ex(o, "denied_by_reason", &by_reason) ||
	    !json_object_is_type(by_reason, json_type_object))
		return;
	json_object_object_foreach(by_reason, key, val) {
		int r = reason_from_code(key);

		if (r > 0)
			out[AWF_C_DENIED_BY_REASON + r] =
				(uint64_t)json_object_get_int64(val);
	}
}

json_object *counters_to_json(const uint64_t *c)
{
	json_object *o = json_object_new_object();
	json_object *by_reason = json_object_new_object();

	if (!o || !by_reason) {
		json_object_put(o);
		json_object_put(by_reason);
		return NULL;
	}
	for (uint32_t i = 0; i < AWF_C_DENIED_BY_REASON; i++)
		json_object_object_add(o, counter_code(i),
				       json_object_new_int64((int64_t)c[i]));
	for (uint32_t r = 1; r < AWF_R_MAX; r++) {
		uint64_t n = c[AWF_C_DENIED_BY_REASON + r];

		if (n)
			json_object_object_add(
				by_reason, reason_code(r),
				json_object_new_int64((int64_t)n));
	}
	json_object_object_add(o, "denied_by_reason", by_reason);
	return o;
}
