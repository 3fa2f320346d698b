/*
 * nip44.h - NIP-44 version 2 encryption (current spec, extended length).
 *
 * conversation key = HKDF-extract(salt "nip44-v2", ECDH shared x);
 * message keys = HKDF-expand(conversation key, nonce, 76);
 * payload = base64(0x02 || nonce[32] || ChaCha20(padded) || HMAC[32]).
 * Plaintexts are 1..2^32-1 bytes; below 65536 they carry a u16 BE length
 * prefix, from 65536 on the 6-byte prefix 00 00 + u32 BE.
 *
 * Functions return enum nip44_err (NIP44_OK = 0); nip44_strerror() names it.
 * Keys are secret types: wipe them with nip44_key_wipe().
 */
#ifndef KC_NOSTR_NIP44_H
#define KC_NOSTR_NIP44_H

#include <stddef.h>
#include <stdint.h>

#include "nostr/keys.h"

/* The largest plaintext of the current spec. */
#define NIP44_MAX_PLAINTEXT 0xffffffffULL

/* Outcome of a NIP-44 operation; every error case of the spec is distinct. */
enum nip44_err {
	NIP44_OK = 0,	   /* success */
	NIP44_ERR_VERSION, /* unknown version byte (or '#' prefix) */
	NIP44_ERR_BASE64,  /* payload is not strict base64 */
	NIP44_ERR_LENGTH,  /* plaintext or payload length out of range */
	NIP44_ERR_MAC,	   /* HMAC mismatch */
	NIP44_ERR_PADDING, /* length prefix 0, or not matching the padded size */
	NIP44_ERR_KEY,	   /* invalid secret or public key for ECDH */
	NIP44_ERR_NOMEM,   /* out of memory */
	NIP44_ERR_CRYPTO,  /* an OpenSSL/libsecp256k1 call failed, or RNG */
};

/* A conversation key (secret). */
struct nip44_key {
	uint8_t b[32];
};

/* The per-message keys derived from a conversation key and a nonce (secret). */
struct nip44_msg_keys {
	uint8_t chacha_key[32];
	uint8_t chacha_nonce[12];
	uint8_t hmac_key[32];
};

/* A short lower-case description of e. */
const char *nip44_strerror(enum nip44_err e);

/* The conversation key of sk and pk (symmetric). */
enum nip44_err nip44_conversation_key(struct nip44_key *out, const struct nostr_seckey *sk,
				      const struct nostr_pubkey *pk)
	__attribute__((warn_unused_result));

/* The message keys for nonce under ck. */
enum nip44_err nip44_message_keys(struct nip44_msg_keys *out, const struct nip44_key *ck,
				  const uint8_t nonce[32]) __attribute__((warn_unused_result));

/* The padded length of a plaintext of len bytes (len 1..2^32-1), or 0 if out of range. */
uint64_t nip44_padded_len(uint64_t len);

/*
 * Encrypt pt[0..len) under ck with a fresh random nonce: the base64
 * payload in *out (malloc'd, NUL-terminated, caller frees), its length in
 * *outlen.
 */
enum nip44_err nip44_encrypt(char **out, size_t *outlen, const struct nip44_key *ck,
			     const uint8_t *pt, size_t len) __attribute__((warn_unused_result));

/* As nip44_encrypt with the given nonce (tests and vectors only). */
enum nip44_err nip44_encrypt_nonce(char **out, size_t *outlen, const struct nip44_key *ck,
				   const uint8_t *pt, size_t len, const uint8_t nonce[32])
	__attribute__((warn_unused_result));

/*
 * Decrypt a payload: the plaintext in *out (malloc'd, NUL-terminated,
 * may contain NUL bytes), its length in *outlen. Nothing of the plaintext
 * lies past its NUL; the caller wipes and frees it (wipe_free(*out, *outlen)).
 */
enum nip44_err nip44_decrypt(uint8_t **out, size_t *outlen, const struct nip44_key *ck,
			     const char *payload, size_t len) __attribute__((warn_unused_result));

/* Wipe a conversation key. */
void nip44_key_wipe(struct nip44_key *k);

/*
 * A bounded cache of conversation keys, keyed by (own pubkey, peer
 * pubkey), so a busy client pair pays ECDH once. Least-recently-used
 * entries are evicted; entries are wiped on eviction and on free.
 * Thread-safe: a lock guards lookups and inserts (not the ECDH of a miss),
 * so the signer's worker threads share one cache and each pair costs one
 * ECDH for all of them.
 */
struct nip44_cache;

/* A cache of at most capacity entries (>= 1) in *out; 0 or -1 (out of memory). */
int nip44_cache_new(struct nip44_cache **out, size_t capacity) __attribute__((warn_unused_result));

/* Free the cache (wiping every key); *c becomes NULL. */
void nip44_cache_free(struct nip44_cache **c);

/* The conversation key of kp and peer, computed once and then served from the cache. */
enum nip44_err nip44_cache_get(struct nip44_cache *c, struct nip44_key *out,
			       const struct nostr_keypair *kp, const struct nostr_pubkey *peer)
	__attribute__((warn_unused_result));

/* Hits and misses since creation (for metrics). */
void nip44_cache_stats(const struct nip44_cache *c, uint64_t *hits, uint64_t *misses);

#endif /* KC_NOSTR_NIP44_H */
