/*
 * main.c - the command line: options into a struct, then dispatch.
 *
 * The only file that prints errors and chooses the exit status.
 */
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "commands.h"
#include "config.h"
#include "fetch.h"
#include "session.h"
#include "tls.h"
#include "util.h"

struct options {
	struct session_params	 sp;
	struct cmd_opts		 co;
	struct fetch_params	 fp;
	int			 have_target;	/* the layer that set it */
	int			 layer;		/* 1 defaults, 2 account, 3 argv */
	int			 print_fingerprint;
	const char		*server_name;
	char			*url_host;	/* owned copies from a URL */
	char			*url_user;
	char			*url_port;
};

/* An option from the command line or a config line, applied later. */
struct optval {
	int		 ch;
	const char	*arg;
};

/* What the command line says beyond one account's options. */
struct cli {
	struct optval	*v;		/* options for the account, in order */
	size_t		 n;
	const char	*config;	/* --config */
	const char	*account;	/* -a */
	int		 all;		/* --all-accounts */
	int		 jobs;		/* -j */
};

static const char *progname = "popfetch";
static const char *errhost;	/* the host, once known, for messages */

static void
usage(FILE *f)
{
	fprintf(f,
"usage: popfetch [options] [pop3s://user@host[:port]] [command [args]]\n"
"commands: fetch (the default) welcome capa certificate stat list [N]\n"
"          uidl [N] top N LINES retr N dele N... rset noop batch\n"
"fetch:    --maildir DIR | --mbox FILE | --mda COMMAND  --new | --all\n"
"          --keep | --delete  --keep-days N  --max-size BYTES  --limit N\n"
"          --dry-run  --state FILE  --received-header  --uidl-header\n"
"options:  --host HOST  -p, --port PORT  -u, --user USER  --url URL\n"
"          --tls implicit|starttls|none  --ca-file FILE  --timeout SECONDS\n"
"          --auth auto|user|apop|rpop|plain|login|cram-md5|scram-sha-1|\n"
"                 scram-sha-256|external|xoauth2|oauthbearer\n"
"          --no-initial-response  --allow-plaintext  --utf8\n"
"          --password-command CMD  --password-file FILE  --netrc-file FILE\n"
"          --fingerprint sha256:HEX  --print-fingerprint  --insecure\n"
"          --tls-server-name NAME  --tls-priority STRING\n"
"          --client-cert FILE  --client-key FILE\n"
"          -d, --debug LEVEL  --json  -q, --quiet  -h, --help  -V, --version\n"
"accounts: -a, --account NAME  --all-accounts  -j, --jobs N  --config FILE\n"
"          commands: accounts  config-check\n"
"See popfetch(1).\n");
}

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
	case ERR_CANTCREAT:	return EX_CANTCREAT;
	case ERR_IO:		return EX_IOERR;
	case ERR_NET:
	case ERR_BUSY:
	case ERR_LOCKED:
	case ERR_DEFERRED:	return EX_TEMPFAIL;
	case ERR_PROTO:		return EX_PROTOCOL;
	case ERR_AUTH:		return EX_NOPERM;
	case ERR_TLS:		return EX_NOPERM;
	case ERR_CONFIG:	return EX_CONFIG;
	case ERR_INSECURE:	return EX_CONFIG;
	case ERR_SOFTWARE:	return EX_SOFTWARE;
	}
	return EX_SOFTWARE;
}

/* Set once an accounts-file block shaped the run: hints then name
 * keywords rather than options. */
static int hint_keywords;

/* What the user can change, for an error's hint; see enum err_hint. */
static const char *
hint_text(enum err_hint h)
{
	static const struct {
		enum err_hint	 hint;
		const char	*option, *keyword;
	} hints[] = {
		{ HINT_TLS_MODE, "use --tls implicit, or --tls none",
		    "use \"tls implicit\", or \"tls none\"" },
		{ HINT_ALLOW_PLAINTEXT, "add --allow-plaintext to allow it",
		    "add \"allow-plaintext\" to allow it" },
		{ HINT_ALL_OR_DELETE, "use --all (fetch every message on every "
		    "run) or --delete", "use \"all\" (fetch every message on "
		    "every run) or \"delete\"" },
		{ HINT_USER, "use --user or user@ in the URL",
		    "use \"user\" or user@ in the url" },
		{ HINT_CLIENT_CERT, "use --client-cert",
		    "use \"client-cert\"" },
		{ HINT_STATE, "use --state", "use \"state\"" },
		{ HINT_PASSWORD_SOURCE, "use --password-command, "
		    "--password-file, POPFETCH_PASSWORD or ~/.netrc",
		    "use \"password-command\", \"password-file\", "
		    "POPFETCH_PASSWORD or ~/.netrc" },
	};
	size_t i;

	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (hints[i].hint == h)
			return hint_keywords ? hints[i].keyword :
			    hints[i].option;
	return NULL;
}

static int
fail(const struct error *e)
{
	const char *hint = hint_text(e->hint);

	if (errhost != NULL)
		fprintf(stderr, "%s: %s: %s", progname, errhost, e->msg);
	else
		fprintf(stderr, "%s: %s", progname, e->msg);
	if (hint != NULL)
		fprintf(stderr, " (%s)", hint);
	fputc('\n', stderr);
	return exit_code(e->cls);
}

static void
trace(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "%s\n", line);
}

static int
check_port(const char *s, struct error *err)
{
	const char *errstr;

	(void)strtonum(s, 1, 65535, &errstr);
	if (errstr != NULL)
		return error_set(err, ERR_USAGE, "port \"%s\" is %s", s,
		    errstr);
	return 0;
}

/* pop3s://[user@]host[:port][/] and pop3://...; host may be [v6].  A URL
 * replaces the host, port and TLS mode set so far, and the user if it
 * names one. */
static int
parse_url(struct options *o, const char *url, struct error *err)
{
	char *copy, *p, *at, *host, *port = NULL, *end;
	size_t ulen;

	if (strncasecmp(url, "pop3s://", 8) == 0) {
		o->sp.tls = TLSMODE_IMPLICIT;
		p = copy = xstrdup(url + 8);
	} else if (strncasecmp(url, "pop3://", 7) == 0) {
		o->sp.tls = TLSMODE_STARTTLS;
		p = copy = xstrdup(url + 7);
	} else
		return error_set(err, ERR_USAGE, "%s: not a pop3:// or "
		    "pop3s:// URL", url);
	if ((end = strchr(p, '/')) != NULL) {
		if (end[1] != '\0') {
			free(copy);
			return error_set(err, ERR_USAGE,
			    "%s: a URL has no path here", url);
		}
		*end = '\0';
	}
	if ((at = strrchr(p, '@')) != NULL) {
		*at = '\0';
		if (strchr(p, ':') != NULL) {
			free(copy);
			return error_set(err, ERR_USAGE, "passwords are not "
			    "accepted on the command line; see PASSWORDS in "
			    "popfetch(1)");
		}
		if (pct_decode(p, p, strlen(p), &ulen) == -1 || ulen == 0 ||
		    strlen(p) != ulen) {
			free(copy);
			return error_set(err, ERR_USAGE, "%s: bad user name",
			    url);
		}
		free(o->url_user);
		o->url_user = xstrdup(p);
		o->sp.auth.user = o->url_user;
		p = at + 1;
	}
	host = p;
	if (*p == '[') {
		host = p + 1;
		if ((end = strchr(host, ']')) == NULL) {
			free(copy);
			return error_set(err, ERR_USAGE, "%s: bad host", url);
		}
		*end = '\0';
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0') {
			free(copy);
			return error_set(err, ERR_USAGE, "%s: bad host", url);
		}
	} else if ((end = strchr(p, ':')) != NULL) {
		*end = '\0';
		port = end + 1;
	}
	if (*host == '\0' || (port != NULL && *port == '\0')) {
		free(copy);
		return error_set(err, ERR_USAGE, "%s: bad URL", url);
	}
	if (port != NULL && check_port(port, err) == -1) {
		free(copy);
		return -1;
	}
	free(o->url_host);
	free(o->url_port);
	o->url_host = xstrdup(host);
	o->url_port = port != NULL ? xstrdup(port) : NULL;
	o->sp.host = o->url_host;
	o->sp.port = o->url_port;
	free(copy);
	return 0;
}

enum {
	OPT_HOST = 256, OPT_URL, OPT_TLS, OPT_CAFILE, OPT_TIMEOUT, OPT_AUTH,
	OPT_PLAINTEXT, OPT_UTF8, OPT_PWCMD, OPT_PWFILE, OPT_NETRC, OPT_JSON,
	OPT_MAILDIR, OPT_MBOX, OPT_MDA, OPT_NEW, OPT_ALL, OPT_KEEP, OPT_DELETE,
	OPT_KEEPDAYS, OPT_MAXSIZE, OPT_LIMIT, OPT_DRYRUN, OPT_STATE,
	OPT_RECEIVED, OPT_UIDLHDR, OPT_FINGERPRINT, OPT_PRINTFP, OPT_CLIENTCERT,
	OPT_CLIENTKEY, OPT_PRIORITY, OPT_SERVERNAME, OPT_INSECURE, OPT_NOIR,
	OPT_CONFIG, OPT_ALLACCOUNTS, OPT_PASSWORD
};

static const struct option longopts[] = {
	{ "host",		required_argument,	NULL, OPT_HOST },
	{ "port",		required_argument,	NULL, 'p' },
	{ "user",		required_argument,	NULL, 'u' },
	{ "url",		required_argument,	NULL, OPT_URL },
	{ "tls",		required_argument,	NULL, OPT_TLS },
	{ "ca-file",		required_argument,	NULL, OPT_CAFILE },
	{ "timeout",		required_argument,	NULL, OPT_TIMEOUT },
	{ "auth",		required_argument,	NULL, OPT_AUTH },
	{ "allow-plaintext",	no_argument,		NULL, OPT_PLAINTEXT },
	{ "no-initial-response", no_argument,		NULL, OPT_NOIR },
	{ "utf8",		no_argument,		NULL, OPT_UTF8 },
	{ "password-command",	required_argument,	NULL, OPT_PWCMD },
	{ "password-file",	required_argument,	NULL, OPT_PWFILE },
	{ "netrc-file",		required_argument,	NULL, OPT_NETRC },
	{ "debug",		required_argument,	NULL, 'd' },
	{ "json",		no_argument,		NULL, OPT_JSON },
	{ "maildir",		required_argument,	NULL, OPT_MAILDIR },
	{ "mbox",		required_argument,	NULL, OPT_MBOX },
	{ "mda",		required_argument,	NULL, OPT_MDA },
	{ "new",		no_argument,		NULL, OPT_NEW },
	{ "all",		no_argument,		NULL, OPT_ALL },
	{ "keep",		no_argument,		NULL, OPT_KEEP },
	{ "delete",		no_argument,		NULL, OPT_DELETE },
	{ "keep-days",		required_argument,	NULL, OPT_KEEPDAYS },
	{ "max-size",		required_argument,	NULL, OPT_MAXSIZE },
	{ "limit",		required_argument,	NULL, OPT_LIMIT },
	{ "dry-run",		no_argument,		NULL, OPT_DRYRUN },
	{ "state",		required_argument,	NULL, OPT_STATE },
	{ "received-header",	no_argument,		NULL, OPT_RECEIVED },
	{ "fingerprint",	required_argument,	NULL, OPT_FINGERPRINT },
	{ "print-fingerprint",	no_argument,		NULL, OPT_PRINTFP },
	{ "client-cert",	required_argument,	NULL, OPT_CLIENTCERT },
	{ "client-key",		required_argument,	NULL, OPT_CLIENTKEY },
	{ "tls-priority",	required_argument,	NULL, OPT_PRIORITY },
	{ "tls-server-name",	required_argument,	NULL, OPT_SERVERNAME },
	{ "insecure",		no_argument,		NULL, OPT_INSECURE },
	{ "uidl-header",	no_argument,		NULL, OPT_UIDLHDR },
	{ "account",		required_argument,	NULL, 'a' },
	{ "all-accounts",	no_argument,		NULL, OPT_ALLACCOUNTS },
	{ "jobs",		required_argument,	NULL, 'j' },
	{ "config",		required_argument,	NULL, OPT_CONFIG },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

/* Applies one option to o (from argv or a config line). */
static int
apply(struct options *o, int ch, const char *arg, struct error *err)
{
	const char *errstr;

	switch (ch) {
		case OPT_HOST:
			o->sp.host = arg;
			break;
		case 'p':
			if (check_port(arg, err) == -1)
				return -1;
			o->sp.port = arg;
			break;
		case 'u':
			o->sp.auth.user = arg;
			break;
		case OPT_URL:
			if (parse_url(o, arg, err) == -1)
				return -1;
			break;
		case OPT_PASSWORD:
			o->sp.auth.cred.password = arg;
			break;
		case OPT_TLS:
			if (strcmp(arg, "implicit") == 0)
				o->sp.tls = TLSMODE_IMPLICIT;
			else if (strcmp(arg, "starttls") == 0)
				o->sp.tls = TLSMODE_STARTTLS;
			else if (strcmp(arg, "none") == 0)
				o->sp.tls = TLSMODE_NONE;
			else
				return error_set(err, ERR_USAGE, "--tls takes "
				    "implicit, starttls or none");
			break;
		case OPT_CAFILE:
			o->sp.tlsp.ca_file = arg;
			break;
		case OPT_TIMEOUT:
			o->sp.timeout = (int)strtonum(arg, 1, 86400,
			    &errstr);
			if (errstr != NULL)
				return error_set(err, ERR_USAGE, "timeout "
				    "\"%s\" is %s (1 to 86400 seconds)",
				    arg, errstr);
			break;
		case OPT_AUTH:
			if (auth_parse_method(arg, &o->sp.auth) == -1)
				return error_set(err, ERR_USAGE, "--auth takes "
				    "auto, user, apop, rpop, plain, login, "
				    "cram-md5, scram-sha-1, scram-sha-256, "
				    "external, xoauth2 or oauthbearer");
			break;
		case OPT_NOIR:
			o->sp.auth.no_initial_response = 1;
			break;
		case OPT_PLAINTEXT:
			o->sp.auth.allow_plaintext = 1;
			break;
		case OPT_UTF8:
			o->sp.utf8 = 1;
			break;
		case OPT_PWCMD:
			o->sp.auth.cred.password_command = arg;
			break;
		case OPT_PWFILE:
			o->sp.auth.cred.password_file = arg;
			break;
		case OPT_NETRC:
			o->sp.auth.cred.netrc_file = arg;
			break;
		case 'd':
			o->sp.debug = (int)strtonum(arg, 0, 2, &errstr);
			if (errstr != NULL)
				return error_set(err, ERR_USAGE, "debug level "
				    "\"%s\" is %s (0, 1 or 2)", arg,
				    errstr);
			break;
		case OPT_JSON:
			o->co.json = 1;
			break;
		case OPT_MAILDIR:
		case OPT_MBOX:
		case OPT_MDA:
			if (o->have_target == o->layer)
				return error_set(err, ERR_USAGE, "give only one "
				    "of --maildir, --mbox and --mda");
			o->have_target = o->layer;
			o->fp.dp.kind = ch == OPT_MAILDIR ? DELIVER_MAILDIR :
			    ch == OPT_MBOX ? DELIVER_MBOX : DELIVER_MDA;
			if (*arg == '\0')
				return error_set(err, ERR_USAGE,
				    "an empty delivery target");
			o->fp.dp.target = arg;
			break;
		case OPT_NEW:
			o->fp.all = 0;
			break;
		case OPT_ALL:
			o->fp.all = 1;
			break;
		case OPT_KEEP:
			o->fp.delete = 0;
			break;
		case OPT_DELETE:
			o->fp.delete = 1;
			break;
		case OPT_KEEPDAYS:
			o->fp.keep_days = (unsigned long)strtonum(arg, 1,
			    36500, &errstr);
			if (errstr != NULL)
				return error_set(err, ERR_USAGE, "--keep-days "
				    "\"%s\" is %s (1 to 36500)", arg, errstr);
			break;
		case OPT_MAXSIZE:
			o->fp.max_size = (unsigned long long)strtonum(arg,
			    1, LLONG_MAX, &errstr);
			if (errstr != NULL)
				return error_set(err, ERR_USAGE, "--max-size "
				    "\"%s\" is %s", arg, errstr);
			break;
		case OPT_LIMIT:
			o->fp.limit = (unsigned long)strtonum(arg, 1,
			    POP3_MSG_MAX, &errstr);
			if (errstr != NULL)
				return error_set(err, ERR_USAGE, "--limit "
				    "\"%s\" is %s", arg, errstr);
			break;
		case OPT_DRYRUN:
			o->fp.dry_run = 1;
			break;
		case OPT_STATE:
			o->fp.state_path = arg;
			break;
		case OPT_FINGERPRINT: {
			unsigned char pin[32];

			if (tls_parse_fingerprint(arg, pin) == -1)
				return error_set(err, ERR_USAGE, "--fingerprint "
				    "takes sha256: and 64 hex digits");
			o->sp.tlsp.fingerprint = arg;
			break;
		}
		case OPT_PRINTFP:
			o->print_fingerprint = 1;
			break;
		case OPT_CLIENTCERT:
			o->sp.tlsp.client_cert = arg;
			break;
		case OPT_CLIENTKEY:
			o->sp.tlsp.client_key = arg;
			break;
		case OPT_PRIORITY:
			o->sp.tlsp.priority = arg;
			break;
		case OPT_SERVERNAME:
			o->server_name = arg;
			break;
		case OPT_INSECURE:
			o->sp.tlsp.insecure = 1;
			break;
		case OPT_RECEIVED:
			o->fp.received_header = 1;
			break;
		case OPT_UIDLHDR:
			o->fp.uidl_header = 1;
			break;
		case 'q':
			o->co.quiet = 1;
			break;
	default:
		return error_set(err, ERR_SOFTWARE, "option %d", ch);
	}
	return 0;
}

static void
cli_add(struct cli *c, int ch, const char *arg)
{
	c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
	c->v[c->n].ch = ch;
	c->v[c->n].arg = arg;
	c->n++;
}

/* Reads argv: the options of the run into c, the account's into c->v. */
static int
parse_cli(struct cli *c, int argc, char **argv, struct error *err)
{
	const char *errstr;
	int ch;

	while ((ch = getopt_long(argc, argv, "p:u:d:qhVa:j:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("popfetch %s (GnuTLS %s)\n", POPFETCH_VERSION,
			    tls_library_version());
			exit(0);
		case 'a':
			c->account = optarg;
			break;
		case OPT_ALLACCOUNTS:
			c->all = 1;
			break;
		case 'j':
			c->jobs = (int)strtonum(optarg, 1, 64, &errstr);
			if (errstr != NULL)
				return error_set(err, ERR_USAGE, "-j \"%s\" is "
				    "%s (1 to 64)", optarg, errstr);
			break;
		case OPT_CONFIG:
			c->config = optarg;
			break;
		case '?':
		case ':':
			return error_set(err, ERR_USAGE,
			    "try popfetch --help");
		default:
			cli_add(c, ch, optarg);
			break;
		}
	}
	if (optind < argc && strstr(argv[optind], "://"))
		cli_add(c, OPT_URL, argv[optind++]);
	if (c->account != NULL && c->all)
		return error_set(err, ERR_USAGE,
		    "give -a NAME or --all-accounts, not both");
	return 0;
}

/* The option a config keyword stands for: its long name, except the
 * options that choose accounts, plus "password". */
static int
keyword_option(const char *key, int *has_arg)
{
	static const char *const not_keywords[] = {
		"account", "all-accounts", "jobs", "config", "help", "version"
	};
	size_t i;

	if (strcmp(key, "password") == 0) {
		*has_arg = 1;
		return OPT_PASSWORD;
	}
	for (i = 0; i < sizeof(not_keywords) / sizeof(not_keywords[0]); i++)
		if (strcmp(key, not_keywords[i]) == 0)
			return -1;
	for (i = 0; longopts[i].name != NULL; i++)
		if (strcmp(longopts[i].name, key) == 0) {
			*has_arg = longopts[i].has_arg == required_argument;
			return longopts[i].val;
		}
	return -1;
}

/* Applies a config block: its URL first, so that the block's other
 * lines can refine it. */
static int
apply_block(struct options *o, const struct config *cfg,
    const struct config_block *b, struct error *err)
{
	const struct config_entry *e;
	int pass, ch, has_arg;
	size_t i;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < b->n; i++) {
			e = &b->entries[i];
			if ((ch = keyword_option(e->key, &has_arg)) == -1)
				return error_set(err, ERR_CONFIG, "%s:%u: "
				    "unknown keyword \"%s\"", cfg->path,
				    e->line, e->key);
			if ((ch == OPT_URL) != (pass == 0))
				continue;
			if (has_arg && e->value == NULL)
				return error_set(err, ERR_CONFIG, "%s:%u: %s "
				    "needs a value", cfg->path, e->line,
				    e->key);
			if (!has_arg && e->value != NULL)
				return error_set(err, ERR_CONFIG, "%s:%u: %s "
				    "takes no value", cfg->path, e->line,
				    e->key);
			if (apply(o, ch, e->value, err) == -1) {
				err->cls = ERR_CONFIG;
				return error_prefix(err, "%s:%u", cfg->path,
				    e->line);
			}
		}
	return 0;
}

/*
 * Builds one account's options: the defaults block, the account's block
 * (if any), then the command line, each overriding the one before.
 */
static int
setup_account(struct options *o, const struct config *cfg,
    const struct config_block *acct, const struct cli *c, int need_host,
    struct error *err)
{
	size_t i;
	int pass;

	o->sp.timeout = 60;
	o->sp.trace = trace;
	o->layer = 1;
	if (cfg != NULL && apply_block(o, cfg, &cfg->defaults, err) == -1)
		return -1;
	o->layer = 2;
	if (acct != NULL)
		hint_keywords = 1;
	if (acct != NULL && apply_block(o, cfg, acct, err) == -1)
		return -1;
	o->layer = 3;
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < c->n; i++)
			if ((c->v[i].ch == OPT_URL) == (pass == 0) &&
			    apply(o, c->v[i].ch, c->v[i].arg, err) == -1)
				return -1;
	if (!need_host)
		return 0;
	if (o->sp.host == NULL || *o->sp.host == '\0')
		return error_set(err, acct != NULL ? ERR_CONFIG : ERR_USAGE,
		    "%s%s%sno host given (use --host or a pop3s:// URL)",
		    acct != NULL ? "account " : "",
		    acct != NULL ? acct->name : "", acct != NULL ? ": " : "");
	o->sp.auth.host = o->sp.host;
	o->sp.auth.port = session_port(&o->sp);
	o->sp.auth.have_client_cert = o->sp.tlsp.client_cert != NULL;
	o->sp.tlsp.server_name = o->server_name != NULL ? o->server_name :
	    o->sp.host;
	if (o->sp.tlsp.client_key != NULL && o->sp.tlsp.client_cert == NULL)
		return error_set(err, ERR_USAGE,
		    "--client-key needs --client-cert");
	return 0;
}

/* "45 KiB", "1.2 MiB" */
static const char *
human(unsigned long long n, char *buf, size_t len)
{
	if (n < 1024)
		(void)snprintf(buf, len, "%llu bytes", n);
	else if (n < 1024 * 1024)
		(void)snprintf(buf, len, "%llu KiB", (n + 512) / 1024);
	else if (n < 1024ULL * 1024 * 1024)
		(void)snprintf(buf, len, "%.1f MiB", n / 1048576.0);
	else
		(void)snprintf(buf, len, "%.1f GiB", n / 1073741824.0);
	return buf;
}

struct reporter {
	struct options	*o;
	int		 progress;	/* stderr is a terminal */
	int		 shown;		/* a progress line is on screen */
	struct timespec	 start;
	int		 nrec;
};

static void
clear_progress(struct reporter *rep)
{
	if (rep->shown) {
		fprintf(stderr, "\r\033[K");
		rep->shown = 0;
	}
}

static void
report(void *arg, const struct fetch_event *ev)
{
	static const char *const kinds[] = {
		"fetched", "deleted", "skipped", "would-fetch",
		"would-delete", "warning", "progress"
	};
	struct reporter *rep = arg;
	char b1[32], b2[32], uid[256];
	struct timespec now;
	double secs;

	switch (ev->kind) {
	case FETCH_PROGRESS:
		if (!rep->progress)
			return;
		(void)clock_gettime(CLOCK_MONOTONIC, &now);
		secs = (double)(now.tv_sec - rep->start.tv_sec) +
		    (now.tv_nsec - rep->start.tv_nsec) / 1e9;
		fprintf(stderr, "\r\033[Kpopfetch: %zu/%zu messages, %s, %s/s",
		    ev->done, ev->total, human(ev->bytes, b1, sizeof(b1)),
		    human(secs > 0 ? (unsigned long long)(ev->bytes / secs) :
		    0, b2, sizeof(b2)));
		rep->shown = 1;
		return;
	case FETCH_WARNING:
		clear_progress(rep);
		fprintf(stderr, "%s: %s: %s\n", progname, errhost, ev->text);
		return;
	case FETCH_SKIPPED:
		clear_progress(rep);
		fprintf(stderr, "%s: %s: message %lu skipped: %s is larger "
		    "than --max-size\n", progname, errhost, ev->num,
		    human(ev->size, b1, sizeof(b1)));
		break;
	case FETCH_WOULD_FETCH:
	case FETCH_WOULD_DELETE:
		if (!rep->o->co.json)
			printf("would %s message %lu (%s)\n",
			    ev->kind == FETCH_WOULD_FETCH ? "fetch" : "delete",
			    ev->num, human(ev->size, b1, sizeof(b1)));
		break;
	default:
		break;
	}
	if (rep->o->co.json) {
		printf("%s{\"event\":\"%s\",\"msg\":%lu,\"octets\":%llu",
		    rep->nrec++ ? "," : "", kinds[ev->kind], ev->num,
		    ev->size);
		if (ev->uid != NULL) {
			/* UIDs are escaped like every server string. */
			vis_text(uid, sizeof(uid), ev->uid, strlen(ev->uid));
			printf(",\"uid\":\"");
			for (const char *p = uid; *p != '\0'; p++)
				printf(*p == '"' || *p == '\\' ? "\\%c" : "%c",
				    *p);
			putchar('"');
		}
		putchar('}');
	}
}

static int
run_fetch(struct options *o, int argc, struct error *err)
{
	struct fetch_result res;
	struct reporter rep;
	char b[32];
	int r;

	if (argc > 1)
		return error_set(err, ERR_USAGE, "fetch takes no arguments");
	if (!o->have_target)
		return error_set(err, ERR_USAGE, "fetch needs a place to "
		    "deliver to: --maildir DIR, --mbox FILE or --mda COMMAND");
	o->fp.dp.lock_timeout = o->sp.timeout < 30 ? o->sp.timeout : 30;
	o->fp.host = o->sp.host;
	memset(&rep, 0, sizeof(rep));
	rep.o = o;
	rep.progress = !o->co.quiet && !o->co.json && isatty(STDERR_FILENO);
	(void)clock_gettime(CLOCK_MONOTONIC, &rep.start);
	errhost = o->sp.host;
	if (o->co.json)
		printf("{\"messages\":[");
	r = fetch_run(&o->sp, &o->fp, report, &rep, &res, err);
	clear_progress(&rep);
	if (o->co.json) {
		printf("],\"fetched\":%zu,\"octets\":%llu,\"deleted\":%zu,"
		    "\"skipped\":%zu,\"dry_run\":%s,\"ok\":%s}\n",
		    res.fetched, res.bytes, res.deleted, res.skipped,
		    o->fp.dry_run ? "true" : "false", r == 0 ? "true" : "false");
	} else if (r == 0 && !o->co.quiet) {
		if (o->fp.dry_run)
			printf("dry run: %zu message%s would be fetched, %zu "
			    "deleted\n", res.would_fetch,
			    res.would_fetch == 1 ? "" : "s", res.would_delete);
		else if (res.fetched == 0)
			printf("no new messages%s\n", res.deleted > 0 ?
			    "" : "");
		else
			printf("%zu new message%s, %s, delivered to %s\n",
			    res.fetched, res.fetched == 1 ? "" : "s",
			    human(res.bytes, b, sizeof(b)), o->fp.dp.target);
		if (!o->fp.dry_run && res.deleted > 0)
			printf("%zu message%s deleted from the server\n",
			    res.deleted, res.deleted == 1 ? "" : "s");
	}
	if (command_flush(r == 0 ? err : &(struct error){ .cls = ERR_NONE }) ==
	    -1 && r == 0)
		return -1;
	return r;
}

static int
run(struct options *o, int argc, char **argv, struct error *err)
{
	const struct command *c = NULL;
	struct session *s;
	struct error qerr;
	int batch = 0, r;

	if (o->print_fingerprint && argc == 0) {
		static char *cert[] = { "certificate", NULL };

		argv = cert;
		argc = 1;
	}
	if (argc > 0 && strcasecmp(argv[0], "certificate") == 0) {
		if (o->sp.tls == TLSMODE_NONE)
			return error_set(err, ERR_USAGE,
			    "certificate needs TLS, not --tls none");
		/* Look without trusting: nothing secret is sent. */
		o->sp.tlsp.inspect = 1;
		o->sp.tlsp.fingerprint = NULL;
	}
	if (o->sp.tlsp.insecure)
		fprintf(stderr, "%s: warning: --insecure: the server's "
		    "certificate is not verified; anyone on the path can read "
		    "the password and the mail\n", progname);
	if (argc == 0 || strcasecmp(argv[0], "fetch") == 0)
		return run_fetch(o, argc, err);
	if (strcasecmp(argv[0], "batch") == 0) {
		if (argc > 1)
			return error_set(err, ERR_USAGE, "usage: batch");
		batch = 1;
	} else if ((c = command_find(argv[0])) == NULL)
		return error_set(err, ERR_USAGE, "unknown command \"%.40s\"; "
		    "try popfetch --help", argv[0]);
	else if (command_check(c, argv + 1, argc - 1, err) == -1)
		return -1;

	errhost = o->sp.host;
	if ((s = session_open(&o->sp, batch || c->login, err)) == NULL)
		return -1;
	if (batch)
		r = command_batch(session_pop3(s), stdin, &o->co, err);
	else
		r = c->run(session_pop3(s), argv + 1, argc - 1, &o->co, err);
	if (r == 0)
		r = command_flush(err);
	if (r == -1) {
		/* Commit nothing a failed command or batch deleted. */
		(void)session_end(s, 0, &qerr);
		return -1;
	}
	return session_end(s, 1, err);
}

static void
options_free(struct options *o)
{
	free(o->url_host);
	free(o->url_user);
	free(o->url_port);
}

/* One account (or none: the command line alone); returns an exit code. */
static int
run_one(const struct config *cfg, const struct config_block *acct,
    const struct cli *c, int argc, char **argv)
{
	struct options o;
	struct error e = { .cls = ERR_NONE };
	int r;

	memset(&o, 0, sizeof(o));
	if (setup_account(&o, cfg, acct, c, 1, &e) == -1)
		r = fail(&e);
	else if ((r = run(&o, argc, argv, &e)) == -1)
		r = fail(&e);
	options_free(&o);
	return r;
}

static int
cli_names_server(const struct cli *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->v[i].ch == OPT_HOST || c->v[i].ch == OPT_URL)
			return 1;
	return 0;
}

/* popfetch accounts: "NAME<TAB>user@host:port", one a line. */
static int
list_accounts(const struct config *cfg, const struct cli *c)
{
	struct options o;
	struct error e;
	size_t i;

	for (i = 0; cfg != NULL && i < cfg->naccounts; i++) {
		memset(&o, 0, sizeof(o));
		printf("%s", cfg->accounts[i].name);
		if (setup_account(&o, cfg, &cfg->accounts[i], c, 0, &e) == 0 &&
		    o.sp.host != NULL)
			printf("\t%s%s%s:%s", o.sp.auth.user != NULL ?
			    o.sp.auth.user : "", o.sp.auth.user != NULL ?
			    "@" : "", o.sp.host, session_port(&o.sp));
		putchar('\n');
		options_free(&o);
	}
	return command_flush(&e) == -1 ? fail(&e) : 0;
}

/* popfetch config-check: every account as a run would see it. */
static int
config_check(const struct config *cfg, const struct cli *c)
{
	struct options o;
	struct error e;
	size_t i;
	int bad = 0;

	if (cfg == NULL || cfg->text == NULL) {
		error_set(&e, ERR_CONFIG, "%s: no such file",
		    cfg != NULL ? cfg->path : "the configuration");
		return fail(&e);
	}
	if (cfg->naccounts == 0) {
		memset(&o, 0, sizeof(o));
		if (setup_account(&o, cfg, NULL, c, 0, &e) == -1)
			bad = fail(&e);
		options_free(&o);
	}
	for (i = 0; i < cfg->naccounts; i++) {
		memset(&o, 0, sizeof(o));
		if (setup_account(&o, cfg, &cfg->accounts[i], c, 1, &e) == -1) {
			if (e.cls != ERR_CONFIG)
				e.cls = ERR_CONFIG;
			bad = fail(&e);
		}
		options_free(&o);
	}
	if (bad)
		return bad;
	printf("%s: %zu account%s, no errors\n", cfg->path, cfg->naccounts,
	    cfg->naccounts == 1 ? "" : "s");
	return 0;
}

/* A running account of --all-accounts, its output read through pipes. */
struct job {
	const char	*name;
	pid_t		 pid;
	int		 fd[2];		/* stdout, stderr; -1 once closed */
	char		 buf[2][4096];
	size_t		 len[2];
	int		 status;	/* exit code */
};

/* Writes one line of an account's output, prefixed by its name, or
 * wrapped as {"account":NAME,"result":LINE} for --json output. */
static void
emit(const struct job *j, int which, const char *line, size_t len,
    int json)
{
	FILE *f = which == 0 ? stdout : stderr;

	if (json && which == 0)
		fprintf(f, "{\"account\":\"%s\",\"result\":%.*s}\n", j->name,
		    (int)len, line);
	else
		fprintf(f, "%s: %.*s\n", j->name, (int)len, line);
	fflush(f);
}

/* Reads what an account wrote; emits whole lines.  0 at EOF. */
static int
drain(struct job *j, int which, int json)
{
	char *b = j->buf[which], *nl;
	ssize_t r;
	int eof;

	r = read(j->fd[which], b + j->len[which],
	    sizeof(j->buf[which]) - j->len[which]);
	if (r > 0)
		j->len[which] += (size_t)r;
	eof = r == 0 || (r == -1 && errno != EINTR);
	while ((nl = memchr(b, '\n', j->len[which])) != NULL ||
	    j->len[which] == sizeof(j->buf[which]) ||
	    (eof && j->len[which] > 0)) {
		size_t n = nl != NULL ? (size_t)(nl - b) : j->len[which];

		emit(j, which, b, n, json);
		if (nl != NULL)
			n++;
		memmove(b, b + n, j->len[which] - n);
		j->len[which] -= n;
	}
	return !eof;
}

static int
start_job(struct job *j, const struct config *cfg,
    const struct config_block *acct, const struct cli *c, int argc,
    char **argv)
{
	int out[2], errp[2];

	if (pipe(out) == -1)
		return -1;
	if (pipe(errp) == -1) {
		close(out[0]);
		close(out[1]);
		return -1;
	}
	fflush(NULL);
	if ((j->pid = fork()) == -1) {
		close(out[0]);
		close(out[1]);
		close(errp[0]);
		close(errp[1]);
		return -1;
	}
	if (j->pid == 0) {
		close(out[0]);
		close(errp[0]);
		if (dup2(out[1], STDOUT_FILENO) == -1 ||
		    dup2(errp[1], STDERR_FILENO) == -1)
			_exit(EX_OSERR);
		close(out[1]);
		close(errp[1]);
		/* Nothing to read for a background account. */
		(void)close(STDIN_FILENO);
		(void)open("/dev/null", O_RDONLY);
		int r = run_one(cfg, acct, c, argc, argv);
		fflush(NULL);
		_exit(r);
	}
	close(out[1]);
	close(errp[1]);
	j->fd[0] = out[0];
	j->fd[1] = errp[0];
	j->name = acct->name;
	return 0;
}

/*
 * --all-accounts: each account in its own process, up to c->jobs at
 * once.  The exit status is that of the first account (in file order)
 * that failed, and a summary names every failure.
 */
static int
run_all(const struct config *cfg, const struct cli *c, int argc,
    char **argv)
{
	struct job *jobs;
	struct pollfd *pfd;
	struct error e;
	size_t n, next = 0, running = 0, i, k, np, nfail = 0;
	int max = c->jobs > 0 ? c->jobs : 1, json = 0, st, code = 0;

	if (cfg == NULL || cfg->naccounts == 0) {
		error_set(&e, ERR_CONFIG, "%s: no accounts configured",
		    cfg != NULL ? cfg->path : "the configuration");
		return fail(&e);
	}
	for (i = 0; i < c->n; i++)
		if (c->v[i].ch == OPT_JSON)
			json = 1;
	n = cfg->naccounts;
	jobs = xcalloc(n, sizeof(*jobs));
	pfd = xcalloc(2 * n, sizeof(*pfd));
	while (next < n || running > 0) {
		while (next < n && running < (size_t)max) {
			if (start_job(&jobs[next], cfg, &cfg->accounts[next],
			    c, argc, argv) == -1) {
				jobs[next].name = cfg->accounts[next].name;
				jobs[next].fd[0] = jobs[next].fd[1] = -1;
				jobs[next].pid = -1;
				jobs[next].status = EX_OSERR;
				fprintf(stderr, "%s: %s: cannot start: %s\n",
				    progname, jobs[next].name, strerror(errno));
			} else
				running++;
			next++;
		}
		for (i = 0, np = 0; i < next; i++)
			for (k = 0; k < 2; k++)
				if (jobs[i].pid > 0 && jobs[i].fd[k] != -1) {
					pfd[np].fd = jobs[i].fd[k];
					pfd[np].events = POLLIN;
					np++;
				}
		if (np > 0 && poll(pfd, np, -1) == -1 && errno != EINTR)
			break;
		for (i = 0; i < next; i++) {
			if (jobs[i].pid <= 0)
				continue;
			for (k = 0; k < 2; k++) {
				size_t m;

				if (jobs[i].fd[k] == -1)
					continue;
				for (m = 0; m < np; m++)
					if (pfd[m].fd == jobs[i].fd[k])
						break;
				if (m == np || pfd[m].revents == 0)
					continue;
				if (!drain(&jobs[i], (int)k, json)) {
					close(jobs[i].fd[k]);
					jobs[i].fd[k] = -1;
				}
			}
			if (jobs[i].fd[0] == -1 && jobs[i].fd[1] == -1) {
				while (waitpid(jobs[i].pid, &st, 0) == -1 &&
				    errno == EINTR)
					;
				jobs[i].status = WIFEXITED(st) ?
				    WEXITSTATUS(st) : EX_SOFTWARE;
				if (WIFSIGNALED(st))
					fprintf(stderr, "%s: %s: killed by "
					    "signal %d\n", progname,
					    jobs[i].name, WTERMSIG(st));
				jobs[i].pid = 0;
				running--;
			}
		}
	}
	for (i = 0; i < n; i++)
		if (jobs[i].status != 0) {
			if (nfail++ == 0) {
				code = jobs[i].status;
				fprintf(stderr, "%s: accounts that failed:",
				    progname);
			}
			fprintf(stderr, " %s (%d)", jobs[i].name,
			    jobs[i].status);
		}
	if (nfail > 0)
		fprintf(stderr, "; %zu of %zu failed\n", nfail, n);
	free(jobs);
	free(pfd);
	return code;
}

int
main(int argc, char **argv)
{
	const struct config_block *acct = NULL;
	struct config *cfg = NULL;
	struct cli c;
	struct error e = { .cls = ERR_NONE };
	const char *path;
	char buf[4096];
	int r;

	memset(&c, 0, sizeof(c));
	(void)signal(SIGPIPE, SIG_IGN);
	if (parse_cli(&c, argc, argv, &e) == -1) {
		free(c.v);
		return fail(&e);
	}
	argc -= optind;
	argv += optind;
	path = c.config != NULL ? c.config :
	    config_default_path(buf, sizeof(buf));
	if (path != NULL &&
	    (cfg = config_load(path, c.config != NULL, &e)) == NULL)
		r = fail(&e);
	else if (argc > 0 && strcasecmp(argv[0], "accounts") == 0)
		r = argc > 1 ? fail(&(struct error){ .cls = ERR_USAGE, .msg =
		    "accounts takes no arguments" }) : list_accounts(cfg, &c);
	else if (argc > 0 && strcasecmp(argv[0], "config-check") == 0)
		r = argc > 1 ? fail(&(struct error){ .cls = ERR_USAGE, .msg =
		    "config-check takes no arguments" }) :
		    config_check(cfg, &c);
	else if (c.all)
		r = run_all(cfg, &c, argc, argv);
	else if (c.account != NULL &&
	    (cfg == NULL || (acct = config_account(cfg, c.account)) == NULL)) {
		error_set(&e, ERR_CONFIG, "no account \"%.64s\" in %s",
		    c.account, path != NULL ? path : "the configuration");
		r = fail(&e);
	} else {
		/* Without -a, an account called "default" serves a command
		 * line that names no server. */
		if (acct == NULL && cfg != NULL && !cli_names_server(&c))
			acct = config_account(cfg, "default");
		r = run_one(cfg, acct, &c, argc, argv);
	}
	free(c.v);
	config_free(cfg);
	return r;
}
