/*
 * env.c - layered environment lookup behind env.h.
 */
#include "core/env.h"

#include <stdlib.h>
#include <string.h>

/* Initialise: empty overlay, falling back to the process env if use_process. */
void env_init(struct env *e, int use_process)
{
	*e = (struct env){.use_process = use_process};
}

/* Add or replace "NAME=VALUE" in the overlay. Returns 0, -1 if malformed or ENOMEM. */
int env_put(struct env *e, const char *pair)
{
	const char *eq = strchr(pair, '=');
	char **pairs;
	char *copy;

	if (eq == NULL || eq == pair)
		return -1;
	copy = strdup(pair);
	if (copy == NULL)
		return -1;
	pairs = realloc(e->pairs, (e->n + 1) * sizeof(*pairs));
	if (pairs == NULL) {
		free(copy);
		return -1;
	}
	e->pairs = pairs;
	e->pairs[e->n++] = copy;
	return 0;
}

/* The value of name: the overlay's last binding, else the process's, else NULL. */
const char *env_get(const struct env *e, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = e->n; i-- > 0;)
		if (strncmp(e->pairs[i], name, len) == 0 && e->pairs[i][len] == '=')
			return e->pairs[i] + len + 1;
	return e->use_process ? getenv(name) : NULL;
}

/* Release the overlay. */
void env_clear(struct env *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->pairs[i]);
	free(e->pairs);
	e->pairs = NULL;
	e->n = 0;
}
