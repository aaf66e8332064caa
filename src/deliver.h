/*
 * deliver.h - where fetched messages go: a maildir, an mbox or an MDA.
 *
 * One message at a time: deliver_prepare names it (the token goes into
 * the state journal before any byte is written), deliver_write streams
 * it, deliver_commit makes it durable and visible, or deliver_abort
 * removes every trace of it.  deliver_recover looks at a token left by a
 * run that was killed and tells whether that message arrived, cleaning
 * up only what popfetch itself wrote.
 */
#ifndef DELIVER_H
#define DELIVER_H

#include <stddef.h>

#include "util.h"

enum deliver_kind {
	DELIVER_MAILDIR,
	DELIVER_MBOX,
	DELIVER_MDA
};

struct deliver_params {
	enum deliver_kind	 kind;
	const char		*target;	/* directory, file or command */
	int			 lock_timeout;	/* seconds to wait for an mbox */
};

struct deliver;

/* Creates the maildir or mbox if missing (ERR_CANTCREAT) and locks an
 * mbox for as long as it is open (ERR_LOCKED if another program holds
 * it). */
struct deliver	*deliver_open(const struct deliver_params *, struct error *);

/* Names the next message; the token (owned by d, valid until the next
 * prepare) is what deliver_recover needs after a crash. */
const char	*deliver_prepare(struct deliver *, struct error *);

/* Appends message bytes (LF line ends); a pop3_sink. */
int		 deliver_write(void *d, const char *, size_t, struct error *);

/* Ends the message: written, not yet durable or visible (an MDA's is
 * delivered now).  ERR_IO, or ERR_DEFERRED for an MDA that asked to be
 * retried. */
int		 deliver_finish(struct deliver *, struct error *);

/* Makes every finished message durable and visible with one barrier
 * (syncfs or fsync, rename into new/, fsync of the directory).
 * *published says how many, in order, made it even on failure; the
 * others are removed. */
int		 deliver_sync(struct deliver *, size_t *published,
		    struct error *);

/* Whether the journal entry must be durable before the first byte is
 * written (mbox), or may be made durable with the batch (maildir). */
int		 deliver_durable_token(const struct deliver *);

/* Removes the message being written. */
void		 deliver_abort(struct deliver *);

/* Unlocks and frees. */
void		 deliver_close(struct deliver *);

/*
 * After a crash: which of the deliveries named by tokens[0..n) (in
 * journal order) arrived?  Sets delivered[i], removes what popfetch
 * wrote of those that did not, and calls warn for anything that could
 * not be cleaned up.
 */
int		 deliver_recover(char **tokens, size_t n, int *delivered,
		    void (*warn)(void *, const char *), void *arg,
		    struct error *);

/* The envelope sender found in a message header (Return-Path, else
 * From), reduced to characters safe in an mbox From line and in a
 * shell word; "MAILER-DAEMON" when there is none.  For tests too. */
void		 deliver_sender(const char *hdr, size_t len, char *out,
		    size_t outlen);

#endif
