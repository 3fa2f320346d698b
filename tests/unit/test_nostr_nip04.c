/*
 * test_nostr_nip04.c - NIP-04: shared key symmetry, a fixed-IV known
 * answer, round trips of many lengths, and malformed payloads rejected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "nostr/keys.h"
#include "nostr/nip04.h"

/* Two parties' shared keys (equal by construction of ECDH). */
static void make_keys(struct nip04_key *ka, struct nip04_key *kb)
{
	struct nostr_seckey a, b;
	struct nostr_pubkey pa, pb;

	assert_int_equal(nostr_seckey_generate(&a), 0);
	assert_int_equal(nostr_seckey_generate(&b), 0);
	assert_int_equal(nostr_seckey_pubkey(&pa, &a), 0);
	assert_int_equal(nostr_seckey_pubkey(&pb, &b), 0);
	assert_int_equal(nip04_shared_key(ka, &a, &pb), 0);
	assert_int_equal(nip04_shared_key(kb, &b, &pa), 0);
	nostr_seckey_wipe(&a);
	nostr_seckey_wipe(&b);
}

/* Symmetric keys; round trips from 0 to 100 bytes and a 70000-byte message. */
static void test_round_trip(void **state)
{
	struct nip04_key ka, kb;
	uint8_t pt[70000], *back;
	char *out, err[128];
	size_t len, blen, n = 0;

	(void)state;
	make_keys(&ka, &kb);
	assert_memory_equal(ka.b, kb.b, 32);
	for (size_t i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)(i * 7);
	for (size_t l = 0; l <= 100 || l == 70000; l = l == 100 ? 70000 : l + 1, n++) {
		assert_int_equal(nip04_encrypt(&out, &len, &ka, pt, l, err, sizeof(err)), 0);
		assert_non_null(strstr(out, "?iv="));
		assert_int_equal(nip04_decrypt(&back, &blen, &kb, out, len, err, sizeof(err)), 0);
		assert_int_equal(blen, l);
		assert_memory_equal(back, pt, l);
		free(back);
		free(out);
		if (l == 70000)
			break;
	}
	print_message("%zu NIP-04 round trips checked\n", n + 1);
}

/* A known answer: AES-256-CBC of "hello" under a zero key and zero IV. */
static void test_known_answer(void **state)
{
	struct nip04_key k = {{0}};
	uint8_t iv[16] = {0};
	char *out, err[128];
	size_t len;

	(void)state;
	assert_int_equal(
		nip04_encrypt_iv(&out, &len, &k, (const uint8_t *)"hello", 5, iv, err, sizeof(err)),
		0);
	/* openssl enc -aes-256-cbc -K 00..00 -iv 00..00 <<< -n hello | base64 */
	assert_string_equal(out, "wjXeJNI54DzI43fGBPymew==?iv=AAAAAAAAAAAAAAAAAAAAAA==");
	free(out);
}

/* Malformed payloads are rejected with a message; a wrong key fails. */
static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"wjXeJNI54DzI43fGBPymew==",
		"wjXeJNI54DzI43fGBPymew==?iv=",
		"wjXeJNI54DzI43fGBPymew==?iv=AAAAAAAAAAAAAAAAAAAA",	/* 15-byte IV */
		"wjXeJNI54DzI43fGBPymew==?iv=AAAAAAAAAAAAAAAAAAAAAAAA", /* 18-byte IV */
		"wjXeJNI54DzI43fGBPymew==?IV=AAAAAAAAAAAAAAAAAAAAAA==",
		"wjXeJNI54DzI43fGBPymew==&iv=AAAAAAAAAAAAAAAAAAAAAA==",
		"wjXeJNI54DzI43fGBPym?iv=AAAAAAAAAAAAAAAAAAAAAA==",	    /* 15 bytes */
		"wjXeJNI54DzI43f BPymew==?iv=AAAAAAAAAAAAAAAAAAAAAA==",	    /* space */
		"?iv=AAAAAAAAAAAAAAAAAAAAAA==",				    /* empty */
		"wjXeJNI54DzI43fGBPymew==?iv=AAAAAAAAAAAAAAAAAAAAAA==?iv=", /* trailing */
		"wjXeJNI54DzI43fGBPymex==?iv=AAAAAAAAAAAAAAAAAAAAAA==",	    /* bad trailing bits */
		"wjXeJNI54DzI43fGBPymew==?iv=AAAAAAAAAAAAAAAAAAAAAQ==",	    /* wrong IV: padding */
		"AAAA?iv=AAAAAAAAAAAAAAAAAAAAAA==",			    /* 3-byte ciphertext */
		"wjXeJNI54DzI43fGBPymew=?iv=AAAAAAAAAAAAAAAAAAAAAA==",	    /* bad padding */
		"wjXeJNI54DzI43fGBPymew==?iv=AAAAAAAAAAAAAAAAAAAAAA==\n",   /* trailing newline */
	};
	struct nip04_key k = {{0}}, other = {{1}};
	uint8_t *out;
	size_t len;
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (nip04_decrypt(&out, &len, &k, bad[i], strlen(bad[i]), err, sizeof(err)) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_null(out);
		assert_true(strncmp(err, "nip04: ", 7) == 0);
	}
	assert_int_equal(nip04_decrypt(&out, &len, &k,
				       "wjXeJNI54DzI43fGBPymew==?iv=AAAAAAAAAAAAAAAAAAAAAA==", 52,
				       err, sizeof(err)),
			 0);
	assert_string_equal((char *)out, "hello");
	free(out);
	assert_int_equal(nip04_decrypt(&out, &len, &other,
				       "wjXeJNI54DzI43fGBPymew==?iv=AAAAAAAAAAAAAAAAAAAAAA==", 52,
				       err, sizeof(err)),
			 -1);
	print_message("%zu malformed NIP-04 payloads rejected\n", sizeof(bad) / sizeof(bad[0]));
}

/* Run the group. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests_name("nostr_nip04", tests, NULL, NULL);
}
