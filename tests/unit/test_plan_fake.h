/*
 * test_plan_fake.h - fake components and a log recorder for the plan tests.
 *
 * A fake's drain and close complete after a configurable virtual delay
 * (FAKE_HANG: never); its abort confirms at once unless told to hang.
 */
#ifndef KC_TEST_PLAN_FAKE_H
#define KC_TEST_PLAN_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/log.h"

struct clock;
struct component;
struct component_registry;
struct clock_timer;

/* A delay that never ends. */
#define FAKE_HANG (-1)

/* A fake component. */
struct fake {
	struct clock *clk;
	struct component *c;
	struct clock_timer *timer;
	int64_t drain_ms, close_ms; /* FAKE_HANG: never completes */
	bool abort_hangs;
	int stops, drains, aborts, closes;
	int64_t stop_at, drain_done_at, abort_at;
	bool alive;	 /* false once aborted or closed */
	size_t inflight; /* what its inflight operation reports */
};

/* Register a fake under the catalogue desc named name. */
void fake_register(struct fake *f, struct component_registry *reg, struct clock *clk,
		   const char *name);

/* Free the fake's timer. */
void fake_release(struct fake *f);

/* The catalogue used by the tests: http, relay-signer (needs db), db. */
const struct component_desc *const *fake_descs(size_t *n);

/* One recorded log line. */
struct rec_line {
	enum log_level level;
	char msg[2048];
	char phase[64];
	char outcome[64];
	char fields[4096]; /* every field as " key=value", in order */
};

/* Start recording log lines (and silence stderr). */
void rec_start(void);
/* Stop recording. */
void rec_stop(void);
/* The number of recorded lines. */
size_t rec_count(void);
/* The i-th line. */
const struct rec_line *rec_at(size_t i);
/* The number of lines whose message is msg exactly. */
size_t rec_count_msg(const char *msg);
/* The last line whose message starts with prefix, or NULL. */
const struct rec_line *rec_find(const char *prefix);

#endif /* KC_TEST_PLAN_FAKE_H */
