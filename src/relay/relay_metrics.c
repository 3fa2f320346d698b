/*
 * relay_metrics.c - keycastd_relay_* metrics from the pool's counters.
 */
#include "relay/relay_metrics.h"

#include <stddef.h>
#include <stdint.h>

#include "core/metrics.h"
#include "relay/relay_pool.h"

/* Which relay_stats field a counter family mirrors. */
struct relay_metrics_counter {
	const char *name;
	const char *help;
	size_t offset; /* of a uint64_t in struct relay_stats */
};

static void relay_metrics_collect(void *arg, struct metrics *m);
static void relay_metrics_relay(struct metrics *m, const struct relay_stats *st);

/* The counters, one family each, labelled by relay URL. */
static const struct relay_metrics_counter relay_metrics_counters[] = {
	{"keycastd_relay_connects_total", "Relay connections opened.",
	 offsetof(struct relay_stats, connects)},
	{"keycastd_relay_disconnects_total", "Relay connections lost or failed.",
	 offsetof(struct relay_stats, disconnects)},
	{"keycastd_relay_events_received_total",
	 "Events passing the checks made on receipt (before dedup).",
	 offsetof(struct relay_stats, events_in)},
	{"keycastd_relay_events_invalid_total", "Events dropped: bad JSON, id or signature.",
	 offsetof(struct relay_stats, events_invalid)},
	{"keycastd_relay_messages_malformed_total", "Relay messages that did not parse.",
	 offsetof(struct relay_stats, malformed)},
	{"keycastd_relay_published_ok_total", "Publishes the relay accepted (OK true).",
	 offsetof(struct relay_stats, published_ok)},
	{"keycastd_relay_published_rejected_total", "Publishes the relay rejected (OK false).",
	 offsetof(struct relay_stats, published_rejected)},
	{"keycastd_relay_published_timeout_total", "Publishes without an OK in time.",
	 offsetof(struct relay_stats, published_timeout)},
	{"keycastd_relay_notices_total", "NOTICE messages from the relay.",
	 offsetof(struct relay_stats, notices)},
	{"keycastd_relay_auths_total", "NIP-42 AUTH events the relay accepted.",
	 offsetof(struct relay_stats, auths)},
	{"keycastd_relay_log_suppressed_total",
	 "Log lines about the relay dropped by the per-relay rate limit.",
	 offsetof(struct relay_stats, log_suppressed)},
};

#define RELAY_METRICS_N (sizeof(relay_metrics_counters) / sizeof(relay_metrics_counters[0]))

/* Register the families and the collector. */
int relay_metrics_register(struct metrics *m, struct relay_pool *p)
{
	static const char *const relay_label[] = {"relay", NULL};
	for (size_t i = 0; i < RELAY_METRICS_N; i++)
		if (!metrics_counter(m, relay_metrics_counters[i].name,
				     relay_metrics_counters[i].help, relay_label))
			return -1;
	if (!metrics_gauge(m, "keycastd_relay_connected",
			   "1 if the relay connection is open, 0 otherwise.", relay_label) ||
	    !metrics_gauge(m, "keycastd_relay_pending_out_bytes",
			   "Bytes queued for the relay and not yet written.", relay_label) ||
	    !metrics_gauge(m, "keycastd_relay_publish_inflight",
			   "Publishes waiting for relay answers.", NULL))
		return -1;
	return metrics_add_collector(m, relay_metrics_collect, p);
}

/* Stop reading the pool. */
void relay_metrics_unregister(struct metrics *m, struct relay_pool *p)
{
	metrics_remove_collector(m, relay_metrics_collect, p);
}

/* One relay's series. */
static void relay_metrics_relay(struct metrics *m, const struct relay_stats *st)
{
	const char *const values[] = {st->url};
	for (size_t i = 0; i < RELAY_METRICS_N; i++) {
		struct metrics_family *f = metrics_find(m, relay_metrics_counters[i].name);
		uint64_t v;
		double delta;

		if (f == NULL)
			continue;
		v = *(const uint64_t *)((const char *)st + relay_metrics_counters[i].offset);
		delta = (double)v - metrics_value(f, values);
		if (delta > 0)
			(void)metrics_counter_add(f, values, delta);
	}
	(void)metrics_gauge_set(metrics_find(m, "keycastd_relay_connected"), values,
				st->state == RELAY_CONNECTED);
	(void)metrics_gauge_set(metrics_find(m, "keycastd_relay_pending_out_bytes"), values,
				(double)st->pending_out);
}

/* Refresh every series before a scrape. */
static void relay_metrics_collect(void *arg, struct metrics *m)
{
	struct relay_pool *p = arg;
	for (size_t i = 0; i < relay_pool_count(p); i++) {
		struct relay_stats st;
		relay_pool_stats(p, i, &st);
		relay_metrics_relay(m, &st);
	}
	(void)metrics_gauge_set(metrics_find(m, "keycastd_relay_publish_inflight"), NULL,
				(double)relay_pool_inflight(p));
}
