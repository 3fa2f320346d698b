/*
 * relay_drive.c - drives the relay layer against a real relay for
 * relay.test. One scenario per run: `relay_drive SCENARIO URL [ARG]`;
 * prints "ok - ..." / "not ok - ..." lines and "# key=value" facts, and
 * exits 0 only if every check passed. A watchdog ends a stuck run.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "core/clock.h"
#include "core/log.h"
#include "nostr/event.h"
#include "nostr/hex.h"
#include "nostr/keys.h"
#include "relay/relay_pool.h"
#include "relay/ws.h"

/* Everything one scenario run shares with its callbacks. */
struct drive {
	struct event_base *base;
	struct clock *clock;
	struct relay_pool *pool;
	struct relay_pool *pub_pool; /* a second client, for reconnect tests */
	const char *url;
	const char *arg;
	struct nostr_keypair a, b; /* two users */
	char a_hex[65], b_hex[65];
	int failed;
	/* observations */
	int eose, events_a, events_b, events_fence, events_stored, events_old, events_other;
	char want_id[65], fence_id[65], stored_id[65], old_id[65];
	int64_t backdate_s; /* sign events this much in the past */
	int done_pubs, accepted, rejected, failed_pubs, drained, closed, aborted;
	char reason[256];
	int64_t lost_ms, back_ms;
	int step;
	char sub_err[256]; /* why the last subscribe was refused */
};

/* A scenario: sets things up; callbacks move it on. */
typedef int (*drive_fn)(struct drive *d);

static void check(struct drive *d, int cond, const char *what);
static int sign_event(struct drive *d, const struct nostr_keypair *kp, int kind, const char *p_hex,
		      const char *content, char **json, char id[65]);
static int publish(struct drive *d, struct relay_pool *p, const struct nostr_keypair *kp, int kind,
		   const char *p_hex, const char *content, char id[65]);
static int subscribe(struct drive *d, const char *name, const struct relay_filter *f);
static void stop_loop(struct drive *d);
static void gap_on_event(const char *id);
static void gap_on_pub(const struct relay_pub_report *r);

/* The gap scenario's stream of kind-24133 events: what became of each. */
#define GAP_MAX 2000
static struct {
	char id[GAP_MAX][65];
	unsigned char accepted[GAP_MAX]; /* the relay said OK true */
	unsigned char received[GAP_MAX]; /* the subscriber got it */
	int64_t sent_ms[GAP_MAX];
	int n;
} gap;

/* Record one check. */
static void check(struct drive *d, int cond, const char *what)
{
	printf("%s - %s\n", cond ? "ok" : "not ok", what);
	if (!cond)
		d->failed++;
	fflush(stdout);
}

/* Subscribe on the main pool; a refusal's message in d->sub_err. 0 or -1. */
static int subscribe(struct drive *d, const char *name, const struct relay_filter *f)
{
	return relay_pool_subscribe(d->pool, name, f, d->sub_err, sizeof(d->sub_err));
}

/* Stop the event loop. */
static void stop_loop(struct drive *d)
{
	event_base_loopexit(d->base, NULL);
}

/* Sign an event of kind, p-tagging p_hex (or not), into *json (caller frees). */
static int sign_event(struct drive *d, const struct nostr_keypair *kp, int kind, const char *p_hex,
		      const char *content, char **json, char id[65])
{
	struct nostr_event ev;
	size_t len;
	char err[128];
	int rc = -1;
	nostr_event_init(&ev);
	ev.kind = (uint32_t)kind;
	ev.created_at = (int64_t)time(NULL) - d->backdate_s;
	ev.has_created_at = 1;
	const char *tag[2] = {"p", p_hex};
	if (nostr_event_set_content(&ev, content, strlen(content)) != 0 ||
	    (p_hex && nostr_event_add_tag(&ev, tag, 2) != 0) ||
	    nostr_event_sign(&ev, kp, err, sizeof(err)) != 0 ||
	    nostr_event_to_json(json, &len, &ev) != 0)
		goto fail;
	hex_encode(id, ev.id, 32);
	rc = 0;
fail:
	nostr_event_clear(&ev);
	return rc;
}

/* Publish report. */
static void on_pub_done(void *arg, const struct relay_pub_report *r)
{
	struct drive *d = arg;
	d->done_pubs++;
	if (strcmp(d->arg, "gap") == 0) {
		gap_on_pub(r);
		return;
	}
	d->accepted += r->accepted > 0;
	d->rejected += r->rejected > 0;
	d->failed_pubs += r->failed > 0;
	for (size_t i = 0; i < r->nanswers; i++)
		if (r->answers[i].reason && *r->answers[i].reason)
			snprintf(d->reason, sizeof(d->reason), "%s", r->answers[i].reason);
	printf("# publish %.8s: accepted=%zu rejected=%zu timeout=%zu failed=%zu reason=%s\n",
	       r->event_id, r->accepted, r->rejected, r->timed_out, r->failed, d->reason);
}

/* Sign and publish. */
static int publish(struct drive *d, struct relay_pool *p, const struct nostr_keypair *kp, int kind,
		   const char *p_hex, const char *content, char id[65])
{
	static const struct relay_pub_handlers h = {.on_done = on_pub_done};
	char *json = NULL;
	int rc = -1;
	if (sign_event(d, kp, kind, p_hex, content, &json, id) == 0)
		rc = relay_pool_publish(p, json, strlen(json), id, &h, d);
	free(json);
	return rc;
}

/* ---- pubsub: #p filtering, OK true, OK false, stored events before EOSE. ---- */

/* Events for the pubsub scenario. */
static void pubsub_on_event(struct drive *d, const char *id, const struct nostr_event *ev)
{
	(void)ev;
	if (strcmp(id, d->stored_id) == 0)
		d->events_stored++;
	else if (strcmp(id, d->want_id) == 0)
		d->events_a++;
	else if (strcmp(id, d->fence_id) == 0)
		d->events_fence++;
	else
		d->events_b++;
	if (d->events_fence) {
		check(d, d->events_a == 1, "live kind-24133 event tagged for A received");
		check(d, d->events_b == 0, "event tagged for B filtered out by the relay");
		d->step = 2;
	}
}

/* Callback: a verified event arrived. */
static void on_event(void *arg, const char *sub, const struct nostr_event *ev, const char *json,
		     size_t len, const char *url)
{
	(void)json;
	(void)len;
	(void)url;
	struct drive *d = arg;
	char id[65];
	hex_encode(id, ev->id, 32);
	if (strcmp(d->arg, "gap") == 0) {
		gap_on_event(id);
		return;
	}
	printf("# event %.8s kind=%u sub=%s\n", id, ev->kind, sub);
	if (strcmp(d->arg, "pubsub") == 0) {
		pubsub_on_event(d, id, ev);
		return;
	}
	if (strcmp(id, d->want_id) == 0)
		d->events_a++;
	else if (strcmp(id, d->fence_id) == 0)
		d->events_fence++;
	else if (strcmp(id, d->old_id) == 0)
		d->events_old++;
	else
		d->events_other++;
}

/* Callback: EOSE. */
static void on_eose(void *arg, const char *sub, const char *url)
{
	(void)url;
	struct drive *d = arg;
	printf("# eose %s (stored events so far %d)\n", sub, d->events_stored);
	d->eose++;
}

/* Callback: state changes (time of loss and return). */
static void on_state(void *arg, const char *url, enum relay_state s)
{
	(void)url;
	struct drive *d = arg;
	printf("# state %s\n", relay_state_name(s));
	if (s == RELAY_DISCONNECTED && d->lost_ms == 0)
		d->lost_ms = clock_now_ms(d->clock);
	if (s == RELAY_CONNECTED && d->lost_ms && !d->back_ms)
		d->back_ms = clock_now_ms(d->clock);
	if (s == RELAY_CONNECTED && strcmp(d->arg, "auth") == 0 && d->step == 0) {
		/* before the relay's AUTH challenge is read: refused auth-required: */
		int kinds[] = {1};
		const char *p[] = {d->a_hex};
		struct relay_filter f = {
			.kinds = kinds, .nkinds = 1, .p_tags = p, .np_tags = 1, .limit = 0};
		char id[65];
		check(d, subscribe(d, "guarded", &f) == 0, "subscribe before authenticating");
		check(d,
		      publish(d, d->pool, &d->a, 1, NULL, "by A before auth", id) == 0 &&
			      publish(d, d->pool, &d->b, 1, NULL, "by B before auth", id) == 0,
		      "publish as A and as B before authenticating");
		d->step = 1;
	}
}

/* One signed kind-22242 event for kp into *out; 0 or -1. */
static int auth_event(const struct nostr_keypair *kp, const char *url, const char *challenge,
		      struct relay_auth_event *out)
{
	struct nostr_event ev;
	char err[128];
	size_t len;
	int rc = -1;
	const char *t1[2] = {"relay", url}, *t2[2] = {"challenge", challenge};
	nostr_event_init(&ev);
	ev.kind = 22242;
	ev.created_at = (int64_t)time(NULL);
	ev.has_created_at = 1;
	if (nostr_event_add_tag(&ev, t1, 2) == 0 && nostr_event_add_tag(&ev, t2, 2) == 0 &&
	    nostr_event_sign(&ev, kp, err, sizeof(err)) == 0 &&
	    nostr_event_to_json(&out->json, &len, &ev) == 0) {
		hex_encode(out->id, ev.id, 32);
		rc = 0;
	}
	nostr_event_clear(&ev);
	return rc;
}

/* Callback: NIP-42, one kind-22242 event per key served (A and B). */
static size_t on_auth(void *arg, const char *url, const char *challenge,
		      struct relay_auth_event *out, size_t max)
{
	struct drive *d = arg;
	size_t n = 0;
	if (n < max && auth_event(&d->a, url, challenge, &out[n]) == 0)
		n++;
	if (n < max && auth_event(&d->b, url, challenge, &out[n]) == 0)
		n++;
	return n;
}

static const struct relay_pool_handlers drive_handlers = {
	.on_event = on_event,
	.on_eose = on_eose,
	.on_state = on_state,
	.auth = on_auth,
};

/* The second client of the reconnect test only publishes. */
static const struct relay_pool_handlers publisher_handlers = {0};

/* A pool on url with the settings in tw, quick timers where tw has zeros. */
static struct relay_pool *new_pool(struct drive *d, const struct relay_pool_config *tw,
				   const struct relay_pool_handlers *h)
{
	struct relay_pool_config cfg = *tw;
	cfg.base = d->base;
	cfg.clock = d->clock;
	cfg.publish_timeout_ms = cfg.publish_timeout_ms ? cfg.publish_timeout_ms : 3000;
	cfg.backoff_min_ms = cfg.backoff_min_ms ? cfg.backoff_min_ms : 100;
	cfg.backoff_max_ms = cfg.backoff_max_ms ? cfg.backoff_max_ms : cfg.backoff_min_ms * 4;
	cfg.connect_timeout_ms = cfg.connect_timeout_ms ? cfg.connect_timeout_ms : 3000;
	cfg.close_timeout_ms = cfg.close_timeout_ms ? cfg.close_timeout_ms : 1000;
	struct relay_pool *p;
	char err[256];
	if (relay_pool_new(&p, &cfg, h, d, err, sizeof(err)) != 0 ||
	    relay_pool_add(p, d->url, err, sizeof(err)) != 0) {
		printf("# pool: %s\n", err);
		return NULL;
	}
	return p;
}

/* Poll step machine, every 20 ms (real time). */
static void tick(evutil_socket_t fd, short what, void *arg);

/* pubsub steps. */
static void pubsub_step(struct drive *d)
{
	char id[65];
	int kinds[] = {24133, 1};
	const char *p[] = {d->a_hex};
	struct relay_filter f = {
		.kinds = kinds, .nkinds = 2, .p_tags = p, .np_tags = 1, .limit = -1};
	if (d->step == 0 && relay_pool_connected(d->pool) == 1) {
		check(d, publish(d, d->pool, &d->b, 1, d->a_hex, "stored", d->stored_id) == 0,
		      "publish stored kind-1 event");
		d->step = 1;
	} else if (d->step == 1 && d->done_pubs == 1) {
		check(d, d->accepted == 1, "publish gets OK true");
		check(d, subscribe(d, "bunker", &f) == 0, "subscribe #p A");
		d->step = 3;
	} else if (d->step == 3 && d->eose == 1) {
		check(d, d->events_stored == 1, "stored event delivered before EOSE");
		check(d,
		      publish(d, d->pool, &d->b, 24133, d->a_hex, "for A", d->want_id) == 0 &&
			      publish(d, d->pool, &d->a, 24133, d->b_hex, "for B", id) == 0 &&
			      publish(d, d->pool, &d->b, 24133, d->a_hex, "fence", d->fence_id) ==
				      0,
		      "publish live events for A, B, A");
		d->step = 4;
	} else if (d->step == 2 && d->done_pubs == 4) {
		check(d, d->accepted == 4, "every live publish accepted (OK true)");
		char *json = NULL;
		check(d, sign_event(d, &d->a, 1, NULL, "genuine", &json, id) == 0, "sign");
		char *c = json ? strstr(json, "genuine") : NULL;
		if (c)
			c[0] = 'G'; /* breaks the id */
		static const struct relay_pub_handlers h = {.on_done = on_pub_done};
		check(d, json && relay_pool_publish(d->pool, json, strlen(json), id, &h, d) == 0,
		      "publish tampered event");
		free(json);
		d->step = 5;
	} else if (d->step == 5 && d->done_pubs == 5) {
		check(d, d->rejected == 1 && *d->reason, "tampered event reported as rejected");
		stop_loop(d);
	}
}

/* The pid of the relay under test (from $RELAY_PID), or 0. */
static pid_t relay_pid(void)
{
	const char *s = getenv("RELAY_PID");
	return (pid_t)atoi(s ? s : "0");
}

/*
 * ---- reconnect: dropped mid-subscription; stored events of the gap arrive
 * after the resubscribe with since, older stored ones are not replayed. ----
 */
static void reconnect_step(struct drive *d)
{
	int kinds[] = {1};
	const char *p[] = {d->a_hex};
	struct relay_filter f = {
		.kinds = kinds, .nkinds = 1, .p_tags = p, .np_tags = 1, .limit = 0};
	struct relay_stats st;
	if (d->step == 0 && relay_pool_connected(d->pool) && relay_pool_connected(d->pub_pool)) {
		d->backdate_s = 3600;
		check(d, publish(d, d->pub_pool, &d->b, 1, d->a_hex, "old", d->old_id) == 0,
		      "publish a stored event dated an hour ago");
		d->backdate_s = 0;
		d->step = 1;
	} else if (d->step == 1 && d->done_pubs == 1) {
		check(d, d->accepted == 1, "old event accepted by the relay");
		check(d, subscribe(d, "live", &f) == 0, "subscribe (limit 0)");
		d->step = 2;
	} else if (d->step == 2 && d->eose == 1) {
		check(d, d->events_old == 0, "limit 0: no stored event sent at first");
		check(d, relay_pid() > 0 && kill(relay_pid(), SIGUSR1) == 0,
		      "relay told to drop every client");
		d->step = 3;
	} else if (d->step == 3 && relay_pool_connected(d->pool) == 0 &&
		   relay_pool_connected(d->pub_pool) == 1) {
		check(d, publish(d, d->pub_pool, &d->b, 1, d->a_hex, "in the gap", d->want_id) == 0,
		      "publish a stored event while the subscriber is away");
		d->step = 4;
	} else if (d->step == 4 && d->done_pubs == 2) {
		check(d, d->accepted == 2, "gap event accepted by the relay");
		check(d, relay_pool_connected(d->pool) == 0,
		      "subscriber still away when it was stored");
		d->step = 5;
	} else if (d->step == 5 && d->eose == 2) {
		relay_pool_stats(d->pool, 0, &st);
		check(d, st.connects == 2, "subscriber reconnected once and resubscribed (EOSE)");
		check(d, d->events_a == 1, "gap event delivered after resubscribe with since");
		check(d, d->events_old == 0, "event older than since not replayed");
		stop_loop(d);
	}
}

/* gap: a kind-24133 event of the stream arrived at the subscriber. */
static void gap_on_event(const char *id)
{
	for (int i = gap.n - 1; i >= 0; i--)
		if (strcmp(gap.id[i], id) == 0) {
			gap.received[i] = 1;
			return;
		}
}

/* gap: the relay answered one event of the stream. */
static void gap_on_pub(const struct relay_pub_report *r)
{
	for (int i = gap.n - 1; i >= 0; i--)
		if (strcmp(gap.id[i], r->event_id) == 0) {
			gap.accepted[i] = r->accepted > 0;
			return;
		}
}

/* gap: publish the next event of the stream (one per tick while connected). */
static void gap_send(struct drive *d)
{
	if (gap.n >= GAP_MAX || !relay_pool_connected(d->pub_pool))
		return;
	char content[32];
	snprintf(content, sizeof(content), "stream %d", gap.n); /* distinct ids */
	gap.sent_ms[gap.n] = clock_now_ms(d->clock);
	if (publish(d, d->pub_pool, &d->b, 24133, d->a_hex, content, gap.id[gap.n]) == 0)
		gap.n++;
}

/* gap: print what the subscriber missed while it was away. */
static void gap_report(struct drive *d, int from)
{
	int acc = 0, missed = 0, after = 0;
	for (int i = from; i < gap.n; i++) {
		acc += gap.accepted[i];
		missed += gap.accepted[i] && !gap.received[i];
		after += gap.received[i] && gap.sent_ms[i] > d->back_ms;
	}
	check(d, after > 0, "live kind-24133 events flow again after the resubscribe");
	printf("# ephemeral gap: subscriber away %lld ms (relay drop to resubscribed, "
	       "reconnect backoff 500 ms with jitter); %d of %d kind-24133 events the relay "
	       "accepted from the drop on were missed\n",
	       (long long)(d->back_ms - d->lost_ms), missed, acc);
}

/*
 * ---- gap: ephemeral events are not stored, so those sent while the
 * subscriber is away are lost; measure (not assert) how long and how many
 * with the default reconnect backoff. ----
 */
static void gap_step(struct drive *d)
{
	static int first, back_n;
	int kinds[] = {24133};
	const char *p[] = {d->a_hex};
	struct relay_filter f = {
		.kinds = kinds, .nkinds = 1, .p_tags = p, .np_tags = 1, .limit = 0};
	if (d->step == 2 || d->step == 3 || (d->step == 4 && gap.n < back_n + 10))
		gap_send(d);
	if (d->step == 0 && relay_pool_connected(d->pool) && relay_pool_connected(d->pub_pool)) {
		check(d, subscribe(d, "eph", &f) == 0, "subscribe kind 24133");
		d->step = 1;
	} else if (d->step == 1 && d->eose == 1) {
		d->step = 2;
	} else if (d->step == 2 && gap.n >= 10 && gap.received[9]) {
		check(d, 1, "live kind-24133 stream received");
		first = gap.n;
		d->lost_ms = clock_now_ms(d->clock);
		check(d, relay_pid() > 0 && kill(relay_pid(), SIGUSR1) == 0,
		      "relay told to drop every client");
		d->step = 3;
	} else if (d->step == 3 && d->eose == 2) {
		d->back_ms = clock_now_ms(d->clock);
		back_n = gap.n;
		d->step = 4;
	} else if (d->step == 4 && gap.n >= back_n + 10 && d->done_pubs == gap.n) {
		gap_report(d, first);
		stop_loop(d);
	}
}

/* ---- down: relay down at start; backoff; connect when it comes up. ---- */
static void down_step(struct drive *d)
{
	struct relay_stats st;
	relay_pool_stats(d->pool, 0, &st);
	if (d->step == 0 && st.disconnects >= 1) {
		printf("# ready\n");
		fflush(stdout);
		d->step = 1;
	} else if (d->step == 1 && relay_pool_connected(d->pool) == 1) {
		check(d, st.disconnects >= 1, "failed connects while the relay was down");
		check(d, st.connects == 1, "connected once the relay came up");
		stop_loop(d);
	}
}

/* Shutdown callbacks. */
static void on_drained(void *arg)
{
	((struct drive *)arg)->drained++;
}

/* Close done. */
static void on_closed(void *arg)
{
	((struct drive *)arg)->closed++;
}

/* Abort done. */
static void on_aborted(void *arg)
{
	((struct drive *)arg)->aborted++;
}

/* ---- close: drain a publish, close with 1001. ---- */
static void close_step(struct drive *d)
{
	char id[65];
	int kinds[] = {1};
	struct relay_filter f = {.kinds = kinds, .nkinds = 1, .limit = 0};
	if (d->step == 0 && relay_pool_connected(d->pool) == 1) {
		check(d, subscribe(d, "s", &f) == 0, "subscribe");
		check(d, publish(d, d->pool, &d->a, 1, NULL, "last words", id) == 0, "publish");
		relay_pool_stop_subscribing(d->pool);
		relay_pool_drain(d->pool, on_drained, d);
		check(d, relay_pool_inflight(d->pool) == 1, "one publish in flight while draining");
		d->step = 1;
	} else if (d->step == 1 && d->drained) {
		check(d, d->done_pubs == 1 && d->accepted == 1, "drain waited for the OK");
		relay_pool_close(d->pool, on_closed, d);
		d->step = 2;
	} else if (d->step == 2 && d->closed) {
		struct relay_stats st;
		relay_pool_stats(d->pool, 0, &st);
		check(d, st.state == RELAY_CLOSED, "connection closed");
		stop_loop(d);
	}
}

/* ---- abort: drop at once with a publish in flight, confirmed. ---- */
static void abort_step(struct drive *d)
{
	char id[65];
	if (d->step == 0 && relay_pool_connected(d->pool) == 1) {
		check(d, publish(d, d->pool, &d->a, 1, NULL, "never mind", id) == 0, "publish");
		relay_pool_abort(d->pool, on_aborted, d);
		check(d, d->done_pubs == 1 && d->failed_pubs == 1,
		      "in-flight publish failed by abort");
		check(d, relay_pool_connected(d->pool) == 0, "no connection left");
		d->step = 1;
	} else if (d->step == 1 && d->aborted) {
		check(d, d->aborted == 1, "abort confirmed");
		check(d,
		      relay_pool_publish(d->pool, "{}", 2, id, &(struct relay_pub_handlers){0},
					 d) != 0,
		      "no publish after abort");
		stop_loop(d);
	}
}

/*
 * ---- auth: a NIP-42 relay restricting by pubkey refuses our REQ (CLOSED
 * auth-required:) and our EVENTs by A and by B (OK false auth-required:);
 * we AUTH as both keys and both are retried and accepted. ----
 */
static void auth_step(struct drive *d)
{
	struct relay_stats st;
	relay_pool_stats(d->pool, 0, &st);
	if (d->step == 1 && d->done_pubs == 2 && d->eose == 1) {
		check(d, st.auths == 2, "authenticated as both keys (NIP-42)");
		check(d, d->accepted == 2,
		      "both refused publishes retried after AUTH and accepted");
		check(d, 1, "refused subscription re-sent after AUTH (EOSE)");
		check(d, publish(d, d->pool, &d->b, 1, d->a_hex, "after auth", d->want_id) == 0,
		      "publish for the subscription");
		d->step = 2;
	} else if (d->step == 2 && d->events_a == 1) {
		check(d, d->eose == 1, "the subscription was re-sent once, not once per key");
		check(d, 1, "live event through the re-sent subscription");
		stop_loop(d);
	}
}

/* The #p values of the chunk scenarios: n distinct fake keys. */
static const char **fake_keys(size_t n)
{
	static char hex[20 * 256][65];
	static const char *p[20 * 256];
	for (size_t i = 0; i < n && i < 20 * 256; i++) {
		snprintf(hex[i], sizeof(hex[i]), "%064zx", i + 1);
		p[i] = hex[i];
	}
	return p;
}

/*
 * ---- chunks: at the relay's own limits (256 #p values per filter, 20
 * subscriptions per connection) a #p list of 19 x 256 + 1 values takes
 * all 20; each answers EOSE, events for the first and last chunk arrive,
 * and a 21st subscription is refused. ----
 */
static void chunks_step(struct drive *d)
{
	enum { N = 19 * 256 + 1 };
	int kinds[] = {24133};
	const char **p = fake_keys(N);
	struct relay_filter f = {
		.kinds = kinds, .nkinds = 1, .p_tags = p, .np_tags = N, .limit = 0};
	struct relay_stats st;
	char id[65];
	relay_pool_stats(d->pool, 0, &st);
	if (d->step == 0 && relay_pool_connected(d->pool) == 1) {
		p[0] = d->a_hex;     /* first chunk */
		p[N - 1] = d->b_hex; /* twentieth chunk */
		check(d, subscribe(d, "many", &f) == 0, "subscribe 4865 #p values (20 chunks)");
		f.np_tags = 1;
		check(d, subscribe(d, "more", &f) != 0, "a 21st subscription on the relay refused");
		d->step = 1;
	} else if (d->step == 1 && d->eose == 20) {
		check(d, st.notices == 0, "every chunk answered EOSE, none refused (no NOTICE)");
		check(d,
		      publish(d, d->pool, &d->a, 24133, d->a_hex, "first chunk", d->want_id) == 0 &&
			      publish(d, d->pool, &d->a, 24133, d->b_hex, "last chunk",
				      d->fence_id) == 0 &&
			      publish(d, d->pool, &d->a, 24133, p[1000], "middle", id) == 0,
		      "publish for the first, last and a middle chunk");
		d->step = 2;
	} else if (d->step == 2 && d->events_a == 1 && d->events_fence == 1 &&
		   d->events_other == 1) {
		check(d, 1, "events for values of the first, last and a middle chunk received");
		stop_loop(d);
	}
}

/*
 * ---- overlimit: why those limits: the relay refuses a filter of 257 #p
 * values (NOTICE, no EOSE) and silently drops the oldest of 21
 * subscriptions. The pool is configured past the limits on purpose. ----
 */
static void overlimit_step(struct drive *d)
{
	enum { N = 21 };
	int kinds[] = {24133};
	const char **p = fake_keys(400);
	struct relay_filter f = {.kinds = kinds, .nkinds = 1, .p_tags = p, .np_tags = 257};
	struct relay_stats st;
	relay_pool_stats(d->pool, 0, &st);
	f.limit = 0;
	if (d->step == 0 && relay_pool_connected(d->pool) == 1) {
		check(d, subscribe(d, "wide", &f) == 0, "subscribe 257 #p values");
		d->step = 1;
	} else if (d->step == 1 && st.notices == 1) {
		check(d, d->eose == 0, "a filter of 257 #p values refused by the relay");
		relay_pool_unsubscribe(d->pool, "wide");
		for (int i = 0; i < N; i++) {
			char name[16];
			snprintf(name, sizeof(name), "s%d", i);
			p[0] = i == 0 ? d->a_hex : (i == N - 1 ? d->b_hex : p[i + 300]);
			f.np_tags = 1;
			if (subscribe(d, name, &f) != 0)
				check(d, 0, "subscribe");
		}
		d->step = 2;
	} else if (d->step == 2 && d->eose == N) {
		check(d,
		      publish(d, d->pool, &d->a, 24133, d->a_hex, "oldest", d->want_id) == 0 &&
			      publish(d, d->pool, &d->a, 24133, d->b_hex, "newest", d->fence_id) ==
				      0,
		      "publish for the oldest and the newest of 21 subscriptions");
		d->step = 3;
	} else if (d->step == 3 && d->events_fence == 1 && d->done_pubs == 2) {
		check(d, d->events_a == 0,
		      "the relay silently dropped the oldest of 21 subscriptions");
		stop_loop(d);
	}
}

/* A filter of n fake authors (the last one A) and k kinds (24133 among them). */
static struct relay_filter wide_filter(struct drive *d, size_t n, size_t k)
{
	static int kinds[21];
	const char **authors = fake_keys(n);
	for (int i = 0; i < 21; i++)
		kinds[i] = 24133 - i;
	authors[n - 1] = d->a_hex;
	return (struct relay_filter){
		.kinds = kinds, .nkinds = k, .authors = authors, .nauthors = n, .limit = 0};
}

/*
 * ---- filters: at the relay validator's limits for authors (1000) and
 * kinds (20) a filter is accepted (EOSE, no NOTICE) and delivers an event
 * by one of its authors; one more author or kind is refused by the pool
 * with a message, never sent to the relay. ----
 */
static void filters_step(struct drive *d)
{
	struct relay_filter f = wide_filter(d, 1000, 20);
	struct relay_stats st;
	char what[512];
	relay_pool_stats(d->pool, 0, &st);
	if (d->step == 0 && relay_pool_connected(d->pool) == 1) {
		check(d, subscribe(d, "wide", &f) == 0, "subscribe 1000 authors and 20 kinds");
		f = wide_filter(d, 1001, 20);
		int rc = subscribe(d, "wider", &f);
		snprintf(what, sizeof(what), "1001 authors refused by the pool: %s", d->sub_err);
		check(d, rc != 0 && strstr(d->sub_err, "1001 authors") != NULL, what);
		f = wide_filter(d, 1000, 21);
		rc = subscribe(d, "wider", &f);
		snprintf(what, sizeof(what), "21 kinds refused by the pool: %s", d->sub_err);
		check(d, rc != 0 && strstr(d->sub_err, "21 kinds") != NULL, what);
		d->step = 1;
	} else if (d->step == 1 && d->eose == 1) {
		check(d, st.notices == 0, "the relay answered EOSE, refused nothing (no NOTICE)");
		check(d, publish(d, d->pool, &d->a, 24133, NULL, "by author 1000", d->want_id) == 0,
		      "publish an event by the 1000th author");
		d->step = 2;
	} else if (d->step == 2 && d->events_a == 1) {
		check(d, 1, "the event by the 1000th author received");
		stop_loop(d);
	}
}

/*
 * ---- filters-over: why those limits: with the pool configured past
 * them, the relay refuses a filter of 1001 authors, then one of 21 kinds
 * (a NOTICE each, no EOSE). ----
 */
static void filters_over_step(struct drive *d)
{
	struct relay_filter f = wide_filter(d, 1001, 20);
	struct relay_stats st;
	relay_pool_stats(d->pool, 0, &st);
	if (d->step == 0 && relay_pool_connected(d->pool) == 1) {
		check(d, subscribe(d, "wide", &f) == 0,
		      "subscribe 1001 authors (pool past the limit)");
		d->step = 1;
	} else if (d->step == 1 && st.notices == 1) {
		check(d, d->eose == 0, "a filter of 1001 authors refused by the relay");
		relay_pool_unsubscribe(d->pool, "wide");
		f = wide_filter(d, 1000, 21);
		check(d, subscribe(d, "kinds", &f) == 0,
		      "subscribe 21 kinds (pool past the limit)");
		d->step = 2;
	} else if (d->step == 2 && st.notices == 2) {
		check(d, d->eose == 0, "a filter of 21 kinds refused by the relay");
		stop_loop(d);
	}
}

/*
 * ---- hostile: the relay sends malformed messages and forged copies (bad
 * id, bad signature) of a stored event before it: all counted and
 * dropped, the genuine event handed on once, the connection kept. ----
 */
static void hostile_step(struct drive *d)
{
	int kinds[] = {1};
	const char *authors[] = {d->a_hex};
	struct relay_filter f = {
		.kinds = kinds, .nkinds = 1, .authors = authors, .nauthors = 1, .limit = -1};
	struct relay_stats st;
	relay_pool_stats(d->pool, 0, &st);
	if (d->step == 0 && relay_pool_connected(d->pool) == 1) {
		check(d, publish(d, d->pool, &d->a, 1, NULL, "genuine", d->want_id) == 0,
		      "publish a stored event");
		d->step = 1;
	} else if (d->step == 1 && d->done_pubs == 1) {
		check(d, d->accepted == 1, "stored event accepted");
		check(d, subscribe(d, "hostile", &f) == 0, "subscribe");
		d->step = 2;
	} else if (d->step == 2 && d->eose == 1) {
		check(d, st.malformed == 5, "five malformed relay messages counted and ignored");
		check(d, st.events_invalid == 2, "forged events (bad id, bad signature) dropped");
		check(d, d->events_a == 1 && d->events_other == 0,
		      "only the genuine event handed on, once");
		check(d, st.disconnects == 0 && relay_pool_connected(d->pool) == 1,
		      "connection kept");
		stop_loop(d);
	}
}

/* ---- dedup: the same relay twice; each event is handed on once. ---- */
static void dedup_step(struct drive *d)
{
	int kinds[] = {1};
	const char *p[] = {d->a_hex};
	struct relay_filter f = {
		.kinds = kinds, .nkinds = 1, .p_tags = p, .np_tags = 1, .limit = 0};
	struct relay_stats s0, s1;
	char err[128];
	if (d->step == 0) {
		check(d, relay_pool_add(d->pool, d->url, err, sizeof(err)) == 0, "second relay");
		d->step = 1;
	} else if (d->step == 1 && relay_pool_connected(d->pool) == 2) {
		check(d, subscribe(d, "both", &f) == 0, "subscribe on both");
		d->step = 2;
	} else if (d->step == 2 && d->eose == 2) {
		check(d, publish(d, d->pool, &d->b, 1, d->a_hex, "twice", d->want_id) == 0,
		      "publish");
		d->step = 10;
	} else if (d->step == 10 && d->done_pubs == 1) {
		relay_pool_stats(d->pool, 0, &s0);
		relay_pool_stats(d->pool, 1, &s1);
		if (s0.events_in + s1.events_in < 2)
			return; /* both copies not in yet */
		check(d, d->accepted == 1, "publish accepted");
		check(d, s0.published_ok == 1 && s1.published_ok == 1, "OK true from each relay");
		check(d, s0.events_in == 1 && s1.events_in == 1, "each relay delivered the event");
		check(d, d->events_a == 1, "handed on once (deduplicated by id)");
		stop_loop(d);
	}
}

/* ---- keepalive: pings keep a live connection; a stopped peer is detected. ---- */
static void keepalive_step(struct drive *d)
{
	pid_t pid = relay_pid();
	struct relay_stats st;
	relay_pool_stats(d->pool, 0, &st);
	if (d->step == 0 && st.connects == 1) {
		d->lost_ms = clock_now_ms(d->clock);
		d->step = 1;
	} else if (d->step == 1 && clock_now_ms(d->clock) - d->lost_ms > 2500) {
		check(d, st.disconnects == 0, "connection alive across several pings");
		check(d, pid > 0 && kill(pid, SIGSTOP) == 0, "relay frozen (SIGSTOP)");
		d->step = 2;
	} else if (d->step == 2 && st.disconnects == 1) {
		check(d, kill(pid, SIGCONT) == 0, "relay thawed");
		check(d, 1, "dead peer detected by keepalive");
		stop_loop(d);
	}
}

/* The resident set size of this process in KiB (from /proc), or -1. */
static long rss_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	if (f != NULL)
		fclose(f);
	return kib;
}

/* The flood scenario's cap on what is queued per relay. */
#define FLOOD_PENDING_MAX (256 * 1024)

/*
 * ---- flood: a relay that floods pings and never reads
 * (tests/peers/flood_relay.mjs). What is queued for it stays bounded,
 * the process does not grow, and the connection is dropped by the write
 * timeout and retried, twice. ----
 */
static void flood_step(struct drive *d)
{
	static size_t most;
	static long rss0, rss_most;
	struct relay_stats st;
	long rss = rss_kib();
	relay_pool_stats(d->pool, 0, &st);
	if (st.pending_out > most)
		most = st.pending_out;
	if (rss > rss_most)
		rss_most = rss;
	if (d->step == 0 && st.connects == 1) {
		rss0 = rss;
		d->step = 1;
	} else if (d->step == 1 && st.connects >= 3 && st.disconnects >= 2) {
		printf("# most_queued_bytes=%zu rss_start_kib=%ld rss_most_kib=%ld\n", most, rss0,
		       rss_most);
		check(d, 1, "dropped twice by the write timeout and reconnected each time");
		check(d, most <= FLOOD_PENDING_MAX + 64 * 1024,
		      "bytes queued for the relay stay within the cap (plus one read's pongs)");
		check(d, rss0 > 0 && rss_most - rss0 < 64 * 1024,
		      "the process grew by less than 64 MiB under the flood");
		stop_loop(d);
	}
}

/* One table row per scenario. */
struct scenario {
	const char *name;
	void (*step)(struct drive *d);
	struct relay_pool_config cfg; /* timers and limits; zero: new_pool's quick defaults */
	bool publisher;		      /* a second pool that only publishes */
};

static const struct scenario scenarios[] = {
	{.name = "pubsub", .step = pubsub_step},
	{.name = "reconnect",
	 .step = reconnect_step,
	 .cfg = {.backoff_min_ms = 1500}, /* room to publish while it is away */
	 .publisher = true},
	{.name = "gap",
	 .step = gap_step,
	 .cfg = {.backoff_min_ms = 500, .backoff_max_ms = 60000}, /* the daemon's defaults */
	 .publisher = true},
	{.name = "down", .step = down_step},
	{.name = "close", .step = close_step},
	{.name = "abort", .step = abort_step},
	{.name = "auth", .step = auth_step},
	{.name = "keepalive",
	 .step = keepalive_step,
	 .cfg = {.ping_interval_ms = 100, .pong_timeout_ms = 1000, .backoff_min_ms = 5000}},
	{.name = "chunks", .step = chunks_step},
	{.name = "overlimit",
	 .step = overlimit_step,
	 .cfg = {.max_p_per_filter = 300, .max_subs_per_relay = 21}},
	{.name = "filters", .step = filters_step},
	{.name = "filters-over",
	 .step = filters_over_step,
	 .cfg = {.max_authors_per_filter = 1001, .max_kinds_per_filter = 21}},
	{.name = "dedup", .step = dedup_step},
	{.name = "hostile", .step = hostile_step},
	{.name = "flood",
	 .step = flood_step,
	 .cfg = {.max_pending_out = FLOOD_PENDING_MAX,
		 .write_timeout_ms = 1000,
		 .backoff_min_ms = 200,
		 .backoff_max_ms = 400}},
};
static const struct scenario *current;

/* Drive the current scenario. */
static void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	current->step(arg);
}

/* The watchdog: a stuck scenario fails. */
static void watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct drive *d = arg;
	check(d, 0, "scenario finished before the watchdog (step stuck)");
	printf("# stuck at step %d (eose %d, publishes done %d, stream %d)\n", d->step, d->eose,
	       d->done_pubs, gap.n);
	stop_loop(d);
}

/* Run a WebSocket-only TLS check: print "open" or "closed: reason". */
static void tls_open(void *arg)
{
	struct drive *d = arg;
	printf("result: open\n");
	stop_loop(d);
}

/* TLS: closed before open. */
static void tls_closed(void *arg, int code, const char *reason)
{
	(void)code;
	struct drive *d = arg;
	printf("result: closed: %s\n", reason);
	stop_loop(d);
}

/* tls URL CAFILE: connect a bare WebSocket. */
static int run_tls(struct drive *d, const char *ca)
{
	static const struct ws_callbacks cb = {.on_open = tls_open, .on_closed = tls_closed};
	char err[256];
	struct ws_client *ws = NULL;
	SSL_CTX *ctx = ws_tls_ctx_new(ca, err, sizeof(err));
	struct ws_config wc = {.base = d->base, .clock = d->clock, .ssl_ctx = ctx};
	if (!ctx || ws_client_new(&ws, &wc, d->url, &cb, d, err, sizeof(err)) != 0) {
		printf("result: error: %s\n", err);
	} else {
		event_base_dispatch(d->base);
		ws_client_free(ws);
	}
	SSL_CTX_free(ctx);
	return 0;
}

/* Run one scenario against url. */
int main(int argc, char **argv)
{
	struct drive d = {0};
	int rc = 2;
	if (argc < 3)
		return 2;
	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_TEXT);
	d.url = argv[2];
	d.arg = argv[1];
	d.base = event_base_new();
	d.clock = clock_new_libevent(d.base);
	if (nostr_keypair_generate(&d.a) != 0 || nostr_keypair_generate(&d.b) != 0)
		return 2;
	nostr_pubkey_to_hex(d.a_hex, &d.a.pub);
	nostr_pubkey_to_hex(d.b_hex, &d.b.pub);
	if (strcmp(argv[1], "tls") == 0) {
		rc = run_tls(&d, argc > 3 ? argv[3] : NULL);
		goto out;
	}
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (strcmp(scenarios[i].name, argv[1]) == 0)
			current = &scenarios[i];
	if (!current)
		goto out;
	d.pool = new_pool(&d, &current->cfg, &drive_handlers);
	if (current->publisher)
		d.pub_pool = new_pool(&d, &(struct relay_pool_config){.backoff_min_ms = 50},
				      &publisher_handlers);
	if (!d.pool)
		goto out;
	struct event *t = event_new(d.base, -1, EV_PERSIST, tick, &d);
	struct event *w = evtimer_new(d.base, watchdog, &d);
	event_add(t, &(struct timeval){0, 20000});
	event_add(w, &(struct timeval){20, 0});
	event_base_dispatch(d.base);
	event_free(t);
	event_free(w);
	rc = d.failed ? 1 : 0;
out:
	relay_pool_free(d.pool);
	relay_pool_free(d.pub_pool);
	nostr_keypair_wipe(&d.a);
	nostr_keypair_wipe(&d.b);
	clock_free(d.clock);
	event_base_free(d.base);
	return rc;
}
