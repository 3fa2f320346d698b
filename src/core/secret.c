/*
 * secret.c - secret strings behind secret.h, wiped with OPENSSL_cleanse.
 */
#include "core/secret.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* Replace s with a copy of text[0..len). 0, or -1 on ENOMEM (s unchanged). */
int secret_set(struct secret *s, const char *text, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy == NULL)
		return -1;
	if (len > 0)
		memcpy(copy, text, len);
	copy[len] = '\0';
	secret_wipe(s);
	s->text_ = copy;
	s->len_ = len;
	return 0;
}

/* The text, for the one place that must use it; "" if unset. */
const char *secret_reveal(const struct secret *s)
{
	return s->text_ != NULL ? s->text_ : "";
}

/* The length of the text; 0 if unset. */
size_t secret_len(const struct secret *s)
{
	return s->text_ != NULL ? s->len_ : 0;
}

/* Whether s holds a non-empty text. */
bool secret_is_set(const struct secret *s)
{
	return secret_len(s) > 0;
}

/* Whether s equals text[0..len); only the length can show in the timing. */
bool secret_equal(const struct secret *s, const char *text, size_t len)
{
	if (s->text_ == NULL || s->len_ != len)
		return false;
	return CRYPTO_memcmp(s->text_, text, len) == 0;
}

/* Wipe and free the text; s is unset afterwards. */
void secret_wipe(struct secret *s)
{
	if (s->text_ != NULL) {
		OPENSSL_cleanse(s->text_, s->len_);
		free(s->text_);
	}
	s->text_ = NULL;
	s->len_ = 0;
}
