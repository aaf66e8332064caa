/*
 * smtp_client.h - the sending side of SMTP (RFC 5321) and LMTP (RFC
 * 2033), for handing fetched messages to a mail system: one connection,
 * one message at a time, one recipient per message.
 *
 * The caller gives message bytes with LF line ends; the client turns
 * them into CRLF and dot-stuffs them (RFC 5321 section 4.5.2).  A reply
 * class is an error class: 4xx is ERR_DEFERRED (try again later), 5xx
 * is ERR_REFUSED (this message will not be taken as it is), and a lost,
 * refused or silent connection is ERR_DEFERRED too, after which the
 * handle is broken (smtp_client_broken) and must be closed.  Server
 * text in messages is escaped.  Every function that can fail returns 0
 * or -1 (NULL for pointers) and fills the caller's struct error.
 */
#ifndef SMTP_CLIENT_H
#define SMTP_CLIENT_H

#include <stddef.h>

#include "util.h"

enum smtp_proto {
	SMTP_PROTO_SMTP,	/* EHLO, then HELO if EHLO is refused */
	SMTP_PROTO_LMTP		/* LHLO */
};

struct smtp_client;

/*
 * Connects to target, "unix:PATH", "HOST:PORT" or "[ADDRESS]:PORT",
 * reads the greeting and says hello.  timeout bounds every read and
 * write, in seconds.  Returns a handle owned by the caller, or NULL
 * with ERR_CONFIG (a target of neither form), ERR_NOHOST, ERR_DEFERRED
 * (no connection, or a 4xx greeting), ERR_REFUSED (a 5xx greeting or
 * hello) or ERR_PROTO (a reply that is no reply).
 */
struct smtp_client *smtp_client_open(const char *target, enum smtp_proto,
		    int timeout, struct error *);

/*
 * MAIL FROM (sender, an address; "" for the null path <>), RCPT TO
 * (rcpt) and DATA.  On a refusal the transaction is reset and the
 * handle may carry the next message.  ERR_DEFERRED, ERR_REFUSED,
 * ERR_PROTO, ERR_CONFIG (a recipient with characters no address has).
 */
int		 smtp_client_begin(struct smtp_client *, const char *sender,
		    const char *rcpt, struct error *);

/* Sends message bytes (LF line ends) after a successful begin.
 * ERR_DEFERRED. */
int		 smtp_client_write(struct smtp_client *, const char *, size_t,
		    struct error *);

/*
 * Ends the message and reads the recipient's reply: 0 once the server
 * has taken responsibility for the message (2xx).  ERR_DEFERRED,
 * ERR_REFUSED, ERR_PROTO; after a refusal the handle may carry the next
 * message.
 */
int		 smtp_client_end(struct smtp_client *, struct error *);

/* After an end that succeeded: the server's reply, its code and the
 * text of its last line, escaped ("250 2.0.0 Ok: queued as ..."); ""
 * otherwise.  Owned by the handle, valid until its next end. */
const char	*smtp_client_reply(const struct smtp_client *);

/* Whether the connection is lost or out of step, or a message was cut
 * off in the middle of DATA; then only close is left. */
int		 smtp_client_broken(const struct smtp_client *);

/* Says QUIT if the connection is in step, closes and frees; a message
 * in the middle of DATA is thereby abandoned (the server drops it).
 * NULL is fine. */
void		 smtp_client_close(struct smtp_client *);

#endif
