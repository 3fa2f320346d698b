/*
 * nip04.h - NIP-04 (legacy) encryption: AES-256-CBC keyed by the unhashed
 * ECDH shared x coordinate, payload "base64(ciphertext)?iv=base64(iv)".
 *
 * Parsing is strict: exactly one "?iv=", strict base64, a 16-byte IV, a
 * non-empty ciphertext whose length is a multiple of 16, valid PKCS#7.
 * Return convention: 0, or -1 with a message in err[errlen] (may be NULL).
 */
#ifndef KC_NOSTR_NIP04_H
#define KC_NOSTR_NIP04_H

#include <stddef.h>
#include <stdint.h>

#include "nostr/keys.h"

/* The shared secret (x coordinate of sk*pk); wipe with nip04_key_wipe(). */
struct nip04_key {
	uint8_t b[32];
};

/* The shared key of sk and pk (symmetric). */
int nip04_shared_key(struct nip04_key *out, const struct nostr_seckey *sk,
		     const struct nostr_pubkey *pk) __attribute__((warn_unused_result));

/* Encrypt pt[0..len) with a random IV: *out malloc'd, NUL-terminated, caller frees. */
int nip04_encrypt(char **out, size_t *outlen, const struct nip04_key *k, const uint8_t *pt,
		  size_t len, char *err, size_t errlen) __attribute__((warn_unused_result));

/* As nip04_encrypt with the given IV (tests only). */
int nip04_encrypt_iv(char **out, size_t *outlen, const struct nip04_key *k, const uint8_t *pt,
		     size_t len, const uint8_t iv[16], char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Decrypt a payload: *out malloc'd, NUL-terminated; the caller wipes and frees it (wipe.h). */
int nip04_decrypt(uint8_t **out, size_t *outlen, const struct nip04_key *k, const char *payload,
		  size_t len, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Wipe a shared key. */
void nip04_key_wipe(struct nip04_key *k);

#endif /* KC_NOSTR_NIP04_H */
