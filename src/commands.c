/*
 * commands.c - the command table (fetch, welcome, capa, certificate,
 * stat, list, uidl, top, retr, dele, rset, noop, batch, and the two
 * commands of the accounts file), and running one over a session.
 *
 * Plain output is one record a line with fields separated by one space,
 * for awk and cut; --json prints one JSON document per command, through
 * report.h.  Text that came from the server is escaped before it
 * reaches a terminal, except message contents (retr, top), which are
 * the user's data.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "commands.h"
#include "info.h"
#include "net.h"
#include "oauth2.h"
#include "provider.h"
#include "session.h"
#include "state.h"
#include "report.h"

static int
out_sink(void *arg, const char *data, size_t len, struct error *err)
{
	(void)arg;
	if (fwrite(data, 1, len, stdout) != len)
		return error_set(err, ERR_IO, "stdout: %s", strerror(errno));
	return 0;
}

static void
print_vis(const char *s)
{
	char buf[4 * POP3_LINE_MAX + 8];

	puts(vis_text(buf, sizeof(buf), s, strlen(s)));
}

/* Message numbers and counts from the user, checked before sending. */
static int
number_arg(const char *s, long long min, const char *what,
    unsigned long *out, struct error *err)
{
	const char *errstr;
	long long v;

	v = strtonum(s, min, POP3_MSG_MAX, &errstr);
	if (errstr != NULL)
		return error_set(err, ERR_USAGE, "%s \"%s\" is %s", what, s,
		    errstr);
	*out = (unsigned long)v;
	return 0;
}

static int
run_welcome(struct pop3 *p, char **argv, int argc, const struct cmd_opts *o,
    struct error *err)
{
	const char *w = pop3_welcome(p);
	json_t *j;

	(void)argv, (void)argc;
	if (o->json) {
		j = json_object();
		report_json_text(j, "greeting", w, strlen(w));
		return report_json_print(stdout, j, err);
	}
	printf("+OK%s%s\n", w[0] ? " " : "", w);
	return 0;
}

/* --json for a command that prints nothing else: what was done. */
static int
done_json(const struct cmd_opts *o, const char *cmd, json_t *msgs,
    struct error *err)
{
	json_t *j;

	if (!o->json) {
		json_decref(msgs);
		return 0;
	}
	j = json_pack("{s:s,s:b}", "command", cmd, "ok", 1);
	if (msgs != NULL)
		json_object_set_new(j, "msgs", msgs);
	return report_json_print(stdout, j, err);
}

/* A capability line as {"name":..., "args":[...]}; when an argument is
 * not UTF-8, "args_hex" holds every argument in hex. */
static json_t *
capa_json(const char *s)
{
	json_t *line, *args, *hex;
	size_t wl;
	int valid, allvalid = 1;

	wl = strcspn(s, " ");
	line = json_object();
	report_json_text(line, "name", s, wl);
	args = json_array();
	hex = json_array();
	for (s += wl; *(s += strspn(s, " ")) != '\0'; s += wl) {
		wl = strcspn(s, " ");
		json_array_append_new(args, report_json_string(s, wl, &valid));
		json_array_append_new(hex, report_json_hex(s, wl));
		allvalid &= valid;
	}
	json_object_set_new(line, "args", args);
	if (!allvalid)
		json_object_set_new(line, "args_hex", hex);
	else
		json_decref(hex);
	return line;
}

static int
run_capa(struct pop3 *p, char **argv, int argc, const struct cmd_opts *o,
    struct error *err)
{
	const struct pop3_capa *c;
	json_t *a;
	size_t i;

	(void)argv, (void)argc;
	if (pop3_state(p) == POP3_TRANSACTION && pop3_capa(p, err) == -1)
		return -1;
	c = pop3_capabilities(p);
	if (!c->known)
		return error_set(err, ERR_REFUSED,
		    "the server does not support CAPA");
	if (!o->json) {
		for (i = 0; i < c->nlines; i++)
			print_vis(c->lines[i]);
		return 0;
	}
	a = json_array();
	for (i = 0; i < c->nlines; i++)
		json_array_append_new(a, capa_json(c->lines[i]));
	return report_json_print(stdout, a, err);
}

static int
run_stat(struct pop3 *p, char **argv, int argc, const struct cmd_opts *o,
    struct error *err)
{
	unsigned long count;
	unsigned long long octets;

	(void)argv, (void)argc;
	if (pop3_stat(p, &count, &octets, err) == -1)
		return -1;
	if (o->json)
		return report_json_print(stdout, json_pack("{s:I,s:I}",
		    "count", (json_int_t)count, "octets", (json_int_t)octets),
		    err);
	printf("%lu %llu\n", count, octets);
	return 0;
}

static int
run_listing(struct pop3 *p, char **argv, int argc, const struct cmd_opts *o,
    int uidl, struct error *err)
{
	struct pop3_msg *m;
	unsigned long num = 0;
	size_t n, i;
	char buf[4 * POP3_LINE_MAX + 8];
	json_t *a = NULL, *rec;
	int r = 0;

	if (argc > 0 && number_arg(argv[0], 1, "message number", &num,
	    err) == -1)
		return -1;
	if ((uidl ? pop3_uidl(p, num, &m, &n, err) :
	    pop3_list(p, num, &m, &n, err)) == -1)
		return -1;
	if (o->json)
		a = json_array();
	for (i = 0; i < n; i++) {
		if (o->json) {
			rec = json_pack("{s:I}", "msg", (json_int_t)m[i].num);
			if (uidl)
				report_json_text(rec, "uid", m[i].uid,
				    strlen(m[i].uid));
			else
				json_object_set_new(rec, "octets",
				    json_integer((json_int_t)m[i].size));
			json_array_append_new(a, rec);
		} else if (uidl)
			printf("%lu %s\n", m[i].num, vis_text(buf, sizeof(buf),
			    m[i].uid, strlen(m[i].uid)));
		else
			printf("%lu %llu\n", m[i].num, m[i].size);
	}
	if (o->json)
		r = report_json_print(stdout, a, err);
	pop3_msgs_free(m, n, uidl);
	return r;
}

static int
run_list(struct pop3 *p, char **argv, int argc, const struct cmd_opts *o,
    struct error *err)
{
	return run_listing(p, argv, argc, o, 0, err);
}

static int
run_uidl(struct pop3 *p, char **argv, int argc, const struct cmd_opts *o,
    struct error *err)
{
	return run_listing(p, argv, argc, o, 1, err);
}

static int
run_retr(struct pop3 *p, char **argv, int argc, const struct cmd_opts *o,
    struct error *err)
{
	unsigned long num = 0;

	(void)argc, (void)o;
	if (number_arg(argv[0], 1, "message number", &num, err) == -1)
		return -1;
	return pop3_retr(p, num, out_sink, NULL, err);
}

static int
run_top(struct pop3 *p, char **argv, int argc, const struct cmd_opts *o,
    struct error *err)
{
	unsigned long num = 0, lines = 0;

	(void)argc, (void)o;
	if (number_arg(argv[0], 1, "message number", &num, err) == -1 ||
	    number_arg(argv[1], 0, "line count", &lines, err) == -1)
		return -1;
	return pop3_top(p, num, lines, out_sink, NULL, err);
}

static int
run_dele(struct pop3 *p, char **argv, int argc, const struct cmd_opts *o,
    struct error *err)
{
	unsigned long num = 0;
	int i;

	json_t *msgs = json_array();

	for (i = 0; i < argc; i++) {
		if (number_arg(argv[i], 1, "message number", &num, err) == -1 ||
		    pop3_dele(p, num, err) == -1) {
			json_decref(msgs);
			return -1;
		}
		json_array_append_new(msgs, json_integer((json_int_t)num));
	}
	return done_json(o, "dele", msgs, err);
}

static int
run_rset(struct pop3 *p, char **argv, int argc, const struct cmd_opts *o,
    struct error *err)
{
	(void)argv, (void)argc;
	if (pop3_rset(p, err) == -1)
		return -1;
	return done_json(o, "rset", NULL, err);
}

static int
run_noop(struct pop3 *p, char **argv, int argc, const struct cmd_opts *o,
    struct error *err)
{
	(void)argv, (void)argc;
	if (pop3_noop(p, err) == -1)
		return -1;
	return done_json(o, "noop", NULL, err);
}

static int
run_certificate(struct pop3 *p, char **argv, int argc,
    const struct cmd_opts *o, struct error *err)
{
	char subject[4 * sizeof(((struct tls_certinfo *)0)->subject) + 8];
	char issuer[sizeof(subject)];
	struct tls_certinfo ci;
	json_t *j;

	(void)argv, (void)argc;
	if (net_certinfo(pop3_net(p), &ci, err) == -1)
		return -1;
	if (o->json) {
		j = json_object();
		report_json_text(j, "subject", ci.subject, strlen(ci.subject));
		report_json_text(j, "issuer", ci.issuer, strlen(ci.issuer));
		json_object_set_new(j, "not_before",
		    json_string(ci.not_before));
		json_object_set_new(j, "not_after", json_string(ci.not_after));
		json_object_set_new(j, "fingerprint", json_string(ci.sha256));
		json_object_set_new(j, "verified", json_boolean(ci.verified));
		return report_json_print(stdout, j, err);
	}
	/* The names are the server's to choose: escaped like all its text,
	 * so that they cannot fake the lines below them. */
	printf("subject: %s\nissuer: %s\nvalid from: %s\nvalid until: %s\n"
	    "fingerprint: %s\n", vis_text(subject, sizeof(subject),
	    ci.subject, strlen(ci.subject)), vis_text(issuer, sizeof(issuer),
	    ci.issuer, strlen(ci.issuer)), ci.not_before, ci.not_after,
	    ci.sha256);
	if (ci.verified)
		printf("verified: yes\n");
	else
		printf("verified: no (%s)\n", ci.why);
	return 0;
}

static const struct command commands[] = {
	{ "fetch", CMD_FETCH, 0, 0, 1, "fetch", NULL, 1 },
	{ "welcome", CMD_POP3, 0, 0, 0, "welcome", run_welcome, 1 },
	{ "capa", CMD_POP3, 0, 0, 0, "capa", run_capa, 1 },
	{ "certificate", CMD_POP3, 0, 0, 0, "certificate", run_certificate,
	    1 },
	{ "info", CMD_INFO, 0, 0, 1, "info", NULL, 1 },
	{ "stat", CMD_POP3, 0, 0, 1, "stat", run_stat, 1 },
	{ "list", CMD_POP3, 0, 1, 1, "list [N]", run_list, 1 },
	{ "uidl", CMD_POP3, 0, 1, 1, "uidl [N]", run_uidl, 1 },
	{ "top", CMD_POP3, 2, 2, 1, "top N LINES", run_top, 0 },
	{ "retr", CMD_POP3, 1, 1, 1, "retr N", run_retr, 0 },
	{ "dele", CMD_POP3, 1, 1000, 1, "dele N...", run_dele, 1 },
	{ "rset", CMD_POP3, 0, 0, 1, "rset", run_rset, 1 },
	{ "noop", CMD_POP3, 0, 0, 1, "noop", run_noop, 1 },
	{ "batch", CMD_BATCH, 0, 0, 1, "batch", NULL, 1 },
	{ "state", CMD_STATE, 1, 2, 0,
	    "state show|check|mark-seen|adopt|import --from PROGRAM FILE", NULL, 1 },
	{ "verify", CMD_VERIFY, 0, 0, 0, "verify", NULL, 1 },
	{ "accounts", CMD_ACCOUNTS, 0, 0, 0, "accounts", NULL, 1 },
	{ "config-check", CMD_CONFIG_CHECK, 0, 0, 0, "config-check", NULL,
	    1 },
	{ "oauth2", CMD_OAUTH2, 1, 1, 0, "oauth2 login|status|logout", NULL,
	    1 },
	{ "providers", CMD_PROVIDERS, 0, 0, 0, "providers", NULL, 1 },
};

const struct command *
command_list(size_t *n)
{
	*n = sizeof(commands) / sizeof(commands[0]);
	return commands;
}

const struct command *
command_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcasecmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int
command_check(const struct command *c, char **argv, int argc,
    struct error *err)
{
	unsigned long v;
	int i;

	if (c->kind == CMD_STATE)
		return state_cmd_check(argv, argc, err);
	if (argc < c->minargs || argc > c->maxargs)
		return error_set(err, ERR_USAGE, c->kind == CMD_POP3 ||
		    c->kind == CMD_BATCH || c->kind == CMD_OAUTH2 ?
		    "usage: %s" : "%s takes no arguments", c->usage);
	if (c->kind == CMD_OAUTH2) {
		if (strcmp(argv[0], "login") != 0 &&
		    strcmp(argv[0], "status") != 0 &&
		    strcmp(argv[0], "logout") != 0)
			return error_set(err, ERR_USAGE, "usage: %s",
			    c->usage);
		return 0;
	}
	for (i = 0; i < argc; i++)
		if (number_arg(argv[i], c->run == run_top && i == 1 ? 0 : 1,
		    c->run == run_top && i == 1 ? "line count" :
		    "message number", &v, err) == -1)
			return -1;
	return 0;
}

/*
 * The state is kept per user, host name as written, and port; a run with
 * no state yet, while one exists for the same user and port under another
 * name (localhost and 127.0.0.1), would fetch everything again without a
 * word.  Says so, naming the other file and how to share it.
 */
static void
other_state(const struct cli_settings *s)
{
	char path[PATH_MAX], *base, *at, *colon, other[PATH_MAX];
	struct stat sb;
	struct dirent *de;
	struct error e;
	size_t ulen, plen, n;
	DIR *d;

	if (s->fp.state_path != NULL || state_default_path(path, sizeof(path),
	    s->sp.auth.user, s->sp.host, session_port(&s->sp), &e) == -1 ||
	    stat(path, &sb) == 0 || errno != ENOENT ||
	    (base = strrchr(path, '/')) == NULL)
		return;
	*base++ = '\0';
	if ((at = strchr(base, '@')) == NULL ||
	    (colon = strrchr(base, ':')) == NULL || colon < at)
		return;
	ulen = (size_t)(at - base) + 1;
	plen = strlen(colon);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n <= ulen + plen || strncmp(de->d_name, base, ulen) != 0 ||
		    strcmp(de->d_name + n - plen, colon) != 0)
			continue;
		if (snprintf(other, sizeof(other), "%s/%s", path, de->d_name) >=
		    (int)sizeof(other))
			continue;
		/* A state names its account (user@host:port) and is
		 * refused for another: the way to it is its host name. */
		report_say(1, "%s: warning: no state yet for this host name, "
		    "but %s is the state of the same user and port under "
		    "another name: the state is kept per host name as written, "
		    "so this run fetches every message as new (write the host "
		    "as %.*s to go on with that state)", s->sp.host, other,
		    (int)(n - ulen - plen), de->d_name + ulen);
		break;
	}
	(void)closedir(d);
}

static int
run_fetch(struct cli_settings *s, struct error *err)
{
	struct fetch_result res;
	struct report rep;
	struct stat sb;
	char targets[256];
	int r;

	if (s->target_layer == 0)
		return error_set(err, ERR_USAGE, "fetch needs a place to "
		    "deliver to: %s", cli_targets(targets, sizeof(targets)));
	s->fp.dp.lock_timeout = s->sp.timeout < 30 ? s->sp.timeout : 30;
	s->fp.dp.timeout = s->sp.timeout;
	s->fp.filter_timeout = s->sp.timeout;
	if (s->fp.dp.kind == DELIVER_LMTP)
		s->fp.dp.recipient = s->lmtp_recipient != NULL ?
		    s->lmtp_recipient : s->sp.auth.user;
	if (s->fp.dp.kind == DELIVER_SMTP)
		s->fp.dp.recipient = s->smtp_recipient != NULL ?
		    s->smtp_recipient : s->sp.auth.user;
	s->fp.host = s->sp.host;
	s->errhost = s->sp.host;
	if (!s->co.quiet)
		other_state(s);
	memset(&res, 0, sizeof(res));
	report_fetch_begin(&rep, s->co.json, s->co.quiet, s->sp.host,
	    s->fp.dp.target, s->fp.dry_run);
	rep.all = s->fp.all;
	rep.max_size = s->fp.max_size;
	/* Only for the summary: whether this run made the target. */
	rep.target_new = s->fp.dp.kind != DELIVER_MDA &&
	    stat(s->fp.dp.target, &sb) == -1 && errno == ENOENT;
	r = fetch_run(&s->sp, &s->fp, report_fetch_event, &rep, &res, err);
	report_fetch_end(&rep, &res, r == 0);
	/* A failed fetch reports its own error, not a failed flush. */
	if (command_flush(r == 0 ? err : &(struct error){ .cls = ERR_NONE }) ==
	    -1 && r == 0)
		return -1;
	return r;
}

/* The token store, lent to auth.c for XOAUTH2 and OAUTHBEARER. */
struct token_source {
	const struct oauth2_params	*p;
	char				*last;	/* the token handed out */
};

static char *
token_get(void *arg, int refresh, struct error *err)
{
	struct token_source *t = arg;
	char *tok;

	tok = oauth2_token(t->p, refresh ? t->last : NULL, err);
	secret_free(t->last);
	t->last = tok != NULL ? xstrdup(tok) : NULL;
	return tok;
}

/* A step of oauth2 login: what to open, and the code to enter. */
static void
login_step(void *arg, json_t *st)
{
	const struct cmd_opts *o = arg;
	const char *uri, *code, *full, *url;
	char b1[2048], b2[256], b3[2048];

	if (o->json) {
		(void)report_json_print(stdout, json_incref(st),
		    &(struct error){ .cls = ERR_NONE });
		(void)fflush(stdout);
		return;
	}
	uri = json_string_value(json_object_get(st, "verification_uri"));
	code = json_string_value(json_object_get(st, "user_code"));
	full = json_string_value(json_object_get(st,
	    "verification_uri_complete"));
	url = json_string_value(json_object_get(st, "authorization_url"));
	if (uri != NULL && code != NULL) {
		printf("To log in, open %s and enter the code %s (within %lld "
		    "seconds).\n", vis_text(b1, sizeof(b1), uri, strlen(uri)),
		    vis_text(b2, sizeof(b2), code, strlen(code)),
		    (long long)json_integer_value(json_object_get(st,
		    "expires_in")));
		if (full != NULL)
			printf("Or open %s\n", vis_text(b3, sizeof(b3), full,
			    strlen(full)));
	} else if (url != NULL)
		printf("To log in, open this address in a browser on this "
		    "machine:\n%s\n", vis_text(b1, sizeof(b1), url,
		    strlen(url)));
	(void)fflush(stdout);
}

static int
run_oauth2(struct cli_settings *s, const char *what, struct error *err)
{
	const struct oauth2_params *p = &s->oauth;
	json_t *st;
	int revoked;

	if (strcmp(what, "login") == 0) {
		if (oauth2_login(p, login_step, &s->co, err) == -1)
			return -1;
		if (s->co.json)
			return report_json_print(stdout, json_pack("{s:b,s:s}",
			    "logged_in", 1, "token_file", p->store), err);
		if (!s->co.quiet)
			printf("Logged in; the tokens are in %s\n", p->store);
		return 0;
	}
	if (strcmp(what, "logout") == 0) {
		if (oauth2_logout(p, &revoked, err) == -1)
			return -1;
		if (s->co.json)
			return report_json_print(stdout, json_pack("{s:b,s:b}",
			    "revoked", revoked, "deleted", 1), err);
		if (!s->co.quiet)
			printf("%s; deleted %s\n", revoked ? "Revoked the "
			    "tokens" : "The provider has no revocation "
			    "endpoint or refused", p->store);
		return 0;
	}
	if ((st = oauth2_status(p, err)) == NULL)
		return -1;
	if (s->co.json)
		return report_json_print(stdout, st, err);
	{
		const char *k[] = { "token_file", "issuer", "client_id",
		    "scope" };
		json_t *v;
		char buf[1024];
		size_t i;

		for (i = 0; i < 4; i++) {
			v = json_object_get(st, k[i]);
			printf("%s: %s\n", k[i], json_is_string(v) ?
			    vis_text(buf, sizeof(buf), json_string_value(v),
			    strlen(json_string_value(v))) : "-");
		}
		v = json_object_get(st, "expires_in");
		if (json_is_integer(v))
			printf("access_token: %s %lld seconds\n",
			    json_integer_value(v) >= 0 ? "expires in" :
			    "expired", (long long)(json_integer_value(v) >= 0 ?
			    json_integer_value(v) : -json_integer_value(v)));
		printf("refresh_token: %s\n", json_is_true(json_object_get(st,
		    "refresh_token")) ? "yes" : "no");
	}
	json_decref(st);
	return 0;
}

int
command_providers(int json, struct error *err)
{
	json_t *a = provider_list(), *o;
	size_t i;

	if (json)
		return report_json_print(stdout, a, err);
	json_array_foreach(a, i, o)
		printf("%s\t%s%s%s\t%s\n", json_string_value(json_object_get(o,
		    "name")), json_is_string(json_object_get(o, "host")) ?
		    json_string_value(json_object_get(o, "host")) : "-",
		    json_is_string(json_object_get(o, "port")) ? ":" : "",
		    json_is_string(json_object_get(o, "port")) ?
		    json_string_value(json_object_get(o, "port")) : "",
		    json_string_value(json_object_get(o, "note")));
	json_decref(a);
	return command_flush(err);
}

static int
run_session(struct cli_settings *s, const struct command *c, char **argv,
    int argc, struct error *err)
{
	struct session *sess;
	struct error qerr;
	int r;

	s->errhost = s->sp.host;
	if ((sess = session_open(&s->sp, c->login, err)) == NULL)
		return -1;
	if (c->kind == CMD_BATCH)
		r = command_batch(session_pop3(sess), stdin, &s->co, err);
	else
		r = c->run(session_pop3(sess), argv, argc, &s->co, err);
	if (r == 0)
		r = command_flush(err);
	if (r == 0)
		return session_end(sess, 1, err);
	/* Commit nothing a failed command or batch deleted. */
	(void)session_end(sess, 0, &qerr);
	return -1;
}

int
command_run(struct cli_settings *s, int argc, char **argv,
    struct error *err)
{
	static char *cert[] = { "certificate", NULL };
	static struct token_source ts;
	const struct command *c;
	char why[128];
	int r;

	if (s->print_fingerprint && argc == 0) {
		argv = cert;
		argc = 1;
	}
	c = argc == 0 ? &commands[0] : command_find(argv[0]);
	if (c != NULL && c->run == run_certificate) {
		if (s->sp.tls == TLSMODE_NONE)
			return error_set(err, ERR_USAGE, "certificate needs "
			    "TLS, not --%s %s", cli_name(O_TLS),
			    cli_value(O_TLS, TLSMODE_NONE));
		/* Look without trusting: nothing secret is sent. */
		s->sp.tlsp.inspect = 1;
		s->sp.tlsp.fingerprint = NULL;
	}
	if (s->sp.tlsp.insecure)
		fprintf(stderr, "popfetch: warning: --%s: the server's "
		    "certificate is not verified; anyone on the path can read "
		    "the password and the mail\n", cli_name(O_INSECURE));
	if (s->sp.tlsp.priority != NULL && s->sp.tls != TLSMODE_NONE &&
	    tls_priority_weaker(s->sp.tlsp.priority, why, sizeof(why)))
		fprintf(stderr, "popfetch: warning: --%s is weaker than the "
		    "default: it %s\n", cli_name(O_TLS_PRIORITY), why);
	if (c == NULL || c->kind == CMD_ACCOUNTS ||
	    c->kind == CMD_CONFIG_CHECK || c->kind == CMD_PROVIDERS)
		return error_set(err, ERR_USAGE, "unknown command \"%.40s\"; "
		    "try popfetch --help", argv[0]);
	if (argc > 0 && command_check(c, argv + 1, argc - 1, err) == -1)
		return -1;
	if (s->co.json && c->json == 0)
		return error_set(err, ERR_USAGE, "%s writes the message "
		    "itself; --%s does not apply to it", c->name,
		    cli_name(O_JSON));
	if (c->kind == CMD_OAUTH2) {
		if ((r = run_oauth2(s, argv[1], err)) == 0)
			r = command_flush(err);
		return r;
	}
	ts.p = &s->oauth;
	ts.last = NULL;
	s->sp.auth.token.get = token_get;
	s->sp.auth.token.arg = &ts;
	s->sp.auth.token.stored = oauth2_has_tokens(&s->oauth);
	info_trace(s, c->kind == CMD_FETCH);
	if (c->kind == CMD_FETCH)
		r = run_fetch(s, err);
	else if (c->kind == CMD_INFO)
		r = info_run(s, err);
	else if (c->kind == CMD_VERIFY)
		r = verify_cmd_run(s, err);
	else if (c->kind == CMD_STATE)
		r = argc < 2 ? error_set(err, ERR_USAGE, "usage: %s",
		    c->usage) : state_cmd_run(s, argv + 1, argc - 1, err);
	else
		r = run_session(s, c, argv + 1, argc > 0 ? argc - 1 : 0, err);
	secret_free(ts.last);
	ts.last = NULL;
	return r;
}

int
command_batch(struct pop3 *p, FILE *in, const struct cmd_opts *o,
    struct error *err)
{
	const struct command *c;
	char line[1024], *argv[16], *s, *t;
	int argc, lineno = 0;

	while (fgets(line, sizeof(line), in) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(in)) {
			error_set(err, ERR_USAGE, "batch line %d: too long",
			    lineno);
			goto fail;
		}
		argc = 0;
		for (s = line; (t = strsep(&s, " \t\r\n")) != NULL;) {
			if (*t == '\0')
				continue;
			if (argc == (int)(sizeof(argv) / sizeof(argv[0]))) {
				error_set(err, ERR_USAGE,
				    "batch line %d: too many words", lineno);
				goto fail;
			}
			argv[argc++] = t;
		}
		if (argc == 0 || argv[0][0] == '#')
			continue;
		if ((c = command_find(argv[0])) == NULL ||
		    c->kind != CMD_POP3) {
			error_set(err, ERR_USAGE, "batch line %d: unknown "
			    "command \"%.40s\"", lineno, argv[0]);
			goto fail;
		}
		if (o->json && !c->json) {
			error_set(err, ERR_USAGE, "batch line %d: %s writes "
			    "the message itself; --%s does not apply to it",
			    lineno, c->name, cli_name(O_JSON));
			goto fail;
		}
		if (command_check(c, argv + 1, argc - 1, err) == -1 ||
		    c->run(p, argv + 1, argc - 1, o, err) == -1) {
			error_prefix(err, "batch line %d", lineno);
			goto fail;
		}
		if (command_flush(err) == -1)
			goto fail;
	}
	if (ferror(in))
		return error_set(err, ERR_IO, "stdin: %s", strerror(errno));
	return 0;
fail:
	return -1;
}

int
command_flush(struct error *err)
{
	if (fflush(stdout) == EOF || ferror(stdout))
		return error_set(err, ERR_IO, "stdout: %s", strerror(errno));
	return 0;
}
