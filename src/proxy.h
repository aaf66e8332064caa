/*
 * proxy.h - the client side of SOCKS5 (RFC 1928) with username and
 * password authentication (RFC 1929), over a connected descriptor.
 */
#ifndef PROXY_H
#define PROXY_H

#include "util.h"

/* A parsed --proxy URL; the strings are owned (proxy_free). */
struct proxy {
	int	 remote_dns;	/* socks5h: the proxy resolves the name */
	char	*user;		/* NULL: no authentication offered */
	char	*host;
	char	*port;
};

/* Parses socks5h://[USER@]HOST:PORT or socks5://... ([ADDRESS] for an
 * IPv6 host) into p.  ERR_CONFIG. */
int	proxy_parse(const char *url, struct proxy *p, struct error *);
void	proxy_free(struct proxy *p);

/*
 * On fd, connected to the proxy (reads and writes time-bounded by the
 * caller), asks for a connection to host and port.  With p->user the
 * password is POPFETCH_PROXY_PASSWORD, else the netrc entry for the
 * proxy's host and that user, else a prompt; it is fetched only if the
 * proxy asks for it.  ERR_NET (the proxy failed, or could not reach the
 * server, or socks5:// and the name lookup here took longer than
 * timeout seconds), ERR_NOHOST (socks5:// and no such host here), ERR_AUTH (the
 * proxy refused the credentials), ERR_CONFIG (it wants credentials and
 * has none, or a name too long), ERR_REFUSED (the proxy does not allow
 * it), ERR_PROTO (not a SOCKS5 proxy).
 */
int	proxy_socks5(int fd, const struct proxy *p, const char *host,
	    const char *port, int timeout, struct error *);

#endif
