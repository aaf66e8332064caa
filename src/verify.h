/*
 * verify.h - is a delivered message still in the store, as it was
 * stored?  The store is a maildir or an mbox; what was stored is the
 * state's record of it (state.h, struct state_rec).
 *
 * A maildir message is found by its file's name in new/ or cur/, up to
 * the ":2," and flags a mail reader appends, and its file's SHA-256 and
 * size are compared.  An mbox is read once, message by message (From
 * lines, mboxrd quoting undone); a message is found at the offset it
 * was delivered at, or else by its Message-ID or its digest (a mail
 * reader that rewrote the mbox moved it), and compared by digest.h's
 * SHA-256, which leaves out Status: and X-Status:.
 *
 * Nothing is written.  Memory is the store's; strings passed in stay
 * the caller's.
 */
#ifndef VERIFY_H
#define VERIFY_H

#include "deliver.h"
#include "state.h"
#include "util.h"

enum verify_status {
	VERIFY_INTACT,		/* there, as stored */
	VERIFY_MISSING,		/* not found */
	VERIFY_CHANGED,		/* found, but not as stored */
	VERIFY_UNRECORDED	/* the state has no digest to compare */
};

struct verify;

/*
 * Opens the store: kind DELIVER_MAILDIR or DELIVER_MBOX at target.  A
 * store that does not exist is empty (every message is missing).
 * ERR_USAGE for another kind, ERR_IO (a directory or file that cannot
 * be read).
 */
struct verify	*verify_open(enum deliver_kind kind, const char *target,
		    struct error *);

/* Checks one record into *status.  A message delivered after
 * verify_open is found too.  ERR_IO. */
int		 verify_check(struct verify *, const struct state_rec *,
		    enum verify_status *status, struct error *);

/* The name of a status: "intact", "missing", "changed", "unrecorded". */
const char	*verify_name(enum verify_status);

void		 verify_close(struct verify *);

#endif
