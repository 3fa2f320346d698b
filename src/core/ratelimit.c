/*
 * ratelimit.c - the fixed-window limiter behind ratelimit.h.
 */
#include "core/ratelimit.h"

/* Set up a limiter. */
void ratelimit_init(struct ratelimit *rl, uint32_t burst, int64_t window_ms)
{
	*rl = (struct ratelimit){
		.burst = burst > 0 ? burst : 1,
		.window_ms = window_ms > 0 ? window_ms : 1,
		.window_start = INT64_MIN,
	};
}

/* One event at now_ms: pass it (handing back the refused count) or count it. */
bool ratelimit_allow(struct ratelimit *rl, int64_t now_ms, uint64_t *suppressed)
{
	*suppressed = 0;
	if (rl->window_start == INT64_MIN || now_ms - rl->window_start >= rl->window_ms ||
	    now_ms < rl->window_start) {
		rl->window_start = now_ms;
		rl->used = 0;
	}
	if (rl->used >= rl->burst) {
		rl->pending++;
		rl->suppressed_total++;
		return false;
	}
	rl->used++;
	*suppressed = rl->pending;
	rl->pending = 0;
	return true;
}
