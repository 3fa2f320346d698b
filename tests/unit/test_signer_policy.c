/*
 * test_signer_policy.c - the policy engine: every validation error with its
 * JSON path, allow-all policies, kinds ranges and their merging, method and
 * size checks, and the token bucket on explicit times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signer/signer_policy.h"

/* A policy JSON and the exact error it is refused with. */
struct bad_policy {
	const char *json;
	const char *err;
};

/* Parse a NUL-terminated policy; fail the test on an error. */
static void parse_ok(struct signer_policy *p, const char *json)
{
	char err[256];

	if (signer_policy_parse(p, json, strlen(json), err, sizeof(err)) != 0)
		fail_msg("refused %s: %s", json, err);
	assert_string_equal(err, "");
}

/* Check method m (kind, size) against p; returns the refusal, reason in why. */
static enum signer_refusal check(const struct signer_policy *p, enum signer_method m, int64_t kind,
				 size_t size, char *why)
{
	return signer_policy_check(p, m, kind, size, why, 128);
}

/* Whether p allows every method, every kind and any size. */
static void assert_allows_all(const struct signer_policy *p)
{
	char why[128];

	for (unsigned m = 0; m < SIGNER_METHOD_COUNT_; m++)
		assert_int_equal(check(p, (enum signer_method)m, 4, 16777216, why), SIGNER_ALLOWED);
	assert_int_equal(check(p, SIGNER_SIGN_EVENT, 0, 0, why), SIGNER_ALLOWED);
	assert_int_equal(check(p, SIGNER_SIGN_EVENT, 65535, 1u << 30, why), SIGNER_ALLOWED);
	assert_string_equal(why, "");
}

/* Every malformed policy is refused with the JSON path of its first mistake. */
static void test_errors(void **state)
{
	(void)state;
	static const struct bad_policy bad[] = {
		{"{\"frob\":1}", "$.frob: unknown key; known: methods, kinds, rate, max_bytes"},
		{"{\"Methods\":[]}",
		 "$.Methods: unknown key; known: methods, kinds, rate, max_bytes"},
		{"{\"methods\":\"sign_event\"}", "$.methods: expected an array of method names"},
		{"{\"methods\":{}}", "$.methods: expected an array of method names"},
		{"{\"methods\":[\"ping\",\"sing_event\"]}",
		 "$.methods[1]: unknown method \"sing_event\""},
		{"{\"methods\":[\"Sign_event\"]}", "$.methods[0]: unknown method \"Sign_event\""},
		{"{\"methods\":[\"sign\\\"x\\n\"]}", "$.methods[0]: unknown method \"sign?x?\""},
		{"{\"methods\":[\"ping\",3]}", "$.methods[1]: expected a method name"},
		{"{\"methods\":[null]}", "$.methods[0]: expected a method name"},
		{"{\"kinds\":{}}", "$.kinds: expected an array of kinds and [lo, hi] ranges"},
		{"{\"kinds\":1}", "$.kinds: expected an array of kinds and [lo, hi] ranges"},
		{"{\"kinds\":[1,2,70000]}", "$.kinds[2]: 70000 is not a kind (0..65535)"},
		{"{\"kinds\":[65536]}", "$.kinds[0]: 65536 is not a kind (0..65535)"},
		{"{\"kinds\":[-1]}", "$.kinds[0]: -1 is not a kind (0..65535)"},
		{"{\"kinds\":[1.5]}", "$.kinds[0]: 1.5 is not a kind (0..65535)"},
		{"{\"kinds\":[\"1\"]}", "$.kinds[0]: expected a kind or a [lo, hi] range"},
		{"{\"kinds\":[true]}", "$.kinds[0]: expected a kind or a [lo, hi] range"},
		{"{\"kinds\":[{}]}", "$.kinds[0]: expected a kind or a [lo, hi] range"},
		{"{\"kinds\":[[1,70000]]}", "$.kinds[0][1]: 70000 is not a kind (0..65535)"},
		{"{\"kinds\":[0,[-3,4]]}", "$.kinds[1][0]: -3 is not a kind (0..65535)"},
		{"{\"kinds\":[[1,\"2\"]]}", "$.kinds[0][1]: expected a kind (0..65535)"},
		{"{\"kinds\":[[1,[2]]]}", "$.kinds[0][1]: expected a kind (0..65535)"},
		{"{\"kinds\":[1,[9,3]]}", "$.kinds[1]: range [9, 3] has lo > hi"},
		{"{\"kinds\":[[1,2,3]]}",
		 "$.kinds[0]: a range is [lo, hi]; this one has 3 elements"},
		{"{\"kinds\":[[1]]}", "$.kinds[0]: a range is [lo, hi]; this one has 1 elements"},
		{"{\"kinds\":[[]]}", "$.kinds[0]: a range is [lo, hi]; this one has 0 elements"},
		{"{\"rate\":[5,60]}",
		 "$.rate: expected an object {\"burst\": N, \"per_minute\": N}"},
		{"{\"rate\":10}", "$.rate: expected an object {\"burst\": N, \"per_minute\": N}"},
		{"{\"rate\":{}}", "$.rate: missing \"burst\""},
		{"{\"rate\":{\"per_minute\":5}}", "$.rate: missing \"burst\""},
		{"{\"rate\":{\"burst\":5}}", "$.rate: missing \"per_minute\""},
		{"{\"rate\":{\"burst\":5,\"per_minute\":5,\"x\":1}}",
		 "$.rate.x: unknown key; known: burst, per_minute"},
		{"{\"rate\":{\"Burst\":5,\"per_minute\":5}}",
		 "$.rate.Burst: unknown key; known: burst, per_minute"},
		{"{\"rate\":{\"burst\":0,\"per_minute\":5}}",
		 "$.rate.burst: 0 is out of range (1..1000000)"},
		{"{\"rate\":{\"burst\":1000001,\"per_minute\":5}}",
		 "$.rate.burst: 1000001 is out of range (1..1000000)"},
		{"{\"rate\":{\"burst\":\"5\",\"per_minute\":5}}",
		 "$.rate.burst: expected an integer (1..1000000)"},
		{"{\"rate\":{\"burst\":5,\"per_minute\":0}}",
		 "$.rate.per_minute: 0 is out of range (1..6000000)"},
		{"{\"rate\":{\"burst\":5,\"per_minute\":6000001}}",
		 "$.rate.per_minute: 6000001 is out of range (1..6000000)"},
		{"{\"rate\":{\"burst\":5,\"per_minute\":1.5}}",
		 "$.rate.per_minute: 1.5 is not an integer"},
		{"{\"rate\":{\"burst\":1,\"burst\":2,\"per_minute\":1}}",
		 "$.rate.burst: duplicate key"},
		{"{\"max_bytes\":0}", "$.max_bytes: 0 is out of range (1..16777216)"},
		{"{\"max_bytes\":16777217}", "$.max_bytes: 16777217 is out of range (1..16777216)"},
		{"{\"max_bytes\":-5}", "$.max_bytes: -5 is out of range (1..16777216)"},
		{"{\"max_bytes\":1e300}", "$.max_bytes: 1e+300 is out of range (1..16777216)"},
		{"{\"max_bytes\":100.25}", "$.max_bytes: 100.25 is not an integer"},
		{"{\"max_bytes\":true}", "$.max_bytes: expected an integer (1..16777216)"},
		{"{\"max_bytes\":null}", "$.max_bytes: expected an integer (1..16777216)"},
		{"{\"methods\":[],\"methods\":[]}", "$.methods: duplicate key"},
		{"{\"kinds\":[1],\"max_bytes\":5,\"kinds\":[2]}", "$.kinds: duplicate key"},
		{"{\"methods\":5,\"frob\":1}", "$.methods: expected an array of method names"},
		{"{\"frob\":1,\"methods\":5}",
		 "$.frob: unknown key; known: methods, kinds, rate, max_bytes"},
		{"{\"max_bytes\":0,\"kinds\":[70000]}",
		 "$.max_bytes: 0 is out of range (1..16777216)"},
		{"{\"meth\\\\u0000\":1}",
		 "$.meth?u0000: unknown key; known: methods, kinds, rate, max_bytes"},
		{"{\"0123456789012345678901234567890123456789xyz\":1}",
		 "$.0123456789012345678901234567890123456789...: unknown key; known: methods, "
		 "kinds, rate, max_bytes"},
		{"[1]", "$: not a JSON object"},
		{"[]", "$: not a JSON object"},
		{"null", "$: not a JSON object"},
		{"42", "$: not a JSON object"},
		{"\"{}\"", "$: not a JSON object"},
		{"{} x", "$: invalid JSON: text after the value at offset 3"},
		{"{}{}", "$: invalid JSON: text after the value at offset 2"},
		{"{\"methods\":[\"sign_event\\u0000x\"]}", "$: invalid JSON: \\u0000 at offset 23"},
	};
	struct signer_policy p;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (signer_policy_parse(&p, bad[i].json, strlen(bad[i].json), err, sizeof(err)) ==
		    0)
			fail_msg("accepted %s", bad[i].json);
		if (strcmp(err, bad[i].err) != 0)
			fail_msg("%s: got '%s', want '%s'", bad[i].json, err, bad[i].err);
		/* refused: p is left empty, allowing everything and owning nothing */
		assert_null(p.kinds);
		assert_true(p.all_methods && p.all_kinds);
	}
}

/* Text that is not JSON at all is refused as invalid JSON, with an offset. */
static void test_invalid_json(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"{", "}", " ", "{\"methods\":[}", "{'a':1}", "{\"kinds\":[1,]}", "nope"};
	struct signer_policy p;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(signer_policy_parse(&p, bad[i], strlen(bad[i]), err, sizeof(err)),
				 -1);
		if (strncmp(err, "$: invalid JSON at offset ", 26) != 0)
			fail_msg("%s: got '%s'", bad[i], err);
	}
	assert_int_equal(signer_policy_parse(&p, "{}\0", 3, err, sizeof(err)), -1);
	assert_string_equal(err, "$: invalid JSON: a NUL byte at offset 2");
	/* the length given is honoured: the bytes after it are not read */
	assert_int_equal(signer_policy_parse(&p, "{\"max_bytes\":5}", 14, err, sizeof(err)), -1);
	assert_string_equal(err, "$: invalid JSON at offset 13");
}

/* A refusal with no room for the message, or a short one, is still a refusal. */
static void test_error_buffer(void **state)
{
	(void)state;
	const char *json = "{\"frob\":1}";
	struct signer_policy p;
	char err[8];

	assert_int_equal(signer_policy_parse(&p, json, strlen(json), NULL, 0), -1);
	memset(err, 'x', sizeof(err));
	assert_int_equal(signer_policy_parse(&p, json, strlen(json), err, 0), -1);
	assert_int_equal(err[0], 'x');
	assert_int_equal(signer_policy_parse(&p, json, strlen(json), err, sizeof(err)), -1);
	assert_string_equal(err, "$.frob:");
}

/* An empty string, {} (with white space) and a zeroed policy allow everything. */
static void test_allow_all(void **state)
{
	(void)state;
	struct signer_policy p, zero;
	char err[64] = "stale";

	assert_int_equal(signer_policy_parse(&p, "", 0, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_true(p.all_methods && p.all_kinds);
	assert_int_equal(p.rate_burst, 0);
	assert_int_equal(p.max_bytes, 0);
	assert_allows_all(&p);
	assert_int_equal(signer_policy_parse(&p, NULL, 0, err, sizeof(err)), 0);
	assert_allows_all(&p);
	parse_ok(&p, "{}");
	assert_allows_all(&p);
	parse_ok(&p, " \n\t{ }\r\n ");
	assert_allows_all(&p);
	memset(&zero, 0, sizeof(zero));
	assert_allows_all(&zero);
	/* a policy that allows everything never limits the rate */
	struct signer_bucket b = {0};
	int64_t retry = -1;
	for (int i = 0; i < 1000; i++)
		assert_true(signer_bucket_take(&b, &p, 0, &retry));
	assert_int_equal(retry, 0);
	assert_true(signer_bucket_take(&b, &zero, 0, NULL));
}

/* A policy with every key: each lands in its field; clear frees and allows all. */
static void test_every_key(void **state)
{
	(void)state;
	struct signer_policy p;

	parse_ok(&p, "{\"methods\":[\"sign_event\",\"nip44_encrypt\"],\"kinds\":[1,[30000,39999]],"
		     "\"rate\":{\"per_minute\":60,\"burst\":20},\"max_bytes\":65536}");
	assert_false(p.all_methods);
	assert_true(p.methods & (1u << SIGNER_SIGN_EVENT));
	assert_true(p.methods & (1u << SIGNER_NIP44_ENCRYPT));
	assert_false(p.methods & (1u << SIGNER_NIP44_DECRYPT));
	assert_false(p.all_kinds);
	assert_int_equal(p.nkinds, 2);
	assert_int_equal(p.kinds[0].lo, 1);
	assert_int_equal(p.kinds[1].lo, 30000);
	assert_int_equal(p.kinds[1].hi, 39999);
	assert_int_equal(p.rate_burst, 20);
	assert_int_equal(p.rate_per_minute, 60);
	assert_int_equal(p.max_bytes, 65536);
	signer_policy_clear(&p);
	assert_null(p.kinds);
	assert_int_equal(p.nkinds, 0);
	assert_allows_all(&p);
	signer_policy_clear(&p); /* twice is harmless */
	/* integral numbers in any JSON spelling are integers; bounds are inclusive */
	parse_ok(&p, "{\"max_bytes\":1e3,\"rate\":{\"burst\":1000000,\"per_minute\":6000000},"
		     "\"kinds\":[0,65535,2.0]}");
	assert_int_equal(p.max_bytes, 1000);
	assert_int_equal(p.rate_burst, 1000000);
	assert_int_equal(p.rate_per_minute, 6000000);
	assert_int_equal(p.nkinds, 3);
	signer_policy_clear(&p);
	parse_ok(&p, "{\"max_bytes\":16777216,\"rate\":{\"burst\":1,\"per_minute\":1}}");
	assert_int_equal(p.max_bytes, 16777216);
	signer_policy_clear(&p);
}

/* Kinds are sorted and merged: [[1,5],[3,9],10] is the one range 1..10. */
static void test_kinds_merge(void **state)
{
	(void)state;
	struct signer_policy p;
	char why[128];

	parse_ok(&p, "{\"kinds\":[[1,5],[3,9],10]}");
	assert_int_equal(p.nkinds, 1);
	assert_int_equal(p.kinds[0].lo, 1);
	assert_int_equal(p.kinds[0].hi, 10);
	assert_int_equal(check(&p, SIGNER_SIGN_EVENT, 0, 0, why), SIGNER_REFUSE_KIND);
	assert_string_equal(why, "kind 0 is not allowed by this authorization's policy");
	for (int k = 1; k <= 10; k++)
		assert_int_equal(check(&p, SIGNER_SIGN_EVENT, k, 0, why), SIGNER_ALLOWED);
	assert_int_equal(check(&p, SIGNER_SIGN_EVENT, 11, 0, why), SIGNER_REFUSE_KIND);
	assert_string_equal(why, "kind 11 is not allowed by this authorization's policy");
	signer_policy_clear(&p);

	parse_ok(&p, "{\"kinds\":[7,7,[7,7],[5,6],[1,2]]}");
	assert_int_equal(p.nkinds, 2); /* 1..2 and 5..7: adjacent ranges merge */
	assert_int_equal(p.kinds[0].hi, 2);
	assert_int_equal(p.kinds[1].lo, 5);
	assert_int_equal(p.kinds[1].hi, 7);
	signer_policy_clear(&p);

	parse_ok(&p, "{\"kinds\":[[0,65535],[100,200]]}");
	assert_int_equal(p.nkinds, 1);
	assert_int_equal(check(&p, SIGNER_SIGN_EVENT, 65535, 0, why), SIGNER_ALLOWED);
	assert_int_equal(check(&p, SIGNER_SIGN_EVENT, 65536, 0, why), SIGNER_REFUSE_KIND);
	signer_policy_clear(&p);
}

/* Lookup of every kind 0..65536 agrees with the list it came from. */
static void test_kinds_lookup(void **state)
{
	(void)state;
	static const uint32_t in[][2] = {{100, 100},	 {7, 8}, {3, 3},	 {50, 60}, {9, 9},
					 {65535, 65535}, {0, 0}, {30000, 39999}, {55, 70}};
	struct signer_policy p;
	char why[128];

	parse_ok(&p, "{\"kinds\":[100,[7,8],3,[50,60],9,65535,0,[30000,39999],[55,70]]}");
	assert_int_equal(p.nkinds, 7); /* 0, 3, 7..9, 50..70, 100, 30000..39999, 65535 */
	for (size_t i = 1; i < p.nkinds; i++)
		assert_true(p.kinds[i - 1].hi + 1 < p.kinds[i].lo);
	for (int64_t k = 0; k <= 65536; k++) {
		bool want = false;
		for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
			want = want || (k >= in[i][0] && k <= in[i][1]);
		assert_int_equal(check(&p, SIGNER_SIGN_EVENT, k, 0, why),
				 want ? SIGNER_ALLOWED : SIGNER_REFUSE_KIND);
	}
	assert_int_equal(check(&p, SIGNER_SIGN_EVENT, INT64_MAX, 0, why), SIGNER_REFUSE_KIND);
	/* no kind known (-1) or another method: kinds are not consulted */
	assert_int_equal(check(&p, SIGNER_SIGN_EVENT, -1, 0, why), SIGNER_ALLOWED);
	assert_int_equal(check(&p, SIGNER_NIP44_ENCRYPT, 4, 0, why), SIGNER_ALLOWED);
	signer_policy_clear(&p);

	parse_ok(&p, "{\"kinds\":[]}"); /* no kind at all may be signed */
	assert_false(p.all_kinds);
	assert_int_equal(p.nkinds, 0);
	assert_int_equal(check(&p, SIGNER_SIGN_EVENT, 1, 0, why), SIGNER_REFUSE_KIND);
	assert_int_equal(check(&p, SIGNER_GET_PUBLIC_KEY, -1, 0, why), SIGNER_ALLOWED);
	signer_policy_clear(&p);
}

/* Methods: only those listed, plus connect, ping and logout always. */
static void test_methods(void **state)
{
	(void)state;
	struct signer_policy p;
	char why[128];

	parse_ok(&p, "{\"methods\":[\"sign_event\",\"get_public_key\"]}");
	assert_int_equal(check(&p, SIGNER_SIGN_EVENT, 4, 0, why), SIGNER_ALLOWED);
	assert_int_equal(check(&p, SIGNER_GET_PUBLIC_KEY, -1, 0, why), SIGNER_ALLOWED);
	assert_int_equal(check(&p, SIGNER_NIP04_ENCRYPT, -1, 10, why), SIGNER_REFUSE_METHOD);
	assert_string_equal(why,
			    "method nip04_encrypt is not allowed by this authorization's policy");
	assert_int_equal(check(&p, SIGNER_SWITCH_RELAYS, -1, 0, why), SIGNER_REFUSE_METHOD);
	assert_string_equal(why,
			    "method switch_relays is not allowed by this authorization's policy");
	assert_int_equal(check(&p, SIGNER_CONNECT, -1, 0, why), SIGNER_ALLOWED);
	assert_int_equal(check(&p, SIGNER_PING, -1, 0, why), SIGNER_ALLOWED);
	assert_int_equal(check(&p, SIGNER_LOGOUT, -1, 0, why), SIGNER_ALLOWED);
	assert_int_equal(check(&p, SIGNER_METHOD_COUNT_, -1, 0, why), SIGNER_REFUSE_METHOD);
	assert_int_equal(check(&p, (enum signer_method)77, -1, 0, why), SIGNER_REFUSE_METHOD);
	assert_string_equal(why, "method unknown is not allowed by this authorization's policy");
	signer_policy_clear(&p);

	static const char *const only_session[] = {
		"{\"methods\":[]}", "{\"methods\":[\"connect\",\"ping\",\"logout\"]}",
		"{\"methods\":[\"ping\",\"ping\"]}"};
	for (size_t i = 0; i < sizeof(only_session) / sizeof(only_session[0]); i++) {
		parse_ok(&p, only_session[i]);
		for (unsigned m = 0; m < SIGNER_METHOD_COUNT_; m++)
			assert_int_equal(check(&p, (enum signer_method)m, -1, 0, why),
					 signer_method_always_allowed((enum signer_method)m)
						 ? SIGNER_ALLOWED
						 : SIGNER_REFUSE_METHOD);
		signer_policy_clear(&p);
	}

	parse_ok(&p, "{\"methods\":[\"connect\",\"get_public_key\",\"sign_event\",\"ping\","
		     "\"nip44_encrypt\",\"nip44_decrypt\",\"nip04_encrypt\",\"nip04_decrypt\","
		     "\"switch_relays\",\"logout\"]}");
	for (unsigned m = 0; m < SIGNER_METHOD_COUNT_; m++)
		assert_int_equal(check(&p, (enum signer_method)m, 1, 0, why), SIGNER_ALLOWED);
	signer_policy_clear(&p);
}

/* Sizes over max_bytes are refused; checks run method, kind, size in order. */
static void test_size_and_order(void **state)
{
	(void)state;
	struct signer_policy p;
	char why[128], small[12];

	parse_ok(&p, "{\"max_bytes\":1000}");
	assert_int_equal(check(&p, SIGNER_NIP44_ENCRYPT, -1, 1000, why), SIGNER_ALLOWED);
	assert_int_equal(check(&p, SIGNER_NIP44_ENCRYPT, -1, 0, why), SIGNER_ALLOWED);
	assert_int_equal(check(&p, SIGNER_NIP44_DECRYPT, -1, 1001, why), SIGNER_REFUSE_SIZE);
	assert_string_equal(why, "1001 bytes is over this authorization's limit of 1000");
	assert_int_equal(check(&p, SIGNER_SIGN_EVENT, 1, 12345, why), SIGNER_REFUSE_SIZE);
	assert_string_equal(why, "12345 bytes is over this authorization's limit of 1000");
	/* no room for the reason, or little: the refusal stands */
	assert_int_equal(signer_policy_check(&p, SIGNER_SIGN_EVENT, 1, 12345, NULL, 0),
			 SIGNER_REFUSE_SIZE);
	assert_int_equal(signer_policy_check(&p, SIGNER_SIGN_EVENT, 1, 12345, small, sizeof(small)),
			 SIGNER_REFUSE_SIZE);
	assert_string_equal(small, "12345 bytes");
	signer_policy_clear(&p);

	parse_ok(&p, "{\"methods\":[\"sign_event\"],\"kinds\":[1],\"max_bytes\":10}");
	assert_int_equal(check(&p, SIGNER_NIP04_ENCRYPT, -1, 100, why), SIGNER_REFUSE_METHOD);
	assert_int_equal(check(&p, SIGNER_SIGN_EVENT, 4, 100, why), SIGNER_REFUSE_KIND);
	assert_string_equal(why, "kind 4 is not allowed by this authorization's policy");
	assert_int_equal(check(&p, SIGNER_SIGN_EVENT, 1, 100, why), SIGNER_REFUSE_SIZE);
	assert_int_equal(check(&p, SIGNER_SIGN_EVENT, 1, 10, why), SIGNER_ALLOWED);
	assert_string_equal(why, "");
	signer_policy_clear(&p);
}

/* burst 3 at 60/min: three takes, then refused with the exact wait; refill by time. */
static void test_bucket_burst(void **state)
{
	(void)state;
	struct signer_bucket b = {0};
	int64_t retry = -1;

	for (int i = 0; i < 3; i++)
		assert_true(signer_bucket_take_rate(&b, 3, 60, 5000, &retry));
	assert_int_equal(retry, 0);
	assert_false(signer_bucket_take_rate(&b, 3, 60, 5000, &retry));
	assert_int_equal(retry, 1000);
	assert_false(signer_bucket_take_rate(&b, 3, 60, 5250, &retry));
	assert_int_equal(retry, 750);
	assert_false(signer_bucket_take_rate(&b, 3, 60, 5999, &retry));
	assert_int_equal(retry, 1);
	/* one second at 60/min is one token, and only one */
	assert_true(signer_bucket_take_rate(&b, 3, 60, 6000, &retry));
	assert_false(signer_bucket_take_rate(&b, 3, 60, 6000, &retry));
	assert_int_equal(retry, 1000);
	/* a long wait fills the bucket to burst, never above */
	assert_true(signer_bucket_take_rate(&b, 3, 60, 5000 + 86400000LL * 365, NULL));
	assert_true(b.tokens <= 3.0);
	assert_true(signer_bucket_take_rate(&b, 3, 60, 5000 + 86400000LL * 365, NULL));
	assert_true(signer_bucket_take_rate(&b, 3, 60, 5000 + 86400000LL * 365, NULL));
	assert_false(signer_bucket_take_rate(&b, 3, 60, 5000 + 86400000LL * 365, NULL));
}

/* Retry times round up to whole ms, at least 1, for slow and fast rates. */
static void test_bucket_retry(void **state)
{
	(void)state;
	struct signer_bucket b = {0};
	int64_t retry = -1;

	assert_true(signer_bucket_take_rate(&b, 1, 7, 0, &retry));
	assert_false(signer_bucket_take_rate(&b, 1, 7, 0, &retry));
	assert_int_equal(retry, 8572); /* 60000 / 7 = 8571.43 */
	assert_false(signer_bucket_take_rate(&b, 1, 7, 8571, &retry));
	assert_int_equal(retry, 1);
	assert_true(signer_bucket_take_rate(&b, 1, 7, 8572, &retry));

	memset(&b, 0, sizeof(b));
	assert_true(signer_bucket_take_rate(&b, 1, 6000000, 0, &retry));
	assert_false(signer_bucket_take_rate(&b, 1, 6000000, 0, &retry));
	assert_int_equal(retry, 1); /* a token every 0.01 ms */
	assert_true(signer_bucket_take_rate(&b, 1, 6000000, 1, &retry));

	memset(&b, 0, sizeof(b));
	assert_true(signer_bucket_take_rate(&b, 1, 1, 0, &retry));
	assert_false(signer_bucket_take_rate(&b, 1, 1, 0, &retry));
	assert_int_equal(retry, 60000);
}

/* Tokens trickled in small steps add up to a whole one on time. */
static void test_bucket_steps(void **state)
{
	(void)state;
	struct signer_bucket b = {0};
	int64_t retry = -1;

	assert_true(signer_bucket_take_rate(&b, 1, 60, 0, &retry));
	for (int64_t t = 100; t < 1000; t += 100) {
		assert_false(signer_bucket_take_rate(&b, 1, 60, t, &retry));
		assert_int_equal(retry, 1000 - t);
	}
	assert_true(signer_bucket_take_rate(&b, 1, 60, 1000, &retry));
	assert_true(b.tokens >= 0.0);
}

/* A clock that goes back adds no token, and counting resumes from there. */
static void test_bucket_backwards(void **state)
{
	(void)state;
	struct signer_bucket b = {0};
	int64_t retry = -1;

	assert_true(signer_bucket_take_rate(&b, 2, 60, 10000, &retry));
	assert_true(signer_bucket_take_rate(&b, 2, 60, 10000, &retry));
	assert_false(signer_bucket_take_rate(&b, 2, 60, 5000, &retry));
	assert_int_equal(retry, 1000);
	assert_true(b.tokens >= 0.0 && b.tokens < 1.0);
	assert_false(signer_bucket_take_rate(&b, 2, 60, 5999, &retry));
	assert_int_equal(retry, 1);
	assert_true(signer_bucket_take_rate(&b, 2, 60, 6000, &retry));
	assert_false(signer_bucket_take_rate(&b, 2, 60, INT64_MIN, &retry));
	assert_int_equal(retry, 1000);
	/* the far ends of the clock do not overflow the bucket */
	assert_true(signer_bucket_take_rate(&b, 2, 60, INT64_MAX, &retry));
	assert_true(b.tokens <= 2.0);
}

/* signer_bucket_take follows the policy's rate; no rate, no limit. */
static void test_bucket_policy(void **state)
{
	(void)state;
	struct signer_policy p;
	struct signer_bucket b = {0};
	int64_t retry = -1;

	parse_ok(&p, "{\"rate\":{\"burst\":2,\"per_minute\":120}}");
	assert_true(signer_bucket_take(&b, &p, 0, &retry));
	assert_true(signer_bucket_take(&b, &p, 0, &retry));
	assert_false(signer_bucket_take(&b, &p, 0, &retry));
	assert_int_equal(retry, 500);
	assert_true(signer_bucket_take(&b, &p, 500, NULL));
	signer_policy_clear(&p);

	parse_ok(&p, "{\"max_bytes\":5}");
	memset(&b, 0, sizeof(b));
	for (int i = 0; i < 100; i++)
		assert_true(signer_bucket_take(&b, &p, 0, &retry));
	assert_int_equal(retry, 0);
	signer_policy_clear(&p);
	/* a fixed rate of zero is no limit either */
	assert_true(signer_bucket_take_rate(&b, 0, 60, 0, &retry));
	assert_true(signer_bucket_take_rate(&b, 5, 0, 0, &retry));
}

/* The examples of doc/signer-policy.md parse, and do what the text says. */
static void test_doc_examples(void **state)
{
	(void)state;
	struct signer_policy p;
	char why[128];

	parse_ok(&p, "{\n  \"methods\": [\"get_public_key\", \"sign_event\"],\n"
		     "  \"kinds\": [0, 1, 3, 5, 6, 7, [30000, 39999]],\n"
		     "  \"rate\": {\"burst\": 20, \"per_minute\": 60},\n"
		     "  \"max_bytes\": 65536\n}");
	assert_int_equal(p.nkinds, 4); /* 0..1, 3, 5..7, 30000..39999 */
	assert_int_equal(check(&p, SIGNER_SIGN_EVENT, 30023, 65536, why), SIGNER_ALLOWED);
	assert_int_equal(check(&p, SIGNER_SIGN_EVENT, 4, 10, why), SIGNER_REFUSE_KIND);
	assert_int_equal(check(&p, SIGNER_NIP44_DECRYPT, -1, 10, why), SIGNER_REFUSE_METHOD);
	signer_policy_clear(&p);

	parse_ok(&p,
		 "{\n  \"methods\": [\"get_public_key\", \"nip44_encrypt\", \"nip44_decrypt\",\n"
		 "              \"nip04_encrypt\", \"nip04_decrypt\"],\n"
		 "  \"max_bytes\": 1048576\n}");
	assert_int_equal(check(&p, SIGNER_NIP04_DECRYPT, -1, 1048576, why), SIGNER_ALLOWED);
	assert_int_equal(check(&p, SIGNER_SIGN_EVENT, 1, 10, why), SIGNER_REFUSE_METHOD);
	signer_policy_clear(&p);

	parse_ok(&p, "{\"methods\": [\"get_public_key\"]}");
	assert_int_equal(check(&p, SIGNER_GET_PUBLIC_KEY, -1, 0, why), SIGNER_ALLOWED);
	assert_int_equal(check(&p, SIGNER_PING, -1, 0, why), SIGNER_ALLOWED);
	assert_int_equal(check(&p, SIGNER_SIGN_EVENT, 1, 10, why), SIGNER_REFUSE_METHOD);
	assert_int_equal(check(&p, SIGNER_SWITCH_RELAYS, -1, 0, why), SIGNER_REFUSE_METHOD);
	signer_policy_clear(&p);
}

/* Refusal names, for metrics and audit. */
static void test_refusal_names(void **state)
{
	(void)state;
	assert_string_equal(signer_refusal_name(SIGNER_ALLOWED), "allowed");
	assert_string_equal(signer_refusal_name(SIGNER_REFUSE_METHOD), "method");
	assert_string_equal(signer_refusal_name(SIGNER_REFUSE_KIND), "kind");
	assert_string_equal(signer_refusal_name(SIGNER_REFUSE_SIZE), "size");
	assert_string_equal(signer_refusal_name(SIGNER_REFUSE_RATE), "rate");
	assert_string_equal(signer_refusal_name(SIGNER_REFUSAL_COUNT_), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),		 cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_error_buffer),	 cmocka_unit_test(test_allow_all),
		cmocka_unit_test(test_every_key),	 cmocka_unit_test(test_kinds_merge),
		cmocka_unit_test(test_kinds_lookup),	 cmocka_unit_test(test_methods),
		cmocka_unit_test(test_size_and_order),	 cmocka_unit_test(test_bucket_burst),
		cmocka_unit_test(test_bucket_retry),	 cmocka_unit_test(test_bucket_steps),
		cmocka_unit_test(test_bucket_backwards), cmocka_unit_test(test_bucket_policy),
		cmocka_unit_test(test_doc_examples),	 cmocka_unit_test(test_refusal_names),
	};
	return cmocka_run_group_tests_name("signer_policy", tests, NULL, NULL);
}
