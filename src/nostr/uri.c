/*
 * uri.c - bunker:// and nostrconnect:// URIs (NIP-46): parse and format.
 *
 * Query values are decoded as URLSearchParams does ('+' is a space, %XX
 * any byte) and then checked: no control characters, relays ws:// or
 * wss:// with a host. Parameters are dispatched through a table.
 */
#include "nostr/uri.h"

#include "core/errbuf.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/secret.h"
#include "nostr/hex.h"
#include "nostr/jstr.h"
#include "nostr/wipe.h"

/* Which field of struct nostr_uri a query parameter fills. */
enum uri_field {
	URI_FIELD_RELAY,  /* appended to relays[] */
	URI_FIELD_SECRET, /* the struct secret */
	URI_FIELD_STR,	  /* the char * at uri_param.off */
};

/* One known query parameter. */
struct uri_param {
	const char *name;
	enum uri_field field;
	size_t off;	  /* offsetof the char * field (URI_FIELD_STR only) */
	int connect_only; /* only in nostrconnect:// */
};

/* The scheme prefixes, indexed by enum nostr_uri_kind. */
static const char *const uri_schemes[] = {
	[NOSTR_URI_BUNKER] = "bunker://",
	[NOSTR_URI_NOSTRCONNECT] = "nostrconnect://",
};

/* The known query parameters; relay comes first (formatting writes it separately). */
static const struct uri_param uri_params[] = {
	{.name = "relay", .field = URI_FIELD_RELAY},
	{.name = "secret", .field = URI_FIELD_SECRET},
	{.name = "perms",
	 .field = URI_FIELD_STR,
	 .off = offsetof(struct nostr_uri, perms),
	 .connect_only = 1},
	{.name = "name",
	 .field = URI_FIELD_STR,
	 .off = offsetof(struct nostr_uri, name),
	 .connect_only = 1},
	{.name = "url",
	 .field = URI_FIELD_STR,
	 .off = offsetof(struct nostr_uri, url),
	 .connect_only = 1},
	{.name = "image",
	 .field = URI_FIELD_STR,
	 .off = offsetof(struct nostr_uri, image),
	 .connect_only = 1},
};
#define URI_NPARAMS (sizeof(uri_params) / sizeof(uri_params[0]))
_Static_assert(URI_NPARAMS <= sizeof(unsigned) * 8, "uri_query keeps one bit per parameter");

static int uri_hexval(char c);
static char *uri_decode(const char *s, size_t n);
static int uri_add_relay(struct nostr_uri *u, char *v, char *err, size_t errlen);
static int uri_store(struct nostr_uri *u, const struct uri_param *p, char *v, char *err,
		     size_t errlen);
static int uri_param(struct nostr_uri *u, unsigned *seen, const char *kv, size_t n, char *err,
		     size_t errlen);
static int uri_query(struct nostr_uri *u, const char *q, char *err, size_t errlen);
static int uri_scheme(struct nostr_uri *u, const char **rest, const char *s);
static void uri_put_encoded(struct jstr_buf *b, const char *s);
static void uri_put_param(struct jstr_buf *b, int *first, const char *name, const char *v);
static const char *uri_field_value(const struct nostr_uri *u, const struct uri_param *p);

/* The value of a hex digit, or -1. */
static int uri_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* Percent-decode s[0..n) (malloc'd); NULL if malformed or a control character results. */
static char *uri_decode(const char *s, size_t n)
{
	char *o = malloc(n + 1);
	size_t k = 0;

	for (size_t i = 0; o != NULL && i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi = i + 2 < n ? uri_hexval(s[i + 1]) : -1;
			int lo = i + 2 < n ? uri_hexval(s[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				goto bad;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+')
			c = ' ';
		if (c < 0x20 || c == 0x7f)
			goto bad;
		o[k++] = (char)c;
	}
	if (o != NULL)
		o[k] = '\0';
	return o;
bad:
	wipe_free(o, n + 1);
	return NULL;
}

/* Whether s is a ws:// or wss:// URL with a host. */
int nostr_uri_relay_valid(const char *s)
{
	size_t skip;

	if (strncasecmp(s, "wss://", 6) == 0)
		skip = 6;
	else if (strncasecmp(s, "ws://", 5) == 0)
		skip = 5;
	else
		return 0;
	if (s[skip] == '\0' || strchr("/?#:@", s[skip]) != NULL)
		return 0;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* Add a decoded relay (takes v); duplicates are dropped. */
static int uri_add_relay(struct nostr_uri *u, char *v, char *err, size_t errlen)
{
	if (!nostr_uri_relay_valid(v)) {
		errbuf_fail(err, errlen, "relay \"%s\" is not a ws:// or wss:// URL", v);
		free(v);
		return -1;
	}
	for (size_t i = 0; i < u->nrelays; i++) {
		if (strcmp(u->relays[i], v) == 0) {
			free(v);
			return 0;
		}
	}
	if (u->nrelays >= NOSTR_URI_MAX_RELAYS) {
		free(v);
		return errbuf_fail(err, errlen, "more than %s relays", "16");
	}
	u->relays[u->nrelays++] = v;
	return 0;
}

/* Store the decoded value v (taken) into the field p names. */
static int uri_store(struct nostr_uri *u, const struct uri_param *p, char *v, char *err,
		     size_t errlen)
{
	int rc;

	switch (p->field) {
	case URI_FIELD_RELAY:
		return uri_add_relay(u, v, err, errlen);
	case URI_FIELD_SECRET: /* copied into the secret; the decoded buffer is wiped */
		rc = secret_set(&u->secret, v, strlen(v));
		wipe_free_str(v);
		return rc == 0 ? 0
			       : errbuf_fail(err, errlen, "parameter %s: out of memory", p->name);
	case URI_FIELD_STR:
		*(char **)((char *)u + p->off) = v;
		return 0;
	}
	wipe_free_str(v);
	return errbuf_fail(err, errlen, "parameter %s: unknown field", p->name);
}

/* One key=value pair kv[0..n); *seen has bit i set once uri_params[i] was given. */
static int uri_param(struct nostr_uri *u, unsigned *seen, const char *kv, size_t n, char *err,
		     size_t errlen)
{
	const char *eq = memchr(kv, '=', n);
	size_t klen = eq ? (size_t)(eq - kv) : n;
	char *v;

	for (size_t i = 0; i < URI_NPARAMS; i++) {
		const struct uri_param *p = &uri_params[i];

		if (strlen(p->name) != klen || memcmp(p->name, kv, klen) != 0 ||
		    (p->connect_only && u->kind != NOSTR_URI_NOSTRCONNECT))
			continue;
		v = uri_decode(eq ? eq + 1 : kv + n, eq ? n - klen - 1 : 0);
		if (v == NULL)
			return errbuf_fail(err, errlen, "parameter %s: bad percent-encoding",
					   p->name);
		if (p->field != URI_FIELD_RELAY && (*seen & (1u << i)) != 0) {
			wipe_free_str(v);
			return errbuf_fail(err, errlen, "parameter %s given twice", p->name);
		}
		*seen |= 1u << i;
		return uri_store(u, p, v, err, errlen);
	}
	return 0; /* unknown parameters are ignored */
}

/* The query string after '?'. */
static int uri_query(struct nostr_uri *u, const char *q, char *err, size_t errlen)
{
	unsigned seen = 0; /* one bit per uri_params[] entry */

	while (*q != '\0') {
		size_t n = strcspn(q, "&");

		if (n > 0 && uri_param(u, &seen, q, n, err, errlen) != 0)
			return -1;
		q += n + (q[n] == '&');
	}
	return 0;
}

/* Match the scheme; the text after it in *rest. 0 or -1. */
static int uri_scheme(struct nostr_uri *u, const char **rest, const char *s)
{
	for (size_t i = 0; i < sizeof(uri_schemes) / sizeof(uri_schemes[0]); i++) {
		size_t n = strlen(uri_schemes[i]);

		if (strncasecmp(s, uri_schemes[i], n) == 0) {
			u->kind = (enum nostr_uri_kind)i;
			*rest = s + n;
			return 0;
		}
	}
	return -1;
}

/* Parse a URI. */
int nostr_uri_parse(struct nostr_uri *out, const char *s, char *err, size_t errlen)
{
	const char *rest;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (uri_scheme(out, &rest, s) != 0)
		return errbuf_fail(err, errlen, "%s", "not a bunker:// or nostrconnect:// URI");
	n = strcspn(rest, "?/");
	if (nostr_pubkey_from_hex(&out->pubkey, rest, n) != 0)
		return errbuf_fail(err, errlen, "%s",
				   "the pubkey is not 64 lower-case hex of a key");
	rest += n;
	rest += (*rest == '/');
	if (*rest != '\0' && *rest != '?')
		return errbuf_fail(err, errlen, "%s", "unexpected text after the pubkey");
	if (*rest == '?' && uri_query(out, rest + 1, err, errlen) != 0)
		goto fail;
	if (out->nrelays == 0) {
		errbuf_fail(err, errlen, "%s", "no relay= parameter");
		goto fail;
	}
	if (out->kind == NOSTR_URI_NOSTRCONNECT && !secret_is_set(&out->secret)) {
		errbuf_fail(err, errlen, "%s", "nostrconnect:// needs a secret= parameter");
		goto fail;
	}
	return 0;
fail:
	nostr_uri_clear(out);
	return -1;
}

/* Append s percent-encoded (everything but unreserved characters). */
static void uri_put_encoded(struct jstr_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char e[3] = {'%', hex[c >> 4], hex[c & 15]};

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    strchr("-._~", c) != NULL)
			jstr_buf_put(b, (const char *)s, 1);
		else
			jstr_buf_put(b, e, 3);
	}
}

/* Append "&name=value" (or "?" first); nothing if v is NULL. */
static void uri_put_param(struct jstr_buf *b, int *first, const char *name, const char *v)
{
	if (v == NULL)
		return;
	jstr_buf_puts(b, *first ? "?" : "&");
	*first = 0;
	jstr_buf_puts(b, name);
	jstr_buf_puts(b, "=");
	uri_put_encoded(b, v);
}

/* The text of the non-relay field p names in u, or NULL when absent. */
static const char *uri_field_value(const struct nostr_uri *u, const struct uri_param *p)
{
	if (p->field == URI_FIELD_SECRET)
		return secret_is_set(&u->secret) ? secret_reveal(&u->secret) : NULL;
	if (p->field == URI_FIELD_STR)
		return *(char *const *)((const char *)u + p->off);
	return NULL;
}

/* Format a URI. */
int nostr_uri_format(char **out, const struct nostr_uri *u, char *err, size_t errlen)
{
	struct jstr_buf b = {0};
	char hex[65];
	int first = 1;
	size_t len;

	*out = NULL;
	if ((size_t)u->kind >= sizeof(uri_schemes) / sizeof(uri_schemes[0]) || u->nrelays == 0 ||
	    u->nrelays > NOSTR_URI_MAX_RELAYS)
		return errbuf_fail(err, errlen, "%s", "bad kind or relay count");
	for (size_t i = 0; i < u->nrelays; i++)
		if (!nostr_uri_relay_valid(u->relays[i]))
			return errbuf_fail(err, errlen, "relay \"%s\" is not ws:// or wss://",
					   u->relays[i]);
	nostr_pubkey_to_hex(hex, &u->pubkey);
	jstr_buf_puts(&b, uri_schemes[u->kind]);
	jstr_buf_puts(&b, hex);
	for (size_t i = 0; i < u->nrelays; i++)
		uri_put_param(&b, &first, "relay", u->relays[i]);
	for (size_t i = 1; i < URI_NPARAMS; i++)
		if (!uri_params[i].connect_only || u->kind == NOSTR_URI_NOSTRCONNECT)
			uri_put_param(&b, &first, uri_params[i].name,
				      uri_field_value(u, &uri_params[i]));
	if (jstr_buf_finish(&b, out, &len) != 0)
		return errbuf_fail(err, errlen, "%s", "out of memory");
	return 0;
}

/* Free what u owns. */
void nostr_uri_clear(struct nostr_uri *u)
{
	for (size_t i = 0; i < u->nrelays; i++)
		free(u->relays[i]);
	secret_wipe(&u->secret);
	for (size_t i = 0; i < URI_NPARAMS; i++)
		if (uri_params[i].field == URI_FIELD_STR)
			wipe_free_str(*(char **)((char *)u + uri_params[i].off));
	memset(u, 0, sizeof(*u));
}
