/*
 * dial.h - how the POP3 server is reached: directly (over IPv4 or IPv6
 * only, from a given source address), through a SOCKS5 proxy, or
 * through a command whose standard input and output carry the
 * connection (ssh, nc, socat).
 * What comes out is a struct net like net_connect's, so TLS and its
 * verification run end to end over it, unchanged.
 */
#ifndef DIAL_H
#define DIAL_H

#include "net.h"
#include "util.h"

struct dial_params {
	int		 family;	/* 0: any, 4: IPv4 only, 6: IPv6 only */
	const char	*source;	/* a local address to bind, or NULL */
	const char	*command;	/* run by /bin/sh, or NULL */
	const char	*proxy;		/* socks5h:// or socks5:// URL */
};

/*
 * Connects to host and port within timeout seconds the way dp says
 * (all unset: exactly net_connect).  With a command, %h and %p in it
 * become host and port, each quoted for the shell, and %% a single %;
 * the command runs with the connection as its standard input and
 * output, its standard error popfetch's own, without POPFETCH_PASSWORD
 * in its environment, and ends when it reads the end of its input.
 * With a proxy, the errors of the connection to it (prefixed with its
 * name) or those of proxy_socks5.  Returns a connection owned by the
 * caller (max_time bounding it as for net_connect), or NULL with the
 * errors of net_connect, ERR_CONFIG (a source
 * address that is no address, or not of the family asked for; a bad
 * proxy URL; a command and a proxy) or ERR_IO (no socket pair or
 * process).
 */
struct net	*dial_connect(const char *host, const char *port, int timeout,
		    int max_time, const struct dial_params *dp,
		    struct error *);

#endif
