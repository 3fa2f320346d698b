/*
 * secret.h - secret strings: connect secrets, passwords, credential URLs.
 *
 * A struct secret holds text that must never reach a log line: a NIP-46
 * connect secret, a database URL carrying a password. It is a struct, so
 * log_str() (which takes a const char *) refuses it at compile time, and
 * log_secret() accepts it only to print "[redacted]". Reading the text is
 * explicit (secret_reveal), comparing is constant-time (secret_equal), and
 * the memory is wiped with OPENSSL_cleanse when it is released. Key
 * material has its own struct types in nostr/keys.h, refused the same way.
 *
 * A zero-initialised struct secret is valid and unset.
 */
#ifndef KC_SECRET_H
#define KC_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/* A secret string; touch it only through the functions below. */
struct secret {
	char *text_; /* owned, NUL-terminated, wiped on release; NULL if unset */
	size_t len_; /* bytes before the NUL */
};

/* Replace s with a copy of text[0..len) (the old text is wiped). 0, or -1 on ENOMEM. */
int secret_set(struct secret *s, const char *text, size_t len) __attribute__((warn_unused_result));

/* The text, for the one place that must use it (never a log); "" if unset. */
const char *secret_reveal(const struct secret *s);

/* The length of the text; 0 if unset. */
size_t secret_len(const struct secret *s);

/* Whether s holds a non-empty text. */
bool secret_is_set(const struct secret *s);

/* Whether s equals text[0..len), in time independent of the contents. */
bool secret_equal(const struct secret *s, const char *text, size_t len);

/* Wipe and free the text; s is unset afterwards. Safe on an unset secret. */
void secret_wipe(struct secret *s);

#endif /* KC_SECRET_H */
