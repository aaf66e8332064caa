/*
 * info.c - the info command: what popfetch knows about a server and an
 * account, for a user setting one up or an operator looking into one.
 *
 * It connects as a run would (verifying the certificate), describes the
 * connection, the certificate and the capabilities, logs in, describes
 * the capabilities again (a server may offer more once it knows the
 * user), and names the state file.  Nothing is changed on the server or
 * on disk: the state is opened read-only.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "cli.h"
#include "fetch.h"
#include "info.h"
#include "net.h"
#include "report.h"
#include "session.h"
#include "state.h"

/* Where the password comes from, by the order auth_password tries;
 * never the password. */
static const char *
password_source(const struct cred_params *c, char *buf, size_t len)
{
	if (c->password_command != NULL)
		(void)snprintf(buf, len, "--%s", cli_name(O_PASSWORD_COMMAND));
	else if (c->password_file != NULL)
		(void)snprintf(buf, len, "--%s %s", cli_name(O_PASSWORD_FILE),
		    c->password_file);
	else if (c->password != NULL)
		(void)snprintf(buf, len, "the accounts file");
	else if (auth_have_env_password())
		(void)snprintf(buf, len, "POPFETCH_PASSWORD");
	else
		(void)snprintf(buf, len, "%s, else a prompt",
		    c->netrc_file != NULL ? c->netrc_file : "~/.netrc");
	return buf;
}

/* The argument of capability name ("LOGIN-DELAY 900" -> "900"), "" for
 * one without, or NULL if not offered. */
static const char *
capa_arg(const struct pop3_capa *c, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < c->nlines; i++)
		if (strncasecmp(c->lines[i], name, n) == 0 &&
		    (c->lines[i][n] == ' ' || c->lines[i][n] == '\0'))
			return c->lines[i] + n + (c->lines[i][n] == ' ');
	return NULL;
}

/* The capability lines, escaped, joined by ", ". */
static char *
capa_text(const struct pop3_capa *c)
{
	char buf[4 * POP3_LINE_MAX + 8], *out;
	size_t i, len = 1;

	for (i = 0; i < c->nlines; i++)
		len += sizeof(buf) + 2;
	out = xmalloc(len);
	out[0] = '\0';
	for (i = 0; i < c->nlines; i++) {
		if (i > 0)
			(void)strlcat(out, ", ", len);
		(void)strlcat(out, vis_text(buf, sizeof(buf), c->lines[i],
		    strlen(c->lines[i])), len);
	}
	return out;
}

static json_t *
capa_json(const struct pop3_capa *c)
{
	json_t *a = json_array();
	size_t i;
	int valid;

	for (i = 0; i < c->nlines; i++)
		json_array_append_new(a, report_json_string(c->lines[i],
		    strlen(c->lines[i]), &valid));
	return a;
}

/* One "key: value" line, or a member of j. */
static void
put(json_t *j, const char *key, const char *label, const char *val)
{
	char buf[4 * 512 + 8];

	if (val == NULL)
		return;
	if (j != NULL)
		report_json_text(j, key, val, strlen(val));
	else
		printf("%s: %s\n", label, vis_text(buf, sizeof(buf), val,
		    strlen(val)));
}

/* put, for a value the server need not give: null in JSON. */
static void
put_opt(json_t *j, const char *key, const char *label, const char *val)
{
	if (val == NULL && j != NULL)
		json_object_set_new(j, key, json_null());
	else
		put(j, key, label, val != NULL ? val : "(not said)");
}

/* What the server offers before or after login (when is "before" or
 * "after"). */
static void
describe_capa(json_t *j, const struct pop3_capa *c, const char *when,
    const struct cli_settings *s, int tls, int cb)
{
	char key[64], label[64], *text;

	(void)snprintf(key, sizeof(key), "capabilities_%s", when);
	(void)snprintf(label, sizeof(label), "capabilities %s login", when);
	if (j != NULL)
		json_object_set_new(j, key, c->known ? capa_json(c) :
		    json_null());
	else {
		text = c->known ? capa_text(c) : xstrdup("(no CAPA)");
		printf("%s: %s\n", label, text);
		free(text);
	}
	if (strcmp(when, "before") != 0)
		return;
	put(j, "implementation", "implementation",
	    capa_arg(c, "IMPLEMENTATION"));
	put(j, "sasl", "sasl mechanisms", c->sasl != NULL ? c->sasl :
	    "(none)");
	put(j, "auth_auto", "--auth auto would use",
	    auth_auto_choice(c, &s->sp.auth, tls, cb));
	put_opt(j, "login_delay", "login-delay", capa_arg(c, "LOGIN-DELAY"));
	put_opt(j, "expire", "expire", capa_arg(c, "EXPIRE"));
}

/* The channel binding SCRAM's -PLUS mechanisms would use: 1, or 0
 * (then it says why not). */
static int
describe_cb(json_t *j, struct net *n)
{
	unsigned char cb[TLS_CB_MAX];
	const char *type;
	char why[600];
	size_t len;
	struct error e;

	if ((type = net_channel_binding(n, cb, &len, &e)) != NULL) {
		put(j, "channel_binding", "channel binding", type);
		return 1;
	}
	(void)snprintf(why, sizeof(why), "none (%s)", e.msg);
	put(j, "channel_binding", "channel binding", why);
	return 0;
}

static void
describe_tls(json_t *j, struct net *n)
{
	struct tls_sessinfo si;
	struct tls_certinfo ci;
	struct error e;

	if (net_tlsinfo(n, &si, &e) == -1) {
		put(j, "tls", "tls", "none");
		return;
	}
	put(j, "tls", "tls", si.version);
	put(j, "cipher", "cipher", si.cipher);
	put(j, "kx", "key exchange", si.kx);
	put(j, "mac", "mac", si.mac);
	if (net_certinfo(n, &ci, &e) == -1)
		return;
	put(j, "subject", "certificate subject", ci.subject);
	put(j, "issuer", "certificate issuer", ci.issuer);
	put(j, "not_before", "certificate valid from", ci.not_before);
	put(j, "not_after", "certificate valid until", ci.not_after);
	put(j, "fingerprint", "certificate fingerprint", ci.sha256);
	if (j != NULL)
		json_object_set_new(j, "verified", json_boolean(ci.verified));
	else
		printf("certificate verified: %s%s%s%s\n", ci.verified ? "yes" :
		    "no", ci.verified ? "" : " (", ci.why, ci.verified ? "" :
		    ")");
}

/* The state file and how many UIDs it records; read-only. */
static void
describe_state(json_t *j, const struct cli_settings *s)
{
	char path[PATH_MAX], line[PATH_MAX + 64];
	struct state *st;
	struct error e;

	path[0] = '\0';
	if ((st = fetch_state_open(&s->sp, &s->fp, 1, path, sizeof(path),
	    &e)) == NULL) {
		if (path[0] == '\0')
			return;
		if (j != NULL)
			report_json_text(j, "state", path, strlen(path));
		else
			printf("state: %s (%s)\n", path, e.msg);
		return;
	}
	if (j != NULL) {
		report_json_text(j, "state", path, strlen(path));
		json_object_set_new(j, "state_uids",
		    json_integer((json_int_t)state_count(st)));
	} else {
		(void)snprintf(line, sizeof(line), "%s (%zu UID%s)", path,
		    state_count(st), state_count(st) == 1 ? "" : "s");
		printf("state: %s\n", line);
	}
	state_close(st);
}

int
info_run(struct cli_settings *s, struct error *err)
{
	struct session *sess;
	struct pop3 *p;
	struct error qerr;
	char peer[1100], src[PATH_MAX + 64];
	json_t *j = s->co.json ? json_object() : NULL;
	int tls, cb = 0, r;

	s->errhost = s->sp.host;
	if ((sess = session_open(&s->sp, 0, err)) == NULL) {
		json_decref(j);
		return -1;
	}
	p = session_pop3(sess);
	tls = net_is_tls(pop3_net(p));
	put(j, "host", "host", s->sp.host);
	put(j, "port", "port", session_port(&s->sp));
	put(j, "address", "address", net_peer(pop3_net(p), peer,
	    sizeof(peer)));
	put(j, "tls_mode", "tls mode", cli_value(O_TLS, s->sp.tls ==
	    TLSMODE_DEFAULT ? (strcmp(session_port(&s->sp), "995") == 0 ?
	    TLSMODE_IMPLICIT : TLSMODE_STARTTLS) : s->sp.tls));
	describe_tls(j, pop3_net(p));
	if (tls)
		cb = describe_cb(j, pop3_net(p));
	put(j, "greeting", "greeting", pop3_welcome(p));
	describe_capa(j, pop3_capabilities(p), "before", s, tls, cb);
	put(j, "user", "user", s->sp.auth.user);
	put(j, "password_source", "password source",
	    password_source(&s->sp.auth.cred, src, sizeof(src)));
	describe_state(j, s);
	if (j == NULL)
		(void)fflush(stdout);
	r = session_login(sess, &s->sp, err);
	if (r == 0)
		r = pop3_capa(p, err);
	if (r == 0)
		describe_capa(j, pop3_capabilities(p), "after", s, tls, cb);
	if (j != NULL) {
		json_object_set_new(j, "login", json_boolean(r == 0));
		if (report_json_print(stdout, j, r == 0 ? err : &qerr) == -1)
			r = -1;
	}
	if (r == 0)
		r = command_flush(err);
	if (r == 0)
		return session_end(sess, 1, err);
	(void)session_end(sess, 0, &qerr);
	return -1;
}

void
info_trace(const struct cli_settings *s, int fetch)
{
	char src[PATH_MAX + 64], buf[PATH_MAX], line[PATH_MAX + 100];
	const char *path = s->fp.state_path;
	struct error e;

	if (s->sp.trace == NULL || s->sp.debug < 1)
		return;
	(void)snprintf(line, sizeof(line), "password source: %s",
	    password_source(&s->sp.auth.cred, src, sizeof(src)));
	s->sp.trace(s->sp.trace_arg, line);
	if (!fetch)
		return;
	if (path == NULL && state_default_path(buf, sizeof(buf),
	    s->sp.auth.user, s->sp.host, session_port(&s->sp), &e) == 0)
		path = buf;
	if (path != NULL) {
		(void)snprintf(line, sizeof(line), "state: %s", path);
		s->sp.trace(s->sp.trace_arg, line);
	}
}
