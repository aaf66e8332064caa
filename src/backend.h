/*
 * backend.h - what a delivery target provides to deliver.c; private to
 * deliver.c and the backends (maildir.c, mbox.c, mda.c, lmtp.c).
 *
 * A backend is one `const struct backend` and one .c file.  Adding a
 * target (say LMTP) means: a new file defining `lmtp_backend`, a row in
 * the table at the top of deliver.c, a value in enum deliver_kind
 * (deliver.h) for the front end to choose it by, and the file in the
 * Makefile's SRC.  Nothing else in deliver.c or fetch.c changes.
 *
 * All memory a backend allocates belongs to it and is freed by close;
 * strings it is given belong to the caller and are not kept past the
 * call unless copied.  Every function that can fail returns 0 or -1
 * (NULL for pointers) and fills the caller's struct error; the classes
 * are those of deliver.h.
 *
 * The life of one handle, as deliver.c calls it:
 *
 *	open
 *	{ prepare, begin, write..., finish | abort }...	one per message
 *	sync					after a batch of finish
 *	close
 *
 * and, in a later run, after a crash: recover, without a handle.
 *
 * What every backend promises, because fetch.c's exactly-once argument
 * rests on it:
 *
 *  - The token from prepare names exactly what this message will
 *    become (a file name, an offset), so that recover, in another
 *    process, with only the token, can tell whether the message
 *    arrived and remove what was written of it.  It never contains
 *    server text.  fetch.c journals it before begin (in the kernel
 *    before begin, unless hidden_until_sync: then before sync); with
 *    durable_token set, the journal record is on disk before the first
 *    byte is written.
 *  - finish that fails leaves nothing of the message behind.
 *  - sync reports in *published how many of the finished messages, in
 *    the order they were finished, are durable (they survive a power
 *    loss) and visible to mail readers.  Those past *published are
 *    removed, or will be found undelivered by recover.  fetch.c
 *    records a message as delivered only after sync counted it, and
 *    only then may the message be deleted on the server.
 *  - abort removes every trace of the message begun since prepare; it
 *    never fails in a way the caller must handle.
 *  - recover is idempotent: a crash during recovery and a second
 *    recovery give the same answers.  It removes only bytes popfetch
 *    itself wrote; where it cannot remove them safely it says so
 *    through warn and reports the message undelivered (it is fetched
 *    again: duplicated, never lost).
 *
 * A target that can be neither asked nor rolled back (an MDA, once it
 * has read some of the message) cannot keep the promises about leaving
 * nothing behind; its backend says so in its file and through warn in
 * recover, and fetch.c's guarantee for it is at least once.
 */
#ifndef BACKEND_H
#define BACKEND_H

#include <limits.h>
#include <stddef.h>

#include "deliver.h"
#include "util.h"

/* The longest token body a backend may give (a path and a little more);
 * deliver.c adds the backend's name in front. */
#define BACKEND_TOKEN_MAX	(PATH_MAX + 320)

struct backend {
	/* The first word of every token of this backend in the journal;
	 * deliver_recover finds the backend by it.  Never changes once
	 * released: old journals must still be understood. */
	const char	*name;

	/* The value of enum deliver_kind that selects this backend. */
	enum deliver_kind kind;

	/* 1 if the journal record must be durable before the first byte
	 * is written: bytes in the target without a record would be taken
	 * for mail after a power loss (an mbox tail).  0 if such bytes are
	 * harmless (a maildir file in tmp/) and the record may be made
	 * durable with the batch. */
	int		 durable_token;
	/* 1 if what begin and write make stays out of mail readers'
	 * sight until sync publishes it, and a crash before then leaves
	 * nothing the next run needs the journal to find (a maildir file
	 * in tmp/, removed as an orphan once its process is gone): the
	 * record may then wait in memory for the batch's journal sync,
	 * which precedes sync, and a batch's records cost one write. */
	int		 hidden_until_sync;
	/* 1 if each finished message must be synced and recorded as
	 * delivered before the next one is begun: the target took it for
	 * good when finish returned and cannot be asked after a crash (an
	 * MDA that exited 0, an LMTP or SMTP server's 250), so the window
	 * in which a crash delivers a message twice is one message.  0
	 * lets fetch.c record a batch at once. */
	int		 record_each;
	/* 1 if begin does not use the sender, which is then not looked
	 * for in the header (a maildir: the file is the message). */
	int		 ignores_sender;

	/* Opens p->target, creating it if it is missing, and takes what
	 * locks it needs for as long as it is open.  ERR_CANTCREAT (the
	 * target cannot be made or used), ERR_LOCKED (another program
	 * holds it), ERR_IO. */
	void		*(*open)(const struct deliver_params *p,
			    struct error *);

	/* Names the next message; tag (deliver_tag, or "") goes into the
	 * name where the target has one (a maildir file's).  Returns the
	 * token body (without the backend's name, at most
	 * BACKEND_TOKEN_MAX bytes, no NUL; owned by the handle, valid
	 * until the next prepare or close), or NULL with ERR_IO or
	 * ERR_CANTCREAT. */
	const char	*(*prepare)(void *h, const char *tag,
			    struct error *);

	/* Starts the message named by the last prepare.  sender is the
	 * envelope sender, already reduced to characters safe in an mbox
	 * From line and in a shell word.  ERR_CANTCREAT, ERR_IO. */
	int		 (*begin)(void *h, const char *sender, struct error *);

	/* After a begin that succeeded: the offset in the target of the
	 * message's first line, where that is not the token's first word
	 * (an mbox: the From line, after the empty line begin put before
	 * it when the file did not end in one).  NULL: the token's first
	 * word says where the message is. */
	long long	 (*start)(void *h);

	/* Appends message bytes (LF line ends, any bytes).  ERR_IO. */
	int		 (*write)(void *h, const char *, size_t,
			    struct error *);

	/* Ends the message: written whole, maybe not yet durable or
	 * visible.  ERR_IO; ERR_DEFERRED when the target asked to be
	 * retried later (an MDA's exit status 75). */
	int		 (*finish)(void *h, struct error *);

	/* After a finish that succeeded: what the target answered, for
	 * the user (a server's reply: code and text, escaped), owned by
	 * the handle until the next begin; NULL: nothing to say. */
	const char	*(*reply)(void *h);

	/* Makes every message finished since the last sync durable and
	 * visible with one barrier; see the promises above for
	 * *published, which is set on failure too.  ERR_IO. */
	int		 (*sync)(void *h, size_t *published, struct error *);

	/* Removes the message begun since prepare, if any; NULL is fine. */
	void		 (*abort)(void *h);

	/* How many messages the last failed sync, finish or abort left
	 * in the target, maybe whole, maybe partial, without being able
	 * to remove them or to prove them durable: after a sync, the
	 * first that many past *published (files already renamed into
	 * new/ before new/ could not be synced); after a finish or an
	 * abort, 1 if its rollback failed.  Their journal records must
	 * stay pending, so that recovery decides.  NULL: always 0. */
	size_t		 (*unsure)(void *h);

	/* Removes finished messages not yet synced, releases the locks
	 * and frees the handle; NULL is fine. */
	void		 (*close)(void *h);

	/* After a crash: bodies[0..n) are the token bodies of this
	 * backend's deliveries that began but were never recorded as
	 * ended, in journal order, all at once (an mbox needs every
	 * offset of one file together).  Sets delivered[i] to 1 if that
	 * message arrived whole, else 0 after removing what popfetch
	 * wrote of it; warn(arg, text) tells the user what could not be
	 * cleaned up or guaranteed.  ERR_CONFIG (a token this backend
	 * never wrote: a corrupt journal), ERR_LOCKED, ERR_IO. */
	int		 (*recover)(const char **bodies, size_t n,
			    int *delivered, deliver_warn *warn, void *arg,
			    struct error *);
};

/* maildir.c: deliver_ours for a maildir. */
int	maildir_ours(const char *target, unsigned long account,
	    long long since, int all, const struct deliver_seen *last,
	    struct deliver_seen *seen, deliver_found *found, void *arg,
	    struct error *);

/* maildir.c: deliver_look for a maildir. */
void	maildir_look(const char *target, struct deliver_seen *seen);

extern const struct backend maildir_backend;	/* maildir.c */
extern const struct backend mbox_backend;	/* mbox.c */
extern const struct backend mda_backend;	/* mda.c */
extern const struct backend lmtp_backend;	/* lmtp.c */
extern const struct backend smtp_backend;	/* lmtp.c */

#endif
