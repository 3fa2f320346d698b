/*
 * cmd_serve.c - `keycastd serve`: configure, then run the daemon.
 */
#include "core/config.h"
#include "core/diag.h"
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
	fprintf(out, "\nExit codes: 0 clean shutdown, 1 runtime failure, 2 bad configuration.\n");
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
	diag_clear(&d);
	cmd_serve_setup_log(&cfg);
	if (daemon_plan_load(&plan, &cfg) != 0)
		goto done; /* findings logged; a plan that cannot run is bad configuration */
	dm = daemon_new(&cfg, &plan);
	rc = dm != NULL ? daemon_run(dm) : CMD_FAIL;
done:
	daemon_free(dm);
	plan_free(&plan);
	config_free(&cfg);
	return rc;
}
