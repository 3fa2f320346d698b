/*
 * signer_work.c - the pure crypto of one NIP-46 request: opening it and
 * making its reply, on whichever thread runs the job.
 */
#include "signer/signer_work.h"

#include "core/errbuf.h"
#include "nostr/event.h"
#include "nostr/wipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *signer_work_run_op(struct signer_work_reply *w, struct signer_result *res,
				      size_t *rlen, const char **error);

/* Verify, decrypt and parse. */
void signer_work_open_run(struct signer_work_open *w)
{
	uint8_t *pt = NULL;
	size_t ptlen = 0;

	w->verified = w->sig == NULL ||
		      nostr_sig_verify(w->id, w->client, w->sig, w->err, sizeof(w->err)) == 0;
	if (!w->verified)
		return;
	w->decrypted = signer_decrypt(&pt, &ptlen, w->scheme, w->bunker, w->client, w->content,
				      w->content_len, w->cache, w->err, sizeof(w->err)) == 0;
	if (w->decrypted)
		w->parsed = signer_request_parse(&w->rq, (const char *)pt, ptlen, w->err,
						 sizeof(w->err));
	wipe_free(pt, ptlen);
}

/* Wipe and free the parsed request. */
void signer_work_open_clear(struct signer_work_open *w)
{
	signer_request_clear(&w->rq);
}

/* Take op over and copy user. */
void signer_work_reply_set_op(struct signer_work_reply *w, struct signer_op *op,
			      const struct nostr_keypair *user)
{
	w->has_op = true;
	w->op = *op;
	w->user = *user;
	memset(op, 0, sizeof(*op));
	nostr_event_init(&op->tmpl);
}

/* Copy the result and the error. */
int signer_work_reply_set(struct signer_work_reply *w, const char *result, size_t rlen,
			  const char *error)
{
	if (rlen > 0) {
		if ((w->result = malloc(rlen + 1)) == NULL)
			return -1;
		memcpy(w->result, result, rlen);
		w->result[rlen] = '\0';
		w->rlen = rlen;
	}
	if (error != NULL)
		snprintf(w->error, sizeof(w->error), "%s", error);
	return 0;
}

/* Run the method into res; the result to reply with (*error set when the method failed). */
static const char *signer_work_run_op(struct signer_work_reply *w, struct signer_result *res,
				      size_t *rlen, const char **error)
{
	const struct signer_ctx ctx = {.user = &w->user, .cache = w->cache, .now = w->now};
	int rc = signer_op_run(res, &w->op, &ctx, w->error, sizeof(w->error));

	nostr_keypair_wipe(&w->user);
	if (rc != 0) {
		w->op_failed = true;
		*error = w->error;
		*rlen = 0;
		return "";
	}
	memcpy(w->signed_id, res->event_id, sizeof(w->signed_id));
	*rlen = res->len;
	return res->s;
}

/* The method (when given), the reply JSON, encrypted, in a signed event. */
void signer_work_reply_run(struct signer_work_reply *w)
{
	struct signer_result res = {0};
	const char *error = w->error[0] != '\0' ? w->error : NULL;
	const char *result = w->result != NULL ? w->result : "";
	size_t rlen = w->rlen, jlen = 0, elen = 0;
	char *json = NULL, *enc = NULL;

	if (w->has_op)
		result = signer_work_run_op(w, &res, &rlen, &error);
	snprintf(w->err, sizeof(w->err), "out of memory");
	if (signer_reply_json(&json, &jlen, w->id, result, rlen, error) == 0 &&
	    signer_encrypt(&enc, &elen, w->scheme, w->bunker, w->client, (const uint8_t *)json,
			   jlen, w->cache, w->err, sizeof(w->err)) == 0 &&
	    signer_reply_event(&w->event, &w->event_len, w->event_id, w->bunker, w->client, enc,
			       elen, w->now, w->err, sizeof(w->err)) == 0)
		w->err[0] = '\0';
	signer_result_clear(&res);
	wipe_free(json, jlen);
	free(enc);
}

/* Wipe and free what w owns. */
void signer_work_reply_clear(struct signer_work_reply *w)
{
	if (w->has_op)
		signer_op_clear(&w->op);
	w->has_op = false;
	nostr_keypair_wipe(&w->user);
	wipe_free(w->result, w->rlen);
	w->result = NULL;
	w->rlen = 0;
	free(w->event);
	w->event = NULL;
	w->event_len = 0;
}

/* switch_relays reads the authorization's relays, which live in the loop's serving set. */
bool signer_work_on_loop(enum signer_method m)
{
	return m == SIGNER_SWITCH_RELAYS;
}
