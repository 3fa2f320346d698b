/*
 * uri.h - NIP-46 connection URIs:
 *   bunker://<signer-pubkey>?relay=wss://...&relay=...&secret=...
 *   nostrconnect://<client-pubkey>?relay=...&secret=...&perms=...&name=...&url=...&image=...
 *
 * Parsing percent-decodes every value, requires a 64-hex lower-case
 * pubkey on the curve, at least one relay, relays starting with ws:// or
 * wss://, no control characters, nostrconnect requires a secret; unknown
 * parameters are ignored. Formatting percent-encodes every value.
 * Return convention: 0, or -1 with a message in err[errlen] (may be NULL).
 */
#ifndef KC_NOSTR_URI_H
#define KC_NOSTR_URI_H

#include <stddef.h>

#include "core/secret.h"
#include "nostr/keys.h"

/* At most this many relay= parameters. */
#define NOSTR_URI_MAX_RELAYS 16

/* The scheme of a URI. */
enum nostr_uri_kind {
	NOSTR_URI_BUNKER,	/* bunker://, the signer's pubkey */
	NOSTR_URI_NOSTRCONNECT, /* nostrconnect://, the client's pubkey */
};

/*
 * A parsed URI; strings are malloc'd and owned (NULL when absent). The
 * connect secret is a struct secret (core/secret.h): the logger redacts it,
 * it is wiped when cleared, and an empty secret= counts as absent.
 */
struct nostr_uri {
	enum nostr_uri_kind kind;
	struct nostr_pubkey pubkey;
	char *relays[NOSTR_URI_MAX_RELAYS];
	size_t nrelays;
	struct secret secret; /* the connect token; unset when absent */
	char *perms;	      /* nostrconnect: comma-separated permissions */
	char *name;	      /* nostrconnect: client name */
	char *url;	      /* nostrconnect: client URL */
	char *image;	      /* nostrconnect: client image URL */
};

/* Parse s into out (initialised by the call; empty on -1). */
int nostr_uri_parse(struct nostr_uri *out, const char *s, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * Format u into *out (malloc'd; it holds the secret, so the caller wipes and
 * frees it: wipe_free_str). No other copy is left behind. 0 or -1 (invalid
 * field or no memory).
 */
int nostr_uri_format(char **out, const struct nostr_uri *u, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Whether s is an acceptable relay URL (ws:// or wss:// and a host): 1 or 0. */
int nostr_uri_relay_valid(const char *s);

/* Free what u owns; u is empty afterwards. */
void nostr_uri_clear(struct nostr_uri *u);

#endif /* KC_NOSTR_URI_H */
