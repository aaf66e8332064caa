/*
 * net.h - a TCP connection with a read buffer, plain or TLS.
 *
 * Every read and write is bounded by the timeout given to net_connect,
 * under a minimum rate, and all of them by the session's max_time.
 */
#ifndef NET_H
#define NET_H

#include <sys/types.h>

#include <stddef.h>

#include "tls.h"
#include "util.h"

/* Reads happen in blocks of this size; longer lines come in pieces. */
#define NET_BUFSIZE	65536

/* The minimum rate: a reply that is not complete must bring at least
 * this many bytes in every timeout period (see net.c). */
#define NET_MIN_BYTES	1024

struct net;
struct addrinfo;

/* net_lookup's answer when the lookup took longer than allowed (no
 * EAI_* code is positive). */
#define NET_LOOKUP_TIMEOUT	1

/*
 * getaddrinfo(host, port, hints) bounded in time: a numeric address
 * directly, a name in a child process that is killed after seconds.
 * Returns 0 with a list in *res the caller frees with net_lookup_free
 * (never freeaddrinfo; only the family, socket type, protocol and
 * address of each entry are set), an EAI_* code (errno set for
 * EAI_SYSTEM), or NET_LOOKUP_TIMEOUT.
 */
int		 net_lookup(const char *host, const char *port,
		    const struct addrinfo *hints, int seconds,
		    struct addrinfo **res);
void		 net_lookup_free(struct addrinfo *);

/*
 * Resolves host and tries each address in turn (IPv6 and IPv4) until one
 * connects within timeout seconds.  From then on, each read must bring
 * NET_MIN_BYTES per timeout period (or complete what is awaited), and
 * nothing more happens max_time seconds after the call (0: no limit):
 * reads and writes fail with ERR_NET.  Returns a connection owned by the
 * caller (net_close), or NULL with err: ERR_NOHOST (no such host),
 * ERR_NET (refused, unreachable, timed out, resolver failure, a name
 * lookup that took longer than timeout or the max_time),
 * ERR_SOFTWARE (a port that is no number or service name).
 */
struct net	*net_connect(const char *host, const char *port, int timeout,
		    int max_time, struct error *);

/* Wraps a descriptor that is already connected (tests); the connection
 * owns it from now on and is owned by the caller.  Never fails. */
struct net	*net_from_fd(int fd, int timeout);

/* The process at the other end (a --connect-command), leading a
 * process group of its own if group: net_close gives it two seconds to
 * go after its input closes, then ends it, or its group (SIGTERM, then
 * SIGKILL) and reaps it, so that it does not outlive popfetch's
 * connection. */
void		 net_set_child(struct net *, pid_t pid, int group);

/* From now on nothing more happens after max_time seconds (0: no
 * limit), as for net_connect; for a connection made by net_from_fd. */
void		 net_set_max_time(struct net *, int max_time);

/* Starts TLS on the connection: 0, or -1 with ERR_TLS if the server has
 * already sent bytes we have not read (they would be unauthenticated),
 * or with the errors of tls_start.  The TLS session belongs to n. */
int		 net_starttls(struct net *, const struct tls_params *,
		    struct error *);

/* Whether bytes that arrived are waiting to be read (1 or 0): the next
 * read may not need to wait for the network. */
int		 net_buffered(struct net *);

/* How many bytes of the stream have been read so far (after TLS). */
unsigned long long net_received(const struct net *);

/* Whether TLS protects the connection: 1 or 0. */
int		 net_is_tls(const struct net *);

/* Describes the server certificate into the caller's ci (see
 * tls_certinfo); -1 with ERR_SOFTWARE without TLS. */
int		 net_certinfo(struct net *, struct tls_certinfo *,
		    struct error *);

/* The TLS session's parameters (tls_sessinfo); -1 with ERR_SOFTWARE
 * without TLS. */
int		 net_tlsinfo(struct net *, struct tls_sessinfo *,
		    struct error *);

/* The session's channel binding (tls_channel_binding): its type's
 * name, or NULL with err: ERR_SOFTWARE without TLS, or the errors of
 * tls_channel_binding. */
const char	*net_channel_binding(struct net *, unsigned char *cb,
		    size_t *len, struct error *);

/* The address and port connected to, as "192.0.2.1 995" or "::1 995",
 * into buf; "?" if unknown. */
const char	*net_peer(const struct net *, char *buf, size_t len);

/* Writes all of buf: 0, or -1 with ERR_NET on failure or timeout. */
int		 net_write(struct net *, const void *, size_t, struct error *);

/*
 * Reads one line of at most max bytes (not counting CRLF or LF).  On
 * success *line points to it, NUL-terminated and without its line end,
 * valid until the next read.  -1 with ERR_PROTO for a longer line,
 * ERR_NET for a closed connection or timeout.
 */
int		 net_getline(struct net *, char **line, size_t *len, size_t max,
		    struct error *);

/*
 * Reads the next piece of the stream: a whole line including its LF
 * (*eol = 1), or, for a line longer than half the buffer, the part
 * received so far (*eol = 0; a trailing CR is held back so that CRLF is
 * never split).  The data stays valid until the next read.  Errors as
 * for net_getline.
 */
int		 net_getchunk(struct net *, char **data, size_t *len, int *eol,
		    struct error *);

/* Closes the connection (TLS close_notify first) and frees it; NULL is
 * fine. */
void		 net_close(struct net *);

#endif
