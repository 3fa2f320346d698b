/*
 * log.h - structured, one-line-per-event logging.
 *
 * Every event is a level, a component, a message and typed fields. The
 * output is JSON lines (time, level, msg, component, fields...) or readable
 * text; the fields are never formatted by the caller, so nothing can break
 * the JSON. A field is built with one of the log_* constructors below, each
 * of which takes a plain scalar or C string: key material and secret
 * strings live in struct types (nostr/keys.h, core/secret.h) that no
 * constructor accepts, so a secret cannot be logged by accident — passing
 * one is a compile error. log_secret() is the one constructor that takes a
 * struct secret, and it prints "[redacted]", never the text.
 *
 *   log_info("plan", "phase started", log_str("phase", name),
 *            log_ms("budget_ms", budget));
 */
#ifndef KC_LOG_H
#define KC_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Severity, lowest first. */
enum log_level {
	LOG_LEVEL_DEBUG, /* developer detail, off by default */
	LOG_LEVEL_INFO,	 /* normal operation: one line per notable event */
	LOG_LEVEL_WARN,	 /* degraded but continuing; an operator should look */
	LOG_LEVEL_ERROR, /* an operation failed */
};

/* Output format. */
enum log_format {
	LOG_FORMAT_AUTO, /* text on a terminal, JSON otherwise */
	LOG_FORMAT_JSON, /* one JSON object per line */
	LOG_FORMAT_TEXT, /* human-readable, one line per event */
};

/* Type tag of one field. */
enum log_field_type {
	LOG_FIELD_NONE,	  /* sentinel, never printed */
	LOG_FIELD_STR,	  /* UTF-8 string (NULL prints as null) */
	LOG_FIELD_INT,	  /* signed 64-bit integer */
	LOG_FIELD_UINT,	  /* unsigned 64-bit integer */
	LOG_FIELD_BOOL,	  /* true / false */
	LOG_FIELD_DBL,	  /* floating point */
	LOG_FIELD_SECRET, /* a struct secret: printed as "[redacted]" */
};

/* One key/value pair of an event. */
struct log_field {
	const char *key;
	enum log_field_type type;
	union {
		const char *s;
		int64_t i;
		uint64_t u;
		bool b;
		double d;
	} v;
};

/* Receives every event at or above the level (tests capture with it). */
typedef void (*log_hook_fn)(void *arg, enum log_level level, const char *component, const char *msg,
			    const struct log_field *fields, size_t nfields);

/* A string field. */
static inline struct log_field log_str(const char *key, const char *value)
{
	return (struct log_field){.key = key, .type = LOG_FIELD_STR, .v.s = value};
}

/* A signed integer field. */
static inline struct log_field log_int(const char *key, int64_t value)
{
	return (struct log_field){.key = key, .type = LOG_FIELD_INT, .v.i = value};
}

/* An unsigned integer field. */
static inline struct log_field log_uint(const char *key, uint64_t value)
{
	return (struct log_field){.key = key, .type = LOG_FIELD_UINT, .v.u = value};
}

/* A duration in milliseconds; by convention its key ends in "_ms". */
static inline struct log_field log_ms(const char *key, int64_t ms)
{
	return log_int(key, ms);
}

/* A boolean field. */
static inline struct log_field log_bool(const char *key, bool value)
{
	return (struct log_field){.key = key, .type = LOG_FIELD_BOOL, .v.b = value};
}

/* A floating-point field. */
static inline struct log_field log_dbl(const char *key, double value)
{
	return (struct log_field){.key = key, .type = LOG_FIELD_DBL, .v.d = value};
}

struct secret;

/* A secret's field: says that it is there, never what it is. */
static inline struct log_field log_secret(const char *key, const struct secret *value)
{
	(void)value;
	return (struct log_field){.key = key, .type = LOG_FIELD_SECRET};
}

/* Set the threshold and the format; AUTO picks by isatty(stderr). */
void log_configure(enum log_level level, enum log_format format);

/* The level currently in force. */
enum log_level log_threshold(void);

/* Send events to hook instead of stderr (NULL restores stderr). */
void log_set_hook(log_hook_fn hook, void *arg);

/* Parse "debug|info|warn|error"; returns 0, or -1 if unknown. */
int log_level_parse(enum log_level *out, const char *s) __attribute__((warn_unused_result));

/* Parse "auto|json|text"; returns 0, or -1 if unknown. */
int log_format_parse(enum log_format *out, const char *s) __attribute__((warn_unused_result));

/* The lower-case name of a level. */
const char *log_level_name(enum log_level level);

/* Emit one event; fields[0] is a sentinel and is skipped. Use the macros. */
void log_emit(enum log_level level, const char *component, const char *msg,
	      const struct log_field *fields, size_t nfields);

/* Emit one event whatever the threshold (final lines); fields[0] is a sentinel. */
void log_emit_final(enum log_level level, const char *component, const char *msg,
		    const struct log_field *fields, size_t nfields);

/* The most fields a prepared line keeps for the hook. */
#define LOG_PREPARED_FIELDS 4

/*
 * A line formatted in advance (log_prepare), written later by
 * log_prepared_write() with no allocation, no lock and no global state: for
 * a thread that must log while the rest of the process may be stuck.
 */
struct log_prepared {
	char buf[1024];	       /* the line, newline included; its time is stamped on write */
	size_t len;	       /* bytes of buf in use */
	size_t time_off;       /* offset of the timestamp in buf, or SIZE_MAX */
	log_hook_fn hook;      /* the hook in force when prepared (NULL: stderr) */
	void *hook_arg;	       /* its argument */
	enum log_level level;  /* for the hook */
	const char *component; /* borrowed, for the hook */
	const char *msg;       /* borrowed, for the hook */
	struct log_field fields[LOG_PREPARED_FIELDS]; /* borrowed strings, for the hook */
	size_t nfields;				      /* fields kept */
};

/*
 * Format a line now, in the current format and whatever the threshold;
 * fields[0] is a sentinel. Returns 0, or -1 if it does not fit or memory
 * runs out. Strings are borrowed until the last log_prepared_write().
 */
int log_prepare(struct log_prepared *out, enum log_level level, const char *component,
		const char *msg, const struct log_field *fields, size_t nfields)
	__attribute__((warn_unused_result));

/*
 * Stamp the time and make one non-blocking write(2) of the prepared line:
 * a full stderr pipe loses the line rather than block the caller (stderr
 * is non-blocking for that attempt only). Async-signal-safe when no hook
 * is set; with one, the hook gets the line instead.
 */
void log_prepared_write(const struct log_prepared *p);

#define LOG_FIELDS_(...)  ((const struct log_field[]){{.key = NULL}, ##__VA_ARGS__})
#define LOG_NFIELDS_(...) (sizeof(LOG_FIELDS_(__VA_ARGS__)) / sizeof(struct log_field))
#define log_at(level, component, msg, ...)                                                         \
	log_emit((level), (component), (msg), LOG_FIELDS_(__VA_ARGS__), LOG_NFIELDS_(__VA_ARGS__))

#define log_final(level, component, msg, ...)                                                      \
	log_emit_final((level), (component), (msg), LOG_FIELDS_(__VA_ARGS__),                      \
		       LOG_NFIELDS_(__VA_ARGS__))
#define log_prepare_at(out, level, component, msg, ...)                                            \
	log_prepare((out), (level), (component), (msg), LOG_FIELDS_(__VA_ARGS__),                  \
		    LOG_NFIELDS_(__VA_ARGS__))

#define log_debug(component, ...)                                                                  \
	do {                                                                                       \
		if (log_threshold() <= LOG_LEVEL_DEBUG)                                            \
			log_at(LOG_LEVEL_DEBUG, (component), __VA_ARGS__);                         \
	} while (0)
#define log_info(component, ...)  log_at(LOG_LEVEL_INFO, (component), __VA_ARGS__)
#define log_warn(component, ...)  log_at(LOG_LEVEL_WARN, (component), __VA_ARGS__)
#define log_error(component, ...) log_at(LOG_LEVEL_ERROR, (component), __VA_ARGS__)

#endif /* KC_LOG_H */
