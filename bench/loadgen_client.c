/*
 * loadgen_client.c - the load generator's clients: read from the clients
 * file (one bunker URI and client secret key a line), and what they send:
 * NIP-46 requests encrypted with NIP-44 to the authorization's bunker key,
 * signed by the client's key, kind 24133, p-tagged to the bunker; the
 * setup requests (connect, get_public_key) and the sign_event requests of
 * the load, whose publish outcome is recorded per request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "loadgen.h"
#include "nostr/event.h"
#include "nostr/hex.h"
#include "nostr/uri.h"
#include "nostr/wipe.h"
#include "relay/relay_pool.h"

static int lg_relay_note(struct loadgen *lg, const char *url);
static int lg_client_init(struct loadgen *lg, struct lg_client *c, const struct nostr_uri *u,
			  const char *sk_hex);
static int lg_client_add(struct loadgen *lg, char *line);
static void lg_json_wipe(cJSON *j);
static char *lg_request_text(const char *id, const char *method, cJSON *params);
static int lg_publish(struct loadgen *lg, struct lg_client *c, const char *text,
		      const struct relay_pub_handlers *h, void *arg, char id[65]);
static char *lg_template(const struct loadgen *lg, size_t i, int64_t created_at);
static void lg_on_out(void *arg, const struct relay_pub_report *r);
static void lg_on_done(void *arg, const struct relay_pub_report *r);

/* Remember a relay URL once; 0, or -1 when there are too many. */
static int lg_relay_note(struct loadgen *lg, const char *url)
{
	for (size_t i = 0; i < lg->nrelays; i++)
		if (strcmp(lg->relays[i], url) == 0)
			return 0;
	if (lg->nrelays == LG_MAX_RELAYS || (lg->relays[lg->nrelays] = strdup(url)) == NULL)
		return -1;
	lg->nrelays++;
	return 0;
}

/* Set client c up from its URI and secret key hex; 0 or -1 (message printed). */
static int lg_client_init(struct loadgen *lg, struct lg_client *c, const struct nostr_uri *u,
			  const char *sk_hex)
{
	struct nostr_seckey sk;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	if (nostr_seckey_from_hex(&sk, sk_hex, strlen(sk_hex)) != 0 ||
	    nostr_keypair_from_seckey(&c->kp, &sk) != 0 ||
	    nip44_conversation_key(&c->ck, &sk, &u->pubkey) != NIP44_OK) {
		fprintf(stderr, "loadgen: %s: not a valid client secret key\n",
			lg->opt.clients_file);
		goto fail;
	}
	if (lg->opt.connect && !secret_is_set(&u->secret)) {
		fprintf(stderr, "loadgen: --connect: a URI has no secret\n");
		goto fail;
	}
	if (secret_set(&c->secret, secret_reveal(&u->secret), secret_len(&u->secret)) != 0)
		goto fail;
	c->bunker = u->pubkey;
	nostr_pubkey_to_hex(c->bunker_hex, &c->bunker);
	nostr_pubkey_to_hex(c->pub_hex, &c->kp.pub);
	c->state = lg->opt.connect ? LG_CLIENT_CONNECT : LG_CLIENT_KEY;
	rc = 0;
fail:
	nostr_seckey_wipe(&sk);
	return rc;
}

/* Add the client of one line "URI SECRET-HEX" (the line is modified); 0 or -1. */
static int lg_client_add(struct loadgen *lg, char *line)
{
	struct nostr_uri u;
	struct lg_client *grown;
	char err[256], *sk = strchr(line, ' ');
	int rc = -1;

	if (sk == NULL) {
		fprintf(stderr, "loadgen: expected lines \"bunker-URI client-secret-hex\"\n");
		return -1;
	}
	*sk++ = '\0';
	sk += strspn(sk, " ");
	if (nostr_uri_parse(&u, line, err, sizeof(err)) != 0) {
		fprintf(stderr, "loadgen: not a bunker:// URI: %s\n", err);
		return -1;
	}
	if (u.kind != NOSTR_URI_BUNKER) {
		fprintf(stderr, "loadgen: a nostrconnect:// URI where a bunker:// URI belongs\n");
		goto fail;
	}
	grown = wipe_realloc(lg->clients, lg->nclients * sizeof(*grown),
			     (lg->nclients + 1) * sizeof(*grown));
	if (grown == NULL)
		goto fail;
	lg->clients = grown;
	if (lg_client_init(lg, &grown[lg->nclients], &u, sk) != 0)
		goto fail;
	lg->nclients++;
	for (size_t i = 0; i < u.nrelays; i++)
		if (lg_relay_note(lg, u.relays[i]) != 0)
			goto fail;
	rc = 0;
fail:
	nostr_uri_clear(&u);
	return rc;
}

/* Read every client of the clients file; 0 or -1 (message printed). */
int lg_clients_read(struct loadgen *lg)
{
	FILE *f = fopen(lg->opt.clients_file, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (f == NULL) {
		perror(lg->opt.clients_file);
		return -1;
	}
	while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] != '\0' && line[0] != '#')
			rc = lg_client_add(lg, line);
	}
	if (line != NULL)
		OPENSSL_cleanse(line, cap);
	free(line);
	fclose(f);
	if (rc == 0 && lg->nclients == 0) {
		fprintf(stderr, "loadgen: %s: no clients\n", lg->opt.clients_file);
		rc = -1;
	}
	return rc;
}

/* Wipe every string of a cJSON tree (it may hold a connect secret). */
static void lg_json_wipe(cJSON *j)
{
	for (; j != NULL; j = j->next) {
		if (cJSON_IsString(j) && j->valuestring != NULL)
			OPENSSL_cleanse(j->valuestring, strlen(j->valuestring));
		lg_json_wipe(j->child);
	}
}

/* The request {"id","method","params"} as text (caller wipes and frees), or NULL. Takes params. */
static char *lg_request_text(const char *id, const char *method, cJSON *params)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;

	if (o == NULL || params == NULL || !cJSON_AddStringToObject(o, "id", id) ||
	    !cJSON_AddStringToObject(o, "method", method) ||
	    !cJSON_AddItemToObject(o, "params", params)) {
		lg_json_wipe(params);
		cJSON_Delete(params);
		goto out;
	}
	text = cJSON_PrintUnformatted(o);
out:
	lg_json_wipe(o);
	cJSON_Delete(o);
	return text;
}

/* Encrypt text to c's bunker, sign it as c, publish it; its event id into id. 0 or -1. */
static int lg_publish(struct loadgen *lg, struct lg_client *c, const char *text,
		      const struct relay_pub_handlers *h, void *arg, char id[65])
{
	struct nostr_event ev;
	const char *tag[2] = {"p", c->bunker_hex};
	char *ct = NULL, *json = NULL, err[128];
	size_t ctlen, len;
	int rc = -1;

	nostr_event_init(&ev);
	ev.kind = 24133;
	ev.created_at = (int64_t)time(NULL);
	ev.has_created_at = 1;
	if (nip44_encrypt(&ct, &ctlen, &c->ck, (const uint8_t *)text, strlen(text)) != NIP44_OK ||
	    nostr_event_set_content(&ev, ct, ctlen) != 0 || nostr_event_add_tag(&ev, tag, 2) != 0 ||
	    nostr_event_sign(&ev, &c->kp, err, sizeof(err)) != 0 ||
	    nostr_event_to_json(&json, &len, &ev) != 0)
		goto fail;
	hex_encode(id, ev.id, 32);
	rc = relay_pool_publish(lg->pool, json, len, id, h, arg);
fail:
	free(ct);
	free(json);
	nostr_event_clear(&ev);
	return rc;
}

/* Send client k's current setup request: connect (with the secret) or get_public_key. */
void lg_setup_send(struct loadgen *lg, size_t k)
{
	static const struct relay_pub_handlers none = {0};
	struct lg_client *c = &lg->clients[k];
	bool connect = c->state == LG_CLIENT_CONNECT;
	cJSON *params = cJSON_CreateArray();
	char rid[40], evid[65], *text;

	snprintf(rid, sizeof(rid), "%s-%c%zu", lg->prefix, connect ? 'c' : 'k', k);
	if (params != NULL && connect &&
	    (!cJSON_AddItemToArray(params, cJSON_CreateString(c->bunker_hex)) ||
	     !cJSON_AddItemToArray(params, cJSON_CreateString(secret_reveal(&c->secret))))) {
		lg_json_wipe(params);
		cJSON_Delete(params);
		params = NULL;
	}
	text = lg_request_text(rid, connect ? "connect" : "get_public_key", params);
	if (text == NULL || lg_publish(lg, c, text, &none, NULL, evid) != 0)
		fprintf(stderr, "loadgen: client %zu: setup request not sent\n", k);
	wipe_free_str(text);
	c->asked_us = lg_now_us();
}

/*
 * The content of request i's template into buf; its length. No "#word" in
 * it: some bunkers (NDK's) add a "t" tag for every hashtag of the content.
 */
size_t lg_content(const struct loadgen *lg, size_t i, char *buf, size_t len)
{
	int n = snprintf(buf, len, "loadgen %s n%zu", lg->prefix, i);

	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

/* Request i's event template as JSON text (caller frees), or NULL. */
static char *lg_template(const struct loadgen *lg, size_t i, int64_t created_at)
{
	static const char *const tag[] = {"t", "loadgen"};
	cJSON *t = cJSON_CreateObject(), *tags = cJSON_CreateArray();
	char content[64], *text = NULL;

	lg_content(lg, i, content, sizeof(content));
	if (t == NULL || tags == NULL || !cJSON_AddItemToObject(t, "tags", tags)) {
		cJSON_Delete(tags);
		goto out;
	}
	if (cJSON_AddNumberToObject(t, "kind", LG_TEMPLATE_KIND) &&
	    cJSON_AddStringToObject(t, "content", content) &&
	    cJSON_AddItemToArray(tags, cJSON_CreateStringArray(tag, 2)) &&
	    cJSON_AddNumberToObject(t, "created_at", (double)created_at))
		text = cJSON_PrintUnformatted(t);
out:
	cJSON_Delete(t);
	return text;
}

/* Send the next sign_event request, from the next client in turn. */
void lg_send_one(struct loadgen *lg)
{
	static const struct relay_pub_handlers h = {.on_out = lg_on_out, .on_done = lg_on_done};
	size_t i = lg->nsent++;
	struct lg_req *q = &lg->reqs[i];
	cJSON *params = cJSON_CreateArray();
	char rid[40], *tpl, *text = NULL;

	*q = (struct lg_req){.lg = lg,
			     .client = (uint32_t)(i % lg->nclients),
			     .segment = lg->segment,
			     .created_at = (int64_t)time(NULL)};
	snprintf(rid, sizeof(rid), "%s-%zu", lg->prefix, i);
	tpl = lg_template(lg, i, q->created_at);
	if (tpl != NULL && params != NULL && cJSON_AddItemToArray(params, cJSON_CreateString(tpl)))
		text = lg_request_text(rid, "sign_event", params); /* takes params */
	else
		cJSON_Delete(params);
	lg->open++;
	q->sent_us = lg_now_us();
	if (text == NULL ||
	    lg_publish(lg, &lg->clients[q->client], text, &h, q, q->event_id) != 0) {
		q->pub = LG_PUB_REFUSED;
		lg_req_close(q);
	}
	free(tpl);
	wipe_free_str(text);
}

/* Nothing more is awaited for q: a reply came, or no relay accepted it. */
void lg_req_close(struct lg_req *q)
{
	if (!q->closed) {
		q->closed = 1;
		q->lg->open--;
	}
}

/* A relay accepted request q. */
static void lg_on_out(void *arg, const struct relay_pub_report *r)
{
	struct lg_req *q = arg;

	(void)r;
	q->pub = LG_PUB_ACCEPTED;
	q->out_us = lg_now_us();
}

/* Every relay answered request q: without an acceptance, no reply is awaited. */
static void lg_on_done(void *arg, const struct relay_pub_report *r)
{
	struct lg_req *q = arg;

	if (r->accepted == 0) {
		q->pub = LG_PUB_REFUSED;
		lg_req_close(q);
	}
}
