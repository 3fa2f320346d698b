/*
 * settings.h - assemble the daemon's configuration from argv, file and env.
 */
#ifndef KC_SETTINGS_H
#define KC_SETTINGS_H

#include "core/config.h"

struct diag;

/*
 * Build cfg from the defaults, the --config file, the process environment
 * and the flags in argv[first..argc) (--name VALUE or --name=VALUE).
 * Every problem goes to d. Returns 0, or -1 if any error was found.
 * Options that are not settings are errors, except those in extra[]
 * (NULL-terminated, flags taking no value), which are left in place.
 */
int settings_load(struct config *cfg, int argc, char **argv, int first, const char *const *extra,
		  struct diag *d) __attribute__((warn_unused_result));

/* Print the standard option help: --config and every schema flag. */
void settings_print_help(FILE *out);

#endif /* KC_SETTINGS_H */
