/*
 * test_db_seal.c - sealed secrets and the master key: round trip, tamper
 * detection (flipped byte, swapped row, other key version), wrong master
 * key, malformed input, and master key files (0600, no overwrite, hex or
 * raw) and the MASTER_KEY environment variable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/env.h"
#include "db/db_seal.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PK_A "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
#define PK_B "c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5"

static const unsigned char secret[32] = {1,  2,	 3,  4,	 5,  6,	 7,  8,	 9,  10, 11,
					 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
					 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* Seal secret for row (pk, version) under k; returns the sealed length. */
static size_t seal_row(const struct db_master_key *k, const char *pk, int version,
		       unsigned char *out)
{
	char aad[128];
	size_t n = 0;

	assert_int_equal(db_seal_aad(aad, sizeof(aad), "key", pk, version), 0);
	assert_int_equal(db_seal(k, aad, secret, sizeof(secret), out, 64 + DB_SEAL_OVERHEAD, &n),
			 0);
	return n;
}

/* Try to open a sealed value as row (pk, version); returns db_unseal's result. */
static int open_row(const struct db_master_key *k, const char *pk, int version,
		    const unsigned char *sealed, size_t n, unsigned char *pt)
{
	char aad[128];
	size_t ptlen = 0;

	assert_int_equal(db_seal_aad(aad, sizeof(aad), "key", pk, version), 0);
	return db_unseal(k, aad, sealed, n, pt, 32, &ptlen);
}

/* Whether buf[0..n) is all zero. */
static bool all_zero(const unsigned char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != 0)
			return false;
	return true;
}

/* Seal then open gives the plaintext back; two seals differ (random nonce). */
static void test_round_trip(void **state)
{
	struct db_master_key k;
	unsigned char s1[96], s2[96], pt[32];
	size_t n;

	(void)state;
	assert_int_equal(db_master_key_generate(&k), 0);
	n = seal_row(&k, PK_A, 1, s1);
	assert_int_equal(n, 32 + DB_SEAL_OVERHEAD);
	assert_int_equal(seal_row(&k, PK_A, 1, s2), n);
	assert_memory_not_equal(s1, s2, n);
	assert_int_equal(open_row(&k, PK_A, 1, s1, n, pt), 0);
	assert_memory_equal(pt, secret, 32);
	assert_null(memmem(s1, n, secret, 8)); /* no plaintext in the sealed value */
	db_master_key_wipe(&k);
	assert_true(all_zero(k.k, sizeof(k.k)));
}

/* Any flipped byte (format, nonce, ciphertext, tag) fails, and pt is wiped. */
static void test_flipped_byte(void **state)
{
	struct db_master_key k;
	unsigned char s[96], pt[32];
	size_t n;

	(void)state;
	assert_int_equal(db_master_key_generate(&k), 0);
	n = seal_row(&k, PK_A, 1, s);
	for (size_t i = 0; i < n; i++) {
		s[i] ^= 0x01;
		memset(pt, 0xAA, sizeof(pt));
		assert_int_equal(open_row(&k, PK_A, 1, s, n, pt), -1);
		assert_true(all_zero(pt, sizeof(pt)));
		s[i] ^= 0x01;
	}
	assert_int_equal(open_row(&k, PK_A, 1, s, n, pt), 0);
	assert_int_equal(open_row(&k, PK_A, 1, s, n - 1, pt), -1);
	assert_int_equal(open_row(&k, PK_A, 1, s, DB_SEAL_OVERHEAD - 1, pt), -1);
}

/* A sealed value moved to another row, or read as another key version, fails. */
static void test_swapped_row(void **state)
{
	struct db_master_key k;
	unsigned char a[96], b[96], pt[32];
	size_t na, nb;

	(void)state;
	assert_int_equal(db_master_key_generate(&k), 0);
	na = seal_row(&k, PK_A, 1, a);
	nb = seal_row(&k, PK_B, 1, b);
	assert_int_equal(open_row(&k, PK_B, 1, a, na, pt), -1);
	assert_int_equal(open_row(&k, PK_A, 1, b, nb, pt), -1);
	assert_int_equal(open_row(&k, PK_A, 2, a, na, pt), -1);
	assert_int_equal(open_row(&k, PK_A, 1, a, na, pt), 0);
}

/* Another master key cannot open it. */
static void test_wrong_master_key(void **state)
{
	struct db_master_key k1, k2;
	unsigned char s[96], pt[32];
	size_t n;

	(void)state;
	assert_int_equal(db_master_key_generate(&k1), 0);
	assert_int_equal(db_master_key_generate(&k2), 0);
	n = seal_row(&k1, PK_A, 1, s);
	assert_int_equal(open_row(&k2, PK_A, 1, s, n, pt), -1);
}

/* Hex parsing: exact length, hex digits only, whitespace around allowed. */
static void test_master_key_hex(void **state)
{
	struct db_master_key k;
	char hex[80];

	(void)state;
	memset(hex, 'a', 64);
	hex[64] = '\0';
	assert_int_equal(db_master_key_from_hex(&k, hex), 0);
	assert_int_equal(k.k[0], 0xaa);
	snprintf(hex, sizeof(hex), "  %.*s\n", 64,
		 "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef");
	assert_int_equal(db_master_key_from_hex(&k, hex), 0);
	assert_int_equal(k.k[0], 0x01);
	assert_int_equal(k.k[5], 0xab); /* upper case decodes too */
	assert_int_equal(k.k[31], 0xef);
	assert_int_equal(db_master_key_from_hex(&k, "abcd"), -1);
	assert_int_equal(db_master_key_from_hex(&k, ""), -1);
	assert_int_equal(db_master_key_from_hex(&k, " \n"), -1);
	hex[10] = 'g';
	assert_int_equal(db_master_key_from_hex(&k, hex), -1);
	for (size_t i = 0; i < sizeof(k.k); i++)
		assert_int_equal(k.k[i], 0); /* a refused key leaves nothing behind */
	memset(hex, 'a', 65);		     /* one digit too many */
	hex[65] = '\0';
	assert_int_equal(db_master_key_from_hex(&k, hex), -1);
	hex[32] = ' '; /* whitespace inside */
	hex[64] = '\0';
	assert_int_equal(db_master_key_from_hex(&k, hex), -1);
	snprintf(hex, sizeof(hex), "%.*s x", 64,
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(db_master_key_from_hex(&k, hex), -1); /* garbage after the key */
}

/* Files: written 0600, never overwritten, read back as hex or raw bytes; env first. */
static void test_master_key_files_and_env(void **state)
{
	char dir[] = "/tmp/kc-seal-XXXXXX", path[128], raw[128], err[256];
	struct db_master_key k, back;
	struct stat sb;
	struct env e;
	FILE *f;

	mode_t mask = umask(077); /* key files the tests write are private */

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/master.key", dir);
	snprintf(raw, sizeof(raw), "%s/raw.key", dir);
	assert_int_equal(db_master_key_generate(&k), 0);
	assert_int_equal(db_master_key_write_file(&k, path, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(db_master_key_write_file(&k, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "exists"));
	assert_int_equal(db_master_key_load_file(&back, path, 0, err, sizeof(err)), 0);
	assert_memory_equal(back.k, k.k, 32);
	f = fopen(raw, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(k.k, 1, 32, f), 32);
	fclose(f);
	memset(&back, 0, sizeof(back));
	assert_int_equal(db_master_key_load_file(&back, raw, 0, err, sizeof(err)), 0);
	assert_memory_equal(back.k, k.k, 32);
	f = fopen(raw, "wb"); /* a hex key padded to exactly the longest file: loads */
	assert_non_null(f);
	assert_int_equal(fprintf(f, "%064d%*s", 7, DB_MASTER_KEY_FILE_MAX - 64, "\n"),
			 DB_MASTER_KEY_FILE_MAX);
	fclose(f);
	assert_int_equal(db_master_key_load_file(&back, raw, 0, err, sizeof(err)), 0);
	assert_int_equal(back.k[31], 7);
	f = fopen(raw, "ab"); /* one byte more: refused as too long */
	assert_non_null(f);
	assert_int_equal(fputc(' ', f), ' ');
	fclose(f);
	assert_int_equal(db_master_key_load_file(&back, raw, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "file too long"));
	env_init(&e, 0);
	assert_int_equal(db_master_key_load(&back, &e, "", 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "MASTER_KEY_PATH"));
	assert_int_equal(env_put(&e, "MASTER_KEY="
				     "00000000000000000000000000000000"
				     "00000000000000000000000000000007"),
			 0);
	assert_int_equal(db_master_key_load(&back, &e, path, 0, err, sizeof(err)), 0);
	assert_int_equal(back.k[31], 7);
	assert_int_equal(env_put(&e, "MASTER_KEY=nothex"), 0);
	assert_int_equal(db_master_key_load(&back, &e, path, 0, err, sizeof(err)), -1);
	env_clear(&e);
	unlink(path);
	unlink(raw);
	rmdir(dir);
	umask(mask);
}

/* Write a file at path with mode, holding text. */
static void write_file(const char *path, mode_t mode, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

/*
 * What a master key file must be: a regular file (a FIFO is refused at
 * once, not waited on), private to its owner (unless allowed, then
 * accepted), not all zeros; MASTER_KEY all zeros is refused too.
 */
static void test_master_key_file_checks(void **state)
{
	char dir[] = "/tmp/kc-seal-XXXXXX", path[128], err[256];
	static const char key7[] =
		"0000000000000000000000000000000000000000000000000000000000000007\n";
	struct db_master_key back;
	struct env e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/master.key", dir);
	write_file(path, 0644, key7);
	assert_int_equal(db_master_key_load_file(&back, path, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "group or others may read or write it (mode 0644)"));
	assert_int_equal(chmod(path, 0620), 0);
	assert_int_equal(db_master_key_load_file(&back, path, 0, err, sizeof(err)), -1);
	assert_int_equal(
		db_master_key_load_file(&back, path, DB_MASTER_KEY_ALLOW_SHARED, err, sizeof(err)),
		0);
	assert_int_equal(back.k[31], 7);
	write_file(path, 0600, "0000000000000000000000000000000000000000000000000000000000000000");
	assert_int_equal(db_master_key_load_file(&back, path, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "all zeros"));
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(db_master_key_load_file(&back, path, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	unlink(path);
	assert_int_equal(db_master_key_load_file(&back, dir, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	env_init(&e, 0);
	assert_int_equal(env_put(&e, "MASTER_KEY="
				     "00000000000000000000000000000000"
				     "00000000000000000000000000000000"),
			 0);
	assert_int_equal(db_master_key_load(&back, &e, "", 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "all zeros"));
	env_clear(&e);
	rmdir(dir);
}

/* Run the group. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_flipped_byte),
		cmocka_unit_test(test_swapped_row),
		cmocka_unit_test(test_wrong_master_key),
		cmocka_unit_test(test_master_key_hex),
		cmocka_unit_test(test_master_key_files_and_env),
		cmocka_unit_test(test_master_key_file_checks),
	};

	return cmocka_run_group_tests_name("db_seal", tests, NULL, NULL);
}
