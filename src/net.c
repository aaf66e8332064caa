/*
 * net.c - TCP connections with timeouts and a read buffer.
 *
 * Time bounds.  connect() runs non-blocking under poll().  Afterwards
 * every read, including those GnuTLS makes during the handshake and
 * after it, first waits in net_wait, which enforces two rules:
 *  - a minimum rate: the time spent waiting for the server is counted
 *    in periods of the timeout; a period that ends with fewer than
 *    NET_MIN_BYTES received since the last command was sent (or the
 *    last period ended) is a timeout.  A server that drips one byte now
 *    and then, or an attacker re-segmenting the stream, cannot hold a
 *    session open for longer than the timeout per NET_MIN_BYTES;
 *  - a deadline for the whole connection (max_time), after which every
 *    wait fails at once.
 * Writes are blocking with SO_SNDTIMEO set before each command to the
 * timeout or, if shorter, the time left before the deadline.
 *
 * The name lookup comes first and has a bound too: getaddrinfo runs in a
 * forked child (never exec'd; it _exits without flushing stdio or
 * running atexit handlers) that writes what it found to a pipe; the
 * parent waits on the pipe for at most the bound, then kills and reaps
 * the child.  A numeric address needs no child.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

struct net {
	int		 fd;
	int		 timeout;
	long long	 deadline;	/* ms, CLOCK_MONOTONIC; 0: none */
	int		 max_time;	/* seconds, for the message */
	long long	 waited;	/* ms waited in this period */
	size_t		 got;		/* bytes received in it */
	unsigned long long total;	/* bytes received in all */
	struct error	 werr;		/* why a wait in TLS failed */
	int		 wfailed;
	struct tls	*tls;
	pid_t		 child;		/* the command at the other end; 0: none */
	pid_t		 kill_id;	/* child, or -child for its group */
	size_t		 start;		/* first unread byte */
	size_t		 end;		/* one past the last received byte */
	char		 buf[NET_BUFSIZE + 1];
};

/* The milliseconds to wait at most: ms, or less if the deadline is
 * nearer; 0 once it has passed. */
static int
bounded(long long deadline, long long ms)
{
	long long left;

	if (deadline != 0) {
		left = deadline - now_ms();
		if (left < 0)
			left = 0;
		if (left < ms)
			ms = left;
	}
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static int
connect_one(const struct addrinfo *ai, int timeout, long long deadline,
    int *errp)
{
	struct timeval tv;
	struct pollfd pfd;
	socklen_t sl;
	int fd, flags, r, e = 0, one = 1;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol);
	if (fd == -1) {
		*errp = errno;
		return -1;
	}
	flags = fcntl(fd, F_GETFL);
	(void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	r = connect(fd, ai->ai_addr, ai->ai_addrlen);
	if (r == -1 && errno != EINPROGRESS) {
		*errp = errno;
		close(fd);
		return -1;
	}
	if (r == -1) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do {
			r = poll(&pfd, 1,
			    bounded(deadline, (long long)timeout * 1000));
		} while (r == -1 && errno == EINTR);
		if (r == 0) {
			*errp = ETIMEDOUT;
			close(fd);
			return -1;
		}
		sl = sizeof(e);
		if (r == -1 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) == -1 ||
		    e != 0) {
			*errp = e != 0 ? e : errno;
			close(fd);
			return -1;
		}
	}
	(void)fcntl(fd, F_SETFL, flags);
	tv.tv_sec = timeout;
	tv.tv_usec = 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* What the lookup child writes: a header, then count addresses. */
#define LOOKUP_MAX	32
struct lookup_head {
	int		 gai;
	int		 err;		/* errno for EAI_SYSTEM */
	int		 count;
};
struct lookup_addr {
	int		 family;
	int		 socktype;
	int		 protocol;
	socklen_t	 len;
	struct sockaddr_storage ss;
};
struct lookup_msg {
	struct lookup_head head;
	struct lookup_addr addr[LOOKUP_MAX];
};

/* One entry of a list net_lookup returns: the address lives in it. */
struct lookup_node {
	struct addrinfo	 ai;
	struct sockaddr_storage ss;
};

static struct addrinfo *
lookup_node(int family, int socktype, int protocol, const void *sa,
    socklen_t len)
{
	struct lookup_node *ln = xcalloc(1, sizeof(*ln));

	ln->ai.ai_family = family;
	ln->ai.ai_socktype = socktype;
	ln->ai.ai_protocol = protocol;
	ln->ai.ai_addrlen = len;
	memcpy(&ln->ss, sa, len);
	ln->ai.ai_addr = (struct sockaddr *)(void *)&ln->ss;
	return &ln->ai;
}

void
net_lookup_free(struct addrinfo *ai)
{
	struct addrinfo *next;

	for (; ai != NULL; ai = next) {
		next = ai->ai_next;
		free(ai);	/* the first member of its lookup_node */
	}
}

/* getaddrinfo's list copied into one of ours (its own is freed). */
static struct addrinfo *
lookup_copy(struct addrinfo *res)
{
	struct addrinfo *head = NULL, **tail = &head, *ai;
	int n = 0;

	for (ai = res; ai != NULL && n < LOOKUP_MAX; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(struct sockaddr_storage))
			continue;
		*tail = lookup_node(ai->ai_family, ai->ai_socktype,
		    ai->ai_protocol, ai->ai_addr, ai->ai_addrlen);
		tail = &(*tail)->ai_next;
		n++;
	}
	freeaddrinfo(res);
	return head;
}

/* The child: looks up, writes the answer to fd, ends. */
static _Noreturn void
lookup_child(int fd, const char *host, const char *port,
    const struct addrinfo *hints)
{
	struct lookup_msg m;
	struct addrinfo *res = NULL, *ai;
	const char *p = (const char *)&m;
	size_t len, off = 0;
	ssize_t w;

	(void)signal(SIGINT, SIG_DFL);
	(void)signal(SIGTERM, SIG_DFL);
	(void)signal(SIGHUP, SIG_DFL);
	(void)signal(SIGPIPE, SIG_IGN);
	memset(&m, 0, sizeof(m));
	m.head.gai = getaddrinfo(host, port, hints, &res);
	m.head.err = errno;
	if (m.head.gai == 0) {
		for (ai = res; ai != NULL && m.head.count < LOOKUP_MAX;
		    ai = ai->ai_next) {
			if (ai->ai_addrlen > sizeof(m.addr[0].ss))
				continue;
			m.addr[m.head.count].family = ai->ai_family;
			m.addr[m.head.count].socktype = ai->ai_socktype;
			m.addr[m.head.count].protocol = ai->ai_protocol;
			m.addr[m.head.count].len = ai->ai_addrlen;
			memcpy(&m.addr[m.head.count].ss, ai->ai_addr,
			    ai->ai_addrlen);
			m.head.count++;
		}
		freeaddrinfo(res);
	}
	len = sizeof(m.head) + (size_t)m.head.count * sizeof(m.addr[0]);
	while (off < len) {
		w = write(fd, p + off, len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(1);
		off += (size_t)w;
	}
	_exit(0);
}

/* Reads the child's answer within deadline: bytes read, or -1 on
 * overrun (or a failed poll). */
static ssize_t
lookup_read(int fd, struct lookup_msg *m, long long deadline)
{
	struct pollfd pfd;
	char *p = (char *)m;
	size_t off = 0;
	ssize_t r;
	int ms;

	pfd.fd = fd;
	pfd.events = POLLIN;
	while (off < sizeof(*m)) {
		if ((ms = bounded(deadline, INT_MAX)) == 0)
			return -1;
		r = poll(&pfd, 1, ms);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		r = read(fd, p + off, sizeof(*m) - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		off += (size_t)r;
	}
	return (ssize_t)off;
}

int
net_lookup(const char *host, const char *port, const struct addrinfo *hints,
    int seconds, struct addrinfo **resp)
{
	struct addrinfo h = *hints, *res, **tail;
	struct lookup_msg *m;
	ssize_t got;
	pid_t pid;
	int fds[2], r, i, st, e;

	*resp = NULL;
	h.ai_flags |= AI_NUMERICHOST;
	r = getaddrinfo(host, port, &h, &res);
	if (r == 0) {
		*resp = lookup_copy(res);
		return *resp != NULL ? 0 : EAI_NONAME;
	}
	if (r != EAI_NONAME || (hints->ai_flags & AI_NUMERICHOST))
		return r;
	if (pipe(fds) == -1)
		return EAI_SYSTEM;
	(void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	if ((pid = fork()) == -1) {
		e = errno;
		(void)close(fds[0]);
		(void)close(fds[1]);
		errno = e;
		return EAI_SYSTEM;
	}
	if (pid == 0) {
		(void)close(fds[0]);
		lookup_child(fds[1], host, port, hints);
	}
	(void)close(fds[1]);
	m = xcalloc(1, sizeof(*m));
	got = lookup_read(fds[0], m,
	    now_ms() + (long long)(seconds > 0 ? seconds : 1) * 1000);
	(void)close(fds[0]);
	if (got == -1)
		(void)kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (got == -1) {
		free(m);
		return NET_LOOKUP_TIMEOUT;
	}
	if ((size_t)got < sizeof(m->head) || m->head.count < 0 ||
	    m->head.count > LOOKUP_MAX || (size_t)got != sizeof(m->head) +
	    (size_t)m->head.count * sizeof(m->addr[0])) {
		free(m);
		errno = EIO;	/* the child died before it had answered */
		return EAI_SYSTEM;
	}
	if ((r = m->head.gai) != 0) {
		errno = m->head.err;
		free(m);
		return r;
	}
	tail = resp;
	for (i = 0; i < m->head.count; i++) {
		if (m->addr[i].len > sizeof(m->addr[i].ss))
			continue;
		*tail = lookup_node(m->addr[i].family, m->addr[i].socktype,
		    m->addr[i].protocol, &m->addr[i].ss, m->addr[i].len);
		tail = &(*tail)->ai_next;
	}
	free(m);
	return *resp != NULL ? 0 : EAI_NONAME;
}

/* The seconds a lookup may take: the timeout, or what is left before
 * the deadline if that is less (at least 1). */
static int
lookup_bound(int timeout, long long deadline)
{
	long long left;

	if (deadline == 0)
		return timeout;
	left = (deadline - now_ms() + 999) / 1000;
	if (left < 1)
		left = 1;
	return left < timeout ? (int)left : timeout;
}

struct net *
net_connect(const char *host, const char *port, int timeout, int max_time,
    struct error *err)
{
	struct addrinfo hints, *res, *ai;
	struct net *n;
	long long deadline = 0;
	int fd = -1, e = 0, r, bound;

	if (max_time > 0)
		deadline = now_ms() + (long long)max_time * 1000;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	bound = lookup_bound(timeout, deadline);
	r = net_lookup(host, port, &hints, bound, &res);
	if (r != 0) {
		if (r == NET_LOOKUP_TIMEOUT)
			error_set(err, ERR_NET, "the name lookup of %.255s "
			    "took longer than %d second%s", host, bound,
			    bound == 1 ? "" : "s");
		else if (r == EAI_AGAIN)
			error_set(err, ERR_NET, "cannot resolve host: %s",
			    gai_strerror(r));
		else if (r == EAI_SERVICE)
			error_set(err, ERR_SOFTWARE, "bad port %s", port);
		else if (r == EAI_SYSTEM)
			error_set(err, ERR_NET, "cannot resolve host: %s",
			    strerror(errno));
		else
			error_set(err, ERR_NOHOST, "host not found: %s",
			    gai_strerror(r));
		return NULL;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if ((fd = connect_one(ai, timeout, deadline, &e)) != -1)
			break;
	net_lookup_free(res);
	if (fd == -1) {
		error_set(err, ERR_NET, "cannot connect to port %s: %s", port,
		    e == ETIMEDOUT ? "connection timed out" : strerror(e));
		return NULL;
	}
	n = net_from_fd(fd, timeout);
	n->deadline = deadline;
	n->max_time = max_time;
	return n;
}

void
net_set_max_time(struct net *n, int max_time)
{
	n->max_time = max_time;
	n->deadline = max_time > 0 ? now_ms() + (long long)max_time * 1000 :
	    0;
}

struct net *
net_from_fd(int fd, int timeout)
{
	struct net *n = xcalloc(1, sizeof(*n));

	n->fd = fd;
	n->timeout = timeout;
	return n;
}

/*
 * Waits until fd has data to read: 0, or -1 with ERR_NET when the
 * period ran out with too little received (see the top of the file) or
 * the deadline passed.
 */
static int
net_wait(struct net *n, struct error *err)
{
	struct pollfd pfd;
	long long start, period = (long long)n->timeout * 1000;
	int r, ms, full;

	for (;;) {
		if (n->deadline != 0 && now_ms() >= n->deadline)
			return error_set(err, ERR_NET, "the session took "
			    "longer than its limit of %d seconds",
			    n->max_time);
		if (n->waited >= period) {
			if (n->got < NET_MIN_BYTES)
				return error_set(err, ERR_NET, n->got == 0 ?
				    "read timed out after %d seconds" :
				    "read timed out: less than %d bytes "
				    "in %d seconds", n->got == 0 ?
				    n->timeout : NET_MIN_BYTES, n->timeout);
			n->waited = 0;
			n->got = 0;
		}
		ms = bounded(n->deadline, period - n->waited);
		full = ms == period - n->waited;
		pfd.fd = n->fd;
		pfd.events = POLLIN;
		start = now_ms();
		r = poll(&pfd, 1, ms);
		n->waited += now_ms() - start;
		if (r > 0)
			return 0;
		if (r == -1 && errno != EINTR)
			return error_set(err, ERR_NET, "poll: %s",
			    strerror(errno));
		/* A poll that ran its full time ends the period, even if
		 * the clock says a millisecond less. */
		if (r == 0 && full && n->waited < period)
			n->waited = period;
	}
}

/* net_wait for GnuTLS's reads: the error waits in n->werr. */
static int
tls_wait(void *arg)
{
	struct net *n = arg;

	if (net_wait(n, &n->werr) == -1) {
		n->wfailed = 1;
		return -1;
	}
	return 0;
}

/* Starts a new period, and bounds the writes of a new command. */
static void
new_period(struct net *n)
{
	struct timeval tv;
	int ms;

	n->waited = 0;
	n->got = 0;
	ms = bounded(n->deadline, (long long)n->timeout * 1000);
	if (ms < 1)
		ms = 1;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	(void)setsockopt(n->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int
net_starttls(struct net *n, const struct tls_params *p, struct error *err)
{
	char c;

	/* RFC 2595 section 3.1 and RFC 8314: whatever arrived after the +OK
	 * to STLS and before the handshake is plaintext an attacker may have
	 * injected; it must never be read as if TLS protected it.  Before
	 * implicit TLS nothing has been read: what waits there is a server
	 * that speaks first, which the handshake reports (a plain-text
	 * greeting: the wrong port for implicit TLS). */
	if (n->end > n->start || (n->total > 0 &&
	    recv(n->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0))
		return error_set(err, ERR_TLS, "the server sent data before "
		    "the TLS handshake (possible injection attack)");
	n->start = n->end = 0;
	new_period(n);
	n->wfailed = 0;
	n->tls = tls_start(n->fd, p, bounded(n->deadline,
	    (long long)n->timeout * 1000), tls_wait, n, err);
	if (n->tls == NULL) {
		if (n->wfailed)
			*err = n->werr;
		return -1;
	}
	/* The greeting or the next reply gets a period of its own. */
	new_period(n);
	return 0;
}

int
net_buffered(struct net *n)
{
	return n->end > n->start || (n->tls != NULL &&
	    tls_pending(n->tls) > 0);
}

unsigned long long
net_received(const struct net *n)
{
	return n->total;
}

int
net_is_tls(const struct net *n)
{
	return n->tls != NULL;
}


int
net_certinfo(struct net *n, struct tls_certinfo *ci, struct error *err)
{
	if (n->tls == NULL)
		return error_set(err, ERR_SOFTWARE,
		    "the connection is not TLS");
	return tls_certinfo(n->tls, ci, err);
}

int
net_tlsinfo(struct net *n, struct tls_sessinfo *si, struct error *err)
{
	if (n->tls == NULL)
		return error_set(err, ERR_SOFTWARE,
		    "the connection is not TLS");
	tls_sessinfo(n->tls, si);
	return 0;
}

const char *
net_channel_binding(struct net *n, unsigned char *cb, size_t *len,
    struct error *err)
{
	if (n->tls == NULL) {
		error_set(err, ERR_SOFTWARE, "the connection is not TLS");
		return NULL;
	}
	return tls_channel_binding(n->tls, cb, len, err);
}

const char *
net_peer(const struct net *n, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getpeername(n->fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv,
	    sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0 ||
	    snprintf(buf, len, "%s %s", host, serv) >= (int)len)
		(void)strlcpy(buf, "?", len);
	return buf;
}

int
net_write(struct net *n, const void *buf, size_t len, struct error *err)
{
	const char *p = buf;
	ssize_t r;

	new_period(n);
	if (n->deadline != 0 && now_ms() >= n->deadline)
		return error_set(err, ERR_NET, "the session took longer "
		    "than its limit of %d seconds", n->max_time);
	if (n->tls != NULL)
		return tls_write(n->tls, buf, len, err);
	while (len > 0) {
		r = send(n->fd, p, len, MSG_NOSIGNAL);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return error_set(err, ERR_NET, "write failed: %s",
			    errno == EAGAIN ? "timed out" : strerror(errno));
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/*
 * A lock-step server that writes a status line and then the message in
 * two writes, with Nagle's algorithm on (popa3d, solid-pop3d), holds the
 * second write back until the first is acknowledged; a delayed ACK makes
 * that some 40 ms a message.  Linux turns quick ACKs off again by
 * itself, so they are asked for after every read: the cost is a few
 * more ACK segments, the gain a round trip instead of the ACK timer.
 */
static void
quickack(struct net *n)
{
#ifdef TCP_QUICKACK
	int one = 1;

	(void)setsockopt(n->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
#else
	(void)n;
#endif
}

/* Reads more bytes after n->end; returns bytes read, 0 at end of stream. */
static ssize_t
fill(struct net *n, struct error *err)
{
	ssize_t r;

	if (n->start > 0 && n->start == n->end)
		n->start = n->end = 0;
	if (n->tls != NULL) {
		n->wfailed = 0;
		r = tls_read(n->tls, n->buf + n->end, NET_BUFSIZE - n->end,
		    err);
		if (r < 0 && n->wfailed)
			*err = n->werr;
	} else {
		if (net_wait(n, err) == -1)
			return -1;
		do {
			r = recv(n->fd, n->buf + n->end, NET_BUFSIZE - n->end,
			    0);
		} while (r == -1 && errno == EINTR);
		if (r == -1)
			return error_set(err, ERR_NET, "read failed: %s",
			    errno == EAGAIN ? "timed out" : strerror(errno));
	}
	if (r > 0) {
		n->got += (size_t)r;
		n->total += (unsigned long long)r;
		quickack(n);
	}
	return r;
}

/* Moves the unread bytes to the front of the buffer. */
static void
compact(struct net *n)
{
	if (n->start > 0) {
		memmove(n->buf, n->buf + n->start, n->end - n->start);
		n->end -= n->start;
		n->start = 0;
	}
}

static int
read_more(struct net *n, struct error *err)
{
	ssize_t r;

	if (n->end == NET_BUFSIZE)
		compact(n);
	r = fill(n, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return error_set(err, ERR_NET,
		    "the server closed the connection");
	n->end += (size_t)r;
	return 0;
}

int
net_getline(struct net *n, char **line, size_t *len, size_t max,
    struct error *err)
{
	char *lf;
	size_t scanned = 0, l;

	if (max > NET_BUFSIZE / 2)
		max = NET_BUFSIZE / 2;
	for (;;) {
		lf = memchr(n->buf + n->start + scanned, '\n',
		    n->end - n->start - scanned);
		if (lf != NULL)
			break;
		scanned = n->end - n->start;
		if (scanned > max + 1)
			return error_set(err, ERR_PROTO,
			    "the server sent a line longer than %zu bytes",
			    max);
		if (read_more(n, err) == -1)
			return -1;
	}
	*line = n->buf + n->start;
	l = (size_t)(lf - *line);
	n->start += l + 1;
	if (l > 0 && (*line)[l - 1] == '\r')
		l--;
	if (l > max)
		return error_set(err, ERR_PROTO,
		    "the server sent a line longer than %zu bytes", max);
	(*line)[l] = '\0';
	*len = l;
	return 0;
}

int
net_getchunk(struct net *n, char **data, size_t *len, int *eol,
    struct error *err)
{
	char *lf;
	size_t scanned = 0, avail;

	for (;;) {
		avail = n->end - n->start;
		lf = memchr(n->buf + n->start + scanned, '\n', avail - scanned);
		if (lf != NULL) {
			*data = n->buf + n->start;
			*len = (size_t)(lf - *data) + 1;
			*eol = 1;
			n->start += *len;
			return 0;
		}
		if (avail >= NET_BUFSIZE / 2) {
			/* A long line: hand over what we have, but never a
			 * CR whose LF may follow. */
			*data = n->buf + n->start;
			*len = avail;
			if ((*data)[avail - 1] == '\r')
				(*len)--;
			*eol = 0;
			n->start += *len;
			return 0;
		}
		scanned = avail;
		if (read_more(n, err) == -1)
			return -1;
	}
}


void
net_set_child(struct net *n, pid_t pid, int group)
{
	n->child = pid;
	n->kill_id = group ? -pid : pid;
}

/* Reaps pid within ms milliseconds: 1, or 0 if it is still running. */
static int
reap_within(pid_t pid, int ms)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid || (r == -1 && errno != EINTR))
			return 1;
		if (ms <= 0)
			return 0;
		(void)nanosleep(&ts, NULL);
		ms -= 20;
	}
}

void
net_close(struct net *n)
{
	if (n == NULL)
		return;
	tls_free(n->tls);
	(void)close(n->fd);
	if (n->child > 0 && !reap_within(n->child, 2000)) {
		(void)kill(n->kill_id, SIGTERM);
		if (!reap_within(n->child, 1000)) {
			(void)kill(n->kill_id, SIGKILL);
			(void)reap_within(n->child, 5000);
		}
	}
	free(n);
}
