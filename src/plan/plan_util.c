/*
 * plan_util.c - durations, saturating arithmetic and names of the plan model.
 */
#include "plan/plan.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One duration unit: its suffix and its length in ms. */
struct plan_unit {
	const char *suffix;
	int64_t ms;
};

static const struct plan_unit plan_units[] = {
	{"ms", 1},
	{"s", 1000},
	{"m", 60000},
	{"h", 3600000},
};

/* a + b for non-negative a, b, saturating at INT64_MAX. */
int64_t plan_add_ms(int64_t a, int64_t b)
{
	if (a < 0)
		a = 0;
	if (b < 0)
		b = 0;
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* Parse "500ms", "10s", "2m", "1h" (or a bare 0). 0, or -1. */
int plan_duration_parse(int64_t *ms, const char *s)
{
	char *end;
	unsigned long long v;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || v > (unsigned long long)PLAN_SANITY_MS * 1000)
		return -1;
	if (*end == '\0')
		return v == 0 ? (*ms = 0, 0) : -1;
	for (size_t i = 0; i < sizeof(plan_units) / sizeof(plan_units[0]); i++) {
		if (strcmp(end, plan_units[i].suffix) == 0) {
			*ms = (int64_t)v * plan_units[i].ms; /* v <= 8.64e10: no overflow */
			return 0;
		}
	}
	return -1;
}

/* Format ms as "10s", "1.5s", "500ms" into buf. */
const char *plan_duration_format(char *buf, size_t len, int64_t ms)
{
	if (ms % 1000 == 0)
		snprintf(buf, len, "%" PRId64 "s", ms / 1000);
	else if (ms > 1000)
		snprintf(buf, len, "%" PRId64 ".%03" PRId64 "s", ms / 1000, ms % 1000);
	else
		snprintf(buf, len, "%" PRId64 "ms", ms);
	return buf;
}

/* Parse whole seconds (digits only) into ms; -1 if bad, -2 if above 1 day. */
int plan_env_secs_parse(int64_t *ms, const char *s)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s == '\0')
		return -1;
	for (const char *q = s; *q != '\0'; q++)
		if (!isdigit((unsigned char)*q))
			return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE || v > (unsigned long long)(PLAN_SANITY_MS / 1000))
		return -2;
	*ms = (int64_t)v * 1000;
	return 0;
}

/* Sum of the phase budgets (margin phases excluded), saturating. */
int64_t plan_total_ms(const struct plan *p)
{
	int64_t t = 0;

	for (size_t i = 0; i < p->nphases; i++)
		if (p->phases[i].budget.ms != PLAN_BUDGET_MARGIN)
			t = plan_add_ms(t, p->phases[i].budget.ms);
	return t;
}

/* The effective budget of phase i (a margin phase gets the margin). */
int64_t plan_phase_budget_ms(const struct plan *p, size_t i)
{
	int64_t b = p->phases[i].budget.ms;

	return b == PLAN_BUDGET_MARGIN ? p->margin.ms : b;
}

/* Lower-case names of step kinds, as written in plans. */
const char *plan_step_kind_name(enum plan_step_kind k)
{
	static const char *const names[PLAN_STEP_KIND_COUNT_] = {
		[PLAN_STEP_READINESS] = "readiness",
		[PLAN_STEP_WAIT] = "wait",
		[PLAN_STEP_STOP_ACCEPTING] = "stop-accepting",
		[PLAN_STEP_DRAIN] = "drain",
		[PLAN_STEP_CLOSE] = "close",
		[PLAN_STEP_LOG] = "log",
	};
	return (unsigned)k < PLAN_STEP_KIND_COUNT_ ? names[k] : "?";
}

/* The name of an origin. */
const char *plan_origin_name(enum plan_origin o)
{
	static const char *const names[] = {"default", "file", "env"};
	return (unsigned)o < 3 ? names[o] : "?";
}

/* The name of a timeout action. */
const char *plan_timeout_name(enum plan_timeout_kind k)
{
	static const char *const names[] = {"continue", "abort", "exit-now"};
	return (unsigned)k < 3 ? names[k] : "?";
}

/* The name of an escalation. */
const char *plan_escalation_name(enum plan_escalation e)
{
	static const char *const names[] = {"skip-to-last-phase", "exit-now", "ignore"};
	return (unsigned)e < 3 ? names[e] : "?";
}
