/*
 * test_signer_engine.c - what the HTTP API does with a body before any
 * key is used: {"method","params"} parsed for every method (the id
 * optional), bad JSON, a missing or non-string method, params that are
 * not an array; sign_event's template as an object or as a JSON string;
 * then the engine's checks in order (policy readable, params, policy,
 * rate with the wait) and its liveness check, each with its status
 * class, and the NIP-46 outcome of each class.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_store.h"
#include "signer/signer_engine.h"
#include "signer/signer_policy.h"
#include "signer/signer_serving.h"

/* A peer pubkey for the encrypt/decrypt params (a valid curve point: the generator's x). */
#define TE_PEER "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"

static enum signer_parse te_parse(struct signer_request *r, const char *json, char *err,
				  size_t errlen);
static void te_authz(struct signer_authz *a, struct db_serving_authz *row, const char *policy);
static bool te_admit(struct signer_verdict *v, struct signer_authz *a, const char *json,
		     int64_t now_ms);

/* Parse a call from a NUL-terminated body. */
static enum signer_parse te_parse(struct signer_request *r, const char *json, char *err,
				  size_t errlen)
{
	return signer_request_parse_call(r, json, strlen(json), err, errlen);
}

/* An authorization served under policy (NULL: allow all), its row live. */
static void te_authz(struct signer_authz *a, struct db_serving_authz *row, const char *policy)
{
	char err[256];

	memset(a, 0, sizeof(*a));
	memset(row, 0, sizeof(*row));
	a->row = row;
	a->policy_ok = true;
	if (policy != NULL)
		assert_int_equal(
			signer_policy_parse(&a->policy, policy, strlen(policy), err, sizeof(err)),
			0);
}

/* Parse body json (it must parse) and run the engine's admission on it at now_ms. */
static bool te_admit(struct signer_verdict *v, struct signer_authz *a, const char *json,
		     int64_t now_ms)
{
	struct signer_request r;
	struct signer_op op;
	char err[256];
	bool ok;

	assert_int_equal(te_parse(&r, json, err, sizeof(err)), SIGNER_PARSE_OK);
	ok = signer_engine_admit(v, &op, a, &r, now_ms);
	signer_op_clear(&op);
	signer_request_clear(&r);
	return ok;
}

/* Every method parses by its wire name, with or without an id, params kept in order. */
static void test_parse_methods(void **state)
{
	struct signer_request r;
	char json[256], err[256];

	(void)state;
	for (int m = 0; m < SIGNER_METHOD_COUNT_; m++) {
		snprintf(json, sizeof(json), "{\"method\":\"%s\",\"params\":[\"a\",\"b\"]}",
			 signer_method_name((enum signer_method)m));
		assert_int_equal(te_parse(&r, json, err, sizeof(err)), SIGNER_PARSE_OK);
		assert_int_equal(r.method, m);
		assert_true(r.method_known);
		assert_false(r.has_id);
		assert_int_equal(r.nparams, 2);
		assert_string_equal(r.params[0].s, "a");
		assert_string_equal(r.params[1].s, "b");
		signer_request_clear(&r);
	}
	assert_int_equal(te_parse(&r, "{\"id\":\"x1\",\"method\":\"ping\"}", err, sizeof(err)),
			 SIGNER_PARSE_OK);
	assert_true(r.has_id);
	assert_string_equal(r.id, "x1");
	assert_int_equal(r.nparams, 0);
	signer_request_clear(&r);
	/* an unusable id is ignored, not an error */
	assert_int_equal(
		te_parse(&r, "{\"id\":7,\"method\":\"ping\",\"params\":[]}", err, sizeof(err)),
		SIGNER_PARSE_OK);
	assert_false(r.has_id);
	signer_request_clear(&r);
}

/* Bodies that are not a call: 400-class with a reason. */
static void test_parse_bad(void **state)
{
	static const struct {
		const char *body, *why;
	} cases[] = {
		{"", "the body must be one JSON object"},
		{"not json", "the body must be one JSON object"},
		{"[\"ping\"]", "the body must be one JSON object"},
		{"{\"method\":\"ping\"", "the body must be one JSON object"},
		{"{\"method\":\"ping\"} {}", "the body must be one JSON object"},
		{"{}", "method must be a string"},
		{"{\"params\":[]}", "method must be a string"},
		{"{\"method\":42}", "method must be a string"},
		{"{\"method\":\"frob\"}", "unknown method \"frob\""},
		{"{\"method\":\"ping\",\"params\":\"x\"}", "params must be an array"},
		{"{\"method\":\"ping\",\"params\":{\"a\":1}}", "params must be an array"},
		{"{\"method\":\"ping\",\"params\":7}", "params must be an array"},
	};
	struct signer_request r;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(te_parse(&r, cases[i].body, err, sizeof(err)), SIGNER_PARSE_BAD);
		assert_non_null(strstr(err, cases[i].why));
		assert_int_equal(r.nparams, 0);
		signer_request_clear(&r);
	}
}

/* sign_event takes its template as an object or as a JSON string: the same operation. */
static void test_sign_event_template(void **state)
{
	static const char *const bodies[] = {
		"{\"method\":\"sign_event\",\"params\":[{\"kind\":1,\"content\":\"hi\","
		"\"tags\":[],\"created_at\":1700000000}]}",
		"{\"method\":\"sign_event\",\"params\":[\"{\\\"kind\\\":1,\\\"content\\\":"
		"\\\"hi\\\",\\\"tags\\\":[],\\\"created_at\\\":1700000000}\"]}",
	};
	struct signer_request r;
	struct signer_op op;
	char err[256];

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(te_parse(&r, bodies[i], err, sizeof(err)), SIGNER_PARSE_OK);
		assert_int_equal(r.nparams, 1);
		assert_int_equal(signer_op_parse(&op, &r, err, sizeof(err)), 0);
		assert_int_equal(op.method, SIGNER_SIGN_EVENT);
		assert_int_equal(op.kind, 1);
		assert_int_equal(op.tmpl.created_at, 1700000000);
		signer_op_clear(&op);
		signer_request_clear(&r);
	}
}

/* Params of the wrong type for the method: the engine answers 400 with the reason. */
static void test_admit_bad_params(void **state)
{
	static const char *const bodies[] = {
		"{\"method\":\"sign_event\"}",
		"{\"method\":\"sign_event\",\"params\":[42]}",
		"{\"method\":\"sign_event\",\"params\":[[1,2]]}",
		"{\"method\":\"sign_event\",\"params\":[\"not a template\"]}",
		"{\"method\":\"sign_event\",\"params\":[{\"content\":\"no kind\"}]}",
		"{\"method\":\"nip44_encrypt\",\"params\":[\"" TE_PEER "\"]}",
		"{\"method\":\"nip44_encrypt\",\"params\":[\"zz\",\"pt\"]}",
		"{\"method\":\"nip04_decrypt\",\"params\":[{\"a\":1},\"ct\"]}",
	};
	struct db_serving_authz row;
	struct signer_authz a;
	struct signer_verdict v;

	(void)state;
	te_authz(&a, &row, NULL);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		assert_false(te_admit(&v, &a, bodies[i], 1000));
		assert_int_equal(v.status, SIGNER_STATUS_BAD);
		assert_int_equal(v.retry_ms, 0);
		assert_true(v.why[0] != '\0');
	}
	assert_true(te_admit(&v, &a,
			     "{\"method\":\"nip44_encrypt\",\"params\":[\"" TE_PEER "\",\"pt\"]}",
			     1000));
	signer_policy_clear(&a.policy);
}

/* Policy: unreadable 403, method and kind 403 with the policy's words, the rest admitted. */
static void test_admit_policy(void **state)
{
	struct db_serving_authz row;
	struct signer_authz a;
	struct signer_verdict v;

	(void)state;
	te_authz(&a, &row, "{\"methods\":[\"sign_event\"],\"kinds\":[1]}");
	assert_true(te_admit(&v, &a,
			     "{\"method\":\"sign_event\",\"params\":[{\"kind\":1,\"content\":\"\","
			     "\"tags\":[]}]}",
			     0));
	assert_false(te_admit(&v, &a,
			      "{\"method\":\"sign_event\",\"params\":[{\"kind\":4,\"content\":\"\","
			      "\"tags\":[]}]}",
			      0));
	assert_int_equal(v.status, SIGNER_STATUS_FORBIDDEN);
	assert_non_null(strstr(v.why, "kind 4"));
	assert_false(te_admit(
		&v, &a, "{\"method\":\"nip44_encrypt\",\"params\":[\"" TE_PEER "\",\"pt\"]}", 0));
	assert_int_equal(v.status, SIGNER_STATUS_FORBIDDEN);
	a.policy_ok = false;
	assert_false(te_admit(&v, &a, "{\"method\":\"ping\"}", 0));
	assert_int_equal(v.status, SIGNER_STATUS_FORBIDDEN);
	assert_non_null(strstr(v.why, "policy is invalid"));
	signer_policy_clear(&a.policy);
}

/* Rate: the burst passes, then 429 with a positive wait; a minute later it passes again. */
static void test_admit_rate(void **state)
{
	struct db_serving_authz row;
	struct signer_authz a;
	struct signer_verdict v;

	(void)state;
	te_authz(&a, &row, "{\"rate\":{\"burst\":2,\"per_minute\":1}}");
	assert_true(te_admit(&v, &a, "{\"method\":\"ping\"}", 1000));
	assert_true(te_admit(&v, &a, "{\"method\":\"ping\"}", 1000));
	assert_false(te_admit(&v, &a, "{\"method\":\"ping\"}", 1000));
	assert_int_equal(v.status, SIGNER_STATUS_RATE);
	assert_true(v.retry_ms > 0 && v.retry_ms <= 60000);
	assert_non_null(strstr(v.why, "rate limit exceeded"));
	/* a request refused before the rate check takes no token */
	assert_false(te_admit(&v, &a, "{\"method\":\"sign_event\"}", 61000));
	assert_int_equal(v.status, SIGNER_STATUS_BAD);
	assert_true(te_admit(&v, &a, "{\"method\":\"ping\"}", 61000));
	signer_policy_clear(&a.policy);
}

/* Liveness: removed, revoked, expired are 403 with their word; unexpired and no expiry pass. */
static void test_live(void **state)
{
	struct db_serving_authz row;
	struct signer_authz a;
	struct signer_verdict v;

	(void)state;
	te_authz(&a, &row, NULL);
	assert_false(signer_engine_live(&v, NULL, 100));
	assert_int_equal(v.status, SIGNER_STATUS_FORBIDDEN);
	assert_non_null(strstr(v.why, "removed"));
	assert_true(signer_engine_live(&v, &a, 100));
	row.expires_at = 101;
	assert_true(signer_engine_live(&v, &a, 100));
	assert_false(signer_engine_live(&v, &a, 101));
	assert_int_equal(v.status, SIGNER_STATUS_FORBIDDEN);
	assert_non_null(strstr(v.why, "expired"));
	row.expires_at = 0;
	row.revoked = true;
	assert_false(signer_engine_live(&v, &a, 100));
	assert_non_null(strstr(v.why, "revoked"));
}

/* Status classes map to NIP-46 outcomes; a verdict is formatted and truncated safely. */
static void test_status_classes(void **state)
{
	struct signer_verdict v = {.retry_ms = 5};
	char big[600];

	(void)state;
	assert_string_equal(signer_status_outcome(SIGNER_STATUS_OK), "ok");
	assert_string_equal(signer_status_outcome(SIGNER_STATUS_BAD), "error");
	assert_string_equal(signer_status_outcome(SIGNER_STATUS_UNAUTHORIZED), "refused");
	assert_string_equal(signer_status_outcome(SIGNER_STATUS_FORBIDDEN), "refused");
	assert_string_equal(signer_status_outcome(SIGNER_STATUS_RATE), "refused");
	assert_string_equal(signer_status_outcome(SIGNER_STATUS_UNAVAILABLE), "unavailable");
	assert_false(signer_verdict_set(&v, SIGNER_STATUS_UNAVAILABLE, "down %d", 3));
	assert_int_equal(v.status, 503);
	assert_int_equal(v.retry_ms, 0);
	assert_string_equal(v.why, "down 3");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(signer_verdict_set(&v, SIGNER_STATUS_BAD, "%s", big));
	assert_int_equal(strlen(v.why), sizeof(v.why) - 1);
}

/* Run the tests. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_methods),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_sign_event_template),
		cmocka_unit_test(test_admit_bad_params),
		cmocka_unit_test(test_admit_policy),
		cmocka_unit_test(test_admit_rate),
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_status_classes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
