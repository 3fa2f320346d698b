/*
 * relay_backoff.c - exponential backoff with equal jitter.
 */
#include "relay/relay_backoff.h"

/* The delay before reconnect attempt `attempt`. */
int64_t relay_backoff_delay(unsigned attempt, int64_t min_ms, int64_t max_ms, uint64_t rnd)
{
	int64_t base, half;

	if (min_ms < 1)
		min_ms = 1;
	if (max_ms < min_ms)
		max_ms = min_ms;
	base = min_ms;
	for (unsigned i = 0; i < attempt && base < max_ms; i++)
		base *= 2;
	if (base > max_ms)
		base = max_ms;
	half = base / 2;
	return base - half + (int64_t)(rnd % (uint64_t)(half + 1));
}
