/*
 * log.c - structured logging to stderr as JSON lines or text.
 *
 * JSON objects are built with cJSON, never with printf, so every string is
 * escaped correctly. Each event is written with a single write(2)-sized
 * fputs on an unbuffered stderr, so lines of concurrent writers (the
 * shutdown watchdog thread) do not interleave.
 */
#include "core/log.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A text line under construction; on overflow it is cut and marked. */
struct log_line {
	char buf[4096];
	size_t off;	/* bytes used, NUL excluded */
	bool truncated; /* something did not fit */
};

#define LOG_REDACTED "[redacted]"

/* A timestamp of the fixed width log_stamp() writes over at write time. */
#define LOG_TIME_PLACEHOLDER "0000-00-00T00:00:00.000Z"
#define LOG_TIME_LEN	     (sizeof(LOG_TIME_PLACEHOLDER) - 1)

static void log_timestamp(char *buf, size_t len);
static void log_deliver(enum log_level level, const char *component, const char *msg,
			const struct log_field *fields, size_t nfields);
static char *log_json_line(const char *ts, enum log_level level, const char *component,
			   const char *msg, const struct log_field *fields, size_t nfields);
static void log_text_line(struct log_line *l, const char *ts, enum log_level level,
			  const char *component, const char *msg, const struct log_field *fields,
			  size_t nfields);
static void log_stamp(char *out);
static void log_digits(char *p, unsigned v, int width);
static int log_prepared_set(struct log_prepared *out, const char *line);
static void log_write_json(enum log_level level, const char *component, const char *msg,
			   const struct log_field *fields, size_t nfields);
static void log_write_text(enum log_level level, const char *component, const char *msg,
			   const struct log_field *fields, size_t nfields);
static cJSON *log_field_json(const struct log_field *f);
static void log_text_field(struct log_line *l, const struct log_field *f);
static void log_line_printf(struct log_line *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static bool log_text_needs_quotes(const char *s);
static void log_line_escaped(struct log_line *l, const char *s, bool quoted);

static enum log_level log_min_level = LOG_LEVEL_INFO;
static enum log_format log_out_format = LOG_FORMAT_AUTO;
static log_hook_fn log_hook;
static void *log_hook_arg;

static const char *const log_level_names[] = {
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_ERROR] = "error",
};

static const char *const log_format_names[] = {
	[LOG_FORMAT_AUTO] = "auto",
	[LOG_FORMAT_JSON] = "json",
	[LOG_FORMAT_TEXT] = "text",
};

/* Set the threshold and the format; AUTO picks by isatty(stderr). */
void log_configure(enum log_level level, enum log_format format)
{
	log_min_level = level;
	log_out_format = format;
	if (log_out_format == LOG_FORMAT_AUTO)
		log_out_format = isatty(STDERR_FILENO) ? LOG_FORMAT_TEXT : LOG_FORMAT_JSON;
}

/* The level currently in force. */
enum log_level log_threshold(void)
{
	return log_min_level;
}

/* Send events to hook instead of stderr (NULL restores stderr). */
void log_set_hook(log_hook_fn hook, void *arg)
{
	log_hook = hook;
	log_hook_arg = arg;
}

/* Parse "debug|info|warn|error"; returns 0, or -1 if unknown. */
int log_level_parse(enum log_level *out, const char *s)
{
	for (size_t i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]); i++) {
		if (strcmp(s, log_level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcmp(s, "warning") == 0) {
		*out = LOG_LEVEL_WARN;
		return 0;
	}
	return -1;
}

/* Parse "auto|json|text"; returns 0, or -1 if unknown. */
int log_format_parse(enum log_format *out, const char *s)
{
	for (size_t i = 0; i < sizeof(log_format_names) / sizeof(log_format_names[0]); i++) {
		if (strcmp(s, log_format_names[i]) == 0) {
			*out = (enum log_format)i;
			return 0;
		}
	}
	return -1;
}

/* The lower-case name of a level. */
const char *log_level_name(enum log_level level)
{
	if ((unsigned)level >= sizeof(log_level_names) / sizeof(log_level_names[0]))
		return "unknown";
	return log_level_names[level];
}

/* Emit one event; fields[0] is a sentinel and is skipped. */
void log_emit(enum log_level level, const char *component, const char *msg,
	      const struct log_field *fields, size_t nfields)
{
	if (level >= log_min_level)
		log_deliver(level, component, msg, fields, nfields);
}

/* Emit one event whatever the threshold (final lines); fields[0] is a sentinel. */
void log_emit_final(enum log_level level, const char *component, const char *msg,
		    const struct log_field *fields, size_t nfields)
{
	log_deliver(level, component, msg, fields, nfields);
}

/* Send one event to the hook or to stderr; fields[0] is a sentinel. */
static void log_deliver(enum log_level level, const char *component, const char *msg,
			const struct log_field *fields, size_t nfields)
{
	fields++;
	nfields--;
	if (log_hook != NULL) {
		log_hook(log_hook_arg, level, component, msg, fields, nfields);
		return;
	}
	if (log_out_format == LOG_FORMAT_AUTO) /* not configured yet: decide now */
		log_out_format = isatty(STDERR_FILENO) ? LOG_FORMAT_TEXT : LOG_FORMAT_JSON;
	if (log_out_format == LOG_FORMAT_TEXT)
		log_write_text(level, component, msg, fields, nfields);
	else
		log_write_json(level, component, msg, fields, nfields);
}

/* Format the wall-clock time as RFC 3339 UTC with milliseconds (len > LOG_TIME_LEN). */
static void log_timestamp(char *buf, size_t len)
{
	if (len <= LOG_TIME_LEN) {
		buf[0] = '\0';
		return;
	}
	log_stamp(buf);
	buf[LOG_TIME_LEN] = '\0';
}

/* Build the cJSON value of one field; NULL on allocation failure. */
static cJSON *log_field_json(const struct log_field *f)
{
	switch (f->type) {
	case LOG_FIELD_STR:
		return f->v.s != NULL ? cJSON_CreateString(f->v.s) : cJSON_CreateNull();
	case LOG_FIELD_INT:
		return cJSON_CreateNumber((double)f->v.i);
	case LOG_FIELD_UINT:
		return cJSON_CreateNumber((double)f->v.u);
	case LOG_FIELD_BOOL:
		return cJSON_CreateBool(f->v.b);
	case LOG_FIELD_DBL:
		return cJSON_CreateNumber(f->v.d);
	case LOG_FIELD_SECRET:
		return cJSON_CreateString(LOG_REDACTED);
	case LOG_FIELD_NONE:
		break;
	}
	return cJSON_CreateNull();
}

/* One event as an unformatted JSON object, caller-freed (cJSON_free); NULL on ENOMEM. */
static char *log_json_line(const char *ts, enum log_level level, const char *component,
			   const char *msg, const struct log_field *fields, size_t nfields)
{
	cJSON *obj = cJSON_CreateObject();
	char *line;

	if (obj == NULL)
		return NULL;
	cJSON_AddStringToObject(obj, "time", ts);
	cJSON_AddStringToObject(obj, "level", log_level_name(level));
	cJSON_AddStringToObject(obj, "msg", msg);
	cJSON_AddStringToObject(obj, "component", component != NULL ? component : "keycastd");
	for (size_t i = 0; i < nfields; i++) {
		cJSON *v = log_field_json(&fields[i]);
		if (v != NULL)
			cJSON_AddItemToObject(obj, fields[i].key, v);
	}
	line = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	return line;
}

/* Write one event as a JSON object on its own line. */
static void log_write_json(enum log_level level, const char *component, const char *msg,
			   const struct log_field *fields, size_t nfields)
{
	char ts[40];
	char *line;

	log_timestamp(ts, sizeof(ts));
	line = log_json_line(ts, level, component, msg, fields, nfields);
	if (line != NULL) {
		fprintf(stderr, "%s\n", line);
		cJSON_free(line);
		return;
	}
	fprintf(stderr, "{\"level\":\"error\",\"msg\":\"log: out of memory\"}\n");
}

/* Append formatted text to a text line; past the end it only marks truncation. */
static void log_line_printf(struct log_line *l, const char *fmt, ...)
{
	size_t room = sizeof(l->buf) - l->off;
	va_list ap;
	int n;

	if (l->truncated)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->off, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		l->truncated = true;
		l->off = sizeof(l->buf) - 1;
		return;
	}
	l->off += (size_t)n;
}

/* Whether s needs quotes in a text line (empty, blanks, quotes, '=', controls). */
static bool log_text_needs_quotes(const char *s)
{
	if (s[0] == '\0')
		return true;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
			return true;
	return false;
}

/* Append s with control characters escaped (and '"', '\' too when quoted). */
static void log_line_escaped(struct log_line *l, const char *s, bool quoted)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0' && !l->truncated; p++) {
		if (*p == '\n')
			log_line_printf(l, "\\n");
		else if (*p == '\t')
			log_line_printf(l, "\\t");
		else if (*p < ' ' || *p == 0x7f)
			log_line_printf(l, "\\x%02x", *p);
		else if (quoted && (*p == '"' || *p == '\\'))
			log_line_printf(l, "\\%c", *p);
		else
			log_line_printf(l, "%c", *p);
	}
}

/* Append one " key=value" pair of a text line; odd strings are quoted and escaped. */
static void log_text_field(struct log_line *l, const struct log_field *f)
{
	log_line_printf(l, " %s=", f->key);
	switch (f->type) {
	case LOG_FIELD_STR:
		if (f->v.s == NULL) {
			log_line_printf(l, "null");
		} else if (log_text_needs_quotes(f->v.s)) {
			log_line_printf(l, "\"");
			log_line_escaped(l, f->v.s, true);
			log_line_printf(l, "\"");
		} else {
			log_line_printf(l, "%s", f->v.s);
		}
		break;
	case LOG_FIELD_INT:
		log_line_printf(l, "%" PRId64, f->v.i);
		break;
	case LOG_FIELD_UINT:
		log_line_printf(l, "%" PRIu64, f->v.u);
		break;
	case LOG_FIELD_BOOL:
		log_line_printf(l, "%s", f->v.b ? "true" : "false");
		break;
	case LOG_FIELD_DBL:
		log_line_printf(l, "%g", f->v.d);
		break;
	case LOG_FIELD_SECRET:
		log_line_printf(l, "%s", LOG_REDACTED);
		break;
	case LOG_FIELD_NONE:
		break;
	}
}

/* Build one event as a readable line: time LEVEL component: msg k=v ... */
static void log_text_line(struct log_line *l, const char *ts, enum log_level level,
			  const char *component, const char *msg, const struct log_field *fields,
			  size_t nfields)
{
	log_line_printf(l, "%s %-5s %s: ", ts, log_level_name(level),
			component != NULL ? component : "keycastd");
	log_line_escaped(l, msg, false);
	for (size_t i = 0; i < nfields; i++)
		log_text_field(l, &fields[i]);
	if (l->truncated)
		memcpy(l->buf + sizeof(l->buf) - 4, "...", 4); /* say so */
}

/* Write one event as a readable line. */
static void log_write_text(enum log_level level, const char *component, const char *msg,
			   const struct log_field *fields, size_t nfields)
{
	char ts[40];
	struct log_line l = {.off = 0};

	log_timestamp(ts, sizeof(ts));
	log_text_line(&l, ts, level, component, msg, fields, nfields);
	fprintf(stderr, "%s\n", l.buf);
}

/* Copy line and a newline into out; -1 if it does not fit. */
static int log_prepared_set(struct log_prepared *out, const char *line)
{
	size_t n = strlen(line);

	if (n + 1 >= sizeof(out->buf))
		return -1;
	memcpy(out->buf, line, n);
	out->buf[n] = '\n';
	out->len = n + 1;
	return 0;
}

/* Format a line now, in the current format and whatever the threshold. */
int log_prepare(struct log_prepared *out, enum log_level level, const char *component,
		const char *msg, const struct log_field *fields, size_t nfields)
{
	static const char json_head[] = "{\"time\":\"";
	struct log_line l = {.off = 0};
	char *json = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->hook = log_hook;
	out->hook_arg = log_hook_arg;
	out->level = level;
	out->component = component;
	out->msg = msg;
	out->nfields = nfields - 1 < LOG_PREPARED_FIELDS ? nfields - 1 : LOG_PREPARED_FIELDS;
	memcpy(out->fields, fields + 1, out->nfields * sizeof(*fields));
	if (log_out_format == LOG_FORMAT_AUTO)
		log_out_format = isatty(STDERR_FILENO) ? LOG_FORMAT_TEXT : LOG_FORMAT_JSON;
	if (log_out_format == LOG_FORMAT_TEXT) {
		log_text_line(&l, LOG_TIME_PLACEHOLDER, level, component, msg, fields + 1,
			      nfields - 1);
		out->time_off = 0;
		rc = l.truncated ? -1 : log_prepared_set(out, l.buf);
		return rc;
	}
	json = log_json_line(LOG_TIME_PLACEHOLDER, level, component, msg, fields + 1, nfields - 1);
	if (json != NULL)
		rc = log_prepared_set(out, json);
	out->time_off = strncmp(out->buf, json_head, sizeof(json_head) - 1) == 0
				? sizeof(json_head) - 1
				: SIZE_MAX;
	cJSON_free(json);
	return rc;
}

/* Write v as width decimal digits at p. */
static void log_digits(char *p, unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
}

/* Write the UTC time now as RFC 3339 (LOG_TIME_LEN bytes, no NUL); no lock, no allocation. */
static void log_stamp(char *out)
{
	struct timespec ts;
	int64_t days, era, doe, yoe, doy, mp;
	unsigned sod;

	clock_gettime(CLOCK_REALTIME, &ts);
	days = (int64_t)ts.tv_sec / 86400; /* the civil-from-days algorithm, for days >= 0 */
	sod = (unsigned)((int64_t)ts.tv_sec % 86400);
	days += 719468;
	era = days / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	memcpy(out, LOG_TIME_PLACEHOLDER, LOG_TIME_LEN);
	log_digits(out, (unsigned)(yoe + era * 400 + (mp >= 10)), 4);
	log_digits(out + 5, (unsigned)(mp < 10 ? mp + 3 : mp - 9), 2);
	log_digits(out + 8, (unsigned)(doy - (153 * mp + 2) / 5 + 1), 2);
	log_digits(out + 11, sod / 3600, 2);
	log_digits(out + 14, sod / 60 % 60, 2);
	log_digits(out + 17, sod % 60, 2);
	log_digits(out + 20, (unsigned)(ts.tv_nsec / 1000000L), 3);
}

/* One write(2) of buf that never blocks: stderr is non-blocking for the attempt only. */
static void log_write_once(const char *buf, size_t len)
{
	int flags = fcntl(STDERR_FILENO, F_GETFL);
	ssize_t n;

	if (flags < 0)
		return; /* no stderr at all */
	if (!(flags & O_NONBLOCK) && fcntl(STDERR_FILENO, F_SETFL, flags | O_NONBLOCK) != 0)
		return; /* cannot make it safe: writing could block forever */
	do
		n = write(STDERR_FILENO, buf, len);
	while (n < 0 && errno == EINTR);
	if (!(flags & O_NONBLOCK))
		(void)fcntl(STDERR_FILENO, F_SETFL, flags);
}

/*
 * Stamp the time and make one non-blocking write(2) of the prepared line
 * (a full pipe loses it rather than block); async-signal-safe when no
 * hook is set (with one, the hook is called instead).
 */
void log_prepared_write(const struct log_prepared *p)
{
	char line[sizeof(p->buf)];

	if (p->len == 0)
		return;
	if (p->hook != NULL) {
		p->hook(p->hook_arg, p->level, p->component, p->msg, p->fields, p->nfields);
		return;
	}
	memcpy(line, p->buf, p->len);
	if (p->time_off != SIZE_MAX && p->time_off + LOG_TIME_LEN <= p->len)
		log_stamp(line + p->time_off);
	log_write_once(line, p->len);
}
