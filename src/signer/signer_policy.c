/*
 * signer_policy.c - parsing, validating and applying an authorization's
 * policy, and the per-client token bucket.
 *
 * The policy object is walked member by member in document order, so the
 * mistake reported is the first one, named by its JSON path. cJSON looks
 * keys up case-insensitively and keeps duplicate keys, so members are
 * matched here by exact name and a repeated key is refused.
 *
 * A "methods" array always sets the bits of connect, ping and logout, so a
 * parsed policy never has methods == 0 without all_methods: that state is
 * only ever a zero-initialised policy, which allows everything.
 */
#include "signer/signer_policy.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds of the policy's numbers (see signer_policy.h). */
#define SIGNER_POLICY_KIND_MAX	     65535
#define SIGNER_POLICY_BURST_MAX	     1000000
#define SIGNER_POLICY_PER_MINUTE_MAX 6000000
#define SIGNER_POLICY_MAX_BYTES_MAX  16777216
/* Longest name quoted in an error message before it is cut. */
#define SIGNER_POLICY_QUOTE_MAX 40
/* Slack for the bucket's floating-point sums, in tokens. */
#define SIGNER_BUCKET_EPS 1e-9
/* The bucket's refill period: per_minute tokens per this many ms. */
#define SIGNER_BUCKET_MINUTE_MS 60000.0

/* Where a parse writes its first mistake. */
struct signer_policy_err {
	char *buf;
	size_t len;
};

/* Parses the value v of one member into p; 0, or -1 with the mistake in e. */
typedef int (*signer_policy_key_fn)(struct signer_policy *p, const cJSON *v,
				    struct signer_policy_err *e);

/* One key an object of the policy may hold. */
struct signer_policy_key {
	const char *name;
	signer_policy_key_fn parse;
};

/* An integer of the policy: its path, its bounds and what it is. */
struct signer_policy_int {
	const char *path;
	int64_t lo, hi;
	const char *noun; /* "kind": "70000 is not a kind (0..65535)"; NULL: generic */
};

static int signer_policy_fail(struct signer_policy_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void signer_policy_reset(struct signer_policy *p);
static int signer_policy_json(cJSON **root, const char *json, size_t len,
			      struct signer_policy_err *e);
static size_t signer_policy_nul_escape(const char *json, size_t len);
static int signer_policy_walk(struct signer_policy *p, const cJSON *obj, const char *path,
			      const struct signer_policy_key *keys, size_t nkeys,
			      struct signer_policy_err *e);
static int signer_policy_unknown(const char *path, const char *name,
				 const struct signer_policy_key *keys, size_t nkeys,
				 struct signer_policy_err *e);
static void signer_policy_quote(char *dst, size_t dstlen, const char *src);
static void signer_policy_num(char *buf, size_t len, double d);
static bool signer_policy_integral(double d);
static int signer_policy_int(int64_t *out, const cJSON *v, const struct signer_policy_int *spec,
			     struct signer_policy_err *e);
static int signer_policy_methods(struct signer_policy *p, const cJSON *v,
				 struct signer_policy_err *e);
static uint32_t signer_policy_always_bits(void);
static int signer_policy_kinds(struct signer_policy *p, const cJSON *v,
			       struct signer_policy_err *e);
static int signer_policy_kind_item(struct signer_kind_range *r, const cJSON *item, size_t i,
				   struct signer_policy_err *e);
static int signer_policy_kind_range(struct signer_kind_range *r, const cJSON *item,
				    const char *path, struct signer_policy_err *e);
static int signer_policy_kind_cmp(const void *a, const void *b);
static size_t signer_policy_merge(struct signer_kind_range *r, size_t n);
static int signer_policy_rate(struct signer_policy *p, const cJSON *v, struct signer_policy_err *e);
static int signer_policy_burst(struct signer_policy *p, const cJSON *v,
			       struct signer_policy_err *e);
static int signer_policy_per_minute(struct signer_policy *p, const cJSON *v,
				    struct signer_policy_err *e);
static int signer_policy_max_bytes(struct signer_policy *p, const cJSON *v,
				   struct signer_policy_err *e);
static bool signer_policy_is_zero(const struct signer_policy *p);
static bool signer_policy_method_ok(const struct signer_policy *p, enum signer_method m);
static bool signer_policy_kind_ok(const struct signer_policy *p, int64_t kind);
static void signer_policy_why(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void signer_bucket_refill(struct signer_bucket *b, uint32_t burst, uint32_t per_minute,
				 int64_t now_ms);

/* The keys of the policy object, in the order the messages list them. */
static const struct signer_policy_key signer_policy_keys[] = {
	{.name = "methods", .parse = signer_policy_methods},
	{.name = "kinds", .parse = signer_policy_kinds},
	{.name = "rate", .parse = signer_policy_rate},
	{.name = "max_bytes", .parse = signer_policy_max_bytes},
};

/* The keys of "rate". */
static const struct signer_policy_key signer_policy_rate_keys[] = {
	{.name = "burst", .parse = signer_policy_burst},
	{.name = "per_minute", .parse = signer_policy_per_minute},
};

/* Names of enum signer_refusal, for metrics and audit. */
static const char *const signer_refusal_names[SIGNER_REFUSAL_COUNT_] = {
	[SIGNER_ALLOWED] = "allowed",  [SIGNER_REFUSE_METHOD] = "method",
	[SIGNER_REFUSE_KIND] = "kind", [SIGNER_REFUSE_SIZE] = "size",
	[SIGNER_REFUSE_RATE] = "rate",
};

/* Parse and validate policy JSON json[0..len) into *out. */
int signer_policy_parse(struct signer_policy *out, const char *json, size_t len, char *err,
			size_t errlen)
{
	struct signer_policy_err e = {.buf = err, .len = errlen};
	cJSON *root = NULL;
	int rc = -1;

	signer_policy_reset(out);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (len == 0)
		return 0;
	if (signer_policy_json(&root, json, len, &e) != 0)
		goto fail;
	if (!cJSON_IsObject(root)) {
		signer_policy_fail(&e, "$: not a JSON object");
		goto fail;
	}
	if (signer_policy_walk(out, root, "$", signer_policy_keys,
			       sizeof(signer_policy_keys) / sizeof(signer_policy_keys[0]), &e) != 0)
		goto fail;
	rc = 0;
fail:
	cJSON_Delete(root);
	if (rc != 0)
		signer_policy_clear(out);
	return rc;
}

/* Free what p owns; p allows everything afterwards. */
void signer_policy_clear(struct signer_policy *p)
{
	free(p->kinds);
	signer_policy_reset(p);
}

/* Set p to the policy of {} (allow everything), owning nothing. */
static void signer_policy_reset(struct signer_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->all_methods = true;
	p->all_kinds = true;
}

/* Write the mistake into e (truncated to fit); returns -1. */
static int signer_policy_fail(struct signer_policy_err *e, const char *fmt, ...)
{
	va_list ap;

	if (e->buf != NULL && e->len > 0) {
		va_start(ap, fmt);
		vsnprintf(e->buf, e->len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * Parse json[0..len) as one JSON value into *root (caller frees), with
 * nothing but white space after it, no NUL byte and no \u0000 escape
 * (cJSON would cut the string there). 0, or -1 with *root possibly set.
 */
static int signer_policy_json(cJSON **root, const char *json, size_t len,
			      struct signer_policy_err *e)
{
	const char *end = json, *nul = memchr(json, '\0', len);
	size_t at;

	if (nul != NULL)
		return signer_policy_fail(e, "$: invalid JSON: a NUL byte at offset %zu",
					  (size_t)(nul - json));
	*root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (*root == NULL)
		return signer_policy_fail(e, "$: invalid JSON at offset %zu",
					  end != NULL ? (size_t)(end - json) : (size_t)0);
	while (end < json + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (end != json + len)
		return signer_policy_fail(e, "$: invalid JSON: text after the value at offset %zu",
					  (size_t)(end - json));
	at = signer_policy_nul_escape(json, len);
	if (at < len)
		return signer_policy_fail(e, "$: invalid JSON: \\u0000 at offset %zu", at);
	return 0;
}

/* The offset of the first \u0000 escape in valid JSON json[0..len), or len. */
static size_t signer_policy_nul_escape(const char *json, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (json[i] != '\\')
			continue;
		if (len - i >= 6 && memcmp(json + i + 1, "u0000", 5) == 0)
			return i;
		i++; /* the escaped character: "\\" is not the start of another escape */
	}
	return len;
}

/*
 * Parse the members of object obj at path, in document order: each must be
 * one of keys[0..nkeys), and appear once.
 */
static int signer_policy_walk(struct signer_policy *p, const cJSON *obj, const char *path,
			      const struct signer_policy_key *keys, size_t nkeys,
			      struct signer_policy_err *e)
{
	const cJSON *m, *prev;
	size_t k;

	cJSON_ArrayForEach(m, obj)
	{
		for (prev = obj->child; prev != m; prev = prev->next)
			if (strcmp(prev->string, m->string) == 0)
				return signer_policy_fail(e, "%s.%s: duplicate key", path,
							  m->string);
		for (k = 0; k < nkeys && strcmp(keys[k].name, m->string) != 0; k++)
			;
		if (k == nkeys)
			return signer_policy_unknown(path, m->string, keys, nkeys, e);
		if (keys[k].parse(p, m, e) != 0)
			return -1;
	}
	return 0;
}

/* Refuse the unknown key name of the object at path, listing keys. */
static int signer_policy_unknown(const char *path, const char *name,
				 const struct signer_policy_key *keys, size_t nkeys,
				 struct signer_policy_err *e)
{
	char quoted[SIGNER_POLICY_QUOTE_MAX + 4], known[128];
	size_t used = 0;
	int n;

	known[0] = '\0';
	for (size_t k = 0; k < nkeys; k++) {
		n = snprintf(known + used, sizeof(known) - used, "%s%s", k > 0 ? ", " : "",
			     keys[k].name);
		if (n < 0 || (size_t)n >= sizeof(known) - used)
			break; /* the table's names fit; a cut list is still a message */
		used += (size_t)n;
	}
	signer_policy_quote(quoted, sizeof(quoted), name);
	return signer_policy_fail(e, "%s.%s: unknown key; known: %s", path, quoted, known);
}

/*
 * Copy src into dst[dstlen] for a message: printable ASCII other than '"'
 * and '\\' as is, anything else as '?', cut after SIGNER_POLICY_QUOTE_MAX
 * characters with "...". dstlen must be at least SIGNER_POLICY_QUOTE_MAX + 4.
 */
static void signer_policy_quote(char *dst, size_t dstlen, const char *src)
{
	size_t i;

	for (i = 0; src[i] != '\0' && i < SIGNER_POLICY_QUOTE_MAX && i + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? (char)c : '?';
	}
	dst[i] = '\0';
	if (src[i] != '\0' && i + 4 <= dstlen)
		memcpy(dst + i, "...", 4);
}

/* Format d into buf[len]: an integer as one, else as briefly as reads back exactly. */
static void signer_policy_num(char *buf, size_t len, double d)
{
	if (signer_policy_integral(d)) {
		snprintf(buf, len, "%lld", (long long)d);
		return;
	}
	snprintf(buf, len, "%.15g", d);
	if (strtod(buf, NULL) != d)
		snprintf(buf, len, "%.17g", d);
}

/* Whether d is a whole number small enough to be held exactly (|d| < 2^53). */
static bool signer_policy_integral(double d)
{
	return d > -9007199254740992.0 && d < 9007199254740992.0 && (double)(int64_t)d == d;
}

/* The integer v described by spec, into *out. */
static int signer_policy_int(int64_t *out, const cJSON *v, const struct signer_policy_int *spec,
			     struct signer_policy_err *e)
{
	char num[40];

	if (!cJSON_IsNumber(v))
		return spec->noun != NULL
			       ? signer_policy_fail(e, "%s: expected a %s (%lld..%lld)", spec->path,
						    spec->noun, (long long)spec->lo,
						    (long long)spec->hi)
			       : signer_policy_fail(e, "%s: expected an integer (%lld..%lld)",
						    spec->path, (long long)spec->lo,
						    (long long)spec->hi);
	signer_policy_num(num, sizeof(num), v->valuedouble);
	if (spec->noun != NULL &&
	    (!signer_policy_integral(v->valuedouble) || v->valuedouble < (double)spec->lo ||
	     v->valuedouble > (double)spec->hi))
		return signer_policy_fail(e, "%s: %s is not a %s (%lld..%lld)", spec->path, num,
					  spec->noun, (long long)spec->lo, (long long)spec->hi);
	if (v->valuedouble < (double)spec->lo || v->valuedouble > (double)spec->hi)
		return signer_policy_fail(e, "%s: %s is out of range (%lld..%lld)", spec->path, num,
					  (long long)spec->lo, (long long)spec->hi);
	if (!signer_policy_integral(v->valuedouble))
		return signer_policy_fail(e, "%s: %s is not an integer", spec->path, num);
	*out = (int64_t)v->valuedouble;
	return 0;
}

/* "methods": an array of method names. */
static int signer_policy_methods(struct signer_policy *p, const cJSON *v,
				 struct signer_policy_err *e)
{
	char quoted[SIGNER_POLICY_QUOTE_MAX + 4];
	enum signer_method m;
	const cJSON *item;
	size_t i = 0;

	if (!cJSON_IsArray(v))
		return signer_policy_fail(e, "$.methods: expected an array of method names");
	p->all_methods = false;
	p->methods = signer_policy_always_bits();
	cJSON_ArrayForEach(item, v)
	{
		if (!cJSON_IsString(item))
			return signer_policy_fail(e, "$.methods[%zu]: expected a method name", i);
		if (signer_method_parse(&m, item->valuestring, strlen(item->valuestring)) != 0) {
			signer_policy_quote(quoted, sizeof(quoted), item->valuestring);
			return signer_policy_fail(e, "$.methods[%zu]: unknown method \"%s\"", i,
						  quoted);
		}
		p->methods |= 1u << m;
		i++;
	}
	return 0;
}

/* The bits of the methods every authorization may call. */
static uint32_t signer_policy_always_bits(void)
{
	uint32_t bits = 0;

	for (unsigned m = 0; m < SIGNER_METHOD_COUNT_; m++)
		if (signer_method_always_allowed((enum signer_method)m))
			bits |= 1u << m;
	return bits;
}

/* "kinds": an array of kinds and [lo, hi] ranges, stored sorted and merged. */
static int signer_policy_kinds(struct signer_policy *p, const cJSON *v, struct signer_policy_err *e)
{
	const cJSON *item;
	size_t n, i = 0;

	if (!cJSON_IsArray(v))
		return signer_policy_fail(
			e, "$.kinds: expected an array of kinds and [lo, hi] ranges");
	p->all_kinds = false;
	n = (size_t)cJSON_GetArraySize(v);
	if (n == 0)
		return 0;
	p->kinds = calloc(n, sizeof(*p->kinds));
	if (p->kinds == NULL)
		return signer_policy_fail(e, "$.kinds: out of memory");
	cJSON_ArrayForEach(item, v)
	{
		if (signer_policy_kind_item(&p->kinds[i], item, i, e) != 0)
			return -1;
		i++;
	}
	p->nkinds = signer_policy_merge(p->kinds, n);
	return 0;
}

/* Element i of "kinds": a kind or a [lo, hi] range, into *r. */
static int signer_policy_kind_item(struct signer_kind_range *r, const cJSON *item, size_t i,
				   struct signer_policy_err *e)
{
	char path[48];
	int64_t k;

	snprintf(path, sizeof(path), "$.kinds[%zu]", i);
	if (cJSON_IsArray(item))
		return signer_policy_kind_range(r, item, path, e);
	if (!cJSON_IsNumber(item))
		return signer_policy_fail(e, "%s: expected a kind or a [lo, hi] range", path);
	if (signer_policy_int(
		    &k, item,
		    &(struct signer_policy_int){
			    .path = path, .lo = 0, .hi = SIGNER_POLICY_KIND_MAX, .noun = "kind"},
		    e) != 0)
		return -1;
	r->lo = r->hi = (uint32_t)k;
	return 0;
}

/* A [lo, hi] range of kinds at path, into *r. */
static int signer_policy_kind_range(struct signer_kind_range *r, const cJSON *item,
				    const char *path, struct signer_policy_err *e)
{
	char sub[64];
	int64_t k[2];
	int n = cJSON_GetArraySize(item);

	if (n != 2)
		return signer_policy_fail(e, "%s: a range is [lo, hi]; this one has %d elements",
					  path, n);
	for (int j = 0; j < 2; j++) {
		snprintf(sub, sizeof(sub), "%s[%d]", path, j);
		if (signer_policy_int(&k[j], cJSON_GetArrayItem(item, j),
				      &(struct signer_policy_int){.path = sub,
								  .lo = 0,
								  .hi = SIGNER_POLICY_KIND_MAX,
								  .noun = "kind"},
				      e) != 0)
			return -1;
	}
	if (k[0] > k[1])
		return signer_policy_fail(e, "%s: range [%lld, %lld] has lo > hi", path,
					  (long long)k[0], (long long)k[1]);
	r->lo = (uint32_t)k[0];
	r->hi = (uint32_t)k[1];
	return 0;
}

/* qsort order of kind ranges: by lo, then hi. */
static int signer_policy_kind_cmp(const void *a, const void *b)
{
	const struct signer_kind_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

/* Sort r[0..n) and merge overlapping and adjacent ranges; returns the new count. */
static size_t signer_policy_merge(struct signer_kind_range *r, size_t n)
{
	size_t out = 0;

	qsort(r, n, sizeof(*r), signer_policy_kind_cmp);
	for (size_t i = 1; i < n; i++) {
		if (r[i].lo <= r[out].hi + 1) {
			if (r[i].hi > r[out].hi)
				r[out].hi = r[i].hi;
		} else {
			r[++out] = r[i];
		}
	}
	return out + 1;
}

/* "rate": {"burst": N, "per_minute": N}, both required. */
static int signer_policy_rate(struct signer_policy *p, const cJSON *v, struct signer_policy_err *e)
{
	if (!cJSON_IsObject(v))
		return signer_policy_fail(
			e, "$.rate: expected an object {\"burst\": N, \"per_minute\": N}");
	if (signer_policy_walk(p, v, "$.rate", signer_policy_rate_keys,
			       sizeof(signer_policy_rate_keys) / sizeof(signer_policy_rate_keys[0]),
			       e) != 0)
		return -1;
	if (p->rate_burst == 0) /* 0 is refused as a value: it is missing */
		return signer_policy_fail(e, "$.rate: missing \"burst\"");
	if (p->rate_per_minute == 0)
		return signer_policy_fail(e, "$.rate: missing \"per_minute\"");
	return 0;
}

/* "rate.burst": 1..SIGNER_POLICY_BURST_MAX tokens. */
static int signer_policy_burst(struct signer_policy *p, const cJSON *v, struct signer_policy_err *e)
{
	static const struct signer_policy_int spec = {
		.path = "$.rate.burst", .lo = 1, .hi = SIGNER_POLICY_BURST_MAX};
	int64_t n;

	if (signer_policy_int(&n, v, &spec, e) != 0)
		return -1;
	p->rate_burst = (uint32_t)n;
	return 0;
}

/* "rate.per_minute": 1..SIGNER_POLICY_PER_MINUTE_MAX tokens a minute. */
static int signer_policy_per_minute(struct signer_policy *p, const cJSON *v,
				    struct signer_policy_err *e)
{
	static const struct signer_policy_int spec = {
		.path = "$.rate.per_minute", .lo = 1, .hi = SIGNER_POLICY_PER_MINUTE_MAX};
	int64_t n;

	if (signer_policy_int(&n, v, &spec, e) != 0)
		return -1;
	p->rate_per_minute = (uint32_t)n;
	return 0;
}

/* "max_bytes": 1..SIGNER_POLICY_MAX_BYTES_MAX. */
static int signer_policy_max_bytes(struct signer_policy *p, const cJSON *v,
				   struct signer_policy_err *e)
{
	static const struct signer_policy_int spec = {
		.path = "$.max_bytes", .lo = 1, .hi = SIGNER_POLICY_MAX_BYTES_MAX};
	int64_t n;

	if (signer_policy_int(&n, v, &spec, e) != 0)
		return -1;
	p->max_bytes = (size_t)n;
	return 0;
}

/* Check a request against p: method, then kind, then size. */
enum signer_refusal signer_policy_check(const struct signer_policy *p, enum signer_method m,
					int64_t kind, size_t size, char *why, size_t whylen)
{
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (signer_policy_is_zero(p))
		return SIGNER_ALLOWED;
	if (!signer_policy_method_ok(p, m)) {
		signer_policy_why(why, whylen,
				  "method %s is not allowed by this authorization's policy",
				  signer_method_name(m));
		return SIGNER_REFUSE_METHOD;
	}
	if (m == SIGNER_SIGN_EVENT && kind >= 0 && !signer_policy_kind_ok(p, kind)) {
		signer_policy_why(why, whylen,
				  "kind %lld is not allowed by this authorization's policy",
				  (long long)kind);
		return SIGNER_REFUSE_KIND;
	}
	if (p->max_bytes > 0 && size > p->max_bytes) {
		signer_policy_why(why, whylen,
				  "%zu bytes is over this authorization's limit of %zu", size,
				  p->max_bytes);
		return SIGNER_REFUSE_SIZE;
	}
	return SIGNER_ALLOWED;
}

/* Whether p is zero-initialised (never the result of a parse): it allows everything. */
static bool signer_policy_is_zero(const struct signer_policy *p)
{
	return !p->all_methods && p->methods == 0 && p->nkinds == 0 && p->rate_burst == 0 &&
	       p->max_bytes == 0;
}

/* Whether p allows method m. */
static bool signer_policy_method_ok(const struct signer_policy *p, enum signer_method m)
{
	if ((unsigned)m >= SIGNER_METHOD_COUNT_)
		return false;
	return p->all_methods || signer_method_always_allowed(m) || (p->methods & (1u << m)) != 0;
}

/* Whether p allows sign_event of kind (>= 0): binary search of the sorted ranges. */
static bool signer_policy_kind_ok(const struct signer_policy *p, int64_t kind)
{
	size_t lo = 0, hi = p->nkinds;

	if (p->all_kinds)
		return true;
	if (kind > SIGNER_POLICY_KIND_MAX)
		return false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((uint32_t)kind < p->kinds[mid].lo)
			hi = mid;
		else if ((uint32_t)kind > p->kinds[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* Write a refusal's reason into why[whylen] (may be NULL). */
static void signer_policy_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* Take one token from b under p's rate. */
bool signer_bucket_take(struct signer_bucket *b, const struct signer_policy *p, int64_t now_ms,
			int64_t *retry_ms)
{
	if (p->rate_burst == 0 || p->rate_per_minute == 0) {
		if (retry_ms != NULL)
			*retry_ms = 0;
		return true;
	}
	return signer_bucket_take_rate(b, p->rate_burst, p->rate_per_minute, now_ms, retry_ms);
}

/*
 * Take one token from b at (burst, per_minute); a zero burst or rate means
 * no limit. On refusal *retry_ms is the whole ms until a token is there.
 */
bool signer_bucket_take_rate(struct signer_bucket *b, uint32_t burst, uint32_t per_minute,
			     int64_t now_ms, int64_t *retry_ms)
{
	double wait;

	if (retry_ms != NULL)
		*retry_ms = 0;
	if (burst == 0 || per_minute == 0)
		return true;
	signer_bucket_refill(b, burst, per_minute, now_ms);
	if (b->tokens >= 1.0 - SIGNER_BUCKET_EPS) {
		b->tokens = b->tokens > 1.0 ? b->tokens - 1.0 : 0.0;
		return true;
	}
	if (retry_ms != NULL) {
		wait = (1.0 - b->tokens) * SIGNER_BUCKET_MINUTE_MS / per_minute;
		*retry_ms = (int64_t)(wait - 1e-6); /* ceil, forgiving rounding noise */
		if ((double)*retry_ms < wait - 1e-6)
			(*retry_ms)++;
		if (*retry_ms < 1)
			*retry_ms = 1;
	}
	return false;
}

/*
 * Bring b up to now_ms: full on first use; then per_minute tokens a
 * minute, at most burst. A clock that went back adds nothing: b restarts
 * counting from now_ms.
 */
static void signer_bucket_refill(struct signer_bucket *b, uint32_t burst, uint32_t per_minute,
				 int64_t now_ms)
{
	double elapsed;

	if (!b->primed) {
		b->tokens = burst;
		b->last_ms = now_ms;
		b->primed = true;
		return;
	}
	elapsed = now_ms > b->last_ms ? (double)now_ms - (double)b->last_ms : 0.0;
	b->tokens += elapsed * per_minute / SIGNER_BUCKET_MINUTE_MS;
	if (b->tokens > burst)
		b->tokens = burst;
	b->last_ms = now_ms;
}

/* The name of a refusal. */
const char *signer_refusal_name(enum signer_refusal r)
{
	return (unsigned)r < SIGNER_REFUSAL_COUNT_ ? signer_refusal_names[r] : "unknown";
}
