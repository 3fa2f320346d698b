/*
 * test_nostr_event.c - NIP-01 events: the 12 vectors of nip01.vectors.json
 * (serialization, id and signature reproduced byte for byte, including the
 * event whose content holds "\u0000"), strict parsing, limits, templates,
 * building and signing, the cJSON path and relay-message slicing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/sha.h>

#include "nostr/event.h"
#include "nostr/jstr.h"
#include "test_nostr_util.h"

/* The raw text of member key of the JSON object obj[0..len), via the lexer. */
static int raw_member(const char **start, size_t *n, const char *obj, size_t len, const char *key)
{
	struct jstr_lex lx = {.p = obj, .end = obj + len};
	char *k;
	size_t klen;

	if (jstr_expect(&lx, '{') != 0)
		return -1;
	for (;;) {
		int match;

		if (jstr_string(&lx, &k, &klen, 64) != 0 || jstr_expect(&lx, ':') != 0)
			return -1;
		match = strcmp(k, key) == 0;
		free(k);
		*start = (jstr_peek(&lx), lx.p);
		if (jstr_skip(&lx, 32) != 0)
			return -1;
		*n = (size_t)(lx.p - *start);
		if (match)
			return 0;
		if (jstr_expect(&lx, ',') != 0)
			return -1;
	}
}

/* Check the serialization against the vector's hash, length and (if given) text. */
static void check_serialized(const struct nostr_event *ev, const cJSON *v, const char *raw,
			     size_t rawlen)
{
	uint8_t want[32], got[32];
	const char *ser;
	char *s, *exp;
	size_t len, n, explen;

	assert_int_equal(nostr_event_serialize(&s, &len, ev), 0);
	SHA256((const unsigned char *)s, len, got);
	assert_int_equal(tn_hex(want, 32, v, "serialized_sha256"), 0);
	assert_memory_equal(got, want, 32);
	assert_int_equal(len, (size_t)cJSON_GetObjectItem(v, "serialized_utf8_len")->valuedouble);
	if (raw_member(&ser, &n, raw, rawlen, "serialized") == 0) {
		struct jstr_lex lx = {.p = ser, .end = ser + n};

		assert_int_equal(jstr_string(&lx, &exp, &explen, SIZE_MAX - 1), 0);
		assert_int_equal(explen, len);
		assert_memory_equal(exp, s, len);
		free(exp);
	}
	free(s);
}

/* Re-sign with the vector's key and aux_rand: same id and signature. */
static void check_resign(const struct nostr_event *ev, const cJSON *v)
{
	struct nostr_event copy;
	struct nostr_seckey sk;
	struct nostr_keypair kp;
	uint8_t aux[32];
	char *json, err[128];
	size_t len;

	assert_int_equal(tn_hex(sk.b, 32, v, "seckey"), 0);
	assert_int_equal(tn_hex(aux, 32, v, "aux_rand"), 0);
	assert_int_equal(nostr_keypair_from_seckey(&kp, &sk), 0);
	assert_int_equal(nostr_event_to_json(&json, &len, ev), 0);
	assert_int_equal(
		nostr_event_parse(&copy, json, len, NOSTR_EVENT_SIGNED, NULL, err, sizeof(err)), 0);
	free(json);
	assert_int_equal(nostr_event_sign_aux(&copy, &kp, aux, err, sizeof(err)), 0);
	assert_memory_equal(copy.id, ev->id, 32);
	assert_memory_equal(copy.sig, ev->sig, 64);
	assert_int_equal(nostr_event_verify(&copy, err, sizeof(err)), 0);
	nostr_event_clear(&copy);
	nostr_keypair_wipe(&kp);
	nostr_seckey_wipe(&sk);
}

/* The cJSON path verifies every event, except one cJSON truncated at "\u0000" (rejected). */
static void check_cjson(const cJSON *obj, int has_nul)
{
	struct nostr_event_limits lim = {.max_content = 1 << 20, .max_json = 1 << 21};
	struct nostr_event ev;
	char err[128];

	assert_int_equal(nostr_event_from_cjson(&ev, obj, NOSTR_EVENT_SIGNED, &lim, err, 128), 0);
	assert_int_equal(nostr_event_verify(&ev, err, sizeof(err)), has_nul ? -1 : 0);
	nostr_event_clear(&ev);
}

/* One vector: parse, serialize, id, verify, re-sign; returns whether it holds a NUL. */
static int check_vector(const cJSON *v, const char *raw, size_t rawlen)
{
	struct nostr_event_limits lim = {.max_content = 1 << 20, .max_json = 1 << 21};
	struct nostr_event ev;
	const char *evraw;
	uint8_t id[32];
	char err[128];
	size_t n;
	int has_nul;

	assert_int_equal(raw_member(&evraw, &n, raw, rawlen, "event"), 0);
	if (nostr_event_parse(&ev, evraw, n, NOSTR_EVENT_SIGNED, &lim, err, sizeof(err)) != 0)
		fail_msg("%s: %s", tn_str(v, "description"), err);
	check_serialized(&ev, v, raw, rawlen);
	assert_int_equal(nostr_event_compute_id(id, &ev), 0);
	assert_memory_equal(id, ev.id, 32);
	assert_int_equal(nostr_event_verify(&ev, err, sizeof(err)), 0);
	check_resign(&ev, v);
	has_nul = memchr(ev.content.s, '\0', ev.content.len) != NULL;
	nostr_event_clear(&ev);
	check_cjson(cJSON_GetObjectItem(v, "event"), has_nul);
	return has_nul;
}

/* All 12 NIP-01 vectors. */
static void test_nip01_vectors(void **state)
{
	size_t len, n, checked = 0, nul = 0;
	char *text = tn_read_vector("nip01.vectors.json", &len);
	const char *arr, *el;
	cJSON *j = text ? cJSON_ParseWithLength(text, len) : NULL, *vs;

	(void)state;
	assert_non_null(j);
	vs = cJSON_GetObjectItem(j, "vectors");
	assert_int_equal(raw_member(&arr, &n, text, len, "vectors"), 0);
	for (int i = 0; i < cJSON_GetArraySize(vs); i++) {
		size_t elen;

		assert_int_equal(nostr_json_array_element(&el, &elen, arr, n, (size_t)i), 0);
		nul += (size_t)check_vector(cJSON_GetArrayItem(vs, i), el, elen);
		checked++;
	}
	cJSON_Delete(j);
	free(text);
	assert_int_equal(checked, 12);
	assert_true(nul >= 1);
	print_message("%zu NIP-01 vectors checked (id, serialization, signature byte for byte; "
		      "%zu with \\u0000 carried at full length)\n",
		      checked, nul);
}

/* The cJSON path: a truncated "\u0000" content fails verification, never passes. */
static void test_cjson_nul_is_rejected(void **state)
{
	struct nostr_keypair kp;
	struct nostr_event ev, back;
	char *json, err[128];
	size_t len;
	cJSON *obj;

	(void)state;
	assert_int_equal(nostr_keypair_generate(&kp), 0);
	nostr_event_init(&ev);
	ev.kind = 1;
	ev.created_at = 1700000000;
	ev.has_created_at = 1;
	assert_int_equal(nostr_event_set_content(&ev, "a\0b", 3), 0);
	assert_int_equal(nostr_event_sign(&ev, &kp, err, sizeof(err)), 0);
	assert_int_equal(nostr_event_to_json(&json, &len, &ev), 0);
	assert_non_null(strstr(json, "\"a\\u0000b\""));
	assert_int_equal(nostr_event_parse(&back, json, len, NOSTR_EVENT_SIGNED, NULL, err, 128),
			 0);
	assert_int_equal(back.content.len, 3);
	assert_int_equal(nostr_event_verify(&back, err, sizeof(err)), 0);
	nostr_event_clear(&back);
	obj = cJSON_ParseWithLength(json, len);
	assert_int_equal(nostr_event_from_cjson(&back, obj, NOSTR_EVENT_SIGNED, NULL, err, 128), 0);
	assert_int_equal(nostr_event_verify(&back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "id does not match"));
	nostr_event_clear(&back);
	cJSON_Delete(obj);
	free(json);
	nostr_event_clear(&ev);
	nostr_keypair_wipe(&kp);
}

/* The valid base event of the rejection table (a NIP-01 vector). */
#define EV_ID "a9d53fee641fe563de947fa330a3b4902e52e249894660aaa521cd039e896128"
#define EV_PK "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"
#define EV_SIG                                                                                     \
	"3ed440e88bd49699e7827e60db9eaee0af7468afdb3b2c253301aa592d00c7e08c5e0f64811944b6151f8959" \
	"d"                                                                                        \
	"21c1b0b484f0f6d396bce6285e2445496e75e28"
#define EV(id, pk, ca, kind, tags, content, sig)                                                   \
	"{\"id\":" id ",\"pubkey\":" pk ",\"created_at\":" ca ",\"kind\":" kind ",\"tags\":" tags  \
	",\"content\":" content ",\"sig\":" sig "}"
#define Q(x) "\"" x "\""

/* The base event with one field replaced (the macro's arguments in order). */
#define EV_WITH_CA(ca)	     EV(Q(EV_ID), Q(EV_PK), ca, "1", "[]", Q("hello"), Q(EV_SIG))
#define EV_WITH_KIND(k)	     EV(Q(EV_ID), Q(EV_PK), "1700000000", k, "[]", Q("hello"), Q(EV_SIG))
#define EV_WITH_TAGS(t)	     EV(Q(EV_ID), Q(EV_PK), "1700000000", "1", t, Q("hello"), Q(EV_SIG))
#define EV_WITH_CONTENT(c)   EV(Q(EV_ID), Q(EV_PK), "1700000000", "1", "[]", c, Q(EV_SIG))
#define EV_WITH_SIG(sg)	     EV(Q(EV_ID), Q(EV_PK), "1700000000", "1", "[]", Q("hello"), sg)
#define EV_WITH_KEYS(id, pk) EV(id, pk, "1700000000", "1", "[]", Q("hello"), Q(EV_SIG))

/* One malformed event and a word its error message must contain. */
struct parse_case {
	const char *json, *want;
};

/* Bad hex fields: upper-case or short id, pubkey and sig. */
static const struct parse_case parse_hex_cases[] = {
	{EV_WITH_KEYS(Q("A9D53FEE641FE563DE947FA330A3B4902E52E249894660AAA521CD039E896128"),
		      Q(EV_PK)),
	 "id"},
	{EV_WITH_KEYS(Q(EV_ID), Q("f9308a")), "pubkey"},
	{EV_WITH_SIG(Q("00")), "sig"},
	{EV_WITH_SIG(Q("3ED440E88BD49699E7827E60DB9EAEE0AF7468AFDB3B2C253301AA592D00C7E0"
		       "8C5E0F64811944B6151F8959D21C1B0B484F0F6D396BCE6285E2445496E75E28")),
	 "sig"},
	{EV_WITH_SIG(Q("3ed440e88bd49699e7827e60db9eaee0af7468afdb3b2c253301aa592d00c7e0"
		       "8c5e0f64811944b6151f8959d21c1b0b484f0f6d396bce6285e2445496e75e2")),
	 "sig"},
};

/* Bad numbers: created_at and kind out of range, fractional, quoted or padded. */
static const struct parse_case parse_number_cases[] = {
	{EV_WITH_CA("1.7e9"), "created_at"},
	{EV_WITH_CA("-1"), "created_at"},
	{EV_WITH_CA("9007199254740992"), "created_at"},
	{EV_WITH_CA("99999999999999999999"), "created_at"},
	{EV_WITH_KIND("65536"), "kind"},
	{EV_WITH_KIND("\"1\""), "kind"},
	{EV_WITH_KIND("-1"), "kind"},
	{EV_WITH_KIND("01"), "kind"},
};

/* Bad tags and content: wrong types, bad strings. */
static const struct parse_case parse_body_cases[] = {
	{EV_WITH_TAGS("[[1]]"), "tags"},
	{EV_WITH_TAGS("[\"p\"]"), "tags"},
	{EV_WITH_TAGS("{}"), "tags"},
	{EV_WITH_TAGS("[[\"p\",1]]"), "tags"},
	{EV_WITH_TAGS("[[\"p\",[\"x\"]]]"), "tags"},
	{EV_WITH_TAGS("null"), "tags"},
	{EV_WITH_CONTENT("5"), "content"},
	{EV_WITH_CONTENT("null"), "content"},
	{EV_WITH_CONTENT(Q("\\ud800")), "surrogate"},
	{EV_WITH_CONTENT(Q("\xff")), "UTF-8"},
	{EV_WITH_CONTENT(Q("\x01")), "control"},
	{EV_WITH_CONTENT(Q("\\x")), "escape"},
};

/* Bad structure: duplicate or missing members, not an object, trailing input. */
static const struct parse_case parse_shape_cases[] = {
	{"{\"id\":" Q(EV_ID) ",\"id\":" Q(EV_ID) "}", "duplicate"},
	{"{\"pubkey\":" Q(EV_PK) "}", "missing"},
	{"[]", "object"},
	{EV_WITH_CA("1700000000") "x", "trailing"},
};

/* Each case is rejected (-1) with an error naming the problem. */
static void parse_reject_all(const struct parse_case *cases, size_t n)
{
	struct nostr_event ev;
	char err[160];

	for (size_t i = 0; i < n; i++) {
		int rc = nostr_event_parse(&ev, cases[i].json, strlen(cases[i].json),
					   NOSTR_EVENT_SIGNED, NULL, err, sizeof(err));

		if (rc != -1 || strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu: rc %d, error \"%s\", want \"%s\"", i, rc, err,
				 cases[i].want);
		nostr_event_clear(&ev);
	}
	print_message("%zu malformed events rejected\n", n);
}

/* The base event of the rejection tables parses and verifies (so each case tests one change). */
static void test_parse_base(void **state)
{
	static const char json[] = EV_WITH_CA("1700000000");
	struct nostr_event ev;
	char err[160];

	(void)state;
	assert_int_equal(nostr_event_parse(&ev, json, strlen(json), NOSTR_EVENT_SIGNED, NULL, err,
					   sizeof(err)),
			 0);
	assert_int_equal(nostr_event_verify(&ev, err, sizeof(err)), 0);
	nostr_event_clear(&ev);
}

/* Strict parsing of the hex fields. */
static void test_parse_reject_hex(void **state)
{
	(void)state;
	parse_reject_all(parse_hex_cases, sizeof(parse_hex_cases) / sizeof(parse_hex_cases[0]));
}

/* Strict parsing of the numbers. */
static void test_parse_reject_numbers(void **state)
{
	(void)state;
	parse_reject_all(parse_number_cases,
			 sizeof(parse_number_cases) / sizeof(parse_number_cases[0]));
}

/* Strict parsing of tags and content. */
static void test_parse_reject_body(void **state)
{
	(void)state;
	parse_reject_all(parse_body_cases, sizeof(parse_body_cases) / sizeof(parse_body_cases[0]));
}

/* Strict parsing of the object's shape. */
static void test_parse_reject_shape(void **state)
{
	(void)state;
	parse_reject_all(parse_shape_cases,
			 sizeof(parse_shape_cases) / sizeof(parse_shape_cases[0]));
}

/* Input after the object is refused even behind a raw NUL byte; so is a bad untrusted member. */
static void test_trailing_and_template_errors(void **state)
{
	static const char nul[] = "{\"kind\":1,\"content\":\"x\"}\0garbage";
	static const char bad_pk[] = "{\"kind\":1,\"content\":\"x\",\"pubkey\":[1,}";
	struct nostr_event ev;
	char err[160], *s;
	size_t len;

	(void)state;
	assert_int_equal(nostr_event_parse(&ev, nul, sizeof(nul) - 1, NOSTR_EVENT_TEMPLATE, NULL,
					   err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "trailing"));
	assert_int_equal(nostr_event_parse(&ev, nul, strlen(nul), NOSTR_EVENT_TEMPLATE, NULL, err,
					   sizeof(err)),
			 0);
	nostr_event_clear(&ev);
	assert_int_equal(nostr_event_parse(&ev, bad_pk, strlen(bad_pk), NOSTR_EVENT_TEMPLATE, NULL,
					   err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "event pubkey: "));
	assert_int_equal(nostr_json_string(&s, &len, "\"a\"\0zz", 6, 10), -1);
	assert_null(s);
}

/* Limits are configurable and reported clearly. */
static void test_limits(void **state)
{
	static const char json[] =
		"{\"kind\":1,\"content\":\"hello\",\"tags\":[[\"a\",\"bb\"],[\"c\"]]}";
	struct nostr_event_limits lim = {.max_content = 4};
	struct nostr_event ev;
	char err[160];

	(void)state;
	assert_int_equal(nostr_event_parse(&ev, json, strlen(json), NOSTR_EVENT_TEMPLATE, &lim, err,
					   sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "too long"));
	lim = (struct nostr_event_limits){.max_tags = 1};
	assert_int_equal(nostr_event_parse(&ev, json, strlen(json), NOSTR_EVENT_TEMPLATE, &lim, err,
					   sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "too many tags"));
	lim = (struct nostr_event_limits){.max_tag_items = 1};
	assert_int_equal(nostr_event_parse(&ev, json, strlen(json), NOSTR_EVENT_TEMPLATE, &lim, err,
					   sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "too many strings"));
	lim = (struct nostr_event_limits){.max_tag_item_len = 1};
	assert_int_equal(nostr_event_parse(&ev, json, strlen(json), NOSTR_EVENT_TEMPLATE, &lim, err,
					   sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "too long"));
	lim = (struct nostr_event_limits){.max_json = 10};
	assert_int_equal(nostr_event_parse(&ev, json, strlen(json), NOSTR_EVENT_TEMPLATE, &lim, err,
					   sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "limit"));
	assert_int_equal(nostr_event_parse(&ev, json, strlen(json), NOSTR_EVENT_TEMPLATE, NULL, err,
					   sizeof(err)),
			 0);
	assert_int_equal(ev.ntags, 2);
	assert_int_equal(ev.tags[0].n, 2);
	nostr_event_clear(&ev);
}

/* A sign_event template (id/pubkey/sig given but never trusted) signs and verifies. */
static void test_template_sign(void **state)
{
	static const char json[] =
		"{\"kind\":1,\"created_at\":1700000000,\"tags\":[[\"p\",\"x\"]],\"content\":\"hi\","
		"\"id\":\"" EV_ID
		"\",\"pubkey\":\"NOT-A-KEY\",\"sig\":5,\"extra\":{\"a\":[1,2,{\"b\":null}]}}";
	struct nostr_keypair kp;
	struct nostr_event ev;
	const char *const tag[] = {"e", "abc"};
	uint8_t sig1[64];
	char err[160];

	(void)state;
	assert_int_equal(nostr_keypair_generate(&kp), 0);
	assert_int_equal(nostr_event_parse(&ev, json, strlen(json), NOSTR_EVENT_TEMPLATE, NULL, err,
					   sizeof(err)),
			 0);
	nostr_event_clear(&ev);
	assert_int_equal(nostr_event_parse(&ev, json, strlen(json), NOSTR_EVENT_SIGNED, NULL, err,
					   sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "pubkey")); /* strict when signed */
	assert_int_equal(nostr_event_parse(&ev, json, strlen(json), NOSTR_EVENT_TEMPLATE, NULL, err,
					   sizeof(err)),
			 0);
	assert_int_equal(nostr_event_add_tag(&ev, tag, 2), 0);
	assert_non_null(nostr_event_find_tag(&ev, "e"));
	assert_null(nostr_event_find_tag(&ev, "q"));
	assert_false(ev.has_id || ev.has_pubkey || ev.has_sig);
	assert_int_equal(nostr_event_sign(&ev, &kp, err, sizeof(err)), 0);
	memcpy(sig1, ev.sig, 64);
	assert_int_equal(nostr_event_sign(&ev, &kp, err, sizeof(err)), 0);
	assert_memory_not_equal(sig1, ev.sig, 64); /* fresh aux randomness each time */
	assert_true(nostr_pubkey_equal(&ev.pubkey, &kp.pub));
	assert_int_equal(nostr_event_verify(&ev, err, sizeof(err)), 0);
	ev.content.s[0] = 'H'; /* tampering breaks the id */
	assert_int_equal(nostr_event_verify(&ev, err, sizeof(err)), -1);
	ev.content.s[0] = 'h';
	ev.sig[0] ^= 1; /* and the signature */
	assert_int_equal(nostr_event_verify(&ev, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bad signature"));
	nostr_event_clear(&ev);
	ev.kind = 1; /* no created_at */
	assert_int_equal(nostr_event_sign(&ev, &kp, err, sizeof(err)), -1);
	nostr_keypair_wipe(&kp);
}

/* Slicing an element out of a relay message keeps the raw bytes. */
static void test_array_element(void **state)
{
	static const char msg[] = "[\"EVENT\", \"sub\\\"1\" , {\"a\":\"]\\u0000\"} ]";
	const char *s;
	size_t n;

	(void)state;
	assert_int_equal(nostr_json_array_element(&s, &n, msg, strlen(msg), 2), 0);
	assert_int_equal(n, strlen("{\"a\":\"]\\u0000\"}"));
	assert_memory_equal(s, "{\"a\":\"]\\u0000\"}", n);
	assert_int_equal(nostr_json_array_element(&s, &n, msg, strlen(msg), 0), 0);
	assert_int_equal(n, 7);
	assert_int_equal(nostr_json_array_element(&s, &n, msg, strlen(msg), 3), -1);
	assert_int_equal(nostr_json_array_element(&s, &n, "{}", 2, 0), -1);
	assert_int_equal(nostr_json_array_element(&s, &n, "[\"x", 3, 0), -1);
}

/* Object members and JSON strings are sliced and decoded at full length. */
static void test_json_helpers(void **state)
{
	static const char req[] = "{\"id\":\"7\",\"method\":\"sign_event\",\"params\":"
				  "[\"{\\\"kind\\\":1,\\\"content\\\":\\\"a\\\\u0000b\\\"}\"]}";
	struct nostr_event ev;
	const char *v, *el;
	char *s, err[128];
	size_t n, elen, len;

	(void)state;
	assert_int_equal(nostr_json_object_member(&v, &n, req, strlen(req), "params"), 0);
	assert_int_equal(nostr_json_array_element(&el, &elen, v, n, 0), 0);
	assert_int_equal(nostr_json_string(&s, &len, el, elen, 4096), 0);
	assert_string_equal(s, "{\"kind\":1,\"content\":\"a\\u0000b\"}");
	assert_int_equal(nostr_event_parse(&ev, s, len, NOSTR_EVENT_TEMPLATE, NULL, err, 128), 0);
	assert_int_equal(ev.content.len, 3);
	nostr_event_clear(&ev);
	free(s);
	assert_int_equal(nostr_json_object_member(&v, &n, req, strlen(req), "nope"), -1);
	assert_int_equal(nostr_json_object_member(&v, &n, "{\"a\":01}", 8, "b"), -1);
	assert_int_equal(nostr_json_object_member(&v, &n, "{\"a\":1.}", 8, "b"), -1);
	assert_int_equal(nostr_json_object_member(&v, &n, "{\"a\":-1.5e+3,\"b\":2}", 20, "b"), 0);
	assert_int_equal(n, 1);
	assert_int_equal(nostr_json_string(&s, &len, "\"a\\u0000\" x", 11, 10), -1);
	assert_int_equal(nostr_json_string(&s, &len, "\"a\\u0000\" ", 10, 10), 0);
	assert_int_equal(len, 2);
	free(s);
}

/* Every byte of a valid event replaced by a few others: no crash, and never verified. */
static void test_mutations(void **state)
{
	static const char json[] =
		EV(Q(EV_ID), Q(EV_PK), "1700000000", "1", "[[\"p\",\"x\"]]", Q("hello"), Q(EV_SIG));
	static const char subst[] = "\"\\{}[],:0a \x01\xc3";
	char bad[sizeof(json)], err[160];
	struct nostr_event ev;
	size_t n = 0, parsed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(json) - 1; i++) {
		for (size_t k = 0; k < sizeof(subst) - 1; k++) {
			memcpy(bad, json, sizeof(json));
			if (bad[i] == subst[k])
				continue;
			bad[i] = subst[k];
			n++;
			err[0] = '\0';
			if (nostr_event_parse(&ev, bad, sizeof(json) - 1, NOSTR_EVENT_SIGNED, NULL,
					      err, sizeof(err)) != 0) {
				assert_true(strncmp(err, "event", 5) == 0); /* a clear message */
				continue;
			}
			parsed++; /* e.g. a changed hex digit: still well-formed, must not verify */
			assert_int_equal(nostr_event_verify(&ev, err, sizeof(err)), -1);
			nostr_event_clear(&ev);
		}
	}
	print_message("%zu mutated events: %zu parsed, none verified\n", n, parsed);
}

/* Run the group. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nip01_vectors),
		cmocka_unit_test(test_cjson_nul_is_rejected),
		cmocka_unit_test(test_parse_base),
		cmocka_unit_test(test_parse_reject_hex),
		cmocka_unit_test(test_parse_reject_numbers),
		cmocka_unit_test(test_parse_reject_body),
		cmocka_unit_test(test_parse_reject_shape),
		cmocka_unit_test(test_trailing_and_template_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_template_sign),
		cmocka_unit_test(test_array_element),
		cmocka_unit_test(test_json_helpers),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests_name("nostr_event", tests, NULL, NULL);
}
