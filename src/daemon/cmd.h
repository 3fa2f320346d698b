/*
 * cmd.h - sub-commands of the keycastd binary.
 *
 * main.c dispatches through a table of struct cmd; each sub-command lives
 * in its own cmd_*.c and follows one exit-code convention: 0 success,
 * 1 failure, 2 usage error (unknown option, bad configuration); `serve`
 * adds 3, 4 and 5 to tell how its shutdown ended (enum cmd_exit).
 */
#ifndef KC_CMD_H
#define KC_CMD_H

#include <stdio.h>

/* Exit codes shared by every sub-command; 3..5 are `serve`'s shutdown outcomes. */
enum cmd_exit {
	CMD_OK = 0,    /* success; serve: every phase of the plan completed */
	CMD_FAIL = 1,  /* the operation failed; serve: could not start, or the loop failed */
	CMD_USAGE = 2, /* bad invocation or configuration */
	CMD_SHUTDOWN_WARN = 3, /* serve: the plan ran to its final line but a phase timed out,
				  aborted, dropped work, was escalated or skipped */
	CMD_WATCHDOG = 4,      /* serve: the watchdog ended a shutdown that outran its deadline */
	CMD_PLAN_REFUSED = 5,  /* serve: the plan could not run (refused at boot, or no memory
				  to start it at the signal) */
};

/* One sub-command. */
struct cmd {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the sub-command name */
	void (*usage)(FILE *out);	   /* full usage text */
	const char *summary;		   /* one line for `keycastd help` */
};

/* The sub-command table and its length. */
const struct cmd *cmd_table(size_t *n);

/* The sub-command called name, or NULL. */
const struct cmd *cmd_find(const char *name);

/* Whether arg asks for help (-h, --help). */
int cmd_is_help(const char *arg);

/* `keycastd serve`: run the daemon. */
int cmd_serve(int argc, char **argv);
/* Usage of `keycastd serve`. */
void cmd_serve_usage(FILE *out);

/* `keycastd plan`: check a shutdown plan. */
int cmd_plan(int argc, char **argv);
/* Usage of `keycastd plan`. */
void cmd_plan_usage(FILE *out);

/* `keycastd key`: manage keys. */
int cmd_key(int argc, char **argv);
/* Usage of `keycastd key`. */
void cmd_key_usage(FILE *out);

/* `keycastd authz`: manage authorizations. */
int cmd_authz(int argc, char **argv);
/* Usage of `keycastd authz`. */
void cmd_authz_usage(FILE *out);

/* `keycastd authz token`: the HTTP API's bearer tokens (argv[0] is "token"). */
int cmd_token(int argc, char **argv);
/* The usage lines of `keycastd authz token` (for `keycastd authz --help`). */
void cmd_token_usage_lines(FILE *out);

/* `keycastd db`: database maintenance. */
int cmd_db(int argc, char **argv);
/* Usage of `keycastd db`. */
void cmd_db_usage(FILE *out);

/* `keycastd config`: show settings or print their reference. */
int cmd_config(int argc, char **argv);
/* Usage of `keycastd config`. */
void cmd_config_usage(FILE *out);

/* `keycastd version`: print versions. */
int cmd_version(int argc, char **argv);
/* Usage of `keycastd version`. */
void cmd_version_usage(FILE *out);

/* `keycastd help [CMD]`: print usage. */
int cmd_help(int argc, char **argv);
/* Usage of `keycastd help`. */
void cmd_help_usage(FILE *out);

#endif /* KC_CMD_H */
