/*
 * signer.c - the relay-signer component: relays, the serving set that
 * follows the database, nostrconnect replies, and the shutdown operations.
 * One request's way through the pipeline is in signer_pipeline.c.
 */
#include "signer/signer.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/workq.h"
#include "db/db_boot.h"
#include "db/db_store.h"
#include "nostr/event.h"
#include "nostr/hex.h"
#include "nostr/nip44.h"
#include "relay/relay_metrics.h"
#include "relay/relay_pool.h"
#include "signer/signer_audit.h"
#include "signer/signer_int.h"
#include "signer/signer_serving.h"
#include "signer/signer_subs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Conversation keys kept: one per busy (bunker, client) pair. */
#define SIGNER_CACHE_CAPACITY 4096

static const char *const signer_ignore_names[SIGNER_IGN_COUNT_] = {
	[SIGNER_IGN_STALE] = "stale",
	[SIGNER_IGN_FUTURE] = "future",
	[SIGNER_IGN_UNKNOWN] = "unknown_bunker",
	[SIGNER_IGN_DRAINING] = "draining",
	[SIGNER_IGN_OVERLOADED] = "overloaded",
	[SIGNER_IGN_UNDECRYPTABLE] = "undecryptable",
	[SIGNER_IGN_NO_ID] = "no_id",
	[SIGNER_IGN_STRANGER_LIMIT] = "stranger_limit",
};

static void signer_defaults(struct signer_config *c);
static int signer_workq_start(struct signer *s, char *err, size_t errlen);
static int signer_pool_start(struct signer *s, char *err, size_t errlen);
static int signer_add_relay(struct signer *s, const char *url);
static void signer_on_event(void *arg, const char *sub, const struct nostr_event *ev,
			    const char *json, size_t len, const char *relay_url);
static void signer_on_eose(void *arg, const char *sub, const char *relay_url);
static int signer_auth_event(struct relay_auth_event *out, const struct nostr_keypair *kp,
			     const char *relay_url, const char *challenge);
static size_t signer_on_auth(void *arg, const char *relay_url, const char *challenge,
			     struct relay_auth_event *out, size_t max);
static void signer_on_reload(void *arg);
static void signer_on_generation(void *arg, int64_t generation, const char *error);
static void signer_on_serving(void *arg, struct db_serving *set, const char *error);
static void signer_read(struct signer *s);
static void signer_read_done(struct signer *s, const char *error);
static void signer_install(struct signer *s, struct signer_serving *sv, uint64_t load);
static void signer_apply_bindings(struct signer *s, struct signer_serving *sv, uint64_t load);
static void signer_resubscribe(struct signer *s);
static void signer_collect(void *arg, struct metrics *m);
static void signer_on_audit_idle(void *arg);
static void signer_stop_accepting(void *self);
static void signer_drain(void *self, struct component *c);
static void signer_on_pool_aborted(void *arg);
static void signer_abort(void *self, struct component *c);
static void signer_on_pool_closed(void *arg);
static void signer_close(void *self, struct component *c);
static size_t signer_component_inflight(void *self);
static bool signer_ready(void *self, const char **why);

/* Fill in the defaults of zero settings. */
static void signer_defaults(struct signer_config *c)
{
	if (c->max_inflight == 0)
		c->max_inflight = 1024;
	if (c->reload_ms <= 0)
		c->reload_ms = 1000;
	if (c->publish_timeout_ms <= 0)
		c->publish_timeout_ms = 5000;
	if (c->max_age_s <= 0)
		c->max_age_s = DB_CLAIMS_RETENTION_S;
	if (c->max_future_s <= 0)
		c->max_future_s = 60;
	if (c->stranger_burst == 0)
		c->stranger_burst = 10;
	if (c->stranger_per_minute == 0)
		c->stranger_per_minute = 60;
	if (c->threads == 0)
		c->threads = workq_cpus();
	if (c->threads > WORKQ_MAX_THREADS)
		c->threads = WORKQ_MAX_THREADS;
}

/* Create the signer and start loading the serving set. */
int signer_new(struct signer **out, const struct signer_config *cfg, char *err, size_t errlen)
{
	struct signer *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->cfg = *cfg;
	signer_defaults(&s->cfg);
	s->accepting = true;
	s->generation = -1;
	s->audit = signer_audit_new(cfg->store, cfg->clock);
	s->reload = clock_timer_new(cfg->clock, signer_on_reload, s);
	s->replay = clock_timer_new(cfg->clock, signer_backlog_on_timer, s);
	if (s->audit == NULL || s->reload == NULL || s->replay == NULL ||
	    nip44_cache_new(&s->cache, SIGNER_CACHE_CAPACITY) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (signer_metrics_register(&s->metrics, cfg->metrics) != 0 ||
	    (cfg->metrics != NULL && metrics_add_collector(cfg->metrics, signer_collect, s) != 0)) {
		snprintf(err, errlen, "cannot register the signer metrics");
		goto fail;
	}
	if (signer_workq_start(s, err, errlen) != 0 || signer_pool_start(s, err, errlen) != 0)
		goto fail;
	signer_on_reload(s);
	*out = s;
	return 0;
fail:
	signer_free(s);
	return -1;
}

/* The worker pool of the request crypto: threads workers, or none (1: on the loop). */
static int signer_workq_start(struct signer *s, char *err, size_t errlen)
{
	unsigned n = s->cfg.threads;

	if (workq_new(&s->workq, s->cfg.base, n > 1 ? n : 0, err, errlen) != 0)
		return -1;
	if (n > 1)
		log_info("signer", "request crypto on worker threads", log_uint("threads", n));
	else
		log_info("signer", "request crypto on the event loop thread",
			 log_uint("threads", 1));
	return 0;
}

/* The relay pool, its metrics, its subscriptions and the configured relays. */
static int signer_pool_start(struct signer *s, char *err, size_t errlen)
{
	const struct relay_pool_config pc = {
		.base = s->cfg.base,
		.clock = s->cfg.clock,
		.ca_file = s->cfg.ca_file,
		.publish_timeout_ms = s->cfg.publish_timeout_ms,
		.write_timeout_ms = s->cfg.write_timeout_ms,
		.max_pending_out = s->cfg.max_pending_out,
		.defer_verify = true, /* the open job verifies, on a worker */
	};
	const struct relay_pool_handlers h = {
		.on_event = signer_on_event, .on_eose = signer_on_eose, .auth = signer_on_auth};

	if (relay_pool_new(&s->pool, &pc, &h, s, err, errlen) != 0)
		return -1;
	s->subs = signer_subs_new(s->pool, 256);
	if (s->subs == NULL ||
	    (s->cfg.metrics != NULL && relay_metrics_register(s->cfg.metrics, s->pool) != 0)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < s->cfg.nrelays; i++) {
		if (signer_add_relay(s, s->cfg.relays[i]) != 0) {
			snprintf(err, errlen, "cannot add relay %s", s->cfg.relays[i]);
			return -1;
		}
	}
	return 0;
}

/* Add url to the pool unless it is there already; 0, or -1 (logged). */
static int signer_add_relay(struct signer *s, const char *url)
{
	char err[256], **v;

	for (size_t i = 0; i < s->nrelay_urls; i++)
		if (strcmp(s->relay_urls[i], url) == 0)
			return 0;
	v = realloc(s->relay_urls, (s->nrelay_urls + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	s->relay_urls = v;
	if ((v[s->nrelay_urls] = strdup(url)) == NULL)
		return -1;
	if (relay_pool_add(s->pool, url, err, sizeof(err)) != 0) {
		log_warn("signer", "relay not added", log_str("relay", url), log_str("error", err));
		free(v[s->nrelay_urls]);
		return -1;
	}
	s->nrelay_urls++;
	log_info("signer", "listening on relay", log_str("relay", url));
	return 0;
}

/* Free the signer; requests waiting on the database are orphaned. */
void signer_free(struct signer *s)
{
	if (s == NULL)
		return;
	signer_pipeline_free_all(s);
	signer_api_free_all(s);
	workq_free(s->workq); /* hands back the orphans' jobs: they free themselves */
	signer_acks_free_all(s);
	if (s->cfg.metrics != NULL) {
		metrics_remove_collector(s->cfg.metrics, signer_collect, s);
		if (s->pool != NULL)
			relay_metrics_unregister(s->cfg.metrics, s->pool);
	}
	relay_pool_free(s->pool);
	signer_subs_free(s->subs);
	signer_audit_free(s->audit);
	clock_timer_free(s->reload);
	clock_timer_free(s->replay);
	signer_backlog_free(s);
	signer_serving_free(s->serving);
	nip44_cache_free(&s->cache);
	for (size_t i = 0; i < s->nrelay_urls; i++)
		free(s->relay_urls[i]);
	free(s->relay_urls);
	free(s->bindings);
	free(s);
}

/* Claimed requests not finished yet. */
size_t signer_inflight(const struct signer *s)
{
	return s->inflight;
}

/* Claimed requests dropped unanswered by an abort, since start. */
uint64_t signer_dropped(const struct signer *s)
{
	return s->dropped;
}

/* Unix time now, in seconds. */
int64_t signer_unix_now(void)
{
	return (int64_t)time(NULL);
}

/* Pool callback: a relay holds subscription sub (EOSE); readiness may follow. */
static void signer_on_eose(void *arg, const char *sub, const char *relay_url)
{
	struct signer *s = arg;

	(void)relay_url;
	signer_subs_eose(s->subs, sub);
}

/* Pool callback: a deduplicated event of a request subscription, its signature unchecked. */
static void signer_on_event(void *arg, const char *sub, const struct nostr_event *ev,
			    const char *json, size_t len, const char *relay_url)
{
	(void)sub;
	signer_pipeline_event(arg, ev, json, len, relay_url);
}

/* One kind-22242 AUTH event for relay_url's challenge, signed by kp, into *out. 0 or -1. */
static int signer_auth_event(struct relay_auth_event *out, const struct nostr_keypair *kp,
			     const char *relay_url, const char *challenge)
{
	const char *relay[] = {"relay", relay_url}, *chal[] = {"challenge", challenge};
	struct nostr_event ev;
	char err[128];
	size_t len;
	int rc = -1;

	nostr_event_init(&ev);
	ev.kind = 22242;
	ev.created_at = signer_unix_now();
	ev.has_created_at = 1;
	if (nostr_event_add_tag(&ev, relay, 2) == 0 && nostr_event_add_tag(&ev, chal, 2) == 0 &&
	    nostr_event_sign(&ev, kp, err, sizeof(err)) == 0 &&
	    nostr_event_to_json(&out->json, &len, &ev) == 0) {
		hex_encode(out->id, ev.id, 32);
		rc = 0;
	}
	nostr_event_clear(&ev);
	return rc;
}

/* Pool callback: NIP-42 AUTH events as the bunker keys served (at most max). */
static size_t signer_on_auth(void *arg, const char *relay_url, const char *challenge,
			     struct relay_auth_event *out, size_t max)
{
	struct signer *s = arg;
	size_t n = 0;

	for (size_t i = 0; s->serving != NULL && i < s->serving->nauthz && n < max; i++)
		if (!s->serving->authz[i].row->revoked &&
		    signer_auth_event(&out[n], &s->serving->authz[i].bunker, relay_url,
				      challenge) == 0)
			n++;
	return n;
}

/* Timer: read the serving generation (reload when it moved), then come again. */
static void signer_on_reload(void *arg)
{
	struct signer *s = arg;

	clock_timer_start(s->reload, s->cfg.reload_ms);
	if (s->accepting)
		signer_read(s);
}

/* Start a read of the generation (and a load if it moved), unless one is under way. */
static void signer_read(struct signer *s)
{
	if (s->loading)
		return;
	s->loading = true;
	if (db_store_generation(s->cfg.store, signer_on_generation, s) != 0)
		signer_read_done(s, "database pool closed or full");
}

/* The generation is known: load the set when it moved. */
static void signer_on_generation(void *arg, int64_t generation, const char *error)
{
	struct signer *s = arg;

	if (generation < 0) {
		signer_read_done(s, error);
		return;
	}
	if (generation == s->generation) {
		signer_read_done(s, NULL);
		return;
	}
	s->loads_started++;
	if (db_store_load_serving(s->cfg.store, signer_on_serving, s) != 0)
		signer_read_done(s, "database pool closed or full");
}

/* The serving set is loaded: make it ready and put it in place. */
static void signer_on_serving(void *arg, struct db_serving *set, const char *error)
{
	struct signer *s = arg;
	struct signer_serving *sv;
	char err[256];

	if (set == NULL) {
		signer_read_done(s, error);
		return;
	}
	if (signer_serving_new(&sv, set, err, sizeof(err)) != 0) {
		signer_read_done(s, err);
		return;
	}
	signer_install(s, sv, s->loads_started);
	signer_read_done(s, NULL);
}

/*
 * A read is over (error NULL: the set is current). Say once when reads
 * start or stop failing, and send pending nostrconnect replies.
 */
static void signer_read_done(struct signer *s, const char *error)
{
	if (error != NULL && !s->reload_failing)
		log_warn("signer", "cannot read the serving set; serving the last one loaded",
			 log_str("error", error));
	else if (error == NULL && s->reload_failing)
		log_info("signer", "serving set readable again");
	s->reload_failing = error != NULL;
	s->loading = false;
	if (error == NULL)
		signer_send_acks(s);
}

/* Put a new serving set in place: bindings laid over, rate state carried, subscriptions moved. */
static void signer_install(struct signer *s, struct signer_serving *sv, uint64_t load)
{
	bool first = s->serving == NULL;

	signer_apply_bindings(s, sv, load);
	signer_serving_carry(sv, s->serving);
	signer_serving_free(s->serving);
	s->serving = sv;
	s->generation = sv->set->generation;
	for (size_t i = 0; i < sv->nauthz; i++)
		for (size_t k = 0; k < sv->authz[i].row->nrelays; k++)
			(void)signer_add_relay(s, sv->authz[i].row->relays[k]);
	signer_resubscribe(s);
	log_info("signer", first ? "serving set loaded" : "serving set reloaded",
		 log_int("generation", s->generation), log_uint("authorizations", sv->nauthz),
		 log_uint("keys", sv->nkeys), log_uint("api_tokens", sv->ntokens),
		 log_uint("relays", s->nrelay_urls),
		 log_uint("unreadable_rows", sv->set->unseal_failures + sv->set->malformed_rows));
}

/* Lay the binding changes not yet in sv (loaded by load) over it; forget those that are. */
static void signer_apply_bindings(struct signer *s, struct signer_serving *sv, uint64_t load)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->nbindings; i++) {
		struct signer_binding *b = &s->bindings[i];
		struct signer_authz *a;

		if (load >= b->until_load)
			continue;
		a = signer_serving_by_id(sv, b->authz_id);
		if (a != NULL) {
			a->bound = b->bound;
			a->client = b->client;
		}
		s->bindings[kept++] = *b;
	}
	s->nbindings = kept;
}

/* Record a binding change that committed: in the current set now, over older loads later. */
void signer_bind(struct signer *s, int64_t authz_id, bool bound, const struct nostr_pubkey *client)
{
	struct signer_binding *v = realloc(s->bindings, (s->nbindings + 1) * sizeof(*v));
	struct signer_authz *a = s->serving ? signer_serving_by_id(s->serving, authz_id) : NULL;

	if (a != NULL) {
		a->bound = bound;
		a->client = *client;
	}
	if (v == NULL)
		return; /* the next reload brings it: at worst a second of "not connected" */
	s->bindings = v;
	v[s->nbindings++] = (struct signer_binding){
		.authz_id = authz_id,
		.bound = bound,
		.client = *client,
		.until_load = s->loads_started + 1,
	};
}

/* Move the request subscriptions to the bunker pubkeys of the serving set. */
static void signer_resubscribe(struct signer *s)
{
	const char **keys = NULL;
	size_t n = 0;
	char err[256];

	if (!s->accepting)
		return;
	if (signer_serving_bunkers(&keys, &n, s->serving) != 0 ||
	    signer_subs_update(s->subs, keys, n, signer_unix_now() - 5, err, sizeof(err)) < 0)
		log_error("signer", "request subscriptions not all sent",
			  log_str("error", keys == NULL ? "out of memory" : err),
			  log_uint("bunker_keys", n));
	free(keys);
	signer_metrics_gauge(s->metrics.subs, (double)signer_subs_count(s->subs));
}

/* Count an ignored request. */
void signer_ignore(struct signer *s, enum signer_ignore why)
{
	signer_metrics_count(s->metrics.ignored, signer_ignore_names[why]);
}

/* Whether to log about client now: at most once a minute per client (best effort). */
bool signer_log_due(struct signer *s, const struct nostr_pubkey *client)
{
	size_t slot = client->b[0] % SIGNER_LOGGED_SLOTS;
	int64_t now = clock_now_ms(s->cfg.clock);

	if (memcmp(s->logged[slot].who.b, client->b, 32) == 0 &&
	    now - s->logged[slot].at_ms < 60000)
		return false;
	s->logged[slot].who = *client;
	s->logged[slot].at_ms = now;
	return true;
}

/* Metrics collector: the gauges read at scrape time. */
static void signer_collect(void *arg, struct metrics *m)
{
	struct signer *s = arg;
	uint64_t written, failed, dropped;

	(void)m;
	signer_metrics_gauge(s->metrics.inflight, (double)s->inflight);
	signer_metrics_gauge(s->metrics.backlog, (double)s->nbacklog);
	signer_metrics_gauge(s->metrics.authz, s->serving ? (double)s->serving->nauthz : 0);
	signer_metrics_gauge(s->metrics.keys, s->serving ? (double)s->serving->nkeys : 0);
	signer_audit_stats(s->audit, &written, &failed, &dropped);
	signer_metrics_audit(&s->metrics, (double)written, (double)failed, (double)dropped);
}

/* Audit queue written: the drain is complete. */
static void signer_on_audit_idle(void *arg)
{
	struct signer *s = arg;
	struct component *c = s->draining;

	s->draining = NULL;
	if (c != NULL) {
		log_info("signer", "drain complete: every claimed request answered");
		component_complete(c, COMPONENT_OP_DRAIN);
	}
}

/* A request settled: complete a waiting drain once none is left (and the audit is written). */
void signer_check_drained(struct signer *s)
{
	signer_metrics_gauge(s->metrics.inflight, (double)s->inflight);
	if (s->draining != NULL && s->inflight == 0)
		signer_audit_on_idle(s->audit, signer_on_audit_idle, s);
}

/* Component: stop claiming requests and close the subscriptions (other replicas take them). */
static void signer_stop_accepting(void *self)
{
	struct signer *s = self;

	s->accepting = false;
	clock_timer_stop(s->reload);
	signer_backlog_discard(s);
	relay_pool_stop_subscribing(s->pool);
	log_info("signer", "stopped claiming requests", log_uint("inflight", s->inflight));
}

/* Component: complete once every claimed request is answered or has failed for good. */
static void signer_drain(void *self, struct component *c)
{
	struct signer *s = self;

	s->accepting = false;
	signer_backlog_discard(s);
	s->draining = c;
	log_info("signer", "drain started", log_uint("inflight", s->inflight));
	signer_check_drained(s);
}

/* The pool dropped every connection: the abort is confirmed. */
static void signer_on_pool_aborted(void *arg)
{
	struct signer *s = arg;

	if (s->component != NULL)
		component_complete(s->component, COMPONENT_OP_ABORT);
}

/* Component: drop every request still in flight and every connection. */
static void signer_abort(void *self, struct component *c)
{
	struct signer *s = self;
	size_t dropped;

	s->accepting = false;
	s->draining = NULL;
	s->component = c;
	clock_timer_stop(s->reload);
	signer_backlog_discard(s);
	dropped = signer_pipeline_abort(s);
	s->dropped += dropped;
	log_warn("signer", "aborted: requests dropped unanswered", log_uint("dropped", dropped));
	relay_pool_abort(s->pool, signer_on_pool_aborted, s);
}

/* The relay connections are closed. */
static void signer_on_pool_closed(void *arg)
{
	struct signer *s = arg;

	log_info("signer", "relay connections closed");
	if (s->component != NULL)
		component_complete(s->component, COMPONENT_OP_CLOSE);
}

/* Component: close every relay connection with 1001. */
static void signer_close(void *self, struct component *c)
{
	struct signer *s = self;

	s->accepting = false;
	s->component = c;
	clock_timer_stop(s->reload);
	signer_audit_flush(s->audit);
	relay_pool_close(s->pool, signer_on_pool_closed, s);
}

/* Component: claimed requests not finished yet. */
static size_t signer_component_inflight(void *self)
{
	return signer_inflight(self);
}

/* Component: ready once the serving set is loaded. */
static bool signer_ready(void *self, const char **why)
{
	struct signer *s = self;

	if (s->serving == NULL) {
		*why = "serving set not loaded yet";
		return false;
	}
	if (!s->subscribed && signer_subs_confirmed(s->subs)) {
		s->subscribed = true;
		log_info("signer", "subscribed: every key's requests reach this replica",
			 log_uint("subscriptions", signer_subs_count(s->subs)));
	}
	if (!s->subscribed)
		*why = "no relay has confirmed the request subscriptions yet";
	return s->subscribed;
}

const struct component_ops signer_component_ops = {
	.stop_accepting = signer_stop_accepting,
	.drain = signer_drain,
	.abort = signer_abort,
	.close = signer_close,
	.inflight = signer_component_inflight,
	.ready = signer_ready,
};
