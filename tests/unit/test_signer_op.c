/*
 * test_signer_op.c - params made into operations and the pure methods:
 * sign_event signs as the user whatever id/pubkey/sig the template
 * carried, created_at defaults, malformed templates are refused with a
 * reason; nip44/nip04 encrypt/decrypt round trips against a third party
 * that uses the nostr core directly; switch_relays, ping, get_public_key,
 * connect's params, and every refusal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nostr/hex.h"
#include "nostr/nip04.h"
#include "nostr/nip44.h"
#include "nostr/wipe.h"
#include "signer/signer_op.h"

/* Not the x coordinate of a curve point (NIP-44 invalid vectors). */
#define TO_OFF_CURVE "1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef"

/* The fixture: the user, a third party, a cache. */
struct to_fx {
	struct nostr_keypair user, peer;
	char user_hex[65], peer_hex[65];
	struct nip44_cache *cache;
	struct signer_ctx ctx;
};

/* A request and the operation parsed from it. */
struct to_req {
	struct signer_request r;
	struct signer_op op;
};

/* Make the keys and the context. */
static int to_setup(void **state)
{
	static const char *const relays[] = {"wss://a.example", "ws://b\"c"};
	struct to_fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL || nostr_keypair_generate(&fx->user) != 0 ||
	    nostr_keypair_generate(&fx->peer) != 0 || nip44_cache_new(&fx->cache, 8) != 0)
		return -1;
	nostr_pubkey_to_hex(fx->user_hex, &fx->user.pub);
	nostr_pubkey_to_hex(fx->peer_hex, &fx->peer.pub);
	fx->ctx = (struct signer_ctx){.user = &fx->user,
				      .relays = relays,
				      .nrelays = 2,
				      .cache = fx->cache,
				      .now = 1700000000};
	*state = fx;
	return 0;
}

/* Free the fixture. */
static int to_teardown(void **state)
{
	struct to_fx *fx = *state;

	nip44_cache_free(&fx->cache);
	nostr_keypair_wipe(&fx->user);
	nostr_keypair_wipe(&fx->peer);
	free(fx);
	return 0;
}

/* Parse the request json (NUL-terminated, must be OK) and its op; signer_op_parse's result. */
static int to_parse(struct to_req *q, const char *json, char *err, size_t errlen)
{
	assert_int_equal(signer_request_parse(&q->r, json, strlen(json), err, errlen),
			 SIGNER_PARSE_OK);
	return signer_op_parse(&q->op, &q->r, err, errlen);
}

/* Free a request and its op. */
static void to_clear(struct to_req *q)
{
	signer_op_clear(&q->op);
	signer_request_clear(&q->r);
}

/* Run json's method (parse must succeed) into *res; signer_op_run's result. */
static int to_run(struct signer_result *res, const struct signer_ctx *ctx, const char *json,
		  char *err, size_t errlen)
{
	struct to_req q;
	int rc;

	assert_int_equal(to_parse(&q, json, err, errlen), 0);
	rc = signer_op_run(res, &q.op, ctx, err, errlen);
	to_clear(&q);
	return rc;
}

/* sign_event: the result verifies, is the user's, the client's id/pubkey/sig ignored. */
static void test_sign_event(void **state)
{
	struct to_fx *fx = *state;
	char json[1024], err[256], bogus[129], hex[65];
	struct signer_result res;
	struct nostr_event ev;
	struct to_req q;

	memset(bogus, 'a', 128);
	bogus[128] = '\0';
	snprintf(json, sizeof(json),
		 "{\"id\":\"1\",\"method\":\"sign_event\",\"params\":[\"{\\\"id\\\":\\\"%.64s\\\","
		 "\\\"pubkey\\\":\\\"%s\\\",\\\"sig\\\":\\\"%s\\\",\\\"kind\\\":7,"
		 "\\\"created_at\\\":1600000000,\\\"tags\\\":[[\\\"e\\\",\\\"x\\\\u0000y\\\"]],"
		 "\\\"content\\\":\\\"+\\\\u0000!\\\"}\"]}",
		 bogus, fx->peer_hex, bogus);
	assert_int_equal(to_parse(&q, json, err, sizeof(err)), 0);
	assert_int_equal(q.op.kind, 7);
	assert_int_equal(q.op.size, q.r.params[0].len);
	assert_int_equal(signer_op_run(&res, &q.op, &fx->ctx, err, sizeof(err)), 0);
	assert_int_equal(
		nostr_event_parse(&ev, res.s, res.len, NOSTR_EVENT_SIGNED, NULL, err, sizeof(err)),
		0);
	assert_int_equal(nostr_event_verify(&ev, err, sizeof(err)), 0);
	assert_true(nostr_pubkey_equal(&ev.pubkey, &fx->user.pub));
	assert_int_equal(ev.kind, 7);
	assert_int_equal(ev.created_at, 1600000000);
	assert_int_equal(ev.content.len, 3);
	assert_memory_equal(ev.content.s, "+\0!", 3);
	assert_int_equal(ev.tags[0].items[1].len, 3);
	hex_encode(hex, ev.id, 32);
	assert_string_equal(res.event_id, hex);
	assert_string_not_equal(res.event_id, bogus + 64);
	nostr_event_clear(&ev);
	signer_result_clear(&res);
	assert_null(res.s);
	to_clear(&q);
}

/* sign_event with the template object itself, no created_at: ctx->now is used. */
static void test_sign_event_object(void **state)
{
	struct to_fx *fx = *state;
	char err[256];
	struct signer_result res;
	struct nostr_event ev;

	assert_int_equal(to_run(&res, &fx->ctx,
				"{\"id\":\"1\",\"method\":\"sign_event\",\"params\":"
				"[{\"kind\":1,\"content\":\"hi\"}]}",
				err, sizeof(err)),
			 0);
	assert_int_equal(
		nostr_event_parse(&ev, res.s, res.len, NOSTR_EVENT_SIGNED, NULL, err, sizeof(err)),
		0);
	assert_int_equal(nostr_event_verify(&ev, err, sizeof(err)), 0);
	assert_int_equal(ev.created_at, fx->ctx.now);
	assert_int_equal(ev.ntags, 0);
	assert_string_equal(ev.content.s, "hi");
	assert_true(nostr_pubkey_equal(&ev.pubkey, &fx->user.pub));
	nostr_event_clear(&ev);
	signer_result_clear(&res);
}

/* Malformed templates are refused with the reason. */
static void test_sign_event_bad(void **state)
{
	static const struct {
		const char *json, *msg;
	} cases[] = {
		{"{\"id\":\"1\",\"method\":\"sign_event\"}",
		 "sign_event: params[0] (the event template) is missing"},
		{"{\"id\":\"1\",\"method\":\"sign_event\",\"params\":[\"not json\"]}",
		 "sign_event: params[0] is not an event template: event: not a JSON object"},
		{"{\"id\":\"1\",\"method\":\"sign_event\",\"params\":[\"{\\\"content\\\":\\\"\\\"}"
		 "\"]}",
		 "sign_event: params[0] is not an event template: event: missing \"kind\""},
		{"{\"id\":\"1\",\"method\":\"sign_event\",\"params\":[{\"kind\":1}]}",
		 "sign_event: params[0] is not an event template: event: missing \"content\""},
		{"{\"id\":\"1\",\"method\":\"sign_event\",\"params\":[{\"kind\":70000,"
		 "\"content\":\"\"}]}",
		 "sign_event: params[0] is not an event template: event kind: not an integer in "
		 "0..65535"},
		{"{\"id\":\"1\",\"method\":\"sign_event\",\"params\":[null]}",
		 "sign_event: params[0] is not an event template: event: not a JSON object"},
	};
	struct to_req q;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(to_parse(&q, cases[i].json, err, sizeof(err)), -1);
		assert_string_equal(err, cases[i].msg);
		to_clear(&q);
	}
}

/* Encrypt as the user to the peer via the signer; the peer decrypts with the core. */
static void to_encrypt(struct to_fx *fx, enum signer_method m, const char *pt_json,
		       const uint8_t *pt, size_t ptlen, const struct signer_ctx *ctx)
{
	struct nostr_seckey sk;
	struct signer_result res;
	struct nip44_key k44;
	struct nip04_key k04;
	char json[512], err[256];
	uint8_t *back = NULL;
	size_t blen = 0;

	nostr_keypair_seckey(&sk, &fx->peer);
	snprintf(json, sizeof(json), "{\"id\":\"1\",\"method\":\"%s\",\"params\":[\"%s\",%s]}",
		 signer_method_name(m), fx->peer_hex, pt_json);
	assert_int_equal(to_run(&res, ctx, json, err, sizeof(err)), 0);
	if (m == SIGNER_NIP44_ENCRYPT) {
		assert_int_equal(nip44_conversation_key(&k44, &sk, &fx->user.pub), NIP44_OK);
		assert_int_equal(nip44_decrypt(&back, &blen, &k44, res.s, res.len), NIP44_OK);
		nip44_key_wipe(&k44);
	} else {
		assert_int_equal(nip04_shared_key(&k04, &sk, &fx->user.pub), 0);
		assert_int_equal(
			nip04_decrypt(&back, &blen, &k04, res.s, res.len, err, sizeof(err)), 0);
		nip04_key_wipe(&k04);
	}
	assert_int_equal(blen, ptlen);
	assert_memory_equal(back, pt, ptlen);
	wipe_free(back, blen);
	signer_result_clear(&res);
	nostr_seckey_wipe(&sk);
}

/* The peer encrypts with the core; the signer decrypts as the user. */
static void to_decrypt(struct to_fx *fx, enum signer_method m, const uint8_t *pt, size_t ptlen,
		       const struct signer_ctx *ctx)
{
	struct nostr_seckey sk;
	struct signer_result res;
	struct nip44_key k44;
	struct nip04_key k04;
	char json[1024], err[256], *ct;
	size_t clen;

	nostr_keypair_seckey(&sk, &fx->peer);
	if (m == SIGNER_NIP44_DECRYPT) {
		assert_int_equal(nip44_conversation_key(&k44, &sk, &fx->user.pub), NIP44_OK);
		assert_int_equal(nip44_encrypt(&ct, &clen, &k44, pt, ptlen), NIP44_OK);
		nip44_key_wipe(&k44);
	} else {
		assert_int_equal(nip04_shared_key(&k04, &sk, &fx->user.pub), 0);
		assert_int_equal(nip04_encrypt(&ct, &clen, &k04, pt, ptlen, err, sizeof(err)), 0);
		nip04_key_wipe(&k04);
	}
	nostr_seckey_wipe(&sk);
	snprintf(json, sizeof(json), "{\"id\":\"1\",\"method\":\"%s\",\"params\":[\"%s\",\"%s\"]}",
		 signer_method_name(m), fx->peer_hex, ct);
	free(ct);
	assert_int_equal(to_run(&res, ctx, json, err, sizeof(err)), 0);
	assert_int_equal(res.len, ptlen);
	assert_memory_equal(res.s, pt, ptlen);
	assert_int_equal(res.s[ptlen], '\0');
	signer_result_clear(&res);
}

/* nip44/nip04 encrypt and decrypt as the user, with and without the cache. */
static void test_crypt_round_trip(void **state)
{
	struct to_fx *fx = *state;
	struct signer_ctx nocache = fx->ctx;
	static const uint8_t pt[] = "secret \0 message";

	nocache.cache = NULL;
	for (int i = 0; i < 2; i++) {
		const struct signer_ctx *ctx = i ? &nocache : &fx->ctx;

		to_encrypt(fx, SIGNER_NIP44_ENCRYPT, "\"secret \\u0000 message\"", pt,
			   sizeof(pt) - 1, ctx);
		to_encrypt(fx, SIGNER_NIP04_ENCRYPT, "\"secret \\u0000 message\"", pt,
			   sizeof(pt) - 1, ctx);
		to_encrypt(fx, SIGNER_NIP04_ENCRYPT, "\"\"", pt, 0, ctx);
		to_decrypt(fx, SIGNER_NIP44_DECRYPT, pt, sizeof(pt) - 1, ctx);
		to_decrypt(fx, SIGNER_NIP04_DECRYPT, pt, sizeof(pt) - 1, ctx);
		to_decrypt(fx, SIGNER_NIP04_DECRYPT, pt, 0, ctx);
	}
}

/* A plaintext that is not UTF-8 decrypts but is refused: a JSON reply cannot carry it. */
static void to_bad_utf8(struct to_fx *fx, enum signer_method m)
{
	static const uint8_t pt[] = {'o', 'k', 0xff, 0xc3};
	struct nostr_seckey sk;
	struct signer_result res;
	struct nip44_key k44;
	struct nip04_key k04;
	char json[512], err[256], want[128], *ct;
	size_t clen;

	nostr_keypair_seckey(&sk, &fx->peer);
	if (m == SIGNER_NIP44_DECRYPT) {
		assert_int_equal(nip44_conversation_key(&k44, &sk, &fx->user.pub), NIP44_OK);
		assert_int_equal(nip44_encrypt(&ct, &clen, &k44, pt, sizeof(pt)), NIP44_OK);
		nip44_key_wipe(&k44);
	} else {
		assert_int_equal(nip04_shared_key(&k04, &sk, &fx->user.pub), 0);
		assert_int_equal(nip04_encrypt(&ct, &clen, &k04, pt, sizeof(pt), err, sizeof(err)),
				 0);
		nip04_key_wipe(&k04);
	}
	nostr_seckey_wipe(&sk);
	snprintf(json, sizeof(json), "{\"id\":\"1\",\"method\":\"%s\",\"params\":[\"%s\",\"%s\"]}",
		 signer_method_name(m), fx->peer_hex, ct);
	free(ct);
	assert_int_equal(to_run(&res, &fx->ctx, json, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: the plaintext is not valid UTF-8", signer_method_name(m));
	assert_string_equal(err, want);
	assert_null(res.s);
}

/* Copy tmpl into out with '@' replaced by pk and '#' by its first 63 digits. */
static void to_subst(char *out, size_t size, const char *tmpl, const char *pk)
{
	size_t n = 0;

	for (; *tmpl != '\0'; tmpl++) {
		size_t k = *tmpl == '@' ? 64 : *tmpl == '#' ? 63 : 1;

		assert_true(n + k < size);
		memcpy(out + n, k == 1 ? tmpl : pk, k);
		n += k;
	}
	out[n] = '\0';
}

/* Refused encrypt/decrypt params, and failing decryptions. */
static void test_crypt_bad(void **state)
{
	struct to_fx *fx = *state;
	static const struct {
		const char *method, *params, *msg;
	} cases[] = {
		{"nip44_encrypt", "[]", "nip44_encrypt: params must be [third_party_pubkey, text]"},
		{"nip44_decrypt", "[\"@\"]",
		 "nip44_decrypt: params must be [third_party_pubkey, text]"},
		{"nip04_encrypt", "[\"@\",\"a\",\"b\"]",
		 "nip04_encrypt: params must be [third_party_pubkey, text]"},
		{"nip04_decrypt", "[\"" TO_OFF_CURVE "\",\"a\"]",
		 "nip04_decrypt: params[0] is not a public key"},
		{"nip44_encrypt", "[\"abc\",\"a\"]",
		 "nip44_encrypt: params[0] is not a public key"},
		{"nip44_encrypt", "[\"#\\u0000\",\"a\"]",
		 "nip44_encrypt: params[0] is not a public key"},
		{"nip44_encrypt", "[\"@\",\"\"]",
		 "nip44_encrypt: the plaintext is empty (NIP-44 needs 1 byte or more)"},
	};
	char json[512], params[256], upper[65], err[256];
	struct signer_result res;
	struct to_req q;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		to_subst(params, sizeof(params), cases[i].params, fx->peer_hex);
		snprintf(json, sizeof(json), "{\"id\":\"1\",\"method\":\"%s\",\"params\":%s}",
			 cases[i].method, params);
		assert_int_equal(to_parse(&q, json, err, sizeof(err)), -1);
		assert_string_equal(err, cases[i].msg);
		to_clear(&q);
	}
	for (size_t i = 0; i < 64; i++)
		upper[i] =
			(fx->peer_hex[i] >= 'a') ? (char)(fx->peer_hex[i] - 32) : fx->peer_hex[i];
	upper[64] = '\0';
	snprintf(json, sizeof(json),
		 "{\"id\":\"1\",\"method\":\"nip44_encrypt\",\"params\":[\"%s\",\"a\"]}", upper);
	assert_int_equal(to_parse(&q, json, err, sizeof(err)), -1);
	to_clear(&q);
	snprintf(json, sizeof(json),
		 "{\"id\":\"1\",\"method\":\"nip44_decrypt\",\"params\":[\"%s\",\"!!\"]}",
		 fx->peer_hex);
	assert_int_equal(to_run(&res, &fx->ctx, json, err, sizeof(err)), -1);
	assert_true(strncmp(err, "nip44_decrypt: nip44: ", 22) == 0);
	assert_null(res.s);
	snprintf(json, sizeof(json),
		 "{\"id\":\"1\",\"method\":\"nip04_decrypt\",\"params\":[\"%s\",\"AAAA?iv=AA\"]}",
		 fx->peer_hex);
	assert_int_equal(to_run(&res, &fx->ctx, json, err, sizeof(err)), -1);
	assert_true(strncmp(err, "nip04_decrypt: nip04: ", 22) == 0);
	to_bad_utf8(fx, SIGNER_NIP04_DECRYPT);
	to_bad_utf8(fx, SIGNER_NIP44_DECRYPT);
}

/* ping, get_public_key, switch_relays (with and without relays). */
static void test_simple(void **state)
{
	struct to_fx *fx = *state;
	struct signer_ctx none = fx->ctx;
	struct signer_result res;
	char err[256];

	assert_int_equal(to_run(&res, &fx->ctx, "{\"id\":\"1\",\"method\":\"ping\",\"params\":[1]}",
				err, sizeof(err)),
			 0);
	assert_string_equal(res.s, "pong");
	assert_int_equal(res.len, 4);
	assert_string_equal(res.event_id, "");
	signer_result_clear(&res);
	assert_int_equal(to_run(&res, &fx->ctx, "{\"id\":\"1\",\"method\":\"get_public_key\"}", err,
				sizeof(err)),
			 0);
	assert_string_equal(res.s, fx->user_hex);
	signer_result_clear(&res);
	assert_int_equal(to_run(&res, &fx->ctx, "{\"id\":\"1\",\"method\":\"switch_relays\"}", err,
				sizeof(err)),
			 0);
	assert_string_equal(res.s, "[\"wss://a.example\",\"ws://b\\\"c\"]");
	signer_result_clear(&res);
	none.relays = NULL;
	none.nrelays = 0;
	assert_int_equal(to_run(&res, &none, "{\"id\":\"1\",\"method\":\"switch_relays\"}", err,
				sizeof(err)),
			 0);
	assert_string_equal(res.s, "null");
	signer_result_clear(&res);
}

/* connect's params, and connect/logout refused by signer_op_run. */
static void test_connect_logout(void **state)
{
	struct to_fx *fx = *state;
	struct signer_result res;
	struct to_req q;
	char err[256];

	assert_int_equal(
		to_parse(&q,
			 "{\"id\":\"1\",\"method\":\"connect\",\"params\":[\"\",\"s3cret\","
			 "\"sign_event:1,nip44_encrypt\",\"{}\"]}",
			 err, sizeof(err)),
		0);
	assert_string_equal(q.op.secret, "s3cret");
	assert_string_equal(q.op.perms, "sign_event:1,nip44_encrypt");
	assert_int_equal(q.op.kind, -1);
	assert_int_equal(signer_op_run(&res, &q.op, &fx->ctx, err, sizeof(err)), -1);
	assert_string_equal(err, "connect is not a pure method");
	assert_null(res.s);
	to_clear(&q);
	assert_int_equal(to_parse(&q, "{\"id\":\"1\",\"method\":\"connect\"}", err, sizeof(err)),
			 0);
	assert_null(q.op.secret);
	assert_null(q.op.perms);
	to_clear(&q);
	assert_int_equal(
		to_parse(&q, "{\"id\":\"1\",\"method\":\"connect\",\"params\":[\"ab\",\"\",\"\"]}",
			 err, sizeof(err)),
		0);
	assert_null(q.op.secret);
	assert_null(q.op.perms);
	to_clear(&q);
	assert_int_equal(to_parse(&q, "{\"id\":\"1\",\"method\":\"logout\"}", err, sizeof(err)), 0);
	assert_int_equal(signer_op_run(&res, &q.op, &fx->ctx, err, sizeof(err)), -1);
	assert_string_equal(err, "logout is not a pure method");
	to_clear(&q);
}

/* A request whose method is unknown gives no operation. */
static void test_unknown(void **state)
{
	struct signer_request r;
	struct signer_op op;
	char err[256];

	(void)state;
	assert_int_equal(signer_request_parse(&r, "{\"id\":\"1\",\"method\":\"frob\"}", 26, err,
					      sizeof(err)),
			 SIGNER_PARSE_BAD);
	assert_int_equal(signer_op_parse(&op, &r, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown method \"frob\"");
	signer_op_clear(&op);
	signer_request_clear(&r);
}

/* Run the group. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sign_event, to_setup, to_teardown),
		cmocka_unit_test_setup_teardown(test_sign_event_object, to_setup, to_teardown),
		cmocka_unit_test(test_sign_event_bad),
		cmocka_unit_test_setup_teardown(test_crypt_round_trip, to_setup, to_teardown),
		cmocka_unit_test_setup_teardown(test_crypt_bad, to_setup, to_teardown),
		cmocka_unit_test_setup_teardown(test_simple, to_setup, to_teardown),
		cmocka_unit_test_setup_teardown(test_connect_logout, to_setup, to_teardown),
		cmocka_unit_test(test_unknown),
	};

	return cmocka_run_group_tests_name("signer_op", tests, NULL, NULL);
}
