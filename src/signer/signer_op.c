/*
 * signer_op.c - a request's params made into a typed operation, and the
 * pure NIP-46 methods run on it.
 *
 * One table, indexed by method, names each method's params parser and
 * runner; a method without a runner (connect, logout) is carried out by
 * the caller. Results that may hold a plaintext are wiped when cleared.
 */
#include "signer/signer_op.h"

#include "core/errbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nostr/hex.h"
#include "nostr/jstr.h"
#include "nostr/wipe.h"

/* What a method's params parser and runner look like. */
typedef int (*op_parse_fn)(struct signer_op *op, const struct signer_request *r, char *err,
			   size_t errlen);
typedef int (*op_run_fn)(struct signer_result *out, const struct signer_op *op,
			 const struct signer_ctx *ctx, char *err, size_t errlen);

/* One method's entry: parser (NULL: params ignored), runner (NULL: not pure), crypto shape. */
struct op_method {
	op_parse_fn parse;
	op_run_fn run;
	enum signer_scheme scheme; /* nip04/nip44 methods */
	bool encrypt;		   /* nip04/nip44 methods: encrypt (else decrypt) */
};

static int op_parse_connect(struct signer_op *op, const struct signer_request *r, char *err,
			    size_t errlen);
static int op_parse_sign(struct signer_op *op, const struct signer_request *r, char *err,
			 size_t errlen);
static int op_parse_crypt(struct signer_op *op, const struct signer_request *r, char *err,
			  size_t errlen);
static int op_set(struct signer_result *out, const char *s, size_t len);
static size_t op_utf8_seq(const uint8_t *s, size_t avail);
static bool op_utf8_valid(const uint8_t *s, size_t len);
static int op_run_pubkey(struct signer_result *out, const struct signer_op *op,
			 const struct signer_ctx *ctx, char *err, size_t errlen);
static int op_run_ping(struct signer_result *out, const struct signer_op *op,
		       const struct signer_ctx *ctx, char *err, size_t errlen);
static int op_run_sign(struct signer_result *out, const struct signer_op *op,
		       const struct signer_ctx *ctx, char *err, size_t errlen);
static int op_run_crypt(struct signer_result *out, const struct signer_op *op,
			const struct signer_ctx *ctx, char *err, size_t errlen);
static int op_run_relays(struct signer_result *out, const struct signer_op *op,
			 const struct signer_ctx *ctx, char *err, size_t errlen);

/* The methods, indexed by enum signer_method. */
static const struct op_method op_methods[SIGNER_METHOD_COUNT_] = {
	[SIGNER_CONNECT] = {.parse = op_parse_connect},
	[SIGNER_GET_PUBLIC_KEY] = {.run = op_run_pubkey},
	[SIGNER_SIGN_EVENT] = {.parse = op_parse_sign, .run = op_run_sign},
	[SIGNER_PING] = {.run = op_run_ping},
	[SIGNER_NIP44_ENCRYPT] = {.parse = op_parse_crypt,
				  .run = op_run_crypt,
				  .scheme = SIGNER_NIP44,
				  .encrypt = true},
	[SIGNER_NIP44_DECRYPT] = {.parse = op_parse_crypt,
				  .run = op_run_crypt,
				  .scheme = SIGNER_NIP44},
	[SIGNER_NIP04_ENCRYPT] = {.parse = op_parse_crypt,
				  .run = op_run_crypt,
				  .scheme = SIGNER_NIP04,
				  .encrypt = true},
	[SIGNER_NIP04_DECRYPT] = {.parse = op_parse_crypt,
				  .run = op_run_crypt,
				  .scheme = SIGNER_NIP04},
	[SIGNER_SWITCH_RELAYS] = {.run = op_run_relays},
	[SIGNER_LOGOUT] = {0},
};

/* connect: [bunker_pubkey (may be "" or absent), secret?, perms?, metadata?]; never fails. */
static int op_parse_connect(struct signer_op *op, const struct signer_request *r, char *err,
			    size_t errlen)
{
	if (r->nparams > 1 && r->params[1].len > 0)
		op->secret = r->params[1].s;
	if (r->nparams > 2 && r->params[2].len > 0)
		op->perms = r->params[2].s;
	return 0;
}

/* sign_event: [template]; the template parsed, its kind and size kept. */
static int op_parse_sign(struct signer_op *op, const struct signer_request *r, char *err,
			 size_t errlen)
{
	char why[192];

	if (r->nparams < 1)
		return errbuf_fail(err, errlen,
				   "sign_event: params[0] (the event template) is missing");
	if (nostr_event_parse(&op->tmpl, r->params[0].s, r->params[0].len, NOSTR_EVENT_TEMPLATE,
			      NULL, why, sizeof(why)) != 0)
		return errbuf_fail(err, errlen,
				   "sign_event: params[0] is not an event template: %s", why);
	op->kind = op->tmpl.kind;
	op->size = r->params[0].len;
	return 0;
}

/* nip04/nip44 encrypt/decrypt: [third_party_pubkey, text]. */
static int op_parse_crypt(struct signer_op *op, const struct signer_request *r, char *err,
			  size_t errlen)
{
	const char *name = signer_method_name(r->method);

	if (r->nparams != 2)
		return errbuf_fail(err, errlen, "%s: params must be [third_party_pubkey, text]",
				   name);
	if (nostr_pubkey_from_hex(&op->peer, r->params[0].s, r->params[0].len) != 0)
		return errbuf_fail(err, errlen, "%s: params[0] is not a public key", name);
	if (r->method == SIGNER_NIP44_ENCRYPT && r->params[1].len == 0)
		return errbuf_fail(err, errlen,
				   "%s: the plaintext is empty (NIP-44 needs 1 byte or more)",
				   name);
	op->text = &r->params[1];
	op->size = r->params[1].len;
	return 0;
}

/* Parse r's params into *op. */
int signer_op_parse(struct signer_op *op, const struct signer_request *r, char *err, size_t errlen)
{
	memset(op, 0, sizeof(*op));
	nostr_event_init(&op->tmpl);
	op->method = r->method;
	op->kind = -1;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (!r->method_known || (unsigned)r->method >= SIGNER_METHOD_COUNT_)
		return errbuf_fail(err, errlen, "unknown method \"%s\"", r->method_name);
	if (op_methods[r->method].parse == NULL)
		return 0;
	return op_methods[r->method].parse(op, r, err, errlen);
}

/* Free what op owns. */
void signer_op_clear(struct signer_op *op)
{
	nostr_event_clear(&op->tmpl);
	op->text = NULL;
	op->secret = NULL;
	op->perms = NULL;
}

/* Set out's string to a copy of s[0..len); 0 or -1 (out of memory). */
static int op_set(struct signer_result *out, const char *s, size_t len)
{
	out->s = malloc(len + 1);
	if (out->s == NULL)
		return -1;
	memcpy(out->s, s, len);
	out->s[len] = '\0';
	out->len = len;
	return 0;
}

/* get_public_key: the user's public key in hex. */
static int op_run_pubkey(struct signer_result *out, const struct signer_op *op,
			 const struct signer_ctx *ctx, char *err, size_t errlen)
{
	char hex[65];

	nostr_pubkey_to_hex(hex, &ctx->user->pub);
	if (op_set(out, hex, 64) != 0)
		return errbuf_fail(err, errlen, "get_public_key: out of memory");
	return 0;
}

/* ping: "pong". */
static int op_run_ping(struct signer_result *out, const struct signer_op *op,
		       const struct signer_ctx *ctx, char *err, size_t errlen)
{
	if (op_set(out, "pong", 4) != 0)
		return errbuf_fail(err, errlen, "ping: out of memory");
	return 0;
}

/*
 * sign_event: sign a shallow copy of the template (it borrows the tags and
 * content) as the user, created_at defaulting to ctx->now; the result is
 * the signed event's JSON.
 */
static int op_run_sign(struct signer_result *out, const struct signer_op *op,
		       const struct signer_ctx *ctx, char *err, size_t errlen)
{
	struct nostr_event ev = op->tmpl;
	char why[128];

	if (!ev.has_created_at) {
		ev.created_at = ctx->now;
		ev.has_created_at = 1;
	}
	if (nostr_event_sign(&ev, ctx->user, why, sizeof(why)) != 0)
		return errbuf_fail(err, errlen, "sign_event: %s", why);
	if (nostr_event_to_json(&out->s, &out->len, &ev) != 0)
		return errbuf_fail(err, errlen, "sign_event: out of memory");
	hex_encode(out->event_id, ev.id, 32);
	return 0;
}

/* The length of the valid UTF-8 sequence at s[0..avail) (shortest form, no surrogate), or 0. */
static size_t op_utf8_seq(const uint8_t *s, size_t avail)
{
	size_t len = s[0] < 0x80	     ? 1
		     : (s[0] & 0xe0) == 0xc0 ? 2
		     : (s[0] & 0xf0) == 0xe0 ? 3
		     : (s[0] & 0xf8) == 0xf0 ? 4
					     : 0;
	static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
	uint32_t cp = s[0] & (0x7f >> (len > 1 ? len : 0));

	if (len == 0 || len > avail)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Whether s[0..len) is valid UTF-8 (a JSON reply can carry nothing else). */
static bool op_utf8_valid(const uint8_t *s, size_t len)
{
	for (size_t i = 0, n; i < len; i += n)
		if ((n = op_utf8_seq(s + i, len - i)) == 0)
			return false;
	return true;
}

/* nip04/nip44 encrypt/decrypt as the user with the third party op->peer. */
static int op_run_crypt(struct signer_result *out, const struct signer_op *op,
			const struct signer_ctx *ctx, char *err, size_t errlen)
{
	const struct op_method *m = &op_methods[op->method];
	const char *name = signer_method_name(op->method);
	char why[128];
	uint8_t *pt = NULL;
	int rc;

	if (op->text == NULL)
		return errbuf_fail(err, errlen, "%s: params were not parsed", name);
	if (m->encrypt)
		rc = signer_encrypt(&out->s, &out->len, m->scheme, ctx->user, &op->peer,
				    (const uint8_t *)op->text->s, op->text->len, ctx->cache, why,
				    sizeof(why));
	else
		rc = signer_decrypt(&pt, &out->len, m->scheme, ctx->user, &op->peer, op->text->s,
				    op->text->len, ctx->cache, why, sizeof(why));
	if (rc != 0)
		return errbuf_fail(err, errlen, "%s: %s", name, why);
	if (!m->encrypt)
		out->s = (char *)pt;
	if (!m->encrypt && !op_utf8_valid(pt, out->len))
		return errbuf_fail(err, errlen, "%s: the plaintext is not valid UTF-8", name);
	return 0;
}

/* switch_relays: ctx->relays as a JSON array text, or "null" when there are none. */
static int op_run_relays(struct signer_result *out, const struct signer_op *op,
			 const struct signer_ctx *ctx, char *err, size_t errlen)
{
	struct jstr_buf b = {0};

	if (ctx->nrelays == 0) {
		if (op_set(out, "null", 4) != 0)
			return errbuf_fail(err, errlen, "switch_relays: out of memory");
		return 0;
	}
	jstr_buf_put(&b, "[", 1);
	for (size_t i = 0; i < ctx->nrelays; i++) {
		if (i > 0)
			jstr_buf_put(&b, ",", 1);
		jstr_buf_string(&b, ctx->relays[i], strlen(ctx->relays[i]));
	}
	jstr_buf_put(&b, "]", 1);
	if (jstr_buf_finish(&b, &out->s, &out->len) != 0)
		return errbuf_fail(err, errlen, "switch_relays: out of memory");
	return 0;
}

/* Run a pure method. */
int signer_op_run(struct signer_result *out, const struct signer_op *op,
		  const struct signer_ctx *ctx, char *err, size_t errlen)
{
	int rc;

	*out = (struct signer_result){0};
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((unsigned)op->method >= SIGNER_METHOD_COUNT_)
		return errbuf_fail(err, errlen, "unknown method");
	if (op_methods[op->method].run == NULL)
		return errbuf_fail(err, errlen, "%s is not a pure method",
				   signer_method_name(op->method));
	rc = op_methods[op->method].run(out, op, ctx, err, errlen);
	if (rc != 0)
		signer_result_clear(out);
	return rc;
}

/* Wipe and free a result. */
void signer_result_clear(struct signer_result *res)
{
	wipe_free(res->s, res->len);
	res->s = NULL;
	res->len = 0;
	res->event_id[0] = '\0';
}
