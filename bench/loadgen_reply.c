/*
 * loadgen_reply.c - the load generator's replies: each kind-24133 event
 * for a client (p tag) from its bunker key is decrypted (NIP-44) and its
 * {"id","result","error"} filed under the request of that id. A setup
 * reply moves the client on (connect acknowledged, user key learned); a
 * load reply counts as an error reply, a valid result (the template sent,
 * signed by the user's key, signature verified) or an invalid one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"
#include "nostr/event.h"
#include "nostr/wipe.h"

static void lg_error_note(struct loadgen *lg, const char *text);
static void lg_invalid(struct loadgen *lg, const char *why);
static int lg_result_check(const struct loadgen *lg, const struct lg_client *c, size_t i,
			   const char *result, size_t len);
static void lg_load_reply(struct loadgen *lg, struct lg_client *c, const char *num,
			  const char *result, size_t rlen, const char *error);
static void lg_setup_reply(struct loadgen *lg, struct lg_client *c, const char *what,
			   const char *result, const char *error);
static char *lg_member(const char *json, size_t len, const char *key, size_t *outlen);
static void lg_reply(struct loadgen *lg, struct lg_client *c, const char *pt, size_t len);
static struct lg_client *lg_client_of(struct loadgen *lg, const struct nostr_event *ev);

/* Count one error reply under its text (the last slot gathers the texts that do not fit). */
static void lg_error_note(struct loadgen *lg, const char *text)
{
	size_t i;

	for (i = 0; i < lg->nerrors; i++)
		if (strcmp(lg->errors[i].text, text) == 0)
			break;
	if (i == LG_MAX_ERRORS) {
		i = LG_MAX_ERRORS - 1;
	} else if (i == lg->nerrors) {
		if (i == LG_MAX_ERRORS - 1)
			text = "(other error texts)";
		if ((lg->errors[i].text = strdup(text)) == NULL)
			return;
		lg->nerrors++;
	}
	lg->errors[i].count++;
}

/* Count a reply failing verification; say why the first time. */
static void lg_invalid(struct loadgen *lg, const char *why)
{
	lg->invalid++;
	if (!lg->told_invalid)
		fprintf(stderr, "loadgen: invalid reply: %s\n", why);
	lg->told_invalid = true;
}

/* Whether result is request i's template signed by c's user: 0, or -1. */
static int lg_result_check(const struct loadgen *lg, const struct lg_client *c, size_t i,
			   const char *result, size_t len)
{
	const struct lg_req *q = &lg->reqs[i];
	struct nostr_event ev;
	const struct nostr_tag *t;
	char content[64], err[128];
	size_t n = lg_content(lg, i, content, sizeof(content));
	int rc = -1;

	if (nostr_event_parse(&ev, result, len, NOSTR_EVENT_SIGNED, NULL, err, sizeof(err)) != 0)
		return -1;
	t = ev.ntags == 1 ? &ev.tags[0] : NULL;
	if (nostr_event_verify(&ev, err, sizeof(err)) == 0 &&
	    nostr_pubkey_equal(&ev.pubkey, &c->user) && ev.kind == LG_TEMPLATE_KIND &&
	    ev.created_at == q->created_at && ev.content.len == n &&
	    memcmp(ev.content.s, content, n) == 0 && t != NULL && t->n == 2 &&
	    strcmp(t->items[0].s, "t") == 0 && strcmp(t->items[1].s, "loadgen") == 0)
		rc = 0;
	nostr_event_clear(&ev);
	return rc;
}

/* A reply to load request number num (decimal text) from client c. */
static void lg_load_reply(struct loadgen *lg, struct lg_client *c, const char *num,
			  const char *result, size_t rlen, const char *error)
{
	char *end;
	unsigned long long i = strtoull(num, &end, 10);
	struct lg_req *q = &lg->reqs[i < lg->nsent ? i : 0];

	if (*num < '0' || *num > '9' || *end != '\0' || i >= lg->nsent ||
	    &lg->clients[q->client] != c) {
		lg_invalid(lg, "a reply id this client never sent");
		return;
	}
	if (q->reply_us == 0)
		q->reply_us = lg_now_us();
	lg_req_close(q);
	if (error != NULL && error[0] != '\0') {
		q->errors += q->errors < UINT16_MAX;
		lg_error_note(lg, error);
	} else if (result != NULL && lg_result_check(lg, c, (size_t)i, result, rlen) == 0) {
		q->ok += q->ok < UINT16_MAX;
	} else {
		q->invalid += q->invalid < UINT16_MAX;
		lg_invalid(lg, "the result is not the template signed by the user's key");
	}
}

/* A reply to a setup request (what: "c" connect, "k" get_public_key, then the client index). */
static void lg_setup_reply(struct loadgen *lg, struct lg_client *c, const char *what,
			   const char *result, const char *error)
{
	size_t k = (size_t)(c - lg->clients);
	bool connect = what[0] == 'c';

	if ((connect ? LG_CLIENT_CONNECT : LG_CLIENT_KEY) != c->state)
		return; /* a late copy */
	if (error != NULL && error[0] != '\0') {
		if (!c->told)
			fprintf(stderr, "loadgen: client %zu: %s: %s\n", k,
				connect ? "connect" : "get_public_key", error);
		c->told = true;
	} else if (connect && result != NULL && strcmp(result, "ack") == 0) {
		c->state = LG_CLIENT_KEY;
		c->asked_us = 0;
	} else if (!connect && result != NULL &&
		   nostr_pubkey_from_hex(&c->user, result, strlen(result)) == 0) {
		c->state = LG_CLIENT_READY;
	}
}

/* The decoded string member key of the object json (caller wipes and frees), or NULL. */
static char *lg_member(const char *json, size_t len, const char *key, size_t *outlen)
{
	const char *v;
	size_t vlen;
	char *s;

	if (nostr_json_object_member(&v, &vlen, json, len, key) != 0 ||
	    nostr_json_string(&s, outlen, v, vlen, LG_MAX_REPLY) != 0)
		return NULL;
	return s;
}

/* A decrypted reply {"id","result","error"} to client c: file it under its request. */
static void lg_reply(struct loadgen *lg, struct lg_client *c, const char *pt, size_t len)
{
	size_t idlen = 0, rlen = 0, elen = 0, k = (size_t)(c - lg->clients);
	char *id = lg_member(pt, len, "id", &idlen);
	char *result = lg_member(pt, len, "result", &rlen);
	char *error = lg_member(pt, len, "error", &elen);
	const char *rest;

	if (id == NULL) {
		lg_invalid(lg, "no id");
		goto out;
	}
	if (idlen < 10 || memcmp(id, lg->prefix, 8) != 0 || id[8] != '-') {
		lg->foreign++; /* another run's request */
		goto out;
	}
	rest = id + 9;
	if ((rest[0] == 'c' || rest[0] == 'k') && strtoull(rest + 1, NULL, 10) == k)
		lg_setup_reply(lg, c, rest, result, error);
	else
		lg_load_reply(lg, c, rest, result, rlen, error);
out:
	wipe_free(id, idlen);
	wipe_free(result, rlen);
	wipe_free(error, elen);
}

/* The client a reply event is for (by its p tag, from that client's bunker), or NULL. */
static struct lg_client *lg_client_of(struct loadgen *lg, const struct nostr_event *ev)
{
	const struct nostr_tag *p = nostr_event_find_tag(ev, "p");

	if (p == NULL || p->n < 2 || p->items[1].len != 64)
		return NULL;
	for (size_t k = 0; k < lg->nclients; k++) /* a few hundred clients: a scan is cheap */
		if (memcmp(lg->clients[k].pub_hex, p->items[1].s, 64) == 0)
			return nostr_pubkey_equal(&ev->pubkey, &lg->clients[k].bunker)
				       ? &lg->clients[k]
				       : NULL;
	return NULL;
}

/* A verified kind-24133 event for one of the clients: decrypt it, file the reply. */
void lg_reply_on_event(void *arg, const char *sub, const struct nostr_event *ev, const char *json,
		       size_t len, const char *url)
{
	struct loadgen *lg = arg;
	struct lg_client *c = lg_client_of(lg, ev);
	uint8_t *pt = NULL;
	size_t ptlen = 0;

	(void)sub, (void)json, (void)len, (void)url;
	if (c == NULL)
		lg->foreign++;
	else if (nip44_decrypt(&pt, &ptlen, &c->ck, ev->content.s, ev->content.len) != NIP44_OK)
		lg_invalid(lg, "not NIP-44 from the bunker key");
	else
		lg_reply(lg, c, (const char *)pt, ptlen);
	wipe_free(pt, ptlen);
}
