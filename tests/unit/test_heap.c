/*
 * test_heap.c - the allocator as heap_tune() leaves it: a large block is
 * mmap'd (given back to the kernel when freed) even after a larger one was
 * freed, which glibc's dynamic threshold alone would put in the heap; and
 * heap_trim() runs. The first check is void where malloc is not glibc's
 * (a sanitizer's: make check under ASan), and says so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "core/heap.h"

/* Whether malloc is glibc's: its statistics see a small allocation. */
static bool glibc_malloc(void)
{
	void *p = malloc(64);
	bool seen = mallinfo2().uordblks > 0;

	free(p);
	return seen;
}

/* After a 4 MB block was freed, a 1 MB block is still mmap'd, not carved from the heap. */
static void test_mmap_threshold_fixed(void **state)
{
	char *big, *mid;
	size_t mapped;

	(void)state;
	if (!glibc_malloc()) {
		print_message("malloc is not glibc's (a sanitizer's): nothing to check\n");
		return;
	}
	heap_tune();
	big = malloc(4 << 20);
	assert_non_null(big);
	memset(big, 1, 4 << 20);
	free(big);
	mid = malloc(1 << 20);
	assert_non_null(mid);
	mapped = mallinfo2().hblkhd;
	assert_true(mapped >= (size_t)1 << 20);
	free(mid);
	assert_true(mallinfo2().hblkhd < mapped); /* unmapped on free */
}

/* Blocks just under the threshold come from the heap; a trim afterwards leaves malloc working. */
static void test_trim(void **state)
{
	enum { N = 64 };
	void *p[N];

	(void)state;
	heap_tune();
	for (int i = 0; i < N; i++) {
		p[i] = malloc(HEAP_MMAP_THRESHOLD / 2);
		assert_non_null(p[i]);
		memset(p[i], 2, HEAP_MMAP_THRESHOLD / 2);
	}
	for (int i = 0; i < N; i++)
		free(p[i]);
	(void)heap_trim();
	p[0] = malloc(100);
	assert_non_null(p[0]);
	free(p[0]);
}

/* Run the tests. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mmap_threshold_fixed),
		cmocka_unit_test(test_trim),
	};

	return cmocka_run_group_tests_name("heap", tests, NULL, NULL);
}
