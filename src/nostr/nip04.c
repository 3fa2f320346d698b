/*
 * nip04.c - NIP-04 legacy encryption: AES-256-CBC (OpenSSL, PKCS#7)
 * keyed by the unhashed ECDH x coordinate (libsecp256k1).
 */
#include "nostr/nip04.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <secp256k1_ecdh.h>

#include "nostr/b64.h"

#define NIP04_IV "?iv="
/* Largest plaintext accepted (OpenSSL takes int lengths). */
#define NIP04_MAX (INT_MAX / 2)

static int nip04_copy_x(unsigned char *out, const unsigned char *x, const unsigned char *y,
			void *data);
static int nip04_fail(char *err, size_t errlen, const char *msg);
static int nip04_aes(uint8_t *out, size_t *outlen, const struct nip04_key *k, const uint8_t iv[16],
		     const uint8_t *in, size_t len, int enc);
static int nip04_split(const char *payload, size_t len, size_t *ctlen, uint8_t iv[16]);

/* ECDH hash function: copy x. */
static int nip04_copy_x(unsigned char *out, const unsigned char *x, const unsigned char *y,
			void *data)
{
	(void)y;
	(void)data;
	memcpy(out, x, 32);
	return 1;
}

/* Write msg to err; returns -1. */
static int nip04_fail(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "nip04: %s", msg);
	return -1;
}

/* The shared x of sk*pk. */
int nip04_shared_key(struct nip04_key *out, const struct nostr_seckey *sk,
		     const struct nostr_pubkey *pk)
{
	uint8_t comp[33] = {0x02};
	secp256k1_pubkey point;

	memcpy(comp + 1, pk->b, 32);
	if (!secp256k1_ec_pubkey_parse(nostr_secp(), &point, comp, sizeof(comp)) ||
	    !secp256k1_ecdh(nostr_secp(), out->b, &point, sk->b, nip04_copy_x, NULL)) {
		nip04_key_wipe(out);
		return -1;
	}
	return 0;
}

/* AES-256-CBC with PKCS#7 in either direction; 0 or -1. out needs len + 16. */
static int nip04_aes(uint8_t *out, size_t *outlen, const struct nip04_key *k, const uint8_t iv[16],
		     const uint8_t *in, size_t len, int enc)
{
	EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0, ok;

	ok = cc != NULL && len <= NIP04_MAX &&
	     EVP_CipherInit_ex2(cc, EVP_aes_256_cbc(), k->b, iv, enc, NULL) == 1 &&
	     EVP_CipherUpdate(cc, out, &n1, in, (int)len) == 1 &&
	     EVP_CipherFinal_ex(cc, out + n1, &n2) == 1;
	EVP_CIPHER_CTX_free(cc);
	*outlen = ok ? (size_t)n1 + (size_t)n2 : 0;
	return ok ? 0 : -1;
}

/* Encrypt with a random IV. */
int nip04_encrypt(char **out, size_t *outlen, const struct nip04_key *k, const uint8_t *pt,
		  size_t len, char *err, size_t errlen)
{
	uint8_t iv[16];

	*out = NULL;
	if (nostr_random(iv, sizeof(iv)) != 0)
		return nip04_fail(err, errlen, "the OS random generator failed");
	return nip04_encrypt_iv(out, outlen, k, pt, len, iv, err, errlen);
}

/* Encrypt with the given IV: base64(ct) "?iv=" base64(iv). */
int nip04_encrypt_iv(char **out, size_t *outlen, const struct nip04_key *k, const uint8_t *pt,
		     size_t len, const uint8_t iv[16], char *err, size_t errlen)
{
	uint8_t *ct = NULL;
	size_t ctlen, o;
	int rc = -1;

	*out = NULL;
	if (len > NIP04_MAX)
		return nip04_fail(err, errlen, "plaintext too long");
	ct = malloc(len + 16);
	*out = ct ? malloc(b64_encoded_size(len + 16) + strlen(NIP04_IV) + 24) : NULL;
	if (*out == NULL) {
		nip04_fail(err, errlen, "out of memory");
		goto done;
	}
	if (nip04_aes(ct, &ctlen, k, iv, pt, len, 1) != 0) {
		nip04_fail(err, errlen, "AES-256-CBC failed");
		goto done;
	}
	o = b64_encode(*out, ct, ctlen);
	memcpy(*out + o, NIP04_IV, strlen(NIP04_IV));
	o += strlen(NIP04_IV);
	*outlen = o + b64_encode(*out + o, iv, 16);
	rc = 0;
done:
	if (rc != 0) {
		free(*out);
		*out = NULL;
	}
	free(ct);
	return rc;
}

/* Find "?iv=", decode the IV; the ciphertext's base64 length in *ctlen. */
static int nip04_split(const char *payload, size_t len, size_t *ctlen, uint8_t iv[16])
{
	const char *q = memchr(payload, '?', len);
	uint8_t buf[18];
	size_t ivlen, off;

	if (q == NULL || (size_t)(payload + len - q) < strlen(NIP04_IV) ||
	    memcmp(q, NIP04_IV, strlen(NIP04_IV)) != 0)
		return -1;
	*ctlen = (size_t)(q - payload);
	off = *ctlen + strlen(NIP04_IV);
	if (b64_decode(buf, sizeof(buf), &ivlen, payload + off, len - off) != 0 || ivlen != 16)
		return -1;
	memcpy(iv, buf, 16);
	return 0;
}

/* Decrypt a payload. */
int nip04_decrypt(uint8_t **out, size_t *outlen, const struct nip04_key *k, const char *payload,
		  size_t len, char *err, size_t errlen)
{
	uint8_t iv[16], *ct = NULL;
	size_t b64len, ctlen;
	int rc = -1;

	*out = NULL;
	if (nip04_split(payload, len, &b64len, iv) != 0)
		return nip04_fail(err, errlen, "payload is not base64?iv=base64 with a 16-byte IV");
	if (b64len / 4 * 3 > NIP04_MAX)
		return nip04_fail(err, errlen, "ciphertext too long");
	ct = malloc(b64len / 4 * 3 + 1);
	*out = ct ? malloc(b64len / 4 * 3 + 17) : NULL;
	if (*out == NULL) {
		nip04_fail(err, errlen, "out of memory");
		goto done;
	}
	if (b64_decode(ct, b64len / 4 * 3 + 1, &ctlen, payload, b64len) != 0 || ctlen == 0 ||
	    ctlen % 16 != 0) {
		nip04_fail(err, errlen, "ciphertext is not base64 of whole AES blocks");
		goto done;
	}
	if (nip04_aes(*out, outlen, k, iv, ct, ctlen, 0) != 0) {
		nip04_fail(err, errlen, "decryption failed (bad key or padding)");
		goto done;
	}
	(*out)[*outlen] = '\0';
	rc = 0;
done:
	if (rc != 0 && *out != NULL) { /* a failed decryption may leave plaintext blocks */
		OPENSSL_cleanse(*out, b64len / 4 * 3 + 17);
		free(*out);
		*out = NULL;
	}
	free(ct);
	return rc;
}

/* Wipe a shared key. */
void nip04_key_wipe(struct nip04_key *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}
