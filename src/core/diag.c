/*
 * diag.c - the findings list behind diag.h.
 */
#include "core/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const diag_severity_names[] = {
	[DIAG_NOTE] = "note",
	[DIAG_WARNING] = "warning",
	[DIAG_ERROR] = "error",
};

/* Append a finding (printf-style message). */
void diag_add(struct diag *d, enum diag_severity sev, const char *file, unsigned line, unsigned col,
	      const char *fmt, ...)
{
	struct diag_item *it;
	va_list ap;
	int rc;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct diag_item *items = realloc(d->items, cap * sizeof(*items));
		if (items == NULL) {
			d->oom = 1;
			return;
		}
		d->items = items;
		d->cap = cap;
	}
	it = &d->items[d->n];
	*it = (struct diag_item){.severity = sev, .line = line, .col = col};
	it->file = strdup(file != NULL ? file : "");
	va_start(ap, fmt);
	rc = vasprintf(&it->message, fmt, ap);
	va_end(ap);
	if (it->file == NULL || rc < 0) {
		free(it->file);
		if (rc >= 0)
			free(it->message);
		d->oom = 1;
		return;
	}
	d->n++;
}

/* The number of findings of severity sev. */
size_t diag_count(const struct diag *d, enum diag_severity sev)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += d->items[i].severity == sev;
	return n;
}

/* The lower-case name of a severity. */
const char *diag_severity_name(enum diag_severity sev)
{
	if ((unsigned)sev > DIAG_ERROR)
		return "unknown";
	return diag_severity_names[sev];
}

/* Format one finding's location ("file:line:col", "file:line", "file"). */
void diag_location(const struct diag_item *it, char *buf, size_t len)
{
	if (it->line == 0)
		snprintf(buf, len, "%s", it->file);
	else if (it->col == 0)
		snprintf(buf, len, "%s:%u", it->file, it->line);
	else
		snprintf(buf, len, "%s:%u:%u", it->file, it->line, it->col);
}

/* Print every finding as "file:line:col: severity: message". */
void diag_print(const struct diag *d, FILE *out)
{
	char loc[512];

	for (size_t i = 0; i < d->n; i++) {
		diag_location(&d->items[i], loc, sizeof(loc));
		fprintf(out, "%s: %s: %s\n", loc, diag_severity_name(d->items[i].severity),
			d->items[i].message);
	}
	if (d->oom)
		fprintf(out, "keycastd: error: out of memory: some findings were lost\n");
}

/* Release every finding; the diag is empty afterwards. */
void diag_clear(struct diag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].file);
		free(d->items[i].message);
	}
	free(d->items);
	*d = (struct diag){0};
}
