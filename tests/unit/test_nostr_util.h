/*
 * test_nostr_util.h - shared helpers of the nostr core's unit tests:
 * locate and read the vector files, decode hex in assertions.
 *
 * Vectors live in $KC_VECTORS_DIR if set, else $KC_SRCDIR/tests/vectors
 * (KC_SRCDIR from the environment, else the compile-time source dir).
 */
#ifndef KC_TEST_NOSTR_UTIL_H
#define KC_TEST_NOSTR_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nostr/hex.h"

/* Read a vector file into a malloc'd NUL-terminated buffer (length in *len); NULL if missing. */
static inline char *tn_read_vector(const char *name, size_t *len)
{
	const char *dir = getenv("KC_VECTORS_DIR"), *src = getenv("KC_SRCDIR");
	char path[4096];
	char *buf = NULL;
	long n;
	FILE *f;

	if (dir != NULL)
		n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	else
		n = snprintf(path, sizeof(path), "%s/tests/vectors/%s", src ? src : KC_SRCDIR,
			     name);
	if (n < 0 || (size_t)n >= sizeof(path) || (f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n) {
		buf[n] = '\0';
		*len = (size_t)n;
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Parse a vector JSON file with cJSON (structure and hex fields only). */
static inline cJSON *tn_read_json(const char *name)
{
	size_t len;
	char *text = tn_read_vector(name, &len);
	cJSON *j = text ? cJSON_ParseWithLength(text, len) : NULL;

	free(text);
	return j;
}

/* Decode hex (either case) of exactly n bytes from a cJSON string member; 0 or -1. */
static inline int tn_hex(uint8_t *out, size_t n, const cJSON *obj, const char *key)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsString(s))
		return -1;
	return hex_decode(out, n, s->valuestring, strlen(s->valuestring), HEX_ANY_CASE);
}

/* A cJSON string member, or "" if absent. */
static inline const char *tn_str(const cJSON *obj, const char *key)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(s) ? s->valuestring : "";
}

#endif /* KC_TEST_NOSTR_UTIL_H */
