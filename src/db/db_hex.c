/*
 * db_hex.c - hex encoding behind db_hex.h.
 */
#include "db/db_hex.h"

#include <string.h>

static int db_hex_digit(char c);

/* The value of a hex digit, or -1. */
static int db_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Lower-case hex of in[0..n). */
int db_hex_encode(char *out, size_t cap, const unsigned char *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	if (cap < 2 * n + 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
	return 0;
}

/* Decode an even-length hex string. */
int db_hex_decode(unsigned char *out, size_t cap, const char *hex, size_t *n)
{
	size_t len = strlen(hex);

	if (len % 2 != 0 || len / 2 > cap)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = db_hex_digit(hex[2 * i]), lo = db_hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	*n = len / 2;
	return 0;
}
