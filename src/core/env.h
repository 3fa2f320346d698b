/*
 * env.h - environment lookup as an injectable source.
 *
 * Configuration and the shutdown plan read environment variables through
 * a struct env rather than getenv(), so that tests and `keycastd plan
 * check --env K=V` can supply their own, layered over the process's.
 */
#ifndef KC_ENV_H
#define KC_ENV_H

#include <stddef.h>

/* Layered variables: explicit pairs first, then (optionally) the process's. */
struct env {
	char **pairs; /* "NAME=VALUE" strings, owned */
	size_t n;
	int use_process; /* fall back to getenv() */
};

/* Initialise: empty overlay, falling back to the process env if use_process. */
void env_init(struct env *e, int use_process);

/* Add or replace "NAME=VALUE" in the overlay. Returns 0, -1 if malformed or ENOMEM. */
int env_put(struct env *e, const char *pair) __attribute__((warn_unused_result));

/* The value of name: the overlay's last binding, else the process's, else NULL. */
const char *env_get(const struct env *e, const char *name);

/* Release the overlay. */
void env_clear(struct env *e);

#endif /* KC_ENV_H */
