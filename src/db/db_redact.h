/*
 * db_redact.h - take credentials out of a libpq message or connection
 * string before it is printed or logged.
 *
 * libpq quotes the whole connection string in some of its messages (a
 * malformed URI: `missing "]" in IPv6 host address in URI:
 * "postgresql://user:PASSWORD@[::1/db"`), so every message that came from
 * libpq, or that holds a connection string, goes through db_redact()
 * before it reaches stderr or the log. What is taken out, each replaced by
 * DB_REDACTED:
 *
 *   - the password of the connection string in use, wherever it appears
 *     in the message (as libpq parses it, and as the text shows it when
 *     libpq cannot parse it), when it is at least DB_REDACT_MIN_LEN bytes
 *     (a shorter one would blank out ordinary words);
 *   - the password of any URI's user information (`scheme://user:PASSWORD@`);
 *   - the value of any `password=VALUE` (key=value form or URI query).
 */
#ifndef KC_DB_REDACT_H
#define KC_DB_REDACT_H

#include <stddef.h>

/* What a credential is replaced with. */
#define DB_REDACTED "[redacted]"

/* The shortest password looked for as plain text in messages. */
#define DB_REDACT_MIN_LEN 4

/*
 * Copy the first line of msg into out[outlen] (always NUL-terminated,
 * truncated to fit), credentials replaced by DB_REDACTED. conninfo is the
 * connection string in use, or NULL. msg NULL gives "".
 */
void db_redact(char *out, size_t outlen, const char *msg, const char *conninfo);

#endif /* KC_DB_REDACT_H */
