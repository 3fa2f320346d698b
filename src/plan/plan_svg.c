/*
 * plan_svg.c - the plan's timeline as an SVG picture (see plan_svg.h).
 */
#include "plan/plan_svg.h"

#include "core/diag.h"
#include "plan/plan.h"
#include "plan/plan_manifest.h"
#include "plan/plan_report.h"
#include "plan/plan_unit.h"
#include "plan/plan_watchdog.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define SVG_W	     960 /* picture width, px */
#define SVG_LEFT     200 /* the row labels' column */
#define SVG_RIGHT    40	 /* room right of the time axis */
#define SVG_ROW	     30	 /* one row */
#define SVG_BAR	     18	 /* a bar's height */
#define SVG_LINE     16	 /* one line of text */
#define SVG_MARKERS  8	 /* vertical lines at most */
#define SVG_FINDINGS 12
#define SVG_TEXT     512 /* the longest text drawn */

/* A vertical line across the rows: an instant that matters. */
struct plan_svg_marker {
	int64_t at; /* ms after SIGTERM */
	const char *cls;
	char label[96];
	int64_t rank; /* the order of the labels, top down (plan_svg_order) */
};

/* The picture being written. */
struct plan_svg {
	FILE *out;
	const struct plan_report *r;
	const struct plan *p;
	const struct plan_manifest *m; /* the first workload, or NULL */
	int64_t t0, t1;		       /* the time span drawn, ms (t0 <= 0 < t1) */
	int y;			       /* where the next row goes */
	struct plan_svg_marker mk[SVG_MARKERS];
	size_t nmk;
};

static void plan_svg_esc(FILE *out, const char *s);
static void plan_svg_text(struct plan_svg *g, double x, double y, const char *cls,
			  const char *anchor, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static void plan_svg_bar(struct plan_svg *g, int64_t from, int64_t to, const char *cls,
			 const char *phase, const char *tip);
static void plan_svg_marker_add(struct plan_svg *g, int64_t at, const char *cls, const char *fmt,
				...) __attribute__((format(printf, 4, 5)));

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t plan_svg_utf8(const unsigned char *s)
{
	size_t n = s[0] < 0x80		   ? 1
		   : (s[0] & 0xe0) == 0xc0 ? 2
		   : (s[0] & 0xf0) == 0xe0 ? 3
		   : (s[0] & 0xf8) == 0xf0 ? 4
					   : 0;

	if (n == 0 || (n == 2 && s[0] < 0xc2))
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* Write s escaped for XML text and attributes; invalid UTF-8 and controls become '?'. */
static void plan_svg_esc(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		size_t n = plan_svg_utf8(p);

		if (n == 1 && strchr("<>&\"'", *p) != NULL)
			fputs(*p == '<'	  ? "&lt;"
			      : *p == '>' ? "&gt;"
			      : *p == '&' ? "&amp;"
			      : *p == '"' ? "&quot;"
					  : "&apos;",
			      out);
		else if (n == 0 || (n == 1 && *p < 0x20))
			fputc('?', out);
		else
			fwrite(p, 1, n, out);
		p += n ? n : 1;
	}
}

/* The x of time t (ms after SIGTERM). */
static double plan_svg_x(const struct plan_svg *g, int64_t t)
{
	return SVG_LEFT +
	       (double)(t - g->t0) * (SVG_W - SVG_LEFT - SVG_RIGHT) / (double)(g->t1 - g->t0);
}

/* A text element; fmt's result is escaped. */
static void plan_svg_text(struct plan_svg *g, double x, double y, const char *cls,
			  const char *anchor, const char *fmt, ...)
{
	char buf[SVG_TEXT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap); /* a longer text is cut: it is a label */
	va_end(ap);
	fprintf(g->out, "<text x=\"%.1f\" y=\"%.1f\" class=\"%s\" text-anchor=\"%s\">", x, y, cls,
		anchor);
	plan_svg_esc(g->out, buf);
	fputs("</text>\n", g->out);
}

/* A bar from..to (ms) on the current row, with a tooltip; phase names a phase bar. */
static void plan_svg_bar(struct plan_svg *g, int64_t from, int64_t to, const char *cls,
			 const char *phase, const char *tip)
{
	double x = plan_svg_x(g, from), w = plan_svg_x(g, to) - x;

	fprintf(g->out, "<rect class=\"%s\"", cls);
	if (phase != NULL) {
		fputs(" data-phase=\"", g->out);
		plan_svg_esc(g->out, phase);
		fputc('"', g->out);
	}
	fprintf(g->out, " x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" rx=\"2\"><title>", x,
		g->y + (SVG_ROW - SVG_BAR) / 2, w > 1 ? w : 1, SVG_BAR);
	plan_svg_esc(g->out, tip);
	fputs("</title></rect>\n", g->out);
}

/* Remember a vertical line at at (ms after SIGTERM). */
static void plan_svg_marker_add(struct plan_svg *g, int64_t at, const char *cls, const char *fmt,
				...)
{
	va_list ap;

	if (g->nmk >= SVG_MARKERS)
		return;
	g->mk[g->nmk].at = at;
	g->mk[g->nmk].cls = cls;
	va_start(ap, fmt);
	vsnprintf(g->mk[g->nmk].label, sizeof(g->mk[g->nmk].label), fmt, ap);
	va_end(ap);
	g->nmk++;
}

/* The first manifest with a workload, or NULL. */
static const struct plan_manifest *plan_svg_workload(const struct plan_report *r)
{
	for (size_t i = 0; i < r->nmanifests; i++)
		if (r->manifests[i].workload != NULL)
			return &r->manifests[i];
	return NULL;
}

/* Collect the vertical lines: SIGTERM, worst case, watchdog, ceiling, SIGKILLs. */
static void plan_svg_markers(struct plan_svg *g)
{
	const struct plan *p = g->p;
	char a[32], b[32];

	plan_svg_marker_add(g, 0, "marker sigterm", "SIGTERM: the plan starts");
	plan_svg_marker_add(g, plan_worst_ms(p), "marker worst", "worst case %s",
			    plan_duration_format(a, sizeof(a), plan_worst_ms(p)));
	plan_svg_marker_add(g, plan_watchdog_plan_deadline_ms(p), "marker watchdog", "watchdog %s",
			    plan_duration_format(a, sizeof(a), plan_watchdog_plan_deadline_ms(p)));
	plan_svg_marker_add(g, p->ceiling.ms, "marker ceiling", "ceiling %s (%s)",
			    plan_duration_format(a, sizeof(a), p->ceiling.ms),
			    plan_origin_name(p->ceiling.origin));
	if (g->m != NULL)
		plan_svg_marker_add(g, g->m->grace_ms - g->m->prestop_ms, "marker sigkill",
				    "SIGKILL: terminationGracePeriodSeconds %s - preStop %s",
				    plan_duration_format(a, sizeof(a), g->m->grace_ms),
				    plan_duration_format(b, sizeof(b), g->m->prestop_ms));
	for (size_t i = 0; i < g->r->nunits; i++)
		if (g->r->units[i].has_service && g->r->units[i].stop_ms != PLAN_UNIT_INFINITY)
			plan_svg_marker_add(
				g, g->r->units[i].stop_ms, "marker sigkill",
				"SIGKILL: TimeoutStopSec %s",
				plan_duration_format(a, sizeof(a), g->r->units[i].stop_ms));
}

/* Whether some phase runs within the teardown margin. */
static bool plan_svg_margin_phase(const struct plan *p)
{
	for (size_t i = 0; i < p->nphases; i++)
		if (p->phases[i].budget.ms == PLAN_BUDGET_MARGIN)
			return true;
	return false;
}

/* The number of rows: phases, the margin, the preStop sleep and the probe. */
static int plan_svg_rows(const struct plan_svg *g)
{
	int n = (int)g->p->nphases + !plan_svg_margin_phase(g->p);

	if (g->m != NULL)
		n += 1 + (g->m->prestop_ms > 0);
	return n;
}

/* The time span drawn: the preStop sleep to a little past the last instant. */
static void plan_svg_span(struct plan_svg *g)
{
	int64_t end = plan_add_ms(plan_total_ms(g->p), g->p->margin.ms);

	for (size_t i = 0; i < g->nmk; i++)
		end = g->mk[i].at > end ? g->mk[i].at : end;
	g->t0 = g->m != NULL ? -g->m->prestop_ms : 0;
	g->t1 = end + (end - g->t0) / 20 + 1;
}

/* qsort: by rank. */
static int plan_svg_rank_cmp(const void *a, const void *b)
{
	const struct plan_svg_marker *x = a, *y = b;

	return (x->rank > y->rank) - (x->rank < y->rank);
}

/*
 * Order the labels so that no line crosses a label under it: labels right
 * of the middle end at their line, latest first; labels left of it start
 * at their line, earliest first, under them.
 */
static void plan_svg_order(struct plan_svg *g)
{
	int64_t mid = g->t0 + (g->t1 - g->t0) / 2;

	for (size_t i = 0; i < g->nmk; i++)
		g->mk[i].rank =
			g->mk[i].at >= mid ? -g->mk[i].at : PLAN_SANITY_MS * 4 + g->mk[i].at;
	qsort(g->mk, g->nmk, sizeof(g->mk[0]), plan_svg_rank_cmp);
}

/* The row label, left of the bars. */
static void plan_svg_label(struct plan_svg *g, const char *name, const char *sub)
{
	plan_svg_text(g, SVG_LEFT - 10, g->y + SVG_ROW / 2.0, "label", "end", "%s", name);
	if (sub != NULL)
		plan_svg_text(g, SVG_LEFT - 10, g->y + SVG_ROW / 2.0 + 11, "sub", "end", "%s", sub);
}

/* One phase's row: its budget bar, then its abort wait. Returns the next phase's start. */
static int64_t plan_svg_phase(struct plan_svg *g, size_t i, int64_t at)
{
	const struct plan_phase *ph = &g->p->phases[i];
	bool margin = ph->budget.ms == PLAN_BUDGET_MARGIN;
	int64_t from = margin ? plan_total_ms(g->p) : at, b = plan_phase_budget_ms(g->p, i);
	char d[32], tip[SVG_TEXT], w[32];

	snprintf(tip, sizeof(tip), "%s: %s from %s (%s), on timeout %s", ph->name,
		 plan_duration_format(d, sizeof(d), b), plan_duration_format(w, sizeof(w), from),
		 margin ? "teardown margin" : plan_origin_name(ph->budget.origin),
		 plan_timeout_name(ph->on_timeout));
	plan_svg_label(g, ph->name, margin ? "in the teardown margin" : NULL);
	plan_svg_bar(g, from, plan_add_ms(from, b), margin ? "phase margin" : "phase", ph->name,
		     tip);
	plan_svg_text(g, plan_svg_x(g, from) + 4, g->y + SVG_ROW / 2.0 + 4, "inbar", "start", "%s",
		      d);
	if (ph->on_timeout == PLAN_TIMEOUT_ABORT) {
		snprintf(tip, sizeof(tip), "%s: on timeout, abort and wait up to %s", ph->name,
			 plan_duration_format(w, sizeof(w), g->p->abort_wait_ms));
		plan_svg_bar(g, plan_add_ms(from, b),
			     plan_add_ms(plan_add_ms(from, b), g->p->abort_wait_ms), "abort-wait",
			     NULL, tip);
	}
	g->y += SVG_ROW;
	return margin ? at : plan_add_ms(at, b);
}

/* The manifest's rows: preStop sleep, readiness probe detection. */
static void plan_svg_manifest(struct plan_svg *g)
{
	const struct plan_manifest *m = g->m;
	int64_t detect = m->probe_period_s * m->probe_threshold * 1000;
	char a[32], tip[SVG_TEXT];

	if (m->prestop_ms > 0) {
		snprintf(tip, sizeof(tip), "preStop sleep %s: Kubernetes waits before SIGTERM",
			 plan_duration_format(a, sizeof(a), m->prestop_ms));
		plan_svg_label(g, "preStop sleep", "before SIGTERM");
		plan_svg_bar(g, -m->prestop_ms, 0, "prestop", NULL, tip);
		g->y += SVG_ROW;
	}
	snprintf(tip, sizeof(tip),
		 "readiness probe: %s (periodSeconds %lld x failureThreshold %lld)",
		 plan_duration_format(a, sizeof(a), detect), (long long)m->probe_period_s,
		 (long long)m->probe_threshold);
	plan_svg_label(g, "readiness noticed", "by the probe");
	plan_svg_bar(g, -m->prestop_ms, detect - m->prestop_ms, "probe", NULL, tip);
	g->y += SVG_ROW;
}

/* A vertical line from top to the current row, its label on line k of the header. */
static void plan_svg_marker_draw(struct plan_svg *g, const struct plan_svg_marker *mk, int top,
				 size_t k)
{
	double x = plan_svg_x(g, mk->at);
	bool right = mk->at >= g->t0 + (g->t1 - g->t0) / 2;
	double ly = top - (double)(g->nmk - k) * SVG_LINE + 4;

	fprintf(g->out, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%d\"><title>",
		mk->cls, x, ly + 3, x, g->y);
	plan_svg_esc(g->out, mk->label);
	fputs("</title></line>\n", g->out);
	plan_svg_text(g, x + (right ? -3 : 3), ly, mk->cls, right ? "end" : "start", "%s",
		      mk->label);
}

/* The time axis under the rows, a tick every few seconds. */
static void plan_svg_axis(struct plan_svg *g)
{
	static const int64_t steps[] = {500,	 1000,	  2000,	    5000,     10000,   15000,
					30000,	 60000,	  120000,   300000,   600000,  1800000,
					3600000, 7200000, 21600000, 43200000, 86400000};
	int64_t step = steps[0], span = g->t1 - g->t0;
	char a[32];

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]) && span / step > 12; i++)
		step = steps[i];
	fprintf(g->out, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
		SVG_LEFT, g->y, SVG_W - SVG_RIGHT, g->y);
	for (int64_t t = (g->t0 / step) * step; t <= g->t1; t += step) {
		if (t < g->t0)
			continue;
		fprintf(g->out,
			"<line class=\"tick\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n",
			plan_svg_x(g, t), g->y, plan_svg_x(g, t), g->y + 5);
		plan_svg_text(g, plan_svg_x(g, t), g->y + 18, "tick", "middle", "%s",
			      plan_duration_format(a, sizeof(a), t < 0 ? -t : t));
	}
	plan_svg_text(g, SVG_LEFT - 20, g->y + 18, "sub", "end", "after SIGTERM");
	plan_svg_text(g, SVG_LEFT, g->y + 36, "sub", "start",
		      "bars: each phase's budget from its nominal start; orange: the wait for "
		      "aborts after a timeout (it delays what follows)");
	g->y += 3 * SVG_LINE + 8;
}

/* The findings (at most SVG_FINDINGS) and the verdict. */
static void plan_svg_findings(struct plan_svg *g)
{
	const struct diag *d = g->r->d;

	for (size_t i = 0; i < d->n && i < SVG_FINDINGS; i++) {
		char loc[256];

		diag_location(&d->items[i], loc, sizeof(loc));
		plan_svg_text(g, 10, g->y, diag_severity_name(d->items[i].severity), "start",
			      "%s: %s: %s", loc, diag_severity_name(d->items[i].severity),
			      d->items[i].message);
		g->y += SVG_LINE;
	}
	if (d->n > SVG_FINDINGS)
		plan_svg_text(g, 10, (g->y += SVG_LINE) - SVG_LINE, "sub", "start",
			      "... and %zu more (plan check --format text lists them all)",
			      d->n - SVG_FINDINGS);
	plan_svg_text(g, 10, g->y + 4, g->r->ok ? "ok" : "failed", "start",
		      "%s: %zu error(s), %zu warning(s)%s",
		      g->r->ok ? "ok, the plan runs" : "FAILED", diag_count(d, DIAG_ERROR),
		      diag_count(d, DIAG_WARNING),
		      g->r->strict ? " (--strict: warnings fail)" : "");
}

/* The document's head: size, style and the title lines. */
static void plan_svg_head(struct plan_svg *g, int height)
{
	char a[32], b[32], c[32], w[32];

	fprintf(g->out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
		"<style>\n"
		".title{font-size:15px;font-weight:bold} .sub{fill:#666;font-size:10px}\n"
		".label{dominant-baseline:middle} .inbar{fill:#fff;font-size:11px}\n"
		".phase{fill:#4e79a7} .phase.margin{fill:#59a14f} "
		".abort-wait{fill:#f28e2b;opacity:.7}\n"
		".prestop{fill:#b07aa1} .probe{fill:#9c755f;opacity:.6}\n"
		"line.marker{stroke-width:1.5} text.marker{stroke:none} .axis,.tick{stroke:#333}\n"
		".sigterm{stroke:#333;fill:#333} .worst{stroke:#777;fill:#777;stroke-dasharray:2 "
		"3}\n"
		".watchdog{stroke:#e15759;fill:#e15759;stroke-dasharray:6 3}\n"
		".ceiling{stroke:#b6992d;fill:#8a7320} "
		".sigkill{stroke:#000;fill:#000;stroke-width:2.5}\n"
		".error{fill:#c00} .warning{fill:#a60} .note{fill:#555} "
		".ok{fill:#2a7;font-weight:bold}\n"
		".failed{fill:#c00;font-weight:bold}\n"
		"</style>\n<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
		SVG_W, height, SVG_W, height);
	plan_svg_text(g, 10, 22, "title", "start", "shutdown plan %s", g->p->file);
	plan_svg_text(g, 10, 40, "sub", "start",
		      "mode %s, second signal %s; %s of phases + %s teardown margin = %s; "
		      "abort wait %s",
		      plan_mode_name(g->p->strict), plan_escalation_name(g->p->second_signal),
		      plan_duration_format(a, sizeof(a), plan_total_ms(g->p)),
		      plan_duration_format(b, sizeof(b), g->p->margin.ms),
		      plan_duration_format(c, sizeof(c),
					   plan_add_ms(plan_total_ms(g->p), g->p->margin.ms)),
		      plan_duration_format(w, sizeof(w), g->p->abort_wait_ms));
}

/* A plan that did not load: a picture of its findings only. */
static void plan_svg_unloaded(const struct plan_report *r, FILE *out)
{
	struct plan_svg g = {.out = out, .r = r, .y = 50};
	size_t n = r->d->n < SVG_FINDINGS ? r->d->n : SVG_FINDINGS + 1;

	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%zu\" "
		"font-family=\"sans-serif\" font-size=\"12\">\n"
		"<style>.error{fill:#c00} .warning{fill:#a60} .note{fill:#555} .sub{fill:#666} "
		".failed{fill:#c00;font-weight:bold}</style>\n",
		SVG_W, 80 + n * SVG_LINE);
	plan_svg_text(&g, 10, 22, "failed", "start", "the plan did not load");
	plan_svg_findings(&g);
	fputs("</svg>\n", out);
}

/* Write r as one SVG document. */
void plan_svg_print(const struct plan_report *r, FILE *out)
{
	struct plan_svg g = {.out = out, .r = r, .p = r->p};
	size_t nf = r->d->n < SVG_FINDINGS ? r->d->n : SVG_FINDINGS + 1;
	int64_t at = 0;
	int top;

	if (r->p == NULL || r->p->nphases == 0) {
		plan_svg_unloaded(r, out);
		return;
	}
	g.m = plan_svg_workload(r);
	plan_svg_markers(&g);
	plan_svg_span(&g);
	plan_svg_order(&g);
	top = 56 + (int)g.nmk * SVG_LINE;
	plan_svg_head(&g, top + plan_svg_rows(&g) * SVG_ROW + 3 * SVG_LINE + 8 +
				  (int)nf * SVG_LINE + 30);
	g.y = top;
	if (g.m != NULL)
		plan_svg_manifest(&g);
	for (size_t i = 0; i < r->p->nphases; i++)
		at = plan_svg_phase(&g, i, at);
	if (!plan_svg_margin_phase(r->p)) {
		plan_svg_label(&g, "teardown margin", NULL);
		plan_svg_bar(&g, plan_total_ms(r->p),
			     plan_add_ms(plan_total_ms(r->p), r->p->margin.ms), "margin", NULL,
			     "the teardown margin: no phase runs in it");
		g.y += SVG_ROW;
	}
	for (size_t k = 0; k < g.nmk; k++)
		plan_svg_marker_draw(&g, &g.mk[k], top, k);
	plan_svg_axis(&g);
	g.y += 6;
	plan_svg_findings(&g);
	fputs("</svg>\n", out);
}
