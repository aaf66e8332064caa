/*
 * oauth2.c - the flows: refreshing an access token, logging in with the
 * device grant (RFC 8628) or with an authorization code, PKCE (RFC 7636)
 * and a loopback redirect (RFC 8252), discovery (RFC 8414, OpenID
 * Connect Discovery), status and revocation (RFC 7009).
 *
 * Everything the provider sends is untrusted: strings are checked for
 * type before use, numbers bounded, and text is escaped before it goes
 * into a message.  The loopback listener takes one request line of at
 * most 8 KiB from 127.0.0.1 and believes a code only with the state it
 * was sent with.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "crypto.h"
#include "oauth2_p.h"

#define DEVICE_GRANT	"urn:ietf:params:oauth:grant-type:device_code"
#define EARLY		60	/* refresh this many seconds before expiry */
#define LOOPBACK_WAIT	(15 * 60)
#define REQUEST_MAX	8192

/* The endpoints of one run: the settings', else the store's, else
 * discovered from the issuer.  Owned. */
struct endpoints {
	char	*issuer, *authorization, *token, *device, *revocation;
};

static void
endpoints_free(struct endpoints *e)
{
	free(e->issuer);
	free(e->authorization);
	free(e->token);
	free(e->device);
	free(e->revocation);
	memset(e, 0, sizeof(*e));
}

static char *
dup_or_null(const char *s)
{
	return s != NULL && *s != '\0' ? xstrdup(s) : NULL;
}

static const char *
shown(char *buf, size_t len, const char *s)
{
	return vis_text(buf, len, s != NULL ? s : "", s != NULL ? strlen(s) :
	    0);
}

/* The provider's error code and description, escaped, as one phrase. */
static const char *
provider_error(json_t *o, long status, char *buf, size_t len)
{
	char code[128], desc[256];
	const char *c = oauth2_str(o, "error"),
	    *d = oauth2_str(o, "error_description");

	if (c == NULL) {
		(void)snprintf(buf, len, "HTTP status %ld", status);
		return buf;
	}
	(void)snprintf(buf, len, "%s%s%s%s", shown(code, sizeof(code), c),
	    d != NULL ? " (" : "", d != NULL ? shown(desc, sizeof(desc), d) :
	    "", d != NULL ? ")" : "");
	return buf;
}

/* Whether two issuer URLs name the same issuer (a trailing "/" aside). */
static int
same_issuer(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	while (la > 0 && a[la - 1] == '/')
		la--;
	while (lb > 0 && b[lb - 1] == '/')
		lb--;
	return la == lb && strncmp(a, b, la) == 0;
}

/* RFC 8414's well-known URL (inserted between host and path), then
 * OpenID Connect's (appended); the metadata must name the issuer. */
static json_t *
discover(const struct oauth2_params *p, const char *issuer,
    struct error *err)
{
	const char *host, *path;
	char url[2048], s[256];
	size_t ilen = strlen(issuer);
	json_t *o = NULL;
	long status;
	int i, r;

	while (ilen > 0 && issuer[ilen - 1] == '/')
		ilen--;
	if ((host = strstr(issuer, "://")) == NULL) {
		error_set(err, ERR_USAGE, "%s: not an issuer URL",
		    shown(s, sizeof(s), issuer));
		return NULL;
	}
	path = strchr(host + 3, '/');
	if (path == NULL || path >= issuer + ilen)
		path = issuer + ilen;
	for (i = 0; i < 2; i++) {
		if (i == 0)
			r = snprintf(url, sizeof(url), "%.*s/.well-known/"
			    "oauth-authorization-server%.*s",
			    (int)(path - issuer), issuer,
			    (int)(issuer + ilen - path), path);
		else
			r = snprintf(url, sizeof(url), "%.*s/.well-known/"
			    "openid-configuration", (int)ilen, issuer);
		if (r < 0 || (size_t)r >= sizeof(url)) {
			error_set(err, ERR_USAGE, "the issuer URL is too long");
			return NULL;
		}
		if (oauth2_http(p, url, NULL, &status, &o, err) == -1) {
			/* Only a missing document tries the next. */
			return NULL;
		}
		if (status == 200 && o != NULL && oauth2_str(o, "issuer") !=
		    NULL && same_issuer(oauth2_str(o, "issuer"), issuer))
			return o;
		if (status == 200 && o != NULL) {
			json_decref(o);
			error_set(err, ERR_PROTO, "%s: the metadata names "
			    "another issuer", shown(s, sizeof(s), url));
			return NULL;
		}
		json_decref(o);
		o = NULL;
	}
	error_set(err, ERR_CONFIG, "%s: no authorization server metadata "
	    "(neither RFC 8414 nor OpenID Connect discovery)",
	    shown(s, sizeof(s), issuer));
	return NULL;
}

/*
 * Fills e.  need says which endpoint the caller must have ("token",
 * "device", "authorization"); discovery runs only when one of those is
 * missing and an issuer is known.
 */
static int
endpoints_get(const struct oauth2_params *p, json_t *store,
    const char *need, struct endpoints *e, struct error *err)
{
	json_t *meta;
	char **slot;

	memset(e, 0, sizeof(*e));
	e->issuer = dup_or_null(p->issuer != NULL ? p->issuer :
	    oauth2_str(store, "issuer"));
	e->authorization = dup_or_null(p->authorization_endpoint);
	e->token = dup_or_null(p->token_endpoint != NULL ?
	    p->token_endpoint : oauth2_str(store, "token_endpoint"));
	e->device = dup_or_null(p->device_endpoint);
	e->revocation = dup_or_null(p->revocation_endpoint != NULL ?
	    p->revocation_endpoint : oauth2_str(store,
	    "revocation_endpoint"));
	slot = strcmp(need, "token") == 0 ? &e->token :
	    strcmp(need, "device") == 0 ? &e->device :
	    strcmp(need, "authorization") == 0 ? &e->authorization : NULL;
	if ((slot == NULL || *slot != NULL) && e->token != NULL)
		return 0;
	if (e->issuer == NULL)
		return error_set(err, ERR_USAGE, "no OAuth %s endpoint and no "
		    "issuer to discover it from", need);
	if ((meta = discover(p, e->issuer, err)) == NULL)
		return -1;
#define FILL(f, k) if (e->f == NULL) e->f = dup_or_null(oauth2_str(meta, k))
	FILL(authorization, "authorization_endpoint");
	FILL(token, "token_endpoint");
	FILL(device, "device_authorization_endpoint");
	FILL(revocation, "revocation_endpoint");
#undef FILL
	json_decref(meta);
	if ((slot != NULL && *slot == NULL) || e->token == NULL)
		return error_set(err, ERR_CONFIG, "the provider's metadata "
		    "has no %s endpoint", need);
	return 0;
}

/* client_id, and client_secret when there is a command for it. */
static int
add_client(const struct oauth2_params *p, json_t *store, char **form,
    struct error *err)
{
	const char *id = p->client_id != NULL ? p->client_id :
	    oauth2_str(store, "client_id");
	struct cred_params c;
	char *secret;

	if (id == NULL)
		return error_set(err, ERR_USAGE, "no OAuth client id");
	oauth2_form_add(form, "client_id", id);
	if (p->client_secret_command == NULL)
		return 0;
	memset(&c, 0, sizeof(c));
	c.password_command = p->client_secret_command;
	c.no_env = 1;
	if ((secret = auth_password(&c, "", "", err)) == NULL)
		return error_prefix(err, "OAuth client secret");
	oauth2_form_add(form, "client_secret", secret);
	secret_free(secret);
	return 0;
}

/*
 * Takes a successful token answer into the store object: the access
 * token, when it expires, the refresh token if a new one came (rotation),
 * and the granted scope.
 */
static int
take_tokens(json_t *store, json_t *ans, const char *url,
    struct error *err)
{
	const char *at = oauth2_str(ans, "access_token"),
	    *rt = oauth2_str(ans, "refresh_token"),
	    *scope = oauth2_str(ans, "scope");
	json_t *ei = json_object_get(ans, "expires_in");
	json_int_t life = 3600;
	char s[256];

	if (at == NULL || *at == '\0' || strpbrk(at, "\r\n\x01") != NULL ||
	    strlen(at) > 8192)
		return error_set(err, ERR_PROTO, "%s: no usable access_token "
		    "in the answer", shown(s, sizeof(s), url));
	if (json_is_integer(ei) && json_integer_value(ei) >= 0 &&
	    json_integer_value(ei) <= 10 * 365 * 86400)
		life = json_integer_value(ei);
	else if (json_is_string(ei))
		life = strtonum(json_string_value(ei), 0, 10 * 365 * 86400,
		    NULL);
	json_object_set_new(store, "access_token", json_string(at));
	json_object_set_new(store, "expires_at",
	    json_integer((json_int_t)time(NULL) + life));
	if (rt != NULL && *rt != '\0')
		json_object_set_new(store, "refresh_token", json_string(rt));
	if (scope != NULL)
		json_object_set_new(store, "scope", json_string(scope));
	return 0;
}

static int
refresh(const struct oauth2_params *p, json_t *store, struct error *err)
{
	struct endpoints e;
	const char *rt = oauth2_str(store, "refresh_token");
	char *form = NULL, why[512];
	json_t *ans = NULL;
	long status;
	int r = -1;

	if (rt == NULL) {
		error_set(err, ERR_AUTH, "the OAuth access token has expired "
		    "and no refresh token is stored");
		return error_hint(err, HINT_OAUTH2_LOGIN);
	}
	if (endpoints_get(p, store, "token", &e, err) == -1) {
		endpoints_free(&e);
		return -1;
	}
	oauth2_form_add(&form, "grant_type", "refresh_token");
	oauth2_form_add(&form, "refresh_token", rt);
	if (add_client(p, store, &form, err) == -1)
		goto done;
	if (oauth2_http(p, e.token, form, &status, &ans, err) == -1) {
		error_prefix(err, "refreshing the OAuth token");
		goto done;
	}
	if (status == 200) {
		r = take_tokens(store, ans, e.token, err);
		goto done;
	}
	provider_error(ans, status, why, sizeof(why));
	if (oauth2_str(ans, "error") != NULL &&
	    (strcmp(oauth2_str(ans, "error"), "invalid_grant") == 0 ||
	    strcmp(oauth2_str(ans, "error"), "unauthorized_client") == 0)) {
		error_set(err, ERR_AUTH, "the provider refused the refresh "
		    "token: %s", why);
		error_hint(err, HINT_OAUTH2_LOGIN);
	} else
		error_set(err, status >= 500 ? ERR_NET : ERR_AUTH,
		    "refreshing the OAuth token: %s", why);
done:
	json_decref(ans);
	secret_free(form);
	endpoints_free(&e);
	return r;
}

char *
oauth2_token(const struct oauth2_params *p, const char *refused,
    struct error *err)
{
	struct oauth2_lock *l;
	const char *at;
	json_t *store, *exp;
	char *tok = NULL;
	int need;

	/* No tokens: say so without making the directory or a lock. */
	if (!oauth2_has_tokens(p)) {
		store = oauth2_store_read(p, err);
		json_decref(store);
		if (store == NULL)
			error_hint(err, HINT_OAUTH2_LOGIN);
		else
			error_set(err, ERR_CONFIG, "no OAuth tokens");
		return NULL;
	}
	if ((l = oauth2_store_lock(p, err)) == NULL)
		return NULL;
	if ((store = oauth2_store_read(p, err)) == NULL)
		goto done;
	at = oauth2_str(store, "access_token");
	exp = json_object_get(store, "expires_at");
	need = at == NULL || !json_is_integer(exp) ||
	    json_integer_value(exp) - (json_int_t)time(NULL) < EARLY ||
	    (refused != NULL && strcmp(refused, at) == 0);
	if (need) {
		if (refresh(p, store, err) == -1 ||
		    oauth2_store_write(p, store, err) == -1)
			goto done;
		at = oauth2_str(store, "access_token");
	}
	tok = xstrdup(at);
done:
	json_decref(store);
	oauth2_store_unlock(l);
	return tok;
}

int
oauth2_has_tokens(const struct oauth2_params *p)
{
	return p->store != NULL && access(p->store, F_OK) == 0;
}

/* base64url without padding (RFC 7636 appendix A). */
static char *
b64url(const void *data, size_t len)
{
	char *s = crypto_b64_encode(data, len), *q;

	for (q = s; *q != '\0'; q++)
		if (*q == '+')
			*q = '-';
		else if (*q == '/')
			*q = '_';
		else if (*q == '=') {
			*q = '\0';
			break;
		}
	return s;
}

static char *
random_b64url(size_t n, struct error *err)
{
	unsigned char buf[64];

	if (n > sizeof(buf) || crypto_random(buf, n) == -1) {
		error_set(err, ERR_SOFTWARE, "no random bytes");
		return NULL;
	}
	return b64url(buf, n);
}

/* The tokens of a login, with what a refresh will need. */
static int
store_login(const struct oauth2_params *p, const struct endpoints *e,
    json_t *ans, const char *url, struct error *err)
{
	struct oauth2_lock *l;
	json_t *store = json_object();
	int r = -1;

	if (e->issuer != NULL)
		json_object_set_new(store, "issuer", json_string(e->issuer));
	json_object_set_new(store, "client_id", json_string(p->client_id));
	if (p->scope != NULL)
		json_object_set_new(store, "scope", json_string(p->scope));
	json_object_set_new(store, "token_endpoint", json_string(e->token));
	if (e->revocation != NULL)
		json_object_set_new(store, "revocation_endpoint",
		    json_string(e->revocation));
	json_object_set_new(store, "obtained_at",
	    json_integer((json_int_t)time(NULL)));
	if (take_tokens(store, ans, url, err) == 0 &&
	    (l = oauth2_store_lock(p, err)) != NULL) {
		r = oauth2_store_write(p, store, err);
		oauth2_store_unlock(l);
	}
	json_decref(store);
	return r;
}

static int
login_device(const struct oauth2_params *p, const struct endpoints *e,
    oauth2_step_fn *step, void *arg, struct error *err)
{
	char *form = NULL, *poll_form = NULL, why[512], s[256];
	const char *dc, *uri, *code;
	json_t *ans = NULL, *st, *v;
	json_int_t interval = 5, life = 600;
	time_t deadline;
	long status;
	int r = -1;

	if (add_client(p, NULL, &form, err) == -1)
		return -1;
	if (p->scope != NULL)
		oauth2_form_add(&form, "scope", p->scope);
	if (oauth2_http(p, e->device, form, &status, &ans, err) == -1)
		goto done;
	if (status != 200) {
		error_set(err, ERR_AUTH, "%s: %s", shown(s, sizeof(s),
		    e->device), provider_error(ans, status, why, sizeof(why)));
		goto done;
	}
	dc = oauth2_str(ans, "device_code");
	code = oauth2_str(ans, "user_code");
	/* Google spells it verification_url. */
	if ((uri = oauth2_str(ans, "verification_uri")) == NULL)
		uri = oauth2_str(ans, "verification_url");
	if (dc == NULL || code == NULL || uri == NULL) {
		error_set(err, ERR_PROTO, "%s: the answer lacks device_code, "
		    "user_code or verification_uri", shown(s, sizeof(s),
		    e->device));
		goto done;
	}
	if (json_is_integer(v = json_object_get(ans, "interval")) &&
	    json_integer_value(v) > 0 && json_integer_value(v) <= 60)
		interval = json_integer_value(v);
	if (json_is_integer(v = json_object_get(ans, "expires_in")) &&
	    json_integer_value(v) > 0 && json_integer_value(v) <= 3600)
		life = json_integer_value(v);
	st = json_object();
	json_object_set_new(st, "verification_uri", json_string(uri));
	json_object_set_new(st, "user_code", json_string(code));
	if (oauth2_str(ans, "verification_uri_complete") != NULL)
		json_object_set_new(st, "verification_uri_complete",
		    json_string(oauth2_str(ans, "verification_uri_complete")));
	json_object_set_new(st, "expires_in", json_integer(life));
	step(arg, st);
	json_decref(st);
	oauth2_form_add(&poll_form, "grant_type", DEVICE_GRANT);
	oauth2_form_add(&poll_form, "device_code", dc);
	if (add_client(p, NULL, &poll_form, err) == -1)
		goto done;
	deadline = time(NULL) + (time_t)life;
	for (;;) {
		json_t *tok = NULL;
		const char *ec;

		if (time(NULL) + interval > deadline) {
			error_set(err, ERR_AUTH, "the device code expired "
			    "before it was approved");
			break;
		}
		(void)sleep((unsigned)interval);
		if (oauth2_http(p, e->token, poll_form, &status, &tok,
		    err) == -1)
			break;
		if (status == 200) {
			r = store_login(p, e, tok, e->token, err);
			json_decref(tok);
			break;
		}
		ec = oauth2_str(tok, "error");
		if (ec != NULL && strcmp(ec, "authorization_pending") == 0) {
			json_decref(tok);
			continue;
		}
		if (ec != NULL && strcmp(ec, "slow_down") == 0) {
			interval += 5;
			json_decref(tok);
			continue;
		}
		error_set(err, ERR_AUTH, "the provider refused the login: %s",
		    provider_error(tok, status, why, sizeof(why)));
		json_decref(tok);
		break;
	}
done:
	json_decref(ans);
	secret_free(form);
	secret_free(poll_form);
	return r;
}

/* The value of name in a query string, decoded; NULL if absent. */
static char *
query_value(const char *q, const char *name)
{
	size_t n = strlen(name), l;
	char *v, *out;
	size_t ol;

	while (q != NULL && *q != '\0') {
		l = strcspn(q, "&");
		if (l > n && strncmp(q, name, n) == 0 && q[n] == '=') {
			v = xmalloc(l - n);
			if (pct_decode(v, q + n + 1, l - n - 1, &ol) == -1 ||
			    memchr(v, '\0', ol) != NULL) {
				free(v);
				return NULL;
			}
			out = xstrndup(v, ol);
			free(v);
			return out;
		}
		q += l;
		if (*q == '&')
			q++;
	}
	return NULL;
}

static void
http_answer(int fd, int code, const char *text)
{
	char buf[512];
	int n;

	n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\nContent-Type: "
	    "text/plain; charset=utf-8\r\nConnection: close\r\n"
	    "Content-Length: %zu\r\n\r\n%s", code, code == 200 ? "OK" :
	    code == 404 ? "Not Found" : "Bad Request", strlen(text), text);
	if (n > 0 && (size_t)n < sizeof(buf))
		(void)write(fd, buf, (size_t)n);
}

/*
 * Reads one request from the browser: the request line's target, if
 * it is "GET /?..." within REQUEST_MAX bytes and 10 seconds.  Returns
 * the query (owned), "" for another path, NULL for garbage.
 */
static char *
read_request(int fd)
{
	char buf[REQUEST_MAX + 1], *sp, *end;
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t len = 0;
	ssize_t r;

	while (len < REQUEST_MAX && memchr(buf, '\n', len) == NULL) {
		if (poll(&pfd, 1, 10000) != 1 ||
		    (r = read(fd, buf + len, REQUEST_MAX - len)) <= 0)
			return NULL;
		len += (size_t)r;
	}
	buf[len] = '\0';
	if (strncmp(buf, "GET ", 4) != 0 ||
	    (sp = strchr(buf + 4, ' ')) == NULL)
		return NULL;
	*sp = '\0';
	if (strncmp(buf + 4, "/?", 2) != 0)
		return xstrdup("");
	if ((end = strchr(buf + 6, '#')) != NULL)
		*end = '\0';
	return xstrdup(buf + 6);
}

/* Listens on 127.0.0.1 on a port the kernel picks. */
static int
listen_loopback(int *port, struct error *err)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 4) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1) {
		error_set(err, ERR_IO, "the loopback listener: %s",
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Waits for the redirect that carries the code for state; returns the
 * code (owned) or NULL with err. */
static char *
wait_redirect(int lfd, const char *state, struct error *err)
{
	time_t deadline = time(NULL) + LOOPBACK_WAIT;
	struct pollfd pfd = { lfd, POLLIN, 0 };
	char *q, *code = NULL, *st, *e, why[256];
	int fd;

	for (;;) {
		if (time(NULL) >= deadline) {
			error_set(err, ERR_AUTH, "no redirect from the "
			    "browser within %d minutes", LOOPBACK_WAIT / 60);
			return NULL;
		}
		if (poll(&pfd, 1, 1000) != 1)
			continue;
		if ((fd = accept(lfd, NULL, NULL)) == -1)
			continue;
		if ((q = read_request(fd)) == NULL) {
			http_answer(fd, 400, "popfetch: not a redirect\n");
			close(fd);
			continue;
		}
		if (*q == '\0' || (strstr(q, "code=") == NULL &&
		    strstr(q, "error=") == NULL)) {
			/* A favicon, or a probe: not the redirect. */
			http_answer(fd, 404, "popfetch: nothing here\n");
			close(fd);
			free(q);
			continue;
		}
		break;
	}
	st = query_value(q, "state");
	if (st == NULL || strcmp(st, state) != 0) {
		http_answer(fd, 400, "popfetch: the state of this redirect "
		    "does not match the login; refused\n");
		error_set(err, ERR_AUTH, "the redirect's state does not match "
		    "the one popfetch sent; refusing its code (a forged or "
		    "stale redirect)");
	} else if ((e = query_value(q, "error")) != NULL) {
		http_answer(fd, 400, "popfetch: the provider refused the "
		    "login\n");
		error_set(err, ERR_AUTH, "the provider refused the login: %s",
		    shown(why, sizeof(why), e));
		free(e);
	} else {
		code = query_value(q, "code");
		http_answer(fd, 200, "popfetch has the authorization code; "
		    "you may close this page.\n");
	}
	close(fd);
	free(st);
	secret_free(q);
	return code;
}

static int
login_loopback(const struct oauth2_params *p, const struct endpoints *e,
    oauth2_step_fn *step, void *arg, struct error *err)
{
	unsigned char digest[CRYPTO_HASH_MAX];
	char *verifier = NULL, *challenge = NULL, *state = NULL;
	char *q = NULL, *form = NULL, *url = NULL, *code = NULL;
	char redirect[64], why[512], s[256];
	json_t *st, *ans = NULL;
	size_t ul;
	long status;
	int lfd, port, r = -1;

	if ((lfd = listen_loopback(&port, err)) == -1)
		return -1;
	(void)snprintf(redirect, sizeof(redirect), "http://127.0.0.1:%d/",
	    port);
	if ((verifier = random_b64url(32, err)) == NULL ||
	    (state = random_b64url(16, err)) == NULL)
		goto done;
	if (crypto_hash(HASH_SHA256, verifier, strlen(verifier),
	    digest) == -1) {
		error_set(err, ERR_SOFTWARE, "SHA-256 failed");
		goto done;
	}
	challenge = b64url(digest, 32);
	oauth2_form_add(&q, "response_type", "code");
	oauth2_form_add(&q, "client_id", p->client_id);
	oauth2_form_add(&q, "redirect_uri", redirect);
	if (p->scope != NULL)
		oauth2_form_add(&q, "scope", p->scope);
	oauth2_form_add(&q, "state", state);
	oauth2_form_add(&q, "code_challenge", challenge);
	oauth2_form_add(&q, "code_challenge_method", "S256");
	/* Without consent asked for again, providers leave out the
	 * refresh token (OpenID Connect Core 1.0 section 11). */
	oauth2_form_add(&q, "prompt", "consent");
	if (p->offline_params)
		oauth2_form_add(&q, "access_type", "offline");
	ul = strlen(e->authorization) + 1 + strlen(q) + 1;
	url = xmalloc(ul);
	(void)snprintf(url, ul, "%s%s%s", e->authorization,
	    strchr(e->authorization, '?') != NULL ? "&" : "?", q);
	st = json_object();
	json_object_set_new(st, "authorization_url", json_string(url));
	json_object_set_new(st, "redirect_uri", json_string(redirect));
	step(arg, st);
	json_decref(st);
	if ((code = wait_redirect(lfd, state, err)) == NULL)
		goto done;
	oauth2_form_add(&form, "grant_type", "authorization_code");
	oauth2_form_add(&form, "code", code);
	oauth2_form_add(&form, "redirect_uri", redirect);
	oauth2_form_add(&form, "code_verifier", verifier);
	if (add_client(p, NULL, &form, err) == -1)
		goto done;
	if (oauth2_http(p, e->token, form, &status, &ans, err) == -1)
		goto done;
	if (status != 200) {
		error_set(err, ERR_AUTH, "%s: the provider refused the code: "
		    "%s", shown(s, sizeof(s), e->token), provider_error(ans,
		    status, why, sizeof(why)));
		goto done;
	}
	r = store_login(p, e, ans, e->token, err);
done:
	close(lfd);
	json_decref(ans);
	secret_free(verifier);
	free(challenge);
	free(state);
	free(q);
	free(url);
	secret_free(code);
	secret_free(form);
	return r;
}

int
oauth2_login(const struct oauth2_params *p, oauth2_step_fn *step,
    void *arg, struct error *err)
{
	struct endpoints e;
	enum oauth2_flow flow = p->flow;
	int r;

	if (p->client_id == NULL || *p->client_id == '\0')
		return error_set(err, ERR_USAGE, "oauth2 login needs the "
		    "client id of an application registered with the provider "
		    "(see OAUTH 2.0 in popfetch(1))");
	if (p->store == NULL)
		return error_set(err, ERR_CONFIG, "no place for the OAuth "
		    "tokens: neither HOME nor XDG_STATE_HOME is set, and no "
		    "token file is named");
	if (flow == OAUTH2_FLOW_DEFAULT)
		flow = p->authorization_endpoint != NULL ||
		    p->device_endpoint == NULL ? OAUTH2_FLOW_LOOPBACK :
		    OAUTH2_FLOW_DEVICE;
	if (endpoints_get(p, NULL, flow == OAUTH2_FLOW_DEVICE ? "device" :
	    "authorization", &e, err) == -1) {
		endpoints_free(&e);
		return -1;
	}
	r = flow == OAUTH2_FLOW_DEVICE ? login_device(p, &e, step, arg, err) :
	    login_loopback(p, &e, step, arg, err);
	endpoints_free(&e);
	return r;
}

json_t *
oauth2_status(const struct oauth2_params *p, struct error *err)
{
	json_t *store, *o, *exp;
	const char *k;

	if ((store = oauth2_store_read(p, err)) == NULL)
		return NULL;
	o = json_object();
	json_object_set_new(o, "token_file", json_string(p->store));
	k = oauth2_str(store, "issuer");
	json_object_set_new(o, "issuer", k != NULL ? json_string(k) :
	    json_null());
	k = oauth2_str(store, "client_id");
	json_object_set_new(o, "client_id", k != NULL ? json_string(k) :
	    json_null());
	k = oauth2_str(store, "scope");
	json_object_set_new(o, "scope", k != NULL ? json_string(k) :
	    json_null());
	exp = json_object_get(store, "expires_at");
	if (json_is_integer(exp)) {
		json_object_set_new(o, "access_token_expires",
		    json_integer(json_integer_value(exp)));
		json_object_set_new(o, "expires_in",
		    json_integer(json_integer_value(exp) -
		    (json_int_t)time(NULL)));
	} else {
		json_object_set_new(o, "access_token_expires", json_null());
		json_object_set_new(o, "expires_in", json_null());
	}
	json_object_set_new(o, "refresh_token",
	    json_boolean(oauth2_str(store, "refresh_token") != NULL));
	json_decref(store);
	return o;
}

/* RFC 7009: 200 means revoked (or already invalid). */
static int
revoke_token(const struct oauth2_params *p, json_t *store, const char *url,
    const char *kind, struct error *err)
{
	const char *tok = oauth2_str(store, kind);
	char *form = NULL;
	json_t *ans = NULL;
	long status = 0;
	int r;

	if (tok == NULL)
		return 1;
	oauth2_form_add(&form, "token", tok);
	oauth2_form_add(&form, "token_type_hint", kind);
	if (add_client(p, store, &form, err) == -1) {
		secret_free(form);
		return 0;
	}
	r = oauth2_http(p, url, form, &status, &ans, err) == 0 &&
	    status == 200;
	json_decref(ans);
	secret_free(form);
	return r;
}

int
oauth2_logout(const struct oauth2_params *p, int *revoked,
    struct error *err)
{
	struct oauth2_lock *l;
	struct endpoints e;
	struct error ignored;
	json_t *store;
	int r = -1;

	*revoked = 0;
	if ((l = oauth2_store_lock(p, err)) == NULL)
		return -1;
	if ((store = oauth2_store_read(p, err)) == NULL)
		goto done;
	memset(&e, 0, sizeof(e));
	e.revocation = dup_or_null(p->revocation_endpoint != NULL ?
	    p->revocation_endpoint : oauth2_str(store,
	    "revocation_endpoint"));
	if (e.revocation != NULL) {
		*revoked = revoke_token(p, store, e.revocation,
		    "refresh_token", &ignored);
		*revoked &= revoke_token(p, store, e.revocation,
		    "access_token", &ignored);
	}
	endpoints_free(&e);
	json_decref(store);
	r = oauth2_store_delete(p, err);
done:
	oauth2_store_unlock(l);
	return r;
}
