/*
 * loadgen_report.c - the load generator's report: counts per request and
 * per segment, latency percentiles, the most frequent error texts; as
 * text and as one JSON line "loadgen: {...}" for scripts.
 *
 * A request is "accepted" when a relay said OK true; "answered" when at
 * least one reply carried the signed event asked for; "lost" when it was
 * accepted and no reply of any kind came; "duplicated" when more than one
 * reply carried a signed event. Latency runs from the relay's acceptance
 * to the first reply (0 when the reply came first).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "loadgen.h"

/* The error texts shown. */
#define LG_TOP_ERRORS 5

/* Counts over a set of requests. */
struct lg_counts {
	uint64_t sent, accepted, not_accepted, answered, error_only, error_replies, lost,
		duplicated;
};

/* Latency percentiles, in milliseconds. */
struct lg_latency {
	double p50, p90, p99, max;
	size_t n; /* requests measured */
};

static void lg_count(struct lg_counts *c, const struct lg_req *q);
static int lg_cmp_double(const void *a, const void *b);
static int lg_cmp_error(const void *a, const void *b);
static double lg_percentile(const double *v, size_t n, size_t p);
static int lg_latency(struct lg_latency *out, const struct lg_results *r);
static void lg_text(FILE *out, const struct lg_results *r, const struct lg_counts *total,
		    const struct lg_counts *seg, const struct lg_latency *lat);
static cJSON *lg_counts_json(const struct lg_counts *c);
static cJSON *lg_errors_json(const struct lg_results *r);
static double lg_round(double v, double per);
static char *lg_json(const struct lg_results *r, const struct lg_counts *total,
		     const struct lg_counts *seg, const struct lg_latency *lat);

/* Add request q to the counts c. */
static void lg_count(struct lg_counts *c, const struct lg_req *q)
{
	c->sent++;
	c->accepted += q->pub == LG_PUB_ACCEPTED;
	c->not_accepted += q->pub != LG_PUB_ACCEPTED;
	c->answered += q->ok > 0;
	c->error_only += q->ok == 0 && q->errors > 0;
	c->error_replies += q->errors;
	c->lost += q->pub == LG_PUB_ACCEPTED && q->ok + q->errors + q->invalid == 0;
	c->duplicated += q->ok > 1;
}

/* qsort: doubles, ascending. */
static int lg_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* qsort: error texts, most frequent first. */
static int lg_cmp_error(const void *a, const void *b)
{
	const struct lg_error *x = a, *y = b;

	return (x->count < y->count) - (x->count > y->count);
}

/* The nearest-rank percentile p (1..100) of the sorted v[0..n), n > 0. */
static double lg_percentile(const double *v, size_t n, size_t p)
{
	size_t rank = (p * n + 99) / 100;

	return v[rank > 0 ? rank - 1 : 0];
}

/* Latency from acceptance to first reply over the accepted, replied requests. 0 or -1. */
static int lg_latency(struct lg_latency *out, const struct lg_results *r)
{
	double *v = malloc((r->nsent ? r->nsent : 1) * sizeof(*v));
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	if (v == NULL)
		return -1;
	for (size_t i = 0; i < r->nsent; i++) {
		const struct lg_req *q = &r->reqs[i];
		if (q->out_us > 0 && q->reply_us > 0)
			v[n++] = q->reply_us > q->out_us ? (double)(q->reply_us - q->out_us) / 1e3
							 : 0;
	}
	qsort(v, n, sizeof(*v), lg_cmp_double);
	if (n > 0) {
		out->p50 = lg_percentile(v, n, 50);
		out->p90 = lg_percentile(v, n, 90);
		out->p99 = lg_percentile(v, n, 99);
		out->max = v[n - 1];
	}
	out->n = n;
	free(v);
	return 0;
}

/* The human summary. */
static void lg_text(FILE *out, const struct lg_results *r, const struct lg_counts *total,
		    const struct lg_counts *seg, const struct lg_latency *lat)
{
	fprintf(out,
		"sent %llu sign_event requests from %zu clients at %.0f/s over %.1f s "
		"(worst send lag %.1f ms, client CPU %.2f s)\n",
		(unsigned long long)total->sent, r->nclients, r->rate, r->send_s, r->lag_max_ms,
		r->cpu_s);
	fprintf(out,
		"accepted by a relay %llu, not accepted %llu; answered %llu, error replies %llu "
		"(%llu requests with only errors); lost %llu, duplicated %llu, invalid replies "
		"%llu\n",
		(unsigned long long)total->accepted, (unsigned long long)total->not_accepted,
		(unsigned long long)total->answered, (unsigned long long)total->error_replies,
		(unsigned long long)total->error_only, (unsigned long long)total->lost,
		(unsigned long long)total->duplicated, (unsigned long long)r->invalid);
	fprintf(out,
		"latency from acceptance to first reply (ms, %zu requests): p50 %.1f p90 %.1f "
		"p99 %.1f max %.1f\n",
		lat->n, lat->p50, lat->p90, lat->p99, lat->max);
	for (size_t i = 0; i < r->nerrors && i < LG_TOP_ERRORS; i++)
		fprintf(out, "error reply \"%s\": %llu\n", r->errors[i].text,
			(unsigned long long)r->errors[i].count);
	for (size_t s = 0; r->nsegments > 1 && s < r->nsegments; s++)
		fprintf(out,
			"segment %zu: sent %llu, accepted %llu, not accepted %llu, answered %llu, "
			"lost %llu, duplicated %llu\n",
			s, (unsigned long long)seg[s].sent, (unsigned long long)seg[s].accepted,
			(unsigned long long)seg[s].not_accepted,
			(unsigned long long)seg[s].answered, (unsigned long long)seg[s].lost,
			(unsigned long long)seg[s].duplicated);
}

/* The counts as a JSON object, or NULL. */
static cJSON *lg_counts_json(const struct lg_counts *c)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || !cJSON_AddNumberToObject(o, "sent", (double)c->sent) ||
	    !cJSON_AddNumberToObject(o, "accepted", (double)c->accepted) ||
	    !cJSON_AddNumberToObject(o, "not_accepted", (double)c->not_accepted) ||
	    !cJSON_AddNumberToObject(o, "answered", (double)c->answered) ||
	    !cJSON_AddNumberToObject(o, "error_only", (double)c->error_only) ||
	    !cJSON_AddNumberToObject(o, "error_replies", (double)c->error_replies) ||
	    !cJSON_AddNumberToObject(o, "lost", (double)c->lost) ||
	    !cJSON_AddNumberToObject(o, "duplicated", (double)c->duplicated)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The most frequent error texts as [{"error","count"}], or NULL. */
static cJSON *lg_errors_json(const struct lg_results *r)
{
	cJSON *a = cJSON_CreateArray(), *e;

	for (size_t i = 0; a != NULL && i < r->nerrors && i < LG_TOP_ERRORS; i++) {
		e = cJSON_CreateObject();
		if (e == NULL || !cJSON_AddItemToArray(a, e)) {
			cJSON_Delete(e);
			goto fail;
		}
		if (!cJSON_AddStringToObject(e, "error", r->errors[i].text) ||
		    !cJSON_AddNumberToObject(e, "count", (double)r->errors[i].count))
			goto fail;
	}
	return a;
fail:
	cJSON_Delete(a);
	return NULL;
}

/* A non-negative v rounded to 1/per (so that it prints short). */
static double lg_round(double v, double per)
{
	return (double)(int64_t)(v * per + 0.5) / per;
}

/*
 * The JSON object: the totals first (flat numbers, so a shell script can
 * pick a field with sed), then latency_ms, errors and segments. Caller
 * frees; NULL on ENOMEM.
 */
static char *lg_json(const struct lg_results *r, const struct lg_counts *total,
		     const struct lg_counts *seg, const struct lg_latency *lat)
{
	cJSON *o = lg_counts_json(total), *l = cJSON_CreateObject(), *s = cJSON_CreateArray();
	char *text = NULL;

	if (o == NULL || l == NULL || s == NULL ||
	    !cJSON_AddNumberToObject(o, "invalid", (double)r->invalid) ||
	    !cJSON_AddNumberToObject(o, "foreign", (double)r->foreign) ||
	    !cJSON_AddNumberToObject(o, "clients", (double)r->nclients) ||
	    !cJSON_AddNumberToObject(o, "rate", r->rate) ||
	    !cJSON_AddNumberToObject(o, "send_s", lg_round(r->send_s, 100)) ||
	    !cJSON_AddNumberToObject(o, "send_lag_ms_max", lg_round(r->lag_max_ms, 10)) ||
	    !cJSON_AddNumberToObject(o, "cpu_s", lg_round(r->cpu_s, 100)) ||
	    !cJSON_AddNumberToObject(l, "p50", lg_round(lat->p50, 10)) ||
	    !cJSON_AddNumberToObject(l, "p90", lg_round(lat->p90, 10)) ||
	    !cJSON_AddNumberToObject(l, "p99", lg_round(lat->p99, 10)) ||
	    !cJSON_AddNumberToObject(l, "max", lg_round(lat->max, 10)))
		goto fail;
	if (!cJSON_AddItemToObject(o, "latency_ms", l))
		goto fail;
	l = NULL;
	if (!cJSON_AddItemToObject(o, "errors", lg_errors_json(r)))
		goto fail;
	for (size_t i = 0; i < r->nsegments; i++)
		if (!cJSON_AddItemToArray(s, lg_counts_json(&seg[i])))
			goto fail;
	if (!cJSON_AddItemToObject(o, "segments", s))
		goto fail;
	s = NULL;
	text = cJSON_PrintUnformatted(o);
fail:
	cJSON_Delete(o);
	cJSON_Delete(l);
	cJSON_Delete(s);
	return text;
}

/* Print the text summary, then one line "loadgen: " + a JSON object, to out. 0 or -1. */
int lg_report(FILE *out, const struct lg_results *r)
{
	struct lg_counts total = {0}, *seg = calloc(r->nsegments, sizeof(*seg));
	struct lg_error *errors = malloc((r->nerrors ? r->nerrors : 1) * sizeof(*errors));
	struct lg_results sorted = *r;
	struct lg_latency lat;
	char *json = NULL;
	int rc = -1;

	if (seg == NULL || errors == NULL || lg_latency(&lat, r) != 0)
		goto fail;
	memcpy(errors, r->errors, r->nerrors * sizeof(*errors));
	qsort(errors, r->nerrors, sizeof(*errors), lg_cmp_error);
	sorted.errors = errors;
	for (size_t i = 0; i < r->nsent; i++) {
		lg_count(&total, &r->reqs[i]);
		lg_count(&seg[r->reqs[i].segment], &r->reqs[i]);
	}
	lg_text(out, &sorted, &total, seg, &lat);
	json = lg_json(&sorted, &total, seg, &lat);
	if (json != NULL && fprintf(out, "loadgen: %s\n", json) > 0 && fflush(out) == 0)
		rc = 0;
fail:
	free(json);
	free(errors);
	free(seg);
	return rc;
}

/* Write the event ids of the lost requests to path, one a line. 0 or -1. */
int lg_report_lost(const char *path, const struct lg_results *r)
{
	FILE *f = fopen(path, "w");
	int rc = 0;

	if (f == NULL)
		return -1;
	for (size_t i = 0; i < r->nsent; i++) {
		const struct lg_req *q = &r->reqs[i];
		if (q->pub == LG_PUB_ACCEPTED && q->ok + q->errors + q->invalid == 0 &&
		    fprintf(f, "%s\n", q->event_id) < 0)
			rc = -1;
	}
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}
