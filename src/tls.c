/*
 * tls.c - TLS client sessions with GnuTLS.
 *
 * The only includer of <gnutls/gnutls.h>.  Verification is done by GnuTLS
 * itself during the handshake (gnutls_session_set_verify_cert), so a
 * session that tls_start returns has a verified chain, a matching name
 * and valid dates, unless the caller asked for insecure.
 */
#include <sys/types.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>

#include "tls.h"

/* TLS 1.2 or newer; RFC 8314 section 4.1 asks for no less. */
#define DEFAULT_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct tls {
	gnutls_session_t			session;
	gnutls_certificate_credentials_t	cred;
	int					fd;
	int					timeout;
};

static int
is_ip_literal(const char *name)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, name, buf) == 1 ||
	    inet_pton(AF_INET6, name, buf) == 1;
}

/* Turns a verification status into the one reason a user can act on. */
static void
verify_reason(unsigned status, const char *name, char *buf, size_t len)
{
	if (status & GNUTLS_CERT_EXPIRED)
		(void)snprintf(buf, len, "the server certificate has expired");
	else if (status & GNUTLS_CERT_NOT_ACTIVATED)
		(void)snprintf(buf, len,
		    "the server certificate is not yet valid");
	else if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
		(void)snprintf(buf, len,
		    "the server certificate is not valid for %s", name);
	else if (status & GNUTLS_CERT_REVOKED)
		(void)snprintf(buf, len,
		    "the server certificate has been revoked");
	else if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
		(void)snprintf(buf, len, "the server certificate is signed "
		    "by an unknown certificate authority");
	else if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
		(void)snprintf(buf, len, "the server certificate uses an "
		    "insecure algorithm");
	else {
		gnutls_datum_t out = { NULL, 0 };

		if (gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &out, 0) == 0 && out.data != NULL)
			(void)snprintf(buf, len, "%s", out.data);
		else
			(void)snprintf(buf, len, "verification failed");
		gnutls_free(out.data);
	}
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

struct tls *
tls_start(int fd, const struct tls_params *p, int timeout, struct error *err)
{
	struct tls *t;
	const char *errpos = NULL;
	const char *name = p->server_name;
	char why[256];
	int r;

	t = xcalloc(1, sizeof(*t));
	if (gnutls_certificate_allocate_credentials(&t->cred) < 0) {
		t->cred = NULL;
		tls_destroy(t);
		error_set(err, ERR_SOFTWARE, "cannot allocate TLS credentials");
		return NULL;
	}
	if (p->ca_file != NULL) {
		r = gnutls_certificate_set_x509_trust_file(t->cred, p->ca_file,
		    GNUTLS_X509_FMT_PEM);
		if (r <= 0) {
			tls_destroy(t);
			error_set(err, ERR_CONFIG, "%s: %s", p->ca_file,
			    r == 0 ? "no certificates found" :
			    gnutls_strerror(r));
			return NULL;
		}
	} else if (!p->insecure) {
		r = gnutls_certificate_set_x509_system_trust(t->cred);
		if (r < 0) {
			tls_destroy(t);
			error_set(err, ERR_CONFIG,
			    "cannot load the system trust store: %s",
			    gnutls_strerror(r));
			return NULL;
		}
	}
	if ((r = gnutls_init(&t->session, GNUTLS_CLIENT)) < 0) {
		t->session = NULL;
		tls_destroy(t);
		error_set(err, ERR_SOFTWARE, "gnutls_init: %s",
		    gnutls_strerror(r));
		return NULL;
	}
	r = gnutls_priority_set_direct(t->session,
	    p->priority != NULL ? p->priority : DEFAULT_PRIORITY, &errpos);
	if (r < 0) {
		tls_destroy(t);
		error_set(err, ERR_CONFIG, "bad TLS priority string near "
		    "\"%.40s\"", errpos != NULL ? errpos : "");
		return NULL;
	}
	(void)gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE,
	    t->cred);
	/* RFC 6066: no SNI for address literals. */
	if (name != NULL && !is_ip_literal(name))
		(void)gnutls_server_name_set(t->session, GNUTLS_NAME_DNS, name,
		    strlen(name));
	if (!p->insecure)
		gnutls_session_set_verify_cert(t->session, name, 0);
	gnutls_transport_set_int(t->session, fd);
	t->fd = fd;
	t->timeout = timeout;
	gnutls_handshake_set_timeout(t->session, (unsigned)timeout * 1000);

	do {
		r = gnutls_handshake(t->session);
	} while (r == GNUTLS_E_INTERRUPTED);
	if (r == 0)
		return t;

	if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		verify_reason(gnutls_session_get_verify_cert_status(t->session),
		    name != NULL ? name : "(no name)", why, sizeof(why));
		error_set(err, ERR_TLS, "TLS: %s", why);
	} else if (r == GNUTLS_E_TIMEDOUT || r == GNUTLS_E_AGAIN)
		error_set(err, ERR_TEMP, "TLS handshake timed out");
	else if (r == GNUTLS_E_PREMATURE_TERMINATION ||
	    r == GNUTLS_E_PULL_ERROR || r == GNUTLS_E_PUSH_ERROR)
		error_set(err, ERR_TEMP,
		    "the server closed the connection during the TLS handshake");
	else
		error_set(err, ERR_PROTO, "TLS handshake failed: %s",
		    gnutls_strerror(r));
	tls_destroy(t);
	return NULL;
}

static long long
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
		left = (long long)t->timeout * 1000 - (now_ms() - start);
		if (left <= 0)
			break;
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
		return error_set(err, ERR_TEMP, "read timed out");
	if (r == GNUTLS_E_PULL_ERROR)
		return error_set(err, ERR_TEMP, "read failed: %s",
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
			return error_set(err, ERR_TEMP, "write timed out");
		if (r < 0)
			return error_set(err, ERR_TEMP, "TLS write failed: %s",
			    gnutls_strerror((int)r));
		p += r;
		n -= (size_t)r;
	}
	return 0;
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

const char *
tls_description(struct tls *t, char *buf, size_t len)
{
	char *d = gnutls_session_get_desc(t->session);

	(void)snprintf(buf, len, "%s", d != NULL ? d : "TLS");
	gnutls_free(d);
	return buf;
}

const char *
tls_library_version(void)
{
	return gnutls_check_version(NULL);
}
