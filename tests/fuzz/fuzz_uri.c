/*
 * fuzz_uri.c - the bunker:// and nostrconnect:// URI parser on arbitrary
 * text: a rejection carries a message and leaves nothing behind, and an
 * accepted URI formats to a URI that parses and formats back the same.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "nostr/uri.h"
#include "nostr/wipe.h"

/* Longest input tried (URIs are short; the parser needs a C string). */
#define FZ_URI_MAX 8192

/* Abort unless u formats, parses back and formats to the same text. */
static void fz_round_trip(const struct nostr_uri *u)
{
	struct nostr_uri back;
	char *s1 = NULL, *s2 = NULL, err[256];

	if (nostr_uri_format(&s1, u, err, sizeof(err)) != 0)
		abort();
	if (nostr_uri_parse(&back, s1, err, sizeof(err)) != 0)
		abort(); /* what we print we must read */
	if (nostr_uri_format(&s2, &back, err, sizeof(err)) != 0 || strcmp(s1, s2) != 0)
		abort();
	wipe_free_str(s1);
	wipe_free_str(s2);
	nostr_uri_clear(&back);
}

/* Parse data (made a C string) as a URI. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nostr_uri u;
	char err[256] = "";
	char *s;

	if (size > FZ_URI_MAX || (s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (nostr_uri_parse(&u, s, err, sizeof(err)) == 0) {
		fz_round_trip(&u);
		nostr_uri_clear(&u);
	} else if (err[0] == '\0' || u.nrelays != 0 || u.perms != NULL) {
		abort();
	}
	free(s);
	return 0;
}
