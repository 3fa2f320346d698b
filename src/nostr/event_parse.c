/*
 * event_parse.c - strict parsing of NIP-01 events from raw JSON text.
 *
 * Strings are decoded at full length by jstr.c; the object's keys are
 * dispatched through a table; every field is checked as it is read.
 */
#include "nostr/event.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nostr/hex.h"
#include "nostr/jstr.h"
#include "nostr/wipe.h"

/* Depth allowed when skipping unknown members. */
#define EVENT_SKIP_DEPTH 16
/* Largest created_at: 2^53-1, the JavaScript safe integer limit. */
#define EVENT_MAX_TIME ((int64_t)9007199254740991LL)

/* The parse state. */
struct event_parser {
	struct jstr_lex lx;
	struct nostr_event *ev;
	struct nostr_event_limits lim;
	char *err;
	size_t errlen;
	unsigned seen; /* bit per field of event_fields[] */
	enum nostr_event_mode mode;
};

/* One known member of an event object. */
struct event_field {
	const char *name;
	int (*parse)(struct event_parser *ps);
	int untrusted; /* skipped unread in a template: the signer sets it */
};

static int event_fail(struct event_parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int event_hex_field(struct event_parser *ps, uint8_t *out, size_t n, const char *name);
static int event_parse_id(struct event_parser *ps);
static int event_parse_pubkey(struct event_parser *ps);
static int event_parse_sig(struct event_parser *ps);
static int event_parse_created_at(struct event_parser *ps);
static int event_parse_kind(struct event_parser *ps);
static int event_parse_content(struct event_parser *ps);
static int event_parse_tag(struct event_parser *ps, struct nostr_tag *tag);
static int event_parse_tags(struct event_parser *ps);
static int event_member(struct event_parser *ps);
static int event_members(struct event_parser *ps);
static int event_check_required(struct event_parser *ps, enum nostr_event_mode mode);
static void event_limits_fill(struct nostr_event_limits *lim, const struct nostr_event_limits *in);

/* Field order and bits; the dispatch table. */
static const struct event_field event_fields[] = {
	{.name = "id", .parse = event_parse_id, .untrusted = 1},
	{.name = "pubkey", .parse = event_parse_pubkey, .untrusted = 1},
	{.name = "created_at", .parse = event_parse_created_at},
	{.name = "kind", .parse = event_parse_kind},
	{.name = "tags", .parse = event_parse_tags},
	{.name = "content", .parse = event_parse_content},
	{.name = "sig", .parse = event_parse_sig, .untrusted = 1},
};
#define EVENT_NFIELDS		(sizeof(event_fields) / sizeof(event_fields[0]))
#define EVENT_BIT(i)		(1u << (i))
#define EVENT_SIGNED_REQUIRED	0x7fu
#define EVENT_TEMPLATE_REQUIRED (EVENT_BIT(3) | EVENT_BIT(5))

/* Report an error "fmt" with one %s; returns -1. */
static int event_fail(struct event_parser *ps, const char *fmt, ...)
{
	va_list ap;

	if (ps->err != NULL && ps->errlen > 0 && ps->err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(ps->err, ps->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A lower-case hex string of exactly n bytes. */
static int event_hex_field(struct event_parser *ps, uint8_t *out, size_t n, const char *name)
{
	char *s;
	size_t len;
	int rc;

	if (jstr_string(&ps->lx, &s, &len, 2 * n + 1) != 0)
		return event_fail(ps, "event %s: not a string", name);
	rc = hex_decode(out, n, s, len, HEX_LOWER);
	free(s);
	if (rc != 0)
		return event_fail(ps, "event %s: not lower-case hex of the right length", name);
	return 0;
}

/* "id". */
static int event_parse_id(struct event_parser *ps)
{
	ps->ev->has_id = 1;
	return event_hex_field(ps, ps->ev->id, 32, "id");
}

/* "pubkey": hex, and a point on the curve. */
static int event_parse_pubkey(struct event_parser *ps)
{
	ps->ev->has_pubkey = 1;
	if (event_hex_field(ps, ps->ev->pubkey.b, 32, "pubkey") != 0)
		return -1;
	if (nostr_pubkey_verify(&ps->ev->pubkey) != 0)
		return event_fail(ps, "event %s: not a valid public key", "pubkey");
	return 0;
}

/* "sig". */
static int event_parse_sig(struct event_parser *ps)
{
	ps->ev->has_sig = 1;
	return event_hex_field(ps, ps->ev->sig, 64, "sig");
}

/* "created_at": an integer in 0..2^53-1. */
static int event_parse_created_at(struct event_parser *ps)
{
	int64_t v;

	if (jstr_int(&ps->lx, &v) != 0 || v < 0 || v > EVENT_MAX_TIME)
		return event_fail(ps, "event %s: not an integer in 0..2^53-1", "created_at");
	ps->ev->created_at = v;
	ps->ev->has_created_at = 1;
	return 0;
}

/* "kind": an integer in 0..65535. */
static int event_parse_kind(struct event_parser *ps)
{
	int64_t v;

	if (jstr_int(&ps->lx, &v) != 0 || v < 0 || v > 65535)
		return event_fail(ps, "event %s: not an integer in 0..65535", "kind");
	ps->ev->kind = (uint32_t)v;
	return 0;
}

/* "content": a string within the limit. */
static int event_parse_content(struct event_parser *ps)
{
	wipe_free(ps->ev->content.s, ps->ev->content.len);
	ps->ev->content.s = NULL;
	if (jstr_string(&ps->lx, &ps->ev->content.s, &ps->ev->content.len, ps->lim.max_content) ==
	    0)
		return 0;
	return event_fail(ps, "event content: %s", ps->lx.err ? ps->lx.err : "not a string");
}

/* One tag: an array of strings within the limits. */
static int event_parse_tag(struct event_parser *ps, struct nostr_tag *tag)
{
	if (jstr_expect(&ps->lx, '[') != 0)
		return event_fail(ps, "event tags: %s", "a tag is not an array");
	if (jstr_peek(&ps->lx) == ']')
		return jstr_expect(&ps->lx, ']');
	do {
		struct nostr_str *items;

		if (tag->n >= ps->lim.max_tag_items)
			return event_fail(ps, "event tags: %s", "too many strings in a tag");
		items = realloc(tag->items, (tag->n + 1) * sizeof(*items));
		if (items == NULL)
			return event_fail(ps, "event tags: %s", "out of memory");
		tag->items = items;
		if (jstr_string(&ps->lx, &items[tag->n].s, &items[tag->n].len,
				ps->lim.max_tag_item_len) != 0)
			return event_fail(ps, "event tags: %s",
					  ps->lx.err ? ps->lx.err : "a tag item is not a string");
		tag->n++;
	} while (jstr_peek(&ps->lx) == ',' && jstr_expect(&ps->lx, ',') == 0);
	if (jstr_expect(&ps->lx, ']') != 0)
		return event_fail(ps, "event tags: %s", "malformed tag");
	return 0;
}

/* "tags": an array of tags within the limit. */
static int event_parse_tags(struct event_parser *ps)
{
	struct nostr_event *ev = ps->ev;

	if (jstr_expect(&ps->lx, '[') != 0)
		return event_fail(ps, "event tags: %s", "not an array");
	if (jstr_peek(&ps->lx) == ']')
		return jstr_expect(&ps->lx, ']');
	do {
		struct nostr_tag *tags;

		if (ev->ntags >= ps->lim.max_tags)
			return event_fail(ps, "event tags: %s", "too many tags");
		tags = realloc(ev->tags, (ev->ntags + 1) * sizeof(*tags));
		if (tags == NULL)
			return event_fail(ps, "event tags: %s", "out of memory");
		ev->tags = tags;
		tags[ev->ntags] = (struct nostr_tag){0};
		ev->ntags++;
		if (event_parse_tag(ps, &tags[ev->ntags - 1]) != 0)
			return -1;
	} while (jstr_peek(&ps->lx) == ',' && jstr_expect(&ps->lx, ',') == 0);
	if (jstr_expect(&ps->lx, ']') != 0)
		return event_fail(ps, "event tags: %s", "malformed array");
	return 0;
}

/* One "key": value member, dispatched by name; unknown members skipped. */
static int event_member(struct event_parser *ps)
{
	char *key;
	size_t len;
	int rc = -1;

	if (jstr_string(&ps->lx, &key, &len, 1024) != 0 || jstr_expect(&ps->lx, ':') != 0) {
		free(key);
		return event_fail(ps, "event: %s", "malformed object member");
	}
	for (size_t i = 0; i < EVENT_NFIELDS; i++) {
		if (strlen(event_fields[i].name) != len || memcmp(event_fields[i].name, key, len))
			continue;
		if (ps->seen & EVENT_BIT(i))
			rc = event_fail(ps, "event: duplicate key \"%s\"", event_fields[i].name);
		else if (event_fields[i].untrusted && ps->mode == NOSTR_EVENT_TEMPLATE)
			rc = jstr_skip(&ps->lx, EVENT_SKIP_DEPTH) == 0
				     ? 0
				     : event_fail(ps, "event %s: %s", event_fields[i].name,
						  ps->lx.err ? ps->lx.err : "malformed JSON");
		else
			rc = event_fields[i].parse(ps);
		ps->seen |= EVENT_BIT(i);
		free(key);
		return rc;
	}
	free(key);
	if (jstr_skip(&ps->lx, EVENT_SKIP_DEPTH) != 0)
		return event_fail(ps, "event: %s", ps->lx.err ? ps->lx.err : "malformed JSON");
	return 0;
}

/* The members of the object, through the closing brace. */
static int event_members(struct event_parser *ps)
{
	if (jstr_expect(&ps->lx, '{') != 0)
		return event_fail(ps, "event: %s", "not a JSON object");
	if (jstr_peek(&ps->lx) == '}')
		return jstr_expect(&ps->lx, '}');
	do {
		if (event_member(ps) != 0)
			return -1;
	} while (jstr_peek(&ps->lx) == ',' && jstr_expect(&ps->lx, ',') == 0);
	if (jstr_expect(&ps->lx, '}') != 0)
		return event_fail(ps, "event: %s", "malformed object");
	if (!jstr_at_end(&ps->lx))
		return event_fail(ps, "event: %s", "trailing data after the object");
	return 0;
}

/* Check that the mode's required fields were present. */
static int event_check_required(struct event_parser *ps, enum nostr_event_mode mode)
{
	unsigned need =
		mode == NOSTR_EVENT_SIGNED ? EVENT_SIGNED_REQUIRED : EVENT_TEMPLATE_REQUIRED;

	for (size_t i = 0; i < EVENT_NFIELDS; i++)
		if ((need & EVENT_BIT(i)) && !(ps->seen & EVENT_BIT(i)))
			return event_fail(ps, "event: missing \"%s\"", event_fields[i].name);
	return 0;
}

/* Fill unset limits with the defaults. */
static void event_limits_fill(struct nostr_event_limits *lim, const struct nostr_event_limits *in)
{
	struct nostr_event_limits def = nostr_event_limits_default();

	*lim = in ? *in : def;
	lim->max_json = lim->max_json ? lim->max_json : def.max_json;
	lim->max_content = lim->max_content ? lim->max_content : def.max_content;
	lim->max_tags = lim->max_tags ? lim->max_tags : def.max_tags;
	lim->max_tag_items = lim->max_tag_items ? lim->max_tag_items : def.max_tag_items;
	lim->max_tag_item_len =
		lim->max_tag_item_len ? lim->max_tag_item_len : def.max_tag_item_len;
}

/* The default limits. */
struct nostr_event_limits nostr_event_limits_default(void)
{
	return (struct nostr_event_limits){
		.max_json = 256 * 1024,
		.max_content = 128 * 1024,
		.max_tags = 2000,
		.max_tag_items = 100,
		.max_tag_item_len = 4096,
	};
}

/* Parse an event from raw JSON. */
int nostr_event_parse(struct nostr_event *ev, const char *json, size_t len,
		      enum nostr_event_mode mode, const struct nostr_event_limits *limits,
		      char *err, size_t errlen)
{
	struct event_parser ps = {.lx = {.p = json, .end = json + len},
				  .ev = ev,
				  .err = err,
				  .errlen = errlen,
				  .mode = mode};

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	nostr_event_init(ev);
	event_limits_fill(&ps.lim, limits);
	if (len > ps.lim.max_json) {
		event_fail(&ps, "event: %s", "JSON larger than the configured limit");
		return -1;
	}
	if (event_members(&ps) != 0 || event_check_required(&ps, mode) != 0) {
		nostr_event_clear(ev);
		return -1;
	}
	return 0;
}

/* Parse from cJSON (verification only): print it and parse the text. */
int nostr_event_from_cjson(struct nostr_event *ev, const struct cJSON *obj,
			   enum nostr_event_mode mode, const struct nostr_event_limits *limits,
			   char *err, size_t errlen)
{
	char *text = cJSON_PrintUnformatted(obj);
	int rc;

	if (text == NULL) {
		nostr_event_init(ev);
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "event: cannot print the JSON object");
		return -1;
	}
	rc = nostr_event_parse(ev, text, strlen(text), mode, limits, err, errlen);
	cJSON_free(text);
	return rc;
}

/* Slice element index of a JSON array. */
int nostr_json_array_element(const char **start, size_t *elen, const char *json, size_t len,
			     size_t index)
{
	struct jstr_lex lx = {.p = json, .end = json + len};

	if (jstr_expect(&lx, '[') != 0)
		return -1;
	for (size_t i = 0;; i++) {
		const char *s = (jstr_peek(&lx), lx.p);

		if (jstr_skip(&lx, EVENT_SKIP_DEPTH) != 0)
			return -1;
		if (i == index) {
			*start = s;
			*elen = (size_t)(lx.p - s);
			return 0;
		}
		if (jstr_expect(&lx, ',') != 0)
			return -1;
	}
}

/* Slice the value of member key of a JSON object. */
int nostr_json_object_member(const char **start, size_t *vlen, const char *json, size_t len,
			     const char *key)
{
	struct jstr_lex lx = {.p = json, .end = json + len};
	char *k;
	size_t klen;

	if (jstr_expect(&lx, '{') != 0 || jstr_peek(&lx) == '}')
		return -1;
	for (;;) {
		int match;

		if (jstr_string(&lx, &k, &klen, 4096) != 0)
			return -1;
		match = klen == strlen(key) && memcmp(k, key, klen) == 0;
		wipe_free(k, klen);
		if (jstr_expect(&lx, ':') != 0)
			return -1;
		*start = (jstr_peek(&lx), lx.p);
		if (jstr_skip(&lx, EVENT_SKIP_DEPTH) != 0)
			return -1;
		*vlen = (size_t)(lx.p - *start);
		if (match)
			return 0;
		if (jstr_expect(&lx, ',') != 0)
			return -1;
	}
}

/* Decode one JSON string token at full length. */
int nostr_json_string(char **out, size_t *outlen, const char *json, size_t len, size_t max)
{
	struct jstr_lex lx = {.p = json, .end = json + len};

	if (jstr_string(&lx, out, outlen, max) != 0)
		return -1;
	if (!jstr_at_end(&lx)) {
		wipe_free(*out, *outlen);
		*out = NULL;
		return -1;
	}
	return 0;
}
