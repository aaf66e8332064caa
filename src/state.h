/*
 * state.h - which messages were delivered: the UIDL state of one account.
 *
 * Two files: a snapshot (path) and an append-only journal (path.journal),
 * plus path.lock, held with a kernel lock for as long as the state is
 * open, so two runs on one account never interleave and a killed run
 * leaves no lock behind.  Every record is fsync'd before the call
 * returns.  UIDs are stored percent-escaped, so any byte survives.
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
 * to resolve.  readonly: no lock is taken and nothing is ever written
 * (for --dry-run).  Errors: ERR_LOCKED (another run holds the lock),
 * ERR_CANTCREAT, ERR_IO, ERR_CONFIG (a corrupt file).
 */
struct state	*state_open(const char *path, int readonly, struct error *);

/* The delivery begun for pending record i: its uid and the token the
 * delivery target gave for it.  NULL past the end. */
const char	*state_pending(struct state *, size_t i, const char **token);

/* Records how pending record i ended: delivered or not. */
int		 state_resolve(struct state *, size_t i, int delivered,
		    struct error *);

/* When uid was first delivered, or 0 if never. */
time_t		 state_lookup(struct state *, const char *uid);

/* Journals that the delivery of uid begins, with the target's token;
 * fsync'd at once if sync, else by the next state_sync. */
int		 state_begin(struct state *, const char *uid, const char *token,
		    int sync, struct error *);
/* Journals that uid is durably delivered; see state_begin for sync. */
int		 state_delivered(struct state *, const char *uid, int sync,
		    struct error *);
/* Makes every journal record written so far durable. */
int		 state_sync(struct state *, struct error *);
/* Journals that the delivery of uid was rolled back. */
int		 state_abort(struct state *, const char *uid, struct error *);

/* Marks every delivered uid that is not in present[0..n) (NULL entries
 * are skipped) for removal at the next state_save: the server no longer
 * has those messages. */
void		 state_forget_absent(struct state *, char **present, size_t n);

/* Writes a new snapshot atomically and empties the journal. */
int		 state_save(struct state *, struct error *);

/* Unlocks and frees. */
void		 state_close(struct state *);

/* Percent-escapes bytes outside 0x21..0x7e and '%' (caller frees). */
char		*state_escape(const char *, size_t);
/* Reverses state_escape; -1 on a malformed escape.  *len excludes the
 * NUL that is always appended; the result may contain NULs. */
int		 state_unescape(const char *, char **, size_t *);

/* The default state file for an account: $XDG_STATE_HOME/popfetch/ or
 * ~/.local/state/popfetch/, then user@host:port escaped. */
int		 state_default_path(char *, size_t, const char *user,
		    const char *host, const char *port, struct error *);

#endif
