/*
 * heap.h - the C allocator tuned for a long-running daemon.
 *
 * glibc's malloc, left alone, keeps memory a daemon like this one never
 * uses again: each thread that allocates may get an arena of its own (up
 * to 8 per core), the threshold above which a block is mmap'd (and given
 * back to the kernel on free) rises to the largest block freed, so the
 * serving set's large arrays land in the main heap after the first
 * reload, and pages freed in the middle of the heap stay resident until
 * something trims them. heap_tune() caps the arenas and fixes the mmap
 * threshold; heap_trim() gives free pages back, for use after a large
 * structure was freed (a replaced serving set and its query result).
 */
#ifndef KC_HEAP_H
#define KC_HEAP_H

#include <stdbool.h>

/* At most HEAP_ARENAS malloc arenas: the main one and one the worker threads share. */
#define HEAP_ARENAS 2

/* Blocks of HEAP_MMAP_THRESHOLD bytes or more are mmap'd, and unmapped when freed. */
#define HEAP_MMAP_THRESHOLD (128 * 1024)

/* Tune the allocator: call once, before any thread but the main one starts. */
void heap_tune(void);

/* Give the allocator's free pages back to the kernel; whether it released any. */
bool heap_trim(void);

#endif /* KC_HEAP_H */
