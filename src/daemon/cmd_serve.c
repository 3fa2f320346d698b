/*
 * cmd_serve.c - `keycastd serve`: configure, then run the daemon.
 */
#include "core/config.h"
#include "core/diag.h"
#include "core/heap.h"
#include "core/log.h"
#include "daemon/cmd.h"
#include "daemon/daemon.h"
#include "daemon/settings.h"
#include "plan/plan.h"

#include <stdio.h>

/* Usage of `keycastd serve`. */
void cmd_serve_usage(FILE *out)
{
	fprintf(out, "usage: keycastd serve [--config FILE] [--SETTING VALUE ...]\n\n"
		     "Run the signing daemon until SIGTERM or SIGINT, then run the shutdown\n"
		     "plan. Settings (lowest precedence first: default, file, env, flag):\n\n");
	settings_print_help(out);
	fprintf(out, "\nExit codes:\n"
		     "  0  clean shutdown: every phase of the plan completed\n"
		     "  1  runtime failure: could not start (a port in use, the database), or the\n"
		     "     event loop failed\n"
		     "  2  bad configuration: settings (a DATABASE_URL that does not parse\n"
		     "     included), or a master key missing, refused or not the one the\n"
		     "     database was sealed with\n"
		     "  3  the plan ran to its final line with a warning: a phase timed out,\n"
		     "     aborted a component, dropped work, was escalated or skipped\n"
		     "  4  the watchdog ended a shutdown that outran its deadline\n"
		     "  5  the shutdown plan could not run: refused at boot (see `keycastd plan\n"
		     "     check`), or no memory to start it at the signal\n");
}

/* Apply the configured log level and format. */
static void cmd_serve_setup_log(const struct config *cfg)
{
	enum log_level level = LOG_LEVEL_INFO;
	enum log_format format = LOG_FORMAT_AUTO;

	/* Both were validated against the schema's choices already. */
	if (log_level_parse(&level, cfg->log_level) != 0)
		level = LOG_LEVEL_INFO;
	if (log_format_parse(&format, cfg->log_format) != 0)
		format = LOG_FORMAT_AUTO;
	log_configure(level, format);
}

/* Log the warnings settings_load found (e.g. a secret on the command line). */
static void cmd_serve_log_warnings(const struct diag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		char at[256];

		if (d->items[i].severity != DIAG_WARNING)
			continue;
		diag_location(&d->items[i], at, sizeof(at));
		log_warn("config", d->items[i].message, log_str("at", at));
	}
}

/* `keycastd serve`: run the daemon. */
int cmd_serve(int argc, char **argv)
{
	struct config cfg;
	struct diag d = {0};
	struct plan plan = {0};
	struct daemon *dm = NULL;
	int rc = CMD_USAGE;

	if (settings_load(&cfg, argc, argv, 1, NULL, &d) != 0) {
		diag_print(&d, stderr);
		fprintf(stderr, "keycastd serve: invalid configuration\n\n");
		cmd_serve_usage(stderr);
		diag_clear(&d);
		config_free(&cfg);
		return CMD_USAGE;
	}
	heap_tune(); /* before any thread starts */
	cmd_serve_setup_log(&cfg);
	cmd_serve_log_warnings(&d);
	diag_clear(&d);
	rc = CMD_PLAN_REFUSED;
	if (daemon_plan_load(&plan, &cfg) != 0)
		goto done; /* findings logged */
	dm = daemon_new(&cfg, &plan, &rc);
	if (dm != NULL)
		rc = daemon_run(dm);
done:
	daemon_free(dm);
	plan_free(&plan);
	config_free(&cfg);
	return rc;
}
