/*
 * plan_watchdog.h - a thread outside the event loop that ends the process
 * before the plan's ceiling if the loop is stuck.
 *
 * Armed when the plan starts with a deadline (ms from now); stopped when
 * the plan finishes. If the deadline passes first it writes the final
 * line ("shutdown complete with warning: watchdog ...", warning level)
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
 * Start a watchdog that fires deadline_ms from now and calls exit_fn(arg,
 * code) (NULL: _exit(code)). NULL if the thread cannot start (logged).
 */
struct plan_watchdog *plan_watchdog_start(int64_t deadline_ms, plan_watchdog_exit_fn exit_fn,
					  void *arg, int code);

/* Stop and free the watchdog; returns whether it had fired. NULL: false. */
bool plan_watchdog_stop(struct plan_watchdog *w);

/* The deadline the daemon gives a plan with this ceiling. */
int64_t plan_watchdog_deadline_ms(int64_t ceiling_ms);

#endif /* KC_PLAN_WATCHDOG_H */
