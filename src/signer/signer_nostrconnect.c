/*
 * signer_nostrconnect.c - the connect reply of the client-initiated flow.
 *
 * `keycastd authz accept KEY nostrconnect://...` stores an authorization
 * already bound to the client, with the client's secret sealed in the
 * database. Every replica sees it in its serving set; once one of the
 * authorization's relays is connected, a replica claims the right to send
 * the reply (db_store_connect_reply_claim: exactly one wins), publishes
 * {"id","result":<secret>} NIP-44 encrypted from the bunker key to the
 * client, and, if no relay accepted it, releases the claim so it is sent
 * again at the next poll.
 */
#include "core/log.h"
#include "core/secret.h"
#include "db/db_store.h"
#include "nostr/hex.h"
#include "nostr/wipe.h"
#include "relay/relay_pool.h"
#include "signer/signer_int.h"
#include "signer/signer_serving.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One connect reply being sent. */
struct signer_ack {
	struct signer *s; /* NULL once orphaned */
	int64_t authz_id;
	struct nostr_keypair bunker; /* secret copy: wiped */
	struct nostr_pubkey client;
	struct secret reply; /* the client's secret */
	bool waiting;	     /* a store callback is due */
	bool delivered;	     /* a relay accepted it */
};

static bool signer_ack_relay_up(const struct signer *s, const struct db_serving_authz *row);
static bool signer_ack_sending(const struct signer *s, int64_t authz_id);
static void signer_ack_start(struct signer *s, const struct signer_authz *a);
static void signer_ack_on_claim(void *arg, int result, const char *error);
static int signer_ack_publish(struct signer_ack *k);
static void signer_ack_on_out(void *arg, const struct relay_pub_report *r);
static void signer_ack_on_done(void *arg, const struct relay_pub_report *r);
static void signer_ack_release(struct signer_ack *k);
static void signer_ack_on_released(void *arg, int result, const char *error);
static void signer_ack_free(struct signer_ack *k);

/* Start sending every pending connect reply whose relays are up. */
void signer_send_acks(struct signer *s)
{
	for (size_t i = 0; s->accepting && s->serving != NULL && i < s->serving->nauthz; i++) {
		const struct signer_authz *a = &s->serving->authz[i];

		if (!secret_is_set(&a->row->connect_reply) || a->row->revoked ||
		    signer_ack_sending(s, a->row->id) || !signer_ack_relay_up(s, a->row))
			continue;
		signer_ack_start(s, a);
	}
}

/* Whether one of the authorization's own relays is connected. */
static bool signer_ack_relay_up(const struct signer *s, const struct db_serving_authz *row)
{
	for (size_t i = 0; i < relay_pool_count(s->pool); i++) {
		struct relay_stats st;

		relay_pool_stats(s->pool, i, &st);
		for (size_t k = 0; st.state == RELAY_CONNECTED && k < row->nrelays; k++)
			if (strcmp(st.url, row->relays[k]) == 0)
				return true;
	}
	return false;
}

/* Whether a reply for authz_id is being sent. */
static bool signer_ack_sending(const struct signer *s, int64_t authz_id)
{
	for (size_t i = 0; i < s->nacks; i++)
		if (s->acks[i]->authz_id == authz_id)
			return true;
	return false;
}

/* Claim the reply of authorization a, then send it. */
static void signer_ack_start(struct signer *s, const struct signer_authz *a)
{
	struct signer_ack **v = realloc(s->acks, (s->nacks + 1) * sizeof(*v));
	struct signer_ack *k = calloc(1, sizeof(*k));
	const struct secret *sec = &a->row->connect_reply;

	if (v != NULL)
		s->acks = v;
	if (v == NULL || k == NULL ||
	    secret_set(&k->reply, secret_reveal(sec), secret_len(sec)) != 0) {
		free(k);
		return; /* tried again at the next poll */
	}
	k->s = s;
	k->authz_id = a->row->id;
	k->bunker = a->bunker;
	k->client = a->client;
	s->acks[s->nacks++] = k;
	k->waiting = db_store_connect_reply_claim(s->cfg.store, k->authz_id, signer_ack_on_claim,
						  k) == 0;
	if (!k->waiting)
		signer_ack_free(k);
}

/* The claim is settled: the winner sends the reply (or gives the claim back). */
static void signer_ack_on_claim(void *arg, int result, const char *error)
{
	struct signer_ack *k = arg;

	k->waiting = false;
	if (k->s != NULL && result < 0)
		log_warn("signer", "nostrconnect reply not claimed", log_int("authz", k->authz_id),
			 log_str("error", error != NULL ? error : "unknown"));
	if (k->s == NULL || result != 1 || signer_ack_publish(k) == 0) {
		if (k->s == NULL || result != 1)
			signer_ack_free(k);
		return;
	}
	signer_ack_release(k);
}

/* Publish {"id","result":secret} to the client. 0, or -1. */
static int signer_ack_publish(struct signer_ack *k)
{
	const struct relay_pub_handlers h = {.on_out = signer_ack_on_out,
					     .on_done = signer_ack_on_done};
	uint8_t rnd[8];
	char id[17], idhex[65], err[128], *json = NULL, *enc = NULL, *ev = NULL;
	size_t jlen = 0, elen, evlen;
	int rc = -1;

	if (nostr_random(rnd, sizeof(rnd)) != 0)
		return -1;
	hex_encode(id, rnd, sizeof(rnd));
	if (signer_reply_json(&json, &jlen, id, secret_reveal(&k->reply), secret_len(&k->reply),
			      NULL) == 0 &&
	    signer_encrypt(&enc, &elen, SIGNER_NIP44, &k->bunker, &k->client, (const uint8_t *)json,
			   jlen, k->s->cache, err, sizeof(err)) == 0 &&
	    signer_reply_event(&ev, &evlen, idhex, &k->bunker, &k->client, enc, elen,
			       signer_unix_now(), err, sizeof(err)) == 0)
		rc = relay_pool_publish(k->s->pool, ev, evlen, idhex, &h, k);
	wipe_free(json, jlen);
	free(enc);
	free(ev);
	return rc;
}

/* A relay accepted the reply. */
static void signer_ack_on_out(void *arg, const struct relay_pub_report *r)
{
	struct signer_ack *k = arg;

	k->delivered = true;
	log_info("signer", "nostrconnect reply sent", log_int("authz", k->authz_id),
		 log_str("event", r->event_id));
}

/* Every relay answered: done, or release the claim so the reply is sent again. */
static void signer_ack_on_done(void *arg, const struct relay_pub_report *r)
{
	struct signer_ack *k = arg;

	(void)r;
	if (k->delivered || k->s == NULL) {
		signer_ack_free(k);
		return;
	}
	log_warn("signer", "nostrconnect reply not accepted by any relay; will retry",
		 log_int("authz", k->authz_id));
	signer_ack_release(k);
}

/* Give the claim back, so that the reply is sent again at a later poll. */
static void signer_ack_release(struct signer_ack *k)
{
	k->waiting = db_store_connect_reply_release(k->s->cfg.store, k->authz_id,
						    signer_ack_on_released, k) == 0;
	if (!k->waiting)
		signer_ack_free(k);
}

/* The claim is released (or the database failed: the reply then waits for an operator). */
static void signer_ack_on_released(void *arg, int result, const char *error)
{
	struct signer_ack *k = arg;

	k->waiting = false;
	if (result < 0 && k->s != NULL)
		log_error("signer",
			  "nostrconnect reply claim not released: it will not be sent again",
			  log_int("authz", k->authz_id),
			  log_str("error", error ? error : "unknown"));
	signer_ack_free(k);
}

/* Unlink (unless orphaned) and free k, wiping its secrets. */
static void signer_ack_free(struct signer_ack *k)
{
	struct signer *s = k->s;

	for (size_t i = 0; s != NULL && i < s->nacks; i++) {
		if (s->acks[i] == k) {
			s->acks[i] = s->acks[--s->nacks];
			break;
		}
	}
	nostr_keypair_wipe(&k->bunker);
	secret_wipe(&k->reply);
	free(k);
}

/* Free every reply being sent; those a store callback is due for are orphaned. */
void signer_acks_free_all(struct signer *s)
{
	for (size_t i = 0; i < s->nacks; i++) {
		s->acks[i]->s = NULL;
		if (!s->acks[i]->waiting)
			signer_ack_free(s->acks[i]);
	}
	free(s->acks);
	s->acks = NULL;
	s->nacks = 0;
}
