/*
 * test_nostr_wipe.c - no heap copy of a secret or a plaintext goes back to
 * the allocator unwiped: the bunker URI formatter and parser, the JSON
 * output buffer, the JSON lexer's failure and skip paths, an event
 * template's strings, and the NIP-44 plaintext.
 *
 * The test is linked with --wrap=free and --wrap=realloc: while armed,
 * every block handed to free() or realloc() is scanned for a marker
 * string, and a block that still holds it counts as a leak. realloc() is
 * counted too, since it may free the old copy without wiping it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "core/secret.h"
#include "nostr/event.h"
#include "nostr/jstr.h"
#include "nostr/nip44.h"
#include "nostr/uri.h"
#include "nostr/wipe.h"

#define PK "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"

void __real_free(void *p);
void *__real_realloc(void *p, size_t n);
void __wrap_free(void *p);
void *__wrap_realloc(void *p, size_t n);

static const char *wt_marker; /* armed when not NULL */
static int wt_leaks;	      /* blocks freed or reallocated still holding the marker */

/* Whether the heap block p still holds the marker. */
static int wt_holds_marker(void *p)
{
	return p != NULL && memmem(p, malloc_usable_size(p), wt_marker, strlen(wt_marker)) != NULL;
}

/* free(), watched. */
void __wrap_free(void *p)
{
	if (wt_marker != NULL && wt_holds_marker(p))
		wt_leaks++;
	__real_free(p);
}

/* realloc(), watched: the old block may be freed as it is. */
void *__wrap_realloc(void *p, size_t n)
{
	if (wt_marker != NULL && wt_holds_marker(p))
		wt_leaks++;
	return __real_realloc(p, n);
}

/* Start watching for marker. */
static void wt_arm(const char *marker)
{
	wt_marker = marker;
	wt_leaks = 0;
}

/* Stop watching; the number of leaks seen. */
static int wt_disarm(void)
{
	wt_marker = NULL;
	return wt_leaks;
}

/* s filled with copies of marker (n bytes and a NUL). */
static void wt_fill(char *s, size_t n, const char *marker)
{
	size_t m = strlen(marker);

	for (size_t i = 0; i < n; i++)
		s[i] = marker[i % m];
	s[n] = '\0';
}

/* The watcher itself sees a plain free of a marked block. */
static void test_watcher_sees_plain_free(void **state)
{
	void (*volatile release)(void *) = free; /* opaque: the pair cannot be optimised out */
	char *p = malloc(64);

	(void)state;
	wt_fill(p, 63, "watchMarker");
	wt_arm("watchMarker");
	release(p);
	assert_int_equal(wt_disarm(), 1);
}

/* wipe_realloc keeps the contents and leaves no copy behind. */
static void test_wipe_realloc(void **state)
{
	char *p = malloc(32), *q;

	(void)state;
	wt_fill(p, 31, "growMarker");
	wt_arm("growMarker");
	q = wipe_realloc(p, 32, 4096);
	assert_non_null(q);
	assert_int_equal(wt_leaks, 0);
	assert_int_equal(memcmp(q, "growMarkergrowMarker", 20), 0);
	wipe_free(q, 4096);
	assert_int_equal(wt_disarm(), 0);
}

/* A bunker URI whose secret makes the output buffer grow several times. */
static void test_uri_format(void **state)
{
	char secret[2001], *out = NULL, err[128];
	struct nostr_uri u = {.kind = NOSTR_URI_BUNKER, .nrelays = 1};

	(void)state;
	wt_fill(secret, sizeof(secret) - 1, "uriSecretMarker");
	assert_int_equal(nostr_pubkey_from_hex(&u.pubkey, PK, 64), 0);
	u.relays[0] = strdup("wss://relay.example.com");
	assert_int_equal(secret_set(&u.secret, secret, sizeof(secret) - 1), 0);
	wt_arm("uriSecretMarker");
	assert_int_equal(nostr_uri_format(&out, &u, err, sizeof(err)), 0);
	assert_non_null(strstr(out, secret));
	wipe_free_str(out);
	nostr_uri_clear(&u);
	assert_int_equal(wt_disarm(), 0);
}

/* Parsing a URI: the decoded secret buffer and the secret itself are wiped, on success and on a
 * duplicate. */
static void test_uri_parse(void **state)
{
	char s[400], err[128];
	struct nostr_uri u;
	int n;

	(void)state;
	n = snprintf(s, sizeof(s), "bunker://%s?relay=wss://relay.example.com&secret=", PK);
	wt_fill(s + n, 200, "uriParseMarker");
	wt_arm("uriParseMarker");
	assert_int_equal(nostr_uri_parse(&u, s, err, sizeof(err)), 0);
	assert_int_equal(secret_len(&u.secret), 200);
	nostr_uri_clear(&u);
	assert_true(strlen(s) + 10 < sizeof(s));
	memcpy(s + strlen(s), "&secret=x", 10);
	assert_int_equal(nostr_uri_parse(&u, s, err, sizeof(err)), -1); /* given twice */
	assert_int_equal(wt_disarm(), 0);
}

/* The JSON output buffer: growth and free wipe, on success and on failure. */
static void test_jstr_buf(void **state)
{
	struct jstr_buf b = {0};
	char chunk[101], *out;
	size_t len;

	(void)state;
	wt_fill(chunk, sizeof(chunk) - 1, "bufMarker");
	wt_arm("bufMarker");
	for (int i = 0; i < 40; i++)
		jstr_buf_string(&b, chunk, sizeof(chunk) - 1);
	jstr_buf_free(&b);
	for (int i = 0; i < 40; i++)
		jstr_buf_put(&b, chunk, sizeof(chunk) - 1);
	assert_int_equal(jstr_buf_finish(&b, &out, &len), 0);
	assert_int_equal(len, 40 * (sizeof(chunk) - 1));
	wipe_free(out, len + 1);
	assert_int_equal(wt_disarm(), 0);
}

/* Decrypted request content through the lexer: failures and skipped values are wiped. */
static void test_json_lexer(void **state)
{
	char json[700], *s = NULL;
	const char *el;
	size_t n, elen;

	(void)state;
	json[0] = '[';
	json[1] = '"';
	wt_fill(json + 2, 600, "lexMarker");
	memcpy(json + 602, "\",\"x\"]", 7);
	wt_arm("lexMarker");
	assert_int_equal(nostr_json_array_element(&el, &elen, json, strlen(json), 1), 0);
	assert_int_equal(elen, 3);
	assert_int_equal(nostr_json_string(&s, &n, json + 1, 603, 10), -1); /* too long */
	assert_null(s);
	memcpy(json, "{\"", 2);
	memcpy(json + 602, "\":1,\"k\":2}", 11);
	assert_int_equal(nostr_json_object_member(&el, &elen, json, strlen(json), "k"), 0);
	assert_int_equal(elen, 1);
	assert_int_equal(wt_disarm(), 0);
}

/* A sign_event template from decrypted content: parse, serialize, id and clear leave no copy. */
static void test_event_template(void **state)
{
	char json[800], *out;
	struct nostr_event ev;
	uint8_t id[32];
	size_t n, len;

	(void)state;
	n = (size_t)snprintf(json, sizeof(json),
			     "{\"kind\":1,\"created_at\":1,\"tags\":[[\"t\",\"");
	wt_fill(json + n, 300, "evMarker");
	memcpy(json + n + 300, "\"]],\"content\":\"", 15);
	wt_fill(json + n + 315, 300, "evMarker");
	memcpy(json + n + 615, "\"}", 3);
	wt_arm("evMarker");
	assert_int_equal(
		nostr_event_parse(&ev, json, strlen(json), NOSTR_EVENT_TEMPLATE, NULL, NULL, 0), 0);
	assert_int_equal(ev.content.len, 300);
	assert_int_equal(nostr_pubkey_from_hex(&ev.pubkey, PK, 64), 0); /* as the signer sets it */
	ev.has_pubkey = 1;
	assert_int_equal(nostr_event_compute_id(id, &ev), 0);
	assert_int_equal(nostr_event_serialize(&out, &len, &ev), 0);
	wipe_free(out, len + 1);
	nostr_event_clear(&ev);
	assert_int_equal(wt_leaks, 0);
	assert_int_equal(nostr_event_set_content(&ev, json + n + 315, 300), 0);
	assert_int_equal(nostr_event_set_content(&ev, "x", 1), 0); /* the old content is wiped */
	nostr_event_clear(&ev);
	assert_int_equal(wt_disarm(), 0);
}

/* The NIP-44 plaintext buffer holds nothing of the plaintext past its NUL. */
static void test_nip44_tail(void **state)
{
	static const uint8_t nonce[32] = {1};
	struct nip44_key ck = {{7}};
	char pt[301], *payload;
	uint8_t *out;
	size_t plen, outlen, padded = (size_t)nip44_padded_len(300);

	(void)state;
	wt_fill(pt, 300, "nip44Marker");
	assert_int_equal(nip44_encrypt_nonce(&payload, &plen, &ck, (const uint8_t *)pt, 300, nonce),
			 NIP44_OK);
	wt_arm("nip44Marker");
	assert_int_equal(nip44_decrypt(&out, &outlen, &ck, payload, plen), NIP44_OK);
	assert_int_equal(outlen, 300);
	assert_memory_equal(out, pt, 300);
	for (size_t i = 300; i < padded + 2; i++) /* the buffer is prefix + padded + 1 bytes */
		assert_int_equal(out[i], 0);
	wipe_free(out, padded + 3);
	free(payload);
	assert_int_equal(wt_disarm(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watcher_sees_plain_free),
		cmocka_unit_test(test_wipe_realloc),
		cmocka_unit_test(test_uri_format),
		cmocka_unit_test(test_uri_parse),
		cmocka_unit_test(test_jstr_buf),
		cmocka_unit_test(test_json_lexer),
		cmocka_unit_test(test_event_template),
		cmocka_unit_test(test_nip44_tail),
	};
	return cmocka_run_group_tests_name("nostr_wipe", tests, NULL, NULL);
}
