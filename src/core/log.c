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

static void log_timestamp(char *buf, size_t len);
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
	if (level < log_min_level)
		return;
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

/* Format the wall-clock time as RFC 3339 UTC with milliseconds. */
static void log_timestamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L);
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

/* Write one event as a JSON object on its own line. */
static void log_write_json(enum log_level level, const char *component, const char *msg,
			   const struct log_field *fields, size_t nfields)
{
	char ts[40];
	cJSON *obj = cJSON_CreateObject();
	char *line = NULL;

	if (obj == NULL)
		goto fail;
	log_timestamp(ts, sizeof(ts));
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
	if (line == NULL)
		goto fail;
	fprintf(stderr, "%s\n", line);
	cJSON_free(line);
	cJSON_Delete(obj);
	return;
fail:
	cJSON_Delete(obj);
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

/* Write one event as a readable line: time LEVEL component: msg k=v ... */
static void log_write_text(enum log_level level, const char *component, const char *msg,
			   const struct log_field *fields, size_t nfields)
{
	char ts[40];
	struct log_line l = {.off = 0};

	log_timestamp(ts, sizeof(ts));
	log_line_printf(&l, "%s %-5s %s: ", ts, log_level_name(level),
			component != NULL ? component : "keycastd");
	log_line_escaped(&l, msg, false);
	for (size_t i = 0; i < nfields; i++)
		log_text_field(&l, &fields[i]);
	if (l.truncated)
		memcpy(l.buf + sizeof(l.buf) - 4, "...", 4); /* say so */
	fprintf(stderr, "%s\n", l.buf);
}
