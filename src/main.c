/*
 * main.c - the command line: options into a struct, then dispatch.
 *
 * The only file that prints errors and chooses the exit status.
 */
#include <err.h>
#include <limits.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "commands.h"
#include "fetch.h"
#include "session.h"
#include "tls.h"
#include "util.h"

struct options {
	struct session_params	 sp;
	struct cmd_opts		 co;
	struct fetch_params	 fp;
	int			 have_target;
	int			 print_fingerprint;
	const char		*server_name;
	char			*url_host;	/* owned copies from a URL */
	char			*url_user;
	char			*url_port;
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
	case ERR_TEMP:		return EX_TEMPFAIL;
	case ERR_PROTO:		return EX_PROTOCOL;
	case ERR_AUTH:		return EX_NOPERM;
	case ERR_TLS:		return EX_NOPERM;
	case ERR_CONFIG:	return EX_CONFIG;
	case ERR_INSECURE:	return EX_CONFIG;
	case ERR_SOFTWARE:	return EX_SOFTWARE;
	}
	return EX_SOFTWARE;
}

static int
fail(const struct error *e)
{
	if (errhost != NULL)
		fprintf(stderr, "%s: %s: %s\n", progname, errhost, e->msg);
	else
		fprintf(stderr, "%s: %s\n", progname, e->msg);
	return exit_code(e->cls);
}

static void
trace(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "%s\n", line);
}

/* Decodes %XX escapes in place; -1 on a bad escape. */
static int
percent_decode(char *s)
{
	char *o = s, hex[3] = { 0, 0, 0 };

	for (; *s != '\0'; s++) {
		if (*s != '%') {
			*o++ = *s;
			continue;
		}
		if (s[1] == '\0' || s[2] == '\0')
			return -1;
		hex[0] = s[1];
		hex[1] = s[2];
		if (strspn(hex, "0123456789abcdefABCDEF") != 2)
			return -1;
		*o++ = (char)strtol(hex, NULL, 16);
		s += 2;
	}
	*o = '\0';
	return 0;
}

/* pop3s://[user@]host[:port][/] and pop3://...; host may be [v6]. */
static int
parse_url(struct options *o, const char *url, struct error *err)
{
	char *copy, *p, *at, *host, *port = NULL, *end;

	if (strncasecmp(url, "pop3s://", 8) == 0) {
		if (o->sp.tls == TLSMODE_DEFAULT)
			o->sp.tls = TLSMODE_IMPLICIT;
		p = copy = xstrdup(url + 8);
	} else if (strncasecmp(url, "pop3://", 7) == 0) {
		if (o->sp.tls == TLSMODE_DEFAULT)
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
		if (percent_decode(p) == -1 || *p == '\0') {
			free(copy);
			return error_set(err, ERR_USAGE, "%s: bad user name",
			    url);
		}
		o->url_user = xstrdup(p);
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
	o->url_host = xstrdup(host);
	if (port != NULL)
		o->url_port = xstrdup(port);
	free(copy);
	return 0;
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

enum {
	OPT_HOST = 256, OPT_URL, OPT_TLS, OPT_CAFILE, OPT_TIMEOUT, OPT_AUTH,
	OPT_PLAINTEXT, OPT_UTF8, OPT_PWCMD, OPT_PWFILE, OPT_NETRC, OPT_JSON,
	OPT_MAILDIR, OPT_MBOX, OPT_MDA, OPT_NEW, OPT_ALL, OPT_KEEP, OPT_DELETE,
	OPT_KEEPDAYS, OPT_MAXSIZE, OPT_LIMIT, OPT_DRYRUN, OPT_STATE,
	OPT_RECEIVED, OPT_UIDLHDR, OPT_FINGERPRINT, OPT_PRINTFP, OPT_CLIENTCERT,
	OPT_CLIENTKEY, OPT_PRIORITY, OPT_SERVERNAME, OPT_INSECURE, OPT_NOIR
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
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "help",		no_argument,		NULL, 'h' },
	{ "version",		no_argument,		NULL, 'V' },
	{ NULL,			0,			NULL, 0 }
};

static int
parse_options(struct options *o, int argc, char **argv, struct error *err)
{
	const char *errstr, *url = NULL;
	int ch;

	o->sp.timeout = 60;
	o->sp.trace = trace;
	while ((ch = getopt_long(argc, argv, "p:u:d:qhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case OPT_HOST:
			o->sp.host = optarg;
			break;
		case 'p':
			if (check_port(optarg, err) == -1)
				return -1;
			o->sp.port = optarg;
			break;
		case 'u':
			o->sp.auth.user = optarg;
			break;
		case OPT_URL:
			url = optarg;
			break;
		case OPT_TLS:
			if (strcmp(optarg, "implicit") == 0)
				o->sp.tls = TLSMODE_IMPLICIT;
			else if (strcmp(optarg, "starttls") == 0)
				o->sp.tls = TLSMODE_STARTTLS;
			else if (strcmp(optarg, "none") == 0)
				o->sp.tls = TLSMODE_NONE;
			else
				return error_set(err, ERR_USAGE, "--tls takes "
				    "implicit, starttls or none");
			break;
		case OPT_CAFILE:
			o->sp.tlsp.ca_file = optarg;
			break;
		case OPT_TIMEOUT:
			o->sp.timeout = (int)strtonum(optarg, 1, 86400,
			    &errstr);
			if (errstr != NULL)
				return error_set(err, ERR_USAGE, "timeout "
				    "\"%s\" is %s (1 to 86400 seconds)",
				    optarg, errstr);
			break;
		case OPT_AUTH:
			if (auth_parse_method(optarg, &o->sp.auth) == -1)
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
			o->sp.auth.cred.password_command = optarg;
			break;
		case OPT_PWFILE:
			o->sp.auth.cred.password_file = optarg;
			break;
		case OPT_NETRC:
			o->sp.auth.cred.netrc_file = optarg;
			break;
		case 'd':
			o->sp.debug = (int)strtonum(optarg, 0, 2, &errstr);
			if (errstr != NULL)
				return error_set(err, ERR_USAGE, "debug level "
				    "\"%s\" is %s (0, 1 or 2)", optarg,
				    errstr);
			break;
		case OPT_JSON:
			o->co.json = 1;
			break;
		case OPT_MAILDIR:
		case OPT_MBOX:
		case OPT_MDA:
			if (o->have_target)
				return error_set(err, ERR_USAGE, "give only one "
				    "of --maildir, --mbox and --mda");
			o->have_target = 1;
			o->fp.dp.kind = ch == OPT_MAILDIR ? DELIVER_MAILDIR :
			    ch == OPT_MBOX ? DELIVER_MBOX : DELIVER_MDA;
			if (*optarg == '\0')
				return error_set(err, ERR_USAGE,
				    "an empty delivery target");
			o->fp.dp.target = optarg;
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
			o->fp.keep_days = (unsigned long)strtonum(optarg, 1,
			    36500, &errstr);
			if (errstr != NULL)
				return error_set(err, ERR_USAGE, "--keep-days "
				    "\"%s\" is %s (1 to 36500)", optarg, errstr);
			break;
		case OPT_MAXSIZE:
			o->fp.max_size = (unsigned long long)strtonum(optarg,
			    1, LLONG_MAX, &errstr);
			if (errstr != NULL)
				return error_set(err, ERR_USAGE, "--max-size "
				    "\"%s\" is %s", optarg, errstr);
			break;
		case OPT_LIMIT:
			o->fp.limit = (unsigned long)strtonum(optarg, 1,
			    POP3_MSG_MAX, &errstr);
			if (errstr != NULL)
				return error_set(err, ERR_USAGE, "--limit "
				    "\"%s\" is %s", optarg, errstr);
			break;
		case OPT_DRYRUN:
			o->fp.dry_run = 1;
			break;
		case OPT_STATE:
			o->fp.state_path = optarg;
			break;
		case OPT_FINGERPRINT: {
			unsigned char pin[32];

			if (tls_parse_fingerprint(optarg, pin) == -1)
				return error_set(err, ERR_USAGE, "--fingerprint "
				    "takes sha256: and 64 hex digits");
			o->sp.tlsp.fingerprint = optarg;
			break;
		}
		case OPT_PRINTFP:
			o->print_fingerprint = 1;
			break;
		case OPT_CLIENTCERT:
			o->sp.tlsp.client_cert = optarg;
			break;
		case OPT_CLIENTKEY:
			o->sp.tlsp.client_key = optarg;
			break;
		case OPT_PRIORITY:
			o->sp.tlsp.priority = optarg;
			break;
		case OPT_SERVERNAME:
			o->server_name = optarg;
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
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("popfetch %s (GnuTLS %s)\n", POPFETCH_VERSION,
			    tls_library_version());
			exit(0);
		default:
			return error_set(err, ERR_USAGE,
			    "try popfetch --help");
		}
	}
	if (url == NULL && optind < argc && strstr(argv[optind], "://"))
		url = argv[optind++];
	if (url != NULL) {
		if (parse_url(o, url, err) == -1)
			return -1;
		if (o->sp.host == NULL)
			o->sp.host = o->url_host;
		if (o->sp.auth.user == NULL)
			o->sp.auth.user = o->url_user;
		if (o->sp.port == NULL && o->url_port != NULL) {
			if (check_port(o->url_port, err) == -1)
				return -1;
			o->sp.port = o->url_port;
		}
	}
	if (o->sp.host == NULL || *o->sp.host == '\0')
		return error_set(err, ERR_USAGE, "no host given (use --host "
		    "or a pop3s:// URL)");
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
	if (command_flush(r == 0 ? err : &(struct error){ ERR_NONE, "" }) ==
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
		if (err->cls == ERR_TEMP || err->cls == ERR_PROTO) {
			session_abort(s);
			return -1;
		}
		if (pop3_state(session_pop3(s)) == POP3_TRANSACTION)
			(void)pop3_rset(session_pop3(s), &qerr);
		(void)session_quit(s, &qerr);
		return -1;
	}
	return session_quit(s, err);
}

int
main(int argc, char **argv)
{
	struct options o;
	struct error e = { ERR_NONE, "" };
	int r;

	memset(&o, 0, sizeof(o));
	(void)signal(SIGPIPE, SIG_IGN);
	if (parse_options(&o, argc, argv, &e) == -1)
		return fail(&e);
	r = run(&o, argc - optind, argv + optind, &e);
	if (r == -1)
		r = fail(&e);
	free(o.url_host);
	free(o.url_user);
	free(o.url_port);
	return r;
}
