/*
 * test_nostr_uri.c - bunker:// and nostrconnect:// URIs: parsing with
 * percent-decoding, formatting, round trips, and rejections; the connect
 * secret is a struct secret that the logger redacts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/secret.h"
#include "nostr/uri.h"

#define PK "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"

/* A bunker URI with two relays and a secret; format round trip. */
static void test_bunker(void **state)
{
	static const char s[] = "bunker://" PK "?relay=wss%3A%2F%2Frelay.example.com&relay=ws://"
				"127.0.0.1:7777/path&secret=ab%20c%2Bd&unknown=1";
	struct nostr_uri u, back;
	char *out, err[160];

	(void)state;
	assert_int_equal(nostr_uri_parse(&u, s, err, sizeof(err)), 0);
	assert_int_equal(u.kind, NOSTR_URI_BUNKER);
	assert_int_equal(u.nrelays, 2);
	assert_string_equal(u.relays[0], "wss://relay.example.com");
	assert_string_equal(u.relays[1], "ws://127.0.0.1:7777/path");
	assert_string_equal(secret_reveal(&u.secret), "ab c+d");
	assert_null(u.perms);
	assert_int_equal(nostr_uri_format(&out, &u, err, sizeof(err)), 0);
	assert_string_equal(out, "bunker://" PK "?relay=wss%3A%2F%2Frelay.example.com&relay=ws%3A%"
				 "2F%2F127.0.0.1%3A7777%2Fpath&secret=ab%20c%2Bd");
	assert_int_equal(nostr_uri_parse(&back, out, err, sizeof(err)), 0);
	assert_int_equal(back.nrelays, 2);
	assert_string_equal(secret_reveal(&back.secret), secret_reveal(&u.secret));
	assert_memory_equal(back.pubkey.b, u.pubkey.b, 32);
	free(out);
	nostr_uri_clear(&back);
	nostr_uri_clear(&u);
	assert_false(secret_is_set(&u.secret));
	assert_int_equal(secret_len(&u.secret), 0);
}

/* A nostrconnect URI with every parameter; '+' decodes to a space. */
static void test_nostrconnect(void **state)
{
	static const char s[] = "nostrconnect://" PK "?relay=wss://r.example&secret=s3cr3t&perms="
				"sign_event%3A1%2Cnip44_encrypt&name=My+App&url=https%3A%2F%2Fa.b&"
				"image=https://a.b/i.png";
	struct nostr_uri u, back;
	char *out, err[160];

	(void)state;
	assert_int_equal(nostr_uri_parse(&u, s, err, sizeof(err)), 0);
	assert_int_equal(u.kind, NOSTR_URI_NOSTRCONNECT);
	assert_string_equal(u.perms, "sign_event:1,nip44_encrypt");
	assert_string_equal(u.name, "My App");
	assert_string_equal(u.url, "https://a.b");
	assert_string_equal(u.image, "https://a.b/i.png");
	assert_int_equal(nostr_uri_format(&out, &u, err, sizeof(err)), 0);
	assert_int_equal(nostr_uri_parse(&back, out, err, sizeof(err)), 0);
	assert_string_equal(back.perms, u.perms);
	assert_string_equal(back.name, u.name);
	assert_string_equal(back.url, u.url);
	assert_string_equal(back.image, u.image);
	assert_string_equal(secret_reveal(&back.secret), "s3cr3t");
	assert_string_equal(back.relays[0], "wss://r.example");
	free(out);
	nostr_uri_clear(&back);
	nostr_uri_clear(&u);
}

/* Lower-case percent escapes, a slash before the query, a bare key and an unknown key. */
static void test_decoding_forms(void **state)
{
	static const char s[] = "bunker://" PK "/?relay=wss%3a%2f%2fr.example%2fx%3Fy&flag&"
				"secret=%e2%82%AC&other=%zz";
	struct nostr_uri u;
	char err[160];

	(void)state;
	assert_int_equal(nostr_uri_parse(&u, s, err, sizeof(err)), 0);
	assert_int_equal(u.nrelays, 1);
	assert_string_equal(u.relays[0], "wss://r.example/x?y");
	assert_string_equal(secret_reveal(&u.secret), "\xe2\x82\xac"); /* U+20AC, bytes as given */
	nostr_uri_clear(&u);
}

/* Rejections, each with a message. */
static void test_reject(void **state)
{
	static const char *const bad[] = {
		"http://" PK "?relay=wss://r",
		"bunker://" PK,
		"bunker://" PK "?secret=x",
		"bunker://" PK "?relay=https://r",
		"bunker://" PK "?relay=wss://",
		"bunker://" PK "?relay=wss%3A%2F%2Fr%00x",
		"bunker://" PK "?relay=wss://r&secret=a%0Ab",
		"bunker://" PK "?relay=wss://r&secret=%zz",
		"bunker://" PK "?relay=wss://r&secret=%4",
		"bunker://" PK "?relay=wss://r&secret=a&secret=b",
		"bunker://" PK "?relay=wss://r&secret=&secret=b",
		"bunker://"
		"F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9?relay=wss://r",
		"bunker://f9308a?relay=wss://r",
		"bunker://"
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff?relay=wss://r",
		"bunker://" PK "x?relay=wss://r",
		"nostrconnect://" PK "?relay=wss://r",
		"nostrconnect://" PK "?relay=wss://r&secret=",
	};
	struct nostr_uri u;
	char err[160];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (nostr_uri_parse(&u, bad[i], err, sizeof(err)) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err[0] != '\0');
		assert_int_equal(u.nrelays, 0);
	}
	print_message("%zu bad URIs rejected\n", sizeof(bad) / sizeof(bad[0]));
}

/* Relay limits and duplicates; format refuses invalid input. */
static void test_relays(void **state)
{
	char s[4096], *out, err[160];
	struct nostr_uri u;
	int n = snprintf(s, sizeof(s), "bunker://%s?relay=wss://dup&relay=wss://dup", PK);

	(void)state;
	assert_int_equal(nostr_uri_parse(&u, s, err, sizeof(err)), 0);
	assert_int_equal(u.nrelays, 1);
	nostr_uri_clear(&u);
	for (int i = 0; i < NOSTR_URI_MAX_RELAYS + 1; i++)
		n += snprintf(s + n, sizeof(s) - (size_t)n, "&relay=wss://r%d", i);
	assert_int_equal(nostr_uri_parse(&u, s, err, sizeof(err)), -1);
	assert_true(nostr_uri_relay_valid("WSS://relay.example"));
	assert_false(nostr_uri_relay_valid("wss://a b"));
	assert_false(nostr_uri_relay_valid("wss:/a"));
	memset(&u, 0, sizeof(u));
	assert_int_equal(nostr_uri_format(&out, &u, err, sizeof(err)), -1); /* no relay */
	u.relays[0] = (char *)"https://x";
	u.nrelays = 1;
	assert_int_equal(nostr_uri_format(&out, &u, err, sizeof(err)), -1);
	assert_null(out);
}

/* Every byte class a secret may hold survives format then parse, compared constant-time. */
static void test_secret_round_trip(void **state)
{
	static const char text[] = "a b+c%d&e=f?g#h/i\xe2\x82\xac~-._\"'\\";
	struct nostr_uri u = {.kind = NOSTR_URI_BUNKER, .nrelays = 1}, back;
	char *out, err[160];

	(void)state;
	assert_int_equal(nostr_pubkey_from_hex(&u.pubkey, PK, 64), 0);
	u.relays[0] = strdup("wss://r.example");
	assert_non_null(u.relays[0]);
	assert_int_equal(secret_set(&u.secret, text, strlen(text)), 0);
	assert_int_equal(nostr_uri_format(&out, &u, err, sizeof(err)), 0);
	assert_null(strstr(out, "a b")); /* encoded, not raw */
	assert_int_equal(nostr_uri_parse(&back, out, err, sizeof(err)), 0);
	assert_int_equal(secret_len(&back.secret), strlen(text));
	assert_true(secret_equal(&back.secret, text, strlen(text)));
	assert_false(secret_equal(&back.secret, text, strlen(text) - 1));
	free(out);
	nostr_uri_clear(&back);
	nostr_uri_clear(&u);
}

/* An empty secret= is absent: bunker:// accepts it and formats without it. */
static void test_secret_empty(void **state)
{
	static const char s[] = "bunker://" PK "?relay=wss://r.example&secret=";
	struct nostr_uri u;
	char *out, err[160];

	(void)state;
	assert_int_equal(nostr_uri_parse(&u, s, err, sizeof(err)), 0);
	assert_false(secret_is_set(&u.secret));
	assert_int_equal(nostr_uri_format(&out, &u, err, sizeof(err)), 0);
	assert_string_equal(out, "bunker://" PK "?relay=wss%3A%2F%2Fr.example");
	free(out);
	nostr_uri_clear(&u);
}

/* Run fn with stderr redirected to a file; return what it wrote (caller frees). */
static char *capture_stderr(void (*fn)(void))
{
	char path[] = "/tmp/kc-uri-XXXXXX";
	int fd = mkstemp(path);
	int saved = dup(STDERR_FILENO);
	char *buf = calloc(1, 65536);
	FILE *f;

	assert_true(fd >= 0 && saved >= 0 && buf != NULL);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	f = fdopen(fd, "r");
	assert_non_null(f);
	rewind(f);
	if (fread(buf, 1, 65535, f) == 0)
		buf[0] = '\0';
	fclose(f);
	unlink(path);
	return buf;
}

/* The URI whose secret emit_uri_secret logs. */
static struct nostr_uri logged_uri;

/* Log the parsed URI's secret in JSON and in text. */
static void emit_uri_secret(void)
{
	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
	log_info("authz", "connect", log_secret("secret", &logged_uri.secret));
	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_TEXT);
	log_info("authz", "connect", log_secret("secret", &logged_uri.secret));
	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
}

/* A parsed URI's secret reaches a log line only as "[redacted]". */
static void test_secret_logged_redacted(void **state)
{
	static const char s[] = "nostrconnect://" PK "?relay=wss://r.example&secret=hunter%32uri";
	char err[160], *out;

	(void)state;
	assert_int_equal(nostr_uri_parse(&logged_uri, s, err, sizeof(err)), 0);
	assert_true(secret_equal(&logged_uri.secret, "hunter2uri", 10));
	out = capture_stderr(emit_uri_secret);
	assert_non_null(strstr(out, "\"secret\":\"[redacted]\""));
	assert_non_null(strstr(out, " secret=[redacted]"));
	assert_null(strstr(out, "hunter"));
	free(out);
	nostr_uri_clear(&logged_uri);
}

/* Run the group. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bunker),
		cmocka_unit_test(test_nostrconnect),
		cmocka_unit_test(test_decoding_forms),
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_relays),
		cmocka_unit_test(test_secret_round_trip),
		cmocka_unit_test(test_secret_empty),
		cmocka_unit_test(test_secret_logged_redacted),
	};

	return cmocka_run_group_tests_name("nostr_uri", tests, NULL, NULL);
}
