/*
 * b64.h - strict standard base64 (RFC 4648, with padding) over OpenSSL.
 *
 * Decoding rejects whitespace, missing or extra padding, characters outside
 * the alphabet and non-zero trailing bits (so every payload has exactly
 * one encoding).
 */
#ifndef KC_NOSTR_B64_H
#define KC_NOSTR_B64_H

#include <stddef.h>
#include <stdint.h>

/* Bytes needed to encode n bytes, NUL included. */
size_t b64_encoded_size(size_t n);

/* Encode in[0..n) into out (b64_encoded_size(n) bytes); returns the length. */
size_t b64_encode(char *out, const uint8_t *in, size_t n);

/*
 * Decode in[0..len) into out (cap >= len/4*3), the length in *outlen.
 * 0, or -1 if in is not strict base64.
 */
int b64_decode(uint8_t *out, size_t cap, size_t *outlen, const char *in, size_t len)
	__attribute__((warn_unused_result));

#endif /* KC_NOSTR_B64_H */
