/*
 * plan_unit.c - systemd unit facts and the checks of a plan against them
 * (TimeoutStopSec, KillSignal, Type=notify).
 */
#include "plan/plan_unit.h"

#include "core/diag.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest unit line read, continuations joined. */
#define PLAN_UNIT_LINE 8192

/* One setting of the [Service] section and the function that takes it. */
typedef void (*plan_unit_fn)(struct plan_unit *u, const char *v, struct plan_pos pos,
			     struct diag *d);

static void plan_unit_type(struct plan_unit *u, const char *v, struct plan_pos pos, struct diag *d);
static void plan_unit_timeout(struct plan_unit *u, const char *v, struct plan_pos pos,
			      struct diag *d);
static void plan_unit_kill(struct plan_unit *u, const char *v, struct plan_pos pos, struct diag *d);
static void plan_unit_sigkill(struct plan_unit *u, const char *v, struct plan_pos pos,
			      struct diag *d);
static void plan_unit_env(struct plan_unit *u, const char *v, struct plan_pos pos, struct diag *d);
static void plan_unit_env_file(struct plan_unit *u, const char *v, struct plan_pos pos,
			       struct diag *d);
static void plan_unit_exec(struct plan_unit *u, const char *v, struct plan_pos pos, struct diag *d);
static size_t plan_unit_word(char *out, size_t len, const char **s);
static void plan_unit_line(struct plan_unit *u, char *line, unsigned n, bool *service,
			   struct diag *d);

static const struct {
	const char *key;
	plan_unit_fn take;
} plan_unit_keys[] = {
	{"Type", plan_unit_type},
	{"TimeoutStopSec", plan_unit_timeout},
	{"TimeoutSec", plan_unit_timeout},
	{"KillSignal", plan_unit_kill},
	{"SendSIGKILL", plan_unit_sigkill},
	{"Environment", plan_unit_env},
	{"EnvironmentFile", plan_unit_env_file},
	{"ExecStart", plan_unit_exec},
};

/* The units of a time span, in microseconds (systemd.time(7)). */
static const struct {
	const char *name;
	int64_t us;
} plan_unit_spans[] = {
	{"usec", 1},	       {"us", 1},
	{"msec", 1000},	       {"ms", 1000},
	{"seconds", 1000000},  {"second", 1000000},
	{"sec", 1000000},      {"s", 1000000},
	{"minutes", 60000000}, {"minute", 60000000},
	{"min", 60000000},     {"m", 60000000},
	{"hours", 3600000000}, {"hour", 3600000000},
	{"hr", 3600000000},    {"h", 3600000000},
	{"days", 86400000000}, {"day", 86400000000},
	{"d", 86400000000},
};

/* Store a copy of s in *dst (replacing). */
static void plan_unit_set(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? strdup(s) : NULL;
}

/* The microseconds of one unit name (len bytes of s), or 0 if unknown. */
static int64_t plan_unit_span(const char *s, size_t len)
{
	if (len == 0)
		return 1000000; /* a bare number is seconds */
	for (size_t i = 0; i < sizeof(plan_unit_spans) / sizeof(plan_unit_spans[0]); i++)
		if (strlen(plan_unit_spans[i].name) == len &&
		    strncmp(s, plan_unit_spans[i].name, len) == 0)
			return plan_unit_spans[i].us;
	return 0;
}

/* Parse a systemd time span into ms. */
int plan_unit_duration_parse(int64_t *ms, const char *s)
{
	int64_t us = 0;
	bool any = false;

	while (isspace((unsigned char)*s))
		s++;
	if (strcmp(s, "infinity") == 0) {
		*ms = PLAN_UNIT_INFINITY;
		return 0;
	}
	while (*s != '\0') {
		int64_t whole = 0, frac = 0, scale = 1, unit;
		size_t n = 0;

		if (!isdigit((unsigned char)*s))
			return -1;
		for (; isdigit((unsigned char)*s) && whole < PLAN_SANITY_MS * 1000; s++)
			whole = whole * 10 + (*s - '0');
		if (*s == '.')
			for (s++; isdigit((unsigned char)*s); s++)
				if (scale < 1000000) {
					frac = frac * 10 + (*s - '0');
					scale *= 10;
				}
		while (isspace((unsigned char)*s))
			s++;
		while (isalpha((unsigned char)s[n]))
			n++;
		unit = plan_unit_span(s, n);
		if (unit == 0 || isdigit((unsigned char)*s) || whole >= PLAN_SANITY_MS * 1000)
			return -1;
		us += whole * unit + frac * unit / scale;
		if (us > PLAN_SANITY_MS * 1000)
			return -1;
		for (s += n, any = true; isspace((unsigned char)*s); s++)
			;
	}
	if (!any)
		return -1;
	*ms = us / 1000;
	return 0;
}

/* Type=. */
static void plan_unit_type(struct plan_unit *u, const char *v, struct plan_pos pos, struct diag *d)
{
	(void)d;
	plan_unit_set(&u->type, v[0] != '\0' ? v : NULL);
	u->type_pos = pos;
}

/* TimeoutStopSec= and TimeoutSec= (an empty value restores the default). */
static void plan_unit_timeout(struct plan_unit *u, const char *v, struct plan_pos pos,
			      struct diag *d)
{
	int64_t ms;

	if (v[0] == '\0') {
		u->stop_ms = PLAN_UNIT_DEFAULT_STOP_MS;
		u->stop_set = false;
		return;
	}
	if (plan_unit_duration_parse(&ms, v) != 0) {
		diag_add(d, DIAG_ERROR, u->file, pos.line, pos.col,
			 "'%s' is not a systemd time span (like 90s, 1min 30s or infinity)", v);
		return;
	}
	u->stop_ms = ms == 0 ? PLAN_UNIT_INFINITY : ms; /* 0 disables the timeout */
	u->stop_set = true;
	u->stop_pos = pos;
}

/* KillSignal=. */
static void plan_unit_kill(struct plan_unit *u, const char *v, struct plan_pos pos, struct diag *d)
{
	(void)d;
	plan_unit_set(&u->kill_signal, v[0] != '\0' ? v : NULL);
	u->kill_pos = pos;
}

/* SendSIGKILL=. */
static void plan_unit_sigkill(struct plan_unit *u, const char *v, struct plan_pos pos,
			      struct diag *d)
{
	(void)pos;
	(void)d;
	u->no_sigkill = strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "off") == 0 ||
			strcmp(v, "0") == 0;
}

/* Add one NAME=VALUE to the unit's env. */
static void plan_unit_env_add(struct plan_unit *u, const char *assignment)
{
	char **e;

	if (strchr(assignment, '=') == NULL || assignment[0] == '=')
		return;
	e = realloc(u->env, (u->nenv + 1) * sizeof(*e));
	if (e == NULL)
		return;
	u->env = e;
	e[u->nenv] = strdup(assignment);
	if (e[u->nenv] == NULL)
		return;
	if (strncmp(assignment, "SHUTDOWN_PLAN=", 14) == 0)
		plan_unit_set(&u->plan_path, assignment + 14);
	u->nenv++;
}

/* Environment= (words, quoted or not; an empty value resets the list). */
static void plan_unit_env(struct plan_unit *u, const char *v, struct plan_pos pos, struct diag *d)
{
	char word[PLAN_UNIT_LINE];

	(void)pos;
	(void)d;
	if (v[0] == '\0') {
		for (size_t i = 0; i < u->nenv; i++)
			free(u->env[i]);
		u->nenv = 0;
		return;
	}
	while (plan_unit_word(word, sizeof(word), &v) > 0)
		plan_unit_env_add(u, word);
}

/* EnvironmentFile=: noted, not read (it is a file on the target host). */
static void plan_unit_env_file(struct plan_unit *u, const char *v, struct plan_pos pos,
			       struct diag *d)
{
	(void)pos;
	(void)d;
	u->env_files = v[0] != '\0';
}

/* ExecStart=: the --plan argument, if any. */
static void plan_unit_exec(struct plan_unit *u, const char *v, struct plan_pos pos, struct diag *d)
{
	char word[PLAN_UNIT_LINE];
	bool next = false;

	(void)pos;
	(void)d;
	while (plan_unit_word(word, sizeof(word), &v) > 0) {
		if (next)
			plan_unit_set(&u->plan_path, word);
		else if (strncmp(word, "--plan=", 7) == 0)
			plan_unit_set(&u->plan_path, word + 7);
		next = strcmp(word, "--plan") == 0;
	}
}

/*
 * The next word of *s into out (double or single quotes group, a backslash
 * escapes), advancing *s. Its length; 0 at the end.
 */
static size_t plan_unit_word(char *out, size_t len, const char **s)
{
	const char *p = *s;
	size_t n = 0;
	char q = 0;

	while (isspace((unsigned char)*p))
		p++;
	for (; *p != '\0' && (q != 0 || !isspace((unsigned char)*p)); p++) {
		if (q == 0 && (*p == '"' || *p == '\'')) {
			q = *p;
			continue;
		}
		if (q != 0 && *p == q) {
			q = 0;
			continue;
		}
		if (*p == '\\' && p[1] != '\0')
			p++;
		if (n + 1 < len)
			out[n++] = *p;
	}
	out[n] = '\0';
	*s = p;
	return n;
}

/* Trim spaces off both ends of s, in place. */
static char *plan_unit_trim(char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* One logical line (n: its first line number). */
static void plan_unit_line(struct plan_unit *u, char *line, unsigned n, bool *service,
			   struct diag *d)
{
	char *s = plan_unit_trim(line), *eq, *key, *v;

	if (*s == '\0' || *s == '#' || *s == ';')
		return;
	if (*s == '[') {
		*service = strcmp(s, "[Service]") == 0;
		if (*service && !u->has_service)
			u->service_pos = (struct plan_pos){n, 1};
		u->has_service = u->has_service || *service;
		return;
	}
	eq = strchr(s, '=');
	if (!*service || eq == NULL)
		return;
	*eq = '\0';
	key = plan_unit_trim(s);
	v = plan_unit_trim(eq + 1);
	for (size_t i = 0; i < sizeof(plan_unit_keys) / sizeof(plan_unit_keys[0]); i++)
		if (strcmp(key, plan_unit_keys[i].key) == 0)
			plan_unit_keys[i].take(u, v, (struct plan_pos){n, (unsigned)(v - line) + 1},
					       d);
}

/* Read the logical lines of f (a trailing backslash joins the next line). */
static void plan_unit_read(struct plan_unit *u, FILE *f, struct diag *d)
{
	char *buf = malloc(PLAN_UNIT_LINE), part[1024];
	size_t len = 0;
	unsigned n = 0, first = 0;
	bool service = false;

	if (buf == NULL)
		return;
	while (fgets(part, sizeof(part), f) != NULL) {
		size_t l = strlen(part);
		bool whole = l > 0 && part[l - 1] == '\n';

		first = len == 0 ? n + 1 : first;
		if (len + l < PLAN_UNIT_LINE) {
			memcpy(buf + len, part, l + 1);
			len += l;
		}
		n += whole || feof(f);
		if (!whole && !feof(f))
			continue; /* a longer physical line: read on */
		while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
			buf[--len] = '\0';
		if (len > 0 && buf[len - 1] == '\\') {
			buf[len - 1] = ' '; /* continued on the next line */
			continue;
		}
		plan_unit_line(u, buf, first, &service, d);
		len = 0;
	}
	if (len > 0)
		plan_unit_line(u, buf, first, &service, d);
	free(buf);
}

/* Load path. */
int plan_unit_load(struct plan_unit *u, const char *path, struct diag *d)
{
	FILE *f;
	size_t errors = diag_count(d, DIAG_ERROR);

	*u = (struct plan_unit){.stop_ms = PLAN_UNIT_DEFAULT_STOP_MS};
	u->file = strdup(path);
	f = fopen(path, "r");
	if (f == NULL) {
		diag_add(d, DIAG_ERROR, path, 0, 0, "cannot read the unit file");
		return -1;
	}
	plan_unit_read(u, f, d);
	fclose(f);
	if (!u->has_service)
		diag_add(d, DIAG_ERROR, path, 0, 0, "no [Service] section: not a service unit");
	return diag_count(d, DIAG_ERROR) == errors ? 0 : -1;
}

/* Release a unit. */
void plan_unit_free(struct plan_unit *u)
{
	for (size_t i = 0; i < u->nenv; i++)
		free(u->env[i]);
	free(u->env);
	free(u->file);
	free(u->type);
	free(u->kill_signal);
	free(u->plan_path);
	*u = (struct plan_unit){0};
}

/* The position findings about TimeoutStopSec point at. */
static const struct plan_pos *plan_unit_stop_pos(const struct plan_unit *u)
{
	return u->stop_set ? &u->stop_pos : &u->service_pos;
}

/* The plan's phases and margin must fit TimeoutStopSec. */
static void plan_unit_check_stop(const struct plan_unit *u, const struct plan *p, struct diag *d)
{
	int64_t phases = plan_total_ms(p), need = plan_add_ms(phases, p->margin.ms);
	const struct plan_pos *pos = plan_unit_stop_pos(u);
	char a[32], b[32], c[32], t[32];

	if (need <= u->stop_ms)
		return;
	diag_add(d, DIAG_ERROR, u->file, pos->line, pos->col,
		 "the plan needs %s (phases %s + teardown margin %s) but TimeoutStopSec is "
		 "%s%s; systemd would SIGKILL keycastd mid-shutdown if its loop stopped "
		 "extending the timeout: raise TimeoutStopSec to at least %" PRId64
		 "s or lower the budgets",
		 plan_duration_format(a, sizeof(a), need),
		 plan_duration_format(b, sizeof(b), phases),
		 plan_duration_format(c, sizeof(c), p->margin.ms),
		 plan_duration_format(t, sizeof(t), u->stop_ms),
		 u->stop_set ? "" : " (the default)", (need + 999) / 1000);
}

/* The ceiling (the watchdog's bound) must fit TimeoutStopSec. */
static void plan_unit_check_ceiling(const struct plan_unit *u, const struct plan *p, struct diag *d)
{
	const struct plan_pos *pos = plan_unit_stop_pos(u);
	char a[32], t[32];

	if (p->ceiling.ms <= u->stop_ms)
		return;
	diag_add(d, DIAG_ERROR, u->file, pos->line, pos->col,
		 "the plan's ceiling is %s (%s) but TimeoutStopSec is %s%s: with a stuck event "
		 "loop (no more EXTEND_TIMEOUT_USEC) systemd's SIGKILL would come before the "
		 "watchdog's final line; lower the ceiling to at most %" PRId64
		 "s (the plan's 'ceiling' or SHUTDOWN_GRACE_PERIOD_CEILING_SECS) or raise "
		 "TimeoutStopSec to at least %" PRId64 "s",
		 plan_duration_format(a, sizeof(a), p->ceiling.ms),
		 plan_origin_name(p->ceiling.origin),
		 plan_duration_format(t, sizeof(t), u->stop_ms),
		 u->stop_set ? "" : " (the default)", u->stop_ms / 1000,
		 (p->ceiling.ms + 999) / 1000);
}

/* KillSignal must start the plan; Type=notify lets the daemon extend the timeout. */
static void plan_unit_check_service(const struct plan_unit *u, struct diag *d)
{
	const char *k = u->kill_signal;

	if (k != NULL && strcmp(k, "SIGTERM") != 0 && strcmp(k, "TERM") != 0 &&
	    strcmp(k, "SIGINT") != 0 && strcmp(k, "INT") != 0 && strcmp(k, "15") != 0 &&
	    strcmp(k, "2") != 0)
		diag_add(d, DIAG_ERROR, u->file, u->kill_pos.line, u->kill_pos.col,
			 "KillSignal=%s: keycastd runs its shutdown plan on SIGTERM or SIGINT "
			 "only; remove KillSignal= (SIGTERM is the default)",
			 k);
	if (u->type == NULL || strcmp(u->type, "notify") != 0)
		diag_add(d, DIAG_WARNING, u->file, u->type ? u->type_pos.line : u->service_pos.line,
			 u->type ? u->type_pos.col : u->service_pos.col,
			 "Type=%s: systemd neither waits for keycastd's READY=1 nor takes the "
			 "EXTEND_TIMEOUT_USEC that make its stop timeout follow the plan; set "
			 "Type=notify",
			 u->type ? u->type : "simple (the default)");
}

/* Notes: what the check cannot see, or what takes the bound away. */
static void plan_unit_check_notes(const struct plan_unit *u, struct diag *d)
{
	if (u->stop_ms == PLAN_UNIT_INFINITY)
		diag_add(d, DIAG_NOTE, u->file, u->stop_pos.line, u->stop_pos.col,
			 "TimeoutStopSec=infinity: only keycastd's watchdog bounds the shutdown");
	if (u->no_sigkill)
		diag_add(d, DIAG_NOTE, u->file, u->service_pos.line, u->service_pos.col,
			 "SendSIGKILL=no: a shutdown that outlives TimeoutStopSec is left running");
	if (u->env_files)
		diag_add(d, DIAG_NOTE, u->file, u->service_pos.line, u->service_pos.col,
			 "EnvironmentFile= is not read: pass its SHUTDOWN_* values with --env");
}

/* Check p against the unit. */
void plan_unit_check(const struct plan_unit *u, const struct plan *p, struct diag *d)
{
	if (!u->has_service)
		return;
	plan_unit_check_service(u, d);
	plan_unit_check_stop(u, p, d);
	plan_unit_check_ceiling(u, p, d);
	plan_unit_check_notes(u, d);
}
