/*
 * secmem.h - keep secrets out of core dumps.
 *
 * secmem_no_dumps() makes the process non-dumpable (prctl
 * PR_SET_DUMPABLE 0): the kernel writes no core dump of it, and other
 * processes of the same user can no longer ptrace it or read
 * /proc/PID/mem. Every keycastd command calls it first thing.
 * secmem_alloc() gives memory for long-lived secrets (the master key the
 * daemon keeps) on pages of their own marked MADV_DONTDUMP, so that even a
 * dump taken some other way (gcore, a kernel set to dump regardless)
 * leaves them out; they are also locked in RAM where the limit allows
 * (mlock, best effort: never swapped out).
 */
#ifndef KC_SECMEM_H
#define KC_SECMEM_H

#include <stddef.h>

/* Make the process non-dumpable. 0, or -1 with errno. */
int secmem_no_dumps(void) __attribute__((warn_unused_result));

/* n zeroed bytes on pages excluded from core dumps; NULL on failure. Free with secmem_free. */
void *secmem_alloc(size_t n) __attribute__((warn_unused_result));

/* Wipe and release what secmem_alloc(n) returned (same n). NULL is ignored. */
void secmem_free(void *p, size_t n);

#endif /* KC_SECMEM_H */
