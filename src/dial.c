/*
 * dial.c - reaching the POP3 server (dial.h).
 *
 * A connect command gets one end of a socket pair as its standard input
 * and output; popfetch keeps the other, with the same time bounds as a
 * TCP socket (SO_RCVTIMEO, SO_SNDTIMEO), so a silent command times out
 * like a silent server.  A SOCKS5 proxy (proxy.c) is reached like the
 * server itself (-4, -6, a source address) and then asked for the
 * connection.  The command runs in a grandchild: the child
 * exits at once and is reaped here, so the command can never be left a
 * zombie of popfetch; it ends when popfetch closes its end.
 */
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dial.h"
#include "proxy.h"

static void
set_timeouts(int fd, int timeout)
{
	struct timeval tv;

	tv.tv_sec = timeout;
	tv.tv_usec = 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static struct net *
via_command(const char *command, const char *host, const char *port,
    int timeout, struct error *err)
{
	struct net *n;
	char *cmd;
	int sv[2];
	pid_t pid, parent = getpid();
	/* From a terminal the command stays in popfetch's process group,
	 * where it may ask there (ssh for a passphrase or a host key)
	 * without being stopped; elsewhere it gets a group of its own,
	 * ended as a whole. */
	int own_group = !tty_foreground();

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		error_set(err, ERR_IO, "socketpair: %s", strerror(errno));
		return NULL;
	}
	cmd = sh_expand(command, "hp", (const char *const[]){ host, port });
	if ((pid = fork()) == -1) {
		error_set(err, ERR_IO, "fork: %s", strerror(errno));
		free(cmd);
		(void)close(sv[0]);
		(void)close(sv[1]);
		return NULL;
	}
	if (pid == 0) {
		/* Ended with the connection (see net_set_child) or with
		 * popfetch, whichever goes first. */
		if (own_group)
			(void)setpgid(0, 0);
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
		    getppid() != parent)
			_exit(127);
		(void)signal(SIGPIPE, SIG_DFL);
		(void)unsetenv("POPFETCH_PASSWORD");
		if (dup2(sv[1], STDIN_FILENO) == -1 ||
		    dup2(sv[1], STDOUT_FILENO) == -1)
			_exit(127);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (own_group)
		(void)setpgid(pid, pid);	/* either side may win the race */
	free(cmd);
	(void)close(sv[1]);
	set_timeouts(sv[0], timeout);
	n = net_from_fd(sv[0], timeout);
	net_set_child(n, pid, own_group);
	return n;
}

/* One address, bound to src (of its family) if given, connected within
 * timeout.  -1 with *errp. */
static int
connect_one(const struct addrinfo *ai, const struct addrinfo *src,
    int timeout, int *errp)
{
	struct pollfd pfd;
	socklen_t sl;
	int fd, flags, r, e = 0;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol);
	if (fd == -1) {
		*errp = errno;
		return -1;
	}
	if (src != NULL && bind(fd, src->ai_addr, src->ai_addrlen) == -1) {
		*errp = errno;
		(void)close(fd);
		return -1;
	}
	flags = fcntl(fd, F_GETFL);
	(void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	r = connect(fd, ai->ai_addr, ai->ai_addrlen);
	if (r == -1 && errno != EINPROGRESS) {
		*errp = errno;
		(void)close(fd);
		return -1;
	}
	if (r == -1) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do {
			r = poll(&pfd, 1, timeout * 1000);
		} while (r == -1 && errno == EINTR);
		sl = sizeof(e);
		if (r == 0 || r == -1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) == -1 ||
		    e != 0) {
			*errp = r == 0 ? ETIMEDOUT : e != 0 ? e : errno;
			(void)close(fd);
			return -1;
		}
	}
	(void)fcntl(fd, F_SETFL, flags);
	set_timeouts(fd, timeout);
	return fd;
}

/* A TCP connection, restricted to a family or from a source if dp says
 * so, the name looked up within lookup seconds: its descriptor, or -1
 * with err. */
static int
open_tcp(const char *host, const char *port, int timeout, int lookup,
    const struct dial_params *dp, struct error *err)
{
	struct addrinfo hints, *res, *ai, *src = NULL, *s;
	int fd = -1, e = EAFNOSUPPORT, r, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = dp->family == 4 ? AF_INET : dp->family == 6 ?
	    AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (dp->source != NULL) {
		struct addrinfo sh = hints;

		sh.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
		if (getaddrinfo(dp->source, NULL, &sh, &src) != 0) {
			return error_set(err, ERR_CONFIG, "source address "
			    "\"%.64s\" is not an address%s", dp->source,
			    dp->family != 0 ? " of that family" : "");
		}
	}
	if ((r = net_lookup(host, port, &hints, lookup, &res)) != 0) {
		if (src != NULL)
			freeaddrinfo(src);
		if (r == NET_LOOKUP_TIMEOUT)
			error_set(err, ERR_NET, "the name lookup of %.255s "
			    "took longer than %d second%s", host, lookup,
			    lookup == 1 ? "" : "s");
		else if (r == EAI_AGAIN || r == EAI_SYSTEM)
			error_set(err, ERR_NET, "cannot resolve host: %s",
			    gai_strerror(r));
		else if (r == EAI_SERVICE)
			error_set(err, ERR_SOFTWARE, "bad port %s", port);
		else
			error_set(err, ERR_NOHOST, "host not found%s: %s",
			    dp->family == 4 ? " over IPv4" : dp->family == 6 ?
			    " over IPv6" : "", gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
		for (s = src; s != NULL && s->ai_family != ai->ai_family;
		    s = s->ai_next)
			;
		if (src != NULL && s == NULL)
			continue;	/* the source cannot reach it */
		fd = connect_one(ai, s, timeout, &e);
	}
	net_lookup_free(res);
	if (src != NULL)
		freeaddrinfo(src);
	if (fd == -1)
		return error_set(err, ERR_NET, "cannot connect to port %s: %s",
		    port, e == ETIMEDOUT ? "connection timed out" :
		    strerror(e));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Through a SOCKS5 proxy, reached as dp says. */
static struct net *
via_proxy(const char *host, const char *port, int timeout, int lookup,
    const struct dial_params *dp, struct error *err)
{
	struct proxy p;
	int fd;

	if (proxy_parse(dp->proxy, &p, err) == -1)
		return NULL;
	if ((fd = open_tcp(p.host, p.port, timeout, lookup, dp, err)) == -1) {
		error_prefix(err, "proxy %s", p.host);
		proxy_free(&p);
		return NULL;
	}
	if (proxy_socks5(fd, &p, host, port, lookup, err) == -1) {
		(void)close(fd);
		proxy_free(&p);
		return NULL;
	}
	proxy_free(&p);
	return net_from_fd(fd, timeout);
}

struct net *
dial_connect(const char *host, const char *port, int timeout,
    int max_time, const struct dial_params *dp, struct error *err)
{
	struct net *n;
	int fd, lookup;

	if (dp->command != NULL && dp->proxy != NULL) {
		error_set(err, ERR_CONFIG, "a connect command and a proxy "
		    "exclude each other");
		return NULL;
	}
	if (dp->family == 0 && dp->source == NULL && dp->command == NULL &&
	    dp->proxy == NULL)
		return net_connect(host, port, timeout, max_time, err);
	/* Each name lookup within the timeout, or max_time if shorter. */
	lookup = max_time > 0 && max_time < timeout ? max_time : timeout;
	if (dp->command != NULL)
		n = via_command(dp->command, host, port, timeout, err);
	else if (dp->proxy != NULL)
		n = via_proxy(host, port, timeout, lookup, dp, err);
	else if ((fd = open_tcp(host, port, timeout, lookup, dp, err)) == -1)
		n = NULL;
	else
		n = net_from_fd(fd, timeout);
	if (n != NULL)
		net_set_max_time(n, max_time);
	return n;
}
