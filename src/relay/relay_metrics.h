/*
 * relay_metrics.h - the relay pool's per-relay state and counters as
 * Prometheus metrics (core/metrics.h), refreshed by a collector at every
 * scrape from relay_pool_stats().
 */
#ifndef KC_RELAY_METRICS_H
#define KC_RELAY_METRICS_H

struct metrics;
struct relay_pool;

/*
 * Register the keycastd_relay_* families in m and a collector reading p.
 * Returns 0, or -1 (names taken, ENOMEM). Call relay_metrics_unregister
 * before freeing the pool.
 */
int relay_metrics_register(struct metrics *m, struct relay_pool *p)
	__attribute__((warn_unused_result));

/* Stop reading p (its series keep their last values). */
void relay_metrics_unregister(struct metrics *m, struct relay_pool *p);

#endif /* KC_RELAY_METRICS_H */
