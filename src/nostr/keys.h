/*
 * keys.h - Nostr keys: secret keys, x-only public keys, keypairs.
 *
 * Secret material lives only in struct nostr_seckey and struct
 * nostr_keypair. No log_* constructor accepts them (core/log.h), so they
 * cannot be logged by accident; wipe them with nostr_seckey_wipe() /
 * nostr_keypair_wipe() (OPENSSL_cleanse) when done.
 *
 * Every function uses one libsecp256k1 context, created and randomized
 * once (pthread_once) on first use and never freed or modified later, so
 * all functions here are safe to call from several threads at once.
 *
 * Return convention: 0 on success, -1 on failure (invalid input, or the
 * OS CSPRNG failing for the generators).
 */
#ifndef KC_NOSTR_KEYS_H
#define KC_NOSTR_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>

/* A secret key: 32 bytes, 0 < k < n. Wipe after use. */
struct nostr_seckey {
	uint8_t b[32];
};

/* An x-only public key (BIP-340), as serialized: 32 bytes. */
struct nostr_pubkey {
	uint8_t b[32];
};

/* A keypair in libsecp256k1's form (signing needs no re-derivation). */
struct nostr_keypair {
	secp256k1_keypair kp;	 /* secret: wipe with nostr_keypair_wipe() */
	struct nostr_pubkey pub; /* its x-only public key */
};

/* The shared, randomized, read-only libsecp256k1 context (thread-safe; the process
 * aborts if it cannot be created or randomized on first use). */
const secp256k1_context *nostr_secp(void);

/* Fill buf with n bytes from the OS CSPRNG (OpenSSL RAND_bytes); 0 or -1. */
int nostr_random(uint8_t *buf, size_t n) __attribute__((warn_unused_result));

/* Check a secret key is in range (0 < k < n); 0 or -1. */
int nostr_seckey_verify(const struct nostr_seckey *sk) __attribute__((warn_unused_result));

/* A fresh random secret key from the OS CSPRNG; 0 or -1. */
int nostr_seckey_generate(struct nostr_seckey *out) __attribute__((warn_unused_result));

/* Parse 64 hex digits (either case, exactly len) into a valid secret key; 0 or -1. */
int nostr_seckey_from_hex(struct nostr_seckey *out, const char *hex, size_t len)
	__attribute__((warn_unused_result));

/* Write sk as 64 lower-case hex digits + NUL. out is secret: wipe it after use. */
void nostr_seckey_to_hex(char out[65], const struct nostr_seckey *sk);

/* Wipe a secret key (OPENSSL_cleanse). */
void nostr_seckey_wipe(struct nostr_seckey *sk);

/* The x-only public key of sk; 0, or -1 if sk is invalid. */
int nostr_seckey_pubkey(struct nostr_pubkey *out, const struct nostr_seckey *sk)
	__attribute__((warn_unused_result));

/* Parse 64 lower-case hex digits (exactly len) of a point on the curve; 0 or -1. */
int nostr_pubkey_from_hex(struct nostr_pubkey *out, const char *hex, size_t len)
	__attribute__((warn_unused_result));

/* Check that 32 bytes are the x coordinate of a curve point; 0 or -1. */
int nostr_pubkey_verify(const struct nostr_pubkey *pk) __attribute__((warn_unused_result));

/* Write pk as 64 lower-case hex digits + NUL. */
void nostr_pubkey_to_hex(char out[65], const struct nostr_pubkey *pk);

/* Whether two public keys are equal (1) or not (0). */
int nostr_pubkey_equal(const struct nostr_pubkey *a, const struct nostr_pubkey *b);

/* Build a keypair from a secret key; 0, or -1 if sk is invalid. */
int nostr_keypair_from_seckey(struct nostr_keypair *out, const struct nostr_seckey *sk)
	__attribute__((warn_unused_result));

/* A fresh random keypair from the OS CSPRNG; 0 or -1. */
int nostr_keypair_generate(struct nostr_keypair *out) __attribute__((warn_unused_result));

/* Copy the secret key out of a keypair (wipe it after use). */
void nostr_keypair_seckey(struct nostr_seckey *out, const struct nostr_keypair *kp);

/* Wipe a keypair (OPENSSL_cleanse). */
void nostr_keypair_wipe(struct nostr_keypair *kp);

#endif /* KC_NOSTR_KEYS_H */
