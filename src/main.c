/*
 * main.c - main(), dispatch, the one map from error classes to exit
 * codes, and printing errors.
 *
 * The option table is cli.c; the layers of settings and the commands
 * over the accounts file are accounts.c; the commands themselves are
 * commands.c, and their output report.c.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "accounts.h"
#include "cli.h"
#include "commands.h"
#include "config.h"
#include "report.h"
#include "tls.h"
#include "util.h"

/* The one mapping from error classes to sysexits(3); see EXIT STATUS in
 * popfetch(1). */
static int
exit_code(enum err_class c)
{
	switch (c) {
	case ERR_NONE:		return 0;
	case ERR_USAGE:		return EX_USAGE;
	case ERR_NOHOST:	return EX_NOHOST;
	case ERR_REFUSED:	return EX_UNAVAILABLE;
	case ERR_SOFTWARE:	return EX_SOFTWARE;
	case ERR_CANTCREAT:	return EX_CANTCREAT;
	case ERR_IO:		return EX_IOERR;
	case ERR_NET:
	case ERR_BUSY:
	case ERR_LOCKED:
	case ERR_DEFERRED:	return EX_TEMPFAIL;
	case ERR_PROTO:		return EX_PROTOCOL;
	case ERR_AUTH:
	case ERR_TLS:		return EX_NOPERM;
	case ERR_CONFIG:
	case ERR_INSECURE:	return EX_CONFIG;
	}
	return EX_SOFTWARE;
}

/*
 * "popfetch: host: message (hint)".  s, when there is one, says whether
 * the run has reached the server (then the message names it) and how the
 * user wrote the settings (the hint names options or keywords).
 */
static int
fail(const struct error *e, const struct cli_settings *s)
{
	const char *hint, *host = s != NULL ? s->errhost : NULL;
	char buf[256];

	hint = cli_doc_hint(e->hint, s != NULL ? s->form : CLI_OPTION, buf,
	    sizeof(buf));
	/* This hint names the account, which only the front end knows. */
	if (e->hint == HINT_OAUTH2_LOGIN) {
		if (s != NULL && s->account != NULL)
			(void)snprintf(buf, sizeof(buf), "run popfetch -a %s "
			    "oauth2 login again", s->account);
		else
			(void)snprintf(buf, sizeof(buf), "run popfetch with "
			    "these options and oauth2 login again");
		hint = buf;
	}
	if (host != NULL)
		fprintf(stderr, "popfetch: %s: %s", host, e->msg);
	else
		fprintf(stderr, "popfetch: %s", e->msg);
	if (hint != NULL)
		fprintf(stderr, " (%s)", hint);
	fputc('\n', stderr);
	return exit_code(e->cls);
}

/* One account (or none: the command line alone); returns an exit code. */
static int
run_one(const struct accounts_run *r, const struct config_block *acct)
{
	struct cli_settings s;
	struct error e = { .cls = ERR_NONE };
	int code = 0;

	if (accounts_setup(&s, r->cfg, acct, r->args, 1, &e) == -1 ||
	    command_run(&s, r->args->argc, r->args->argv, &e) == -1)
		code = fail(&e, &s);
	cli_settings_free(&s);
	return code;
}

/* The commands of the accounts file, --all-accounts, -a, or the command
 * line alone. */
static int
dispatch(const struct accounts_run *r, const char *path)
{
	const struct cli_args *a = r->args;
	const struct config_block *acct = NULL;
	const struct command *c = NULL;
	struct error e;

	if (a->argc > 0)
		c = command_find(a->argv[0]);
	if (c != NULL && (c->kind == CMD_ACCOUNTS ||
	    c->kind == CMD_CONFIG_CHECK)) {
		if (command_check(c, a->argv + 1, a->argc - 1, &e) == -1)
			return fail(&e, NULL);
		return c->kind == CMD_ACCOUNTS ? accounts_list(r) :
		    accounts_check(r);
	}
	if (c != NULL && c->kind == CMD_PROVIDERS) {
		if (command_check(c, a->argv + 1, a->argc - 1, &e) == -1 ||
		    command_providers(cli_args_has(a, O_JSON), &e) == -1)
			return fail(&e, NULL);
		return 0;
	}
	if (a->all)
		return accounts_all(r);
	if (a->account != NULL && (r->cfg == NULL ||
	    (acct = config_account(r->cfg, a->account)) == NULL)) {
		error_set(&e, ERR_CONFIG, "no account \"%.64s\" in %s",
		    a->account, path != NULL ? path : "the configuration");
		return fail(&e, NULL);
	}
	/* Without -a, an account called "default" serves a command line
	 * that names no server. */
	if (acct == NULL && r->cfg != NULL && !cli_args_has(a, O_HOST) &&
	    !cli_args_has(a, O_URL))
		acct = config_account(r->cfg, "default");
	return run_one(r, acct);
}

int
main(int argc, char **argv)
{
	struct config *cfg = NULL;
	struct cli_args a;
	struct accounts_run r;
	struct error e = { .cls = ERR_NONE };
	const char *path;
	char buf[4096];
	int code;

	memset(&a, 0, sizeof(a));
	(void)signal(SIGPIPE, SIG_IGN);
	report_init();
	if (cli_parse(&a, argc, argv, &e) == -1) {
		cli_args_free(&a);
		return fail(&e, NULL);
	}
	if (a.help || a.version || a.list) {
		if (a.help)
			cli_doc_usage(stdout);
		else if (a.version)
			printf("popfetch %s (GnuTLS %s)\n", POPFETCH_VERSION,
			    tls_library_version());
		if ((a.list && cli_doc_list(stdout, &e) == -1) ||
		    command_flush(&e) == -1)
			code = fail(&e, NULL);
		else
			code = 0;
		cli_args_free(&a);
		return code;
	}
	path = a.config != NULL ? a.config :
	    config_default_path(buf, sizeof(buf), &e);
	if ((path == NULL && e.cls != ERR_NONE) || (path != NULL &&
	    (cfg = config_load(path, a.config != NULL, &e)) == NULL))
		code = fail(&e, NULL);
	else {
		r.cfg = cfg;
		r.args = &a;
		r.run = run_one;
		r.fail = fail;
		code = dispatch(&r, path);
	}
	cli_args_free(&a);
	config_free(cfg);
	return code;
}
