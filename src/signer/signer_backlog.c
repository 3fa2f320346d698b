/*
 * signer_backlog.c - request events waiting for room (signer_backlog).
 *
 * A request event that arrives while signer_max_inflight requests are in
 * flight is kept here, as the raw JSON the relay pool handed on (its id
 * checked, its signature not yet) with the URL of its relay, in arrival
 * order. When a request settles below the bound, events are taken from the
 * front and run through the pipeline again, as if they had just arrived:
 * screened again (stale, or not accepting: ignored as before) and claimed
 * (another replica may have answered it meanwhile: the claim decides).
 * The replay runs from a timer, never inside the callback that settled a
 * request. Stopping discards the backlog: other replicas take those.
 */
#include "core/clock.h"
#include "core/log.h"
#include "nostr/event.h"
#include "signer/signer_int.h"

#include <stdlib.h>
#include <string.h>

/* One waiting request event: its JSON, then its relay's URL (both NUL-terminated). */
struct signer_queued {
	struct signer_queued *next;
	size_t len;
	char json[];
};

static struct signer_queued *signer_backlog_pop(struct signer *s);
static void signer_backlog_replay_one(struct signer *s, struct signer_queued *q);
static void signer_backlog_gauge(struct signer *s);

/* Keep the event json[0..len) from relay_url for later; false when no backlog or no memory. */
bool signer_backlog_push(struct signer *s, const char *json, size_t len, const char *relay_url)
{
	size_t ulen = strlen(relay_url);
	struct signer_queued *q;

	if (s->cfg.backlog == 0 || json == NULL ||
	    (q = malloc(sizeof(*q) + len + 1 + ulen + 1)) == NULL)
		return false;
	/*
	 * Full: drop the oldest, not the new one. The oldest has waited
	 * longest, so its client is the likeliest to have timed out (or sent
	 * it again) and it is the nearest to being ignored as stale; the new
	 * one still has a client waiting for it.
	 */
	if (s->nbacklog >= s->cfg.backlog) {
		free(signer_backlog_pop(s));
		signer_metrics_count(s->metrics.backlogged, "dropped");
		signer_ignore(s, SIGNER_IGN_OVERLOADED);
	}
	q->next = NULL;
	q->len = len;
	memcpy(q->json, json, len);
	q->json[len] = '\0';
	memcpy(q->json + len + 1, relay_url, ulen + 1);
	if (s->backlog_tail != NULL)
		s->backlog_tail->next = q;
	else
		s->backlog_head = q;
	s->backlog_tail = q;
	s->nbacklog++;
	signer_metrics_count(s->metrics.backlogged, "queued");
	signer_backlog_gauge(s);
	return true;
}

/* A request settled: replay waiting events soon if there is room. */
void signer_backlog_room(struct signer *s)
{
	if (s->nbacklog > 0 && s->accepting && s->inflight < s->cfg.max_inflight &&
	    s->replay != NULL && !clock_timer_pending(s->replay))
		clock_timer_start(s->replay, 0);
}

/* Timer: run waiting events through the pipeline while there is room. */
void signer_backlog_on_timer(void *arg)
{
	struct signer *s = arg;

	while (s->nbacklog > 0 && s->accepting && s->inflight < s->cfg.max_inflight)
		signer_backlog_replay_one(s, signer_backlog_pop(s));
}

/* Drop every waiting event (stopping: other replicas take them); how many. */
size_t signer_backlog_discard(struct signer *s)
{
	size_t n = s->nbacklog;

	if (s->replay != NULL)
		clock_timer_stop(s->replay);
	for (size_t i = 0; i < n; i++) {
		signer_ignore(s, SIGNER_IGN_DRAINING);
		signer_metrics_count(s->metrics.backlogged, "discarded");
	}
	signer_backlog_free(s);
	signer_backlog_gauge(s);
	if (n > 0)
		log_info("signer", "backlog discarded: other replicas take those requests",
			 log_uint("discarded", n));
	return n;
}

/* Free every waiting event, uncounted (the metrics may be gone: not touched). */
void signer_backlog_free(struct signer *s)
{
	struct signer_queued *q;

	while ((q = signer_backlog_pop(s)) != NULL)
		free(q);
}

/* The front event, unlinked, or NULL. */
static struct signer_queued *signer_backlog_pop(struct signer *s)
{
	struct signer_queued *q = s->backlog_head;

	if (q == NULL)
		return NULL;
	s->backlog_head = q->next;
	if (s->backlog_head == NULL)
		s->backlog_tail = NULL;
	s->nbacklog--;
	return q;
}

/* Parse q's event again (its id was checked on arrival) and hand it to the pipeline; free q. */
static void signer_backlog_replay_one(struct signer *s, struct signer_queued *q)
{
	struct nostr_event ev;
	char err[128];

	signer_backlog_gauge(s);
	if (nostr_event_parse(&ev, q->json, q->len, NOSTR_EVENT_SIGNED, NULL, err, sizeof(err)) !=
	    0) {
		log_error("signer", "queued request not parsed again", log_str("error", err));
		free(q);
		return;
	}
	signer_metrics_count(s->metrics.backlogged, "replayed");
	signer_pipeline_event(s, &ev, q->json, q->len, q->json + q->len + 1);
	nostr_event_clear(&ev);
	free(q);
}

/* Set the backlog gauge. */
static void signer_backlog_gauge(struct signer *s)
{
	signer_metrics_gauge(s->metrics.backlog, (double)s->nbacklog);
}
