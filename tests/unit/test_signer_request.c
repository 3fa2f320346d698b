/*
 * test_signer_request.c - the pure steps around a NIP-46 request: scheme
 * detection, decrypt/encrypt round trips under both schemes (and against
 * the NIP-44 vectors' conversation keys), request parsing with every
 * refusal and its message, the reply JSON byte for byte, and the signed
 * reply event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "nostr/nip04.h"
#include "nostr/nip44.h"
#include "nostr/wipe.h"
#include "signer/signer_request.h"
#include "test_nostr_util.h"

/* A request parse case: input and the expected outcome (and message for BAD). */
struct tr_case {
	const char *json;
	enum signer_parse want;
	const char *msg;
};

/* Parse json (NUL-terminated) into *r; the outcome. */
static enum signer_parse tr_parse(struct signer_request *r, const char *json, char *err,
				  size_t errlen)
{
	return signer_request_parse(r, json, strlen(json), err, errlen);
}

/* NIP-04 shaped content is NIP-04, everything else NIP-44. */
static void test_scheme(void **state)
{
	static const char *const nip04[] = {
		"wjXeJNI54DzI43fGBPymew==?iv=AAAAAAAAAAAAAAAAAAAAAA==",
		"abc+/=?iv=AAAAAAAAAAAAAAAAAAAAAA==",
		"a?iv=b",
	};
	static const char *const nip44[] = {
		"",
		"?iv=AAAAAAAAAAAAAAAAAAAAAA==",
		"abc?iv=",
		"abc?iv",
		"ab c?iv=AAAAAAAAAAAAAAAAAAAAAA==",
		"abc?iv=AAAA AAAA",
		"abc?iv=AAAA?iv=AAAA",
		"AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	};
	const char nul[] = "abc?iv=AA\0A";

	(void)state;
	for (size_t i = 0; i < sizeof(nip04) / sizeof(nip04[0]); i++)
		if (signer_scheme_of(nip04[i], strlen(nip04[i])) != SIGNER_NIP04)
			fail_msg("not seen as NIP-04: %s", nip04[i]);
	for (size_t i = 0; i < sizeof(nip44) / sizeof(nip44[0]); i++)
		if (signer_scheme_of(nip44[i], strlen(nip44[i])) != SIGNER_NIP44)
			fail_msg("not seen as NIP-44: %s", nip44[i]);
	assert_int_equal(signer_scheme_of(nul, sizeof(nul) - 1), SIGNER_NIP44);
	assert_int_equal(signer_scheme_of(nul, 9), SIGNER_NIP04);
	assert_string_equal(signer_scheme_name(SIGNER_NIP44), "nip44");
	assert_string_equal(signer_scheme_name(SIGNER_NIP04), "nip04");
}

/* Encrypt from a to b's pubkey, check the scheme, decrypt as b from a's pubkey. */
static void tr_round_trip(enum signer_scheme s, const struct nostr_keypair *a,
			  const struct nostr_keypair *b, struct nip44_cache *cache)
{
	static const uint8_t pt[] = "{\"id\":\"1\",\"method\":\"ping\"}\0tail";
	char *ct, err[128];
	uint8_t *back;
	size_t clen, blen;

	assert_int_equal(
		signer_encrypt(&ct, &clen, s, a, &b->pub, pt, sizeof(pt), cache, err, sizeof(err)),
		0);
	assert_int_equal(signer_scheme_of(ct, clen), s);
	assert_int_equal(
		signer_decrypt(&back, &blen, s, b, &a->pub, ct, clen, cache, err, sizeof(err)), 0);
	assert_int_equal(blen, sizeof(pt));
	assert_memory_equal(back, pt, sizeof(pt));
	wipe_free(back, blen);
	/* a third key cannot read it */
	assert_int_equal(
		signer_decrypt(&back, &blen, s, a, &a->pub, ct, clen, NULL, err, sizeof(err)), -1);
	assert_null(back);
	assert_true(strncmp(err, signer_scheme_name(s), 5) == 0);
	free(ct);
}

/* Round trips both ways under both schemes, with and without a cache. */
static void test_crypt_round_trip(void **state)
{
	struct nostr_keypair bunker, client;
	struct nip44_cache *cache;
	uint64_t hits, misses;

	(void)state;
	assert_int_equal(nostr_keypair_generate(&bunker), 0);
	assert_int_equal(nostr_keypair_generate(&client), 0);
	assert_int_equal(nip44_cache_new(&cache, 16), 0);
	for (int s = SIGNER_NIP44; s <= SIGNER_NIP04; s++) {
		tr_round_trip((enum signer_scheme)s, &client, &bunker, NULL);
		tr_round_trip((enum signer_scheme)s, &bunker, &client, NULL);
		tr_round_trip((enum signer_scheme)s, &client, &bunker, cache);
		tr_round_trip((enum signer_scheme)s, &client, &bunker, cache);
	}
	nip44_cache_stats(cache, &hits, &misses);
	assert_int_equal(misses, 2); /* NIP-44 only: client->bunker, bunker->client */
	assert_int_equal(hits, 2);
	nip44_cache_free(&cache);
	nostr_keypair_wipe(&bunker);
	nostr_keypair_wipe(&client);
}

/* What is encrypted to the peer decrypts under the vector's conversation key, and back. */
static void tr_vector(const cJSON *v, struct nip44_cache *cache)
{
	struct nostr_seckey sk;
	struct nostr_keypair kp;
	struct nostr_pubkey peer;
	struct nip44_key ck;
	const uint8_t pt[] = "vector plaintext";
	char *ct, err[128];
	uint8_t *back;
	size_t clen, blen;

	assert_int_equal(tn_hex(sk.b, 32, v, "sec1"), 0);
	assert_int_equal(tn_hex(peer.b, 32, v, "pub2"), 0);
	assert_int_equal(tn_hex(ck.b, 32, v, "conversation_key"), 0);
	assert_int_equal(nostr_keypair_from_seckey(&kp, &sk), 0);
	assert_int_equal(signer_encrypt(&ct, &clen, SIGNER_NIP44, &kp, &peer, pt, sizeof(pt), cache,
					err, sizeof(err)),
			 0);
	assert_int_equal(nip44_decrypt(&back, &blen, &ck, ct, clen), NIP44_OK);
	assert_int_equal(blen, sizeof(pt));
	assert_memory_equal(back, pt, sizeof(pt));
	wipe_free(back, blen);
	free(ct);
	assert_int_equal(nip44_encrypt(&ct, &clen, &ck, pt, sizeof(pt)), NIP44_OK);
	assert_int_equal(signer_decrypt(&back, &blen, SIGNER_NIP44, &kp, &peer, ct, clen, cache,
					err, sizeof(err)),
			 0);
	assert_memory_equal(back, pt, sizeof(pt));
	wipe_free(back, blen);
	free(ct);
	nostr_seckey_wipe(&sk);
	nostr_keypair_wipe(&kp);
}

/* The NIP-44 vectors' conversation keys, reached through signer_encrypt/decrypt. */
static void test_crypt_vectors(void **state)
{
	cJSON *j = tn_read_json("nip44.vectors.json");
	const cJSON *list, *v;
	struct nip44_cache *cache;
	size_t n = 0;

	(void)state;
	assert_non_null(j);
	list = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "v2"),
						 "valid"),
		"get_conversation_key");
	assert_true(cJSON_IsArray(list));
	assert_int_equal(nip44_cache_new(&cache, 4), 0);
	cJSON_ArrayForEach(v, list)
	{
		tr_vector(v, n % 2 ? cache : NULL);
		n++;
	}
	assert_true(n >= 10);
	print_message("%zu conversation-key vectors checked\n", n);
	nip44_cache_free(&cache);
	cJSON_Delete(j);
}

/* A full request: id, method, string params (one with a NUL), raw non-string params. */
static void test_parse_ok(void **state)
{
	static const char json[] =
		" {\"method\":\"sign_event\",\"x\":[1,{\"y\":null}],\"id\":\"req-1\",\"params\":"
		"[\"a\\u0000b\", {\"kind\":1, \"content\":\"\"}, 12.5e3, null, [\"q\"], true, "
		"\"\"]} ";
	struct signer_request r;
	char err[128];

	(void)state;
	assert_int_equal(tr_parse(&r, json, err, sizeof(err)), SIGNER_PARSE_OK);
	assert_true(r.has_id);
	assert_string_equal(r.id, "req-1");
	assert_true(r.method_known);
	assert_int_equal(r.method, SIGNER_SIGN_EVENT);
	assert_string_equal(r.method_name, "sign_event");
	assert_int_equal(r.nparams, 7);
	assert_int_equal(r.params[0].len, 3);
	assert_memory_equal(r.params[0].s, "a\0b", 4);
	assert_string_equal(r.params[1].s, "{\"kind\":1, \"content\":\"\"}");
	assert_int_equal(r.params[1].len, strlen(r.params[1].s));
	assert_string_equal(r.params[2].s, "12.5e3");
	assert_string_equal(r.params[3].s, "null");
	assert_string_equal(r.params[4].s, "[\"q\"]");
	assert_string_equal(r.params[5].s, "true");
	assert_int_equal(r.params[6].len, 0);
	assert_string_equal(r.params[6].s, "");
	signer_request_clear(&r);
	assert_int_equal(r.nparams, 0);
	signer_request_clear(&r); /* twice is harmless */
}

/* params absent or empty: zero params; the longest id; each known method. */
static void test_parse_edges(void **state)
{
	static const char *const methods[] = {
		"connect",	 "get_public_key", "sign_event",    "ping",
		"nip44_encrypt", "nip44_decrypt",  "nip04_encrypt", "nip04_decrypt",
		"switch_relays", "logout",
	};
	struct signer_request r;
	char json[512], err[128], id[SIGNER_ID_MAX + 1];

	(void)state;
	assert_int_equal(tr_parse(&r, "{\"id\":\"a\",\"method\":\"ping\"}", err, sizeof(err)),
			 SIGNER_PARSE_OK);
	assert_int_equal(r.nparams, 0);
	signer_request_clear(&r);
	assert_int_equal(
		tr_parse(&r, "{\"id\":\"a\",\"method\":\"ping\",\"params\":[ ]}", err, sizeof(err)),
		SIGNER_PARSE_OK);
	assert_int_equal(r.nparams, 0);
	signer_request_clear(&r);
	memset(id, 'i', SIGNER_ID_MAX);
	id[SIGNER_ID_MAX] = '\0';
	snprintf(json, sizeof(json),
		 "{\"id\":\"%s\",\"method\":\"ping\",\"params\":[1,2,3,4,5,6,7,8]}", id);
	assert_int_equal(tr_parse(&r, json, err, sizeof(err)), SIGNER_PARSE_OK);
	assert_string_equal(r.id, id);
	assert_int_equal(r.nparams, SIGNER_PARAMS_MAX);
	signer_request_clear(&r);
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		snprintf(json, sizeof(json), "{\"id\":\"\\u00e9\",\"method\":\"%s\"}", methods[i]);
		assert_int_equal(tr_parse(&r, json, err, sizeof(err)), SIGNER_PARSE_OK);
		assert_int_equal(r.method, (enum signer_method)i);
		assert_string_equal(r.id, "\xc3\xa9");
		signer_request_clear(&r);
	}
}

/* Inputs without a usable id: NO_ID, nothing owned. */
static void test_parse_no_id(void **state)
{
	static const char *const cases[] = {
		"",
		"not json",
		"[\"id\",\"x\"]",
		"\"x\"",
		"{}",
		"{\"method\":\"ping\"}",
		"{\"id\":1,\"method\":\"ping\"}",
		"{\"id\":null,\"method\":\"ping\"}",
		"{\"id\":\"\",\"method\":\"ping\"}",
		"{\"id\":\"a\\u0001\",\"method\":\"ping\"}",
		"{\"id\":\"a\\nb\",\"method\":\"ping\"}",
		"{\"id\":\"a\\u007f\",\"method\":\"ping\"}",
		"{\"id\":\"a\\u0000\",\"method\":\"ping\"}",
		"{\"id\":\"a\",\"method\":\"ping\"",
		"{\"id\":\"a\",\"method\":\"ping\"} x",
		"{\"id\":\"a\",\"method\":\"ping\",}",
		"{\"id\":\"a\" \"method\":\"ping\"}",
		"{\"id\":\"\\ud800\",\"method\":\"ping\"}",
		"{\"id\":\"a\",\"params\":[01]}",
		"{\"id\":\"a\",\"params\":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]}",
	};
	static const char nul[] = "{\"id\":\"a\",\"method\":\"ping\"}\0";
	struct signer_request r;
	char err[128], json[512], id[SIGNER_ID_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (tr_parse(&r, cases[i], err, sizeof(err)) != SIGNER_PARSE_NO_ID)
			fail_msg("not NO_ID: %s", cases[i]);
		assert_false(r.has_id);
		assert_int_equal(r.nparams, 0);
		signer_request_clear(&r);
	}
	memset(id, 'i', SIGNER_ID_MAX + 1);
	id[SIGNER_ID_MAX + 1] = '\0';
	snprintf(json, sizeof(json), "{\"id\":\"%s\",\"method\":\"ping\"}", id);
	assert_int_equal(tr_parse(&r, json, err, sizeof(err)), SIGNER_PARSE_NO_ID);
	/* a NUL byte after the object */
	assert_int_equal(signer_request_parse(&r, nul, sizeof(nul) - 1, err, sizeof(err)),
			 SIGNER_PARSE_NO_ID);
	print_message("%zu inputs without a usable id\n", sizeof(cases) / sizeof(cases[0]) + 2);
}

/* Requests with an id that are otherwise wrong: BAD, the id kept, the message exact. */
static void test_parse_bad(void **state)
{
	static const struct tr_case cases[] = {
		{"{\"id\":\"a\"}", SIGNER_PARSE_BAD, "method must be a string"},
		{"{\"id\":\"a\",\"method\":1}", SIGNER_PARSE_BAD, "method must be a string"},
		{"{\"id\":\"a\",\"method\":[\"ping\"]}", SIGNER_PARSE_BAD,
		 "method must be a string"},
		{"{\"id\":\"a\",\"method\":\"frob\"}", SIGNER_PARSE_BAD, "unknown method \"frob\""},
		{"{\"id\":\"a\",\"method\":\"Ping\"}", SIGNER_PARSE_BAD, "unknown method \"Ping\""},
		{"{\"id\":\"a\",\"method\":\"\"}", SIGNER_PARSE_BAD, "unknown method \"\""},
		{"{\"id\":\"a\",\"method\":\"p\\\"i\\\\n\\u0000g\\u00e9\"}", SIGNER_PARSE_BAD,
		 "unknown method \"p?i?n?g??\""},
		{"{\"id\":\"a\",\"method\":\"abcdefghijklmnopqrstuvwxyz0123456789\"}",
		 SIGNER_PARSE_BAD, "unknown method \"abcdefghijklmnopqrstuvwxyz012345\""},
		{"{\"id\":\"a\",\"method\":\"ping\",\"params\":{}}", SIGNER_PARSE_BAD,
		 "params must be an array"},
		{"{\"id\":\"a\",\"method\":\"ping\",\"params\":null}", SIGNER_PARSE_BAD,
		 "params must be an array"},
		{"{\"id\":\"a\",\"method\":\"ping\",\"params\":\"[]\"}", SIGNER_PARSE_BAD,
		 "params must be an array"},
		{"{\"id\":\"a\",\"method\":\"ping\",\"params\":[1,2,3,4,5,6,7,8,9]}",
		 SIGNER_PARSE_BAD, "too many params (at most 8)"},
	};
	struct signer_request r;
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = 'x';
		if (tr_parse(&r, cases[i].json, err, sizeof(err)) != cases[i].want)
			fail_msg("not BAD: %s", cases[i].json);
		assert_true(r.has_id);
		assert_string_equal(r.id, "a");
		assert_string_equal(err, cases[i].msg);
		assert_int_equal(r.nparams, 0);
		signer_request_clear(&r);
	}
	assert_int_equal(tr_parse(&r, "{\"id\":\"a\",\"method\":\"frob\"}", NULL, 0),
			 SIGNER_PARSE_BAD);
	assert_false(r.method_known);
	assert_string_equal(r.method_name, "frob");
	print_message("%zu bad requests\n", sizeof(cases) / sizeof(cases[0]));
}

/* A param of more than 1 MiB is refused, one of exactly 1 MiB kept. */
static void test_parse_big_param(void **state)
{
	static const char head[] = "{\"id\":\"a\",\"method\":\"ping\",\"params\":[1,\"";
	size_t big = 1024 * 1024, hl = sizeof(head) - 1;
	char *json = malloc(hl + big + 8), err[128];
	struct signer_request r;

	(void)state;
	assert_non_null(json);
	memcpy(json, head, hl);
	memset(json + hl, 'x', big);
	memcpy(json + hl + big, "\"]}", 3);
	assert_int_equal(signer_request_parse(&r, json, hl + big + 3, err, sizeof(err)),
			 SIGNER_PARSE_OK);
	assert_int_equal(r.params[1].len, big);
	signer_request_clear(&r);
	memcpy(json + hl + big, "x\"]}", 4);
	assert_int_equal(signer_request_parse(&r, json, hl + big + 4, err, sizeof(err)),
			 SIGNER_PARSE_BAD);
	assert_string_equal(err, "params[1] is longer than 1048576 bytes");
	assert_int_equal(r.nparams, 0);
	signer_request_clear(&r);
	/* a raw (non-string) param over 1 MiB: [0,0,...,0] */
	json[hl - 1] = '[';
	for (size_t i = 0; i < big; i += 2)
		memcpy(json + hl + i, "0,", 2);
	memcpy(json + hl + big, "0]]}", 4);
	assert_int_equal(signer_request_parse(&r, json, hl + big + 4, err, sizeof(err)),
			 SIGNER_PARSE_BAD);
	assert_string_equal(err, "params[1] is longer than 1048576 bytes");
	signer_request_clear(&r);
	free(json);
}

/* Build a reply and compare it byte for byte. */
static void tr_reply(const char *id, const char *result, size_t rlen, const char *error,
		     const char *want, size_t wantlen)
{
	char *out;
	size_t len;

	assert_int_equal(signer_reply_json(&out, &len, id, result, rlen, error), 0);
	assert_int_equal(len, wantlen);
	assert_memory_equal(out, want, wantlen + 1);
	wipe_free(out, len);
}

/* The reply JSON, escapes and all. */
static void test_reply_json(void **state)
{
	static const char res[] = "a\0b\"c\\d\n\x01\x1f\x7f/\xc3\xa9\t\r\b\f";
	static const char want_res[] = "{\"id\":\"x\\\"y\",\"result\":\"a\\u0000b\\\"c\\\\d\\n"
				       "\\u0001\\u001f\x7f/\xc3\xa9\\t\\r\\b\\f\"}";
	static const char want_err[] =
		"{\"id\":\"1\",\"result\":\"\",\"error\":\"unknown method \\\"x\\\"\\n\"}";

	(void)state;
	tr_reply("x\"y", res, sizeof(res) - 1, NULL, want_res, sizeof(want_res) - 1);
	tr_reply("1", "ignored", 7, "unknown method \"x\"\n", want_err, sizeof(want_err) - 1);
	tr_reply("1", "pong", 4, NULL, "{\"id\":\"1\",\"result\":\"pong\"}", 26);
	tr_reply("1", NULL, 0, NULL, "{\"id\":\"1\",\"result\":\"\"}", 22);
}

/* The reply event parses, verifies, is kind 24133 by the bunker, p-tags the client. */
static void test_reply_event(void **state)
{
	struct nostr_keypair bunker, client;
	struct nostr_event ev;
	const struct nostr_tag *p;
	char *json, id_hex[65], hex[65], err[128];
	size_t len;

	(void)state;
	assert_int_equal(nostr_keypair_generate(&bunker), 0);
	assert_int_equal(nostr_keypair_generate(&client), 0);
	assert_int_equal(signer_reply_event(&json, &len, id_hex, &bunker, &client.pub, "c\0t", 3,
					    1700000123, err, sizeof(err)),
			 0);
	assert_int_equal(len, strlen(json));
	assert_int_equal(
		nostr_event_parse(&ev, json, len, NOSTR_EVENT_SIGNED, NULL, err, sizeof(err)), 0);
	assert_int_equal(nostr_event_verify(&ev, err, sizeof(err)), 0);
	assert_int_equal(ev.kind, SIGNER_KIND);
	assert_int_equal(ev.created_at, 1700000123);
	assert_true(nostr_pubkey_equal(&ev.pubkey, &bunker.pub));
	assert_int_equal(ev.content.len, 3);
	assert_memory_equal(ev.content.s, "c\0t", 3);
	assert_int_equal(ev.ntags, 1);
	p = nostr_event_find_tag(&ev, "p");
	assert_non_null(p);
	assert_int_equal(p->n, 2);
	nostr_pubkey_to_hex(hex, &client.pub);
	assert_string_equal(p->items[1].s, hex);
	hex_encode(hex, ev.id, 32);
	assert_string_equal(id_hex, hex);
	nostr_event_clear(&ev);
	free(json);
	nostr_keypair_wipe(&bunker);
	nostr_keypair_wipe(&client);
}

/* Run the group. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scheme),	      cmocka_unit_test(test_crypt_round_trip),
		cmocka_unit_test(test_crypt_vectors), cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_edges),   cmocka_unit_test(test_parse_no_id),
		cmocka_unit_test(test_parse_bad),     cmocka_unit_test(test_parse_big_param),
		cmocka_unit_test(test_reply_json),    cmocka_unit_test(test_reply_event),
	};

	return cmocka_run_group_tests_name("signer_request", tests, NULL, NULL);
}
