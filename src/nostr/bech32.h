/*
 * bech32.h - bech32 (BIP-173) and the NIP-19 npub / nsec forms.
 *
 * Decoding verifies the checksum, rejects mixed case, and requires the
 * expected human-readable part and a 32-byte payload for npub/nsec.
 * Return convention: 0 on success, -1 on failure.
 */
#ifndef KC_NOSTR_BECH32_H
#define KC_NOSTR_BECH32_H

#include <stddef.h>
#include <stdint.h>

#include "nostr/keys.h"

/* Room for an npub/nsec string and its NUL (63 characters + NUL). */
#define BECH32_KEY_LEN 64

/* Encode data (8-bit bytes) under hrp into out (cap bytes, NUL-terminated); 0 or -1. */
int bech32_encode(char *out, size_t cap, const char *hrp, const uint8_t *data, size_t len)
	__attribute__((warn_unused_result));

/*
 * Decode str: the hrp (lower case) into hrp[hrpcap], the 8-bit payload
 * into data[cap] with its length in *len. 0, or -1 on any defect.
 */
int bech32_decode(char *hrp, size_t hrpcap, uint8_t *data, size_t cap, size_t *len, const char *str)
	__attribute__((warn_unused_result));

/* "npub1..." of pk into out (>= BECH32_KEY_LEN bytes); 0 or -1. */
int bech32_npub_encode(char *out, size_t cap, const struct nostr_pubkey *pk)
	__attribute__((warn_unused_result));

/* Parse "npub1..." into a public key on the curve; 0 or -1. */
int bech32_npub_decode(struct nostr_pubkey *out, const char *str)
	__attribute__((warn_unused_result));

/* "nsec1..." of sk into out (>= BECH32_KEY_LEN bytes; secret: wipe it); 0 or -1. */
int bech32_nsec_encode(char *out, size_t cap, const struct nostr_seckey *sk)
	__attribute__((warn_unused_result));

/* Parse "nsec1..." into a valid secret key (wipe it after use); 0 or -1. */
int bech32_nsec_decode(struct nostr_seckey *out, const char *str)
	__attribute__((warn_unused_result));

#endif /* KC_NOSTR_BECH32_H */
