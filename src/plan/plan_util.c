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

/* The length in ms of the unit suffix, or 0 if it is none. */
static int64_t plan_unit_ms(const char *suffix)
{
	for (size_t i = 0; i < sizeof(plan_units) / sizeof(plan_units[0]); i++)
		if (strcmp(suffix, plan_units[i].suffix) == 0)
			return plan_units[i].ms;
	return 0;
}

/* Parse "500ms", "10s", "2m", "1h" (or a bare 0): 0; -1 if not a duration; -2 if above a day. */
int plan_duration_parse(int64_t *ms, const char *s)
{
	const char *end;
	unsigned long long v = 0;
	bool big = false;
	int64_t unit;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -1;
	for (end = s; isdigit((unsigned char)*end); end++) {
		big = big || v > (unsigned long long)PLAN_SANITY_MS; /* no overflow below */
		v = big ? v : v * 10 + (unsigned long long)(*end - '0');
	}
	if (*end == '\0')
		return v == 0 && !big ? (*ms = 0, 0) : -1;
	unit = plan_unit_ms(end);
	if (unit == 0)
		return -1;
	if (big || v * (unsigned long long)unit > (unsigned long long)PLAN_SANITY_MS)
		return -2;
	*ms = (int64_t)v * unit;
	return 0;
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

/* The number of phases whose timeout aborts components (each may add abort_wait). */
size_t plan_abort_phases(const struct plan *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nphases; i++)
		if (p->phases[i].on_timeout == PLAN_TIMEOUT_ABORT && p->phases[i].nabort > 0)
			n++;
	return n;
}

/* The worst case without a second signal: every budget run out, every abort wait too. */
int64_t plan_worst_ms(const struct plan *p)
{
	int64_t t = plan_add_ms(plan_total_ms(p), p->margin.ms);

	for (size_t i = plan_abort_phases(p); i > 0; i--)
		t = plan_add_ms(t, p->abort_wait_ms);
	return t;
}

/* The effective budget of phase i (a margin phase gets the margin). */
int64_t plan_phase_budget_ms(const struct plan *p, size_t i)
{
	int64_t b = p->phases[i].budget.ms;

	return b == PLAN_BUDGET_MARGIN ? p->margin.ms : b;
}

/* Parse "80%" (1..99) or "off". */
int plan_budget_warning_parse(int *pct, const char *s)
{
	int v = 0;
	size_t i;

	if (s != NULL && strcmp(s, "off") == 0) {
		*pct = 0;
		return 0;
	}
	for (i = 0; s != NULL && i < 3 && isdigit((unsigned char)s[i]); i++)
		v = v * 10 + (s[i] - '0');
	if (s == NULL || i == 0 || i == 3 || s[0] == '0' || strcmp(s + i, "%") != 0 || v < 1 ||
	    v > 99)
		return -1;
	*pct = v;
	return 0;
}

/* When phase i warns: budget_warning percent of its budget; -1 if never. */
int64_t plan_phase_warn_ms(const struct plan *p, size_t i)
{
	int64_t b = plan_phase_budget_ms(p, i);

	if (p->budget_warning <= 0 || b <= 0)
		return -1;
	return b / 100 * p->budget_warning + b % 100 * p->budget_warning / 100;
}

/* One word a plan may say and the enum value it stands for. */
struct plan_word {
	const char *name;
	int value;
};

#define PLAN_WORDS(t) (t), (sizeof(t) / sizeof((t)[0]))

static const struct plan_word plan_step_kind_words[] = {
	{"readiness", PLAN_STEP_READINESS},
	{"wait", PLAN_STEP_WAIT},
	{"stop-accepting", PLAN_STEP_STOP_ACCEPTING},
	{"drain", PLAN_STEP_DRAIN},
	{"close", PLAN_STEP_CLOSE},
	{"log", PLAN_STEP_LOG},
};

static const struct plan_word plan_origin_words[] = {
	{"default", PLAN_ORIGIN_DEFAULT},
	{"file", PLAN_ORIGIN_FILE},
	{"env", PLAN_ORIGIN_ENV},
};

static const struct plan_word plan_timeout_words[] = {
	{"continue", PLAN_TIMEOUT_CONTINUE},
	{"abort", PLAN_TIMEOUT_ABORT},
	{"exit-now", PLAN_TIMEOUT_EXIT_NOW},
};

static const struct plan_word plan_escalation_words[] = {
	{"skip-to-last-phase", PLAN_ESCALATE_SKIP_TO_LAST},
	{"exit-now", PLAN_ESCALATE_EXIT_NOW},
	{"ignore", PLAN_ESCALATE_IGNORE},
};

static const struct plan_word plan_mode_words[] = {{"warn", false}, {"strict", true}};

static const struct plan_word plan_readiness_words[] = {{"fail", false}, {"pass", true}};

/* The word for value v in t[0..n), or "?". */
static const char *plan_word_name(const struct plan_word *t, size_t n, int v)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].value == v)
			return t[i].name;
	return "?";
}

/* The value of word s in t[0..n) into *out; 0, or -1 if s is none of them. */
static int plan_word_parse(const struct plan_word *t, size_t n, const char *s, int *out)
{
	for (size_t i = 0; s != NULL && i < n; i++) {
		if (strcmp(s, t[i].name) == 0) {
			*out = t[i].value;
			return 0;
		}
	}
	return -1;
}

/* Lower-case names of step kinds, as written in plans. */
const char *plan_step_kind_name(enum plan_step_kind k)
{
	return plan_word_name(PLAN_WORDS(plan_step_kind_words), (int)k);
}

/* Parse a step kind; 0, or -1. */
int plan_step_kind_parse(enum plan_step_kind *out, const char *s)
{
	int v;

	if (plan_word_parse(PLAN_WORDS(plan_step_kind_words), s, &v) != 0)
		return -1;
	*out = (enum plan_step_kind)v;
	return 0;
}

/* The name of an origin. */
const char *plan_origin_name(enum plan_origin o)
{
	return plan_word_name(PLAN_WORDS(plan_origin_words), (int)o);
}

/* The name of a timeout action. */
const char *plan_timeout_name(enum plan_timeout_kind k)
{
	return plan_word_name(PLAN_WORDS(plan_timeout_words), (int)k);
}

/* Parse a timeout action word ("abort" included); 0, or -1. */
int plan_timeout_parse(enum plan_timeout_kind *out, const char *s)
{
	int v;

	if (plan_word_parse(PLAN_WORDS(plan_timeout_words), s, &v) != 0)
		return -1;
	*out = (enum plan_timeout_kind)v;
	return 0;
}

/* The name of an escalation. */
const char *plan_escalation_name(enum plan_escalation e)
{
	return plan_word_name(PLAN_WORDS(plan_escalation_words), (int)e);
}

/* Parse an escalation; 0, or -1. */
int plan_escalation_parse(enum plan_escalation *out, const char *s)
{
	int v;

	if (plan_word_parse(PLAN_WORDS(plan_escalation_words), s, &v) != 0)
		return -1;
	*out = (enum plan_escalation)v;
	return 0;
}

/* The name of a mode: "strict" or "warn". */
const char *plan_mode_name(bool strict)
{
	return plan_word_name(PLAN_WORDS(plan_mode_words), strict);
}

/* Parse a mode into *strict; 0, or -1. */
int plan_mode_parse(bool *strict, const char *s)
{
	int v;

	if (plan_word_parse(PLAN_WORDS(plan_mode_words), s, &v) != 0)
		return -1;
	*strict = v != 0;
	return 0;
}

/* The word of a readiness step: "pass" or "fail". */
const char *plan_readiness_name(bool ready)
{
	return plan_word_name(PLAN_WORDS(plan_readiness_words), ready);
}

/* Parse a readiness word into *ready; 0, or -1. */
int plan_readiness_parse(bool *ready, const char *s)
{
	int v;

	if (plan_word_parse(PLAN_WORDS(plan_readiness_words), s, &v) != 0)
		return -1;
	*ready = v != 0;
	return 0;
}
