/*
 * keys.c - Nostr keys over libsecp256k1, randomness from OpenSSL.
 *
 * The libsecp256k1 context is created once under pthread_once, randomized
 * with 32 CSPRNG bytes, and never changed afterwards: libsecp256k1 allows
 * concurrent use of a context through const pointers, so every function
 * here is thread-safe.
 */
#include "nostr/keys.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "nostr/hex.h"

static void keys_ctx_init(void);

static pthread_once_t keys_once = PTHREAD_ONCE_INIT;
static secp256k1_context *keys_ctx;

/* Create and randomize the shared context (aborts if that is impossible). */
static void keys_ctx_init(void)
{
	uint8_t seed[32];

	keys_ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (keys_ctx == NULL || RAND_bytes(seed, sizeof(seed)) != 1 ||
	    !secp256k1_context_randomize(keys_ctx, seed))
		abort();
	OPENSSL_cleanse(seed, sizeof(seed));
}

/* The shared context. */
const secp256k1_context *nostr_secp(void)
{
	pthread_once(&keys_once, keys_ctx_init);
	return keys_ctx;
}

/* n bytes from the OS CSPRNG. */
int nostr_random(uint8_t *buf, size_t n)
{
	if (n > (size_t)0x7fffffff)
		return -1;
	return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

/* Check 0 < k < n. */
int nostr_seckey_verify(const struct nostr_seckey *sk)
{
	return secp256k1_ec_seckey_verify(nostr_secp(), sk->b) ? 0 : -1;
}

/* A fresh random secret key (retries the ~2^-128 out-of-range case). */
int nostr_seckey_generate(struct nostr_seckey *out)
{
	for (int i = 0; i < 8; i++) {
		if (nostr_random(out->b, sizeof(out->b)) != 0)
			break;
		if (nostr_seckey_verify(out) == 0)
			return 0;
	}
	nostr_seckey_wipe(out);
	return -1;
}

/* Parse 64 hex digits into a valid secret key. */
int nostr_seckey_from_hex(struct nostr_seckey *out, const char *hex, size_t len)
{
	if (hex_decode(out->b, sizeof(out->b), hex, len, HEX_ANY_CASE) == 0 &&
	    nostr_seckey_verify(out) == 0)
		return 0;
	nostr_seckey_wipe(out);
	return -1;
}

/* Hex of a secret key (the caller wipes out). */
void nostr_seckey_to_hex(char out[65], const struct nostr_seckey *sk)
{
	hex_encode(out, sk->b, sizeof(sk->b));
}

/* Wipe a secret key. */
void nostr_seckey_wipe(struct nostr_seckey *sk)
{
	OPENSSL_cleanse(sk, sizeof(*sk));
}

/* The x-only public key of sk. */
int nostr_seckey_pubkey(struct nostr_pubkey *out, const struct nostr_seckey *sk)
{
	struct nostr_keypair kp;
	int rc = nostr_keypair_from_seckey(&kp, sk);

	if (rc == 0)
		*out = kp.pub;
	nostr_keypair_wipe(&kp);
	return rc;
}

/* Parse a lower-case hex x-only public key on the curve. */
int nostr_pubkey_from_hex(struct nostr_pubkey *out, const char *hex, size_t len)
{
	if (hex_decode(out->b, sizeof(out->b), hex, len, HEX_LOWER) != 0)
		return -1;
	return nostr_pubkey_verify(out);
}

/* Check 32 bytes are a curve point's x. */
int nostr_pubkey_verify(const struct nostr_pubkey *pk)
{
	secp256k1_xonly_pubkey x;

	return secp256k1_xonly_pubkey_parse(nostr_secp(), &x, pk->b) ? 0 : -1;
}

/* Hex of a public key. */
void nostr_pubkey_to_hex(char out[65], const struct nostr_pubkey *pk)
{
	hex_encode(out, pk->b, sizeof(pk->b));
}

/* Equality of two public keys. */
int nostr_pubkey_equal(const struct nostr_pubkey *a, const struct nostr_pubkey *b)
{
	return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

/* Keypair of a secret key. */
int nostr_keypair_from_seckey(struct nostr_keypair *out, const struct nostr_seckey *sk)
{
	const secp256k1_context *ctx = nostr_secp();
	secp256k1_xonly_pubkey x;

	memset(out, 0, sizeof(*out));
	if (!secp256k1_keypair_create(ctx, &out->kp, sk->b) ||
	    !secp256k1_keypair_xonly_pub(ctx, &x, NULL, &out->kp) ||
	    !secp256k1_xonly_pubkey_serialize(ctx, out->pub.b, &x)) {
		nostr_keypair_wipe(out);
		return -1;
	}
	return 0;
}

/* A fresh random keypair. */
int nostr_keypair_generate(struct nostr_keypair *out)
{
	struct nostr_seckey sk;
	int rc = -1;

	if (nostr_seckey_generate(&sk) == 0)
		rc = nostr_keypair_from_seckey(out, &sk);
	nostr_seckey_wipe(&sk);
	return rc;
}

/* The secret key of a keypair. */
void nostr_keypair_seckey(struct nostr_seckey *out, const struct nostr_keypair *kp)
{
	if (!secp256k1_keypair_sec(nostr_secp(), out->b, &kp->kp))
		nostr_seckey_wipe(out);
}

/* Wipe a keypair. */
void nostr_keypair_wipe(struct nostr_keypair *kp)
{
	OPENSSL_cleanse(kp, sizeof(*kp));
}
