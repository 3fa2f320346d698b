/*
 * event.c - Nostr events (NIP-01): building, canonical serialization,
 * ids, BIP-340 signing and verification. Parsing is in event_parse.c.
 */
#include "nostr/event.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <secp256k1_schnorrsig.h>

#include "nostr/hex.h"
#include "nostr/jstr.h"
#include "nostr/wipe.h"

static void event_err(char *err, size_t errlen, const char *msg);
static int event_str_set(struct nostr_str *dst, const char *s, size_t len);
static void event_put_tags(struct jstr_buf *b, const struct nostr_event *ev);
static void event_put_hex(struct jstr_buf *b, const uint8_t *in, size_t n);

/* Write msg into err (if any). */
static void event_err(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

/* Set dst to a NUL-terminated copy of s[0..len); 0 or -1. */
static int event_str_set(struct nostr_str *dst, const char *s, size_t len)
{
	char *p = malloc(len + 1);

	if (p == NULL)
		return -1;
	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	wipe_free(dst->s, dst->len);
	dst->s = p;
	dst->len = len;
	return 0;
}

/* An empty event. */
void nostr_event_init(struct nostr_event *ev)
{
	memset(ev, 0, sizeof(*ev));
}

/* Wipe and free what the event owns (an unsigned template may be a request's plaintext). */
void nostr_event_clear(struct nostr_event *ev)
{
	for (size_t i = 0; i < ev->ntags; i++) {
		for (size_t j = 0; j < ev->tags[i].n; j++)
			wipe_free(ev->tags[i].items[j].s, ev->tags[i].items[j].len);
		free(ev->tags[i].items);
	}
	free(ev->tags);
	wipe_free(ev->content.s, ev->content.len);
	nostr_event_init(ev);
}

/* Replace the content. */
int nostr_event_set_content(struct nostr_event *ev, const char *s, size_t len)
{
	return event_str_set(&ev->content, s, len);
}

/* Append a tag of C strings. */
int nostr_event_add_tag(struct nostr_event *ev, const char *const *items, size_t n)
{
	struct nostr_tag *tags = realloc(ev->tags, (ev->ntags + 1) * sizeof(*tags));
	struct nostr_tag *t;

	if (tags == NULL)
		return -1;
	ev->tags = tags;
	t = &tags[ev->ntags];
	*t = (struct nostr_tag){.items = calloc(n ? n : 1, sizeof(*t->items))};
	if (t->items == NULL)
		return -1;
	ev->ntags++;
	for (; t->n < n; t->n++)
		if (event_str_set(&t->items[t->n], items[t->n], strlen(items[t->n])) != 0)
			return -1;
	return 0;
}

/* The first tag named name. */
const struct nostr_tag *nostr_event_find_tag(const struct nostr_event *ev, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < ev->ntags; i++) {
		const struct nostr_tag *t = &ev->tags[i];

		if (t->n > 0 && t->items[0].len == len && memcmp(t->items[0].s, name, len) == 0)
			return t;
	}
	return NULL;
}

/* Append n bytes as a quoted lower-case hex string. */
static void event_put_hex(struct jstr_buf *b, const uint8_t *in, size_t n)
{
	char hex[129];

	hex_encode(hex, in, n);
	jstr_buf_put(b, "\"", 1);
	jstr_buf_put(b, hex, 2 * n);
	jstr_buf_put(b, "\"", 1);
}

/* Append the tags array. */
static void event_put_tags(struct jstr_buf *b, const struct nostr_event *ev)
{
	jstr_buf_put(b, "[", 1);
	for (size_t i = 0; i < ev->ntags; i++) {
		jstr_buf_put(b, i ? ",[" : "[", i ? 2 : 1);
		for (size_t j = 0; j < ev->tags[i].n; j++) {
			if (j > 0)
				jstr_buf_put(b, ",", 1);
			jstr_buf_string(b, ev->tags[i].items[j].s, ev->tags[i].items[j].len);
		}
		jstr_buf_put(b, "]", 1);
	}
	jstr_buf_put(b, "]", 1);
}

/* The canonical serialization. */
int nostr_event_serialize(char **out, size_t *outlen, const struct nostr_event *ev)
{
	struct jstr_buf b = {0};

	if (!ev->has_pubkey || !ev->has_created_at)
		return -1;
	jstr_buf_put(&b, "[0,", 3);
	event_put_hex(&b, ev->pubkey.b, 32);
	jstr_buf_put(&b, ",", 1);
	jstr_buf_int(&b, ev->created_at);
	jstr_buf_put(&b, ",", 1);
	jstr_buf_int(&b, ev->kind);
	jstr_buf_put(&b, ",", 1);
	event_put_tags(&b, ev);
	jstr_buf_put(&b, ",", 1);
	jstr_buf_string(&b, ev->content.s ? ev->content.s : "", ev->content.len);
	jstr_buf_put(&b, "]", 1);
	return jstr_buf_finish(&b, out, outlen);
}

/* SHA-256 of the canonical serialization. */
int nostr_event_compute_id(uint8_t id[32], const struct nostr_event *ev)
{
	char *s;
	size_t len;

	if (nostr_event_serialize(&s, &len, ev) != 0)
		return -1;
	SHA256((const unsigned char *)s, len, id);
	wipe_free(s, len);
	return 0;
}

/* The full event JSON. */
int nostr_event_to_json(char **out, size_t *outlen, const struct nostr_event *ev)
{
	struct jstr_buf b = {0};

	if (!ev->has_id || !ev->has_pubkey || !ev->has_created_at || !ev->has_sig)
		return -1;
	jstr_buf_puts(&b, "{\"id\":");
	event_put_hex(&b, ev->id, 32);
	jstr_buf_puts(&b, ",\"pubkey\":");
	event_put_hex(&b, ev->pubkey.b, 32);
	jstr_buf_puts(&b, ",\"created_at\":");
	jstr_buf_int(&b, ev->created_at);
	jstr_buf_puts(&b, ",\"kind\":");
	jstr_buf_int(&b, ev->kind);
	jstr_buf_puts(&b, ",\"tags\":");
	event_put_tags(&b, ev);
	jstr_buf_puts(&b, ",\"content\":");
	jstr_buf_string(&b, ev->content.s ? ev->content.s : "", ev->content.len);
	jstr_buf_puts(&b, ",\"sig\":");
	event_put_hex(&b, ev->sig, 64);
	jstr_buf_puts(&b, "}");
	return jstr_buf_finish(&b, out, outlen);
}

/* Sign with fresh aux randomness from the OS CSPRNG. */
int nostr_event_sign(struct nostr_event *ev, const struct nostr_keypair *kp, char *err,
		     size_t errlen)
{
	uint8_t aux[32];
	int rc;

	if (nostr_random(aux, sizeof(aux)) != 0) {
		event_err(err, errlen, "event sign: the OS random generator failed");
		return -1;
	}
	rc = nostr_event_sign_aux(ev, kp, aux, err, errlen);
	OPENSSL_cleanse(aux, sizeof(aux));
	return rc;
}

/* Sign with the given aux_rand. */
int nostr_event_sign_aux(struct nostr_event *ev, const struct nostr_keypair *kp,
			 const uint8_t aux[32], char *err, size_t errlen)
{
	ev->has_id = ev->has_sig = 0;
	if (!ev->has_created_at) {
		event_err(err, errlen, "event sign: created_at is not set");
		return -1;
	}
	ev->pubkey = kp->pub;
	ev->has_pubkey = 1;
	if (nostr_event_compute_id(ev->id, ev) != 0) {
		event_err(err, errlen, "event sign: out of memory");
		return -1;
	}
	if (!secp256k1_schnorrsig_sign32(nostr_secp(), ev->sig, ev->id, &kp->kp, aux)) {
		event_err(err, errlen, "event sign: BIP-340 signing failed");
		return -1;
	}
	ev->has_id = ev->has_sig = 1;
	return 0;
}

/* Verify id and signature. */
int nostr_event_verify(const struct nostr_event *ev, char *err, size_t errlen)
{
	if (nostr_event_check_id(ev, err, errlen) != 0)
		return -1;
	return nostr_sig_verify(ev->id, &ev->pubkey, ev->sig, err, errlen);
}

/* All fields present and the id the hash of the content. */
int nostr_event_check_id(const struct nostr_event *ev, char *err, size_t errlen)
{
	uint8_t id[32];

	if (!ev->has_id || !ev->has_pubkey || !ev->has_sig || !ev->has_created_at) {
		event_err(err, errlen, "event verify: id, pubkey, created_at or sig missing");
		return -1;
	}
	if (nostr_event_compute_id(id, ev) != 0) {
		event_err(err, errlen, "event verify: out of memory");
		return -1;
	}
	if (CRYPTO_memcmp(id, ev->id, 32) != 0) {
		event_err(err, errlen, "event verify: id does not match the content");
		return -1;
	}
	return 0;
}

/* The BIP-340 signature sig of id by pubkey. */
int nostr_sig_verify(const uint8_t id[32], const struct nostr_pubkey *pubkey, const uint8_t sig[64],
		     char *err, size_t errlen)
{
	secp256k1_xonly_pubkey pk;

	if (!secp256k1_xonly_pubkey_parse(nostr_secp(), &pk, pubkey->b) ||
	    !secp256k1_schnorrsig_verify(nostr_secp(), sig, id, 32, &pk)) {
		event_err(err, errlen, "event verify: bad signature");
		return -1;
	}
	return 0;
}
