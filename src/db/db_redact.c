/*
 * db_redact.c - credentials out of libpq messages, behind db_redact.h.
 */
#include "db/db_redact.h"

#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Passwords of a connection string looked for in a message. */
#define DB_REDACT_SECRETS 2

/* The output being built: bounded, always terminated. */
struct db_redact_out {
	char *buf;
	size_t cap, len;
};

static void db_redact_put(struct db_redact_out *o, const char *s, size_t n);
static size_t db_redact_userinfo(const char *p, size_t *pw_off);
static size_t db_redact_kv_value(const char *p);
static char *db_redact_parsed_password(const char *conninfo);
static char *db_redact_text_password(const char *conninfo);
static size_t db_redact_step(struct db_redact_out *o, const char *p, char *const *secrets);

/* Append s[0, n) as far as it fits. */
static void db_redact_put(struct db_redact_out *o, const char *s, size_t n)
{
	size_t room = o->cap - 1 - o->len;

	if (n > room)
		n = room;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/*
 * p follows "://": the length of the user information up to its last '@'
 * (before a space, a quote or the end), with *pw_off the offset of the
 * password after the ':'; 0 if there is no "user:password@".
 */
static size_t db_redact_userinfo(const char *p, size_t *pw_off)
{
	size_t end = strcspn(p, " \t\r\n\"'<>"), at = end, colon;

	while (at > 0 && p[at - 1] != '@')
		at--;
	if (at == 0)
		return 0;
	colon = strcspn(p, ":");
	if (colon >= at - 1)
		return 0;
	*pw_off = colon + 1;
	return at - 1;
}

/* p follows "password=": the length of the value (quoted, or up to a separator). */
static size_t db_redact_kv_value(const char *p)
{
	size_t n = 0;

	if (*p == '\'') {
		for (n = 1; p[n] != '\0' && p[n] != '\''; n++)
			if (p[n] == '\\' && p[n + 1] != '\0')
				n++;
		return p[n] == '\'' ? n + 1 : n;
	}
	return strcspn(p, " \t\r\n&\"'");
}

/* The password libpq finds in conninfo (malloc'd), or NULL. */
static char *db_redact_parsed_password(const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	char *pw = NULL;

	for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL && *o->val != '\0')
			pw = strdup(o->val);
	PQconninfoFree(opts);
	return pw;
}

/* The password as the text of a URI shows it (malloc'd), or NULL. */
static char *db_redact_text_password(const char *conninfo)
{
	const char *p = strstr(conninfo, "://");
	size_t off = 0, n;

	if (p == NULL || (n = db_redact_userinfo(p + 3, &off)) == 0)
		return NULL;
	return strndup(p + 3 + off, n - off);
}

/* Handle msg at p: a secret, a URI's userinfo, a password=; returns the bytes consumed. */
static size_t db_redact_step(struct db_redact_out *o, const char *p, char *const *secrets)
{
	size_t off, n;

	for (size_t i = 0; i < DB_REDACT_SECRETS; i++) {
		n = secrets[i] != NULL ? strlen(secrets[i]) : 0;
		if (n >= DB_REDACT_MIN_LEN && strncmp(p, secrets[i], n) == 0) {
			db_redact_put(o, DB_REDACTED, strlen(DB_REDACTED));
			return n;
		}
	}
	if (strncmp(p, "://", 3) == 0 && (n = db_redact_userinfo(p + 3, &off)) > 0) {
		db_redact_put(o, p, 3 + off);
		db_redact_put(o, DB_REDACTED, strlen(DB_REDACTED));
		return 3 + n;
	}
	if (strncasecmp(p, "password=", 9) == 0) {
		db_redact_put(o, p, 9);
		if ((n = db_redact_kv_value(p + 9)) > 0)
			db_redact_put(o, DB_REDACTED, strlen(DB_REDACTED));
		return 9 + n;
	}
	db_redact_put(o, p, 1);
	return 1;
}

/* Copy the first line of msg with every credential replaced. */
void db_redact(char *out, size_t outlen, const char *msg, const char *conninfo)
{
	struct db_redact_out o = {.buf = out, .cap = outlen};
	char *secrets[DB_REDACT_SECRETS] = {NULL, NULL};
	size_t line;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (msg == NULL)
		return;
	if (conninfo != NULL) {
		secrets[0] = db_redact_parsed_password(conninfo);
		secrets[1] = db_redact_text_password(conninfo);
	}
	line = strcspn(msg, "\n");
	for (size_t i = 0; i < line && o.len + 1 < o.cap;)
		i += db_redact_step(&o, msg + i, secrets);
	for (size_t i = 0; i < DB_REDACT_SECRETS; i++) {
		if (secrets[i] != NULL)
			OPENSSL_cleanse(secrets[i], strlen(secrets[i]));
		free(secrets[i]);
	}
}
