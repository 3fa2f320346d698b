/*
 * jstr.c - NIP-01 string escaping and a strict raw-JSON lexer.
 *
 * Serialization escapes exactly as NIP-01 and the reference
 * implementations (JSON.stringify): \" \\ \b \f \n \r \t, other C0 as
 * lower-case \u00xx, everything else (DEL, '/', non-ASCII) verbatim.
 */
#include "nostr/jstr.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nostr/wipe.h"

static int jstr_buf_grow(struct jstr_buf *b, size_t n);
static char jstr_short_escape(unsigned char c);
static int jstr_fail(struct jstr_lex *lx, const char *msg);
static int jstr_hex4(struct jstr_lex *lx, uint32_t *out);
static int jstr_escape(struct jstr_lex *lx, char *o, size_t *n);
static int jstr_utf8(struct jstr_lex *lx, char *o, size_t *n);
static size_t jstr_put_utf8(char *o, uint32_t cp);
static int jstr_body(struct jstr_lex *sub, char *o, size_t *n, size_t max);
static int jstr_skip_container(struct jstr_lex *lx, char close, int depth);
static int jstr_skip_scalar(struct jstr_lex *lx);
static size_t jstr_digits(struct jstr_lex *lx);
static int jstr_skip_number(struct jstr_lex *lx);

/* Make room for n more bytes and a NUL; 0, or -1 (sets oom). */
static int jstr_buf_grow(struct jstr_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (b->oom)
		return -1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = wipe_realloc(b->p, b->cap, cap); /* the contents may be secret: no stale copy */
	if (p == NULL) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

/* Append n bytes. */
void jstr_buf_put(struct jstr_buf *b, const char *s, size_t n)
{
	if (jstr_buf_grow(b, n) != 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Append a C string. */
void jstr_buf_puts(struct jstr_buf *b, const char *s)
{
	jstr_buf_put(b, s, strlen(s));
}

/* Append an integer. */
void jstr_buf_int(struct jstr_buf *b, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);

	jstr_buf_put(b, tmp, (size_t)n);
}

/* The short escape letter of a control byte or quote/backslash, or 0 for \u00xx. */
static char jstr_short_escape(unsigned char c)
{
	static const char from[] = "\"\\\b\f\n\r\t", to[] = "\"\\bfnrt";
	const char *hit = c ? memchr(from, c, sizeof(from) - 1) : NULL;

	return hit ? to[hit - from] : 0;
}

/* Append a quoted, NIP-01-escaped string. */
void jstr_buf_string(struct jstr_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	jstr_buf_put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = {'\\', jstr_short_escape(c), '0', '0', hex[c >> 4], hex[c & 15]};

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		jstr_buf_put(b, s + run, i - run);
		run = i + 1;
		if (esc[1] != 0) {
			jstr_buf_put(b, esc, 2);
			continue;
		}
		esc[1] = 'u';
		jstr_buf_put(b, esc, 6);
	}
	jstr_buf_put(b, s + run, n - run);
	jstr_buf_put(b, "\"", 1);
}

/* Hand the contents over. */
int jstr_buf_finish(struct jstr_buf *b, char **out, size_t *len)
{
	if (jstr_buf_grow(b, 0) != 0) {
		jstr_buf_free(b);
		return -1;
	}
	b->p[b->len] = '\0';
	*out = b->p;
	*len = b->len;
	*b = (struct jstr_buf){0};
	return 0;
}

/* Wipe and free the contents. */
void jstr_buf_free(struct jstr_buf *b)
{
	wipe_free(b->p, b->cap);
	*b = (struct jstr_buf){0};
}

/* Record the first error; returns -1. */
static int jstr_fail(struct jstr_lex *lx, const char *msg)
{
	if (lx->err == NULL)
		lx->err = msg;
	return -1;
}

/* Skip whitespace; the next byte or 0. */
char jstr_peek(struct jstr_lex *lx)
{
	while (lx->p < lx->end &&
	       (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' || *lx->p == '\r'))
		lx->p++;
	return lx->p < lx->end ? *lx->p : 0;
}

/* Whether only whitespace is left. */
int jstr_at_end(struct jstr_lex *lx)
{
	jstr_peek(lx);
	return lx->p >= lx->end;
}

/* Consume c. */
int jstr_expect(struct jstr_lex *lx, char c)
{
	if (jstr_peek(lx) != c || lx->p >= lx->end)
		return jstr_fail(lx, "malformed JSON");
	lx->p++;
	return 0;
}

/* Four hex digits of a \u escape. */
static int jstr_hex4(struct jstr_lex *lx, uint32_t *out)
{
	*out = 0;
	if (lx->end - lx->p < 4)
		return jstr_fail(lx, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		char c = *lx->p++;
		uint32_t d;

		if (c >= '0' && c <= '9')
			d = (uint32_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (uint32_t)((c | 0x20) - 'a' + 10);
		else
			return jstr_fail(lx, "bad \\u escape");
		*out = *out << 4 | d;
	}
	return 0;
}

/* Encode a code point as UTF-8; returns the byte count. */
static size_t jstr_put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decode one escape (after the backslash) into o; its byte count in *n. */
static int jstr_escape(struct jstr_lex *lx, char *o, size_t *n)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *hit;
	uint32_t cp, lo;

	if (lx->p >= lx->end)
		return jstr_fail(lx, "truncated escape");
	hit = *lx->p ? strchr(from, *lx->p) : NULL;
	if (hit != NULL) {
		lx->p++;
		o[0] = to[hit - from];
		*n = 1;
		return 0;
	}
	if (*lx->p++ != 'u' || jstr_hex4(lx, &cp) != 0)
		return jstr_fail(lx, "bad escape in string");
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return jstr_fail(lx, "lone surrogate in string");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (lx->end - lx->p < 6 || lx->p[0] != '\\' || lx->p[1] != 'u')
			return jstr_fail(lx, "lone surrogate in string");
		lx->p += 2;
		if (jstr_hex4(lx, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
			return jstr_fail(lx, "lone surrogate in string");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	*n = jstr_put_utf8(o, cp);
	return 0;
}

/* Copy one raw UTF-8 sequence (validated: shortest form, no surrogates, <= U+10FFFF). */
static int jstr_utf8(struct jstr_lex *lx, char *o, size_t *n)
{
	const unsigned char *s = (const unsigned char *)lx->p;
	size_t avail = (size_t)(lx->end - lx->p), len;
	uint32_t cp, min;

	if (s[0] < 0x80)
		len = 1, cp = s[0], min = 0;
	else if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return jstr_fail(lx, "invalid UTF-8 in string");
	if (len > avail)
		return jstr_fail(lx, "invalid UTF-8 in string");
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return jstr_fail(lx, "invalid UTF-8 in string");
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return jstr_fail(lx, "invalid UTF-8 in string");
	memcpy(o, s, len);
	lx->p += len;
	*n = len;
	return 0;
}

/* Decode the raw string body sub[0..end) into o; the decoded length in *n. */
static int jstr_body(struct jstr_lex *sub, char *o, size_t *n, size_t max)
{
	size_t k;

	*n = 0;
	while (sub->p < sub->end) {
		unsigned char c = (unsigned char)*sub->p;

		if (c < 0x20)
			return jstr_fail(sub, "control character in string");
		if (c == '\\') {
			sub->p++;
			if (jstr_escape(sub, o + *n, &k) != 0)
				return -1;
		} else if (jstr_utf8(sub, o + *n, &k) != 0)
			return -1;
		*n += k;
		if (*n > max)
			return jstr_fail(sub, "string too long");
	}
	return 0;
}

/* Decode a JSON string at full length. */
int jstr_string(struct jstr_lex *lx, char **out, size_t *len, size_t max)
{
	struct jstr_lex sub;
	char *o;
	size_t n, cap;

	*out = NULL;
	if (jstr_peek(lx) != '"')
		return jstr_fail(lx, "expected a string");
	sub.p = ++lx->p;
	while (lx->p < lx->end && *lx->p != '"')
		lx->p += (*lx->p == '\\' && lx->p + 1 < lx->end) ? 2 : 1;
	if (lx->p >= lx->end)
		return jstr_fail(lx, "unterminated string");
	sub.end = lx->p++;
	sub.err = NULL;
	cap = (size_t)(sub.end - sub.p) + 1; /* decoding never grows */
	o = malloc(cap);
	if (o == NULL)
		return jstr_fail(lx, "out of memory");
	if (jstr_body(&sub, o, &n, max) != 0) {
		wipe_free(o, cap); /* a part of the string was decoded */
		return jstr_fail(lx, sub.err);
	}
	o[n] = '\0';
	*out = o;
	*len = n;
	return 0;
}

/* A strict JSON integer. */
int jstr_int(struct jstr_lex *lx, int64_t *out)
{
	int neg = 0;
	uint64_t v = 0;
	const char *start;

	jstr_peek(lx);
	if (lx->p < lx->end && *lx->p == '-')
		neg = 1, lx->p++;
	start = lx->p;
	while (lx->p < lx->end && *lx->p >= '0' && *lx->p <= '9') {
		if (v > (UINT64_C(1) << 62) / 10)
			return jstr_fail(lx, "integer out of range");
		v = v * 10 + (uint64_t)(*lx->p++ - '0');
	}
	if (lx->p == start || (*start == '0' && lx->p - start > 1))
		return jstr_fail(lx, "expected an integer");
	if (lx->p < lx->end && (*lx->p == '.' || *lx->p == 'e' || *lx->p == 'E'))
		return jstr_fail(lx, "expected an integer, not a fraction or exponent");
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

/* Skip a run of digits; how many there were. */
static size_t jstr_digits(struct jstr_lex *lx)
{
	const char *start = lx->p;

	while (lx->p < lx->end && *lx->p >= '0' && *lx->p <= '9')
		lx->p++;
	return (size_t)(lx->p - start);
}

/* Skip a strict JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int jstr_skip_number(struct jstr_lex *lx)
{
	const char *start;
	size_t n;

	if (lx->p < lx->end && *lx->p == '-')
		lx->p++;
	start = lx->p;
	n = jstr_digits(lx);
	if (n == 0 || (n > 1 && *start == '0'))
		return jstr_fail(lx, "malformed JSON number");
	if (lx->p < lx->end && *lx->p == '.' && (lx->p++, jstr_digits(lx) == 0))
		return jstr_fail(lx, "malformed JSON number");
	if (lx->p < lx->end && (*lx->p == 'e' || *lx->p == 'E')) {
		lx->p++;
		if (lx->p < lx->end && (*lx->p == '+' || *lx->p == '-'))
			lx->p++;
		if (jstr_digits(lx) == 0)
			return jstr_fail(lx, "malformed JSON number");
	}
	return 0;
}

/* Skip a number, true, false or null. */
static int jstr_skip_scalar(struct jstr_lex *lx)
{
	static const char *const words[] = {"true", "false", "null"};

	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(words[i]);

		if ((size_t)(lx->end - lx->p) >= n && memcmp(lx->p, words[i], n) == 0) {
			lx->p += n;
			return 0;
		}
	}
	return jstr_skip_number(lx);
}

/* Skip the members of an object or array up to close. */
static int jstr_skip_container(struct jstr_lex *lx, char close, int depth)
{
	lx->p++;
	if (jstr_peek(lx) == close) {
		lx->p++;
		return 0;
	}
	for (;;) {
		char *tmp;
		size_t n;

		if (close == '}') {
			if (jstr_string(lx, &tmp, &n, SIZE_MAX - 1) != 0)
				return -1;
			wipe_free(tmp, n);
			if (jstr_expect(lx, ':') != 0)
				return -1;
		}
		if (jstr_skip(lx, depth - 1) != 0)
			return -1;
		if (jstr_peek(lx) == close) {
			lx->p++;
			return 0;
		}
		if (jstr_expect(lx, ',') != 0)
			return -1;
	}
}

/* Skip one value. */
int jstr_skip(struct jstr_lex *lx, int depth)
{
	char c = jstr_peek(lx);
	char *tmp;
	size_t n;

	if (depth <= 0)
		return jstr_fail(lx, "JSON nested too deeply");
	if (c == '{' || c == '[')
		return jstr_skip_container(lx, c == '{' ? '}' : ']', depth);
	if (c == '"') {
		if (jstr_string(lx, &tmp, &n, SIZE_MAX - 1) != 0)
			return -1;
		wipe_free(tmp, n);
		return 0;
	}
	return jstr_skip_scalar(lx);
}
