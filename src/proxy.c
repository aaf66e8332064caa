/*
 * proxy.c - SOCKS5 (RFC 1928) and its username/password method (RFC
 * 1929), client side (proxy.h).
 *
 * The exchange is a few small binary messages, read with exact lengths
 * straight from the descriptor before net.c wraps it: nothing of the
 * POP3 stream can be read ahead by mistake.  With socks5h:// the host
 * name goes to the proxy as it is (ATYP 3), which is what Tor and
 * .onion names need; with socks5:// it is resolved here and the first
 * address is sent.  TLS starts only after this, end to end, and checks
 * the POP3 host's name, never the proxy's.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth.h"
#include "net.h"
#include "proxy.h"

void
proxy_free(struct proxy *p)
{
	free(p->user);
	free(p->host);
	free(p->port);
	memset(p, 0, sizeof(*p));
}

int
proxy_parse(const char *url, struct proxy *p, struct error *err)
{
	const char *s, *at, *colon, *h;
	size_t hl;

	memset(p, 0, sizeof(*p));
	if (strncasecmp(url, "socks5h://", 10) == 0) {
		p->remote_dns = 1;
		s = url + 10;
	} else if (strncasecmp(url, "socks5://", 9) == 0)
		s = url + 9;
	else
		return error_set(err, ERR_CONFIG, "proxy \"%.64s\": not a "
		    "socks5h:// or socks5:// URL", url);
	if ((at = strrchr(s, '@')) != NULL) {
		if (memchr(s, ':', (size_t)(at - s)) != NULL)
			return error_set(err, ERR_CONFIG, "proxy: passwords "
			    "are not accepted in the URL; see PASSWORDS in "
			    "popfetch(1)");
		if (at == s || at - s > 255)
			return error_set(err, ERR_CONFIG, "proxy: a user name "
			    "of 1 to 255 bytes");
		p->user = xstrndup(s, (size_t)(at - s));
		s = at + 1;
	}
	colon = strrchr(s, ':');
	if (colon == NULL || colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789/") != strlen(colon + 1)) {
		proxy_free(p);
		return error_set(err, ERR_CONFIG, "proxy \"%.64s\": HOST:PORT "
		    "needed", url);
	}
	h = s;
	hl = (size_t)(colon - s);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0) {
		proxy_free(p);
		return error_set(err, ERR_CONFIG, "proxy \"%.64s\": no host",
		    url);
	}
	p->host = xstrndup(h, hl);
	p->port = xstrndup(colon + 1, strcspn(colon + 1, "/"));
	return 0;
}

static int
put_all(int fd, const unsigned char *b, size_t n, struct error *err)
{
	ssize_t r;

	while (n > 0) {
		r = send(fd, b, n, MSG_NOSIGNAL);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return error_set(err, ERR_NET, "proxy: write failed: "
			    "%s", errno == EAGAIN ? "timed out" :
			    strerror(errno));
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
get_all(int fd, unsigned char *b, size_t n, struct error *err)
{
	ssize_t r;

	while (n > 0) {
		r = recv(fd, b, n, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0)
			return error_set(err, ERR_NET, "proxy: it closed the "
			    "connection");
		if (r == -1)
			return error_set(err, ERR_NET, "proxy: read failed: "
			    "%s", errno == EAGAIN ? "timed out" :
			    strerror(errno));
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* RFC 1929: VER 1, ULEN, UNAME, PLEN, PASSWD; the reply VER, STATUS. */
static int
userpass(int fd, const struct proxy *p, struct error *err)
{
	unsigned char msg[3 + 255 + 255], rep[2];
	const char *env = getenv("POPFETCH_PROXY_PASSWORD");
	struct cred_params cred;
	char *pw;
	size_t ul = strlen(p->user), pl;
	int r;

	memset(&cred, 0, sizeof(cred));
	cred.no_env = 1;
	if (env != NULL)
		pw = xstrdup(env);
	else if ((pw = auth_password(&cred, p->host, p->user, err)) == NULL)
		return error_prefix(err, "proxy");
	if ((pl = strlen(pw)) > 255) {
		secret_free(pw);
		return error_set(err, ERR_CONFIG, "proxy: a password longer "
		    "than 255 bytes");
	}
	msg[0] = 1;
	msg[1] = (unsigned char)ul;
	memcpy(msg + 2, p->user, ul);
	msg[2 + ul] = (unsigned char)pl;
	memcpy(msg + 3 + ul, pw, pl);
	secret_free(pw);
	r = put_all(fd, msg, 3 + ul + pl, err);
	explicit_bzero(msg, sizeof(msg));
	if (r == -1 || get_all(fd, rep, 2, err) == -1)
		return -1;
	if (rep[1] != 0)
		return error_set(err, ERR_AUTH, "proxy: it refused the user "
		    "name or password");
	return 0;
}

static const char *const replies[] = {
	"succeeded", "general failure", "not allowed by its rules",
	"network unreachable", "host unreachable", "connection refused",
	"TTL expired", "command not supported", "address type not supported"
};

/* The method negotiation: none, or RFC 1929 user and password when the
 * proxy URL names a user. */
static int
negotiate(int fd, const struct proxy *p, struct error *err)
{
	unsigned char req[4], m[2];
	size_t n = 0;

	req[n++] = 5;
	req[n++] = p->user != NULL ? 2 : 1;
	req[n++] = 0;
	if (p->user != NULL)
		req[n++] = 2;
	if (put_all(fd, req, n, err) == -1 || get_all(fd, m, 2, err) == -1)
		return -1;
	if (m[0] != 5)
		return error_set(err, ERR_PROTO, "proxy: not a SOCKS5 proxy");
	if (m[1] == 0xff)
		return error_set(err, ERR_CONFIG, "proxy: it wants "
		    "credentials%s", p->user != NULL ? " popfetch cannot "
		    "give" : "; give USER@ in the proxy URL");
	if (m[1] == 2 && p->user != NULL)
		return userpass(fd, p, err);
	if (m[1] != 0)
		return error_set(err, ERR_PROTO, "proxy: it chose a method "
		    "popfetch did not offer");
	return 0;
}

/* Appends the CONNECT request's address to req at *n: the name itself
 * (socks5h), or the address it has here (socks5). */
static int
put_address(unsigned char *req, size_t *n, const struct proxy *p,
    const char *host, int timeout, struct error *err)
{
	struct addrinfo hints, *res;
	size_t hl = strlen(host);
	int r;

	if (p->remote_dns) {
		if (hl == 0 || hl > 255)
			return error_set(err, ERR_CONFIG, "proxy: a host name "
			    "of 1 to 255 bytes");
		req[(*n)++] = 3;
		req[(*n)++] = (unsigned char)hl;
		memcpy(req + *n, host, hl);
		*n += hl;
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	r = net_lookup(host, NULL, &hints, timeout, &res);
	if (r == NET_LOOKUP_TIMEOUT)
		return error_set(err, ERR_NET, "the name lookup of %.255s took "
		    "longer than %d second%s", host, timeout,
		    timeout == 1 ? "" : "s");
	if (r != 0)
		return error_set(err, r == EAI_AGAIN || r == EAI_SYSTEM ?
		    ERR_NET : ERR_NOHOST, "host not found: %s",
		    gai_strerror(r));
	if (res->ai_family == AF_INET6) {
		req[(*n)++] = 4;
		memcpy(req + *n, &((struct sockaddr_in6 *)
		    (void *)res->ai_addr)->sin6_addr, 16);
		*n += 16;
	} else {
		req[(*n)++] = 1;
		memcpy(req + *n, &((struct sockaddr_in *)
		    (void *)res->ai_addr)->sin_addr, 4);
		*n += 4;
	}
	net_lookup_free(res);
	return 0;
}

/* The CONNECT reply: its status, then the bound address, which nothing
 * here needs, read and dropped. */
static int
get_reply(int fd, const char *port, struct error *err)
{
	unsigned char rep[4 + 16 + 2];
	size_t skip;

	if (get_all(fd, rep, 4, err) == -1)
		return -1;
	if (rep[0] != 5)
		return error_set(err, ERR_PROTO, "proxy: not a SOCKS5 reply");
	if (rep[1] != 0) {
		if (rep[1] == 2 || rep[1] == 7 || rep[1] == 8)
			return error_set(err, ERR_REFUSED, "proxy: %s",
			    replies[rep[1]]);
		return error_set(err, ERR_NET, "proxy: cannot reach port %s: "
		    "%s", port, rep[1] < 9 ? replies[rep[1]] :
		    "unknown error");
	}
	if (rep[3] == 1)
		skip = 4 + 2;
	else if (rep[3] == 4)
		skip = 16 + 2;
	else if (rep[3] == 3) {
		if (get_all(fd, rep, 1, err) == -1)
			return -1;
		skip = (size_t)rep[0] + 2;
	} else
		return error_set(err, ERR_PROTO, "proxy: a reply with an "
		    "unknown address type");
	while (skip > 0) {
		size_t k = skip < sizeof(rep) ? skip : sizeof(rep);

		if (get_all(fd, rep, k, err) == -1)
			return -1;
		skip -= k;
	}
	return 0;
}

int
proxy_socks5(int fd, const struct proxy *p, const char *host,
    const char *port, int timeout, struct error *err)
{
	unsigned char req[4 + 1 + 255 + 2];
	const char *errstr;
	size_t n = 0;
	long long num;

	num = strtonum(port, 1, 65535, &errstr);
	if (errstr != NULL)
		return error_set(err, ERR_CONFIG, "proxy: port %s is %s",
		    port, errstr);
	if (negotiate(fd, p, err) == -1)
		return -1;
	req[n++] = 5;
	req[n++] = 1;		/* CONNECT */
	req[n++] = 0;
	if (put_address(req, &n, p, host, timeout, err) == -1)
		return -1;
	req[n++] = (unsigned char)(num >> 8);
	req[n++] = (unsigned char)(num & 0xff);
	if (put_all(fd, req, n, err) == -1)
		return -1;
	return get_reply(fd, port, err);
}
