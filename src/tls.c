/*
 * tls.c - TLS client sessions with GnuTLS.
 *
 * The only includer of <gnutls/gnutls.h>.  Verification is done by GnuTLS
 * itself during the handshake (gnutls_session_set_verify_cert), so a
 * session that tls_start returns has a verified chain, a matching name
 * and valid dates, unless the caller asked for insecure.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <poll.h>
#include <time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "tls.h"

/* TLS 1.2 or newer; RFC 8314 section 4.1 asks for no less. */
#define DEFAULT_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct tls {
	gnutls_session_t			session;
	gnutls_certificate_credentials_t	cred;
	int					fd;
	int					timeout;	/* ms */
	tls_waiter				*wait;
	void					*warg;
	char					name[256];
	/* Read-ahead: GnuTLS asks for a record's 5-byte header and then
	 * its body, two recv calls a record; this serves both from one
	 * large read. */
	size_t					roff, rlen;
	unsigned char				rbuf[65536];
	unsigned long				reads;	/* recv calls
							 * that got bytes */
	/* The first bytes the peer sent, to tell a plain-text POP3
	 * greeting from a broken handshake. */
	unsigned char				first[4];
	size_t					nfirst;
};

static ssize_t
tls_pull(gnutls_transport_ptr_t ptr, void *buf, size_t n)
{
	struct tls *t = ptr;
	ssize_t r;

	if (t->roff == t->rlen) {
		/* What has arrived is read without a poll first: one system
		 * call a read while the server keeps up. */
		if (t->wait(t->warg, 1) == -1) {
			gnutls_transport_set_errno(t->session, ETIMEDOUT);
			return -1;
		}
		do
			r = recv(t->fd, t->rbuf, sizeof(t->rbuf), MSG_DONTWAIT);
		while (r == -1 && errno == EINTR);
		if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (t->wait(t->warg, 0) == -1) {
				gnutls_transport_set_errno(t->session,
				    ETIMEDOUT);
				return -1;
			}
			do
				r = recv(t->fd, t->rbuf, sizeof(t->rbuf), 0);
			while (r == -1 && errno == EINTR);
		}
		if (r <= 0) {
			if (r == -1)
				gnutls_transport_set_errno(t->session, errno);
			return r;
		}
		t->roff = 0;
		t->rlen = (size_t)r;
		t->reads++;
		while (t->nfirst < sizeof(t->first) && r-- > 0)
			t->first[t->nfirst] = t->rbuf[t->nfirst], t->nfirst++;
	}
	if (n > t->rlen - t->roff)
		n = t->rlen - t->roff;
	memcpy(buf, t->rbuf + t->roff, n);
	t->roff += n;
	return (ssize_t)n;
}

/* For GnuTLS's own timeouts (the handshake): 1 when data is ready, 0
 * on a timeout.  Any wait but a mere check goes through t->wait, so that
 * the caller's bounds hold during the handshake too. */
static int
tls_pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
	struct tls *t = ptr;
	struct pollfd pfd;
	int r;

	if (t->roff < t->rlen)
		return 1;
	if (ms != 0)
		return t->wait(t->warg, 0) == 0 ? 1 : 0;
	pfd.fd = t->fd;
	pfd.events = POLLIN;
	do
		r = poll(&pfd, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 :
		    (int)ms);
	while (r == -1 && errno == EINTR);
	return r;
}

int
tls_parse_fingerprint(const char *s, unsigned char out[32])
{
	if (strncasecmp(s, "sha256:", 7) == 0)
		s += 7;
	return hex_decode(s, out, 32, ":");
}

static int
peer_sha256(gnutls_session_t s, unsigned char out[32])
{
	const gnutls_datum_t *certs;
	unsigned int n = 0;

	certs = gnutls_certificate_get_peers(s, &n);
	if (certs == NULL || n == 0)
		return -1;
	return gnutls_hash_fast(GNUTLS_DIG_SHA256, certs[0].data,
	    certs[0].size, out) < 0 ? -1 : 0;
}

/* "sha256:" and 64 upper-case hex digits: buf needs 72 bytes. */
static void
hex_pin(const unsigned char d[32], char *buf, size_t len)
{
	if (len < 7 + 64 + 1) {
		buf[0] = '\0';
		return;
	}
	memcpy(buf, "sha256:", 7);
	hex_encode(d, 32, buf + 7, 1);
}

static int
is_ip_literal(const char *name)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, name, buf) == 1 ||
	    inet_pton(AF_INET6, name, buf) == 1;
}

/* Writes a message into buf; one that does not fit ends in "...", so
 * that a cut is never taken for the whole. */
static void	say(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if ((r < 0 || (size_t)r >= len) && len > 4)
		memcpy(buf + len - 4, "...", 4);
}

/* Turns a verification status into the one reason a user can act on. */
static void
verify_reason(unsigned status, const char *name, char *buf, size_t len)
{
	gnutls_datum_t out = { NULL, 0 };

	if (status & GNUTLS_CERT_EXPIRED)
		say(buf, len, "the server certificate has expired");
	else if (status & GNUTLS_CERT_NOT_ACTIVATED)
		say(buf, len, "the server certificate is not yet valid");
	else if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
		say(buf, len, "the server certificate is not valid for %s",
		    name);
	else if (status & GNUTLS_CERT_REVOKED)
		say(buf, len, "the server certificate has been revoked");
	else if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
		say(buf, len, "the server certificate is signed by an unknown "
		    "certificate authority");
	else if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
		say(buf, len, "the server certificate uses an insecure "
		    "algorithm");
	else if (gnutls_certificate_verification_status_print(status,
	    GNUTLS_CRT_X509, &out, 0) == 0 && out.data != NULL)
		say(buf, len, "%s", out.data);
	else
		say(buf, len, "verification failed");
	gnutls_free(out.data);
}

static void
tls_destroy(struct tls *t)
{
	if (t->session != NULL)
		gnutls_deinit(t->session);
	if (t->cred != NULL)
		gnutls_certificate_free_credentials(t->cred);
	free(t);
}


/* Reads a client certificate or key (at most 1 MiB).  It may be a
 * symbolic link (a dotfile manager's); the file opened must belong to
 * the invoking user or root, so nobody else chooses the key popfetch
 * presents.  ERR_CONFIG. */
static int
read_key_file(const char *path, gnutls_datum_t *d, struct error *err)
{
	struct stat sb;
	ssize_t r;
	size_t n = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return error_set(err, ERR_CONFIG, "%s: %s", path,
		    strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > 1024 * 1024) {
		(void)close(fd);
		return error_set(err, ERR_CONFIG, "%s: not a regular file of "
		    "at most 1 MiB", path);
	}
	if (sb.st_uid != geteuid() && sb.st_uid != 0) {
		(void)close(fd);
		return error_set(err, ERR_CONFIG, "%s: owned by uid %lu, not "
		    "by you or root; refusing it (chown it or use your own)",
		    path, (unsigned long)sb.st_uid);
	}
	d->data = malloc((size_t)sb.st_size + 1);
	if (d->data == NULL) {
		(void)close(fd);
		return error_set(err, ERR_SOFTWARE, "out of memory");
	}
	while (n < (size_t)sb.st_size && (r = read(fd, d->data + n,
	    (size_t)sb.st_size - n)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			error_set(err, ERR_CONFIG, "%s: %s", path,
			    strerror(errno));
			(void)close(fd);
			free(d->data);
			d->data = NULL;
			return -1;
		}
		n += (size_t)r;
	}
	(void)close(fd);
	d->size = (unsigned int)n;
	return 0;
}

/* The certificate credentials: the trust store (unless a pin or
 * insecure replaces it) and the client certificate.  0, or -1 with err
 * (ERR_CONFIG for unusable files, ERR_SOFTWARE). */
static int
load_credentials(struct tls *t, const struct tls_params *p,
    struct error *err)
{
	int r;

	if (gnutls_certificate_allocate_credentials(&t->cred) < 0) {
		t->cred = NULL;
		return error_set(err, ERR_SOFTWARE,
		    "cannot allocate TLS credentials");
	}
	if (p->ca_file != NULL) {
		r = gnutls_certificate_set_x509_trust_file(t->cred, p->ca_file,
		    GNUTLS_X509_FMT_PEM);
		if (r <= 0)
			return error_set(err, ERR_CONFIG, "%s: %s", p->ca_file,
			    r == 0 ? "no certificates found" :
			    gnutls_strerror(r));
	} else if (!p->insecure && p->fingerprint == NULL) {
		r = gnutls_certificate_set_x509_system_trust(t->cred);
		if (r < 0)
			return error_set(err, ERR_CONFIG,
			    "cannot load the system trust store: %s",
			    gnutls_strerror(r));
	}
	if (p->client_cert != NULL) {
		gnutls_datum_t cert = { NULL, 0 }, key = { NULL, 0 };
		const char *kpath = p->client_key != NULL ? p->client_key :
		    p->client_cert;

		if (read_key_file(p->client_cert, &cert, err) == -1)
			return -1;
		if (read_key_file(kpath, &key, err) == -1) {
			free(cert.data);
			return -1;
		}
		r = gnutls_certificate_set_x509_key_mem(t->cred, &cert, &key,
		    GNUTLS_X509_FMT_PEM);
		free(cert.data);
		explicit_bzero(key.data, key.size);
		free(key.data);
		if (r < 0)
			return error_set(err, ERR_CONFIG, "%s: %s",
			    p->client_cert, gnutls_strerror(r));
	}
	return 0;
}

/* The session: priorities, credentials, SNI, verification during the
 * handshake (when verify is set), the handshake's limit (timeout, in
 * milliseconds), and the transport over fd.  0, or -1
 * with err (ERR_CONFIG for a bad priority string, ERR_SOFTWARE). */
static int
setup_session(struct tls *t, const struct tls_params *p, int fd,
    int timeout, int verify, struct error *err)
{
	const char *errpos = NULL, *name = p->server_name;
	int r;

	if ((r = gnutls_init(&t->session, GNUTLS_CLIENT)) < 0) {
		t->session = NULL;
		return error_set(err, ERR_SOFTWARE, "gnutls_init: %s",
		    gnutls_strerror(r));
	}
	r = gnutls_priority_set_direct(t->session,
	    p->priority != NULL ? p->priority : DEFAULT_PRIORITY, &errpos);
	if (r < 0)
		return error_set(err, ERR_CONFIG, "bad TLS priority string "
		    "near \"%.40s\"", errpos != NULL ? errpos : "");
	(void)gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE,
	    t->cred);
	/* RFC 6066: no SNI for address literals. */
	if (name != NULL && !is_ip_literal(name))
		(void)gnutls_server_name_set(t->session, GNUTLS_NAME_DNS, name,
		    strlen(name));
	if (verify)
		gnutls_session_set_verify_cert(t->session, name, 0);
	/* Reads through the read-ahead buffer, writes straight to fd. */
	gnutls_transport_set_ptr2(t->session, t,
	    (gnutls_transport_ptr_t)(intptr_t)fd);
	gnutls_transport_set_pull_function(t->session, tls_pull);
	gnutls_transport_set_pull_timeout_function(t->session,
	    tls_pull_timeout);
	t->fd = fd;
	t->timeout = timeout;
	gnutls_handshake_set_timeout(t->session, (unsigned)timeout);
	return 0;
}

/* Turns the handshake's result r into 0 or -1 with err, checking a pin
 * (which replaces the chain: this certificate and no other). */
static int
handshake_result(struct tls *t, const struct tls_params *p, int r,
    const unsigned char pin[32], struct error *err)
{
	unsigned char got[32] = { 0 };
	char why[256], gotstr[100], subj[4 * 100 + 1], iss[4 * 100 + 1];
	struct tls_certinfo ci;
	struct error e;
	unsigned status;

	if (r == 0 && p->fingerprint != NULL &&
	    (peer_sha256(t->session, got) == -1 ||
	    memcmp(got, pin, sizeof(got)) != 0)) {
		hex_pin(got, gotstr, sizeof(gotstr));
		return error_set(err, ERR_TLS, "TLS: the server certificate "
		    "does not match the pinned fingerprint (it is %s)", gotstr);
	}
	if (r == 0)
		return 0;
	if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		status = gnutls_session_get_verify_cert_status(t->session);
		verify_reason(status, p->server_name != NULL ?
		    p->server_name : "(no name)", why, sizeof(why));
		if (tls_certinfo(t, &ci, &e) == -1)
			return error_set(err, ERR_TLS, "TLS: %s", why);
		/* The names are the server's text: escaped, and cut so that
		 * the fingerprint always fits. */
		error_set(err, ERR_TLS, "TLS: %s (subject %s; issuer %s; %s)",
		    why, vis_text(subj, sizeof(subj), ci.subject,
		    strnlen(ci.subject, 100)), vis_text(iss, sizeof(iss),
		    ci.issuer, strnlen(ci.issuer, 100)), ci.sha256);
		/* A private CA or a self-signed certificate: what to do. */
		if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
			return error_hint(err, HINT_CERT_TRUST);
		return -1;
	}
	/* "+OK" or "-ERR" where a TLS record should be: a POP3 server
	 * that speaks first in plain text, so a port for STARTTLS. */
	if (t->nfirst >= 3 && (memcmp(t->first, "+OK", 3) == 0 ||
	    (t->nfirst >= 4 && memcmp(t->first, "-ERR", 4) == 0))) {
		error_set(err, ERR_CONFIG, "the server sent a plain-text POP3 "
		    "greeting where a TLS handshake was expected: this port "
		    "does not use implicit TLS");
		return error_hint(err, HINT_TLS_STARTTLS);
	}
	if (r == GNUTLS_E_TIMEDOUT || r == GNUTLS_E_AGAIN)
		return error_set(err, ERR_NET, "TLS handshake timed out");
	if (r == GNUTLS_E_PREMATURE_TERMINATION || r == GNUTLS_E_PULL_ERROR ||
	    r == GNUTLS_E_PUSH_ERROR)
		return error_set(err, ERR_NET, "the server closed the "
		    "connection during the TLS handshake");
	return error_set(err, ERR_PROTO, "TLS handshake failed: %s",
	    gnutls_strerror(r));
}

struct tls *
tls_start(int fd, const struct tls_params *p, int timeout, tls_waiter *wait,
    void *arg, struct error *err)
{
	struct tls *t;
	unsigned char pin[32];
	int r, verify = !p->insecure && !p->inspect && p->fingerprint == NULL;

	if (p->fingerprint != NULL &&
	    tls_parse_fingerprint(p->fingerprint, pin) == -1) {
		error_set(err, ERR_SOFTWARE, "a pinned fingerprint is "
		    "\"sha256:\" and 64 hex digits");
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->wait = wait;
	t->warg = arg;
	if (p->server_name != NULL)
		(void)strlcpy(t->name, p->server_name, sizeof(t->name));
	if (load_credentials(t, p, err) == -1 ||
	    setup_session(t, p, fd, timeout, verify, err) == -1) {
		tls_destroy(t);
		return NULL;
	}
	do {
		r = gnutls_handshake(t->session);
	} while (r == GNUTLS_E_INTERRUPTED);
	if (handshake_result(t, p, r, pin, err) == -1) {
		tls_destroy(t);
		return NULL;
	}
	return t;
}

ssize_t
tls_read(struct tls *t, void *buf, size_t n, struct error *err)
{
	struct pollfd pfd;
	long long start = now_ms(), left;
	ssize_t r;

	for (;;) {
		r = gnutls_record_recv(t->session, buf, n);
		if (r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r != GNUTLS_E_AGAIN)
			break;
		/*
		 * E_AGAIN means either that the socket timed out, or, with
		 * TLS 1.3, that a record without application data (a
		 * session ticket) was processed.  Wait for the rest of the
		 * timeout before calling it a timeout.
		 */
		left = (long long)t->timeout - (now_ms() - start);
		if (left <= 0)
			break;
		if (t->roff < t->rlen)
			continue;	/* more records already read ahead */
		pfd.fd = t->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) == 0)
			break;
	}
	if (r >= 0)
		return r;
	/* Many servers close without close_notify after QUIT; the caller
	 * knows whether an end of stream was expected. */
	if (r == GNUTLS_E_PREMATURE_TERMINATION)
		return 0;
	if (r == GNUTLS_E_AGAIN)
		return error_set(err, ERR_NET, "read timed out");
	if (r == GNUTLS_E_PULL_ERROR)
		return error_set(err, ERR_NET, "read failed: %s",
		    strerror(errno));
	return error_set(err, ERR_PROTO, "TLS: %s", gnutls_strerror((int)r));
}

int
tls_write(struct tls *t, const void *buf, size_t n, struct error *err)
{
	const char *p = buf;
	ssize_t r;

	while (n > 0) {
		r = gnutls_record_send(t->session, p, n);
		if (r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r == GNUTLS_E_AGAIN)
			return error_set(err, ERR_NET, "write timed out");
		if (r < 0)
			return error_set(err, ERR_NET, "TLS write failed: %s",
			    gnutls_strerror((int)r));
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

unsigned long
tls_socket_reads(const struct tls *t)
{
	return t->reads;
}

size_t
tls_pending(struct tls *t)
{
	return gnutls_record_check_pending(t->session);
}

void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	(void)gnutls_bye(t->session, GNUTLS_SHUT_WR);
	tls_destroy(t);
}

static void
format_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	(void)gmtime_r(&t, &tm);
	(void)strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

int
tls_certinfo(struct tls *t, struct tls_certinfo *ci, struct error *err)
{
	const gnutls_datum_t *certs;
	gnutls_x509_crt_t crt;
	unsigned int n = 0, status = 0;
	unsigned char d[32];
	size_t len;

	memset(ci, 0, sizeof(*ci));
	certs = gnutls_certificate_get_peers(t->session, &n);
	if (certs == NULL || n == 0 || gnutls_x509_crt_init(&crt) < 0)
		return error_set(err, ERR_TLS,
		    "the server sent no certificate");
	if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return error_set(err, ERR_TLS, "cannot parse the certificate");
	}
	len = sizeof(ci->subject);
	if (gnutls_x509_crt_get_dn(crt, ci->subject, &len) < 0)
		(void)strlcpy(ci->subject, "?", sizeof(ci->subject));
	len = sizeof(ci->issuer);
	if (gnutls_x509_crt_get_issuer_dn(crt, ci->issuer, &len) < 0)
		(void)strlcpy(ci->issuer, "?", sizeof(ci->issuer));
	format_time(gnutls_x509_crt_get_activation_time(crt), ci->not_before,
	    sizeof(ci->not_before));
	format_time(gnutls_x509_crt_get_expiration_time(crt), ci->not_after,
	    sizeof(ci->not_after));
	gnutls_x509_crt_deinit(crt);
	if (peer_sha256(t->session, d) == 0)
		hex_pin(d, ci->sha256, sizeof(ci->sha256));
	/* Verify now, as the handshake would have, to report on it. */
	if (gnutls_certificate_verify_peers3(t->session,
	    t->name[0] ? t->name : NULL, &status) < 0)
		status = GNUTLS_CERT_INVALID;
	ci->verified = status == 0;
	if (!ci->verified)
		verify_reason(status, t->name, ci->why, sizeof(ci->why));
	return 0;
}

void
tls_sessinfo(struct tls *t, struct tls_sessinfo *si)
{
	const char *v, *group;

	memset(si, 0, sizeof(*si));
	v = gnutls_protocol_get_name(gnutls_protocol_get_version(t->session));
	(void)strlcpy(si->version, v != NULL ? v : "?", sizeof(si->version));
	v = gnutls_cipher_get_name(gnutls_cipher_get(t->session));
	(void)strlcpy(si->cipher, v != NULL ? v : "?", sizeof(si->cipher));
	v = gnutls_mac_get_name(gnutls_mac_get(t->session));
	(void)strlcpy(si->mac, v != NULL ? v : "?", sizeof(si->mac));
	/* TLS 1.3 has no key exchange algorithm of its own: the group
	 * says what it was. */
	group = gnutls_group_get_name(gnutls_group_get(t->session));
	v = gnutls_kx_get_name(gnutls_kx_get(t->session));
	if (v != NULL && group != NULL)
		say(si->kx, sizeof(si->kx), "%s (%s)", v, group);
	else
		(void)strlcpy(si->kx, v != NULL ? v : group != NULL ? group :
		    "?", sizeof(si->kx));
}

const char *
tls_channel_binding(struct tls *t, unsigned char *cb, size_t *len,
    struct error *err)
{
	gnutls_datum_t d = { NULL, 0 };
	gnutls_channel_binding_t type;
	const char *name;
	int r;

	if (gnutls_protocol_get_version(t->session) == GNUTLS_TLS1_3) {
		type = GNUTLS_CB_TLS_EXPORTER;
		name = "tls-exporter";
	} else {
		type = GNUTLS_CB_TLS_SERVER_END_POINT;
		name = "tls-server-end-point";
	}
	if ((r = gnutls_session_channel_binding(t->session, type, &d)) < 0) {
		error_set(err, ERR_TLS, "no %s channel binding for this "
		    "session: %s", name, gnutls_strerror(r));
		return NULL;
	}
	if (d.size == 0 || d.size > TLS_CB_MAX) {
		gnutls_free(d.data);
		error_set(err, ERR_TLS, "%s channel binding of %u bytes",
		    name, d.size);
		return NULL;
	}
	memcpy(cb, d.data, d.size);
	*len = d.size;
	gnutls_free(d.data);
	return name;
}

int
tls_priority_weaker(const char *prio, char *why, size_t len)
{
	gnutls_priority_t pc;
	const unsigned int *list;
	const char *errpos = NULL, *p;
	int i, n, old = 0, weak = 0, relaxed = 0;

	if (gnutls_priority_init(&pc, prio, &errpos) < 0)
		return 0;	/* tls_start reports the bad string */
	n = gnutls_priority_protocol_list(pc, &list);
	for (i = 0; i < n; i++)
		if (list[i] == GNUTLS_SSL3 || list[i] == GNUTLS_TLS1_0 ||
		    list[i] == GNUTLS_TLS1_1)
			old = 1;
	n = gnutls_priority_cipher_list(pc, &list);
	for (i = 0; i < n; i++)
		if (list[i] == GNUTLS_CIPHER_NULL ||
		    list[i] == GNUTLS_CIPHER_ARCFOUR_128 ||
		    list[i] == GNUTLS_CIPHER_ARCFOUR_40 ||
		    list[i] == GNUTLS_CIPHER_3DES_CBC ||
		    list[i] == GNUTLS_CIPHER_DES_CBC ||
		    list[i] == GNUTLS_CIPHER_RC2_40_CBC)
			weak = 1;
	gnutls_priority_deinit(pc);
	/* %VERIFY_ALLOW_SIGN_WITH_SHA1, %VERIFY_ALLOW_BROKEN, ... */
	for (p = prio; (p = strchr(p, '%')) != NULL; p++)
		if (strncasecmp(p + 1, "VERIFY_ALLOW", 12) == 0 ||
		    strncasecmp(p + 1, "VERIFY_DISABLE", 14) == 0)
			relaxed = 1;
	if (!old && !weak && !relaxed)
		return 0;
	(void)snprintf(why, len, "%s%s%s%s%s", old ? "allows TLS older "
	    "than 1.2" : "", old && (weak || relaxed) ? ", " : "",
	    weak ? "allows broken ciphers" : "", weak && relaxed ? ", " : "",
	    relaxed ? "relaxes the checks of certificates" : "");
	return 1;
}

const char *
tls_library_version(void)
{
	return gnutls_check_version(NULL);
}
