/*
 * jstr.h - the JSON pieces the event path needs, at full string length.
 *
 * A growable output buffer with NIP-01 string escaping, and a strict
 * lexer over raw JSON text: strings decoded with their length (so
 * "\u0000" survives, unlike cJSON), integers, and a value skipper.
 * Internal to the nostr layer (used by event.c and event_parse.c).
 */
#ifndef KC_NOSTR_JSTR_H
#define KC_NOSTR_JSTR_H

#include <stddef.h>
#include <stdint.h>

/*
 * A growable byte buffer; zero-initialise. oom is sticky. It may carry a
 * secret (a bunker URI, decrypted content), so growing and freeing it wipe
 * every copy (wipe.h); the buffer jstr_buf_finish hands over is the only one.
 */
struct jstr_buf {
	char *p;
	size_t len;
	size_t cap;
	int oom;
};

/* A cursor over raw JSON text. */
struct jstr_lex {
	const char *p;
	const char *end;
	const char *err; /* static message of the first error, or NULL */
};

/* Append n bytes. */
void jstr_buf_put(struct jstr_buf *b, const char *s, size_t n);

/* Append a NUL-terminated string. */
void jstr_buf_puts(struct jstr_buf *b, const char *s);

/* Append a signed integer in decimal. */
void jstr_buf_int(struct jstr_buf *b, int64_t v);

/* Append s[0..n) as a JSON string, quoted and escaped exactly as NIP-01. */
void jstr_buf_string(struct jstr_buf *b, const char *s, size_t n);

/* Hand the NUL-terminated contents to the caller (*out, *len); 0, or -1 if oom. */
int jstr_buf_finish(struct jstr_buf *b, char **out, size_t *len)
	__attribute__((warn_unused_result));

/* Wipe and free a buffer's contents. */
void jstr_buf_free(struct jstr_buf *b);

/* Skip JSON whitespace; return the next byte, or 0 at the end (or at a NUL byte). */
char jstr_peek(struct jstr_lex *lx);

/* Skip JSON whitespace; 1 if nothing is left (a NUL byte is not the end), else 0. */
int jstr_at_end(struct jstr_lex *lx);

/* Consume the byte c (after whitespace); 0, or -1 with lx->err set. */
int jstr_expect(struct jstr_lex *lx, char c) __attribute__((warn_unused_result));

/*
 * Decode a JSON string (after whitespace) into *out (malloc'd, NUL-terminated,
 * length in *len): strict escapes, valid UTF-8, no raw control characters,
 * no lone surrogates, at most max bytes decoded. 0, or -1 with lx->err (a
 * partly decoded copy is wiped). jstr_skip wipes the strings it decodes.
 */
int jstr_string(struct jstr_lex *lx, char **out, size_t *len, size_t max)
	__attribute__((warn_unused_result));

/* A JSON integer (no fraction, no exponent, no leading zeros) in *out; 0 or -1. */
int jstr_int(struct jstr_lex *lx, int64_t *out) __attribute__((warn_unused_result));

/* Skip one JSON value of nesting depth at most depth; 0 or -1. */
int jstr_skip(struct jstr_lex *lx, int depth) __attribute__((warn_unused_result));

#endif /* KC_NOSTR_JSTR_H */
