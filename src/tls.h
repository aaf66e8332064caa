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
	const char	*fingerprint;	/* pin: "sha256:HEX", colons allowed */
	const char	*client_cert;	/* PEM files for client authentication */
	const char	*client_key;
	int		 insecure;	/* skip verification entirely */
	int		 inspect;	/* handshake without verifying, so that
					 * tls_certinfo can report on it */
};

/* What the server's certificate says, for pinning by hand. */
struct tls_certinfo {
	char	subject[512];
	char	issuer[512];
	char	not_before[64];
	char	not_after[64];
	char	sha256[100];	/* "sha256:" and 64 hex digits */
	int	verified;	/* the chain and name verify */
	char	why[256];	/* if not, why */
};

/*
 * Runs a client handshake on fd, bounded by timeout seconds.  Returns a
 * session owned by the caller (free with tls_free), or NULL with err:
 * ERR_TLS when the certificate fails verification (the message says
 * why), ERR_NET when the peer closed or timed out, ERR_PROTO for other
 * handshake failures, ERR_CONFIG for unusable parameters.
 */
struct tls	*tls_start(int fd, const struct tls_params *, int timeout,
		    struct error *);

/* Reads up to n bytes: >0 bytes read, 0 end of stream, -1 with err
 * (ERR_NET on timeout or reset, ERR_PROTO on a TLS error). */
ssize_t		 tls_read(struct tls *, void *, size_t, struct error *);

/* Writes all n bytes; 0 or -1 with err (ERR_NET). */
int		 tls_write(struct tls *, const void *, size_t, struct error *);

/* Bytes already decrypted and waiting in the TLS layer. */
size_t		 tls_pending(struct tls *);

/* Sends close_notify (best effort) and frees the session. */
void		 tls_free(struct tls *);

/* Describes the peer's certificate, verified against the trust store
 * and the server name; -1 with err (ERR_TLS) if there is none. */
int		 tls_certinfo(struct tls *, struct tls_certinfo *,
		    struct error *);

/* Parses a pin, "sha256:" and 64 hex digits (colons allowed, any
 * case); 0 or -1. */
int		 tls_parse_fingerprint(const char *, unsigned char[32]);

/* Library version, for --version. */
const char	*tls_library_version(void);

#endif
