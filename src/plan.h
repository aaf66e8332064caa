/*
 * plan.h - what a fetch does with each message on the server: the
 * listing (UIDL, whole or of the newest messages only, then LIST's
 * sizes if anything is to be done), checked, and judged against the
 * state and the fetch parameters.
 *
 * Decisions only: nothing here writes to the state or to a delivery
 * target, and the only commands sent are STAT, UIDL and LIST.  fetch.c
 * acts on the plan.  All memory of a plan belongs to it (plan_free).
 */
#ifndef PLAN_H
#define PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "fetch.h"
#include "pop3.h"
#include "state.h"
#include "util.h"

/*
 * num[0..nl) is the listing's message numbers, in ascending order
 * (at most POP3_MSG_MAX, so 32 bits hold one); size[i] is the size of
 * num[i], or NULL until sized, when every size reads as 0 (plan_size):
 * a long listing with nothing to do costs 4 bytes a message and a
 * pointer to its UID, not a LIST entry of 16.  uids[i] is the UID of
 * num[i] (raw server text), all NULL without UIDL.  old[0..nold) are
 * the indices of messages delivered before that are to be deleted now;
 * fetch[0..nfetch) those to fetch, in listing order.  The rest is the
 * plan's own.
 */
struct plan {
	uint32_t	*num;
	unsigned long long *size;
	size_t		 nl;
	char		**uids;
	int		 have_uidl;
	int		 sized;		/* size[] is known */
	size_t		 cap;		/* of num and uids */
	uint32_t	*old, *fetch;
	size_t		 nold, nfetch;
	size_t		 nknown;	/* in the state: fetched before */
	size_t		 total;		/* on the server (quick) */
	int		 quick;		/* plan_list_quick's */
	/* What the listing shows of the server's order, set by plan_make
	 * from a whole listing with UIDL: 1 if it has messages fetched
	 * before and none of them after a new one (new mail came at the
	 * end), 0 if one came after a new one, -1 if it cannot tell. */
	int		 appends;
	uint32_t	*v;		/* old and fetch point into it */
	struct arena	 arena;		/* the UIDs not in st */
	struct state	*st;		/* whose text the others are */
	/* Set by the caller after plan_list, or NULL: whether a message
	 * the state calls delivered is to be fetched again all the same
	 * (its stored copy is missing or changed). */
	int		(*again)(void *arg, const char *uid);
	void		*again_arg;
};

/* The message number and the size (0 if not known) of message i. */
static inline unsigned long
plan_num(const struct plan *p, size_t i)
{
	return p->num[i];
}

static inline unsigned long long
plan_size(const struct plan *p, size_t i)
{
	return p->size != NULL ? p->size[i] : 0;
}

/* Told what the plan decides without acting on it: FETCH_SKIPPED, or in
 * a dry run FETCH_WOULD_FETCH and FETCH_WOULD_DELETE, for message idx. */
typedef void plan_reporter(void *arg, enum fetch_event_kind,
    const struct plan *, size_t idx);

/*
 * Fills p (which it zeroes first) with UIDL: each message's number and
 * UID, held once, whatever the number of messages (a UID st recorded is
 * its text in st, so st must outlive p; st may be NULL); sizes are not
 * known yet (plan_sizes).  A server that refuses UIDL leaves have_uidl 0 and
 * the listing is LIST's, with sizes.  -1 with the server's error
 * (ERR_NET, ERR_BUSY, ERR_PROTO, ERR_REFUSED for LIST); p must be
 * freed either way.
 */
int	plan_list(struct plan *p, struct pop3 *, struct state *st,
	    struct error *);

/*
 * The quick listing, for a server whose listings have shown new mail
 * added at the end (appends), and a state that has at least
 * PLAN_QUICK_MIN messages: STAT, then "UIDL n" for the last message,
 * and back from it by doubling steps (one burst, when the server
 * pipelines), to the last message st has delivered; only the messages
 * after it are listed, one "UIDL n" each.  A run that finds nothing
 * new among 100,000 known then costs a few commands, not a listing of
 * 100,000.  0: p holds those messages, quick and total set and nknown
 * the messages before them.  1: p is freed and plan_list is due: no
 * STAT or "UIDL n", too many new messages for one command each, or one
 * after the last known that is known too.  -1 with the server's error
 * (ERR_PROTO: a malformed reply).
 */
#define PLAN_QUICK_MIN	1000
int	plan_list_quick(struct plan *p, struct pop3 *, struct state *st,
	    struct error *);

/*
 * Whether plan_make may act on any message (one not in st, or fp->all,
 * or one to delete), so that the sizes of LIST are needed: with
 * nothing new and nothing to delete, a run lists only once.  st is
 * only read.
 */
int	plan_needs_sizes(const struct plan *p, struct state *st,
	    const struct fetch_params *fp);

/*
 * The sizes of the listing: LIST, joined to the UIDL listing (every
 * message gets its size; one that UIDL had but LIST has not is dropped,
 * deleted in between); or, when the server pipelines and at most an
 * eighth of the messages may be acted on (st and fp as for
 * plan_needs_sizes), one "LIST n" for each of those only, the others
 * keeping a size of 0.  -1 with ERR_PROTO for a LIST entry without a
 * UID or a malformed reply, or the errors of pop3_list.  A no-op once
 * the sizes are known.
 */
int	plan_sizes(struct plan *p, struct pop3 *, struct state *st,
	    const struct fetch_params *fp, struct error *);

/*
 * Refuses what cannot be fetched safely: a server without UIDL unless
 * fp asks for all or delete (ERR_REFUSED, HINT_ALL_OR_DELETE), and a
 * LIST entry without a UID or two messages with one UID (ERR_PROTO),
 * since one could be taken for the other.
 */
int	plan_check(const struct plan *p, const struct fetch_params *fp,
	    struct error *);

/*
 * Decides, for each listed message: delete it (delivered before, and
 * fp says so), skip it (too large), fetch it (new, or fp->all, within
 * fp->limit), or leave it.  st is only read.  In a dry run nothing is
 * put in old or fetch; report (arg) hears each decision it reports.
 */
void	plan_make(struct plan *p, struct state *st,
	    const struct fetch_params *fp, plan_reporter *report, void *arg);

/* Frees everything of p; a zeroed plan is fine. */
void	plan_free(struct plan *p);

#endif
