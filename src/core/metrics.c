/*
 * metrics.c - the metrics registry behind metrics.h: families on a list,
 * series on a list per family (looked up by label values), rendered in the
 * Prometheus text exposition format through a sink.
 */
#include "core/metrics.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One combination of label values and its numbers. */
struct metrics_series {
	char **values;	   /* one per label name */
	double value;	   /* counter or gauge */
	double sum;	   /* histogram: sum of observations */
	uint64_t count;	   /* histogram: number of observations */
	uint64_t *buckets; /* histogram: per bucket (not cumulative), nbounds + 1 */
	struct metrics_series *next;
};

struct metrics_family {
	enum metrics_type type;
	char *name;
	char *help;
	char **labels; /* nlabels names */
	size_t nlabels;
	double *bounds; /* histogram: nbounds upper bounds */
	size_t nbounds;
	struct metrics_series *series;
	struct metrics_family *next;
};

/* A collector called before every render. */
struct metrics_collector {
	metrics_collect_fn fn;
	void *arg;
};

struct metrics {
	struct metrics_family *families; /* registration order */
	struct metrics_collector *collectors;
	size_t ncollectors;
};

/* A render in progress: the sink and whether it failed. */
struct metrics_out {
	metrics_sink_fn sink;
	void *arg;
	int failed;
};

/* A growable string for metrics_render_string. */
struct metrics_str {
	char *s;
	size_t len, cap;
};

static struct metrics_family *metrics_register(struct metrics *m, enum metrics_type type,
					       const char *name, const char *help,
					       const char *const *labels);
static int metrics_labels_copy(struct metrics_family *f, const char *const *labels);
static bool metrics_names_ok(enum metrics_type type, const char *name, const char *const *labels);
static void metrics_family_free(struct metrics_family *f);
static void metrics_series_free(struct metrics_series *s, size_t nlabels);
static struct metrics_series *metrics_series_get(struct metrics_family *f,
						 const char *const *values, bool create);
static struct metrics_series *metrics_series_new(struct metrics_family *f,
						 const char *const *values);
static void metrics_put(struct metrics_out *o, const char *s, size_t len);
static void metrics_puts(struct metrics_out *o, const char *s);
static void metrics_put_escaped(struct metrics_out *o, const char *s, bool quote);
static void metrics_put_double(struct metrics_out *o, double v);
static void metrics_put_labels(struct metrics_out *o, const struct metrics_family *f,
			       const struct metrics_series *s, const char *le);
static void metrics_render_family(struct metrics_out *o, const struct metrics_family *f);
static void metrics_render_histogram(struct metrics_out *o, const struct metrics_family *f,
				     const struct metrics_series *s);
static int metrics_str_sink(void *arg, const char *s, size_t len);

static const char *const metrics_type_names[] = {
	[METRICS_COUNTER] = "counter",
	[METRICS_GAUGE] = "gauge",
	[METRICS_HISTOGRAM] = "histogram",
};

/* A new empty registry. */
struct metrics *metrics_new(void)
{
	return calloc(1, sizeof(struct metrics));
}

/* Free the registry, its families and collectors. */
void metrics_free(struct metrics *m)
{
	struct metrics_family *f, *next;

	if (m == NULL)
		return;
	for (f = m->families; f != NULL; f = next) {
		next = f->next;
		metrics_family_free(f);
	}
	free(m->collectors);
	free(m);
}

/* Register a counter. */
struct metrics_family *metrics_counter(struct metrics *m, const char *name, const char *help,
				       const char *const *labels)
{
	return metrics_register(m, METRICS_COUNTER, name, help, labels);
}

/* Register a gauge. */
struct metrics_family *metrics_gauge(struct metrics *m, const char *name, const char *help,
				     const char *const *labels)
{
	return metrics_register(m, METRICS_GAUGE, name, help, labels);
}

/* Register a histogram with strictly increasing finite bounds. */
struct metrics_family *metrics_histogram(struct metrics *m, const char *name, const char *help,
					 const char *const *labels, const double *bounds,
					 size_t nbounds)
{
	struct metrics_family *f;

	for (size_t i = 0; i < nbounds; i++)
		if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
			return NULL;
	if (nbounds == 0 || metrics_find(m, name) != NULL)
		return NULL;
	f = metrics_register(m, METRICS_HISTOGRAM, name, help, labels);
	if (f == NULL)
		return NULL;
	f->bounds = malloc(nbounds * sizeof(double));
	if (f->bounds == NULL) {
		f->nbounds = 0; /* family stays registered but unusable */
		return NULL;
	}
	memcpy(f->bounds, bounds, nbounds * sizeof(double));
	f->nbounds = nbounds;
	return f;
}

/* Create and link a family after validating its names. */
static struct metrics_family *metrics_register(struct metrics *m, enum metrics_type type,
					       const char *name, const char *help,
					       const char *const *labels)
{
	struct metrics_family *f, **tail;

	if (!metrics_names_ok(type, name, labels) || metrics_find(m, name) != NULL)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->type = type;
	f->name = strdup(name);
	f->help = strdup(help != NULL ? help : "");
	if (f->name == NULL || f->help == NULL || metrics_labels_copy(f, labels) < 0)
		goto fail;
	for (tail = &m->families; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = f;
	return f;
fail:
	metrics_family_free(f);
	return NULL;
}

/* Copy the NULL-terminated label names into the family. 0, or -1. */
static int metrics_labels_copy(struct metrics_family *f, const char *const *labels)
{
	size_t n = 0;

	while (labels != NULL && labels[n] != NULL)
		n++;
	if (n == 0)
		return 0;
	f->labels = calloc(n, sizeof(char *));
	if (f->labels == NULL)
		return -1;
	f->nlabels = n;
	for (size_t i = 0; i < n; i++)
		if ((f->labels[i] = strdup(labels[i])) == NULL)
			return -1;
	return 0;
}

/* Whether the metric name, its suffix convention and label names are valid. */
static bool metrics_names_ok(enum metrics_type type, const char *name, const char *const *labels)
{
	size_t len;

	if (name == NULL || !metrics_name_valid(name))
		return false;
	len = strlen(name);
	if (type == METRICS_COUNTER && (len <= 6 || strcmp(name + len - 6, "_total") != 0))
		return false;
	for (size_t i = 0; labels != NULL && labels[i] != NULL; i++) {
		if (!metrics_label_name_valid(labels[i]))
			return false;
		if (type == METRICS_HISTOGRAM && strcmp(labels[i], "le") == 0)
			return false;
		for (size_t j = 0; j < i; j++)
			if (strcmp(labels[i], labels[j]) == 0)
				return false;
	}
	return true;
}

/* Whether name matches [a-zA-Z_:][a-zA-Z0-9_:]*. */
int metrics_name_valid(const char *name)
{
	static const char first[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:";
	static const char rest[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:"
				   "0123456789";

	if (name[0] == '\0' || strchr(first, name[0]) == NULL)
		return 0;
	return strspn(name, rest) == strlen(name);
}

/* Whether name matches [a-zA-Z_][a-zA-Z0-9_]* and does not start with "__". */
int metrics_label_name_valid(const char *name)
{
	if (strchr(name, ':') != NULL || strncmp(name, "__", 2) == 0)
		return 0;
	return metrics_name_valid(name);
}

/* The family registered under name, or NULL. */
struct metrics_family *metrics_find(struct metrics *m, const char *name)
{
	for (struct metrics_family *f = m->families; f != NULL; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

/* The type of a family. */
enum metrics_type metrics_family_type(const struct metrics_family *f)
{
	return f->type;
}

/* Free a family and its series. */
static void metrics_family_free(struct metrics_family *f)
{
	metrics_family_reset(f);
	for (size_t i = 0; i < f->nlabels; i++)
		free(f->labels[i]);
	free(f->labels);
	free(f->bounds);
	free(f->name);
	free(f->help);
	free(f);
}

/* Remove every series of a family. */
void metrics_family_reset(struct metrics_family *f)
{
	struct metrics_series *s, *next;

	for (s = f->series; s != NULL; s = next) {
		next = s->next;
		metrics_series_free(s, f->nlabels);
	}
	f->series = NULL;
}

/* Free one series. */
static void metrics_series_free(struct metrics_series *s, size_t nlabels)
{
	for (size_t i = 0; s->values != NULL && i < nlabels; i++)
		free(s->values[i]);
	free(s->values);
	free(s->buckets);
	free(s);
}

/* The series with these label values; created at the end when asked. */
static struct metrics_series *metrics_series_get(struct metrics_family *f,
						 const char *const *values, bool create)
{
	struct metrics_series **p;
	size_t i;

	for (p = &f->series; *p != NULL; p = &(*p)->next) {
		for (i = 0; i < f->nlabels; i++)
			if (strcmp((*p)->values[i], values[i] != NULL ? values[i] : "") != 0)
				break;
		if (i == f->nlabels)
			return *p;
	}
	if (create)
		*p = metrics_series_new(f, values);
	return create ? *p : NULL;
}

/* A new zeroed series holding copies of the label values. NULL on ENOMEM. */
static struct metrics_series *metrics_series_new(struct metrics_family *f,
						 const char *const *values)
{
	struct metrics_series *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	if (f->nlabels > 0 && (s->values = calloc(f->nlabels, sizeof(char *))) == NULL)
		goto fail;
	for (size_t i = 0; i < f->nlabels; i++)
		if ((s->values[i] = strdup(values[i] != NULL ? values[i] : "")) == NULL)
			goto fail;
	if (f->type == METRICS_HISTOGRAM &&
	    (s->buckets = calloc(f->nbounds + 1, sizeof(uint64_t))) == NULL)
		goto fail;
	return s;
fail:
	metrics_series_free(s, f->nlabels);
	return NULL;
}

/* Add a non-negative amount to a counter series. */
int metrics_counter_add(struct metrics_family *f, const char *const *values, double v)
{
	struct metrics_series *s;

	if (f == NULL || f->type != METRICS_COUNTER || !(v >= 0))
		return -1;
	if ((s = metrics_series_get(f, values, true)) == NULL)
		return -1;
	s->value += v;
	return 0;
}

/* Set a gauge series. */
int metrics_gauge_set(struct metrics_family *f, const char *const *values, double v)
{
	struct metrics_series *s;

	if (f == NULL || f->type != METRICS_GAUGE)
		return -1;
	if ((s = metrics_series_get(f, values, true)) == NULL)
		return -1;
	s->value = v;
	return 0;
}

/* Add to a gauge series. */
int metrics_gauge_add(struct metrics_family *f, const char *const *values, double v)
{
	struct metrics_series *s;

	if (f == NULL || f->type != METRICS_GAUGE)
		return -1;
	if ((s = metrics_series_get(f, values, true)) == NULL)
		return -1;
	s->value += v;
	return 0;
}

/* Count one observation into its bucket, the sum and the count. */
int metrics_observe(struct metrics_family *f, const char *const *values, double v)
{
	struct metrics_series *s;
	size_t i;

	if (f == NULL || f->type != METRICS_HISTOGRAM || f->nbounds == 0 || isnan(v))
		return -1;
	if ((s = metrics_series_get(f, values, true)) == NULL)
		return -1;
	for (i = 0; i < f->nbounds && v > f->bounds[i]; i++)
		;
	s->buckets[i]++;
	s->sum += v;
	s->count++;
	return 0;
}

/* The value of a counter or gauge series, 0 when absent. */
double metrics_value(const struct metrics_family *f, const char *const *values)
{
	struct metrics_series *s;

	s = metrics_series_get((struct metrics_family *)f, values, false);
	if (s == NULL)
		return 0;
	return f->type == METRICS_HISTOGRAM ? (double)s->count : s->value;
}

/* Remember a collector. */
int metrics_add_collector(struct metrics *m, metrics_collect_fn fn, void *arg)
{
	struct metrics_collector *c;

	c = realloc(m->collectors, (m->ncollectors + 1) * sizeof(*c));
	if (c == NULL)
		return -1;
	m->collectors = c;
	c[m->ncollectors++] = (struct metrics_collector){.fn = fn, .arg = arg};
	return 0;
}

/* Forget a collector. */
void metrics_remove_collector(struct metrics *m, metrics_collect_fn fn, void *arg)
{
	for (size_t i = 0; i < m->ncollectors; i++) {
		if (m->collectors[i].fn != fn || m->collectors[i].arg != arg)
			continue;
		memmove(&m->collectors[i], &m->collectors[i + 1],
			(m->ncollectors - i - 1) * sizeof(*m->collectors));
		m->ncollectors--;
		return;
	}
}

/* Collect, then render every family that has a series (or no labels). */
int metrics_render(struct metrics *m, metrics_sink_fn sink, void *arg)
{
	struct metrics_out o = {.sink = sink, .arg = arg};

	for (size_t i = 0; i < m->ncollectors; i++)
		m->collectors[i].fn(m->collectors[i].arg, m);
	for (struct metrics_family *f = m->families; f != NULL && !o.failed; f = f->next)
		metrics_render_family(&o, f);
	return o.failed ? -1 : 0;
}

/* HELP, TYPE and one line per series (a label-less family shows 0). */
static void metrics_render_family(struct metrics_out *o, const struct metrics_family *f)
{
	metrics_puts(o, "# HELP ");
	metrics_puts(o, f->name);
	metrics_puts(o, " ");
	metrics_put_escaped(o, f->help, false);
	metrics_puts(o, "\n# TYPE ");
	metrics_puts(o, f->name);
	metrics_puts(o, " ");
	metrics_puts(o, metrics_type_names[f->type]);
	metrics_puts(o, "\n");
	if (f->series == NULL && f->nlabels == 0 && f->type != METRICS_HISTOGRAM) {
		metrics_puts(o, f->name);
		metrics_puts(o, " 0\n");
		return;
	}
	for (const struct metrics_series *s = f->series; s != NULL; s = s->next) {
		if (f->type == METRICS_HISTOGRAM) {
			metrics_render_histogram(o, f, s);
			continue;
		}
		metrics_puts(o, f->name);
		metrics_put_labels(o, f, s, NULL);
		metrics_put_double(o, s->value);
	}
}

/* The cumulative _bucket lines, then _sum and _count, of one series. */
static void metrics_render_histogram(struct metrics_out *o, const struct metrics_family *f,
				     const struct metrics_series *s)
{
	char le[32];
	uint64_t cum = 0;

	for (size_t i = 0; i <= f->nbounds; i++) {
		cum += s->buckets[i];
		if (i == f->nbounds)
			snprintf(le, sizeof(le), "+Inf");
		else
			snprintf(le, sizeof(le), "%.15g", f->bounds[i]);
		metrics_puts(o, f->name);
		metrics_puts(o, "_bucket");
		metrics_put_labels(o, f, s, le);
		metrics_put_double(o, (double)cum);
	}
	metrics_puts(o, f->name);
	metrics_puts(o, "_sum");
	metrics_put_labels(o, f, s, NULL);
	metrics_put_double(o, s->sum);
	metrics_puts(o, f->name);
	metrics_puts(o, "_count");
	metrics_put_labels(o, f, s, NULL);
	metrics_put_double(o, (double)s->count);
}

/* {name="value",...,le="x"} followed by a space; nothing when empty. */
static void metrics_put_labels(struct metrics_out *o, const struct metrics_family *f,
			       const struct metrics_series *s, const char *le)
{
	if (f->nlabels == 0 && le == NULL) {
		metrics_puts(o, " ");
		return;
	}
	metrics_puts(o, "{");
	for (size_t i = 0; i < f->nlabels; i++) {
		metrics_puts(o, i > 0 ? "," : "");
		metrics_puts(o, f->labels[i]);
		metrics_puts(o, "=\"");
		metrics_put_escaped(o, s->values[i], true);
		metrics_puts(o, "\"");
	}
	if (le != NULL) {
		metrics_puts(o, f->nlabels > 0 ? ",le=\"" : "le=\"");
		metrics_puts(o, le);
		metrics_puts(o, "\"");
	}
	metrics_puts(o, "} ");
}

/* A sample value (integers in full, else the shortest exact text), then a newline. */
static void metrics_put_double(struct metrics_out *o, double v)
{
	char buf[40];

	if (isnan(v))
		snprintf(buf, sizeof(buf), "NaN");
	else if (isinf(v))
		snprintf(buf, sizeof(buf), "%s", v > 0 ? "+Inf" : "-Inf");
	else if (v == trunc(v) && fabs(v) < 9007199254740992.0) /* 2^53: exact integers */
		snprintf(buf, sizeof(buf), "%.0f", v);
	else
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(buf, sizeof(buf), "%.*g", prec, v);
			if (strtod(buf, NULL) == v)
				break;
		}
	metrics_puts(o, buf);
	metrics_puts(o, "\n");
}

/* Write s, escaping backslash and newline (and '"' inside label values). */
static void metrics_put_escaped(struct metrics_out *o, const char *s, bool quote)
{
	const char *special = quote ? "\\\n\"" : "\\\n";
	size_t n;

	while (*s != '\0') {
		n = strcspn(s, special);
		metrics_put(o, s, n);
		s += n;
		if (*s == '\0')
			break;
		metrics_puts(o, *s == '\n' ? "\\n" : *s == '"' ? "\\\"" : "\\\\");
		s++;
	}
}

/* Write a NUL-terminated string. */
static void metrics_puts(struct metrics_out *o, const char *s)
{
	metrics_put(o, s, strlen(s));
}

/* Write len bytes unless an earlier write failed. */
static void metrics_put(struct metrics_out *o, const char *s, size_t len)
{
	if (o->failed || len == 0)
		return;
	if (o->sink(o->arg, s, len) < 0)
		o->failed = 1;
}

/* Render into a malloc'd string (owned by the caller). */
char *metrics_render_string(struct metrics *m)
{
	struct metrics_str str = {0};

	if (metrics_render(m, metrics_str_sink, &str) < 0 || metrics_str_sink(&str, "", 1) < 0) {
		free(str.s);
		return NULL;
	}
	return str.s;
}

/* Append to a growable string. */
static int metrics_str_sink(void *arg, const char *s, size_t len)
{
	struct metrics_str *str = arg;
	char *p;
	size_t cap;

	if (str->len + len > str->cap) {
		cap = (str->len + len) * 2 + 256;
		if ((p = realloc(str->s, cap)) == NULL)
			return -1;
		str->s = p;
		str->cap = cap;
	}
	memcpy(str->s + str->len, s, len);
	str->len += len;
	return 0;
}
