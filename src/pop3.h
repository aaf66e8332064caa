/*
 * pop3.h - POP3 protocol primitives over a struct net.
 *
 * pop3 knows commands, replies and the RFC 1939 states; it never knows
 * where message bytes go: multi-line bodies leave through a sink
 * callback, dot-unstuffed and with LF line ends.
 *
 * Errors.  Every function that talks to the server returns 0 (or the
 * documented positive value) or -1 with a caller-owned struct error.
 * A -ERR reply is classed by its RFC 2449/3206 response code: [AUTH]
 * ERR_AUTH; [SYS/TEMP], [IN-USE], [LOGIN-DELAY] ERR_BUSY; [SYS/PERM]
 * ERR_REFUSED; without a known code the class the caller passes as dflt
 * (ERR_REFUSED for the functions that take none).  A failed read or
 * write or a timeout is ERR_NET; a reply that breaks the protocol
 * (garbage, a line over POP3_LINE_MAX, a malformed or out-of-order
 * listing) is ERR_PROTO; a TLS failure during STLS has the classes of
 * tls_start; calling a function in a way that cannot be right (a
 * command the state does not allow, CR or LF in a command, reading a
 * reply nobody asked for) is ERR_SOFTWARE, and nothing is sent.
 *
 * Usability.  Any I/O error or loss of sync (ERR_NET, ERR_PROTO, a TLS
 * error, and an ERR_BUSY -ERR, which RFC 2449 and 3206 define for the
 * login commands only and so means the server's end is failing) marks
 * the connection broken.  pop3_broken is the one way to ask; a broken
 * connection refuses every further command and read with the error that
 * broke it, and nothing more is ever written to it.
 */
#ifndef POP3_H
#define POP3_H

#include <stddef.h>

#include "net.h"
#include "pop3_parse.h"
#include "pop3_trace.h"
#include "util.h"

enum pop3_state {
	POP3_AUTHORIZATION,
	POP3_TRANSACTION,
	POP3_UPDATE		/* after QUIT: the session is over */
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
 * rest of the body is then read and dropped, and the call fails with
 * this err; the connection stays usable). */
typedef int pop3_sink(void *arg, const char *data, size_t len,
    struct error *err);

struct pop3;

/* A connection in the AUTHORIZATION state, before the greeting.  Takes
 * ownership of net; never fails (out of memory ends the program). */
struct pop3	*pop3_new(struct net *);
/* Closes the connection without QUIT and frees everything; NULL is
 * fine. */
void		 pop3_free(struct pop3 *);
/* Traces at level 1 or 2 to fn (see pop3_trace.h); secrets as ****.
 * fn and arg must outlive p. */
void		 pop3_set_trace(struct pop3 *, int level, pop3_tracer *fn,
		    void *arg);

/* Traces a note of popfetch's own (a choice it made) at level 1 and
 * up; nothing is sent. */
void		 pop3_note(struct pop3 *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* The RFC 2449 response code of the last status line ("LOGIN-DELAY"),
 * or "".  Owned by p, valid until the next reply is read. */
const char	*pop3_reply_code(const struct pop3 *);

/* The RFC 1939 state: AUTHORIZATION until a PASS, APOP, RPOP or AUTH
 * is accepted, UPDATE after QUIT is. */
enum pop3_state	 pop3_state(const struct pop3 *);
/* The connection underneath, owned by p (for net_certinfo). */
struct net	*pop3_net(struct pop3 *);

/* Whether the connection is broken (see above): 1 or 0. */
int		 pop3_broken(const struct pop3 *);

/* Reads the greeting; -1 with ERR_REFUSED, ERR_BUSY (-ERR), ERR_NET or
 * ERR_PROTO. */
int		 pop3_greeting(struct pop3 *, struct error *);
/* The greeting's text after "+OK", escaped for display (see vis_text);
 * "" before the greeting.  Owned by p. */
const char	*pop3_welcome(const struct pop3 *);
/* The APOP timestamp of the greeting, "<...>", or NULL.  Owned by p. */
const char	*pop3_timestamp(const struct pop3 *);

/* Sends CAPA and keeps the answer; a -ERR leaves capa.known = 0 and is
 * not an error.  -1 with ERR_NET or ERR_PROTO (over 256 lines too). */
int		 pop3_capa(struct pop3 *, struct error *);
/* What the last pop3_capa learnt; owned by p, valid until the next
 * pop3_capa or pop3_stls. */
const struct pop3_capa *pop3_capabilities(const struct pop3 *);

/* Sends STLS and starts TLS; forgets all capabilities on success.  -1
 * with ERR_REFUSED (-ERR), the errors of net_starttls (which break the
 * connection) or those of a reply. */
int		 pop3_stls(struct pop3 *, const struct tls_params *,
		    struct error *);

/*
 * Formats one command, sends it and reads its status: 0 on +OK (the
 * text after "+OK " is pop3_reply_text), -1 with err on -ERR (classed
 * by its response code or, without one, as dflt) and on the errors
 * above.  The command must be in the command table and allowed in the
 * state (else ERR_SOFTWARE), and no reply may be outstanding.  If it
 * answers with lines (CAPA, LIST and UIDL without a number, RETR, TOP),
 * read them next with pop3_recv_body.  Arguments that are secret
 * (PASS, the APOP digest, AUTH data) never reach the trace; the
 * formatted line is wiped after sending.
 */
int		 pop3_command(struct pop3 *, enum err_class dflt,
		    struct error *, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
/* The text of the last status line after "+OK " (or "-ERR ", "+ "),
 * raw server bytes up to the first NUL.  Owned by p, valid until the
 * next reply is read. */
const char	*pop3_reply_text(const struct pop3 *);

/*
 * Sends AUTH (RFC 5034) with an optional base64 initial response ("="
 * for an empty one) and reads the reply: 1 for a "+ " challenge
 * (pop3_reply_text is its base64), 0 for +OK (logged in), -1 with err
 * for -ERR (ERR_AUTH by default) and the errors above.  Everything
 * after the mechanism name and every challenge is traced as ****.
 */
int		 pop3_auth(struct pop3 *, const char *mech, const char *initial,
		    struct error *);

/* The longest SASL response line popfetch sends (OAuth tokens run to a
 * few kilobytes). */
#define SASL_LINE_MAX	65536

/* Sends a SASL continuation line (always traced as ****) after a
 * challenge, and reads the reply as pop3_auth does.  ERR_SOFTWARE when
 * no challenge is waiting for an answer. */
int		 pop3_sasl_line(struct pop3 *, const char *, struct error *);

/*
 * Pipelining (RFC 2449): pop3_queue adds a command without sending it
 * (only commands without secrets that leave the state as it is, and
 * allowed in it; else ERR_SOFTWARE; if some 128 kB of commands wait
 * already, those are sent first), pop3_flush sends all queued ones at
 * once (ERR_NET), and pop3_recv_status reads the reply to the oldest
 * command in flight (as pop3_command does), then pop3_recv_body its
 * lines if it has them.  Replies come strictly in order.
 */
int		 pop3_queue(struct pop3 *, struct error *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
/* pop3_queue of "CMD N" (RETR, DELE, UIDL, LIST and the like), without
 * a format to parse: the pipeline sends one per message. */
int		 pop3_queue_num(struct pop3 *, const char *cmd, unsigned long n,
		    struct error *);
int		 pop3_flush(struct pop3 *, struct error *);
int		 pop3_recv_status(struct pop3 *, enum err_class dflt,
		    struct error *);
/*
 * Reads the lines announced by the +OK just read, up to the final ".",
 * dot-unstuffed with LF line ends, into sink (NULL: dropped).  A sink
 * failure is returned after the rest was read (the connection stays in
 * step); ERR_NET and ERR_PROTO break it; ERR_SOFTWARE when no +OK with
 * lines was just read.
 */
int		 pop3_recv_body(struct pop3 *, pop3_sink *, void *,
		    struct error *);

/* STAT: -1 with ERR_REFUSED (-ERR), ERR_PROTO (a malformed reply) or
 * the errors above. */
int		 pop3_stat(struct pop3 *, unsigned long *count,
		    unsigned long long *octets, struct error *);
/*
 * LIST and UIDL: num 0 lists all messages, else just num (whose number
 * must come back).  *msgs is owned by the caller (pop3_msgs_free), and
 * NULL with *n 0 on failure.  -1 with ERR_REFUSED (-ERR), ERR_PROTO
 * (a malformed line, messages out of order or twice, another message
 * than num) or the errors above.
 */
int		 pop3_list(struct pop3 *, unsigned long num,
		    struct pop3_msg **msgs, size_t *n, struct error *);
int		 pop3_uidl(struct pop3 *, unsigned long num,
		    struct pop3_msg **msgs, size_t *n, struct error *);
/* Frees a listing; uidl says whether it came from pop3_uidl (and so
 * holds strings).  NULL is fine. */
void		 pop3_msgs_free(struct pop3_msg *, size_t, int uidl);

/* Receives each line of a UIDL listing: the message number and the uid
 * (len bytes, not NUL-terminated, no NUL inside, valid during the call
 * only); -1 with err stops (the rest is read and dropped, and the
 * connection stays usable). */
typedef int pop3_uid_fn(void *arg, unsigned long num, const char *uid,
    size_t len, struct error *err);
/* UIDL without storing it: fn sees each message in ascending order.  A
 * -ERR is ERR_REFUSED (or the class of its code) before fn is called at
 * all; the other errors as for pop3_uidl. */
int		 pop3_uidl_each(struct pop3 *, pop3_uid_fn *, void *,
		    struct error *);
/* LIST the same way: fn sees each message number and size, in
 * ascending order, and a long listing costs no memory here. */
typedef int pop3_size_fn(void *arg, unsigned long num,
    unsigned long long size, struct error *err);
int		 pop3_list_each(struct pop3 *, pop3_size_fn *, void *,
		    struct error *);

/* RETR and TOP: the message (or its header and lines lines of the
 * body) into sink, as pop3_recv_body.  -1 with ERR_REFUSED (-ERR), the
 * sink's error, or the errors above. */
int		 pop3_retr(struct pop3 *, unsigned long num, pop3_sink *,
		    void *, struct error *);
int		 pop3_top(struct pop3 *, unsigned long num,
		    unsigned long lines, pop3_sink *, void *, struct error *);
/* DELE, RSET, NOOP: -1 with ERR_REFUSED (-ERR) or the errors above. */
int		 pop3_dele(struct pop3 *, unsigned long num, struct error *);
int		 pop3_rset(struct pop3 *, struct error *);
int		 pop3_noop(struct pop3 *, struct error *);
/* Sends QUIT; in the TRANSACTION state a failure means the deletions
 * may not have been committed, and the message says so.  On a broken
 * connection nothing is sent, and the error that broke it is returned
 * as it is.  Callers end sessions with session_end, which holds the
 * rule for whether to QUIT at all. */
int		 pop3_quit(struct pop3 *, struct error *);

#endif
