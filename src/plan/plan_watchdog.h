/*
 * plan_watchdog.h - a thread outside the event loop that ends the process
 * before the plan's ceiling if the loop is stuck.
 *
 * Started idle at boot with a deadline (ms) and its final line formatted
 * in advance. Armed by the first shutdown signal itself: a chained
 * async-signal-safe handler runs in front of the event loop's own and
 * posts a semaphore, so the deadline counts from the signal even when the
 * loop is already stuck and never sees it. Stopped when the plan finishes.
 * If the deadline passes first it writes the final line ("shutdown
 * complete with warning: watchdog ...", warning level, whatever the log
 * threshold) with one non-blocking write(2) — no allocation, no stdio
 * lock, a full stderr pipe loses the line rather than hold the thread —
 * and calls its exit function (_exit by default; tests inject their own).
 */
#ifndef KC_PLAN_WATCHDOG_H
#define KC_PLAN_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>

struct plan_watchdog;

/* How the watchdog ends the process. */
typedef void (*plan_watchdog_exit_fn)(void *arg, int code);

/* The deadline (ms before the ceiling) the daemon arms: ceiling minus this. */
#define PLAN_WATCHDOG_SLACK_MS 500

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

/* The deadline the daemon gives a plan with this ceiling. */
int64_t plan_watchdog_deadline_ms(int64_t ceiling_ms);

#endif /* KC_PLAN_WATCHDOG_H */
