/*
 * settings.c - defaults < file < env < flags, behind settings.h.
 */
#include "daemon/settings.h"

#include "core/diag.h"
#include "core/env.h"
#include "nostr/uri.h"

#include <string.h>

static const char *settings_check(const struct config_entry *e, const char *value);
static int settings_is_extra(const char *arg, const char *const *extra);
static const char *settings_find_config(int argc, char **argv, int first, struct diag *d);
static void settings_warn_visible(const char *name, const char *arg, struct diag *d);
static size_t settings_apply_flags(struct config *cfg, int argc, char **argv, int first,
				   const char *const *extra, struct diag *d);
static size_t settings_check_ports(const struct config *cfg, struct diag *d);
static size_t settings_check_bodies(const struct config *cfg, struct diag *d);

/* Check a value of a CONFIG_CHECKED setting: NULL if fine, else why not. */
static const char *settings_check(const struct config_entry *e, const char *value)
{
	if (strcmp(e->name, "bunker_relays") == 0 && !nostr_uri_relay_valid(value))
		return "is not a ws:// or wss:// URL with a host";
	return NULL;
}

/* Whether arg is one of the caller's own value-less flags. */
static int settings_is_extra(const char *arg, const char *const *extra)
{
	for (; extra != NULL && *extra != NULL; extra++)
		if (strcmp(arg, *extra) == 0)
			return 1;
	return 0;
}

/* The --config FILE argument, if any (last one wins). */
static const char *settings_find_config(int argc, char **argv, int first, struct diag *d)
{
	const char *path = NULL;

	for (int i = first; i < argc; i++) {
		if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
		else if (strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc) {
				diag_add(d, DIAG_ERROR, "--config", 0, 0, "needs a file name");
				return NULL;
			}
			path = argv[++i];
		}
	}
	return path;
}

/* Warn that a secret setting given as a flag is visible to every local user. */
static void settings_warn_visible(const char *name, const char *arg, struct diag *d)
{
	const struct config_entry *e = config_find(name);

	if (e == NULL || (e->flags & CONFIG_SECRET) == 0)
		return;
	diag_add(d, DIAG_WARNING, arg, 0, 0,
		 "a secret on the command line is visible to every local user (ps, "
		 "/proc/PID/cmdline); set %s or put it in the --config file instead",
		 e->env != NULL ? e->env : "it in the environment");
}

/* Apply --name VALUE / --name=VALUE flags; returns the number of errors. */
static size_t settings_apply_flags(struct config *cfg, int argc, char **argv, int first,
				   const char *const *extra, struct diag *d)
{
	size_t errors = 0;

	for (int i = first; i < argc; i++) {
		char name[64];
		const char *arg = argv[i], *eq, *value;
		size_t len;

		if (settings_is_extra(arg, extra))
			continue;
		if (strncmp(arg, "--", 2) != 0) {
			diag_add(d, DIAG_ERROR, arg, 0, 0, "unexpected argument");
			errors++;
			continue;
		}
		eq = strchr(arg, '=');
		len = eq != NULL ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		if (len >= sizeof(name)) {
			diag_add(d, DIAG_ERROR, arg, 0, 0, "unknown option");
			errors++;
			continue;
		}
		memcpy(name, arg + 2, len);
		name[len] = '\0';
		if (eq == NULL && i + 1 >= argc) {
			if (strcmp(name, "config") != 0) /* settings_find_config reported it */
				diag_add(d, DIAG_ERROR, arg, 0, 0, "needs a value");
			errors++;
			continue;
		}
		value = eq ? eq + 1 : argv[++i];
		if (strcmp(name, "config") == 0)
			continue;
		settings_warn_visible(name, arg, d);
		errors += config_set(cfg, name, value, arg, 0, 0, d) != 0;
	}
	return errors;
}

/* The API and the probes need a port each (0 twice is fine: two free ports); the errors. */
static size_t settings_check_ports(const struct config *cfg, struct diag *d)
{
	if (cfg->port == 0 || cfg->port != cfg->probe_port)
		return 0;
	diag_add(d, DIAG_ERROR, "probe_port", 0, 0,
		 "is %lld, the same as port: the probes and /metrics need their own port, open "
		 "until the shutdown's final line while the API port closes at the http-drain",
		 (long long)cfg->probe_port);
	return 1;
}

/* The body budget must take at least one body of the largest size; the errors. */
static size_t settings_check_bodies(const struct config *cfg, struct diag *d)
{
	if (cfg->http_max_body_total_bytes >= cfg->http_max_body_bytes)
		return 0;
	diag_add(d, DIAG_ERROR, "http_max_body_total_bytes", 0, 0,
		 "is %lld, below http_max_body_bytes (%lld): a body of the largest size could "
		 "never be taken; raise it to at least that",
		 (long long)cfg->http_max_body_total_bytes, (long long)cfg->http_max_body_bytes);
	return 1;
}

/* Build cfg from defaults, file, env and flags; -1 if any error. */
int settings_load(struct config *cfg, int argc, char **argv, int first, const char *const *extra,
		  struct diag *d)
{
	struct env env;
	const char *file;
	size_t errors = 0;

	if (config_init(cfg) != 0) {
		diag_add(d, DIAG_ERROR, "keycastd", 0, 0, "out of memory");
		return -1;
	}
	cfg->check = settings_check;
	file = settings_find_config(argc, argv, first, d);
	if (file != NULL)
		errors += config_load_file(cfg, file, d);
	env_init(&env, 1);
	errors += config_apply_env(cfg, &env, d);
	env_clear(&env);
	errors += settings_apply_flags(cfg, argc, argv, first, extra, d);
	errors += settings_check_ports(cfg, d);
	errors += settings_check_bodies(cfg, d);
	return errors == 0 && diag_count(d, DIAG_ERROR) == 0 ? 0 : -1;
}

/* Print the standard option help: --config and every schema flag. */
void settings_print_help(FILE *out)
{
	fprintf(out, "  --config FILE\n      YAML file of settings (flags and env override it)\n");
	config_print_help(out);
}
