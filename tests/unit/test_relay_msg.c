/*
 * test_relay_msg.c - the NIP-01 relay message parser on valid and
 * malformed input, the raw event span, and the client message builders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/relay_msg.h"

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Parse a NUL-terminated message. */
static int parse(struct relay_msg *m, const char *s)
{
	char err[128];
	return relay_msg_parse(m, s, strlen(s), err, sizeof(err));
}

/* Malformed relay messages are refused with a reason, never crash. */
static void test_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"[",
		"]",
		"{}",
		"null",
		"42",
		"\"EVENT\"",
		"[]",
		"[1,2]",
		"[\"NOPE\",\"x\"]",
		"[\"EVENT\"]",
		"[\"EVENT\",\"s\"]",
		"[\"EVENT\",\"s\",[]]",
		"[\"EVENT\",1,{}]",
		"[\"EVENT\",\"s\",\"{}\"]",
		"[\"EOSE\"]",
		"[\"EOSE\",3]",
		"[\"OK\",\"" ID64 "\"]",
		"[\"OK\",\"abc\",true,\"\"]",
		"[\"OK\",\"" ID64 "\",\"true\",\"\"]",
		"[\"OK\",\"" ID64 "\",true,5]",
		"[\"OK\",\"" ID64 "X\",true,\"\"]",
		"[\"NOTICE\"]",
		"[\"NOTICE\",{}]",
		"[\"AUTH\"]",
		"[\"AUTH\",\"\"]",
		"[\"AUTH\",7]",
		"[\"CLOSED\",\"s\",1]",
		"[\"EVENT\",\"s\",{\"a\":1}",
		"[\"EOSE\",\"s\"] trailing",
		"[\"EVENT\",\"" ID64 ID64 "\",{}]",
	};
	struct relay_msg m;
	char err[128];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (relay_msg_parse(&m, bad[i], strlen(bad[i]), err, sizeof(err)) == 0)
			fail_msg("accepted malformed message %zu: %s", i, bad[i]);
		assert_true(err[0] != '\0');
	}
}

/* Truncated and binary input is refused. */
static void test_truncated(void **state)
{
	(void)state;
	const char *good = "[\"OK\",\"" ID64 "\",true,\"\"]";
	struct relay_msg m;
	char err[64];
	for (size_t n = 0; n < strlen(good); n++)
		assert_int_equal(relay_msg_parse(&m, good, n, err, sizeof(err)), -1);
	assert_int_equal(relay_msg_parse(&m, good, strlen(good), err, sizeof(err)), 0);
	char bin[] = {'[', '"', 'O', 'K', '"', 0, 1, (char)0xff, ']'};
	assert_int_equal(relay_msg_parse(&m, bin, sizeof(bin), err, sizeof(err)), -1);
}

/* EVENT: the event's raw text is returned exactly, escapes and nesting kept. */
static void test_event_span(void **state)
{
	(void)state;
	const char *ev =
		"{\"content\":\"a]b}\\\"c\\u0000\",\"tags\":[[\"p\",\"x\"],[]],\"kind\":1}";
	char msg[256];
	snprintf(msg, sizeof(msg), " [ \"EVENT\" , \"sub.1\" ,\n%s ] ", ev);
	struct relay_msg m;
	assert_int_equal(parse(&m, msg), 0);
	assert_int_equal(m.type, RELAY_MSG_EVENT);
	assert_string_equal(m.sub_id, "sub.1");
	assert_int_equal(m.event_len, strlen(ev));
	assert_memory_equal(m.event, ev, strlen(ev));
	assert_string_equal(relay_msg_type_name(m.type), "EVENT");
}

/* OK, EOSE, CLOSED, NOTICE, AUTH. */
static void test_other_messages(void **state)
{
	(void)state;
	struct relay_msg m;
	assert_int_equal(parse(&m, "[\"OK\",\"" ID64 "\",false,\"blocked: no\"]"), 0);
	assert_int_equal(m.type, RELAY_MSG_OK);
	assert_false(m.accepted);
	assert_string_equal(m.event_id, ID64);
	assert_string_equal(m.message, "blocked: no");
	assert_int_equal(parse(&m, "[\"OK\",\"" ID64 "\",true]"), 0);
	assert_true(m.accepted);
	assert_int_equal(parse(&m, "[\"EOSE\",\"bunker\"]"), 0);
	assert_int_equal(m.type, RELAY_MSG_EOSE);
	assert_string_equal(m.sub_id, "bunker");
	assert_int_equal(parse(&m, "[\"CLOSED\",\"b\",\"auth-required: x\"]"), 0);
	assert_int_equal(m.type, RELAY_MSG_CLOSED);
	assert_string_equal(m.message, "auth-required: x");
	assert_int_equal(parse(&m, "[\"NOTICE\",\"hello\"]"), 0);
	assert_int_equal(m.type, RELAY_MSG_NOTICE);
	assert_int_equal(parse(&m, "[\"AUTH\",\"challenge-1\"]"), 0);
	assert_int_equal(m.type, RELAY_MSG_AUTH);
	assert_string_equal(m.message, "challenge-1");
}

/* A long notice is truncated, a long AUTH challenge refused. */
static void test_long_strings(void **state)
{
	(void)state;
	size_t n = 5000;
	char *s = malloc(n + 32);
	assert_non_null(s);
	int w = snprintf(s, n + 32, "[\"NOTICE\",\"");
	memset(s + w, 'x', n);
	memcpy(s + w + n, "\"]", 3);
	struct relay_msg m;
	assert_int_equal(parse(&m, s), 0);
	assert_int_equal(strlen(m.message), sizeof(m.message) - 1);
	memcpy(s + 2, "AUTH\",\"", 7);
	assert_int_equal(parse(&m, s), -1);
	free(s);
}

/* Mutated messages (bytes flipped, cut short) never crash; a span stays inside. */
static void test_mutations(void **state)
{
	(void)state;
	const char *good = "[\"EVENT\",\"s\",{\"id\":\"" ID64 "\",\"tags\":[[\"p\",\"a\"]],"
			   "\"content\":\"x\\\"y\"}]";
	size_t n = strlen(good);
	char *buf = malloc(n);
	char err[128];
	unsigned seed = 12345;
	assert_non_null(buf);
	for (int round = 0; round < 20000; round++) {
		memcpy(buf, good, n);
		for (int k = 0; k < 1 + round % 4; k++) {
			seed = seed * 1103515245u + 12345u;
			buf[(seed >> 8) % n] = (char)(seed >> 20);
		}
		size_t len = n - (size_t)(round % 3 == 0 ? (seed >> 4) % n : 0);
		struct relay_msg m;
		if (relay_msg_parse(&m, buf, len, err, sizeof(err)) != 0 ||
		    m.type != RELAY_MSG_EVENT)
			continue;
		assert_true(m.event >= buf && m.event + m.event_len <= buf + len);
		assert_true(m.event_len >= 2 && m.event[0] == '{' &&
			    m.event[m.event_len - 1] == '}');
	}
	free(buf);
}

/* Builders: REQ with filters, CLOSE, EVENT/AUTH wrappers. */
static void test_builders(void **state)
{
	(void)state;
	int kinds[] = {24133};
	const char *p[] = {"aa", "bb"};
	struct relay_filter f = {.kinds = kinds,
				 .nkinds = 1,
				 .p_tags = p,
				 .np_tags = 2,
				 .since = 1700000000,
				 .limit = 0};
	char *req = relay_msg_req("bunker.0", &f, 1);
	assert_non_null(req);
	assert_string_equal(req, "[\"REQ\",\"bunker.0\",{\"kinds\":[24133],\"#p\":[\"aa\",\"bb\"],"
				 "\"since\":1700000000,\"limit\":0}]");
	free(req);
	f.limit = -1;
	f.since = 0;
	req = relay_msg_req("s", &f, 1);
	assert_string_equal(req, "[\"REQ\",\"s\",{\"kinds\":[24133],\"#p\":[\"aa\",\"bb\"]}]");
	free(req);
	char *c = relay_msg_close("s");
	assert_string_equal(c, "[\"CLOSE\",\"s\"]");
	free(c);
	char *e = relay_msg_wrap_event("EVENT", "{\"a\":1}xxx", 7);
	assert_string_equal(e, "[\"EVENT\",{\"a\":1}]");
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malformed),    cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_event_span),   cmocka_unit_test(test_other_messages),
		cmocka_unit_test(test_long_strings), cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_builders),
	};
	return cmocka_run_group_tests_name("relay_msg", tests, NULL, NULL);
}
