/*
 * signer_metrics.c - the keycastd_signer_* families.
 */
#include "signer/signer_metrics.h"

#include "core/metrics.h"

/* Reply latency buckets, in seconds: relays answer in milliseconds to seconds. */
static const double signer_latency_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
					       0.5,   1,    2.5,   5,	 10};

/* Register the families in m. */
int signer_metrics_register(struct signer_metrics *sm, struct metrics *m)
{
	if (m == NULL)
		return 0;
	sm->requests = metrics_counter(m, "keycastd_signer_requests_total",
				       "NIP-46 requests answered, by method and outcome.",
				       (const char *[]){"method", "outcome", NULL});
	sm->replies = metrics_counter(m, "keycastd_signer_replies_total",
				      "Replies acknowledged by a relay, or failed on every relay.",
				      (const char *[]){"result", NULL});
	sm->ignored = metrics_counter(m, "keycastd_signer_ignored_total",
				      "Requests seen and not answered, by reason.",
				      (const char *[]){"reason", NULL});
	sm->claims =
		metrics_counter(m, "keycastd_signer_claims_total",
				"Request claims in the database: won, lost to another replica, "
				"or failed.",
				(const char *[]){"result", NULL});
	sm->inflight = metrics_gauge(m, "keycastd_signer_inflight",
				     "Claimed requests not finished yet.", NULL);
	sm->backlog = metrics_gauge(m, "keycastd_signer_backlog",
				    "Request events waiting for room (signer_backlog).", NULL);
	sm->backlogged = metrics_counter(m, "keycastd_signer_backlog_events_total",
					 "Request events queued while full, replayed, dropped "
					 "(backlog full), or discarded (stopping).",
					 (const char *[]){"result", NULL});
	sm->latency = metrics_histogram(m, "keycastd_signer_reply_seconds",
					"Time from a request seen to its reply acknowledged.", NULL,
					signer_latency_bounds,
					sizeof(signer_latency_bounds) / sizeof(double));
	sm->authz = metrics_gauge(m, "keycastd_signer_authorizations",
				  "Authorizations served (live ones).", NULL);
	sm->keys = metrics_gauge(m, "keycastd_signer_keys", "User keys served.", NULL);
	sm->subs = metrics_gauge(m, "keycastd_signer_subscriptions",
				 "Request subscriptions kept on every relay.", NULL);
	sm->audit = metrics_counter(m, "keycastd_signer_audit_entries_total",
				    "Audit entries written, failed, or dropped (queue full).",
				    (const char *[]){"result", NULL});
	return sm->requests && sm->replies && sm->ignored && sm->claims && sm->inflight &&
			       sm->latency && sm->authz && sm->keys && sm->subs && sm->audit &&
			       sm->backlog && sm->backlogged
		       ? 0
		       : -1;
}

/* Count one answered request. */
void signer_metrics_request(struct signer_metrics *sm, const char *method, const char *outcome)
{
	if (sm->requests != NULL)
		(void)metrics_counter_add(sm->requests, (const char *[]){method, outcome}, 1);
}

/* Count a label of a one-label counter family. */
void signer_metrics_count(struct metrics_family *f, const char *label)
{
	if (f != NULL)
		(void)metrics_counter_add(f, (const char *[]){label}, 1);
}

/* Observe one reply's latency. */
void signer_metrics_latency(struct signer_metrics *sm, double seconds)
{
	if (sm->latency != NULL)
		(void)metrics_observe(sm->latency, NULL, seconds);
}

/* Set an unlabelled gauge. */
void signer_metrics_gauge(struct metrics_family *f, double v)
{
	if (f != NULL)
		(void)metrics_gauge_set(f, NULL, v);
}

/* Bring a counter series up to total. */
static void signer_metrics_to(struct metrics_family *f, const char *label, double total)
{
	double now = metrics_value(f, (const char *[]){label});

	if (total > now)
		(void)metrics_counter_add(f, (const char *[]){label}, total - now);
}

/* Set the audit counters to their totals. */
void signer_metrics_audit(struct signer_metrics *sm, double written, double failed, double dropped)
{
	if (sm->audit == NULL)
		return;
	signer_metrics_to(sm->audit, "written", written);
	signer_metrics_to(sm->audit, "failed", failed);
	signer_metrics_to(sm->audit, "dropped", dropped);
}
