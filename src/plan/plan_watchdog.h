/*
 * plan_watchdog.h - a thread outside the event loop that ends the process
 * when the shutdown outlives the plan's own bound.
 *
 * Started idle at boot with a deadline (ms) and its final lines formatted
 * in advance. Armed by the first shutdown signal itself: a chained
 * async-signal-safe handler runs in front of the event loop's own, notes
 * the instant (CLOCK_MONOTONIC) and posts a semaphore, so the deadline
 * counts from the signal even when the loop is already stuck and never
 * sees it; the plan counts its own timers from that same instant
 * (plan_watchdog_armed_ms). Stopped when the plan finishes.
 *
 * The final line is written once: whoever claims it first
 * (plan_watchdog_claim_final, the plan's hook, or the watchdog at its
 * deadline) writes it; the other writes nothing. If the deadline passes
 * and the watchdog wins, it writes its line ("shutdown complete with
 * warning: watchdog fired, ...", warning level, whatever the log threshold;
 * it says whether the event loop still turned, from the loop's beats,
 * plan_watchdog_beat) with one non-blocking write(2) — no allocation, no
 * stdio lock, a full stderr pipe loses the line rather than hold the
 * thread — and calls its exit function (_exit by default; tests inject
 * their own).
 */
#ifndef KC_PLAN_WATCHDOG_H
#define KC_PLAN_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>

struct plan;
struct plan_watchdog;

/* How the watchdog ends the process. */
typedef void (*plan_watchdog_exit_fn)(void *arg, int code);

/* The deadline (ms before the ceiling) the daemon arms: ceiling minus this. */
#define PLAN_WATCHDOG_SLACK_MS 500

/* A loop that has not beaten for this long by the deadline is stuck. */
#define PLAN_WATCHDOG_STUCK_MS 1000

/* How often the daemon's loop beats while the plan runs. */
#define PLAN_WATCHDOG_BEAT_MS 100

/*
 * Start an idle watchdog that, once armed, fires deadline_ms later and
 * calls exit_fn(arg, code) (NULL: _exit(code)). NULL if the thread cannot
 * start (logged). The log format and hook in force now are the ones it uses.
 */
struct plan_watchdog *plan_watchdog_start(int64_t deadline_ms, plan_watchdog_exit_fn exit_fn,
					  void *arg, int code);

/* Arm the watchdog: the deadline counts from the first call. Async-signal-safe. */
void plan_watchdog_arm(struct plan_watchdog *w);

/*
 * The CLOCK_MONOTONIC time in ms (the libevent clock's base) at which w
 * was armed, or -1 if it is not armed (or w is NULL). The plan's start.
 */
int64_t plan_watchdog_armed_ms(const struct plan_watchdog *w);

/* The event loop turns (called from it, every PLAN_WATCHDOG_BEAT_MS). NULL ignored. */
void plan_watchdog_beat(struct plan_watchdog *w);

/*
 * Whether the watchdog has fired: its deadline passed and it claimed the
 * final line (it is ending the process). Any thread. NULL: false.
 */
bool plan_watchdog_fired(const struct plan_watchdog *w);

/*
 * Claim the final line of the shutdown: true when the caller is the first
 * (it writes the line, and the watchdog will not), false when the watchdog
 * has claimed it (it writes its own and ends the process). NULL: true.
 */
bool plan_watchdog_claim_final(struct plan_watchdog *w) __attribute__((warn_unused_result));

/*
 * Put a handler for sig in front of the one installed now (the event
 * loop's): it arms w, then calls the previous handler (SIG_DFL: the
 * default action runs, SIG_IGN: nothing). The previous mask and flags are
 * kept, but SA_RESETHAND. One watchdog per process, each signal chained
 * once (again: -1); plan_watchdog_stop() restores the previous handlers.
 * 0 or -1.
 */
int plan_watchdog_chain(struct plan_watchdog *w, int sig) __attribute__((warn_unused_result));

/* Restore the chained handlers, stop and free the watchdog; whether it had fired. NULL: false. */
bool plan_watchdog_stop(struct plan_watchdog *w);

/* The deadline a ceiling gives: 500 ms before it (half of a ceiling of 1 s or less). */
int64_t plan_watchdog_deadline_ms(int64_t ceiling_ms);

/*
 * The deadline the daemon arms for p: the ceiling's, unless the plan's
 * worst case (plan_worst_ms) does not end before it and p is in warn mode;
 * then the worst case plus PLAN_WATCHDOG_SLACK_MS, so the watchdog never
 * cuts a plan that runs within its own bounds (a strict plan it would cut
 * is refused at validation and never runs).
 */
int64_t plan_watchdog_plan_deadline_ms(const struct plan *p);

/* Whether the ceiling's deadline would cut p's worst case (worst >= deadline). */
bool plan_watchdog_cuts(const struct plan *p);

#endif /* KC_PLAN_WATCHDOG_H */
