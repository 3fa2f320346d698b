/*
 * signer_request.c - the pure steps around a NIP-46 request: scheme,
 * decryption, JSON-RPC parsing, the reply and its signed event.
 *
 * The request is raw JSON text, checked whole by the strict lexer of the
 * nostr core before any member is read; strings are decoded at full
 * length (an escaped NUL survives), every other param is kept as its raw
 * JSON text. Buffers that may hold a plaintext are wiped when freed.
 */
#include "signer/signer_request.h"

#include "core/errbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nostr/hex.h"
#include "nostr/jstr.h"
#include "nostr/nip04.h"
#include "nostr/nip44.h"
#include "nostr/wipe.h"

/* Nesting allowed in a request (the event parser allows the same). */
#define REQ_DEPTH 16
/* Largest param, decoded or raw. */
#define REQ_PARAM_MAX (1024 * 1024)

static int req_is_b64(char c);
static size_t req_b64_run(const char *s, size_t len);
static enum nip44_err req_nip44_key(struct nip44_key *k, const struct nostr_keypair *kp,
				    const struct nostr_pubkey *peer, struct nip44_cache *cache);
static int req_nip04_key(struct nip04_key *k, const struct nostr_keypair *kp,
			 const struct nostr_pubkey *peer);
static int req_is_object(const char *json, size_t len);
static int req_id(struct signer_request *r, const char *json, size_t len);
static void req_method_name(struct signer_request *r, const char *s, size_t n);
static int req_method(struct signer_request *r, const char *json, size_t len, char *err,
		      size_t errlen);
static int req_param(struct nostr_str *p, const char *v, size_t vlen);
static int req_params(struct signer_request *r, const char *json, size_t len, char *err,
		      size_t errlen);
static void req_params_free(struct signer_request *r);

/* Whether c belongs to the base64 alphabet (padding included). */
static int req_is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '=';
}

/* How many leading bytes of s[0..len) are base64 characters. */
static size_t req_b64_run(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && req_is_b64(s[n]))
		n++;
	return n;
}

/* NIP-04 when shaped "base64?iv=base64", else NIP-44. */
enum signer_scheme signer_scheme_of(const char *content, size_t len)
{
	size_t n = req_b64_run(content, len), rest;

	if (n == 0 || len - n <= 4 || memcmp(content + n, "?iv=", 4) != 0)
		return SIGNER_NIP44;
	rest = len - n - 4;
	return req_b64_run(content + n + 4, rest) == rest ? SIGNER_NIP04 : SIGNER_NIP44;
}

/* The name of a scheme. */
const char *signer_scheme_name(enum signer_scheme s)
{
	return s == SIGNER_NIP04 ? "nip04" : "nip44";
}

/* The NIP-44 conversation key of kp and peer, from cache when given; wipe it after use. */
static enum nip44_err req_nip44_key(struct nip44_key *k, const struct nostr_keypair *kp,
				    const struct nostr_pubkey *peer, struct nip44_cache *cache)
{
	struct nostr_seckey sk;
	enum nip44_err e;

	if (cache != NULL)
		return nip44_cache_get(cache, k, kp, peer);
	nostr_keypair_seckey(&sk, kp);
	e = nip44_conversation_key(k, &sk, peer);
	nostr_seckey_wipe(&sk);
	return e;
}

/* The NIP-04 shared key of kp and peer; wipe it after use. 0 or -1. */
static int req_nip04_key(struct nip04_key *k, const struct nostr_keypair *kp,
			 const struct nostr_pubkey *peer)
{
	struct nostr_seckey sk;
	int rc;

	nostr_keypair_seckey(&sk, kp);
	rc = nip04_shared_key(k, &sk, peer);
	nostr_seckey_wipe(&sk);
	return rc;
}

/* Decrypt content from client to bunker. */
int signer_decrypt(uint8_t **out, size_t *outlen, enum signer_scheme scheme,
		   const struct nostr_keypair *bunker, const struct nostr_pubkey *client,
		   const char *content, size_t len, struct nip44_cache *cache, char *err,
		   size_t errlen)
{
	struct nip44_key k44 = {{0}};
	struct nip04_key k04 = {{0}};
	enum nip44_err e;
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	if (scheme == SIGNER_NIP04) {
		if (req_nip04_key(&k04, bunker, client) != 0)
			errbuf_fail(err, errlen, "nip04: invalid key for ECDH");
		else
			rc = nip04_decrypt(out, outlen, &k04, content, len, err, errlen);
		nip04_key_wipe(&k04);
		return rc;
	}
	e = req_nip44_key(&k44, bunker, client, cache);
	if (e == NIP44_OK)
		e = nip44_decrypt(out, outlen, &k44, content, len);
	nip44_key_wipe(&k44);
	if (e != NIP44_OK)
		return errbuf_fail(err, errlen, "nip44: %s", nip44_strerror(e));
	return 0;
}

/* Encrypt pt from bunker to client. */
int signer_encrypt(char **out, size_t *outlen, enum signer_scheme scheme,
		   const struct nostr_keypair *bunker, const struct nostr_pubkey *client,
		   const uint8_t *pt, size_t len, struct nip44_cache *cache, char *err,
		   size_t errlen)
{
	struct nip44_key k44 = {{0}};
	struct nip04_key k04 = {{0}};
	enum nip44_err e;
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	if (scheme == SIGNER_NIP04) {
		if (req_nip04_key(&k04, bunker, client) != 0)
			errbuf_fail(err, errlen, "nip04: invalid key for ECDH");
		else
			rc = nip04_encrypt(out, outlen, &k04, pt, len, err, errlen);
		nip04_key_wipe(&k04);
		return rc;
	}
	e = req_nip44_key(&k44, bunker, client, cache);
	if (e == NIP44_OK)
		e = nip44_encrypt(out, outlen, &k44, pt, len);
	nip44_key_wipe(&k44);
	if (e != NIP44_OK)
		return errbuf_fail(err, errlen, "nip44: %s", nip44_strerror(e));
	return 0;
}

/* Whether json[0..len) is one well-formed JSON object and nothing else (1) or not (0). */
static int req_is_object(const char *json, size_t len)
{
	struct jstr_lex lx = {.p = json, .end = json + len};

	if (jstr_peek(&lx) != '{')
		return 0;
	return jstr_skip(&lx, REQ_DEPTH) == 0 && jstr_at_end(&lx);
}

/* Set r->id from the "id" member: a string of 1..SIGNER_ID_MAX bytes, no control byte. */
static int req_id(struct signer_request *r, const char *json, size_t len)
{
	const char *v;
	size_t vlen, n;
	char *s;
	int rc = -1;

	if (nostr_json_object_member(&v, &vlen, json, len, "id") != 0 ||
	    nostr_json_string(&s, &n, v, vlen, SIGNER_ID_MAX) != 0)
		return -1;
	if (n == 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			goto fail;
	memcpy(r->id, s, n);
	r->id[n] = '\0';
	r->has_id = true;
	rc = 0;
fail:
	free(s);
	return rc;
}

/*
 * Keep the first SIGNER_METHOD_NAME_MAX bytes of the method name s[0..n)
 * for messages and logs: printable ASCII, any other byte (and '"', '\\')
 * shown as '?'.
 */
static void req_method_name(struct signer_request *r, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < SIGNER_METHOD_NAME_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		r->method_name[i] = (c < 0x20 || c > 0x7e || c == '"' || c == '\\') ? '?' : (char)c;
	}
	r->method_name[i] = '\0';
}

/* Set r's method from the "method" member; 0, or -1 with a client-facing message. */
static int req_method(struct signer_request *r, const char *json, size_t len, char *err,
		      size_t errlen)
{
	const char *v;
	size_t vlen, n;
	char *s;

	if (nostr_json_object_member(&v, &vlen, json, len, "method") != 0 ||
	    nostr_json_string(&s, &n, v, vlen, len) != 0)
		return errbuf_fail(err, errlen, "method must be a string");
	req_method_name(r, s, n);
	r->method_known = signer_method_parse(&r->method, s, n) == 0;
	free(s);
	if (!r->method_known) {
		r->method = SIGNER_METHOD_COUNT_;
		return errbuf_fail(err, errlen, "unknown method \"%s\"", r->method_name);
	}
	return 0;
}

/* One param from its JSON text v[0..vlen): a string decoded, any other value raw. */
static int req_param(struct nostr_str *p, const char *v, size_t vlen)
{
	if (vlen > 0 && v[0] == '"')
		return nostr_json_string(&p->s, &p->len, v, vlen, REQ_PARAM_MAX);
	if (vlen > REQ_PARAM_MAX || (p->s = malloc(vlen + 1)) == NULL)
		return -1;
	memcpy(p->s, v, vlen);
	p->s[vlen] = '\0';
	p->len = vlen;
	return 0;
}

/* Fill r->params from the "params" member (absent: none); 0, or -1 with a message. */
static int req_params(struct signer_request *r, const char *json, size_t len, char *err,
		      size_t errlen)
{
	struct jstr_lex lx;
	const char *v;
	size_t vlen;

	if (nostr_json_object_member(&v, &vlen, json, len, "params") != 0)
		return 0;
	lx = (struct jstr_lex){.p = v, .end = v + vlen};
	if (jstr_expect(&lx, '[') != 0)
		return errbuf_fail(err, errlen, "params must be an array");
	if (jstr_peek(&lx) == ']')
		return 0;
	do {
		const char *start = (jstr_peek(&lx), lx.p);

		if (r->nparams >= SIGNER_PARAMS_MAX)
			return errbuf_fail(err, errlen, "too many params (at most %d)",
					   SIGNER_PARAMS_MAX);
		if (jstr_skip(&lx, REQ_DEPTH) != 0)
			return errbuf_fail(err, errlen, "params must be an array");
		if (req_param(&r->params[r->nparams], start, (size_t)(lx.p - start)) != 0)
			return errbuf_fail(err, errlen, "params[%zu] is longer than %d bytes",
					   r->nparams, REQ_PARAM_MAX);
		r->nparams++;
	} while (jstr_peek(&lx) == ',' && jstr_expect(&lx, ',') == 0);
	return 0;
}

/* Wipe and free the params. */
static void req_params_free(struct signer_request *r)
{
	for (size_t i = 0; i < r->nparams; i++) {
		wipe_free(r->params[i].s, r->params[i].len);
		r->params[i] = (struct nostr_str){0};
	}
	r->nparams = 0;
}

/* Parse a decrypted request. */
enum signer_parse signer_request_parse(struct signer_request *r, const char *json, size_t len,
				       char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->method = SIGNER_METHOD_COUNT_;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (!req_is_object(json, len) || req_id(r, json, len) != 0)
		return SIGNER_PARSE_NO_ID;
	if (req_method(r, json, len, err, errlen) != 0 ||
	    req_params(r, json, len, err, errlen) != 0) {
		req_params_free(r);
		return SIGNER_PARSE_BAD;
	}
	return SIGNER_PARSE_OK;
}

/* Parse an HTTP API call: as a request, the id optional. */
enum signer_parse signer_request_parse_call(struct signer_request *r, const char *json, size_t len,
					    char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->method = SIGNER_METHOD_COUNT_;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (!req_is_object(json, len)) {
		errbuf_fail(err, errlen, "the body must be one JSON object");
		return SIGNER_PARSE_BAD;
	}
	(void)req_id(r, json, len); /* optional */
	if (req_method(r, json, len, err, errlen) != 0 ||
	    req_params(r, json, len, err, errlen) != 0) {
		req_params_free(r);
		return SIGNER_PARSE_BAD;
	}
	return SIGNER_PARSE_OK;
}

/* Wipe and free what r owns. */
void signer_request_clear(struct signer_request *r)
{
	req_params_free(r);
}

/* The reply JSON. */
int signer_reply_json(char **out, size_t *outlen, const char *id, const char *result, size_t rlen,
		      const char *error)
{
	struct jstr_buf b = {0};

	*out = NULL;
	*outlen = 0;
	jstr_buf_puts(&b, "{\"id\":");
	jstr_buf_string(&b, id, strlen(id));
	jstr_buf_puts(&b, ",\"result\":");
	if (error != NULL || result == NULL)
		jstr_buf_string(&b, "", 0);
	else
		jstr_buf_string(&b, result, rlen);
	if (error != NULL) {
		jstr_buf_puts(&b, ",\"error\":");
		jstr_buf_string(&b, error, strlen(error));
	}
	jstr_buf_puts(&b, "}");
	return jstr_buf_finish(&b, out, outlen);
}

/* The signed kind-24133 reply event. */
int signer_reply_event(char **json, size_t *jsonlen, char id_hex[65],
		       const struct nostr_keypair *bunker, const struct nostr_pubkey *client,
		       const char *content, size_t clen, int64_t now, char *err, size_t errlen)
{
	struct nostr_event ev;
	char hex[65];
	const char *const ptag[] = {"p", hex};
	int rc = -1;

	*json = NULL;
	*jsonlen = 0;
	id_hex[0] = '\0';
	nostr_event_init(&ev);
	ev.kind = SIGNER_KIND;
	ev.created_at = now;
	ev.has_created_at = 1;
	nostr_pubkey_to_hex(hex, client);
	if (nostr_event_set_content(&ev, content, clen) != 0 ||
	    nostr_event_add_tag(&ev, ptag, 2) != 0) {
		errbuf_fail(err, errlen, "reply event: out of memory");
		goto fail;
	}
	if (nostr_event_sign(&ev, bunker, err, errlen) != 0)
		goto fail;
	if (nostr_event_to_json(json, jsonlen, &ev) != 0) {
		errbuf_fail(err, errlen, "reply event: out of memory");
		goto fail;
	}
	hex_encode(id_hex, ev.id, 32);
	rc = 0;
fail:
	nostr_event_clear(&ev);
	return rc;
}
