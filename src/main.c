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
#ifdef __GLIBC__		/* which <stdio.h> has defined by now */
#include <malloc.h>
#endif

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
	case ERR_DATAERR:	return EX_DATAERR;
	}
	return EX_SOFTWARE;
}

/* The error classes by name, for --json. */
static const char *
class_name(enum err_class c)
{
	static const char *const names[] = {
		[ERR_NONE] = "none", [ERR_USAGE] = "usage",
		[ERR_NOHOST] = "nohost", [ERR_REFUSED] = "refused",
		[ERR_SOFTWARE] = "software", [ERR_CANTCREAT] = "cantcreat",
		[ERR_IO] = "io", [ERR_NET] = "net", [ERR_BUSY] = "busy",
		[ERR_LOCKED] = "locked", [ERR_DEFERRED] = "deferred",
		[ERR_PROTO] = "protocol", [ERR_AUTH] = "auth",
		[ERR_TLS] = "tls", [ERR_CONFIG] = "config",
		[ERR_INSECURE] = "insecure", [ERR_DATAERR] = "dataerr"
	};

	if ((unsigned)c < sizeof(names) / sizeof(names[0]) &&
	    names[c] != NULL)
		return names[c];
	return "software";
}

/* --json on the command line: errors before any account's settings are
 * known are JSON records too. */
static int json_errors;

/* Under --json, a failure is a record on stdout as well:
 * {"event":"error","message":...,"class":...,"status":N}. */
static void
fail_json(const char *host, const char *msg, const char *hint,
    enum err_class cls)
{
	json_t *j;

	j = json_pack("{s:s}", "event", "error");
	if (host != NULL)
		report_json_text(j, "host", host, strlen(host));
	report_json_text(j, "message", msg, strlen(msg));
	if (hint != NULL)
		report_json_text(j, "hint", hint, strlen(hint));
	json_object_set_new(j, "class", json_string(class_name(cls)));
	json_object_set_new(j, "status", json_integer(exit_code(cls)));
	(void)report_json_print(stdout, j, NULL);
	(void)fflush(stdout);
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
	report_say(2, "%s%s%s%s%s%s", host != NULL ? host : "",
	    host != NULL ? ": " : "", e->msg, hint != NULL ? " (" : "",
	    hint != NULL ? hint : "", hint != NULL ? ")" : "");
	if ((s != NULL && s->co.json) || json_errors)
		fail_json(host, e->msg, hint, e->cls);
	return exit_code(e->cls);
}

/*
 * A command line that names no server and no account: with nothing at
 * all, the usage summary; with a first word that looks like a server
 * without its scheme ("alice@host:995"), the URL it probably meant.
 * Anything else goes on to the run, whose message names what is missing.
 */
static int
no_server(const struct cli_args *a)
{
	const char *w, *colon;
	int pop3s;

	if (a->argc == 0 && a->n == 0) {
		cli_doc_usage(stderr);
		return EX_USAGE;
	}
	if (a->argc == 0 || command_find(a->argv[0]) != NULL)
		return -1;
	w = a->argv[0];
	if (strchr(w, '@') == NULL && strchr(w, ':') == NULL)
		return -1;
	colon = strrchr(w, ':');
	/* Port 110 is the plain POP3 port; anything else implicit TLS. */
	pop3s = colon == NULL || strcmp(colon, ":110") != 0;
	fprintf(stderr, "popfetch: \"%.200s\" is not a command; a server is "
	    "written as a URL: did you mean %s://%.200s?\n", w,
	    pop3s ? "pop3s" : "pop3", w);
	cli_doc_synopsis(stderr);
	return EX_USAGE;
}

/* One account (or none: the command line alone); returns an exit code. */
static int
run_one(const struct accounts_run *r, const struct config_block *acct)
{
	struct cli_settings s;
	struct error e = { .cls = ERR_NONE };
	int code = 0, rv;

	if ((rv = accounts_setup(&s, r->cfg, acct, r->args, 1, &e)) == 0) {
		/* The accounts file may ask for syslog too. */
		report_use_syslog(s.co.syslog);
		rv = command_run(&s, r->args->argc, r->args->argv, &e);
	}
	if (rv == -1)
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
	int code;

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
	if (acct == NULL && !cli_args_has(a, O_HOST) &&
	    !cli_args_has(a, O_URL))
		if ((code = no_server(a)) != -1)
			return code;
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
#ifdef M_MMAP_THRESHOLD
	/*
	 * Blocks of 32 KB and more (tables, listings, buffers; none is
	 * allocated per message) come from the kernel and go back to it
	 * when freed, always.  glibc's default raises its threshold to
	 * the size of any such block freed: after the journal's buffer
	 * (half a megabyte with a few thousand records) every later
	 * table up to that size comes out of the heap, and the holes its
	 * growth leaves stay in the peak: 0.6 MB of a nothing-new run
	 * over 100,000 known messages, 0.2 MB of a first fetch of 20,000.
	 */
	(void)mallopt(M_MMAP_THRESHOLD, 32 * 1024);
#endif
	auth_init();
	(void)signal(SIGPIPE, SIG_IGN);
	report_init();
	if (cli_parse(&a, argc, argv, &e) == -1) {
		json_errors = cli_args_has(&a, O_JSON);
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
	json_errors = cli_args_has(&a, O_JSON);
	report_use_syslog(cli_args_has(&a, O_SYSLOG));
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
