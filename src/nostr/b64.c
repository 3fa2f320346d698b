/*
 * b64.c - strict standard base64 over OpenSSL's EVP_EncodeBlock/DecodeBlock.
 *
 * OpenSSL's block functions take int lengths and are lenient (whitespace,
 * trailing bits), so this file checks the alphabet and padding itself and
 * feeds OpenSSL in chunks.
 */
#include "nostr/b64.h"

#include <string.h>

#include <openssl/evp.h>

/* Chunk sizes (multiples of 3 and 4 with matching output). */
#define B64_RAW_CHUNK (3 * 262144)
#define B64_TXT_CHUNK (4 * 262144)

static int b64_value(char c);
static int b64_check(const char *in, size_t len, size_t *pad);

/* The 6-bit value of an alphabet character, or -1. */
static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	return c == '/' ? 63 : -1;
}

/* Check the alphabet, the padding and zero trailing bits; the pad count in *pad. */
static int b64_check(const char *in, size_t len, size_t *pad)
{
	size_t p = 0;

	if (len == 0 || len % 4 != 0)
		return -1;
	while (p < 2 && in[len - 1 - p] == '=')
		p++;
	for (size_t i = 0; i < len - p; i++)
		if (b64_value(in[i]) < 0)
			return -1;
	if (p > 0) {
		int last = b64_value(in[len - 1 - p]);

		if ((p == 1 && (last & 3)) || (p == 2 && (last & 15)))
			return -1;
	}
	*pad = p;
	return 0;
}

/* Bytes needed to encode n bytes, NUL included. */
size_t b64_encoded_size(size_t n)
{
	return (n + 2) / 3 * 4 + 1;
}

/* Encode in chunks; returns the length written (NUL excluded). */
size_t b64_encode(char *out, const uint8_t *in, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += B64_RAW_CHUNK) {
		size_t c = n - i < B64_RAW_CHUNK ? n - i : B64_RAW_CHUNK;

		o += (size_t)EVP_EncodeBlock((unsigned char *)out + o, in + i, (int)c);
	}
	out[o] = '\0';
	return o;
}

/* Strict decode in chunks. */
int b64_decode(uint8_t *out, size_t cap, size_t *outlen, const char *in, size_t len)
{
	size_t pad, o = 0;

	if (b64_check(in, len, &pad) != 0 || cap < len / 4 * 3)
		return -1;
	for (size_t i = 0; i < len; i += B64_TXT_CHUNK) {
		size_t c = len - i < B64_TXT_CHUNK ? len - i : B64_TXT_CHUNK;
		int r = EVP_DecodeBlock(out + o, (const unsigned char *)in + i, (int)c);

		if (r < 0 || (size_t)r != c / 4 * 3)
			return -1;
		o += (size_t)r;
	}
	*outlen = o - pad;
	return 0;
}
