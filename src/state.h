/*
 * state.h - which messages were delivered: the UIDL state of one account.
 *
 * Files beside each other in one directory: a snapshot (path), an
 * append-only journal (path.journal), path.new while a snapshot is
 * written, and path.lock, held with a kernel lock for as long as the
 * state is open, so two runs on one account never interleave and a
 * killed run leaves no lock behind.  The directory is opened once and
 * the files relative to it, never through a symbolic link.  A record
 * is durable when the call that wrote it asked for sync, or after the
 * next state_sync.  UIDs are stored percent-escaped, so any byte
 * survives.  Both files carry the account's identity and checksums: a
 * damaged or foreign state is refused, never taken for a shorter one;
 * a journal record cut short by a crash is dropped silently.
 *
 * Strings passed in stay the caller's; strings returned belong to the
 * state and live until state_close unless said otherwise.
 */
#ifndef STATE_H
#define STATE_H

#include <stddef.h>
#include <time.h>

#include "util.h"

struct state;

/*
 * Locks, loads the snapshot and replays the journal.  Deliveries that
 * began but never ended are left pending (state_pending) for the caller
 * to resolve.  identity (user@host:port; NULL: not checked) must match
 * the one in the files; a version 1 state, which has none, takes it at
 * the next state_save.  readonly: no directory is made, no lock is
 * taken and nothing is ever written (for a dry run, or to look).
 * Returns a state for state_close, or NULL with ERR_LOCKED (another run
 * holds the lock), ERR_CANTCREAT (the directory or a file cannot be
 * made, or the path is too long or its last component leaves no room
 * for ".journal" within NAME_MAX: these carry HINT_STATE; or one of the
 * files is a symbolic link, not a regular file, or someone else's),
 * ERR_IO, or ERR_CONFIG (a damaged file: HINT_STATE_DAMAGED; another
 * account's: HINT_STATE_FOREIGN).
 */
struct state	*state_open(const char *path, const char *identity,
		    int readonly, struct error *);

/* The version of the snapshot read: 0 (none), 1 (upgraded at the next
 * save) or 2. */
int		 state_version(const struct state *);

/* The delivery begun for pending record i (counting only those still
 * unresolved): its uid and the token the delivery target gave for it,
 * both still escaped (state_unescape).  NULL past the end. */
const char	*state_pending(struct state *, size_t i, const char **token);

/* Records, durably, how pending record i ended: delivered or not.
 * ERR_IO. */
int		 state_resolve(struct state *, size_t i, int delivered,
		    struct error *);

/* When uid (raw server text) was first delivered, or 0 if never. */
time_t		 state_lookup(struct state *, const char *uid);

/* The state's own copy of uid (len bytes of raw server text, not
 * NUL-terminated), NUL-terminated and alive until state_close, with
 * when it was first delivered: so that a listing of 100,000 UIDs known
 * before need not hold them twice.  NULL if uid was not recorded when
 * the state was opened, or is not stored as it is (it has bytes that
 * state_escape changes). */
const char	*state_text(struct state *, const char *uid, size_t len,
		    time_t *when);

/*
 * The state's copy of uid (len bytes of raw server text, not
 * NUL-terminated), for one it has not recorded: alive until
 * state_close, and taken as it is by state_delivered, so that the text
 * of a message fetched now is held once, not by the listing and again
 * by the state.  For a uid state_text has no text for; two calls give
 * two copies (state_owns is false for both).  NULL if uid is not stored
 * as it is (see state_text) or there is no room.
 */
const char	*state_hold(struct state *, const char *uid, size_t len);

/* Whether s is text state_text handed out: one uid's text is always
 * the same pointer, and two uids' never are. */
int		 state_owns(const struct state *, const char *s);

/* Journals that the delivery of uid begins, with the target's token:
 * with sync 1 durable at once, with 0 in the kernel at once and durable
 * by the next state_sync, with STATE_LATER held in memory like a D
 * record and written and made durable by the next state_sync (for a
 * delivery nobody sees before then, whose leftovers a crash leaves for
 * the target to remove: deliver_hidden_until_sync).  ERR_IO,
 * ERR_SOFTWARE (a record longer than the journal allows). */
#define STATE_LATER	(-1)
int		 state_begin(struct state *, const char *uid, const char *token,
		    int sync, struct error *);

/*
 * What was stored of one delivered uid, for verify.  sha NULL: recorded
 * without it (before popfetch kept it, or resolved by recovery), or
 * what was recorded does not check out when read back from the
 * snapshot, so the message cannot be checked.  sha: the digest.h SHA-256, 64 lower-case
 * hex digits; size: the bytes it covers; where: the first word of the
 * target's token (a maildir file's name in new/, up to any ":2," flags;
 * an mbox's offset at delivery); msgid: the Message-ID, or "-".  where
 * and msgid are escaped (state_escape).  Strings given are copied;
 * strings returned belong to the state.
 */
struct state_rec {
	time_t			 when;
	unsigned long long	 size;
	const char		*sha;
	const char		*where;
	const char		*msgid;
};

/* Journals that uid is durably delivered, with what was stored (rec,
 * or NULL: not known); see state_begin for sync.  A uid delivered
 * before keeps its first time and takes the new rec.  Without sync the
 * record may wait in memory for state_sync, so it must come before
 * anything (a DELE) that relies on it.  ERR_IO, ERR_SOFTWARE. */
int		 state_delivered(struct state *, const char *uid, int sync,
		    const struct state_rec *rec, struct error *);

/* Room for n more UIDs, so that recording the deliveries of a long run
 * neither grows nor rehashes the table one step at a time: the memory
 * of a first fetch of many messages is then what they need, once.
 * Their text is state_hold's already.  A hint: too little only means
 * growing later. */
void		 state_reserve(struct state *, size_t n);

/* What was stored of uid (raw server text): 0 with *rec filled, or -1
 * if it was never delivered. */
int		 state_record(struct state *, const char *uid,
		    struct state_rec *rec);

/* As state_entry, with everything recorded of the uid in *rec (read
 * back from the snapshot, so not const). */
const char	*state_entry_rec(struct state *, size_t *pos,
		    struct state_rec *rec);

/* Makes every journal record written so far durable.  ERR_IO. */
int		 state_sync(struct state *, struct error *);
/* Writes the records held in memory into the kernel, without waiting for
 * the disk: they survive the process, and the next state_sync makes
 * them durable.  ERR_IO. */
int		 state_write(struct state *, struct error *);

/* Journals, without waiting for the disk, that the delivery of uid was
 * rolled back (a lost record only means recovery rolls it back again).
 * err may be NULL.  ERR_IO. */
int		 state_abort(struct state *, const char *uid, struct error *);

/* Records that the server lists present[0..n) (raw server text; NULL
 * entries are skipped) at now, and marks for removal at the next
 * state_save every uid last listed more than after seconds before now:
 * the server no longer has those messages.  A uid absent from one
 * listing only is kept. */
void		 state_forget_absent(struct state *, char **present, size_t n,
		    time_t now, time_t after);

/* The next recorded uid (escaped) from slot *pos on, which it advances,
 * with when it was first delivered and last listed; NULL at the end.
 * Start with *pos = 0.  In no particular order. */
const char	*state_entry(const struct state *, size_t *pos, time_t *first,
		    time_t *seen);

/* When the snapshot read was written (state_save), in microseconds
 * since the epoch; 0 if there is none, or it predates the record of
 * it.  Everything stored before then is in the snapshot; whatever was
 * stored later has its records in the journal. */
long long	 state_saved(const struct state *);

/* hash(uid) of every uid recorded or pending (escaped), sorted, in a
 * new array *out (the caller frees it); returns how many. */
size_t		 state_uid_hashes(const struct state *,
		    unsigned long (*hash)(const char *), unsigned long **out);

/* A line of text the caller keeps beside the state (in path.lock, so
 * it goes with the state and costs no file of its own): what it was at
 * state_open, "" if none or readonly.  state_set_note replaces it,
 * without waiting for the disk: a note may be lost, so it can only
 * save work, never be relied on. */
#define STATE_NOTE_MAX	256
const char	*state_note(const struct state *);
void		 state_set_note(struct state *, const char *);

/* Makes the next state_save write a snapshot even if nothing else
 * changed (a new state_saved). */
void		 state_touch(struct state *);

/* How many uids are recorded, and how many journal records were
 * replayed. */
size_t		 state_count(const struct state *);
size_t		 state_journal_records(const struct state *);

/* The journal's length in bytes: at state_open (after a torn last
 * record was cut off), and as written since.  The journal only grows
 * until a snapshot takes its records, so with state_saved it tells
 * whether the journal is the one seen before: one cut short or deleted
 * since has another. */
long long	 state_journal_size(const struct state *);

/* Makes what changed durable.  What the journal can say stays there
 * (synced), until the journal has grown past an eighth of the
 * snapshot; then, or when the snapshot itself must change (a UID
 * dropped or listed again after a while, an old format, state_touch),
 * writes a new snapshot durably (path.new, fsync, rename, fsync of the
 * directory) and then empties the journal.  ERR_IO. */
int		 state_save(struct state *, struct error *);

/* Writes out held-back records, unlocks and frees; NULL is fine. */
void		 state_close(struct state *);

/* Percent-escapes len bytes (outside 0x21..0x7e, and '%'); the caller
 * frees the result. */
char		*state_escape(const char *, size_t len);

/* Reverses state_escape into *out (the caller frees it); -1 on a
 * malformed escape.  *len excludes the NUL that is always appended;
 * the result may contain NULs. */
int		 state_unescape(const char *, char **out, size_t *len);

/* Writes into buf (len bytes) the default state file for an account:
 * $XDG_STATE_HOME/popfetch/ or ~/.local/state/popfetch/, then
 * user@host:port escaped into one path component.  ERR_CONFIG (neither
 * variable is set, or the path does not fit), with HINT_STATE. */
int		 state_default_path(char *buf, size_t len, const char *user,
		    const char *host, const char *port, struct error *);

#endif
