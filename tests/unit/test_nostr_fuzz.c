/*
 * test_nostr_fuzz.c - robustness of the nostr core's parsers against
 * mutated and random input, without libFuzzer: a fixed-seed generator
 * mutates valid inputs (the NIP-01 vector events, a NIP-44 and a NIP-04
 * payload, a bunker URI, an npub) and feeds them to the parsers.
 *
 * Every run is deterministic (seed KC_FUZZ_SEED, default fixed; rounds
 * KC_FUZZ_ROUNDS). Each case asserts what must hold for ANY input: no
 * crash or sanitizer report, a failure always carries a clear error and
 * leaves no output behind, and an accepted input behaves (a parsed event
 * re-serializes to the same canonical form, a changed NIP-44 payload is
 * never decrypted, an accepted URI formats and parses back the same).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <strings.h>

#include "core/secret.h"
#include "nostr/bech32.h"
#include "nostr/event.h"
#include "nostr/keys.h"
#include "nostr/nip04.h"
#include "nostr/nip44.h"
#include "nostr/uri.h"
#include "test_nostr_util.h"

/* Largest mutated input. */
#define FZ_MAX 4096

/* The generator state and the round count. */
static uint64_t fz_state;
static size_t fz_rounds;
/* Mutated events that still verified (an edit of whitespace or an unknown member). */
static size_t fz_verified;

/* The next pseudo-random 64 bits (xorshift64*). */
static uint64_t fz_next(void)
{
	fz_state ^= fz_state >> 12;
	fz_state ^= fz_state << 25;
	fz_state ^= fz_state >> 27;
	return fz_state * 0x2545f4914f6cdd1dULL;
}

/* A pseudo-random number below n (n > 0). */
static size_t fz_below(size_t n)
{
	return (size_t)(fz_next() % n);
}

/* A byte that is likely to matter to a JSON, base64 or URI parser, or any byte. */
static char fz_byte(void)
{
	static const char interesting[] = "\"\\{}[],:-+.eE019afAF/=?&%#u \t\n\x01\x7f\xc3\xa9\xed";

	if (fz_below(4) == 0)
		return (char)fz_below(256);
	return interesting[fz_below(sizeof(interesting) - 1)];
}

/* Apply one random edit to buf[0..*len) (capacity FZ_MAX). */
static void fz_edit(char *buf, size_t *len)
{
	size_t at = *len ? fz_below(*len) : 0, n;

	switch (fz_below(5)) {
	case 0: /* replace */
		if (*len)
			buf[at] = fz_byte();
		break;
	case 1: /* insert */
		if (*len < FZ_MAX) {
			memmove(buf + at + 1, buf + at, *len - at);
			buf[at] = fz_byte();
			(*len)++;
		}
		break;
	case 2: /* delete a run */
		n = *len - at < 8 ? *len - at : fz_below(8) + 1;
		memmove(buf + at, buf + at + n, *len - at - n);
		*len -= n;
		break;
	case 3: /* truncate */
		*len = at;
		break;
	default: /* duplicate a run */
		n = fz_below(16) + 1;
		n = n > *len - at ? *len - at : n;
		if (*len + n <= FZ_MAX) {
			memmove(buf + at + n, buf + at, *len - at);
			(*len) += n;
		}
		break;
	}
}

/* Copy src into buf and apply 1 to 4 edits; the length. */
static size_t fz_mutate(char *buf, const char *src, size_t srclen)
{
	size_t len = srclen < FZ_MAX ? srclen : FZ_MAX, edits = fz_below(4) + 1;

	memcpy(buf, src, len);
	for (size_t i = 0; i < edits; i++)
		fz_edit(buf, &len);
	buf[len] = '\0';
	return len;
}

/* Seed and rounds from the environment. */
static int setup(void **state)
{
	const char *seed = getenv("KC_FUZZ_SEED"), *rounds = getenv("KC_FUZZ_ROUNDS");

	(void)state;
	fz_state = seed ? strtoull(seed, NULL, 0) : 0x6b65796361737464ULL;
	fz_state = fz_state ? fz_state : 1;
	fz_rounds = rounds ? strtoull(rounds, NULL, 0) : 0;
	fz_rounds = fz_rounds ? fz_rounds : 1;
	print_message("fuzz seed 0x%llx, %zu round(s)\n", (unsigned long long)fz_state, fz_rounds);
	return 0;
}

/* The event objects of nip01.vectors.json that fit FZ_MAX, as raw text slices. */
static size_t fz_event_corpus(const char *text, size_t len, const char **ev, size_t *evlen,
			      size_t cap)
{
	const char *arr, *el;
	size_t n, elen, k = 0;

	assert_int_equal(nostr_json_object_member(&arr, &n, text, len, "vectors"), 0);
	for (size_t i = 0; k < cap && nostr_json_array_element(&el, &elen, arr, n, i) == 0; i++)
		if (nostr_json_object_member(&ev[k], &evlen[k], el, elen, "event") == 0 &&
		    evlen[k] < FZ_MAX)
			k++;
	return k;
}

/* An accepted signed event: its JSON parses back to the same canonical form. */
static void fz_check_round_trip(const struct nostr_event *ev)
{
	struct nostr_event back;
	char *json, *s1, *s2, err[160];
	size_t len, l1, l2;

	assert_int_equal(nostr_event_to_json(&json, &len, ev), 0);
	if (nostr_event_parse(&back, json, len, NOSTR_EVENT_SIGNED, NULL, err, sizeof(err)) != 0)
		fail_msg("accepted event does not parse back: %s", err);
	assert_int_equal(nostr_event_serialize(&s1, &l1, ev), 0);
	assert_int_equal(nostr_event_serialize(&s2, &l2, &back), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(s1, s2, l1);
	free(s1);
	free(s2);
	free(json);
	nostr_event_clear(&back);
}

/* Parse one input in one mode; a failure leaves an empty event and a message. */
static int fz_parse_one(const char *buf, size_t len, enum nostr_event_mode mode)
{
	struct nostr_event ev;
	char err[160];

	if (nostr_event_parse(&ev, buf, len, mode, NULL, err, sizeof(err)) != 0) {
		if (strncmp(err, "event", 5) != 0)
			fail_msg("rejected without a message (\"%s\"): %.*s", err, (int)len, buf);
		assert_true(ev.ntags == 0 && ev.content.s == NULL && ev.tags == NULL);
		return 0;
	}
	if (mode == NOSTR_EVENT_SIGNED) {
		fz_check_round_trip(&ev);
		fz_verified += nostr_event_verify(&ev, err, sizeof(err)) == 0; /* no crash */
	}
	nostr_event_clear(&ev);
	return 1;
}

/* Mutated vector events into the event parser, signed and template modes. */
static void test_fuzz_event_parse(void **state)
{
	const char *ev[16];
	size_t evlen[16], len = 0, ncorpus, cases = 0, accepted = 0;
	char *text = tn_read_vector("nip01.vectors.json", &len), buf[FZ_MAX + 1];

	(void)state;
	assert_non_null(text);
	ncorpus = fz_event_corpus(text, len, ev, evlen, 16);
	assert_true(ncorpus >= 10);
	for (size_t r = 0; r < 3000 * fz_rounds; r++) {
		size_t i = fz_below(ncorpus), n = fz_mutate(buf, ev[i], evlen[i]);

		accepted += (size_t)fz_parse_one(buf, n, NOSTR_EVENT_SIGNED);
		accepted += (size_t)fz_parse_one(buf, n, NOSTR_EVENT_TEMPLATE);
		cases += 2;
	}
	for (size_t r = 0; r < 1000 * fz_rounds; r++) { /* pure noise */
		size_t n = fz_below(256);

		for (size_t k = 0; k < n; k++)
			buf[k] = fz_byte();
		accepted += (size_t)fz_parse_one(buf, n, NOSTR_EVENT_TEMPLATE);
		cases++;
	}
	free(text);
	print_message("%zu fuzzed event parses from %zu vector events: %zu accepted (all "
		      "round-tripped, %zu still verified), the rest rejected with a message\n",
		      cases, ncorpus, accepted, fz_verified);
}

/* The NIP-44 errors a malformed payload may get (never a crash, never OK). */
static int fz_nip44_spec_error(enum nip44_err e)
{
	return e == NIP44_ERR_VERSION || e == NIP44_ERR_BASE64 || e == NIP44_ERR_LENGTH ||
	       e == NIP44_ERR_MAC || e == NIP44_ERR_PADDING;
}

/* Mutated and random payloads into the NIP-44 decoder: any change is rejected. */
static void test_fuzz_nip44_decrypt(void **state)
{
	static const char pt[] = "{\"id\":\"1\",\"method\":\"ping\",\"params\":[]}";
	struct nip44_key ck;
	uint8_t nonce[32];
	char *payload, buf[FZ_MAX + 1];
	size_t plen, cases = 0, by_err[NIP44_ERR_CRYPTO + 1] = {0};

	(void)state;
	memset(ck.b, 0x5a, sizeof(ck.b));
	memset(nonce, 0xa5, sizeof(nonce));
	assert_int_equal(nip44_encrypt_nonce(&payload, &plen, &ck, (const uint8_t *)pt,
					     sizeof(pt) - 1, nonce),
			 NIP44_OK);
	for (size_t r = 0; r < 4000 * fz_rounds; r++) {
		size_t n = fz_mutate(buf, payload, plen), outlen;
		uint8_t *out = (uint8_t *)buf;
		enum nip44_err e = nip44_decrypt(&out, &outlen, &ck, buf, n);

		if (n == plen && memcmp(buf, payload, n) == 0) {
			assert_int_equal(e, NIP44_OK); /* an edit that changed nothing */
			free(out);
			continue;
		}
		if (!fz_nip44_spec_error(e))
			fail_msg("payload \"%s\": \"%s\"", buf, nip44_strerror(e));
		assert_null(out);
		by_err[e]++;
		cases++;
	}
	free(payload);
	print_message("%zu changed NIP-44 payloads rejected: version %zu, base64 %zu, length "
		      "%zu, MAC %zu, padding %zu\n",
		      cases, by_err[NIP44_ERR_VERSION], by_err[NIP44_ERR_BASE64],
		      by_err[NIP44_ERR_LENGTH], by_err[NIP44_ERR_MAC], by_err[NIP44_ERR_PADDING]);
}

/* Mutated NIP-04 payloads: a failure has a message and no output (CBC has no MAC). */
static void test_fuzz_nip04_decrypt(void **state)
{
	struct nip04_key k;
	uint8_t iv[16];
	char *payload, buf[FZ_MAX + 1], err[128];
	size_t plen, cases = 0, accepted = 0;

	(void)state;
	memset(k.b, 0x33, sizeof(k.b));
	memset(iv, 0x77, sizeof(iv));
	assert_int_equal(nip04_encrypt_iv(&payload, &plen, &k, (const uint8_t *)"hello, nip04", 12,
					  iv, err, sizeof(err)),
			 0);
	for (size_t r = 0; r < 3000 * fz_rounds; r++, cases++) {
		size_t n = fz_mutate(buf, payload, plen), outlen;
		uint8_t *out = (uint8_t *)buf;

		err[0] = '\0';
		if (nip04_decrypt(&out, &outlen, &k, buf, n, err, sizeof(err)) == 0) {
			assert_non_null(out);
			assert_int_equal(out[outlen], '\0');
			free(out);
			accepted++;
			continue;
		}
		assert_null(out);
		assert_true(strncmp(err, "nip04: ", 7) == 0);
	}
	free(payload);
	print_message("%zu mutated NIP-04 payloads: %zu decrypted (unauthenticated CBC), the "
		      "rest rejected with a message\n",
		      cases, accepted);
}

/* An accepted URI formats and parses back with the same relays and secret. */
static void fz_check_uri(const struct nostr_uri *u)
{
	struct nostr_uri back;
	char *s, err[160];

	assert_true(u->nrelays >= 1);
	if (nostr_uri_format(&s, u, err, sizeof(err)) != 0)
		fail_msg("accepted URI does not format: %s", err);
	if (nostr_uri_parse(&back, s, err, sizeof(err)) != 0)
		fail_msg("formatted URI \"%s\" does not parse: %s", s, err);
	assert_int_equal(back.nrelays, u->nrelays);
	for (size_t i = 0; i < u->nrelays; i++)
		assert_string_equal(back.relays[i], u->relays[i]);
	assert_true(secret_is_set(&back.secret) == secret_is_set(&u->secret));
	if (secret_is_set(&u->secret))
		assert_true(secret_equal(&back.secret, secret_reveal(&u->secret),
					 secret_len(&u->secret)));
	nostr_uri_clear(&back);
	free(s);
}

/* Mutated bunker:// and nostrconnect:// URIs into the URI parser. */
static void test_fuzz_uri(void **state)
{
	static const char *const seeds[] = {
		"bunker://f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"
		"?relay=wss%3A%2F%2Frelay.example.com&relay=ws://127.0.0.1:7777&secret=ab%20c",
		"nostrconnect://f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"
		"?relay=wss://r.example&secret=s3&perms=sign_event%3A1&name=My+App&url=https://a.b",
	};
	char buf[FZ_MAX + 1], err[160];
	size_t cases = 0, accepted = 0;

	(void)state;
	for (size_t r = 0; r < 3000 * fz_rounds; r++, cases++) {
		const char *s = seeds[fz_below(2)];
		struct nostr_uri u;

		fz_mutate(buf, s, strlen(s)); /* the parser takes a C string: stops at a NUL */
		err[0] = '\0';
		if (nostr_uri_parse(&u, buf, err, sizeof(err)) == 0) {
			fz_check_uri(&u);
			nostr_uri_clear(&u);
			accepted++;
			continue;
		}
		assert_true(err[0] != '\0');
		assert_true(u.nrelays == 0 && secret_len(&u.secret) == 0);
	}
	print_message("%zu mutated URIs: %zu accepted (all round-tripped), the rest rejected "
		      "with a message\n",
		      cases, accepted);
}

/* Mutated npubs: a decoded one re-encodes to the input (up to case). */
static void test_fuzz_bech32(void **state)
{
	static const char npub[] =
		"npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg";
	char buf[FZ_MAX + 1], enc[BECH32_KEY_LEN];
	size_t cases = 0, accepted = 0;

	(void)state;
	for (size_t r = 0; r < 3000 * fz_rounds; r++, cases++) {
		struct nostr_pubkey pk;

		fz_mutate(buf, npub, sizeof(npub) - 1);
		if (bech32_npub_decode(&pk, buf) != 0)
			continue;
		assert_int_equal(bech32_npub_encode(enc, sizeof(enc), &pk), 0);
		assert_int_equal(strcasecmp(enc, buf), 0);
		accepted++;
	}
	print_message("%zu mutated npubs: %zu decoded (each re-encodes to the input)\n", cases,
		      accepted);
}

/* Run the group. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz_event_parse),
		cmocka_unit_test(test_fuzz_nip44_decrypt),
		cmocka_unit_test(test_fuzz_nip04_decrypt),
		cmocka_unit_test(test_fuzz_uri),
		cmocka_unit_test(test_fuzz_bech32),
	};

	return cmocka_run_group_tests_name("nostr_fuzz", tests, setup, NULL);
}
