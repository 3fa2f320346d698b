/*
 * relay_backoff.h - reconnect delays: exponential, capped, with jitter.
 *
 * When a relay restarts, every pod of every replica loses it at the same
 * moment; "equal jitter" (half fixed, half random) spreads their returns
 * so they do not arrive as one storm, while still backing off.
 */
#ifndef KC_RELAY_BACKOFF_H
#define KC_RELAY_BACKOFF_H

#include <stdint.h>

/*
 * The delay before reconnect attempt number `attempt` (0 = first retry):
 * base = min(max_ms, min_ms * 2^attempt); the result is in [base/2, base],
 * placed by rnd (any 64-bit random value).
 */
int64_t relay_backoff_delay(unsigned attempt, int64_t min_ms, int64_t max_ms, uint64_t rnd);

#endif /* KC_RELAY_BACKOFF_H */
