/*
 * commands.h - the poplib-style commands and how they print.
 *
 * Part of the front end: commands write their results to stdout; errors
 * go back to main.c, which prints them.
 */
#ifndef COMMANDS_H
#define COMMANDS_H

#include <stdio.h>

#include "pop3.h"
#include "util.h"

struct cmd_opts {
	int	json;
	int	quiet;
};

struct command {
	const char	*name;
	int		 minargs, maxargs;
	int		 login;		/* needs an authenticated session */
	const char	*usage;
	int		(*run)(struct pop3 *, char **, int,
			    const struct cmd_opts *, struct error *);
};

/* The command called name (case-insensitive), or NULL. */
const struct command	*command_find(const char *name);

/* Checks a command's arguments before anything is sent: ERR_USAGE. */
int	command_check(const struct command *, char **argv, int argc,
	    struct error *);

/* Runs one command line after another from in, in one session, and
 * stops at the first failure (the caller then sends RSET, so that a
 * failed batch commits no deletion). */
int	command_batch(struct pop3 *, FILE *in, const struct cmd_opts *,
	    struct error *);

/* Flushes stdout; ERR_IO if any write to it failed. */
int	command_flush(struct error *);

#endif
