/*
 * test_nostr_keys.c - hex, keys, bech32 (npub/nsec) and the 19 official
 * BIP-340 vectors (signing reproduced byte for byte, verification result).
 *
 * Every vector is verified. Signing is checked for the 8 vectors that carry
 * a secret key (0-3, 15-18); vectors 4-14 are verification-only in the
 * official file (no secret key, mostly invalid signatures), so there is
 * nothing to sign for them. No vector is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <secp256k1_schnorrsig.h>

#include "nostr/bech32.h"
#include "nostr/hex.h"
#include "nostr/keys.h"
#include "test_nostr_util.h"

/* One parsed row of bip340.test-vectors.csv. */
struct bip340_row {
	char f[8][300]; /* index, seckey, pubkey, aux, msg, sig, result, comment */
};

/* Split a CSV line into the row's first 7 fields and the comment; 0 or -1. */
static int bip340_split(struct bip340_row *r, const char *line)
{
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < 8; i++) {
		size_t n = i < 7 ? strcspn(line, ",\r\n") : strcspn(line, "\r\n");

		if (n >= sizeof(r->f[i]))
			return -1;
		memcpy(r->f[i], line, n);
		for (size_t k = 0; i < 7 && k < n; k++)
			r->f[i][k] = (char)tolower((unsigned char)r->f[i][k]);
		line += n;
		if (i < 7 && *line++ != ',')
			return -1;
	}
	return 0;
}

/* Sign with the row's key and aux_rand; the signature must equal the row's. */
static void bip340_check_sign(const struct bip340_row *r)
{
	struct nostr_seckey sk;
	struct nostr_keypair kp;
	struct nostr_pubkey pk;
	uint8_t aux[32], msg[128], sig[64], want[64];
	size_t mlen = strlen(r->f[4]) / 2;
	secp256k1_schnorrsig_extraparams ep = SECP256K1_SCHNORRSIG_EXTRAPARAMS_INIT;

	assert_int_equal(nostr_seckey_from_hex(&sk, r->f[1], strlen(r->f[1])), 0);
	assert_int_equal(nostr_keypair_from_seckey(&kp, &sk), 0);
	assert_int_equal(nostr_pubkey_from_hex(&pk, r->f[2], strlen(r->f[2])), 0);
	assert_true(nostr_pubkey_equal(&pk, &kp.pub));
	assert_int_equal(hex_decode(aux, 32, r->f[3], strlen(r->f[3]), HEX_LOWER), 0);
	assert_true(mlen <= sizeof(msg));
	assert_int_equal(hex_decode(msg, mlen, r->f[4], strlen(r->f[4]), HEX_LOWER), 0);
	assert_int_equal(hex_decode(want, 64, r->f[5], strlen(r->f[5]), HEX_LOWER), 0);
	ep.ndata = aux;
	assert_int_equal(
		secp256k1_schnorrsig_sign_custom(nostr_secp(), sig, msg, mlen, &kp.kp, &ep), 1);
	assert_memory_equal(sig, want, 64);
	nostr_keypair_wipe(&kp);
	nostr_seckey_wipe(&sk);
}

/* Verify the row's signature; the outcome must equal the row's result. */
static void bip340_check_verify(const struct bip340_row *r)
{
	struct nostr_pubkey pk;
	secp256k1_xonly_pubkey x;
	uint8_t msg[128], sig[64];
	size_t mlen = strlen(r->f[4]) / 2;
	int ok = 0, want = strcmp(r->f[6], "true") == 0;

	assert_true(mlen <= sizeof(msg));
	assert_int_equal(hex_decode(msg, mlen, r->f[4], strlen(r->f[4]), HEX_LOWER), 0);
	assert_int_equal(hex_decode(sig, 64, r->f[5], strlen(r->f[5]), HEX_LOWER), 0);
	if (nostr_pubkey_from_hex(&pk, r->f[2], strlen(r->f[2])) == 0) {
		assert_int_equal(secp256k1_xonly_pubkey_parse(nostr_secp(), &x, pk.b), 1);
		ok = secp256k1_schnorrsig_verify(nostr_secp(), sig, msg, mlen, &x);
	}
	assert_int_equal(ok, want);
}

/* All 19 BIP-340 vectors: every one verified, every one with a key signed. */
static void test_bip340_vectors(void **state)
{
	size_t len, nverify = 0, nsign = 0;
	char *text = tn_read_vector("bip340.test-vectors.csv", &len), *line, *save = NULL;
	struct bip340_row r;

	(void)state;
	assert_non_null(text);
	line = strtok_r(text, "\n", &save); /* header */
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		assert_int_equal(bip340_split(&r, line), 0);
		assert_int_equal(strtoul(r.f[0], NULL, 10), nverify); /* rows 0..18 in order */
		if (r.f[1][0] != '\0') {
			bip340_check_sign(&r);
			nsign++;
		}
		bip340_check_verify(&r);
		nverify++;
	}
	free(text);
	assert_int_equal(nverify, 19);
	assert_int_equal(nsign, 8);
	print_message(
		"%zu BIP-340 vectors verified, %zu signed byte for byte (the others have no key)\n",
		nverify, nsign);
}

/* Hex: round trip, exact length, lower-case mode, bad digits. */
static void test_hex(void **state)
{
	uint8_t b[3] = {0x00, 0xab, 0xff}, out[3];
	char h[7];

	(void)state;
	hex_encode(h, b, 3);
	assert_string_equal(h, "00abff");
	assert_int_equal(hex_decode(out, 3, "00ABff", 6, HEX_ANY_CASE), 0);
	assert_memory_equal(out, b, 3);
	assert_int_equal(hex_decode(out, 3, "00ABff", 6, HEX_LOWER), -1);
	assert_int_equal(hex_decode(out, 3, "00abf", 5, HEX_ANY_CASE), -1);
	assert_int_equal(hex_decode(out, 3, "00abfg", 6, HEX_ANY_CASE), -1);
	assert_int_equal(hex_decode(out, 2, "00abff", 6, HEX_ANY_CASE), -1);
}

/* Keys: generation, range checks, pubkey validation, keypair secret round trip. */
static void test_keys(void **state)
{
	struct nostr_seckey sk, sk2;
	struct nostr_keypair kp;
	struct nostr_pubkey pk;
	char hex[65];
	static const char n_hex[] =
		"fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

	(void)state;
	assert_int_equal(nostr_keypair_generate(&kp), 0);
	nostr_keypair_seckey(&sk, &kp);
	assert_int_equal(nostr_seckey_pubkey(&pk, &sk), 0);
	assert_true(nostr_pubkey_equal(&pk, &kp.pub));
	nostr_seckey_to_hex(hex, &sk);
	assert_int_equal(nostr_seckey_from_hex(&sk2, hex, 64), 0);
	assert_memory_equal(sk.b, sk2.b, 32);
	assert_int_equal(nostr_seckey_from_hex(&sk2, n_hex, 64), -1);
	assert_int_equal(nostr_seckey_from_hex(&sk2, "00", 2), -1);
	memset(sk2.b, 0, 32);
	assert_int_equal(nostr_seckey_verify(&sk2), -1);
	memset(hex, 'f', 64); /* x >= p: not a field element */
	assert_int_equal(nostr_pubkey_from_hex(&pk, hex, 64), -1);
	nostr_pubkey_to_hex(hex, &kp.pub);
	assert_int_equal(nostr_pubkey_from_hex(&pk, hex, 64), 0);
	nostr_keypair_wipe(&kp);
	nostr_seckey_wipe(&sk);
	for (size_t i = 0; i < sizeof(kp); i++)
		assert_int_equal(((uint8_t *)&kp)[i], 0);
}

/* NIP-19 vectors from the NIP text, and round trips. */
static void test_bech32_nip19(void **state)
{
	static const char npub[] =
		"npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg";
	static const char pkhex[] =
		"7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e";
	static const char nsec[] =
		"nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5";
	static const char skhex[] =
		"67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa";
	struct nostr_pubkey pk, pk2;
	struct nostr_seckey sk;
	char out[BECH32_KEY_LEN], hex[65];

	(void)state;
	assert_int_equal(bech32_npub_decode(&pk, npub), 0);
	nostr_pubkey_to_hex(hex, &pk);
	assert_string_equal(hex, pkhex);
	assert_int_equal(bech32_npub_encode(out, sizeof(out), &pk), 0);
	assert_string_equal(out, npub);
	assert_int_equal(bech32_nsec_decode(&sk, nsec), 0);
	nostr_seckey_to_hex(hex, &sk);
	assert_string_equal(hex, skhex);
	assert_int_equal(bech32_nsec_encode(out, sizeof(out), &sk), 0);
	assert_string_equal(out, nsec);
	assert_int_equal(bech32_npub_encode(out, 10, &pk), -1); /* too small */
	memcpy(out, npub, sizeof(npub));
	for (char *p = out; *p; p++) /* upper case is valid bech32 */
		*p = (char)toupper((unsigned char)*p);
	assert_int_equal(bech32_npub_decode(&pk2, out), 0);
	assert_true(nostr_pubkey_equal(&pk, &pk2));
	nostr_seckey_wipe(&sk);
}

/* Rejections: checksum, mixed case, wrong hrp, bad characters, lengths. */
static void test_bech32_reject(void **state)
{
	static const char npub[] =
		"npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg";
	struct nostr_pubkey pk;
	struct nostr_seckey sk;
	char bad[sizeof(npub)];
	uint8_t data[8];
	char hrp[8], enc[32];
	size_t n, checked = 0;

	(void)state;
	for (size_t i = 5; i < sizeof(npub) - 1; i++, checked++) { /* any 1-char change */
		memcpy(bad, npub, sizeof(npub));
		bad[i] = bad[i] == 'q' ? 'p' : 'q';
		assert_int_equal(bech32_npub_decode(&pk, bad), -1);
	}
	memcpy(bad, npub, sizeof(npub));
	bad[0] = 'N';
	assert_int_equal(bech32_npub_decode(&pk, bad), -1);  /* mixed case */
	assert_int_equal(bech32_nsec_decode(&sk, npub), -1); /* wrong hrp */
	assert_int_equal(bech32_npub_decode(&pk, "npub1"), -1);
	assert_int_equal(bech32_npub_decode(&pk, ""), -1);
	assert_int_equal(bech32_npub_decode(&pk, "npub1bbbbbbb"), -1);
	assert_int_equal(bech32_encode(enc, sizeof(enc), "ab", (const uint8_t *)"\x01\x02", 2), 0);
	assert_int_equal(bech32_decode(hrp, sizeof(hrp), data, sizeof(data), &n, enc), 0);
	assert_string_equal(hrp, "ab");
	assert_int_equal(n, 2);
	assert_int_equal(bech32_decode(hrp, 2, data, sizeof(data), &n, enc), -1); /* hrp room */
	print_message("%zu corrupted npub strings rejected\n", checked);
}

/* Run the group. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_bip340_vectors),
		cmocka_unit_test(test_bech32_nip19),
		cmocka_unit_test(test_bech32_reject),
	};

	return cmocka_run_group_tests_name("nostr_keys", tests, NULL, NULL);
}
