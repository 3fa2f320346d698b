/*
 * fuzz_nip44.c - NIP-44 v2 decryption of arbitrary payloads under a fixed
 * conversation key (the first key of the spec vectors): only a spec error
 * or a plaintext comes out, and a plaintext re-encrypts and decrypts back
 * to itself.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "nostr/nip44.h"
#include "nostr/wipe.h"

/* The conversation key of secret keys 1 and 2 (tests/vectors/nip44.vectors.json). */
static const struct nip44_key fz_key = {{
	0xc4, 0x1c, 0x77, 0x53, 0x56, 0xfd, 0x92, 0xea, 0xdc, 0x63, 0xff,
	0x5a, 0x0d, 0xc1, 0xda, 0x21, 0x1b, 0x26, 0x8c, 0xbe, 0xa2, 0x23,
	0x16, 0x76, 0x70, 0x95, 0xb2, 0x87, 0x1e, 0xa1, 0x41, 0x2d,
}};

/* Abort unless pt[0..len) survives an encrypt/decrypt round trip. */
static void fz_round_trip(const uint8_t *pt, size_t len)
{
	static const uint8_t nonce[32] = {1};
	char *payload = NULL;
	uint8_t *back = NULL;
	size_t plen, blen;

	if (nip44_encrypt_nonce(&payload, &plen, &fz_key, pt, len, nonce) != NIP44_OK)
		abort();
	if (nip44_decrypt(&back, &blen, &fz_key, payload, plen) != NIP44_OK || blen != len ||
	    memcmp(back, pt, len) != 0)
		abort();
	free(payload);
	wipe_free(back, blen);
}

/* Decrypt data as a payload. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *pt = NULL;
	size_t len = 0;
	enum nip44_err e;

	e = nip44_decrypt(&pt, &len, &fz_key, (const char *)data, size);
	switch (e) {
	case NIP44_OK:
		fz_round_trip(pt, len);
		wipe_free(pt, len);
		break;
	case NIP44_ERR_VERSION:
	case NIP44_ERR_BASE64:
	case NIP44_ERR_LENGTH:
	case NIP44_ERR_MAC:
	case NIP44_ERR_PADDING:
		if (pt != NULL)
			abort(); /* no output on failure */
		break;
	default:
		abort(); /* no other error is possible for a payload */
	}
	return 0;
}
