/*
 * wipe.h - releasing and growing heap buffers that may hold secrets or
 * plaintexts (connect secrets, decrypted NIP-46 content, NIP-44/NIP-04
 * plaintexts).
 *
 * realloc() may move a buffer and free the old copy without clearing it,
 * so every buffer of the nostr layer that can carry such bytes grows
 * through wipe_realloc() (allocate, copy, wipe, free) and is released
 * through wipe_free() (OPENSSL_cleanse, then free).
 */
#ifndef KC_NOSTR_WIPE_H
#define KC_NOSTR_WIPE_H

#include <stddef.h>

/* Wipe the n bytes at p and free it; NULL is ignored. Takes ownership of p. */
void wipe_free(void *p, size_t n);

/* Wipe a NUL-terminated string (up to its NUL) and free it; NULL is ignored. */
void wipe_free_str(char *s);

/*
 * Move the oldsize bytes at p (NULL when oldsize is 0) into a fresh
 * allocation of newsize bytes (its first min(oldsize, newsize) bytes
 * copied), then wipe and free p. Returns the new buffer, or NULL on
 * ENOMEM with p left untouched (still owned by the caller).
 */
void *wipe_realloc(void *p, size_t oldsize, size_t newsize) __attribute__((warn_unused_result));

#endif /* KC_NOSTR_WIPE_H */
