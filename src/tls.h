/*
 * tls.h - TLS client sessions over a connected socket (GnuTLS).
 *
 * tls.c is the only file that includes <gnutls/gnutls.h>.  Verification
 * is on by default: the chain against the system trust store (or
 * ca_file), the host name (or server_name), and validity dates.
 */
#ifndef TLS_H
#define TLS_H

#include <sys/types.h>

#include "util.h"

struct tls;

struct tls_params {
	const char	*ca_file;	/* NULL: the system trust store */
	const char	*server_name;	/* name to verify and send as SNI */
	const char	*priority;	/* GnuTLS priority string or NULL */
	int		 insecure;	/* skip verification entirely */
};

/*
 * Runs a client handshake on fd, bounded by timeout seconds.  Returns a
 * session owned by the caller (free with tls_free), or NULL with err:
 * ERR_TLS when the certificate fails verification (the message says
 * why), ERR_TEMP when the peer closed or timed out, ERR_PROTO for other
 * handshake failures, ERR_CONFIG for unusable parameters.
 */
struct tls	*tls_start(int fd, const struct tls_params *, int timeout,
		    struct error *);

/* Reads up to n bytes: >0 bytes read, 0 end of stream, -1 with err
 * (ERR_TEMP on timeout or reset, ERR_PROTO on a TLS error). */
ssize_t		 tls_read(struct tls *, void *, size_t, struct error *);

/* Writes all n bytes; 0 or -1 with err (ERR_TEMP). */
int		 tls_write(struct tls *, const void *, size_t, struct error *);

/* Bytes already decrypted and waiting in the TLS layer. */
size_t		 tls_pending(struct tls *);

/* Sends close_notify (best effort) and frees the session. */
void		 tls_free(struct tls *);

/* One line describing the negotiated protocol and cipher suite. */
const char	*tls_description(struct tls *, char *, size_t);

/* Library version, for --version. */
const char	*tls_library_version(void);

#endif
