/*
 * db_seal.h - sealed secrets: AES-256-GCM under the master key.
 *
 * A secret stored in the database (a user's Nostr secret key, a bunker
 * key) is sealed under a 256-bit master key with the row's identity as
 * associated data, e.g. "keycastd:key:<pubkey-hex>:v<key_version>", so a
 * sealed value copied into another row, or presented under another key
 * version, fails authentication instead of decrypting. Format of a sealed
 * value (DB_SEAL_OVERHEAD bytes more than the plaintext):
 *
 *     0x01 (format) || nonce (12 random bytes) || ciphertext || tag (16)
 *
 * The master key lives in struct db_master_key, which no log constructor
 * accepts; wipe it with db_master_key_wipe() (OPENSSL_cleanse).
 */
#ifndef KC_DB_SEAL_H
#define KC_DB_SEAL_H

#include <stddef.h>
#include <stdint.h>

struct env;

#define DB_MASTER_KEY_LEN 32

/* A master key file is at most this many bytes (the key and some whitespace). */
#define DB_MASTER_KEY_FILE_MAX 158
#define DB_SEAL_NONCE_LEN      12
#define DB_SEAL_TAG_LEN	       16
#define DB_SEAL_OVERHEAD       (1 + DB_SEAL_NONCE_LEN + DB_SEAL_TAG_LEN)
/* The environment variable that may hold the master key as 64 hex digits. */
#define DB_MASTER_KEY_ENV "MASTER_KEY"

/* Flags of db_master_key_load(). */
enum db_master_key_flag {
	DB_MASTER_KEY_ALLOW_SHARED = 1u
				     << 0, /* accept a file group or others may access (warned) */
};

/* The 256-bit master key. Never log it; wipe it with db_master_key_wipe(). */
struct db_master_key {
	unsigned char k[DB_MASTER_KEY_LEN];
};

/* A fresh random master key. Returns 0, or -1 if the RNG failed. */
int db_master_key_generate(struct db_master_key *out) __attribute__((warn_unused_result));

/* Parse 64 hex digits (surrounding whitespace allowed). Returns 0, or -1 (out is then wiped). */
int db_master_key_from_hex(struct db_master_key *out, const char *hex)
	__attribute__((warn_unused_result));

/*
 * Read a master key file: 64 hex digits (and a newline) or 32 raw bytes.
 * Refused with a message in err (-1): what is not a regular file (a FIFO
 * would block for ever, a directory says nothing), a file group or others
 * may read or write (unless flags has DB_MASTER_KEY_ALLOW_SHARED: then a
 * warning is logged), a key of all zeros. Returns 0, or -1.
 */
int db_master_key_load_file(struct db_master_key *out, const char *path, unsigned flags, char *err,
			    size_t errlen) __attribute__((warn_unused_result));

/* Whether k is all zeros (never a key anyone generated: a placeholder or a blank file). */
int db_master_key_is_zero(const struct db_master_key *k) __attribute__((warn_unused_result));

/*
 * The master key from the environment variable MASTER_KEY (hex) if set
 * in e, else from the file path (MASTER_KEY_PATH), as
 * db_master_key_load_file (flags: enum db_master_key_flag). Returns 0, or
 * -1 with a message in err (neither set, unreadable, malformed, all zeros,
 * not a regular file, shared with group or others).
 */
int db_master_key_load(struct db_master_key *out, const struct env *e, const char *path,
		       unsigned flags, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * Write k as hex to a new file path with mode 0600; an existing file is
 * never overwritten. Returns 0, or -1 with a message in err.
 */
int db_master_key_write_file(const struct db_master_key *k, const char *path, char *err,
			     size_t errlen) __attribute__((warn_unused_result));

/* Wipe the key. */
void db_master_key_wipe(struct db_master_key *k);

/* The associated data of a sealed key row: "keycastd:<kind>:<id>:v<version>". */
int db_seal_aad(char *buf, size_t len, const char *kind, const char *id, int32_t version)
	__attribute__((warn_unused_result));

/*
 * Seal pt[0..ptlen) with aad into out (room for ptlen + DB_SEAL_OVERHEAD).
 * Returns 0 and *outlen, or -1 (RNG or cipher failure, out too small).
 */
int db_seal(const struct db_master_key *k, const char *aad, const unsigned char *pt, size_t ptlen,
	    unsigned char *out, size_t outcap, size_t *outlen) __attribute__((warn_unused_result));

/*
 * Open a sealed value with aad into pt (room for len - DB_SEAL_OVERHEAD).
 * Returns 0 and *ptlen, or -1 when it fails authentication (tampered,
 * moved to another row, wrong master key) or is malformed; pt is then
 * wiped.
 */
int db_unseal(const struct db_master_key *k, const char *aad, const unsigned char *sealed,
	      size_t len, unsigned char *pt, size_t ptcap, size_t *ptlen)
	__attribute__((warn_unused_result));

#endif /* KC_DB_SEAL_H */
