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
	const char	*client_cert;	/* PEM files for client
					 * authentication */
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
 * Before each read from the socket, tls calls wait(arg, 1), which
 * returns -1 when the caller's time bounds ran out (the read then fails;
 * the caller keeps its own reason), else 0; if nothing has arrived yet,
 * it then calls wait(arg, 0), which returns 0 when fd has data, or -1
 * as before.
 */
typedef int tls_waiter(void *arg, int check_only);

/*
 * Runs a client handshake on fd, bounded by timeout_ms milliseconds and
 * by wait; p is only read during the call, fd stays the caller's.
 * Returns a session owned by the caller (free with tls_free), or NULL
 * with err: ERR_TLS when the
 * certificate fails verification or does not match the pin (the message
 * says why), ERR_NET when the peer closed or timed out, ERR_PROTO for
 * other handshake failures, ERR_CONFIG for unusable files or priority
 * strings, ERR_SOFTWARE for a malformed pin or a GnuTLS failure.
 */
struct tls	*tls_start(int fd, const struct tls_params *, int timeout_ms,
		    tls_waiter *wait, void *arg, struct error *);

/* Reads up to n bytes: >0 bytes read, 0 end of stream, -1 with err
 * (ERR_NET on timeout or reset, ERR_PROTO on a TLS error). */
ssize_t		 tls_read(struct tls *, void *, size_t, struct error *);

/* Writes all n bytes; 0 or -1 with err (ERR_NET on a timeout or any
 * TLS failure to send). */
int		 tls_write(struct tls *, const void *, size_t, struct error *);

/* Bytes already decrypted and waiting in the TLS layer; never fails. */
size_t		 tls_pending(struct tls *);

/* How many reads from the socket have returned bytes so far (a record
 * may come from one made earlier); never fails. */
unsigned long	 tls_socket_reads(const struct tls *);

/* Sends close_notify (best effort) and frees the session; NULL is
 * fine.  The descriptor stays open. */
void		 tls_free(struct tls *);

/* Describes the peer's certificate into the caller's ci, verified
 * against the trust store and the server name (ci->verified, ci->why);
 * the subject and issuer are the certificate's raw text.  0, or -1 with
 * err (ERR_TLS) if there is none or it cannot be parsed. */
int		 tls_certinfo(struct tls *, struct tls_certinfo *,
		    struct error *);

/* The parameters of the session, for the info command. */
struct tls_sessinfo {
	char	version[32];	/* "TLS1.3" */
	char	cipher[64];	/* "AES-256-GCM" */
	char	kx[64];		/* "ECDHE-RSA", or the group under TLS 1.3 */
	char	mac[32];
};

/* Fills the caller's si; never fails. */
void		 tls_sessinfo(struct tls *, struct tls_sessinfo *si);

/* The most bytes of channel-binding data tls_channel_binding gives: a
 * SHA-512 digest (tls-server-end-point); tls-exporter gives 32. */
#define TLS_CB_MAX	64

/*
 * Channel binding (RFC 5056) for SCRAM's -PLUS mechanisms: the type
 * suited to the session and its data, into the caller's cb (TLS_CB_MAX
 * bytes) with *len.  Under TLS 1.3 "tls-exporter" (RFC 9266: 32 bytes
 * exported with the label "EXPORTER-Channel-Binding" and no context);
 * under older versions "tls-server-end-point" (RFC 5929: the hash of
 * the server's certificate, SHA-256 where it is signed with MD5 or
 * SHA-1), because tls-exporter is safe there only with the extended
 * master secret (RFC 9266 section 4.2) and tls-unique not at all.
 * Returns the type's name, a static string, or NULL with err (ERR_TLS)
 * when no binding can be had: a certificate whose signature names no
 * single hash (Ed25519 under TLS 1.2), or a GnuTLS failure.
 */
const char	*tls_channel_binding(struct tls *, unsigned char *cb,
		    size_t *len, struct error *);

/* Parses a pin, "sha256:" and 64 hex digits (colons allowed, any
 * case), into the caller's 32 bytes; 0 or -1. */
int		 tls_parse_fingerprint(const char *, unsigned char[32]);

/* The GnuTLS version, a static string. */
const char	*tls_library_version(void);

/* Whether a priority string allows less than the default (TLS older
 * than 1.2, broken ciphers, relaxed verification): 1 with a reason in
 * why, or 0 (also for a string GnuTLS cannot parse). */
int		 tls_priority_weaker(const char *, char *why, size_t len);

#endif
