/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * map_batch.h - many elements into one BPF map: queued, then written
 * with BPF_MAP_UPDATE_BATCH, thousands per system call (and an array
 * map's values read back the same way). A kernel or map
 * type without batch updates (before 5.6; LPM tries before 5.14?) refuses
 * the first batch: from there the elements go one call each, with the
 * same result.
 */
#ifndef AWF_MAP_BATCH_H
#define AWF_MAP_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct map_batch {
	int fd;
	uint32_t key_size, value_size;
	bool by_element; /* refused by the kernel, or asked for */
	uint8_t *keys, *values;
	uint32_t n;   /* queued */
	uint32_t cap; /* queued at most: then written */
	size_t done;  /* elements in the map so far */
};

/*
 * n: the elements the caller will add (a queue of that many, at most
 * the largest batch). by_element: never try a batch (tests of the
 * fallback). -1: no memory.
 */
int map_batch_init(struct map_batch *b, int fd, uint32_t key_size,
		   uint32_t value_size, size_t n, bool by_element);
/*
 * Queue key/value (BPF_ANY); a full queue is written. -1 with errno when
 * the kernel refused an element: it is element number done + 1.
 */
int map_batch_add(struct map_batch *b, const void *key, const void *value);
/* Write what is queued; as map_batch_add. */
int map_batch_flush(struct map_batch *b);
void map_batch_free(struct map_batch *b);

/*
 * Slots 0..n-1 of an mmap-able array map (BPF_F_MMAPABLE), written in
 * place, a window of the map at a time: fill(k, value, arg) writes slot
 * k's value_size bytes, or leaves them (zero in a new map). No system
 * call per slot. 1 when the map cannot be mapped (not mmap-able,
 * or a kernel without it): nothing was written, batches will do; -1 with
 * errno when a later window could not be mapped.
 */
int map_array_fill(int fd, uint32_t value_size, uint32_t n,
		   void (*fill)(uint32_t k, void *value, void *arg), void *arg);

/*
 * The values of slots 0..n-1 of an array map, in order, into values
 * (n * value_size bytes) with BPF_MAP_LOOKUP_BATCH; one call per slot
 * where the kernel refuses batches. -1 with errno.
 */
int map_read_array(int fd, uint32_t value_size, uint32_t n, void *values);

#endif /* AWF_MAP_BATCH_H */
