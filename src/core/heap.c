/*
 * heap.c - the C allocator tuned for a long-running daemon, behind heap.h.
 */
#include "core/heap.h"

#include <malloc.h>

/* Cap the arenas and fix the mmap threshold (which also fixes the trim threshold). */
void heap_tune(void)
{
	(void)mallopt(M_ARENA_MAX, HEAP_ARENAS);
	(void)mallopt(M_MMAP_THRESHOLD, HEAP_MMAP_THRESHOLD);
}

/* Release the free pages at the top of each arena and the whole free pages inside them. */
bool heap_trim(void)
{
	return malloc_trim(0) == 1;
}
