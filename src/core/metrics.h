/*
 * metrics.h - a small metrics registry rendered in the Prometheus text
 * exposition format (version 0.0.4).
 *
 * A registry holds metric families: counters, gauges and histograms with
 * fixed buckets, each with a fixed list of label names. A series (one
 * combination of label values) is created the first time it is touched.
 * Names are validated when a family is registered: metric names match
 * [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* (not
 * starting with "__", never "le"), counters end in "_total".
 *
 * Values that are cheaper to read than to keep up to date (a component's
 * state) are set by a collector, which the registry calls before every
 * render. The registry is meant for one event loop: it takes no lock.
 *
 *   struct metrics_family *req = metrics_counter(m, "keycastd_x_total", "Xs.",
 *                                                (const char *[]){"route", NULL});
 *   metrics_counter_add(req, (const char *[]){"/healthz/ready"}, 1);
 */
#ifndef KC_METRICS_H
#define KC_METRICS_H

#include <stddef.h>

struct metrics;
struct metrics_family;

/* What kind of metric a family is. */
enum metrics_type {
	METRICS_COUNTER,   /* only goes up; name ends in _total */
	METRICS_GAUGE,	   /* goes up and down, or is set */
	METRICS_HISTOGRAM, /* observations counted into fixed buckets */
};

/* Called before every render to refresh values read from elsewhere. */
typedef void (*metrics_collect_fn)(void *arg, struct metrics *m);

/* Receives the rendered text piece by piece; returns 0, or -1 to stop. */
typedef int (*metrics_sink_fn)(void *arg, const char *s, size_t len);

/* A new empty registry. NULL on ENOMEM. */
struct metrics *metrics_new(void);

/* Free the registry and every family in it. NULL is ignored. */
void metrics_free(struct metrics *m);

/*
 * Register a counter named name with help text and the NULL-terminated
 * label names labels (NULL for none); strings are copied. Returns the
 * family, or NULL if a name is invalid, taken, or memory runs out.
 */
struct metrics_family *metrics_counter(struct metrics *m, const char *name, const char *help,
				       const char *const *labels);

/* Register a gauge; as metrics_counter. */
struct metrics_family *metrics_gauge(struct metrics *m, const char *name, const char *help,
				     const char *const *labels);

/*
 * Register a histogram with nbounds strictly increasing finite bucket
 * upper bounds (the +Inf bucket is implicit); as metrics_counter.
 */
struct metrics_family *metrics_histogram(struct metrics *m, const char *name, const char *help,
					 const char *const *labels, const double *bounds,
					 size_t nbounds);

/* The family registered under name, or NULL. */
struct metrics_family *metrics_find(struct metrics *m, const char *name);

/* The type of a family. */
enum metrics_type metrics_family_type(const struct metrics_family *f);

/*
 * Add v (>= 0) to the counter series with the given label values (one per
 * label name; NULL when there are none). Returns 0, or -1 on a negative
 * value, a wrong family type or ENOMEM.
 */
int metrics_counter_add(struct metrics_family *f, const char *const *values, double v);

/* Set a gauge series to v. Returns 0, or -1 (wrong type, ENOMEM). */
int metrics_gauge_set(struct metrics_family *f, const char *const *values, double v);

/* Add v (may be negative) to a gauge series. Returns 0, or -1. */
int metrics_gauge_add(struct metrics_family *f, const char *const *values, double v);

/* Record one observation v in a histogram series. Returns 0, or -1. */
int metrics_observe(struct metrics_family *f, const char *const *values, double v);

/* The current value of a counter or gauge series (0 if it does not exist). */
double metrics_value(const struct metrics_family *f, const char *const *values);

/* Remove every series of a family (for gauges rebuilt by a collector). */
void metrics_family_reset(struct metrics_family *f);

/* Call fn(arg, m) before every render. Returns 0, or -1 on ENOMEM. */
int metrics_add_collector(struct metrics *m, metrics_collect_fn fn, void *arg)
	__attribute__((warn_unused_result));

/* Stop calling a collector added with the same fn and arg. */
void metrics_remove_collector(struct metrics *m, metrics_collect_fn fn, void *arg);

/* Run the collectors, then render every family through sink. 0, or -1. */
int metrics_render(struct metrics *m, metrics_sink_fn sink, void *arg)
	__attribute__((warn_unused_result));

/* Render into a new NUL-terminated string the caller frees. NULL on ENOMEM. */
char *metrics_render_string(struct metrics *m);

/* Whether name is a valid metric name. */
int metrics_name_valid(const char *name);

/* Whether name is a valid label name for a family. */
int metrics_label_name_valid(const char *name);

/* The content type of the rendered text, for an HTTP response. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif /* KC_METRICS_H */
