/*
 * plan_svg.h - `keycastd plan check --format svg`: the plan's timeline as
 * a picture, the thing a reviewer of a plan change wants to look at.
 *
 * Time runs left to right from the SIGTERM (0 s; a manifest's preStop sleep
 * before it). One row per phase, a bar of its budget (class "phase", one
 * per phase, data-phase its name; the phase that runs within the teardown
 * margin also has class "margin") followed by its abort wait when it
 * aborts (class "abort-wait"); the teardown margin; with --manifest the
 * preStop sleep and the readiness probe's detection time. Vertical lines
 * mark the ceiling, the watchdog's deadline, the worst case and, with
 * --manifest/--unit, the SIGKILL that terminationGracePeriodSeconds or
 * TimeoutStopSec brings (class "marker" plus the kind). Findings and the
 * verdict are written under the chart. The document is well-formed XML:
 * every text is escaped and invalid UTF-8 replaced.
 */
#ifndef KC_PLAN_SVG_H
#define KC_PLAN_SVG_H

#include <stdio.h>

struct plan_report;

/* Write r as one SVG document to out. */
void plan_svg_print(const struct plan_report *r, FILE *out);

#endif /* KC_PLAN_SVG_H */
