/*
 * auth.c - credential sources and POP3 login: RFC 1939 USER/PASS and
 * APOP, RFC 1081 RPOP, RFC 5034 AUTH with the mechanisms of sasl.c.
 *
 * A password lives in one heap buffer from the moment it is read until
 * the login command has been written, and is wiped then.  It is never
 * put on a command line and never reaches a trace (pop3.c redacts).
 */
#define _GNU_SOURCE		/* pipe2 */

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <time.h>
#include <readpassphrase.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "crypto.h"
#include "net.h"
#include "sasl.h"

#define PASSWORD_MAX	4096

/* POPFETCH_PASSWORD, taken out of the environment by auth_init. */
static char *env_password;

/* 0 while other accounts may be prompting on the same terminal. */
static int may_prompt = 1;

void
auth_set_prompt(int allowed)
{
	may_prompt = allowed;
}

int
auth_have_env_password(void)
{
	return env_password != NULL;
}

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

/*
 * Runs cmd under /bin/sh, with stdout on a close-on-exec pipe, and
 * reads its output until it exits; whatever it left running in the
 * background (an agent) is not waited for.  If it is still running
 * after timeout seconds it is killed: with its whole process group,
 * which it has of its own, unless popfetch is in the foreground of a
 * terminal (where a command in another group could not ask the user
 * anything: it would be stopped by SIGTTIN).  0 with the exit status in
 * *st, or -1 with err.
 */
static int
run_command(const char *cmd, int timeout, char *buf, size_t cap,
    size_t *len, int *st, struct error *err)
{
	struct pollfd pfd;
	char drain[512];
	long long deadline = now_ms() + (long long)timeout * 1000;
	pid_t pid, parent = getpid(), r;
	ssize_t n;
	int fds[2], ms, exited = 0, group = !tty_foreground();

	*len = 0;
	if (pipe2(fds, O_CLOEXEC) == -1)
		return error_set(err, ERR_CONFIG, "password command: pipe: "
		    "%s", strerror(errno));
	if ((pid = fork()) == -1) {
		(void)close(fds[0]);
		(void)close(fds[1]);
		return error_set(err, ERR_CONFIG, "password command: fork: "
		    "%s", strerror(errno));
	}
	if (pid == 0) {
		if (group)
			(void)setpgid(0, 0);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    getppid() != parent)
			_exit(127);
		(void)signal(SIGPIPE, SIG_DFL);
		if (dup2(fds[1], STDOUT_FILENO) == -1)
			_exit(127);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (group)
		(void)setpgid(pid, pid);
	(void)close(fds[1]);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	for (;;) {
		if (!exited) {
			r = waitpid(pid, st, WNOHANG);
			if (r == pid)
				exited = 1;
			else if (r == -1 && errno != EINTR) {
				error_set(err, ERR_CONFIG, "password command: "
				    "waitpid: %s", strerror(errno));
				break;
			}
		}
		ms = exited ? 0 : (int)(deadline - now_ms());
		if (ms < 0) {
			error_set(err, ERR_DEFERRED, "the password command "
			    "was still running after %d seconds; killed it",
			    timeout);
			break;
		}
		if (ms > 50)
			ms = 50;	/* look at the child again soon */
		r = poll(&pfd, 1, ms);
		if (r == -1 && errno != EINTR) {
			error_set(err, ERR_CONFIG, "password command: poll: %s",
			    strerror(errno));
			break;
		}
		if (r <= 0) {
			if (exited)
				break;	/* exited, and nothing is left */
			continue;
		}
		if (*len < cap)
			n = read(fds[0], buf + *len, cap - *len);
		else
			n = read(fds[0], drain, sizeof(drain));
		if (n > 0 && *len < cap)
			*len += (size_t)n;
		if (n == 0 && exited)
			break;
		if (n == 0) {
			/* EOF: only the exit status is missing. */
			pfd.fd = -1;
		}
	}
	explicit_bzero(drain, sizeof(drain));
	(void)close(fds[0]);
	if (exited)
		return err->cls == ERR_NONE ? 0 : -1;
	if (group)
		(void)kill(-pid, SIGKILL);
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, st, 0) == -1 && errno == EINTR)
		;
	return -1;
}

static char *
from_command(const char *cmd, int timeout, struct error *err)
{
	char buf[PASSWORD_MAX + 1], *pw;
	size_t len = 0;
	int st = 0;

	err->cls = ERR_NONE;
	if (run_command(cmd, timeout > 0 ? timeout : 60, buf, PASSWORD_MAX,
	    &len, &st, err) == -1) {
		explicit_bzero(buf, sizeof(buf));
		return NULL;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		explicit_bzero(buf, sizeof(buf));
		error_set(err, ERR_CONFIG, "password command failed%s",
		    WIFEXITED(st) ? " (non-zero exit status)" : "");
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

void
auth_init(void)
{
	struct rlimit rl = { 0, 0 };
	char *env;

	/* No core dump may hold a password, nor may a debugger of the
	 * same user read one out of this process. */
	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0);
	if ((env = getenv("POPFETCH_PASSWORD")) != NULL) {
		env_password = xstrdup(env);
		explicit_bzero(env, strlen(env));
		(void)unsetenv("POPFETCH_PASSWORD");
	}
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
	/* A symbolic link (a dotfile manager's) is fine: what is checked
	 * is the file opened. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return error_set(err, ERR_CONFIG, "%s: %s", path,
		    strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return error_set(err, ERR_CONFIG, "%s: not a regular file",
		    path);
	}
	if (sb.st_uid != geteuid() && sb.st_uid != 0) {
		close(fd);
		return error_set(err, ERR_CONFIG, "%s: owned by uid %lu, not "
		    "by you or root; refusing it (chown it or use your own)",
		    path, (unsigned long)sb.st_uid);
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
	if (pw != NULL && pw[0] == '\0') {
		free(pw);
		error_set(err, ERR_CONFIG, "%s: the password file is empty "
		    "(its first line is the password)", path);
		return NULL;
	}
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
		return from_command(c->password_command, c->timeout, err);
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
	if (!c->no_env && (env = env_password) != NULL) {
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
	if (!may_prompt) {
		/* Two jobs reading /dev/tty at once would each get part of
		 * what is typed, and one may restore echo while the other
		 * reads: a password for one server would go to another, or
		 * show on the screen. */
		error_set(err, ERR_CONFIG, "no password, and other accounts "
		    "run at the same time, so none is asked for on the "
		    "terminal");
		error_hint(err, HINT_PASSWORD_SOURCE);
		return NULL;
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

/*
 * The TLS session's channel binding, found once a login: type NULL
 * without TLS, or when none can be had (why says why).
 */
struct binding {
	const char	*type;
	unsigned char	 data[TLS_CB_MAX];
	size_t		 len;
	struct error	 why;
};

static void
binding_get(struct pop3 *p, struct binding *b)
{
	memset(b, 0, sizeof(*b));
	if (net_is_tls(pop3_net(p)))
		b->type = net_channel_binding(pop3_net(p), b->data, &b->len,
		    &b->why);
	else
		error_set(&b->why, ERR_USAGE, "the connection has no TLS");
}

/* The -PLUS form of a SCRAM mechanism, or m itself. */
static enum sasl_mech
plus_of(enum sasl_mech m)
{
	if (m == SASL_SCRAM_SHA1)
		return SASL_SCRAM_SHA1_PLUS;
	if (m == SASL_SCRAM_SHA256)
		return SASL_SCRAM_SHA256_PLUS;
	return m;
}

/*
 * The GS2 flag of SCRAM (RFC 5802 section 6): a -PLUS mechanism binds;
 * plain SCRAM says "y" (could bind, the server seems not to) when a
 * binding is to be had and the server did not offer this mechanism's
 * -PLUS form, else "n" (no TLS, or the user chose plain SCRAM although
 * the server offers -PLUS).
 */
static void
set_binding(struct sasl_params *sp, const struct pop3_capa *c,
    enum sasl_mech m, const struct binding *b)
{
	if (!sasl_is_scram(m) || b->type == NULL)
		return;
	if (!sasl_binds(m) && c->known && offers(c, plus_of(m)))
		return;
	sp->cb_type = b->type;
	if (sasl_binds(m)) {
		sp->cb_data = b->data;
		sp->cb_len = b->len;
	}
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
    const struct binding *bind, int refresh, int *stored, int *refused,
    struct error *err)
{
	const struct pop3_capa *c = pop3_capabilities(p);
	struct sasl_params sp;
	struct sasl *s;
	const unsigned char *out;
	unsigned char *chal;
	size_t len, chlen, room;
	char *b64 = NULL, *secret = NULL;
	const char *name = sasl_name(m);
	int r, rounds, local = 0;

	*refused = 0;
	if (sasl_binds(m) && bind->type == NULL) {
		*err = bind->why;
		return error_prefix(err, "AUTH %s: no channel binding", name);
	}
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
	set_binding(&sp, c, m, bind);
	if (sasl_binds(m))
		pop3_note(p, "AUTH %s: channel binding %s", name, sp.cb_type);
	else if (sasl_is_scram(m))
		pop3_note(p, "AUTH %s: no channel binding (GS2 flag %s)", name,
		    sp.cb_type != NULL ? "y: the server offers no -PLUS" : "n");
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

		local = 1;
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
		local = 0;
		b64 = crypto_b64_encode(out, len);
		r = pop3_sasl_line(p, b64, err);
		secret_free(b64);
	}
	/* The server said -ERR to the exchange itself: no local failure,
	 * the connection in step, still not logged in. */
	*refused = r == -1 && !local && !pop3_broken(p) &&
	    pop3_state(p) == POP3_AUTHORIZATION && err->cls == ERR_AUTH;
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

/*
 * --auth auto with mechanism m.  Cyrus advertises SCRAM even for users
 * whose passwords it can check only in plaintext (saslauthd), and then
 * answers the exchange with -ERR.  Over a verified TLS connection (never
 * otherwise: the password would go to whoever sits in the middle) a
 * SCRAM refused with -ERR is followed by one more attempt, with PLAIN or,
 * where PLAIN is not offered, USER/PASS; a wrong password thus costs two
 * attempts at most.  The failure names both.
 */
static int
login_auto(struct pop3 *p, const struct auth_params *a, enum sasl_mech m,
    const struct binding *bind, int verified, struct error *err)
{
	const struct pop3_capa *c = pop3_capabilities(p);
	const char *then;
	int refused, stored = 0, r;

	r = login_sasl(p, a, m, bind, 0, &stored, &refused, err);
	if (r == 0 || !refused || !verified || !sasl_is_scram(m))
		return r;
	if (offers(c, SASL_PLAIN)) {
		then = "AUTH PLAIN";
		pop3_note(p, "AUTH %s refused; trying %s over verified TLS",
		    sasl_name(m), then);
		r = login_sasl(p, a, SASL_PLAIN, bind, 0, &stored, &refused,
		    err);
	} else {
		then = "USER/PASS";
		pop3_note(p, "AUTH %s refused; trying %s over verified TLS",
		    sasl_name(m), then);
		r = login_user(p, a, err);
	}
	if (r == -1)
		error_prefix(err, "tried AUTH %s, then %s", sasl_name(m),
		    then);
	return r;
}

/* What --auth auto uses: the strongest offered mechanism that needs
 * nothing but a password and does not show it to an eavesdropper, or
 * -1 for USER/PASS.  The -PLUS mechanisms come first where the TLS
 * session gives a channel binding (as mpop's since 1.4.19): with them a
 * man in the middle cannot relay the login even if it holds a
 * certificate the client trusts. */
static int
auto_mech(const struct pop3_capa *c, int clear_ok, int bindable)
{
	static const enum sasl_mech prefer[] = {
		SASL_SCRAM_SHA256_PLUS, SASL_SCRAM_SHA1_PLUS,
		SASL_SCRAM_SHA256, SASL_SCRAM_SHA1, SASL_PLAIN, SASL_LOGIN
	};
	size_t i;

	for (i = 0; i < sizeof(prefer) / sizeof(prefer[0]); i++)
		if (offers(c, prefer[i]) &&
		    (clear_ok || !sasl_reveals_secret(prefer[i])) &&
		    (bindable || !sasl_binds(prefer[i])))
			return (int)prefer[i];
	return -1;
}

const char *
auth_auto_choice(const struct pop3_capa *c, const struct auth_params *a,
    int secure, int bindable)
{
	int m = auto_mech(c, secure || a->allow_plaintext, bindable);

	return m == -1 ? "USER" : sasl_name((enum sasl_mech)m);
}

int
auth_login(struct pop3 *p, const struct auth_params *a, int secure,
    int verified, struct error *err)
{
	int retry;

	return auth_login_token(p, a, secure, verified, 0, &retry, err);
}

int
auth_login_token(struct pop3 *p, const struct auth_params *a, int secure,
    int verified, int refresh, int *retry, struct error *err)
{
	const struct pop3_capa *c = pop3_capabilities(p);
	struct binding bind;
	int clear_ok = secure || a->allow_plaintext, stored = 0, refused, m, r;
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
	binding_get(p, &bind);
	switch (a->method) {
	case AUTH_APOP:
		/* A man in the middle chooses the timestamp and can then
		 * try passwords against the digest offline. */
		if (!clear_ok)
			return insecure(err, "an APOP digest of the password");
		return login_apop(p, a, err);
	case AUTH_RPOP:
		return login_rpop(p, a, err);
	case AUTH_SASL:
		/* CRAM-MD5: as APOP, the challenge is the attacker's. */
		if (a->mech == SASL_CRAM_MD5 && !clear_ok)
			return insecure(err, "a CRAM-MD5 digest of the "
			    "password");
		if (sasl_reveals_secret(a->mech) && !clear_ok)
			return insecure(err, a->mech == SASL_XOAUTH2 ||
			    a->mech == SASL_OAUTHBEARER ? "a bearer token" :
			    "a password");
		/* --allow-plaintext does not help: there is no channel to
		 * bind. */
		if (sasl_binds(a->mech) && !secure)
			return error_set(err, ERR_USAGE, "AUTH %s binds the "
			    "login to the TLS session, and this connection has "
			    "no TLS; nothing was sent (without TLS, use the "
			    "mechanism without -PLUS)", sasl_name(a->mech)),
			    error_hint(err, HINT_TLS_IMPLICIT);
		/* With CAPA known, no SASL line means no AUTH at all
		 * (RFC 5034 section 3): refused here, so that a server's
		 * "-ERR Not implemented" never looks like a bad password. */
		if (c->known && !(c->flags & CAPA_SASL))
			return error_set(err, ERR_REFUSED, "the server does "
			    "not offer AUTH (its CAPA has no SASL line), so "
			    "AUTH %s cannot work; nothing was sent",
			    sasl_name(a->mech)), error_hint(err,
			    HINT_AUTH_METHOD);
		if (c->known && (c->flags & CAPA_SASL) && !offers(c, a->mech))
			return error_set(err, ERR_REFUSED, "the server does "
			    "not offer AUTH %s (it offers: %s)",
			    sasl_name(a->mech), c->sasl != NULL ? c->sasl : ""),
			    error_hint(err, HINT_AUTH_METHOD);
		if (a->mech == SASL_EXTERNAL && (!secure ||
		    !a->have_client_cert))
			return error_set(err, ERR_USAGE, "AUTH EXTERNAL needs "
			    "TLS and a client certificate"),
			    error_hint(err, HINT_CLIENT_CERT);
		r = login_sasl(p, a, a->mech, &bind, refresh, &stored,
		    &refused, err);
		*retry = r == -1 && stored && err->cls == ERR_AUTH;
		return r;
	case AUTH_AUTO:
		/* Stored OAuth tokens: the mechanism made for them. */
		for (i = 0; a->token.stored && i < 2; i++) {
			enum sasl_mech tm = i == 0 ? SASL_OAUTHBEARER :
			    SASL_XOAUTH2;

			if (!offers(c, tm))
				continue;
			if (!clear_ok)
				return insecure(err, "a bearer token");
			r = login_sasl(p, a, tm, &bind, refresh, &stored,
			    &refused, err);
			*retry = r == -1 && stored && err->cls == ERR_AUTH;
			return r;
		}
		if ((m = auto_mech(c, clear_ok, bind.type != NULL)) != -1)
			return login_auto(p, a, (enum sasl_mech)m, &bind,
			    verified, err);
		break;
	case AUTH_USER:
		break;
	}
	if (!clear_ok)
		return insecure(err, "a password");
	return login_user(p, a, err);
}
