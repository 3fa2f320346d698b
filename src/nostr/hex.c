/*
 * hex.c - hexadecimal encoding and strict decoding.
 */
#include "nostr/hex.h"

static int hex_digit(char c, enum hex_flags flags);

/* The value of one hex digit, or -1. */
static int hex_digit(char c, enum hex_flags flags)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (!(flags & HEX_LOWER) && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Write 2n lower-case hex digits and a NUL. */
void hex_encode(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Decode exactly outlen bytes from 2*outlen digits. */
int hex_decode(uint8_t *out, size_t outlen, const char *in, size_t inlen, enum hex_flags flags)
{
	if (inlen != 2 * outlen)
		return -1;
	for (size_t i = 0; i < outlen; i++) {
		int hi = hex_digit(in[2 * i], flags);
		int lo = hex_digit(in[2 * i + 1], flags);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
