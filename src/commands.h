/*
 * commands.h - the commands of popfetch and how they print.
 *
 * Part of the front end: commands write their results to stdout (JSON
 * through report.h); errors go back to main.c, which prints them.
 */
#ifndef COMMANDS_H
#define COMMANDS_H

#include <stdio.h>

#include "pop3.h"
#include "util.h"

struct cli_settings;

/* The output settings every command sees. */
struct cmd_opts {
	int	json;
	int	quiet;
	int	syslog;		/* messages and summaries to syslog */
};

enum command_kind {
	CMD_FETCH,	/* the fetch job */
	CMD_POP3,	/* one POP3 command in one session */
	CMD_BATCH,	/* commands from stdin in one session */
	CMD_INFO,	/* the info command (info.h) */
	CMD_STATE,	/* the state of the account (state_cmd.c) */
	CMD_VERIFY,	/* the store against the state (verify_cmd.c) */
	CMD_ACCOUNTS,	/* the accounts file: no session (accounts.h) */
	CMD_CONFIG_CHECK,
	CMD_OAUTH2,	/* oauth2 login|status|logout: no session */
	CMD_PROVIDERS	/* the presets: no account */
};

struct command {
	const char		*name;
	enum command_kind	 kind;
	int			 minargs, maxargs;
	int			 login;		/* needs an authenticated
						 * session */
	const char		*usage;		/* "top N LINES" */
	/* CMD_POP3: runs on a session (logged in if login), with the
	 * arguments command_check passed; prints the result to stdout.
	 * Errors: those of the POP3 command, ERR_USAGE for its arguments. */
	int			(*run)(struct pop3 *, char **, int,
				    const struct cmd_opts *, struct error *);
	int			 json;		/* 1: writes --json output
						 * (JSON Lines); 0: refuses
						 * --json (ERR_USAGE) */
};

/* Every command, the default (fetch) first; n is set to their number.
 * The table is static. */
const struct command	*command_list(size_t *n);

/* The command called name (case-insensitive), or NULL. */
const struct command	*command_find(const char *name);

/* Checks a command's arguments before anything is sent: ERR_USAGE. */
int	command_check(const struct command *, char **argv, int argc,
	    struct error *);

/*
 * Runs the command argv[0] (none: fetch, or certificate with
 * --print-fingerprint) for the settings s of one account: opens the
 * session, runs it, and ends the session: QUIT on success; after a
 * failure that left the connection usable RSET (so that nothing is
 * deleted) and QUIT; otherwise the connection is dropped.  Sets
 * s->errhost once it talks to the server.  Errors: ERR_USAGE for an
 * unknown command or bad arguments, and those of the session, the
 * command and fetch_run.
 */
int	command_run(struct cli_settings *s, int argc, char **argv,
	    struct error *);

/* Runs one command line after another from in, in one session, and
 * stops at the first failure (the caller then sends RSET, so that a
 * failed batch commits no deletion).  ERR_USAGE for a bad line, ERR_IO
 * if in cannot be read, and those of the commands. */
int	command_batch(struct pop3 *, FILE *in, const struct cmd_opts *,
	    struct error *);

/* state_cmd.c: checks the arguments of the state command (after
 * "state"), ERR_USAGE; and runs it for the settings s: show and check
 * read the state, mark-seen records what the server lists, import what
 * another program's file holds.  Errors: those of fetch_state_open (a
 * damaged or foreign state: ERR_CONFIG), session_open, import_read and
 * the state's writes. */
int	state_cmd_check(char **argv, int argc, struct error *);
int	state_cmd_run(struct cli_settings *s, char **argv, int argc,
	    struct error *);

/* verify_cmd.c: compares the server's UIDL listing (none with
 * s->offline), the state and the store s names (a maildir or an mbox),
 * and prints one line or JSON record per UID.  ERR_DATAERR when a
 * message the state calls delivered is missing or changed; ERR_USAGE
 * without a maildir or an mbox; and the errors of fetch_state_open,
 * verify_open and session_open. */
int	verify_cmd_run(struct cli_settings *s, struct error *);

/* popfetch providers: the presets, one a line, or a JSON array.
 * ERR_IO. */
int	command_providers(int json, struct error *);

/* Flushes stdout; ERR_IO if any write to it failed. */
int	command_flush(struct error *);

#endif
