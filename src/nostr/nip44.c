/*
 * nip44.c - NIP-44 v2 over OpenSSL (HKDF, HMAC-SHA256, ChaCha20) and
 * libsecp256k1 (ECDH). The conversation-key cache is in nip44_cache.c.
 *
 * OpenSSL algorithm objects are fetched once (pthread_once) and only
 * read afterwards, so every function here is thread-safe.
 */
#include "nostr/nip44.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <secp256k1_ecdh.h>

#include "nostr/b64.h"

#define NIP44_VERSION 2
#define NIP44_NONCE   32
#define NIP44_MAC     32
/* Smallest payload: base64 of 1+32+2+32+32 bytes; smallest decoded: 99. */
#define NIP44_MIN_B64 132
#define NIP44_MIN_RAW 99
/* u16 prefix below this length, 6-byte prefix from it on. */
#define NIP44_EXT_LEN 65536u
/* Bytes of OpenSSL input per call (int lengths). */
#define NIP44_CHUNK ((size_t)1 << 30)

static void nip44_fetch(void);
static int nip44_copy_x(unsigned char *out, const unsigned char *x, const unsigned char *y,
			void *data);
static int nip44_hkdf(uint8_t *out, size_t outlen, int mode, const uint8_t *key, size_t keylen,
		      const uint8_t *extra, size_t extralen);
static int nip44_hmac(uint8_t mac[32], const uint8_t key[32], const uint8_t *nonce,
		      const uint8_t *ct, size_t len);
static int nip44_chacha(uint8_t *out, const uint8_t *in, size_t len,
			const struct nip44_msg_keys *mk);
static size_t nip44_prefix_len(uint64_t len);
static uint8_t *nip44_pad(const uint8_t *pt, size_t len, size_t *padlen);
static enum nip44_err nip44_unpad(const uint8_t *p, size_t n, size_t *off, size_t *len);
static enum nip44_err nip44_frame(uint8_t **raw, size_t *rawlen, const char *payload, size_t len);
static enum nip44_err nip44_open(uint8_t **out, size_t *outlen, const struct nip44_key *ck,
				 const uint8_t *raw, size_t rawlen);

static pthread_once_t nip44_once = PTHREAD_ONCE_INIT;
static EVP_KDF *nip44_kdf;
static EVP_MAC *nip44_mac;
static EVP_CIPHER *nip44_cipher;

/* Names of the error codes, indexed by enum nip44_err. */
static const char *const nip44_errnames[] = {
	[NIP44_OK] = "ok",
	[NIP44_ERR_VERSION] = "unknown encryption version",
	[NIP44_ERR_BASE64] = "invalid base64",
	[NIP44_ERR_LENGTH] = "invalid payload or plaintext length",
	[NIP44_ERR_MAC] = "invalid MAC",
	[NIP44_ERR_PADDING] = "invalid padding",
	[NIP44_ERR_KEY] = "invalid key for ECDH",
	[NIP44_ERR_NOMEM] = "out of memory",
	[NIP44_ERR_CRYPTO] = "crypto library failure",
};

/* Fetch the OpenSSL algorithms once (NULL ones make every call fail cleanly). */
static void nip44_fetch(void)
{
	nip44_kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	nip44_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	nip44_cipher = EVP_CIPHER_fetch(NULL, "ChaCha20", NULL);
}

/* The name of an error. */
const char *nip44_strerror(enum nip44_err e)
{
	if ((size_t)e >= sizeof(nip44_errnames) / sizeof(nip44_errnames[0]))
		return "unknown error";
	return nip44_errnames[e];
}

/* ECDH hash function: the shared point's x coordinate, unhashed. */
static int nip44_copy_x(unsigned char *out, const unsigned char *x, const unsigned char *y,
			void *data)
{
	(void)y;
	(void)data;
	memcpy(out, x, 32);
	return 1;
}

/* HKDF-SHA256 in mode (extract: extra = salt; expand: extra = info); 0 or -1. */
static int nip44_hkdf(uint8_t *out, size_t outlen, int mode, const uint8_t *key, size_t keylen,
		      const uint8_t *extra, size_t extralen)
{
	EVP_KDF_CTX *kc;
	OSSL_PARAM p[5];
	int rc;

	pthread_once(&nip44_once, nip44_fetch);
	kc = nip44_kdf ? EVP_KDF_CTX_new(nip44_kdf) : NULL;
	if (kc == NULL)
		return -1;
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, keylen);
	p[3] = OSSL_PARAM_construct_octet_string(
		mode == EVP_KDF_HKDF_MODE_EXTRACT_ONLY ? OSSL_KDF_PARAM_SALT : OSSL_KDF_PARAM_INFO,
		(void *)extra, extralen);
	p[4] = OSSL_PARAM_construct_end();
	rc = EVP_KDF_derive(kc, out, outlen, p) == 1 ? 0 : -1;
	EVP_KDF_CTX_free(kc);
	return rc;
}

/* HMAC-SHA256(key, nonce || ct); 0 or -1. */
static int nip44_hmac(uint8_t mac[32], const uint8_t key[32], const uint8_t *nonce,
		      const uint8_t *ct, size_t len)
{
	OSSL_PARAM p[2];
	EVP_MAC_CTX *mc;
	size_t maclen = 0;
	int ok;

	pthread_once(&nip44_once, nip44_fetch);
	mc = nip44_mac ? EVP_MAC_CTX_new(nip44_mac) : NULL;
	if (mc == NULL)
		return -1;
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_end();
	ok = EVP_MAC_init(mc, key, 32, p) == 1 && EVP_MAC_update(mc, nonce, NIP44_NONCE) == 1 &&
	     EVP_MAC_update(mc, ct, len) == 1 && EVP_MAC_final(mc, mac, &maclen, 32) == 1 &&
	     maclen == 32;
	EVP_MAC_CTX_free(mc);
	return ok ? 0 : -1;
}

/* ChaCha20 (RFC 8439, counter 0) of in[0..len) into out; 0 or -1. */
static int nip44_chacha(uint8_t *out, const uint8_t *in, size_t len,
			const struct nip44_msg_keys *mk)
{
	uint8_t iv[16] = {0};
	EVP_CIPHER_CTX *cc;
	int ok, n;

	pthread_once(&nip44_once, nip44_fetch);
	cc = nip44_cipher ? EVP_CIPHER_CTX_new() : NULL;
	if (cc == NULL)
		return -1;
	memcpy(iv + 4, mk->chacha_nonce, 12);
	ok = EVP_EncryptInit_ex2(cc, nip44_cipher, mk->chacha_key, iv, NULL) == 1;
	for (size_t i = 0; ok && i < len; i += NIP44_CHUNK) {
		size_t c = len - i < NIP44_CHUNK ? len - i : NIP44_CHUNK;

		ok = EVP_EncryptUpdate(cc, out + i, &n, in + i, (int)c) == 1 && (size_t)n == c;
	}
	EVP_CIPHER_CTX_free(cc);
	return ok ? 0 : -1;
}

/* The conversation key. */
enum nip44_err nip44_conversation_key(struct nip44_key *out, const struct nostr_seckey *sk,
				      const struct nostr_pubkey *pk)
{
	static const uint8_t salt[] = "nip44-v2";
	uint8_t comp[33] = {0x02}, shared[32];
	secp256k1_pubkey point;
	enum nip44_err rc = NIP44_ERR_KEY;

	memcpy(comp + 1, pk->b, 32);
	if (!secp256k1_ec_pubkey_parse(nostr_secp(), &point, comp, sizeof(comp)) ||
	    !secp256k1_ecdh(nostr_secp(), shared, &point, sk->b, nip44_copy_x, NULL))
		goto done;
	rc = nip44_hkdf(out->b, 32, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, shared, 32, salt,
			sizeof(salt) - 1) == 0
		     ? NIP44_OK
		     : NIP44_ERR_CRYPTO;
done:
	OPENSSL_cleanse(shared, sizeof(shared));
	return rc;
}

/* The message keys: HKDF-expand(ck, nonce, 76) split 32/12/32. */
enum nip44_err nip44_message_keys(struct nip44_msg_keys *out, const struct nip44_key *ck,
				  const uint8_t nonce[32])
{
	uint8_t okm[76];

	if (nip44_hkdf(okm, sizeof(okm), EVP_KDF_HKDF_MODE_EXPAND_ONLY, ck->b, 32, nonce,
		       NIP44_NONCE) != 0)
		return NIP44_ERR_CRYPTO;
	memcpy(out->chacha_key, okm, 32);
	memcpy(out->chacha_nonce, okm + 32, 12);
	memcpy(out->hmac_key, okm + 44, 32);
	OPENSSL_cleanse(okm, sizeof(okm));
	return NIP44_OK;
}

/* calc_padded_len of the spec. */
uint64_t nip44_padded_len(uint64_t len)
{
	uint64_t next = 1, chunk;

	if (len < 1 || len > NIP44_MAX_PLAINTEXT)
		return 0;
	if (len <= 32)
		return 32;
	while (next < len) /* next power of two >= len, i.e. 1 << (floor(log2(len-1)) + 1) */
		next <<= 1;
	chunk = next <= 256 ? 32 : next / 8;
	return chunk * ((len - 1) / chunk + 1);
}

/* The length prefix size of a plaintext of len bytes. */
static size_t nip44_prefix_len(uint64_t len)
{
	return len < NIP44_EXT_LEN ? 2 : 6;
}

/* prefix || pt || zeros, malloc'd; its length in *padlen; NULL if out of memory. */
static uint8_t *nip44_pad(const uint8_t *pt, size_t len, size_t *padlen)
{
	size_t pre = nip44_prefix_len(len);
	uint8_t *p;

	*padlen = pre + (size_t)nip44_padded_len(len);
	p = calloc(1, *padlen);
	if (p == NULL)
		return NULL;
	if (pre == 2) {
		p[0] = (uint8_t)(len >> 8);
		p[1] = (uint8_t)len;
	} else {
		for (int i = 0; i < 4; i++)
			p[2 + i] = (uint8_t)((uint64_t)len >> (24 - 8 * i));
	}
	memcpy(p + pre, pt, len);
	return p;
}

/* Encrypt with a random nonce. */
enum nip44_err nip44_encrypt(char **out, size_t *outlen, const struct nip44_key *ck,
			     const uint8_t *pt, size_t len)
{
	uint8_t nonce[NIP44_NONCE];

	if (nostr_random(nonce, sizeof(nonce)) != 0)
		return NIP44_ERR_CRYPTO;
	return nip44_encrypt_nonce(out, outlen, ck, pt, len, nonce);
}

/* Encrypt with the given nonce: version || nonce || ciphertext || mac, base64. */
enum nip44_err nip44_encrypt_nonce(char **out, size_t *outlen, const struct nip44_key *ck,
				   const uint8_t *pt, size_t len, const uint8_t nonce[32])
{
	struct nip44_msg_keys mk;
	uint8_t *pad = NULL, *raw = NULL;
	size_t padlen = 0;
	enum nip44_err rc = NIP44_ERR_LENGTH;

	*out = NULL;
	if (len < 1 || (uint64_t)len > NIP44_MAX_PLAINTEXT)
		return rc;
	rc = nip44_message_keys(&mk, ck, nonce);
	if (rc != NIP44_OK)
		goto done;
	rc = NIP44_ERR_NOMEM;
	pad = nip44_pad(pt, len, &padlen);
	raw = pad ? malloc(1 + NIP44_NONCE + padlen + NIP44_MAC) : NULL;
	*out = raw ? malloc(b64_encoded_size(1 + NIP44_NONCE + padlen + NIP44_MAC)) : NULL;
	if (*out == NULL)
		goto done;
	raw[0] = NIP44_VERSION;
	memcpy(raw + 1, nonce, NIP44_NONCE);
	rc = NIP44_ERR_CRYPTO;
	if (nip44_chacha(raw + 1 + NIP44_NONCE, pad, padlen, &mk) != 0 ||
	    nip44_hmac(raw + 1 + NIP44_NONCE + padlen, mk.hmac_key, nonce, raw + 1 + NIP44_NONCE,
		       padlen) != 0)
		goto done;
	*outlen = b64_encode(*out, raw, 1 + NIP44_NONCE + padlen + NIP44_MAC);
	rc = NIP44_OK;
done:
	if (rc != NIP44_OK) {
		free(*out);
		*out = NULL;
	}
	if (pad != NULL)
		OPENSSL_cleanse(pad, padlen);
	free(pad);
	free(raw);
	OPENSSL_cleanse(&mk, sizeof(mk));
	return rc;
}

/* Check the payload's framing and decode its base64 into *raw (malloc'd). */
static enum nip44_err nip44_frame(uint8_t **raw, size_t *rawlen, const char *payload, size_t len)
{
	uint64_t maxraw = 1 + NIP44_NONCE + 6 + nip44_padded_len(NIP44_MAX_PLAINTEXT) + NIP44_MAC;

	*raw = NULL;
	if (len == 0)
		return NIP44_ERR_LENGTH;
	if (payload[0] == '#')
		return NIP44_ERR_VERSION;
	if (len < NIP44_MIN_B64 || (uint64_t)len > (maxraw + 2) / 3 * 4)
		return NIP44_ERR_LENGTH;
	*raw = malloc(len / 4 * 3);
	if (*raw == NULL)
		return NIP44_ERR_NOMEM;
	if (b64_decode(*raw, len / 4 * 3, rawlen, payload, len) != 0)
		return NIP44_ERR_BASE64;
	if (*rawlen < NIP44_MIN_RAW || (uint64_t)*rawlen > maxraw)
		return NIP44_ERR_LENGTH;
	return (*raw)[0] == NIP44_VERSION ? NIP44_OK : NIP44_ERR_VERSION;
}

/* Check the prefix and padded size; the plaintext's offset and length. */
static enum nip44_err nip44_unpad(const uint8_t *p, size_t n, size_t *off, size_t *len)
{
	uint64_t l = (uint64_t)p[0] << 8 | p[1];

	*off = 2;
	if (l == 0) {
		if (n < 6)
			return NIP44_ERR_PADDING;
		l = (uint64_t)p[2] << 24 | (uint64_t)p[3] << 16 | (uint64_t)p[4] << 8 | p[5];
		*off = 6;
		if (l < NIP44_EXT_LEN)
			return NIP44_ERR_PADDING;
	}
	if ((uint64_t)n != *off + nip44_padded_len(l))
		return NIP44_ERR_PADDING;
	*len = (size_t)l;
	return NIP44_OK;
}

/* Verify the MAC, decrypt and unpad raw (version || nonce || ct || mac). */
static enum nip44_err nip44_open(uint8_t **out, size_t *outlen, const struct nip44_key *ck,
				 const uint8_t *raw, size_t rawlen)
{
	const uint8_t *nonce = raw + 1, *ct = raw + 1 + NIP44_NONCE;
	size_t ctlen = rawlen - 1 - NIP44_NONCE - NIP44_MAC, off, len;
	struct nip44_msg_keys mk;
	uint8_t mac[32], *pad = NULL;
	enum nip44_err rc = nip44_message_keys(&mk, ck, nonce);

	if (rc != NIP44_OK)
		goto done;
	rc = NIP44_ERR_CRYPTO;
	if (nip44_hmac(mac, mk.hmac_key, nonce, ct, ctlen) != 0)
		goto done;
	rc = NIP44_ERR_MAC;
	if (CRYPTO_memcmp(mac, ct + ctlen, 32) != 0)
		goto done;
	rc = NIP44_ERR_NOMEM;
	pad = malloc(ctlen + 1);
	if (pad == NULL)
		goto done;
	rc = nip44_chacha(pad, ct, ctlen, &mk) != 0 ? NIP44_ERR_CRYPTO
						    : nip44_unpad(pad, ctlen, &off, &len);
	if (rc != NIP44_OK)
		goto done;
	memmove(pad, pad + off, len);
	OPENSSL_cleanse(pad + len, ctlen + 1 - len); /* the tail held the plaintext's last bytes */
	pad[len] = '\0';
	*out = pad;
	*outlen = len;
	pad = NULL;
done:
	if (pad != NULL)
		OPENSSL_cleanse(pad, ctlen);
	free(pad);
	OPENSSL_cleanse(&mk, sizeof(mk));
	return rc;
}

/* Decrypt a payload. */
enum nip44_err nip44_decrypt(uint8_t **out, size_t *outlen, const struct nip44_key *ck,
			     const char *payload, size_t len)
{
	uint8_t *raw;
	size_t rawlen = 0;
	enum nip44_err rc = nip44_frame(&raw, &rawlen, payload, len);

	*out = NULL;
	if (rc == NIP44_OK)
		rc = nip44_open(out, outlen, ck, raw, rawlen);
	free(raw);
	return rc;
}

/* Wipe a conversation key. */
void nip44_key_wipe(struct nip44_key *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}
