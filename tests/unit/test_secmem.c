/*
 * test_secmem.c - secrets out of core dumps: the process becomes
 * non-dumpable, and secret pages carry the kernel's "dd" (do not dump)
 * flag in /proc/self/smaps, zeroed, writable, released.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "core/secmem.h"

/* Whether the mapping holding p has the "dd" flag in /proc/self/smaps. */
static bool smaps_dontdump(const void *p)
{
	char line[512];
	bool in = false, dd = false;
	unsigned long lo, hi, at = (unsigned long)(uintptr_t)p;
	FILE *f = fopen("/proc/self/smaps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = lo <= at && at < hi;
		else if (in && strncmp(line, "VmFlags:", 8) == 0)
			dd = strstr(line, " dd") != NULL;
	}
	fclose(f);
	return dd;
}

/* Secret pages: zeroed, usable, marked do-not-dump. */
static void test_alloc_dontdump(void **state)
{
	unsigned char *p;

	(void)state;
	p = secmem_alloc(100);
	assert_non_null(p);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(p[i], 0);
	memset(p, 0xab, 100);
	assert_true(smaps_dontdump(p));
	secmem_free(p, 100);
	secmem_free(NULL, 100);
	assert_null(secmem_alloc(SIZE_MAX));
}

/* The process becomes non-dumpable. */
static void test_no_dumps(void **state)
{
	(void)state;
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
	assert_int_equal(secmem_no_dumps(), 0);
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_dontdump),
		cmocka_unit_test(test_no_dumps),
	};
	return cmocka_run_group_tests_name("secmem", tests, NULL, NULL);
}
