/*
 * db_seal.c - AES-256-GCM sealing and the master key, behind db_seal.h.
 */
#include "db/db_seal.h"

#include "core/env.h"
#include "core/log.h"
#include "nostr/hex.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DB_SEAL_FORMAT 0x01

static int db_seal_crypt(const struct db_master_key *k, const char *aad, int enc,
			 const unsigned char *nonce, const unsigned char *in, size_t len,
			 unsigned char *out, unsigned char *tag);
static int db_seal_read_all(const char *path, unsigned flags, unsigned char *buf, size_t cap,
			    size_t *n, char *err, size_t errlen);
static int db_seal_check_file(int fd, const char *path, unsigned flags, char *err, size_t errlen);

/* A fresh random master key. */
int db_master_key_generate(struct db_master_key *out)
{
	return RAND_priv_bytes(out->k, sizeof(out->k)) == 1 ? 0 : -1;
}

/* Parse 64 hex digits with optional surrounding whitespace; out is wiped on failure. */
int db_master_key_from_hex(struct db_master_key *out, const char *hex)
{
	static const char space[] = " \t\r\n";
	size_t n;

	hex += strspn(hex, space);
	n = strcspn(hex, space);
	if (hex[n + strspn(hex + n, space)] != '\0' ||
	    hex_decode(out->k, sizeof(out->k), hex, n, HEX_ANY_CASE) != 0) {
		db_master_key_wipe(out);
		return -1;
	}
	return 0;
}

/* Whether k is all zeros (constant time). */
int db_master_key_is_zero(const struct db_master_key *k)
{
	unsigned char acc = 0;

	for (size_t i = 0; i < sizeof(k->k); i++)
		acc |= k->k[i];
	return acc == 0;
}

/*
 * The open key file fd must be a regular file that group and others can
 * neither read nor write (unless DB_MASTER_KEY_ALLOW_SHARED: then warn).
 * 0, or -1 with a message.
 */
static int db_seal_check_file(int fd, const char *path, unsigned flags, char *err, size_t errlen)
{
	struct stat st;
	char mode[8];

	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file: a master key file must be one",
			 path);
		return -1;
	}
	if ((st.st_mode & 066) == 0)
		return 0;
	if ((flags & DB_MASTER_KEY_ALLOW_SHARED) == 0) {
		snprintf(err, errlen,
			 "%s: group or others may read or write it (mode %04o): chmod 600 it, or "
			 "set master_key_allow_shared=1 to accept that",
			 path, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	snprintf(mode, sizeof(mode), "%04o", (unsigned)(st.st_mode & 07777));
	log_warn("db", "the master key file is readable or writable by group or others",
		 log_str("path", path), log_str("mode", mode),
		 log_str("allowed_by", "master_key_allow_shared"));
	return 0;
}

/*
 * Read path into buf (room for cap + 1 bytes, so that a file of exactly cap
 * bytes fits and a longer one is seen) after checking what it is; retries
 * on EINTR. Opened non-blocking, so a FIFO is refused instead of waited
 * on. -1 if refused, unreadable or longer than cap.
 */
static int db_seal_read_all(const char *path, unsigned flags, unsigned char *buf, size_t cap,
			    size_t *n, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	ssize_t r = 0;

	*n = 0;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (db_seal_check_file(fd, path, flags, err, errlen) != 0) {
		close(fd);
		return -1;
	}
	while (*n <= cap &&
	       ((r = read(fd, buf + *n, cap + 1 - *n)) > 0 || (r < 0 && errno == EINTR)))
		*n += r > 0 ? (size_t)r : 0;
	if (r < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else if (*n > cap)
		snprintf(err, errlen, "%s: file too long", path);
	close(fd);
	return r < 0 || *n > cap ? -1 : 0;
}

/* Read a master key file (hex or 32 raw bytes), checked as db_seal.h says. */
int db_master_key_load_file(struct db_master_key *out, const char *path, unsigned flags, char *err,
			    size_t errlen)
{
	unsigned char buf[DB_MASTER_KEY_FILE_MAX +
			  2]; /* one byte more to see a longer file, and the NUL */
	size_t n;
	int rc = -1;

	if (db_seal_read_all(path, flags, buf, DB_MASTER_KEY_FILE_MAX, &n, err, errlen) != 0)
		goto fail;
	buf[n] = '\0';
	if (n == DB_MASTER_KEY_LEN) {
		memcpy(out->k, buf, DB_MASTER_KEY_LEN);
		rc = 0;
	} else {
		rc = db_master_key_from_hex(out, (const char *)buf);
	}
	if (rc != 0)
		snprintf(err, errlen, "%s: not a master key (64 hex digits or 32 bytes)", path);
	else if (db_master_key_is_zero(out)) {
		snprintf(err, errlen,
			 "%s: the master key is all zeros: generate one with "
			 "`keycastd key generate-master`",
			 path);
		db_master_key_wipe(out);
		rc = -1;
	}
fail:
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

/* The master key from MASTER_KEY (hex) or else the file at path. */
int db_master_key_load(struct db_master_key *out, const struct env *e, const char *path,
		       unsigned flags, char *err, size_t errlen)
{
	const char *hex = e != NULL ? env_get(e, DB_MASTER_KEY_ENV) : NULL;

	if (hex != NULL && *hex != '\0') {
		if (db_master_key_from_hex(out, hex) != 0) {
			snprintf(err, errlen, "env %s: not 64 hex digits", DB_MASTER_KEY_ENV);
			return -1;
		}
		if (!db_master_key_is_zero(out))
			return 0;
		db_master_key_wipe(out);
		snprintf(err, errlen, "env %s: the master key is all zeros", DB_MASTER_KEY_ENV);
		return -1;
	}
	if (path == NULL || *path == '\0') {
		snprintf(err, errlen, "no master key: set master_key_path (MASTER_KEY_PATH) or %s",
			 DB_MASTER_KEY_ENV);
		return -1;
	}
	return db_master_key_load_file(out, path, flags, err, errlen);
}

/* Write k as hex to a new 0600 file (removed again if the write fails). */
int db_master_key_write_file(const struct db_master_key *k, const char *path, char *err,
			     size_t errlen)
{
	static const char digits[] = "0123456789abcdef";
	char hex[2 * DB_MASTER_KEY_LEN + 1];
	int fd, rc = -1;

	for (size_t i = 0; i < DB_MASTER_KEY_LEN; i++) {
		hex[2 * i] = digits[k->k[i] >> 4];
		hex[2 * i + 1] = digits[k->k[i] & 15];
	}
	hex[2 * DB_MASTER_KEY_LEN] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fchmod(fd, 0600) != 0 || write(fd, hex, sizeof(hex)) != (ssize_t)sizeof(hex) ||
	    fsync(fd) != 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else
		rc = 0;
	if (close(fd) != 0 && rc == 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		(void)unlink(path); /* never leave a partial key behind */
fail:
	OPENSSL_cleanse(hex, sizeof(hex));
	return rc;
}

/* Wipe the key. */
void db_master_key_wipe(struct db_master_key *k)
{
	OPENSSL_cleanse(k->k, sizeof(k->k));
}

/* "keycastd:<kind>:<id>:v<version>"; -1 if truncated. */
int db_seal_aad(char *buf, size_t len, const char *kind, const char *id, int32_t version)
{
	int n = snprintf(buf, len, "keycastd:%s:%s:v%d", kind, id, (int)version);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* One AES-256-GCM pass (enc: seal and write tag; else open and check tag). */
static int db_seal_crypt(const struct db_master_key *k, const char *aad, int enc,
			 const unsigned char *nonce, const unsigned char *in, size_t len,
			 unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n, ok = ctx != NULL && len <= INT32_MAX;

	ok = ok && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1;
	ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, DB_SEAL_NONCE_LEN, NULL) == 1;
	ok = ok && EVP_CipherInit_ex(ctx, NULL, NULL, k->k, nonce, enc) == 1;
	ok = ok &&
	     EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1;
	ok = ok && EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1;
	if (!enc)
		ok = ok &&
		     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, DB_SEAL_TAG_LEN, tag) == 1;
	ok = ok && EVP_CipherFinal_ex(ctx, out + n, &n) == 1;
	if (enc)
		ok = ok &&
		     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, DB_SEAL_TAG_LEN, tag) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* Seal pt with aad: format byte, random nonce, ciphertext, tag. */
int db_seal(const struct db_master_key *k, const char *aad, const unsigned char *pt, size_t ptlen,
	    unsigned char *out, size_t outcap, size_t *outlen)
{
	unsigned char *nonce = out + 1, *ct = out + 1 + DB_SEAL_NONCE_LEN;

	if (outcap < ptlen + DB_SEAL_OVERHEAD || RAND_bytes(nonce, DB_SEAL_NONCE_LEN) != 1)
		return -1;
	out[0] = DB_SEAL_FORMAT;
	if (db_seal_crypt(k, aad, 1, nonce, pt, ptlen, ct, ct + ptlen) != 0) {
		OPENSSL_cleanse(out, outcap);
		return -1;
	}
	*outlen = ptlen + DB_SEAL_OVERHEAD;
	return 0;
}

/* Open a sealed value; -1 (pt wiped) unless it authenticates under k and aad. */
int db_unseal(const struct db_master_key *k, const char *aad, const unsigned char *sealed,
	      size_t len, unsigned char *pt, size_t ptcap, size_t *ptlen)
{
	size_t n = len >= DB_SEAL_OVERHEAD ? len - DB_SEAL_OVERHEAD : 0;
	unsigned char tag[DB_SEAL_TAG_LEN];

	if (len < DB_SEAL_OVERHEAD || sealed[0] != DB_SEAL_FORMAT || ptcap < n) {
		OPENSSL_cleanse(pt, ptcap);
		return -1;
	}
	memcpy(tag, sealed + len - DB_SEAL_TAG_LEN, DB_SEAL_TAG_LEN);
	if (db_seal_crypt(k, aad, 0, sealed + 1, sealed + 1 + DB_SEAL_NONCE_LEN, n, pt, tag) != 0) {
		OPENSSL_cleanse(pt, ptcap);
		return -1;
	}
	*ptlen = n;
	return 0;
}
