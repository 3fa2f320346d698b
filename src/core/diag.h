/*
 * diag.h - diagnostics: findings with a position, a severity and a message.
 *
 * Loaders and validators report every problem they find, not just the
 * first, into a struct diag; the caller prints them all and decides.
 * A position is file:line:col (1-based; line 0 means "no position", as
 * for an environment variable, whose name then stands in the file slot).
 */
#ifndef KC_DIAG_H
#define KC_DIAG_H

#include <stddef.h>
#include <stdio.h>

/* How bad a finding is. */
enum diag_severity {
	DIAG_NOTE,    /* context for the finding before it */
	DIAG_WARNING, /* it runs, but probably not as meant */
	DIAG_ERROR,   /* it cannot run */
};

/* One finding. Strings are owned by the diag. */
struct diag_item {
	enum diag_severity severity;
	char *file;    /* file name, or "env NAME" / "--flag" */
	unsigned line; /* 1-based, 0 if none */
	unsigned col;  /* 1-based, 0 if none */
	char *message;
};

/* An append-only list of findings. Zero-initialise to start empty. */
struct diag {
	struct diag_item *items;
	size_t n;
	size_t cap;
	int oom; /* a finding was lost to allocation failure */
};

/* Append a finding (printf-style message). */
void diag_add(struct diag *d, enum diag_severity sev, const char *file, unsigned line, unsigned col,
	      const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The number of findings of severity sev. */
size_t diag_count(const struct diag *d, enum diag_severity sev);

/* Print every finding as "file:line:col: severity: message". */
void diag_print(const struct diag *d, FILE *out);

/* Format one finding's location ("file:line:col", "file:line", "file"). */
void diag_location(const struct diag_item *it, char *buf, size_t len);

/* The lower-case name of a severity. */
const char *diag_severity_name(enum diag_severity sev);

/* Release every finding; the diag is empty afterwards. */
void diag_clear(struct diag *d);

#endif /* KC_DIAG_H */
