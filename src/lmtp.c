/*
 * lmtp.c - the LMTP and SMTP backends (backend.h): each message is one
 * transaction with a mail system, over smtp_client.c.  The two differ
 * only in the hello (LHLO or EHLO), so they share this file and every
 * function but open.
 *
 * A message is the server's once it has answered the end of the
 * message with 2xx (RFC 2033 section 4.2, RFC 5321 section 4.1.1.4):
 * so finish is the barrier and sync only counts, and the backend sets
 * record_each, so that fetch.c records each message as delivered right
 * after that reply, before the next message is begun.  Neither protocol
 * lets a client ask afterwards whether a message arrived, so the token
 * body is empty and recover reports an interrupted delivery as not
 * delivered: killed before the server's reply, the server drops the
 * unfinished message and it is fetched again, once; killed between the
 * reply and the journal record, that one message is delivered twice.
 *
 * 4xx (ERR_DEFERRED) leaves the message undelivered and stops the run;
 * 5xx (ERR_REFUSED) leaves it undelivered and the run goes on with the
 * others (fetch.c treats a refusal as affecting one message).  A
 * connection lost in the middle of a message is closed, and the next
 * message opens a new one.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "smtp_client.h"

struct relay {
	enum smtp_proto		 proto;
	char			*target;
	char			*rcpt;
	int			 timeout;
	struct smtp_client	*c;
	size_t			 finished;	/* since the last sync */
};

static void *
relay_open(const struct deliver_params *p, enum smtp_proto proto,
    struct error *err)
{
	struct relay *r;

	if (p->recipient == NULL || p->recipient[0] == '\0') {
		error_set(err, ERR_CONFIG, "%s: no recipient",
		    proto == SMTP_PROTO_LMTP ? "LMTP" : "SMTP");
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->proto = proto;
	r->timeout = p->timeout > 0 ? p->timeout : 60;
	/* Connecting now means a mail system that is down stops the run
	 * before anything is fetched. */
	if ((r->c = smtp_client_open(p->target, proto, r->timeout,
	    err)) == NULL) {
		free(r);
		return NULL;
	}
	r->target = xstrdup(p->target);
	r->rcpt = xstrdup(p->recipient);
	return r;
}

static void *
lmtp_open(const struct deliver_params *p, struct error *err)
{
	return relay_open(p, SMTP_PROTO_LMTP, err);
}

static void *
smtp_open(const struct deliver_params *p, struct error *err)
{
	return relay_open(p, SMTP_PROTO_SMTP, err);
}

static const char *
relay_prepare(void *h, const char *tag, struct error *err)
{
	(void)tag;
	(void)h;
	(void)err;
	return "";
}

/* The reverse path: the sender if it is local@domain, else the null
 * path (a bounce or a message without sender). */
static const char *
reverse_path(const char *sender)
{
	const char *at = strchr(sender, '@');

	if (at == NULL || at == sender || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return "";
	return sender;
}

static int
relay_begin(void *h, const char *sender, struct error *err)
{
	struct relay *r = h;

	if (r->c != NULL && smtp_client_broken(r->c)) {
		smtp_client_close(r->c);
		r->c = NULL;
	}
	if (r->c == NULL && (r->c = smtp_client_open(r->target, r->proto,
	    r->timeout, err)) == NULL)
		return -1;
	return smtp_client_begin(r->c, reverse_path(sender), r->rcpt, err);
}

static int
relay_write(void *h, const char *data, size_t len, struct error *err)
{
	struct relay *r = h;

	return smtp_client_write(r->c, data, len, err);
}

static int
relay_finish(void *h, struct error *err)
{
	struct relay *r = h;

	if (smtp_client_end(r->c, err) == -1)
		return -1;
	r->finished++;
	return 0;
}

static const char *
relay_reply(void *h)
{
	struct relay *r = h;

	return r->c != NULL ? smtp_client_reply(r->c) : NULL;
}

static int
relay_sync(void *h, size_t *published, struct error *err)
{
	struct relay *r = h;

	(void)err;
	*published = r->finished;
	r->finished = 0;
	return 0;
}

/* A message cut off in DATA can only be abandoned by closing the
 * connection: the server then drops it. */
static void
relay_abort(void *h)
{
	struct relay *r = h;

	if (r != NULL && r->c != NULL && smtp_client_broken(r->c)) {
		smtp_client_close(r->c);
		r->c = NULL;
	}
}

static void
relay_close(void *h)
{
	struct relay *r = h;

	if (r == NULL)
		return;
	smtp_client_close(r->c);
	free(r->target);
	free(r->rcpt);
	free(r);
}

static int
relay_recover(const char **bodies, size_t n, int *delivered,
    deliver_warn *warn, void *arg, struct error *err)
{
	size_t i;

	(void)bodies;
	(void)err;
	for (i = 0; i < n; i++) {
		delivered[i] = 0;
		warn(arg, "a delivery to the mail server was interrupted; "
		    "that message is delivered again (twice, if the server "
		    "had already accepted it)");
	}
	return 0;
}

const struct backend lmtp_backend = {
	.name = "lmtp",
	.kind = DELIVER_LMTP,
	.durable_token = 0,
	.record_each = 1,
	.open = lmtp_open,
	.prepare = relay_prepare,
	.begin = relay_begin,
	.write = relay_write,
	.finish = relay_finish,
	.reply = relay_reply,
	.sync = relay_sync,
	.abort = relay_abort,
	.close = relay_close,
	.recover = relay_recover
};

const struct backend smtp_backend = {
	.name = "smtp",
	.kind = DELIVER_SMTP,
	.durable_token = 0,
	.record_each = 1,
	.open = smtp_open,
	.prepare = relay_prepare,
	.begin = relay_begin,
	.write = relay_write,
	.finish = relay_finish,
	.reply = relay_reply,
	.sync = relay_sync,
	.abort = relay_abort,
	.close = relay_close,
	.recover = relay_recover
};
