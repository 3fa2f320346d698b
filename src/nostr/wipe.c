/*
 * wipe.c - free and grow buffers that may hold secrets, wiping every copy
 * with OPENSSL_cleanse before it goes back to the allocator. See wipe.h.
 */
#include "nostr/wipe.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* Wipe n bytes, then free. */
void wipe_free(void *p, size_t n)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, n);
	free(p);
}

/* Wipe a string up to its NUL, then free. */
void wipe_free_str(char *s)
{
	if (s == NULL)
		return;
	wipe_free(s, strlen(s));
}

/* Allocate, copy, wipe and free the old copy. */
void *wipe_realloc(void *p, size_t oldsize, size_t newsize)
{
	void *q = malloc(newsize ? newsize : 1);

	if (q == NULL)
		return NULL;
	if (p != NULL)
		memcpy(q, p, oldsize < newsize ? oldsize : newsize);
	wipe_free(p, oldsize);
	return q;
}
