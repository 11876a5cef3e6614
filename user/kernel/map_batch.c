// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "kernel/map_batch.h"

/*
 * Elements per BPF_MAP_UPDATE_BATCH: the system call, not the copy, is
 * the cost per element (most of it on a paravirtualized guest); 4096 of
 * the largest values (struct awf_domain, 328 bytes) still take < 2 MiB.
 */
#define BATCH_ELEMS 4096

/* The kernel's ENOTSUPP: the map type has no batch operation. */
#define ENOTSUPP_KERNEL 524

static int batch_alloc(struct map_batch *b, int fd, uint32_t key_size,
		       uint32_t value_size, uint32_t cap, bool by_element)
{
	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->key_size = key_size;
	b->value_size = value_size;
	b->cap = cap;
	b->by_element = by_element;
	b->keys = malloc((size_t)cap * key_size);
	b->values = malloc((size_t)cap * value_size);
	if (b->keys && b->values)
		return 0;
	map_batch_free(b);
	errno = ENOMEM;
	return -1;
}

/*
 * The queue at the size of what is written: 4096 of the largest values
 * are a malloc() of over 1 MiB, an mmap() faulted in and unmapped again
 * (a TLB flush on every CPU that runs a thread of ours) even for the few
 * elements most policies write, or none.
 */
int map_batch_init(struct map_batch *b, int fd, uint32_t key_size,
		   uint32_t value_size, size_t n, bool by_element)
{
	uint32_t cap = n < BATCH_ELEMS ? (uint32_t)n : BATCH_ELEMS;

	return batch_alloc(b, fd, key_size, value_size, cap ? cap : 1,
			   by_element);
}

/*
 * Whether a batch failed because batches are not there at all: the kernel
 * then leaves count as it was; a refused element sets it to the number
 * written before it.
 */
static bool batch_unsupported(int err)
{
	return err == EINVAL || err == ENOTSUPP_KERNEL || err == EOPNOTSUPP ||
	       err == ENOSYS;
}

static bool batch_refused(int err, uint32_t count, uint32_t queued)
{
	return count == queued && batch_unsupported(err);
}

static int write_each(struct map_batch *b, uint32_t from)
{
	for (uint32_t i = from; i < b->n; i++) {
		if (bpf_map_update_elem(
			    b->fd, b->keys + (size_t)i * b->key_size,
			    b->values + (size_t)i * b->value_size, BPF_ANY))
			return -1;
		b->done++;
	}
	return 0;
}

int map_batch_flush(struct map_batch *b)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	uint32_t count = b->n;
	int ret = 0;

	if (!b->n)
		return 0;
	if (!b->by_element &&
	    bpf_map_update_batch(b->fd, b->keys, b->values, &count, &opts)) {
		if (!batch_refused(errno, count, b->n)) {
			/* count untouched: nothing was written */
			if (count >= b->n)
				count = 0;
			b->done += count;
			b->n = 0;
			return -1;
		}
		b->by_element = true;
	}
	if (b->by_element)
		ret = write_each(b, 0);
	else
		b->done += b->n;
	b->n = 0;
	return ret;
}

int map_batch_add(struct map_batch *b, const void *key, const void *value)
{
	memcpy(b->keys + (size_t)b->n * b->key_size, key, b->key_size);
	memcpy(b->values + (size_t)b->n * b->value_size, value, b->value_size);
	if (++b->n < b->cap)
		return 0;
	return map_batch_flush(b);
}

void map_batch_free(struct map_batch *b)
{
	free(b->keys);
	free(b->values);
	b->keys = b->values = NULL;
	b->n = 0;
}

/* Slots per BPF_MAP_LOOKUP_BATCH call. */
#define READ_CHUNK 4096

static int read_each(int fd, uint32_t value_size, uint32_t n, uint8_t *values)
{
	for (uint32_t k = 0; k < n; k++)
		if (bpf_map_lookup_elem(fd, &k,
					values + (size_t)k * value_size))
			return -1;
	return 0;
}

/*
 * Bytes of an array map mapped at once: its pages count in our RSS while
 * mapped, and a 1M-entry policy's table is 32 MiB.
 */
#define FILL_WINDOW (1u << 20)

/* Slots [first, end) of the window at win (its slot first at offset 0). */
static void fill_window(uint8_t *win, uint32_t elem_size, uint32_t first,
			uint32_t end,
			void (*fill)(uint32_t k, void *value, void *arg),
			void *arg)
{
	for (uint32_t k = first; k < end; k++)
		fill(k, win + (size_t)(k - first) * elem_size, arg);
}

int map_array_fill(int fd, uint32_t value_size, uint32_t n,
		   void (*fill)(uint32_t k, void *value, void *arg), void *arg)
{
	/* the kernel's layout of an array's values: 8-byte aligned */
	uint32_t elem_size = (value_size + 7) & ~7u;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t bytes = (size_t)n * elem_size, win_bytes = FILL_WINDOW;

	/* a window holds whole slots and starts on a page */
	if (win_bytes % page || win_bytes % elem_size)
		win_bytes = page * elem_size;
	for (size_t off = 0; off < bytes; off += win_bytes) {
		size_t len = bytes - off < win_bytes ? bytes - off : win_bytes;
		size_t map_len = (len + page - 1) / page * page;
		uint32_t first = (uint32_t)(off / elem_size);
		void *win = mmap(NULL, map_len, PROT_READ | PROT_WRITE,
				 MAP_SHARED, fd, (off_t)off);

		if (win == MAP_FAILED)
			return off ? -1 : 1;
		fill_window(win, elem_size, first,
			    first + (uint32_t)(len / elem_size), fill, arg);
		/* cannot fail: a mapping of ours, whole */
		munmap(win, map_len);
	}
	return 0;
}

int map_read_array(int fd, uint32_t value_size, uint32_t n, void *values)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t *keys = malloc(READ_CHUNK * sizeof(*keys));
	uint32_t done = 0, token = 0;
	uint8_t *out = values;
	int ret = 0;

	if (!keys) {
		errno = ENOMEM;
		return -1;
	}
	while (done < n) {
		uint32_t count = n - done < READ_CHUNK ? n - done : READ_CHUNK;
		int err = bpf_map_lookup_batch(
			fd, done ? &token : NULL, &token, keys,
			out + (size_t)done * value_size, &count, &opts);

		if (err && !done && batch_unsupported(errno)) {
			ret = read_each(fd, value_size, n, out);
			done = n;
			break;
		}
		if (err && errno != ENOENT) { /* ENOENT: past the last slot */
			ret = -1;
			break;
		}
		done += count;
		if (err)
			break;
	}
	if (!ret && done < n) {
		errno = ENOENT;
		ret = -1;
	}
	free(keys);
	return ret;
}
