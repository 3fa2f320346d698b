/*
 * fuzz_nip44_padded.c - NIP-44 v2 behind a valid MAC: the input is the
 * padded plaintext itself (length prefix, plaintext, padding, any bytes),
 * which the target encrypts and authenticates properly under a fixed
 * conversation key and nonce, so every input gets past the MAC check into
 * the unpadding that fuzz_nip44 can never reach. What must hold: the
 * decryption succeeds exactly when the prefix and the padded size follow
 * the spec (re-derived here independently), then hands back the bytes
 * behind the prefix; otherwise it fails as invalid padding, with no
 * output; never a MAC error.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "nostr/b64.h"
#include "nostr/nip44.h"
#include "nostr/wipe.h"

/* Padded buffers above this are not tried (the 6-byte prefix starts at 65536). */
#define FZ_MAX (70 * 1024)
/* The smallest padded buffer a payload may carry (2-byte prefix, 32 bytes). */
#define FZ_MIN 34

/* The conversation key of secret keys 1 and 2 (tests/vectors/nip44.vectors.json). */
static const struct nip44_key fz_key = {{
	0xc4, 0x1c, 0x77, 0x53, 0x56, 0xfd, 0x92, 0xea, 0xdc, 0x63, 0xff,
	0x5a, 0x0d, 0xc1, 0xda, 0x21, 0x1b, 0x26, 0x8c, 0xbe, 0xa2, 0x23,
	0x16, 0x76, 0x70, 0x95, 0xb2, 0x87, 0x1e, 0xa1, 0x41, 0x2d,
}};

/* The plaintext's offset and length the spec reads from padded p[0..n), or 0 if invalid. */
static int fz_spec_unpad(const uint8_t *p, size_t n, size_t *off, uint64_t *len)
{
	if (p[0] != 0 || p[1] != 0) {
		*off = 2;
		*len = (uint64_t)p[0] << 8 | p[1];
	} else if (n >= 6) {
		*off = 6;
		*len = (uint64_t)p[2] << 24 | (uint64_t)p[3] << 16 | (uint64_t)p[4] << 8 | p[5];
		if (*len < 65536)
			return 0;
	} else {
		return 0;
	}
	return (uint64_t)n == *off + nip44_padded_len(*len);
}

/* raw = 0x02 || nonce || ChaCha20(padded) || HMAC(nonce || ct), as base64 into a malloc'd string.
 */
static char *fz_seal(const uint8_t *padded, size_t n, size_t *b64len)
{
	static const uint8_t nonce[32] = {7};
	struct nip44_msg_keys mk;
	uint8_t iv[16] = {0}, *raw = malloc(1 + 32 + n + 32);
	char *b64 = NULL;
	unsigned maclen = 0;
	int outl = 0;
	EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();

	if (raw == NULL || cx == NULL || nip44_message_keys(&mk, &fz_key, nonce) != NIP44_OK)
		abort();
	memcpy(iv + 4, mk.chacha_nonce, 12); /* counter 0, then the 12-byte nonce */
	raw[0] = 2;
	memcpy(raw + 1, nonce, 32);
	if (EVP_EncryptInit_ex(cx, EVP_chacha20(), NULL, mk.chacha_key, iv) != 1 ||
	    EVP_EncryptUpdate(cx, raw + 33, &outl, padded, (int)n) != 1 || (size_t)outl != n ||
	    HMAC(EVP_sha256(), mk.hmac_key, 32, raw + 1, 32 + n, raw + 33 + n, &maclen) == NULL)
		abort();
	EVP_CIPHER_CTX_free(cx);
	b64 = malloc(b64_encoded_size(65 + n) + 1);
	if (b64 == NULL)
		abort();
	*b64len = b64_encode(b64, raw, 65 + n);
	free(raw);
	return b64;
}

/* Seal data as a padded plaintext, decrypt it, check the outcome against the spec. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t padded[FZ_MAX], *pt = NULL;
	size_t n = size < FZ_MIN ? FZ_MIN : size, off = 0, b64len = 0, len = 0;
	uint64_t want = 0;
	char *b64;
	enum nip44_err e;
	int valid;

	if (size > FZ_MAX)
		return 0;
	memset(padded, 0, n);
	memcpy(padded, data, size);
	valid = fz_spec_unpad(padded, n, &off, &want);
	b64 = fz_seal(padded, n, &b64len);
	e = nip44_decrypt(&pt, &len, &fz_key, b64, b64len);
	free(b64);
	if (valid && (e != NIP44_OK || len != want || memcmp(pt, padded + off, len) != 0))
		abort(); /* a well-formed plaintext must come back whole */
	if (!valid && (e != NIP44_ERR_PADDING || pt != NULL))
		abort(); /* anything else is invalid padding, nothing handed out */
	wipe_free(pt, len);
	return 0;
}
