/*
 * pop3.h - POP3 protocol primitives over a struct net.
 *
 * pop3 knows commands, replies and the RFC 1939 states; it never knows
 * where message bytes go: multi-line bodies leave through a sink
 * callback, dot-unstuffed and with LF line ends.
 */
#ifndef POP3_H
#define POP3_H

#include <stddef.h>

#include "net.h"
#include "pop3_parse.h"
#include "util.h"

enum pop3_state {
	POP3_AUTHORIZATION,
	POP3_TRANSACTION,
	POP3_UPDATE
};

/* One message of a LIST or UIDL listing (16 bytes: a fetch holds one
 * per message on the server). */
struct pop3_msg {
	unsigned long		 num;
	union {
		unsigned long long size;	/* LIST */
		char		*uid;		/* UIDL, NUL-terminated */
	};
};

/* Receives body bytes; returns 0, or -1 with err to stop delivery (the
 * rest of the body is then read and dropped, and the call fails). */
typedef int pop3_sink(void *arg, const char *data, size_t len,
    struct error *err);

/* Receives trace lines at the chosen debug level. */
typedef void pop3_tracer(void *arg, const char *line);

struct pop3;

/* Takes ownership of net. */
struct pop3	*pop3_new(struct net *);
/* Closes the connection without QUIT and frees everything. */
void		 pop3_free(struct pop3 *);
/* Level 1: one line per command; level 2: every line; secrets as ****. */
void		 pop3_set_trace(struct pop3 *, int level, pop3_tracer *, void *);

enum pop3_state	 pop3_state(const struct pop3 *);
struct net	*pop3_net(struct pop3 *);

/* Reads the greeting; -1 with ERR_REFUSED/ERR_BUSY (-ERR) or ERR_PROTO. */
int		 pop3_greeting(struct pop3 *, struct error *);
/* The greeting's text after "+OK", escaped for display (see vis_text). */
const char	*pop3_welcome(const struct pop3 *);
/* The APOP timestamp of the greeting, "<...>", or NULL. */
const char	*pop3_timestamp(const struct pop3 *);

/* Sends CAPA; a -ERR leaves capa.known = 0 and is not an error. */
int		 pop3_capa(struct pop3 *, struct error *);
const struct pop3_capa *pop3_capabilities(const struct pop3 *);

/* Sends STLS and starts TLS; forgets all capabilities on success. */
int		 pop3_stls(struct pop3 *, const struct tls_params *,
		    struct error *);

/*
 * Sends one single-line command and reads its status.  0 on +OK (the
 * text after "+OK " is pop3_reply_text), -1 on -ERR with err classed by
 * the RFC 2449 response code or, without one, as dflt.  Arguments that
 * are secret (PASS, the APOP digest, AUTH data) never reach the trace.
 */
int		 pop3_command(struct pop3 *, enum err_class dflt,
		    struct error *, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
const char	*pop3_reply_text(const struct pop3 *);

/*
 * Sends AUTH (RFC 5034) with an optional base64 initial response ("="
 * for an empty one) and reads the reply: 1 for a "+ " challenge
 * (pop3_reply_text is its base64), 0 for +OK, -1 with err for -ERR.
 * Everything after the mechanism name and every challenge is traced
 * as ****.
 */
int		 pop3_auth(struct pop3 *, const char *mech, const char *initial,
		    struct error *);

/* The longest SASL response line popfetch sends (OAuth tokens run to a
 * few kilobytes). */
#define SASL_LINE_MAX	65536

/* Sends a SASL continuation line (always traced as ****) and reads the
 * reply: 1 for a "+ " challenge (pop3_reply_text is its base64), 0 for
 * +OK (authenticated), -1 with err for -ERR. */
int		 pop3_sasl_line(struct pop3 *, const char *, struct error *);

/*
 * Pipelining (RFC 2449): pop3_queue adds a command without sending it
 * (only commands without secrets, in the right state), pop3_flush sends
 * all queued ones at once, and pop3_recv_status reads the reply to the
 * oldest command in flight, then pop3_recv_body its body if it has one
 * (a NULL sink drops it).  Replies come strictly in order.
 */
int		 pop3_queue(struct pop3 *, struct error *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
int		 pop3_flush(struct pop3 *, struct error *);
int		 pop3_recv_status(struct pop3 *, enum err_class dflt,
		    struct error *);
int		 pop3_recv_body(struct pop3 *, pop3_sink *, void *,
		    struct error *);

int		 pop3_stat(struct pop3 *, unsigned long *count,
		    unsigned long long *octets, struct error *);
/* num 0: all messages.  *msgs is owned by the caller (pop3_msgs_free). */
int		 pop3_list(struct pop3 *, unsigned long num,
		    struct pop3_msg **msgs, size_t *n, struct error *);
int		 pop3_uidl(struct pop3 *, unsigned long num,
		    struct pop3_msg **msgs, size_t *n, struct error *);
/* Frees a listing; uidl says whether it came from pop3_uidl (and so
 * holds strings). */
void		 pop3_msgs_free(struct pop3_msg *, size_t, int uidl);

/* Receives each line of a UIDL listing: the message number and the uid
 * (len bytes, not NUL-terminated, no NUL inside); -1 with err stops. */
typedef int pop3_uid_fn(void *arg, unsigned long num, const char *uid,
    size_t len, struct error *err);
/* UIDL without storing it: fn sees each message in ascending order.  A
 * -ERR is ERR_REFUSED before fn is called at all. */
int		 pop3_uidl_each(struct pop3 *, pop3_uid_fn *, void *,
		    struct error *);

int		 pop3_retr(struct pop3 *, unsigned long num, pop3_sink *,
		    void *, struct error *);
int		 pop3_top(struct pop3 *, unsigned long num,
		    unsigned long lines, pop3_sink *, void *, struct error *);
int		 pop3_dele(struct pop3 *, unsigned long num, struct error *);
int		 pop3_rset(struct pop3 *, struct error *);
int		 pop3_noop(struct pop3 *, struct error *);
/* Sends QUIT; in the TRANSACTION state a failure means the deletions
 * may not have been committed. */
int		 pop3_quit(struct pop3 *, struct error *);

#endif
