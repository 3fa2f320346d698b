/*
 * plan_report.h - what `keycastd plan check` prints: the timeline of a plan
 * and its findings, as text, JSON (schema "keycastd.plan-check/1", see
 * doc/shutdown-plan.md), GitHub annotations or an SVG picture (plan_svg.h).
 */
#ifndef KC_PLAN_REPORT_H
#define KC_PLAN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct diag;
struct plan;
struct plan_manifest;
struct plan_unit;

/* Output formats. */
enum plan_report_format {
	PLAN_REPORT_TEXT,   /* timeline table, then file:line:col findings */
	PLAN_REPORT_JSON,   /* one JSON object */
	PLAN_REPORT_GITHUB, /* timeline, then ::error file=...:: annotations */
	PLAN_REPORT_SVG,    /* the timeline as a picture (plan_svg.h) */
};

/* Parse "text|json|github|svg". 0, or -1 if unknown. */
int plan_report_format_parse(enum plan_report_format *f, const char *s)
	__attribute__((warn_unused_result));

/* What the report covers. p may be NULL when the plan did not load. */
struct plan_report {
	const struct plan *p;
	const struct plan_manifest *manifests;
	size_t nmanifests;
	const struct plan_unit *units; /* --unit files */
	size_t nunits;
	const struct diag *d;
	bool strict; /* --strict: warnings make it fail */
	bool ok;     /* the verdict (exit 0) */
};

/* Print the report in format f to out. */
void plan_report_print(const struct plan_report *r, enum plan_report_format f, FILE *out);

#endif /* KC_PLAN_REPORT_H */
