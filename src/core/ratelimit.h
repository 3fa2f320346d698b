/*
 * ratelimit.h - a fixed-window limiter for log lines (or anything counted).
 *
 * At most `burst` events pass per window of `window_ms`; the rest are
 * counted, and the count is handed back once, with the first event that
 * passes in a later window, so the caller can say how many it dropped:
 *
 *     uint64_t dropped;
 *     if (ratelimit_allow(&c->notice_rl, clock_now_ms(clk), &dropped)) {
 *             if (dropped > 0)
 *                     log_warn(..., "log lines suppressed", log_uint("suppressed", dropped));
 *             log_info(..., "relay notice", ...);
 *     }
 *
 * Time is the caller's (an injected clock), so tests run on a virtual one.
 * A struct ratelimit is plain data: embed one per source and kind of line.
 */
#ifndef KC_RATELIMIT_H
#define KC_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

/* One limiter; set it up with ratelimit_init(). */
struct ratelimit {
	uint32_t burst;		   /* events passed per window */
	int64_t window_ms;	   /* window length */
	int64_t window_start;	   /* start of the current window; INT64_MIN before the first */
	uint32_t used;		   /* events passed in the current window */
	uint64_t pending;	   /* refused since the last count handed back */
	uint64_t suppressed_total; /* refused since init */
};

/* Set up rl: burst events per window_ms (burst 0 counts as 1, window_ms < 1 as 1). */
void ratelimit_init(struct ratelimit *rl, uint32_t burst, int64_t window_ms);

/*
 * Whether one more event may pass at now_ms. When it may, *suppressed
 * receives how many were refused since the last count handed back (0 most
 * of the time); when it may not, the event is counted and *suppressed is 0.
 */
bool ratelimit_allow(struct ratelimit *rl, int64_t now_ms, uint64_t *suppressed)
	__attribute__((warn_unused_result));

#endif /* KC_RATELIMIT_H */
