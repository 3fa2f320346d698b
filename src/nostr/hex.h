/*
 * hex.h - hexadecimal encoding and strict decoding.
 *
 * Nostr ids, pubkeys and signatures travel as lower-case hex; decoding
 * accepts exactly the expected length and, with HEX_LOWER, only a-f.
 */
#ifndef KC_NOSTR_HEX_H
#define KC_NOSTR_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Decoding flags. */
enum hex_flags {
	HEX_ANY_CASE = 0, /* accept 0-9, a-f and A-F */
	HEX_LOWER = 1,	  /* accept 0-9 and a-f only (NIP-01 fields) */
};

/* Write 2n lower-case hex digits of in[0..n) and a NUL to out (2n+1 bytes). */
void hex_encode(char *out, const uint8_t *in, size_t n);

/*
 * Decode exactly outlen bytes from in[0..inlen): inlen must be 2*outlen.
 * Returns 0, or -1 on a wrong length or a bad digit (out is then undefined).
 */
int hex_decode(uint8_t *out, size_t outlen, const char *in, size_t inlen, enum hex_flags flags)
	__attribute__((warn_unused_result));

#endif /* KC_NOSTR_HEX_H */
