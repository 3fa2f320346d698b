/*
 * bech32.c - bech32 (BIP-173) encoding and decoding; NIP-19 npub/nsec.
 *
 * Checksum arithmetic follows BIP-173's reference description; the
 * whole string is limited to 90 characters as in BIP-173 (npub/nsec are 63).
 */
#include "nostr/bech32.h"

#include <string.h>

#include <openssl/crypto.h>

#define BECH32_MAX 90

static const char bech32_charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t bech32_polymod_step(uint32_t pre);
static uint32_t bech32_hrp_polymod(const char *hrp, size_t hlen);
static int bech32_convert(uint8_t *out, size_t cap, size_t *olen, const uint8_t *in, size_t n,
			  int from, int to, int pad);
static int bech32_char_value(char c);
static int bech32_split(const char *str, size_t *hlen, uint8_t *v, size_t *vlen);
static int bech32_key_decode(uint8_t out[32], const char *want_hrp, const char *str);

/* One step of the BCH checksum. */
static uint32_t bech32_polymod_step(uint32_t pre)
{
	uint8_t b = (uint8_t)(pre >> 25);

	return ((pre & 0x1ffffff) << 5) ^ (-((b >> 0) & 1) & 0x3b6a57b2UL) ^
	       (-((b >> 1) & 1) & 0x26508e6dUL) ^ (-((b >> 2) & 1) & 0x1ea119faUL) ^
	       (-((b >> 3) & 1) & 0x3d4233ddUL) ^ (-((b >> 4) & 1) & 0x2a1462b3UL);
}

/* The checksum state after the expanded human-readable part. */
static uint32_t bech32_hrp_polymod(const char *hrp, size_t hlen)
{
	uint32_t chk = 1;

	for (size_t i = 0; i < hlen; i++)
		chk = bech32_polymod_step(chk) ^ ((uint8_t)hrp[i] >> 5);
	chk = bech32_polymod_step(chk);
	for (size_t i = 0; i < hlen; i++)
		chk = bech32_polymod_step(chk) ^ ((uint8_t)hrp[i] & 0x1f);
	return chk;
}

/* Regroup bits from `from`-bit to `to`-bit values (BIP-173 convertbits). */
static int bech32_convert(uint8_t *out, size_t cap, size_t *olen, const uint8_t *in, size_t n,
			  int from, int to, int pad)
{
	uint32_t acc = 0, maxv = (1u << to) - 1;
	int bits = 0;

	*olen = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << from) | in[i];
		for (bits += from; bits >= to; bits -= to) {
			if (*olen >= cap)
				return -1;
			out[(*olen)++] = (uint8_t)((acc >> (bits - to)) & maxv);
		}
	}
	if (pad && bits > 0) {
		if (*olen >= cap)
			return -1;
		out[(*olen)++] = (uint8_t)((acc << (to - bits)) & maxv);
	} else if (!pad && (bits >= from || ((acc << (to - bits)) & maxv)))
		return -1;
	return 0;
}

/* Encode 8-bit data under hrp. */
int bech32_encode(char *out, size_t cap, const char *hrp, const uint8_t *data, size_t len)
{
	uint8_t v[BECH32_MAX];
	size_t hlen = strlen(hrp), vlen, o;
	uint32_t chk;

	if (hlen < 1 || bech32_convert(v, sizeof(v), &vlen, data, len, 8, 5, 1) != 0 ||
	    hlen + 1 + vlen + 6 > BECH32_MAX || hlen + 1 + vlen + 6 + 1 > cap)
		return -1;
	chk = bech32_hrp_polymod(hrp, hlen);
	memcpy(out, hrp, hlen);
	out[hlen] = '1';
	o = hlen + 1;
	for (size_t i = 0; i < vlen; i++) {
		chk = bech32_polymod_step(chk) ^ v[i];
		out[o++] = bech32_charset[v[i]];
	}
	for (int i = 0; i < 6; i++)
		chk = bech32_polymod_step(chk);
	chk ^= 1;
	for (int i = 0; i < 6; i++)
		out[o++] = bech32_charset[(chk >> (5 * (5 - i))) & 31];
	out[o] = '\0';
	OPENSSL_cleanse(v, sizeof(v));
	return 0;
}

/* The 5-bit value of a (lower-case) data character, or -1. */
static int bech32_char_value(char c)
{
	const char *p = c ? strchr(bech32_charset, c) : NULL;

	return p ? (int)(p - bech32_charset) : -1;
}

/* Split at the last '1', check case/charset/checksum; 5-bit values (sans checksum) in v. */
static int bech32_split(const char *str, size_t *hlen, uint8_t *v, size_t *vlen)
{
	size_t n = strnlen(str, BECH32_MAX + 1), sep = 0;
	int lower = 0, upper = 0;

	if (n > BECH32_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (str[i] < 33 || str[i] > 126)
			return -1;
		lower |= str[i] >= 'a' && str[i] <= 'z';
		upper |= str[i] >= 'A' && str[i] <= 'Z';
		if (str[i] == '1')
			sep = i;
	}
	if ((lower && upper) || sep < 1 || sep + 7 > n)
		return -1;
	*hlen = sep;
	*vlen = n - sep - 1;
	for (size_t i = 0; i < *vlen; i++) {
		char c = str[sep + 1 + i];
		int x = bech32_char_value(c >= 'A' && c <= 'Z' ? (char)(c + 32) : c);

		if (x < 0)
			return -1;
		v[i] = (uint8_t)x;
	}
	return 0;
}

/* Decode a bech32 string. */
int bech32_decode(char *hrp, size_t hrpcap, uint8_t *data, size_t cap, size_t *len, const char *str)
{
	uint8_t v[BECH32_MAX];
	size_t hlen, vlen;
	uint32_t chk;
	int rc = -1;

	if (bech32_split(str, &hlen, v, &vlen) != 0 || hlen + 1 > hrpcap)
		goto done;
	for (size_t i = 0; i < hlen; i++)
		hrp[i] = (str[i] >= 'A' && str[i] <= 'Z') ? (char)(str[i] + 32) : str[i];
	hrp[hlen] = '\0';
	chk = bech32_hrp_polymod(hrp, hlen);
	for (size_t i = 0; i < vlen; i++)
		chk = bech32_polymod_step(chk) ^ v[i];
	if (chk != 1)
		goto done;
	rc = bech32_convert(data, cap, len, v, vlen - 6, 5, 8, 0);
done:
	OPENSSL_cleanse(v, sizeof(v));
	return rc;
}

/* Decode a 32-byte key under want_hrp. */
static int bech32_key_decode(uint8_t out[32], const char *want_hrp, const char *str)
{
	char hrp[BECH32_MAX];
	uint8_t buf[64];
	size_t len;
	int rc = -1;

	if (bech32_decode(hrp, sizeof(hrp), buf, sizeof(buf), &len, str) == 0 &&
	    strcmp(hrp, want_hrp) == 0 && len == 32) {
		memcpy(out, buf, 32);
		rc = 0;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

/* npub of a public key. */
int bech32_npub_encode(char *out, size_t cap, const struct nostr_pubkey *pk)
{
	return bech32_encode(out, cap, "npub", pk->b, sizeof(pk->b));
}

/* Parse an npub. */
int bech32_npub_decode(struct nostr_pubkey *out, const char *str)
{
	if (bech32_key_decode(out->b, "npub", str) != 0)
		return -1;
	return nostr_pubkey_verify(out);
}

/* nsec of a secret key. */
int bech32_nsec_encode(char *out, size_t cap, const struct nostr_seckey *sk)
{
	return bech32_encode(out, cap, "nsec", sk->b, sizeof(sk->b));
}

/* Parse an nsec. */
int bech32_nsec_decode(struct nostr_seckey *out, const char *str)
{
	if (bech32_key_decode(out->b, "nsec", str) == 0 && nostr_seckey_verify(out) == 0)
		return 0;
	nostr_seckey_wipe(out);
	return -1;
}
