/*
 * deliver.h - where fetched messages go: a maildir, an mbox, an MDA or
 * a mail server over LMTP or SMTP.
 *
 * One message at a time: deliver_prepare names it (the token goes into
 * the state journal before any byte is written), deliver_write streams
 * it, deliver_finish ends it, or deliver_abort removes every trace of
 * it.  deliver_sync then makes a batch of finished messages durable and
 * visible with one barrier; only what it counts may be recorded as
 * delivered.  In a later run, deliver_recover looks at the tokens left
 * by a run that was killed and tells which of those messages arrived,
 * cleaning up only what popfetch itself wrote.
 *
 * The targets themselves are backends (backend.h): deliver.c holds the
 * header back until it has the envelope sender and passes everything
 * else through.  Memory returned belongs to the struct deliver unless
 * said otherwise; all functions that can fail return 0 or -1 (NULL for
 * pointers) and fill the caller's struct error.
 */
#ifndef DELIVER_H
#define DELIVER_H

#include <stddef.h>

#include "util.h"

/* The front end's choice of target; each value selects one backend. */
enum deliver_kind {
	DELIVER_MAILDIR,
	DELIVER_MBOX,
	DELIVER_MDA,
	DELIVER_LMTP,
	DELIVER_SMTP
};

/* target: a directory, a file, a command or a server (unix:PATH,
 * HOST:PORT); lock_timeout: seconds to wait for an mbox's locks;
 * child_timeout: seconds an MDA may run for one message (0: the
 * default, 300); recipient: the address a server delivers to; timeout:
 * seconds a server may stay silent. */
struct deliver_params {
	enum deliver_kind	 kind;
	const char		*target;
	int			 lock_timeout;
	int			 child_timeout;
	const char		*recipient;
	int			 timeout;
};

/* Receives a warning for the user (recovery that could not clean up). */
typedef void deliver_warn(void *arg, const char *text);

struct deliver;

/*
 * Opens the target of p, creating a maildir or mbox if missing, and
 * locks an mbox for as long as it is open.  p and its strings must
 * outlive the result.  Returns a handle for deliver_close, or NULL with
 * ERR_CANTCREAT (the target cannot be made or used, or a path is too
 * long), ERR_LOCKED (another program holds the mbox), ERR_IO, or
 * ERR_SOFTWARE (an unknown kind).
 */
struct deliver	*deliver_open(const struct deliver_params *p,
		    struct error *);

/*
 * Names the next message and forgets any earlier one; tag (from
 * deliver_tag, or "") goes into a maildir file's name.  Returns its
 * token, the backend's name and what it needs to find the message after
 * a crash (owned by d, valid until the next prepare or close), or NULL
 * with ERR_IO, ERR_CANTCREAT or ERR_SOFTWARE.
 */
const char	*deliver_prepare(struct deliver *d, const char *tag,
		    struct error *);

/*
 * The tag of the message with UID uid of an account (both as the state
 * writes them, percent-escaped): "F" and the deliver_hash of account,
 * "U" and that of uid, each eight lower-case hex digits.  A maildir
 * puts it in the unique part of the file's name, so that the files
 * popfetch stored for an account, and which UID each holds, can be
 * told from the name alone (deliver_ours).  buf: DELIVER_TAG_MAX bytes.
 */
#define DELIVER_TAG_MAX	20
void		 deliver_tag(char *buf, const char *account, const char *uid);

/* CRC-32 of s, as the tags have it. */
unsigned long	 deliver_hash(const char *s);

/* Receives one file of deliver_ours: its name as it is in sub, that
 * name without ":2," and flags, and the deliver_hash of the UID it
 * holds.  Returns 0 to go on, -1 to stop with err set. */
typedef int deliver_found(void *arg, const char *sub, const char *file,
		    const char *name, unsigned long uid, struct error *);

/* What new/ looked like: its device, inode and modification time. */
struct deliver_seen {
	unsigned long long	 dev, ino;
	long long		 mtime_ns;
};

/*
 * The files popfetch stored on this host in p's maildir for account
 * (its deliver_hash), named later than since (microseconds since the
 * epoch; 0: any time): found is called for each in new/ (and in cur/
 * too if all), sub being "new" or "cur".  Unless all, new/ is not read
 * at all if it was last modified before since (nothing can have been
 * stored there after it) or if it looks as last says (not NULL: what
 * *seen was when the caller last read it).  *seen is what new/ looked
 * like before it was read, or all zero if it was not.  A missing
 * maildir, or a target that is not a maildir, has none.  Returns 0, or
 * -1 with ERR_IO or what found set.
 */
int		 deliver_ours(const struct deliver_params *p,
		    unsigned long account, long long since, int all,
		    const struct deliver_seen *last, struct deliver_seen *seen,
		    deliver_found *found, void *arg, struct error *);

/* What new/ of p's maildir looks like now, as deliver_ours would have
 * it in *seen; all zero if there is none. */
void		 deliver_look(const struct deliver_params *p,
		    struct deliver_seen *seen);

/*
 * Appends message bytes (LF line ends); a pop3_sink, so d is void *.
 * After a failure every later call fails too, until the next prepare.
 * ERR_IO, ERR_CANTCREAT.
 */
int		 deliver_write(void *d, const char *, size_t, struct error *);

/*
 * Ends the message: written, maybe not yet durable or visible (an MDA
 * has it now).  On failure nothing of it is left.  ERR_IO, ERR_DEFERRED
 * (an MDA that asked to be retried), ERR_SOFTWARE (after a failed
 * write).
 */
int		 deliver_finish(struct deliver *d, struct error *);

/*
 * Makes every message finished since the last sync durable and visible
 * with one barrier (syncfs or fsync, rename into new/, fsync of the
 * directory).  *published says how many, in order, made it, even on
 * failure; the others are removed.  ERR_IO.
 */
int		 deliver_sync(struct deliver *d, size_t *published,
		    struct error *);

/*
 * After a failed deliver_sync: how many messages past *published may be
 * in the target all the same (renamed into new/, new/ not synced); after
 * a failed deliver_finish or a deliver_abort: 1 if what was written
 * could not be removed (an mbox whose rollback failed).  Such messages
 * are neither delivered nor undone: their journal records must stay
 * pending for recovery, and the run fails with ERR_IO.
 */
size_t		 deliver_unsure(const struct deliver *d);

/* Whether the token's journal record must be durable before the first
 * byte is written (mbox), or may be made durable with the batch. */
int		 deliver_durable_token(const struct deliver *d);

/* Whether a message stays unseen until deliver_sync, and what a crash
 * leaves of it before then is removed without the journal (a maildir):
 * its journal record may wait for the batch's state_sync. */
int		 deliver_hidden_until_sync(const struct deliver *d);

/* The first word of the journal tokens of a kind's deliveries
 * ("maildir", "mbox", "mda", "lmtp", "smtp"). */
const char	*deliver_kind_name(enum deliver_kind);

/* Whether each finished message must be synced and recorded before the
 * next is begun (an MDA that exited 0, a server that took it for good),
 * or may wait for a batch. */
int		 deliver_record_each(const struct deliver *d);

/*
 * After a deliver_finish that succeeded: what was stored of the
 * message, for the state (state.h, struct state_rec): its SHA-256 as
 * digest.h defines it, the bytes that covers, where it went (escaped: a
 * maildir file's name, the offset of an mbox's From line) and its
 * Message-ID (escaped, or "-").  The strings belong to d until the next
 * prepare.  -1 for a target that keeps no store popfetch can read back
 * (an MDA, a server).
 */
int		 deliver_stored(const struct deliver *d, const char **sha,
		    unsigned long long *size, const char **where,
		    const char **msgid);

/*
 * Where the message that deliver_stored said went to where is, for the
 * user.  A maildir: file is its name under the maildir as published,
 * "new/NAME" (a mail reader may move it to cur/ later), path the whole
 * path (the maildir made absolute, as the journal names it), *offset
 * -1.  An mbox: file is "", path the mbox (absolute), *offset that of
 * the message's From line.  -1 for a target without such a place (an
 * MDA, a server), or if a buffer is too small.
 */
int		 deliver_place(const struct deliver *d, const char *where,
		    char *file, size_t filesz, char *path, size_t pathsz,
		    long long *offset);

/*
 * After a deliver_finish that succeeded: what the target answered, for
 * the user: an LMTP or SMTP server's reply, its code and text, escaped
 * ("250 2.0.0 Ok: queued as ..."); NULL for a target that says nothing.
 * Owned by d until the next prepare.
 */
const char	*deliver_reply(const struct deliver *d);

/* Removes the message begun since prepare, if any. */
void		 deliver_abort(struct deliver *d);

/* Removes finished messages not yet synced, unlocks and frees; NULL is
 * fine. */
void		 deliver_close(struct deliver *d);

/*
 * After a crash: which of the deliveries named by tokens[0..n) (in
 * journal order, as deliver_prepare gave them) arrived?  Sets
 * delivered[i], removes what popfetch wrote of those that did not, and
 * calls warn(arg, text) for anything that could not be cleaned up.  The
 * tokens stay the caller's.  Every token is checked before anything is
 * touched: ERR_CONFIG for one no backend wrote (a corrupt journal);
 * also ERR_LOCKED and ERR_IO from a backend.
 */
int		 deliver_recover(char **tokens, size_t n, int *delivered,
		    deliver_warn *warn, void *arg, struct error *);


#endif
