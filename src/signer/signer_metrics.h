/*
 * signer_metrics.h - the keycastd_signer_* metric families.
 *
 *   keycastd_signer_requests_total{method,outcome}  answered requests:
 *       outcome ok | error (bad request, failed method) | refused (not
 *       bound, policy, rate, expired, revoked) | unavailable (database)
 *   keycastd_signer_replies_total{result}           acknowledged | failed
 *   keycastd_signer_ignored_total{reason}           requests not answered
 *   keycastd_signer_claims_total{result}            won | lost | error
 *   keycastd_signer_inflight                         claimed, unfinished
 *   keycastd_signer_backlog                          request events waiting for room
 *   keycastd_signer_backlog_events_total{result}     queued | replayed | dropped | discarded
 *   keycastd_signer_reply_seconds                    request seen -> reply acknowledged
 *   keycastd_signer_authorizations / _keys           the serving set
 *   keycastd_signer_subscriptions                    request subscriptions
 *   keycastd_signer_audit_entries_total{result}      written | failed | dropped
 *
 * Every call accepts a NULL registry (no metrics) and does nothing.
 */
#ifndef KC_SIGNER_METRICS_H
#define KC_SIGNER_METRICS_H

#include <stddef.h>

struct metrics;
struct metrics_family;

/* The families, NULL when not registered. */
struct signer_metrics {
	struct metrics_family *requests, *replies, *ignored, *claims, *inflight, *latency;
	struct metrics_family *authz, *keys, *subs, *audit, *backlog, *backlogged;
};

/* Register the families in m (NULL: none). 0, or -1 (names taken, ENOMEM). */
int signer_metrics_register(struct signer_metrics *sm, struct metrics *m)
	__attribute__((warn_unused_result));

/* Count one answered request. */
void signer_metrics_request(struct signer_metrics *sm, const char *method, const char *outcome);

/* Count a label of a one-label counter family (replies, ignored, claims, backlogged). */
void signer_metrics_count(struct metrics_family *f, const char *label);

/* Observe one reply's latency in seconds. */
void signer_metrics_latency(struct signer_metrics *sm, double seconds);

/* Set an unlabelled gauge. */
void signer_metrics_gauge(struct metrics_family *f, double v);

/* Set the audit counters to their totals. */
void signer_metrics_audit(struct signer_metrics *sm, double written, double failed, double dropped);

#endif /* KC_SIGNER_METRICS_H */
