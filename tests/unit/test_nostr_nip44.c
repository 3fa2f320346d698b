/*
 * test_nostr_nip44.c - NIP-44 v2 against every official vector
 * (nip44.vectors.json) and the spec's three extended-length vectors
 * (nip44.extended-length.json), plus payloads sealed here with a valid MAC
 * around bad length prefixes (extended-prefix cases the vectors lack), the
 * distinct error names, and the bounded conversation-key cache (compiled
 * in here, so its bucket choice can be checked on crafted key pairs).
 *
 * Adjusted vectors: keycastd follows the CURRENT spec (nips 733a047,
 * 2026-06-28), under which plaintexts of 65536..2^32-1 bytes are valid with
 * the 6-byte prefix. v2.invalid.encrypt_msg_lengths lists 65536, 100000 and
 * 10000000 as invalid; they are checked here as VALID (encrypt, then
 * decrypt round trip), and only 0 as invalid. Nothing is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "nostr/keys.h"
#include "nostr/nip44.h"
#include "nostr/nip44_cache.c" /* the module under test, for nip44_cache_bucket */
#include "test_nostr_util.h"

static cJSON *root, *v2;

/* Load the vector file once. */
static int setup(void **state)
{
	(void)state;
	root = tn_read_json("nip44.vectors.json");
	v2 = cJSON_GetObjectItem(root, "v2");
	return v2 == NULL ? -1 : 0;
}

/* Free it. */
static int teardown(void **state)
{
	(void)state;
	cJSON_Delete(root);
	return 0;
}

/* A section v2.<group>.<name>. */
static cJSON *section(const char *group, const char *name)
{
	return cJSON_GetObjectItem(cJSON_GetObjectItem(v2, group), name);
}

/* Lower-case hex of SHA-256 of data. */
static void sha_hex(char out[65], const void *data, size_t n)
{
	uint8_t h[32];

	SHA256(data, n, h);
	hex_encode(out, h, 32);
}

/* valid.get_conversation_key: all 35. */
static void test_conversation_keys(void **state)
{
	const cJSON *v;
	size_t n = 0;

	(void)state;
	cJSON_ArrayForEach(v, section("valid", "get_conversation_key"))
	{
		struct nostr_seckey sk;
		struct nostr_pubkey pk;
		struct nip44_key ck;
		uint8_t want[32];

		assert_int_equal(tn_hex(sk.b, 32, v, "sec1"), 0);
		assert_int_equal(tn_hex(pk.b, 32, v, "pub2"), 0);
		assert_int_equal(tn_hex(want, 32, v, "conversation_key"), 0);
		assert_int_equal(nip44_conversation_key(&ck, &sk, &pk), NIP44_OK);
		assert_memory_equal(ck.b, want, 32);
		n++;
	}
	assert_int_equal(n, 35);
	print_message("%zu valid conversation keys checked\n", n);
}

/* invalid.get_conversation_key: all rejected as key errors. */
static void test_invalid_conversation_keys(void **state)
{
	const cJSON *v;
	size_t n = 0;

	(void)state;
	cJSON_ArrayForEach(v, section("invalid", "get_conversation_key"))
	{
		struct nostr_seckey sk;
		struct nostr_pubkey pk;
		struct nip44_key ck;

		assert_int_equal(tn_hex(sk.b, 32, v, "sec1"), 0);
		assert_int_equal(tn_hex(pk.b, 32, v, "pub2"), 0);
		if (nip44_conversation_key(&ck, &sk, &pk) != NIP44_ERR_KEY)
			fail_msg("accepted: %s", tn_str(v, "note"));
		n++;
	}
	assert_int_equal(n, 8);
	print_message("%zu invalid conversation keys rejected\n", n);
}

/* valid.get_message_keys: all 32 nonces. */
static void test_message_keys(void **state)
{
	const cJSON *sec = section("valid", "get_message_keys"), *v;
	struct nip44_key ck;
	size_t n = 0;

	(void)state;
	assert_int_equal(tn_hex(ck.b, 32, sec, "conversation_key"), 0);
	cJSON_ArrayForEach(v, cJSON_GetObjectItem(sec, "keys"))
	{
		struct nip44_msg_keys mk, want;
		uint8_t nonce[32];

		assert_int_equal(tn_hex(nonce, 32, v, "nonce"), 0);
		assert_int_equal(tn_hex(want.chacha_key, 32, v, "chacha_key"), 0);
		assert_int_equal(tn_hex(want.chacha_nonce, 12, v, "chacha_nonce"), 0);
		assert_int_equal(tn_hex(want.hmac_key, 32, v, "hmac_key"), 0);
		assert_int_equal(nip44_message_keys(&mk, &ck, nonce), NIP44_OK);
		assert_memory_equal(mk.chacha_key, want.chacha_key, 32);
		assert_memory_equal(mk.chacha_nonce, want.chacha_nonce, 12);
		assert_memory_equal(mk.hmac_key, want.hmac_key, 32);
		n++;
	}
	assert_int_equal(n, 32);
	print_message("%zu message-key vectors checked\n", n);
}

/* valid.calc_padded_len: all 24, plus the range ends. */
static void test_padded_len(void **state)
{
	const cJSON *v;
	size_t n = 0;

	(void)state;
	cJSON_ArrayForEach(v, section("valid", "calc_padded_len"))
	{
		uint64_t len = (uint64_t)cJSON_GetArrayItem(v, 0)->valuedouble;
		uint64_t want = (uint64_t)cJSON_GetArrayItem(v, 1)->valuedouble;

		assert_int_equal(nip44_padded_len(len), want);
		n++;
	}
	assert_int_equal(n, 24);
	assert_int_equal(nip44_padded_len(0), 0);
	assert_int_equal(nip44_padded_len(0xffffffffULL), 0x100000000ULL);
	assert_int_equal(nip44_padded_len(0x100000000ULL), 0);
	print_message("%zu padded-length vectors checked\n", n);
}

/* One encrypt_decrypt vector: key both ways, exact payload, decryption. */
static void check_encrypt_decrypt(const cJSON *v)
{
	struct nostr_seckey s1, s2;
	struct nostr_pubkey p1, p2;
	struct nip44_key ck, ck2;
	uint8_t want[32], nonce[32], *pt;
	const char *plain = tn_str(v, "plaintext"), *payload = tn_str(v, "payload");
	char *out;
	size_t len;

	assert_int_equal(tn_hex(s1.b, 32, v, "sec1"), 0);
	assert_int_equal(tn_hex(s2.b, 32, v, "sec2"), 0);
	assert_int_equal(tn_hex(want, 32, v, "conversation_key"), 0);
	assert_int_equal(tn_hex(nonce, 32, v, "nonce"), 0);
	assert_int_equal(nostr_seckey_pubkey(&p1, &s1), 0);
	assert_int_equal(nostr_seckey_pubkey(&p2, &s2), 0);
	assert_int_equal(nip44_conversation_key(&ck, &s1, &p2), NIP44_OK);
	assert_int_equal(nip44_conversation_key(&ck2, &s2, &p1), NIP44_OK);
	assert_memory_equal(ck.b, want, 32);
	assert_memory_equal(ck2.b, want, 32);
	assert_int_equal(
		nip44_encrypt_nonce(&out, &len, &ck, (const uint8_t *)plain, strlen(plain), nonce),
		NIP44_OK);
	assert_string_equal(out, payload);
	free(out);
	assert_int_equal(nip44_decrypt(&pt, &len, &ck2, payload, strlen(payload)), NIP44_OK);
	assert_int_equal(len, strlen(plain));
	assert_memory_equal(pt, plain, len);
	free(pt);
}

/* valid.encrypt_decrypt: all 10. */
static void test_encrypt_decrypt(void **state)
{
	const cJSON *v;
	size_t n = 0;

	(void)state;
	cJSON_ArrayForEach(v, section("valid", "encrypt_decrypt"))
	{
		check_encrypt_decrypt(v);
		n++;
	}
	assert_int_equal(n, 10);
	print_message("%zu encrypt/decrypt vectors checked\n", n);
}

/* Encrypt len bytes of a repeated pattern; compare plaintext and payload hashes; round trip. */
static void check_long(const struct nip44_key *ck, const uint8_t nonce[32], const char *pattern,
		       size_t repeat, const char *pt_sha, const char *payload_sha)
{
	size_t plen = strlen(pattern), len = plen * repeat, outlen, dlen;
	uint8_t *pt = malloc(len), *back;
	char *out, hex[65];

	assert_non_null(pt);
	for (size_t i = 0; i < repeat; i++)
		memcpy(pt + i * plen, pattern, plen);
	sha_hex(hex, pt, len);
	assert_string_equal(hex, pt_sha);
	assert_int_equal(nip44_encrypt_nonce(&out, &outlen, ck, pt, len, nonce), NIP44_OK);
	sha_hex(hex, out, outlen);
	assert_string_equal(hex, payload_sha);
	assert_int_equal(nip44_decrypt(&back, &dlen, ck, out, outlen), NIP44_OK);
	assert_int_equal(dlen, len);
	assert_memory_equal(back, pt, len);
	free(back);
	free(out);
	free(pt);
}

/* valid.encrypt_decrypt_long_msg: all 3. */
static void test_long_messages(void **state)
{
	const cJSON *v;
	size_t n = 0;

	(void)state;
	cJSON_ArrayForEach(v, section("valid", "encrypt_decrypt_long_msg"))
	{
		struct nip44_key ck;
		uint8_t nonce[32];

		assert_int_equal(tn_hex(ck.b, 32, v, "conversation_key"), 0);
		assert_int_equal(tn_hex(nonce, 32, v, "nonce"), 0);
		check_long(&ck, nonce, tn_str(v, "pattern"),
			   (size_t)cJSON_GetObjectItem(v, "repeat")->valuedouble,
			   tn_str(v, "plaintext_sha256"), tn_str(v, "payload_sha256"));
		n++;
	}
	assert_int_equal(n, 3);
	print_message("%zu long-message vectors checked\n", n);
}

/* nip44.extended-length.json: the spec's 3 extended-length vectors. */
static void test_extended_length(void **state)
{
	cJSON *j = tn_read_json("nip44.extended-length.json");
	const cJSON *v;
	struct nip44_key ck;
	uint8_t nonce[32];
	size_t n = 0;

	(void)state;
	assert_non_null(j);
	assert_int_equal(tn_hex(ck.b, 32, j, "conversation_key"), 0);
	assert_int_equal(tn_hex(nonce, 32, j, "nonce"), 0);
	cJSON_ArrayForEach(v, cJSON_GetObjectItem(j, "vectors"))
	{
		uint64_t len = (uint64_t)cJSON_GetObjectItem(v, "plaintext_len")->valuedouble;

		assert_int_equal(nip44_padded_len(len),
				 (uint64_t)cJSON_GetObjectItem(v, "padded_len")->valuedouble);
		check_long(&ck, nonce, tn_str(j, "plaintext_byte"), (size_t)len,
			   tn_str(v, "plaintext_sha256"), tn_str(v, "payload_sha256"));
		n++;
	}
	cJSON_Delete(j);
	assert_int_equal(n, 3);
	print_message("%zu extended-length vectors checked\n", n);
}

/* invalid.encrypt_msg_lengths: 0 invalid; 65536, 100000, 10000000 valid now (see top). */
static void test_msg_lengths(void **state)
{
	const cJSON *v;
	struct nip44_key ck;
	size_t n = 0, adjusted = 0;

	(void)state;
	assert_int_equal(nostr_random(ck.b, 32), 0);
	cJSON_ArrayForEach(v, section("invalid", "encrypt_msg_lengths"))
	{
		size_t len = (size_t)v->valuedouble, olen, dlen;
		uint8_t *pt = calloc(1, len + 1), *back;
		char *out;

		assert_non_null(pt);
		if (len == 0) {
			assert_int_equal(nip44_encrypt(&out, &olen, &ck, pt, len),
					 NIP44_ERR_LENGTH);
		} else { /* adjusted: valid under the current spec */
			assert_int_equal(nip44_encrypt(&out, &olen, &ck, pt, len), NIP44_OK);
			assert_int_equal(nip44_decrypt(&back, &dlen, &ck, out, olen), NIP44_OK);
			assert_int_equal(dlen, len);
			assert_memory_equal(back, pt, len);
			free(back);
			free(out);
			adjusted++;
		}
		free(pt);
		n++;
	}
	assert_int_equal(n, 4);
	print_message("%zu message lengths checked (%zu adjusted to valid per current spec)\n", n,
		      adjusted);
}

/* The error a decrypt vector's note names. */
static enum nip44_err expected_error(const char *note)
{
	static const struct {
		const char *prefix;
		enum nip44_err err;
	} map[] = {
		{"unknown encryption version", NIP44_ERR_VERSION},
		{"invalid base64", NIP44_ERR_BASE64},
		{"invalid MAC", NIP44_ERR_MAC},
		{"invalid padding", NIP44_ERR_PADDING},
		{"invalid payload length", NIP44_ERR_LENGTH},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strncmp(note, map[i].prefix, strlen(map[i].prefix)) == 0)
			return map[i].err;
	fail_msg("unmapped note: %s", note);
	return NIP44_OK;
}

/* invalid.decrypt: all 12, each with the distinct error its note names; every spec error seen. */
static void test_invalid_decrypt(void **state)
{
	const cJSON *v;
	size_t n = 0, seen[NIP44_ERR_CRYPTO + 1] = {0};

	(void)state;
	cJSON_ArrayForEach(v, section("invalid", "decrypt"))
	{
		const char *payload = tn_str(v, "payload");
		enum nip44_err want = expected_error(tn_str(v, "note")), got;
		struct nip44_key ck;
		uint8_t *pt = NULL;
		size_t len;

		assert_int_equal(tn_hex(ck.b, 32, v, "conversation_key"), 0);
		got = nip44_decrypt(&pt, &len, &ck, payload, strlen(payload));
		if (got != want)
			fail_msg("%s: got \"%s\"", tn_str(v, "note"), nip44_strerror(got));
		assert_null(pt);
		seen[got]++;
		n++;
	}
	assert_int_equal(n, 12);
	assert_int_equal(seen[NIP44_ERR_VERSION], 2);
	assert_int_equal(seen[NIP44_ERR_BASE64], 1);
	assert_int_equal(seen[NIP44_ERR_MAC], 2);
	assert_int_equal(seen[NIP44_ERR_PADDING], 3);
	assert_int_equal(seen[NIP44_ERR_LENGTH], 4);
	print_message("%zu invalid payloads rejected with the right error\n", n);
}

/* The error names are distinct, so a caller's message tells the cases apart. */
static void test_error_names(void **state)
{
	(void)state;
	for (int a = NIP44_OK; a <= NIP44_ERR_CRYPTO; a++) {
		assert_string_not_equal(nip44_strerror((enum nip44_err)a), "unknown error");
		for (int b = a + 1; b <= NIP44_ERR_CRYPTO; b++)
			assert_string_not_equal(nip44_strerror((enum nip44_err)a),
						nip44_strerror((enum nip44_err)b));
	}
	assert_string_equal(nip44_strerror((enum nip44_err)99), "unknown error");
}

/* A payload with a valid MAC around the given padded plaintext (built with OpenSSL here). */
static char *seal(const struct nip44_key *ck, const uint8_t *padded, size_t n)
{
	uint8_t nonce[32], iv[16] = {0}, *raw = malloc(1 + 32 + n + 32);
	struct nip44_msg_keys mk;
	EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
	char *out = malloc(4 * ((1 + 32 + n + 32 + 2) / 3) + 1);
	size_t maclen = 0;
	int len = 0;

	assert_true(raw != NULL && cc != NULL && out != NULL);
	memset(nonce, 0x42, sizeof(nonce));
	assert_int_equal(nip44_message_keys(&mk, ck, nonce), NIP44_OK);
	memcpy(iv + 4, mk.chacha_nonce, 12);
	raw[0] = 2;
	memcpy(raw + 1, nonce, 32);
	assert_int_equal(EVP_EncryptInit_ex2(cc, EVP_chacha20(), mk.chacha_key, iv, NULL), 1);
	assert_int_equal(EVP_EncryptUpdate(cc, raw + 33, &len, padded, (int)n), 1);
	assert_int_equal(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, mk.hmac_key, 32, raw + 1,
				   32 + n, raw + 33 + n, 32, &maclen) != NULL,
			 1);
	assert_int_equal(EVP_EncodeBlock((unsigned char *)out, raw, (int)(1 + 32 + n + 32)) > 0, 1);
	EVP_CIPHER_CTX_free(cc);
	free(raw);
	return out;
}

/* Decrypt seal(padded) and expect e (and, on success, plaintext want). */
static void check_sealed(const struct nip44_key *ck, const uint8_t *padded, size_t n,
			 enum nip44_err e, const char *want)
{
	char *payload = seal(ck, padded, n);
	uint8_t *pt = NULL;
	size_t len;
	enum nip44_err got = nip44_decrypt(&pt, &len, ck, payload, strlen(payload));

	if (got != e)
		fail_msg("got \"%s\", want \"%s\"", nip44_strerror(got), nip44_strerror(e));
	if (e == NIP44_OK) {
		assert_int_equal(len, strlen(want));
		assert_memory_equal(pt, want, len);
	} else
		assert_null(pt);
	free(pt);
	free(payload);
}

/* The 6-byte prefix of 65536 behind a valid MAC: right padded size accepted, wrong refused. */
static void check_extended(const struct nip44_key *ck)
{
	size_t n = 6 + 65536 + 8192;
	uint8_t *x = calloc(1, n);
	char *want = malloc(65536 + 1);

	assert_true(x != NULL && want != NULL);
	x[3] = 1; /* 00 00 | 00 01 00 00 = 65536 */
	memset(x + 6, 'a', 65536);
	memset(want, 'a', 65536);
	want[65536] = '\0';
	assert_int_equal(nip44_padded_len(65536), 65536);
	check_sealed(ck, x, 6 + 65536, NIP44_OK, want);
	check_sealed(ck, x, n, NIP44_ERR_PADDING, NULL);
	free(want);
	free(x);
}

/* Length prefixes behind a valid MAC: the padding errors, the extended-prefix rules. */
static void test_padding_errors(void **state)
{
	uint8_t p[2 + 64] = {0, 5, 'h', 'e', 'l', 'l', 'o'}, x[6 + 32] = {0, 0, 0, 0, 0, 5};
	struct nip44_key ck;

	(void)state;
	memset(ck.b, 0x11, sizeof(ck.b));
	check_sealed(&ck, p, 2 + 32, NIP44_OK, "hello");	  /* seal() itself is right */
	check_sealed(&ck, p, 2 + 64, NIP44_ERR_PADDING, NULL);	  /* padded too long for 5 */
	check_sealed(&ck, p, 2 + 32 - 1, NIP44_ERR_LENGTH, NULL); /* below the minimum payload */
	p[1] = 0;
	check_sealed(&ck, p, 2 + 32, NIP44_ERR_PADDING, NULL); /* length 0 */
	p[1] = 33;
	check_sealed(&ck, p, 2 + 32, NIP44_ERR_PADDING, NULL); /* 33 needs 64 */
	memcpy(x + 6, "hello", 5);
	check_sealed(&ck, x, 6 + 32, NIP44_ERR_PADDING, NULL); /* 6-byte prefix below 65536 */
	memset(x, 0, 6);
	check_sealed(&ck, x, 6 + 32, NIP44_ERR_PADDING, NULL); /* 6-byte prefix of 0 */
	p[1] = 5;
	p[2 + 31] = 0x99; /* non-zero padding bytes: accepted, as the spec's unpad does */
	check_sealed(&ck, p, 2 + 32, NIP44_OK, "hello");
	check_extended(&ck);
}

/* Every single-character change of a valid payload is rejected, never decrypted. */
static void test_mutations(void **state)
{
	static const char alphabet[] = "A/+z9=#";
	const cJSON *v = cJSON_GetArrayItem(section("valid", "encrypt_decrypt"), 0);
	const char *payload = tn_str(v, "payload");
	size_t plen = strlen(payload), n = 0;
	char *bad = malloc(plen + 1);
	struct nip44_key ck;

	(void)state;
	assert_non_null(bad);
	assert_int_equal(tn_hex(ck.b, 32, v, "conversation_key"), 0);
	for (size_t i = 0; i < plen; i++) {
		for (size_t a = 0; a < sizeof(alphabet) - 1; a++) {
			uint8_t *pt = NULL;
			size_t len;

			memcpy(bad, payload, plen + 1);
			if (bad[i] == alphabet[a])
				continue;
			bad[i] = alphabet[a];
			assert_int_not_equal(nip44_decrypt(&pt, &len, &ck, bad, plen), NIP44_OK);
			assert_null(pt);
			n++;
		}
	}
	free(bad);
	print_message("%zu mutated payloads rejected\n", n);
}

/* The cache: hits after the first ECDH, symmetric keys, bounded with eviction. */
static void test_cache(void **state)
{
	struct nostr_keypair a, b, peers[40];
	struct nip44_cache *c;
	struct nip44_key k1, k2, k3;
	struct nostr_seckey sk;
	uint64_t hits, misses;

	(void)state;
	assert_int_equal(nostr_keypair_generate(&a), 0);
	assert_int_equal(nostr_keypair_generate(&b), 0);
	assert_int_equal(nip44_cache_new(&c, 8), 0);
	assert_int_equal(nip44_cache_get(c, &k1, &a, &b.pub), NIP44_OK);
	assert_int_equal(nip44_cache_get(c, &k2, &a, &b.pub), NIP44_OK);
	nostr_keypair_seckey(&sk, &b);
	assert_int_equal(nip44_conversation_key(&k3, &sk, &a.pub), NIP44_OK);
	assert_memory_equal(k1.b, k2.b, 32);
	assert_memory_equal(k1.b, k3.b, 32);
	nip44_cache_stats(c, &hits, &misses);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 1);
	for (size_t i = 0; i < 40; i++) { /* 40 peers through 8 slots: still correct */
		assert_int_equal(nostr_keypair_generate(&peers[i]), 0);
		assert_int_equal(nip44_cache_get(c, &k1, &a, &peers[i].pub), NIP44_OK);
		nostr_keypair_seckey(&sk, &peers[i]);
		assert_int_equal(nip44_conversation_key(&k3, &sk, &a.pub), NIP44_OK);
		assert_memory_equal(k1.b, k3.b, 32);
	}
	for (size_t i = 0; i < 40; i++)
		assert_int_equal(nip44_cache_get(c, &k1, &a, &peers[i].pub), NIP44_OK);
	nip44_cache_stats(c, &hits, &misses);
	assert_true(misses >= 41 + 32); /* at most 8 of the 40 can still be cached */
	memset(k3.b, 0xff, 32);		/* not a point: an error, not a cache entry */
	assert_int_equal(nip44_cache_get(c, &k1, &a, (struct nostr_pubkey *)&k3), NIP44_ERR_KEY);
	nip44_cache_free(&c);
	assert_null(c);
	nostr_seckey_wipe(&sk);
}

/* Buckets of 200 pairs that share the first 8 bytes of both keys (cache of 64 buckets). */
static void bucket_run(struct nip44_cache *c, size_t out[200])
{
	struct nostr_pubkey own, peer;
	memset(own.b, 0x11, sizeof(own.b));
	memset(peer.b, 0x22, sizeof(peer.b));
	for (size_t i = 0; i < 200; i++) {
		peer.b[31] = (uint8_t)i;	/* the last byte of the peer... */
		own.b[16] = (uint8_t)(i / 100); /* ...and a middle byte of our own key */
		assert_int_equal(nip44_cache_bucket(c, &out[i], &own, &peer), 0);
		assert_true(out[i] < c->nbuckets);
	}
}

/*
 * The bucket is a keyed PRF of all 64 bytes: pairs equal in their first
 * bytes spread over the buckets, and two caches (two random keys) place
 * them differently. Under a PRF, fewer than 32 of 64 buckets for 200
 * pairs, or the same placement twice, has odds below 2^-100.
 */
static void test_cache_bucket(void **state)
{
	struct nip44_cache *c1, *c2;
	size_t b1[200], b2[200], used = 0, same = 0;
	bool seen[64] = {false};

	(void)state;
	assert_int_equal(nip44_cache_new(&c1, 256), 0);
	assert_int_equal(nip44_cache_new(&c2, 256), 0);
	assert_int_equal(c1->nbuckets, 64);
	bucket_run(c1, b1);
	bucket_run(c2, b2);
	for (size_t i = 0; i < 200; i++) {
		used += !seen[b1[i]];
		seen[b1[i]] = true;
		same += b1[i] == b2[i];
	}
	assert_true(used >= 32);
	assert_true(same < 200);
	nip44_cache_free(&c1);
	nip44_cache_free(&c2);
}

/* Run the group. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conversation_keys),
		cmocka_unit_test(test_invalid_conversation_keys),
		cmocka_unit_test(test_message_keys),
		cmocka_unit_test(test_padded_len),
		cmocka_unit_test(test_encrypt_decrypt),
		cmocka_unit_test(test_long_messages),
		cmocka_unit_test(test_extended_length),
		cmocka_unit_test(test_msg_lengths),
		cmocka_unit_test(test_invalid_decrypt),
		cmocka_unit_test(test_error_names),
		cmocka_unit_test(test_padding_errors),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_cache_bucket),
	};

	return cmocka_run_group_tests_name("nostr_nip44", tests, setup, teardown);
}
