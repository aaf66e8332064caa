/*
 * fetch.h - the main job: download messages into a maildir, an mbox or
 * an MDA, each exactly once, optionally deleting them from the server.
 */
#ifndef FETCH_H
#define FETCH_H

#include <limits.h>
#include <stddef.h>

#include "deliver.h"
#include "session.h"
#include "util.h"

/*
 * What to fetch and where to.  state_path NULL: the default for the
 * account (state_default_path).  all: fetch every message, whatever the
 * state says.  delete: delete each message once it is delivered, and
 * those delivered before.  keep_days (0: unset): delete those delivered
 * that many days ago.  max_size (0: unset): skip larger messages.
 * limit (0: unset): fetch at most that many in a session.
 * until_empty: log in again after a session that delivered new mail
 * without an error, up to max_sessions sessions.  forget_days: forget a
 * UID once the server has not listed it for that many days.  dry_run:
 * report what would be done and touch nothing.  received_header,
 * uidl_header: add a Received: (naming host) or an X-Popfetch-UIDL:
 * header on top.  refetch_missing: fetch again a message the state
 * calls delivered whose stored copy is missing or changed (verify.h).
 * verified_delete: delete a delivered message only while its stored
 * copy verifies (a maildir or an mbox only).
 */
struct fetch_params {
	struct deliver_params	 dp;
	const char		*state_path;
	int			 all;
	int			 delete;
	unsigned long		 keep_days;
	unsigned long long	 max_size;
	unsigned long		 limit;
	int			 until_empty;
	unsigned long		 max_sessions;
	unsigned long		 forget_days;
	int			 dry_run;
	int			 received_header;
	int			 uidl_header;
	int			 refetch_missing;
	int			 verified_delete;
	int			 full_listing;	/* never quick */
	const char		*filter;	/* judges each header */
	int			 filter_timeout;	/* seconds */
	const char		*host;
};

enum fetch_event_kind {
	FETCH_FETCHED,		/* delivered */
	FETCH_DELETED,		/* DELE accepted */
	FETCH_SKIPPED,		/* larger than max_size */
	FETCH_WOULD_FETCH,	/* dry run */
	FETCH_WOULD_DELETE,	/* dry run */
	FETCH_WARNING,		/* text says what */
	FETCH_PROGRESS		/* done of total, bytes so far */
};

/*
 * One event; uid is raw server text (NULL without UIDL), and every
 * pointer is valid only during the call to the reporter.  A message
 * FETCH_FETCHED into a maildir or an mbox says where it is
 * (deliver_place): path is the file (the maildir's, or the mbox), file
 * the maildir file's name under the maildir ("new/NAME"; "" for an
 * mbox) and offset that of the mbox's From line (-1 for a maildir);
 * path and file are NULL for other targets.  reply is what an LMTP or
 * SMTP server answered to the message (deliver_reply), else NULL.
 */
struct fetch_event {
	enum fetch_event_kind	 kind;
	unsigned long		 num;
	const char		*uid;
	unsigned long long	 size;
	size_t			 done, total;
	unsigned long long	 bytes;
	const char		*text;
	const char		*path, *file;
	long long		 offset;
	const char		*reply;
};

typedef void fetch_reporter(void *, const struct fetch_event *);

/* What a run did, and what it saw: total messages on the server, known
 * of them fetched before (by the state in state_path). */
struct fetch_result {
	size_t			 fetched, deleted, skipped, would_fetch,
				 would_delete;
	size_t			 total, known;
	int			 listed;	/* total and known are set */
	/* The quick listing's: known counts those before the newest. */
	int			 quick;
	unsigned long long	 bytes;
	char			 state_path[PATH_MAX];
};

/*
 * Runs one fetch: opens the state (resolving deliveries a killed run
 * left unfinished) and the delivery target before connecting, then
 * lists, plans, fetches and deletes.  Every message is delivered
 * durably and recorded before it is deleted on the server; a run killed
 * at any point, a dropped connection or a failed write leaves nothing
 * lost and nothing that the next run delivers twice (an MDA: at least
 * once).  A login refused with [LOGIN-DELAY] is remembered beside the
 * state (logindelay.h), and until the time it implies the run fails
 * with ERR_BUSY before connecting; CAPA's EXPIRE is reported as a
 * FETCH_WARNING where it defeats keeping messages.  report (may be
 * NULL) gets each event, with arg.  Returns 0 or
 * -1 with err; res counts what was done either way.  The errors are
 * those of state_open, deliver_open and session_open, ERR_NET, ERR_BUSY
 * and ERR_PROTO from the server, ERR_REFUSED (a refused command, or no
 * UIDL without all or delete: HINT_ALL_OR_DELETE), ERR_IO and
 * ERR_CANTCREAT from the target or the state, ERR_DEFERRED (an MDA
 * asked to retry), and ERR_CONFIG (a corrupt state).  A refused RETR or
 * DELE does not stop the run: the first one is returned at the end.
 */
/* Opens the state of the account sp names (fp->state_path, or the
 * default one), holding it to that account's identity; see state_open
 * for readonly and the errors.  The path used goes into used (usedsz
 * bytes) unless used is NULL. */
struct state;
struct state	*fetch_state_open(const struct session_params *,
		    const struct fetch_params *, int readonly, char *used,
		    size_t usedsz, struct error *);

/* The account's identity as the state writes it (user@host:port,
 * escaped), for deliver_tag; the caller frees it. */
char		*fetch_account(const struct session_params *);

/* Whether the maildir holds files popfetch stored for this account that
 * neither the state nor its journal records (see fetch.c): ERR_CONFIG
 * with HINT_STATE_LOST, naming path (the state's) and a few of them;
 * also ERR_IO.  0 for any other target. */
int		 fetch_check_lost(struct state *, const struct session_params *,
		    const struct fetch_params *, const char *path,
		    struct error *);

/* Compares two unsigned longs, for qsort and bsearch. */
int		 fetch_cmp_hash(const void *, const void *);

int	fetch_run(const struct session_params *, const struct fetch_params *,
	    fetch_reporter *, void *arg, struct fetch_result *res,
	    struct error *);

#endif
