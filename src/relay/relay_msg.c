/*
 * relay_msg.c - NIP-01 relay message parsing and client message building.
 */
#include "relay/relay_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* Parses the items of one message type after the verb. */
typedef int (*relay_msg_fill_fn)(struct relay_msg *m, const cJSON *arr, const char *text,
				 size_t len, char *err, size_t errlen);

/* One row of the dispatch table. */
struct relay_msg_kind {
	const char *verb;
	enum relay_msg_type type;
	int min_items; /* including the verb */
	relay_msg_fill_fn fill;
};

static int relay_msg_fill_event(struct relay_msg *m, const cJSON *arr, const char *text, size_t len,
				char *err, size_t errlen);
static int relay_msg_fill_eose(struct relay_msg *m, const cJSON *arr, const char *text, size_t len,
			       char *err, size_t errlen);
static int relay_msg_fill_ok(struct relay_msg *m, const cJSON *arr, const char *text, size_t len,
			     char *err, size_t errlen);
static int relay_msg_fill_closed(struct relay_msg *m, const cJSON *arr, const char *text,
				 size_t len, char *err, size_t errlen);
static int relay_msg_fill_notice(struct relay_msg *m, const cJSON *arr, const char *text,
				 size_t len, char *err, size_t errlen);
static int relay_msg_fill_auth(struct relay_msg *m, const cJSON *arr, const char *text, size_t len,
			       char *err, size_t errlen);
static int relay_msg_sub_id(struct relay_msg *m, const cJSON *item, char *err, size_t errlen);
static const char *relay_msg_ws(const char *p, const char *end);
static const char *relay_msg_skip_string(const char *p, const char *end);
static bool relay_msg_is_hex64(const char *s);
static cJSON *relay_msg_filter_json(const struct relay_filter *f);

/* Every message a relay may send, by verb. */
static const struct relay_msg_kind relay_msg_kinds[] = {
	{.verb = "EVENT", .type = RELAY_MSG_EVENT, .min_items = 3, .fill = relay_msg_fill_event},
	{.verb = "EOSE", .type = RELAY_MSG_EOSE, .min_items = 2, .fill = relay_msg_fill_eose},
	{.verb = "OK", .type = RELAY_MSG_OK, .min_items = 3, .fill = relay_msg_fill_ok},
	{.verb = "CLOSED", .type = RELAY_MSG_CLOSED, .min_items = 2, .fill = relay_msg_fill_closed},
	{.verb = "NOTICE", .type = RELAY_MSG_NOTICE, .min_items = 2, .fill = relay_msg_fill_notice},
	{.verb = "AUTH", .type = RELAY_MSG_AUTH, .min_items = 2, .fill = relay_msg_fill_auth},
};

/* Parse one relay message. */
int relay_msg_parse(struct relay_msg *out, const char *text, size_t len, char *err, size_t errlen)
{
	int rc = -1;
	const char *end = NULL;
	const cJSON *verb;
	cJSON *arr;

	memset(out, 0, sizeof(*out));
	arr = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (arr != NULL && relay_msg_ws(end, text + len) != text + len) {
		snprintf(err, errlen, "trailing bytes after the message");
		goto fail;
	}
	if (arr == NULL || !cJSON_IsArray(arr)) {
		snprintf(err, errlen, "not a JSON array");
		goto fail;
	}
	verb = cJSON_GetArrayItem(arr, 0);
	if (!cJSON_IsString(verb)) {
		snprintf(err, errlen, "first item is not a string");
		goto fail;
	}
	for (size_t i = 0; i < sizeof(relay_msg_kinds) / sizeof(relay_msg_kinds[0]); i++) {
		const struct relay_msg_kind *k = &relay_msg_kinds[i];
		if (strcmp(k->verb, verb->valuestring) != 0)
			continue;
		if (cJSON_GetArraySize(arr) < k->min_items) {
			snprintf(err, errlen, "%s: too few items", k->verb);
			goto fail;
		}
		out->type = k->type;
		rc = k->fill(out, arr, text, len, err, errlen);
		goto fail;
	}
	snprintf(err, errlen, "unknown message type");
fail:
	cJSON_Delete(arr);
	return rc;
}

/* The name of a message type. */
const char *relay_msg_type_name(enum relay_msg_type t)
{
	for (size_t i = 0; i < sizeof(relay_msg_kinds) / sizeof(relay_msg_kinds[0]); i++)
		if (relay_msg_kinds[i].type == t)
			return relay_msg_kinds[i].verb;
	return "?";
}

/* Copy a subscription id item, refusing non-strings and oversize ids. */
static int relay_msg_sub_id(struct relay_msg *m, const cJSON *item, char *err, size_t errlen)
{
	if (!cJSON_IsString(item) || strlen(item->valuestring) > RELAY_SUB_ID_MAX) {
		snprintf(err, errlen, "bad subscription id");
		return -1;
	}
	snprintf(m->sub_id, sizeof(m->sub_id), "%s", item->valuestring);
	return 0;
}

/* ["EVENT", sub, {...}]: find the raw span of the third item. */
static int relay_msg_fill_event(struct relay_msg *m, const cJSON *arr, const char *text, size_t len,
				char *err, size_t errlen)
{
	const char *end = text + len, *p, *q;

	if (relay_msg_sub_id(m, cJSON_GetArrayItem(arr, 1), err, errlen) != 0)
		return -1;
	if (!cJSON_IsObject(cJSON_GetArrayItem(arr, 2))) {
		snprintf(err, errlen, "EVENT: third item is not an object");
		return -1;
	}
	p = relay_msg_ws(text, end);
	p = (p < end && *p == '[') ? p + 1 : NULL;
	for (int i = 0; p != NULL && i < 2; i++) {
		p = relay_msg_skip_value(p, end);
		p = p != NULL ? relay_msg_ws(p, end) : NULL;
		p = (p != NULL && p < end && *p == ',') ? p + 1 : NULL;
	}
	p = p != NULL ? relay_msg_ws(p, end) : NULL;
	q = p != NULL ? relay_msg_skip_value(p, end) : NULL;
	if (q == NULL || *p != '{') {
		snprintf(err, errlen, "EVENT: cannot locate the event");
		return -1;
	}
	m->event = p;
	m->event_len = (size_t)(q - p);
	return 0;
}

/* ["EOSE", sub]. */
static int relay_msg_fill_eose(struct relay_msg *m, const cJSON *arr, const char *text, size_t len,
			       char *err, size_t errlen)
{
	(void)text;
	(void)len;
	return relay_msg_sub_id(m, cJSON_GetArrayItem(arr, 1), err, errlen);
}

/* ["OK", id, bool, message]; the message may be missing from old relays. */
static int relay_msg_fill_ok(struct relay_msg *m, const cJSON *arr, const char *text, size_t len,
			     char *err, size_t errlen)
{
	const cJSON *id = cJSON_GetArrayItem(arr, 1), *ok = cJSON_GetArrayItem(arr, 2);
	const cJSON *msg = cJSON_GetArrayItem(arr, 3);

	(void)text;
	(void)len;
	if (!cJSON_IsString(id) || !relay_msg_is_hex64(id->valuestring) || !cJSON_IsBool(ok) ||
	    (msg != NULL && !cJSON_IsString(msg))) {
		snprintf(err, errlen, "OK: malformed");
		return -1;
	}
	memcpy(m->event_id, id->valuestring, 65);
	m->accepted = cJSON_IsTrue(ok);
	snprintf(m->message, sizeof(m->message), "%s", msg ? msg->valuestring : "");
	return 0;
}

/* ["CLOSED", sub, message]. */
static int relay_msg_fill_closed(struct relay_msg *m, const cJSON *arr, const char *text,
				 size_t len, char *err, size_t errlen)
{
	const cJSON *msg = cJSON_GetArrayItem(arr, 2);

	(void)text;
	(void)len;
	if (relay_msg_sub_id(m, cJSON_GetArrayItem(arr, 1), err, errlen) != 0)
		return -1;
	if (msg != NULL && !cJSON_IsString(msg)) {
		snprintf(err, errlen, "CLOSED: message is not a string");
		return -1;
	}
	snprintf(m->message, sizeof(m->message), "%s", msg ? msg->valuestring : "");
	return 0;
}

/* ["NOTICE", message]. */
static int relay_msg_fill_notice(struct relay_msg *m, const cJSON *arr, const char *text,
				 size_t len, char *err, size_t errlen)
{
	const cJSON *msg = cJSON_GetArrayItem(arr, 1);

	(void)text;
	(void)len;
	if (!cJSON_IsString(msg)) {
		snprintf(err, errlen, "NOTICE: message is not a string");
		return -1;
	}
	snprintf(m->message, sizeof(m->message), "%s", msg->valuestring);
	return 0;
}

/* ["AUTH", challenge]: the challenge must fit whole. */
static int relay_msg_fill_auth(struct relay_msg *m, const cJSON *arr, const char *text, size_t len,
			       char *err, size_t errlen)
{
	const cJSON *c = cJSON_GetArrayItem(arr, 1);

	(void)text;
	(void)len;
	if (!cJSON_IsString(c) || strlen(c->valuestring) >= sizeof(m->message) ||
	    !*c->valuestring) {
		snprintf(err, errlen, "AUTH: bad challenge");
		return -1;
	}
	snprintf(m->message, sizeof(m->message), "%s", c->valuestring);
	return 0;
}

/* Skip JSON whitespace. */
static const char *relay_msg_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* The end of the string starting at p (which is '"'), or NULL. */
static const char *relay_msg_skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* The end of the value at p: strings, nested arrays/objects, scalars. */
const char *relay_msg_skip_value(const char *p, const char *end)
{
	int depth = 0;
	p = relay_msg_ws(p, end);
	do {
		if (p >= end)
			return NULL;
		if (*p == '"') {
			p = relay_msg_skip_string(p, end);
			if (p == NULL)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		else if (depth == 0 && (*p == ',' || *p == ' '))
			return p;
		if (depth < 0)
			return p;
		p++;
	} while (depth > 0 || (p < end && *p != ',' && *p != ']' && *p != '}' && *p != ' '));
	return p;
}

/* Whether s is 64 lower-case hex digits. */
static bool relay_msg_is_hex64(const char *s)
{
	size_t i;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 64;
}

/* One filter as a cJSON object (NULL on ENOMEM). */
static cJSON *relay_msg_filter_json(const struct relay_filter *f)
{
	cJSON *o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	if (f->nkinds &&
	    !cJSON_AddItemToObject(o, "kinds", cJSON_CreateIntArray(f->kinds, (int)f->nkinds)))
		goto fail;
	if (f->nauthors &&
	    !cJSON_AddItemToObject(o, "authors",
				   cJSON_CreateStringArray(f->authors, (int)f->nauthors)))
		goto fail;
	if (f->np_tags &&
	    !cJSON_AddItemToObject(o, "#p", cJSON_CreateStringArray(f->p_tags, (int)f->np_tags)))
		goto fail;
	if (f->since > 0 && !cJSON_AddNumberToObject(o, "since", (double)f->since))
		goto fail;
	if (f->limit >= 0 && !cJSON_AddNumberToObject(o, "limit", f->limit))
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

/* ["REQ", sub_id, filter...]. */
char *relay_msg_req(const char *sub_id, const struct relay_filter *filters, size_t nfilters)
{
	char *out = NULL;
	cJSON *a = cJSON_CreateArray();
	if (a == NULL || !cJSON_AddItemToArray(a, cJSON_CreateString("REQ")) ||
	    !cJSON_AddItemToArray(a, cJSON_CreateString(sub_id)))
		goto fail;
	for (size_t i = 0; i < nfilters; i++)
		if (!cJSON_AddItemToArray(a, relay_msg_filter_json(&filters[i])))
			goto fail;
	out = cJSON_PrintUnformatted(a);
fail:
	cJSON_Delete(a);
	return out;
}

/* ["CLOSE", sub_id]. */
char *relay_msg_close(const char *sub_id)
{
	char *out = NULL;
	cJSON *a = cJSON_CreateArray();
	if (a != NULL && cJSON_AddItemToArray(a, cJSON_CreateString("CLOSE")) &&
	    cJSON_AddItemToArray(a, cJSON_CreateString(sub_id)))
		out = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	return out;
}

/* [verb, event] around an already serialized event. */
char *relay_msg_wrap_event(const char *verb, const char *event_json, size_t len)
{
	size_t vl = strlen(verb), n = vl + len + 6;
	char *out = malloc(n + 1);
	int w;

	if (out == NULL)
		return NULL;
	w = snprintf(out, n + 1, "[\"%s\",", verb);
	memcpy(out + w, event_json, len);
	out[(size_t)w + len] = ']';
	out[(size_t)w + len + 1] = '\0';
	return out;
}
