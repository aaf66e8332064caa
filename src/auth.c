/*
 * auth.c - credential sources and POP3 login: RFC 1939 USER/PASS and
 * APOP, RFC 1081 RPOP, RFC 5034 AUTH with the mechanisms of sasl.c.
 *
 * A password lives in one heap buffer from the moment it is read until
 * the login command has been written, and is wiped then.  It is never
 * put on a command line and never reaches a trace (pop3.c redacts).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <readpassphrase.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "crypto.h"
#include "sasl.h"

#define PASSWORD_MAX	4096

/* Checks and takes the first line of buf as the password. */
static char *
first_line(char *buf, size_t len, const char *what, struct error *err)
{
	char *nl;
	size_t n;

	if ((nl = memchr(buf, '\n', len)) != NULL)
		len = (size_t)(nl - buf);
	if (memchr(buf, '\0', len) != NULL) {
		error_set(err, ERR_CONFIG, "%s: the password contains a NUL "
		    "byte", what);
		return NULL;
	}
	buf[len] = '\0';
	n = len;
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	if (strchr(buf, '\r') != NULL) {
		error_set(err, ERR_CONFIG, "%s: the password contains a CR",
		    what);
		return NULL;
	}
	return xstrdup(buf);
}

static char *
from_command(const char *cmd, struct error *err)
{
	char buf[PASSWORD_MAX + 1], drain[512], *pw;
	size_t len = 0, r;
	FILE *f;
	int st;

	if ((f = popen(cmd, "r")) == NULL) {
		error_set(err, ERR_CONFIG, "password command: %s",
		    strerror(errno));
		return NULL;
	}
	while (len < PASSWORD_MAX &&
	    (r = fread(buf + len, 1, PASSWORD_MAX - len, f)) > 0)
		len += r;
	/* Drain the rest so the command does not die of SIGPIPE. */
	while (fread(drain, 1, sizeof(drain), f) > 0)
		;
	explicit_bzero(drain, sizeof(drain));
	st = pclose(f);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		explicit_bzero(buf, sizeof(buf));
		error_set(err, ERR_CONFIG, "password command failed%s",
		    st != -1 && WIFEXITED(st) ? " (non-zero exit status)" :
		    "");
		return NULL;
	}
	pw = first_line(buf, len, "password command", err);
	explicit_bzero(buf, sizeof(buf));
	if (pw != NULL && pw[0] == '\0') {
		free(pw);
		error_set(err, ERR_CONFIG, "password command printed nothing");
		return NULL;
	}
	return pw;
}

/* Reads a whole small file that others may not read. */
static int
read_private(const char *path, char *buf, size_t cap, size_t *len,
    int *unsafe, struct error *err)
{
	struct stat sb;
	ssize_t r;
	int fd;

	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return error_set(err, ERR_CONFIG, "%s: %s", path,
		    strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return error_set(err, ERR_CONFIG, "%s: not a regular file",
		    path);
	}
	*unsafe = (sb.st_mode & (S_IRWXG | S_IRWXO)) != 0;
	while (*len < cap && (r = read(fd, buf + *len, cap - *len)) > 0)
		*len += (size_t)r;
	close(fd);
	return 0;
}

static char *
from_file(const char *path, struct error *err)
{
	char buf[PASSWORD_MAX + 1], *pw;
	size_t len;
	int unsafe;

	if (read_private(path, buf, PASSWORD_MAX, &len, &unsafe, err) == -1)
		return NULL;
	if (unsafe) {
		explicit_bzero(buf, sizeof(buf));
		error_set(err, ERR_CONFIG, "%s: readable by others; refusing "
		    "to use it (chmod 600 %s)", path, path);
		return NULL;
	}
	pw = first_line(buf, len, path, err);
	explicit_bzero(buf, sizeof(buf));
	return pw;
}

/* Returns the next whitespace-separated token of a netrc file. */
static char *
netrc_token(char **pp)
{
	char *p = *pp, *t;

	p += strspn(p, " \t\r\n");
	if (*p == '\0')
		return NULL;
	t = p;
	p += strcspn(p, " \t\r\n");
	if (*p != '\0')
		*p++ = '\0';
	*pp = p;
	return t;
}

/*
 * netrc(5): "machine NAME login USER password PASS", or "default".
 * Returns 1 with *pw set, 0 if nothing matched, -1 on error.
 */
static int
from_netrc(const char *path, const char *host, const char *user,
    char **pw, struct error *err)
{
	static char buf[65536];
	char *p = buf, *t, *login = NULL, *pass = NULL;
	size_t len;
	int unsafe, in = 0, found = 0;

	if (access(path, F_OK) == -1)
		return 0;
	if (read_private(path, buf, sizeof(buf) - 1, &len, &unsafe,
	    err) == -1)
		return -1;
	buf[len] = '\0';
	while (!found && (t = netrc_token(&p)) != NULL) {
		if (strcmp(t, "machine") == 0 || strcmp(t, "default") == 0) {
			if (in && pass != NULL &&
			    (login == NULL || strcmp(login, user) == 0))
				found = 1;
			else {
				in = strcmp(t, "default") == 0 ||
				    ((t = netrc_token(&p)) != NULL &&
				    strcasecmp(t, host) == 0);
				login = pass = NULL;
			}
		} else if (strcmp(t, "login") == 0)
			login = netrc_token(&p);
		else if (strcmp(t, "password") == 0)
			pass = netrc_token(&p);
		else if (strcmp(t, "macdef") == 0) {
			/* A macro runs to the next empty line. */
			char *end = strstr(p, "\n\n");
			p = end != NULL ? end + 2 : p + strlen(p);
		}
	}
	if (!found && in && pass != NULL &&
	    (login == NULL || strcmp(login, user) == 0))
		found = 1;
	if (found && unsafe) {
		explicit_bzero(buf, sizeof(buf));
		return error_set(err, ERR_CONFIG, "%s: holds a password but "
		    "is readable by others; refusing to use it (chmod 600 %s)",
		    path, path);
	}
	if (found)
		*pw = xstrdup(pass);
	explicit_bzero(buf, sizeof(buf));
	return found;
}

/* The netrc file to read: the configured one, $NETRC or ~/.netrc; ""
 * for none.  -1 with err (ERR_CONFIG) if its name does not fit. */
static int
netrc_path(const struct cred_params *c, char *path, size_t len,
    struct error *err)
{
	const char *env;
	int n = 0;

	path[0] = '\0';
	if (c->netrc_file != NULL)
		n = snprintf(path, len, "%s", c->netrc_file);
	else if ((env = getenv("NETRC")) != NULL && *env != '\0')
		n = snprintf(path, len, "%s", env);
	else if ((env = getenv("HOME")) != NULL && *env != '\0')
		n = snprintf(path, len, "%s/.netrc", env);
	if (n < 0 || (size_t)n >= len)
		return error_set(err, ERR_CONFIG, "the name of the netrc file "
		    "is longer than %zu bytes", len - 1);
	return 0;
}

char *
auth_password(const struct cred_params *c, const char *host,
    const char *user, struct error *err)
{
	char buf[PASSWORD_MAX + 1], prompt[512], path[4096], *pw = NULL;
	const char *env;
	int r;

	if (c->password_command != NULL)
		return from_command(c->password_command, err);
	if (c->password_file != NULL)
		return from_file(c->password_file, err);
	if (c->password != NULL) {
		if (strpbrk(c->password, "\r\n") != NULL) {
			error_set(err, ERR_CONFIG,
			    "the configured password contains CR or LF");
			return NULL;
		}
		return xstrdup(c->password);
	}
	if (!c->no_env && (env = getenv("POPFETCH_PASSWORD")) != NULL) {
		if (strpbrk(env, "\r\n") != NULL) {
			error_set(err, ERR_CONFIG,
			    "POPFETCH_PASSWORD contains CR or LF");
			return NULL;
		}
		return xstrdup(env);
	}
	if (netrc_path(c, path, sizeof(path), err) == -1)
		return NULL;
	if (path[0] != '\0') {
		r = from_netrc(path, host, user, &pw, err);
		if (r == -1)
			return NULL;
		if (r == 1) {
			if (strpbrk(pw, "\r\n") != NULL) {
				secret_free(pw);
				error_set(err, ERR_CONFIG, "%s: bad password",
				    path);
				return NULL;
			}
			return pw;
		}
	}
	r = snprintf(prompt, sizeof(prompt), "Password for %s@%s: ", user,
	    host);
	if (r < 0 || (size_t)r >= sizeof(prompt))
		(void)strlcpy(prompt, "Password: ", sizeof(prompt));
	if (readpassphrase(prompt, buf, sizeof(buf), RPP_REQUIRE_TTY) ==
	    NULL) {
		explicit_bzero(buf, sizeof(buf));
		error_set(err, ERR_CONFIG, "no password, and no terminal to "
		    "ask for one on");
		error_hint(err, HINT_PASSWORD_SOURCE);
		return NULL;
	}
	pw = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return pw;
}

static int
login_user(struct pop3 *p, const struct auth_params *a, struct error *err)
{
	char *pw;
	int r;

	/* The password first, so a bad one costs nothing on the wire. */
	if ((pw = auth_password(&a->cred, a->host, a->user, err)) == NULL)
		return -1;
	if (pop3_command(p, ERR_AUTH, err, "USER %s", a->user) == -1) {
		secret_free(pw);
		return -1;
	}
	r = pop3_command(p, ERR_AUTH, err, "PASS %s", pw);
	secret_free(pw);
	return r;
}

static int
login_apop(struct pop3 *p, const struct auth_params *a, struct error *err)
{
	const char *ts = pop3_timestamp(p);
	char digest[33], *pw, *buf;
	size_t tl, pl;
	int r;

	if (ts == NULL)
		return error_set(err, ERR_REFUSED, "APOP: the server's "
		    "greeting has no timestamp, so it does not offer APOP");
	if ((pw = auth_password(&a->cred, a->host, a->user, err)) == NULL)
		return -1;
	tl = strlen(ts);
	pl = strlen(pw);
	buf = xmalloc(tl + pl);
	memcpy(buf, ts, tl);
	memcpy(buf + tl, pw, pl);
	r = crypto_md5_hex(buf, tl + pl, digest);
	explicit_bzero(buf, tl + pl);
	free(buf);
	secret_free(pw);
	if (r == -1)
		return error_set(err, ERR_SOFTWARE, "APOP: MD5 failed");
	r = pop3_command(p, ERR_AUTH, err, "APOP %s %s", a->user, digest);
	explicit_bzero(digest, sizeof(digest));
	return r;
}

static int
login_rpop(struct pop3 *p, const struct auth_params *a, struct error *err)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw == NULL)
		return error_set(err, ERR_CONFIG,
		    "RPOP: cannot find the local user name");
	if (pop3_command(p, ERR_AUTH, err, "USER %s", a->user) == -1)
		return -1;
	return pop3_command(p, ERR_AUTH, err, "RPOP %s", pw->pw_name);
}

/* Whether the server's SASL capability lists mechanism m. */
static int
offers(const struct pop3_capa *c, enum sasl_mech m)
{
	const char *s = c->sasl, *name = sasl_name(m);
	size_t n = strlen(name), wl;

	if (s == NULL)
		return 0;
	while (*s != '\0') {
		s += strspn(s, " ");
		wl = strcspn(s, " ");
		if (wl == n && strncasecmp(s, name, n) == 0)
			return 1;
		s += wl;
	}
	return 0;
}

/* Cancels an exchange with "*" (RFC 5034), keeping the first error. */
static int
sasl_cancel(struct pop3 *p)
{
	struct error ignored;

	(void)pop3_sasl_line(p, "*", &ignored);
	return -1;
}

/* An OAuth token from the store when no password source is set. */
static int
from_store(const struct auth_params *a, enum sasl_mech m)
{
	return (m == SASL_XOAUTH2 || m == SASL_OAUTHBEARER) &&
	    a->token.get != NULL && a->cred.password_command == NULL &&
	    a->cred.password_file == NULL && a->cred.password == NULL;
}

/*
 * One SASL exchange.  The initial response rides on the AUTH command
 * when the server announced SASL (RFC 5034 section 3 forbids it
 * otherwise) and the command stays within 255 octets; else it follows
 * the server's empty challenge.
 */
static int
login_sasl(struct pop3 *p, const struct auth_params *a, enum sasl_mech m,
    int refresh, int *stored, struct error *err)
{
	const struct pop3_capa *c = pop3_capabilities(p);
	struct sasl_params sp;
	struct sasl *s;
	const unsigned char *out;
	unsigned char *chal;
	size_t len, chlen, room;
	char *b64 = NULL, *secret = NULL;
	const char *name = sasl_name(m);
	int r, rounds;

	if (from_store(a, m)) {
		if ((secret = a->token.get(a->token.arg, refresh, err)) ==
		    NULL)
			return -1;
		*stored = 1;
	} else if (sasl_needs_secret(m) &&
	    (secret = auth_password(&a->cred, a->host, a->user, err)) == NULL)
		return -1;
	memset(&sp, 0, sizeof(sp));
	sp.mech = m;
	sp.user = a->user;
	sp.secret = secret;
	sp.host = a->host;
	sp.port = a->port;
	s = sasl_new(&sp, err);
	secret_free(secret);
	if (s == NULL)
		return -1;
	/* 255 octets: "AUTH " name " " response CRLF (RFC 2449, 5034). */
	room = 255 - 5 - strlen(name) - 1 - 2;
	if (c->known && (c->flags & CAPA_SASL) && !a->no_initial_response &&
	    sasl_initial(s, room, &out, &len))
		b64 = len == 0 ? xstrdup("=") : crypto_b64_encode(out, len);
	r = pop3_auth(p, name, b64, err);
	secret_free(b64);
	for (rounds = 0; r == 1; rounds++) {
		const char *t = pop3_reply_text(p);

		if (rounds == 8) {
			error_set(err, ERR_PROTO, "AUTH %s: too many "
			    "challenges", name);
			r = sasl_cancel(p);
			break;
		}
		if (crypto_b64_decode(t, strlen(t), &chal, &chlen) == -1) {
			error_set(err, ERR_PROTO, "AUTH %s: the server's "
			    "challenge is not valid base64", name);
			r = sasl_cancel(p);
			break;
		}
		r = sasl_step(s, chal, chlen, &out, &len, err);
		free(chal);
		if (r == -1) {
			error_prefix(err, "AUTH %s", name);
			r = sasl_cancel(p);
			break;
		}
		b64 = crypto_b64_encode(out, len);
		r = pop3_sasl_line(p, b64, err);
		secret_free(b64);
	}
	if (r == 0 && sasl_finish(s, err) == -1)
		r = -1;
	if (r == -1 && sasl_server_error(s) != NULL)
		error_prefix(err, "server's OAuth error %s; ",
		    sasl_server_error(s));
	sasl_free(s);
	return r;
}

static int
insecure(struct error *err, const char *what)
{
	error_set(err, ERR_INSECURE, "refusing to send %s over an "
	    "unencrypted connection", what);
	return error_hint(err, HINT_ALLOW_PLAINTEXT);
}

int
auth_login(struct pop3 *p, const struct auth_params *a, int secure,
    struct error *err)
{
	int retry;

	return auth_login_token(p, a, secure, 0, &retry, err);
}

int
auth_login_token(struct pop3 *p, const struct auth_params *a, int secure,
    int refresh, int *retry, struct error *err)
{
	static const enum sasl_mech prefer[] = {
		SASL_SCRAM_SHA256, SASL_SCRAM_SHA1, SASL_PLAIN, SASL_LOGIN
	};
	const struct pop3_capa *c = pop3_capabilities(p);
	int clear_ok = secure || a->allow_plaintext, stored = 0, r;
	size_t i;

	*retry = 0;
	if (a->method != AUTH_SASL || a->mech != SASL_EXTERNAL) {
		if (a->user == NULL || a->user[0] == '\0')
			return error_set(err, ERR_USAGE, "no user name"),
			    error_hint(err, HINT_USER);
	}
	if (a->user != NULL && strpbrk(a->user, "\r\n") != NULL)
		return error_set(err, ERR_USAGE,
		    "the user name contains CR or LF");
	/* RFC 2449 allows 255 octets a command line. */
	if (a->user != NULL && strlen(a->user) > 240)
		return error_set(err, ERR_USAGE,
		    "the user name is longer than 240 bytes");
	switch (a->method) {
	case AUTH_APOP:
		return login_apop(p, a, err);
	case AUTH_RPOP:
		return login_rpop(p, a, err);
	case AUTH_SASL:
		if (sasl_reveals_secret(a->mech) && !clear_ok)
			return insecure(err, a->mech == SASL_XOAUTH2 ||
			    a->mech == SASL_OAUTHBEARER ? "a bearer token" :
			    "a password");
		if (c->known && (c->flags & CAPA_SASL) && !offers(c, a->mech))
			return error_set(err, ERR_REFUSED, "the server does "
			    "not offer AUTH %s (it offers: %s)",
			    sasl_name(a->mech), c->sasl != NULL ? c->sasl : "");
		if (a->mech == SASL_EXTERNAL && (!secure ||
		    !a->have_client_cert))
			return error_set(err, ERR_USAGE, "AUTH EXTERNAL needs "
			    "TLS and a client certificate"),
			    error_hint(err, HINT_CLIENT_CERT);
		r = login_sasl(p, a, a->mech, refresh, &stored, err);
		*retry = r == -1 && stored && err->cls == ERR_AUTH;
		return r;
	case AUTH_AUTO:
		/* Stored OAuth tokens: the mechanism made for them. */
		for (i = 0; a->token.stored && i < 2; i++) {
			enum sasl_mech m = i == 0 ? SASL_OAUTHBEARER :
			    SASL_XOAUTH2;

			if (!offers(c, m))
				continue;
			if (!clear_ok)
				return insecure(err, "a bearer token");
			r = login_sasl(p, a, m, refresh, &stored, err);
			*retry = r == -1 && stored && err->cls == ERR_AUTH;
			return r;
		}
		/* The strongest offered mechanism that needs nothing but a
		 * password and does not show it to an eavesdropper. */
		for (i = 0; i < sizeof(prefer) / sizeof(prefer[0]); i++)
			if (offers(c, prefer[i]) &&
			    (clear_ok || !sasl_reveals_secret(prefer[i])))
				return login_sasl(p, a, prefer[i], 0, &stored,
				    err);
		break;
	case AUTH_USER:
		break;
	}
	if (!clear_ok)
		return insecure(err, "a password");
	return login_user(p, a, err);
}
