/*
 * fetch.h - the main job: download messages into a maildir, an mbox or
 * an MDA, each exactly once, optionally deleting them from the server.
 */
#ifndef FETCH_H
#define FETCH_H

#include <stddef.h>

#include "deliver.h"
#include "session.h"
#include "util.h"

struct fetch_params {
	struct deliver_params	 dp;
	const char		*state_path;	/* NULL: the default */
	int			 all;		/* --all: ignore the state */
	int			 delete;	/* --delete */
	unsigned long		 keep_days;	/* --keep-days, 0: unset */
	unsigned long long	 max_size;	/* --max-size, 0: unset */
	unsigned long		 limit;		/* --limit, 0: unset */
	int			 dry_run;
	int			 received_header;	/* add Received: */
	int			 uidl_header;		/* add X-Popfetch-UIDL: */
	const char		*host;			/* for Received: */
};

enum fetch_event_kind {
	FETCH_FETCHED,		/* delivered */
	FETCH_DELETED,		/* DELE accepted */
	FETCH_SKIPPED,		/* larger than --max-size */
	FETCH_WOULD_FETCH,	/* --dry-run */
	FETCH_WOULD_DELETE,	/* --dry-run */
	FETCH_WARNING,		/* text says what */
	FETCH_PROGRESS		/* done of total, bytes so far */
};

struct fetch_event {
	enum fetch_event_kind	 kind;
	unsigned long		 num;
	const char		*uid;	/* NULL without UIDL; raw server text */
	unsigned long long	 size;
	size_t			 done, total;
	unsigned long long	 bytes;
	const char		*text;
};

typedef void fetch_reporter(void *, const struct fetch_event *);

struct fetch_result {
	size_t			 fetched, deleted, skipped, would_fetch,
				 would_delete;
	unsigned long long	 bytes;
};

/*
 * Runs one fetch.  Every message is delivered durably and recorded
 * before it is deleted on the server; a run killed at any point, a
 * dropped connection or a failed write leaves nothing lost and nothing
 * that the next run delivers twice (an MDA: at least once).  Returns 0
 * or -1 with err; res counts what was done either way.
 */
int	fetch_run(const struct session_params *, const struct fetch_params *,
	    fetch_reporter *, void *, struct fetch_result *, struct error *);

#endif
