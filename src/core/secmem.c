/*
 * secmem.c - non-dumpable process and dump-excluded secret pages, behind
 * secmem.h.
 */
#include "core/secmem.h"

#include <openssl/crypto.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

static size_t secmem_span(size_t n);

/* Make the process non-dumpable. */
int secmem_no_dumps(void)
{
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0 : -1;
}

/* n rounded up to whole pages (at least one). */
static size_t secmem_span(size_t n)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t ps = page > 0 ? (size_t)page : 4096;

	return n == 0 ? ps : (n + ps - 1) / ps * ps;
}

/* Whole pages of their own, excluded from dumps, locked when allowed. */
void *secmem_alloc(size_t n)
{
	size_t span = secmem_span(n);
	void *p;

	if (n > SIZE_MAX / 2)
		return NULL;
	p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (madvise(p, span, MADV_DONTDUMP) != 0) {
		munmap(p, span);
		return NULL;
	}
	(void)mlock(p, span); /* best effort: RLIMIT_MEMLOCK may forbid it */
	return p;
}

/* Wipe, unlock and unmap. */
void secmem_free(void *p, size_t n)
{
	size_t span = secmem_span(n);

	if (p == NULL)
		return;
	OPENSSL_cleanse(p, span);
	(void)munlock(p, span);
	munmap(p, span);
}
