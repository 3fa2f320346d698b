/*
 * clock.h - injectable time: "now" and one-shot timers.
 *
 * Code that waits takes a struct clock instead of calling libevent or
 * clock_gettime itself, so tests can run it on a virtual clock where a
 * budget of an hour passes in a microsecond, deterministically.
 *
 * Two implementations: clock_new_libevent() (monotonic time, timers are
 * libevent events on the daemon's event_base) and clock_new_virtual()
 * (time moves only when the test calls clock_virtual_advance()).
 */
#ifndef KC_CLOCK_H
#define KC_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct clock;
struct clock_timer;

/* Called when a timer fires. */
typedef void (*clock_cb)(void *arg);

/* A clock on the monotonic time of the system and the given event loop. */
struct clock *clock_new_libevent(struct event_base *base);

/* A virtual clock starting at start_ms; time moves only by advance. */
struct clock *clock_new_virtual(int64_t start_ms);

/* Free a clock; every timer of it must have been freed. NULL is ignored. */
void clock_free(struct clock *clk);

/* Milliseconds since an arbitrary, fixed origin (monotonic). */
int64_t clock_now_ms(struct clock *clk);

/*
 * CLOCK_MONOTONIC in milliseconds, with no clock object: for blocking
 * code off the loop (the admin commands' waits, the boot's lock wait).
 * The libevent clock reads the same time.
 */
int64_t clock_mono_ms(void);

/* A new stopped timer that calls cb(arg) when it fires. NULL on ENOMEM. */
struct clock_timer *clock_timer_new(struct clock *clk, clock_cb cb, void *arg);

/* (Re)arm the timer to fire once after delay_ms (negative counts as 0). */
void clock_timer_start(struct clock_timer *t, int64_t delay_ms);

/* Disarm the timer; a stopped timer is left as it is. */
void clock_timer_stop(struct clock_timer *t);

/* Whether the timer is armed. */
bool clock_timer_pending(const struct clock_timer *t);

/* Stop and free a timer. NULL is ignored. Safe inside its own callback. */
void clock_timer_free(struct clock_timer *t);

/*
 * Virtual clock only: move time forward by ms, firing every timer that
 * falls due in order of deadline (timers armed by callbacks included).
 * Returns the number of timers fired.
 */
unsigned clock_virtual_advance(struct clock *clk, int64_t ms);

/*
 * Virtual clock only: timers armed from now on with a delay above early_ms
 * fire early_ms before it is up, as a loop whose cached time runs behind
 * the clock does.
 */
void clock_virtual_set_early(struct clock *clk, int64_t early_ms);

/* Virtual clock only: fire timers due now, without moving time. */
unsigned clock_virtual_run_due(struct clock *clk);

/* Virtual clock only: the number of armed timers. */
unsigned clock_virtual_pending(struct clock *clk);

#endif /* KC_CLOCK_H */
