/*
 * plan.c - the listing of a mailbox and what to do with each message;
 * see plan.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plan.h"

/* Room for one more message in the listing, and its size once sized. */
static void
grow(struct plan *p)
{
	if (p->nl < p->cap)
		return;
	p->cap = p->cap ? p->cap + p->cap / 2 : 256;
	p->num = xreallocarray(p->num, p->cap, sizeof(*p->num));
	p->uids = xreallocarray(p->uids, p->cap + 1, sizeof(char *));
	if (p->sized)
		p->size = xreallocarray(p->size, p->cap, sizeof(*p->size));
}

/* Appends each message of a UIDL listing, with its UID; its size is
 * not known until plan_sizes.  Listings are in ascending order (pop3.c
 * checks), and their numbers at most POP3_MSG_MAX. */
static int
push_uid(void *arg, unsigned long num, const char *uid, size_t len,
    struct error *err)
{
	struct plan *p = arg;
	const char *known;
	time_t when;

	(void)err;
	grow(p);
	p->num[p->nl] = (uint32_t)num;
	/* Known before, the state's copy of the text serves; new, the
	 * state holds the copy its record of the delivery takes. */
	if (p->st != NULL && ((known = state_text(p->st, uid, len,
	    &when)) != NULL || (known = state_hold(p->st, uid, len)) != NULL))
		p->uids[p->nl++] = (char *)known;
	else
		p->uids[p->nl++] = arena_strndup(&p->arena, uid, len);
	return 0;
}

/* Appends each message of a LIST listing, with its size and no UID. */
static int
push_size(void *arg, unsigned long num, unsigned long long size,
    struct error *err)
{
	struct plan *p = arg;

	(void)err;
	grow(p);
	p->num[p->nl] = (uint32_t)num;
	p->size[p->nl] = size;
	p->uids[p->nl++] = NULL;
	return 0;
}

int
plan_list(struct plan *p, struct pop3 *pop, struct state *st,
    struct error *err)
{
	struct error e;

	memset(p, 0, sizeof(*p));
	p->st = st;
	p->have_uidl = 1;
	if (pop3_uidl_each(pop, push_uid, p, &e) == 0) {
		if (p->uids == NULL)
			p->uids = xcalloc(1, sizeof(char *));
		return 0;
	}
	if (e.cls != ERR_REFUSED) {
		*err = e;
		return -1;
	}
	/* Without UIDL, LIST is the listing. */
	p->have_uidl = 0;
	free(p->num);
	free(p->uids);
	arena_free(&p->arena);
	p->num = NULL;
	p->uids = NULL;
	p->nl = p->cap = 0;
	p->sized = 1;
	if (pop3_list_each(pop, push_size, p, err) == -1)
		return -1;
	if (p->uids == NULL)
		p->uids = xcalloc(1, sizeof(char *));
	else
		p->uids[p->nl] = NULL;
	return 0;
}

/* "LIST n" and "UIDL n" for a few messages of a long listing,
 * pipelined in bursts of this many. */
#define LIST_BURST	128

/* Commands sent at once: a burst to a server that pipelines, else one
 * at a time. */
static size_t
burst_of(struct pop3 *pop)
{
	return pop3_capabilities(pop)->flags & CAPA_PIPELINING ? LIST_BURST :
	    1;
}

/* The walk back from the last message (probe_uid), and what comes
 * after the newest known message (tail_uid). */
struct probe {
	struct state	*st;
	size_t		 found;
};

struct tail {
	struct plan	*p;
	size_t		 known;
};

/* The message number of the jth command of replies_each. */
typedef unsigned long nth_fn(const void *arg, size_t j);

/* Told the reply to the jth command, in order: its number, for UIDL
 * the uid (len bytes, NUL-terminated), for LIST the size.  0 goes on,
 * 1 asks for no more (what was sent already is still read), -1 with
 * err stops. */
typedef int reply_fn(void *arg, size_t j, unsigned long num,
    const char *uid, size_t len, unsigned long long size,
    struct error *err);

/*
 * "UIDL n" (uidl) or "LIST n" for the n numbers nth gives, a burst at a
 * time (burst_of), each reply checked (well formed, of the message
 * asked for) and told to fn.  1 when fn asked for no more, 0 when all
 * were told; -1 with the error (ERR_REFUSED: a -ERR, after the burst
 * was read, so the connection stays in step).
 */
static int
replies_each(struct pop3 *pop, int uidl, size_t n, nth_fn *nth,
    const void *narg, reply_fn *fn, void *arg, struct error *err)
{
	const char *cmd = uidl ? "UIDL" : "LIST", *t;
	size_t burst = burst_of(pop), i, j, end, off = 0;
	unsigned long num, want;
	unsigned long long size = 0;
	struct error e;
	int r = 0, ok;

	e.cls = ERR_NONE;
	for (i = 0; i < n && r == 0; i = end) {
		end = n - i > burst ? i + burst : n;
		for (j = i; j < end; j++)
			if (pop3_queue_num(pop, cmd, nth(narg, j), err) == -1)
				return -1;
		if (pop3_flush(pop, err) == -1)
			return -1;
		for (j = i; j < end; j++) {
			want = nth(narg, j);
			if (pop3_recv_status(pop, ERR_REFUSED, err) == -1) {
				(void)error_prefix(err, "%s %lu", cmd, want);
				if (err->cls != ERR_REFUSED)
					return -1;
				if (e.cls == ERR_NONE)
					e = *err;
				continue;
			}
			t = pop3_reply_text(pop);
			ok = (uidl ? pop3_parse_uid(t, strlen(t), &num, &off) :
			    pop3_parse_scan(t, strlen(t), &num, &size)) == 0;
			if (!ok || num != want)
				return error_set(err, ERR_PROTO, "%s %lu: a "
				    "malformed reply, or another message", cmd,
				    want);
			if (r == 0 && e.cls == ERR_NONE &&
			    (r = fn(arg, j, num, uidl ? t + off : NULL,
			    uidl ? strlen(t + off) : 0, size, err)) == -1)
				return -1;
		}
	}
	if (e.cls != ERR_NONE) {
		*err = e;
		return -1;
	}
	return r;
}

/* Numbers for replies_each: an array's, and those from *first on. */
static unsigned long
nth_in(const void *arg, size_t j)
{
	return ((const unsigned long *)arg)[j];
}

static unsigned long
nth_from(const void *arg, size_t j)
{
	return *(const unsigned long *)arg + j;
}

/* The walk back from the last message: the first probe, by index,
 * that names a message the state has delivered. */
static int
probe_uid(void *arg, size_t j, unsigned long num, const char *uid,
    size_t len, unsigned long long size, struct error *err)
{
	struct probe *pr = arg;

	(void)num;
	(void)len;
	(void)size;
	(void)err;
	if (state_lookup(pr->st, uid) == 0)
		return 0;
	pr->found = j;
	return 1;
}

/* The messages after the last probe that was known: those delivered
 * before come first, the new ones after them.  One delivered after a
 * new one ends the quick listing, without a verdict on the order: the
 * new one may be one this run skips for its size, which the whole
 * listing's plan_make tells apart. */
static int
tail_uid(void *arg, size_t j, unsigned long num, const char *uid,
    size_t len, unsigned long long size, struct error *err)
{
	struct tail *tl = arg;

	(void)j;
	(void)size;
	if (state_lookup(tl->p->st, uid) == 0)
		return push_uid(tl->p, num, uid, len, err);
	if (tl->p->nl > 0)
		return 1;
	tl->known++;
	return 0;
}

/* Without pipelining, at most this many new messages are asked for one
 * by one. */
#define QUICK_LOCKSTEP	16

int
plan_list_quick(struct plan *p, struct pop3 *pop, struct state *st,
    struct error *err)
{
	struct probe pr = { st, SIZE_MAX };
	struct tail tl = { p, 0 };
	struct error e;
	unsigned long n, num[64], j, from, first, most;
	unsigned long long octets;
	size_t np = 0;
	int r;

	memset(p, 0, sizeof(*p));
	p->st = st;
	p->have_uidl = 1;
	p->quick = 1;
	p->appends = -1;
	if (pop3_stat(pop, &n, &octets, &e) == -1) {
		if (e.cls != ERR_REFUSED) {
			*err = e;
			return -1;
		}
		goto full;
	}
	p->total = n;
	/* More new than this, and one listing costs less than a command
	 * for each. */
	most = burst_of(pop) > 1 ? n / 8 : QUICK_LOCKSTEP;
	/* Messages n, n - 1, n - 3, ..., n + 1 - 2^k: a known one at
	 * n + 1 - j leaves fewer than j new after it. */
	for (j = 1; j <= n && j - 1 <= most && np < 64; j *= 2)
		num[np++] = n + 1 - j;
	if (np > 0 && replies_each(pop, 1, np, nth_in, num, probe_uid, &pr,
	    &e) == -1) {
		if (e.cls != ERR_REFUSED) {
			*err = e;
			return -1;
		}
		goto full;
	}
	if (n > 0 && pr.found == SIZE_MAX)
		goto full;
	/* The known message probed, and those after it. */
	from = n > 0 ? num[pr.found] : 0;
	if (from < n) {
		first = from + 1;
		r = replies_each(pop, 1, n - from, nth_from, &first,
		    tail_uid, &tl, &e);
		if (r == -1 && e.cls != ERR_REFUSED) {
			*err = e;
			return -1;
		}
		if (r != 0)
			goto full;
	}
	p->nknown = from + tl.known;
	if (p->uids == NULL)
		p->uids = xcalloc(1, sizeof(char *));
	else
		p->uids[p->nl] = NULL;
	return 0;
full:
	r = p->appends;
	plan_free(p);
	p->appends = r;
	return 1;
}

/* Whether message i may be acted on, so that its size is needed. */
static int
acts_on(const struct plan *p, size_t i, struct state *st,
    const struct fetch_params *fp, time_t now)
{
	time_t when;

	if (fp->all || (when = state_lookup(st, p->uids[i])) == 0)
		return 1;
	if (p->again != NULL && p->again(p->again_arg, p->uids[i]))
		return 1;
	return fp->delete || (fp->keep_days > 0 &&
	    now - when >= (time_t)fp->keep_days * 86400);
}

int
plan_needs_sizes(const struct plan *p, struct state *st,
    const struct fetch_params *fp)
{
	time_t now = time(NULL);
	size_t i;

	if (p->sized)
		return 0;
	for (i = 0; i < p->nl; i++)
		if (acts_on(p, i, st, fp, now))
			return 1;
	return 0;
}

/* Messages of sizes_each: want[j] of the listing, or the jth if want
 * is NULL. */
struct want {
	struct plan	*p;
	const uint32_t	*want;
};

static unsigned long
nth_want(const void *arg, size_t j)
{
	const struct want *w = arg;

	return plan_num(w->p, w->want != NULL ? w->want[j] : j);
}

static int
size_of(void *arg, size_t j, unsigned long num, const char *uid,
    size_t len, unsigned long long size, struct error *err)
{
	struct want *w = arg;

	(void)num;
	(void)uid;
	(void)len;
	(void)err;
	w->p->size[w->want != NULL ? w->want[j] : j] = size;
	return 0;
}

/*
 * The sizes of want[0..n) only (want NULL: the first n of the listing),
 * one "LIST n" each: with 1,000 new messages among 100,000 known the
 * server lists 1,000 lines, not 100,000.  The maildrop is locked for
 * the session, so a message UIDL named has a size (RFC 1939).
 */
static int
sizes_each(struct plan *p, struct pop3 *pop, const uint32_t *want,
    size_t n, struct error *err)
{
	struct want w = { p, want };

	/* The others read as 0: untouched pages of a large zeroed block
	 * cost no memory. */
	if (p->size == NULL)
		p->size = xcalloc(p->nl + 1, sizeof(*p->size));
	return replies_each(pop, 0, n, nth_want, &w, size_of, &w, err);
}

/* The state of the walk of LIST beside the UIDL listing. */
struct join {
	struct plan	*p;
	size_t		 j, k;	/* next in UIDL, next to keep */
};

/* Both listings ascend: walk them side by side.  A message only in
 * UIDL (deleted in between) is of no use; one only in LIST has no UID
 * to record.  k never passes j, so the listing is compacted in place. */
static int
join_size(void *arg, unsigned long num, unsigned long long size,
    struct error *err)
{
	struct join *jn = arg;
	struct plan *p = jn->p;

	while (jn->j < p->nl && p->num[jn->j] < num)
		jn->j++;
	if (jn->j == p->nl || p->num[jn->j] != num)
		return error_set(err, ERR_PROTO, "message %lu is in LIST but "
		    "not in UIDL", num);
	p->num[jn->k] = (uint32_t)num;
	p->size[jn->k] = size;
	p->uids[jn->k++] = p->uids[jn->j++];
	return 0;
}

int
plan_sizes(struct plan *p, struct pop3 *pop, struct state *st,
    const struct fetch_params *fp, struct error *err)
{
	struct join jn = { p, 0, 0 };
	uint32_t *want;
	time_t now = time(NULL);
	size_t i, n = 0, most = p->nl / 8;
	int r;

	if (p->sized)
		return 0;
	/* The quick listing has only new messages, few among many: each
	 * is acted on, and LIST would list them all. */
	if (p->quick) {
		r = sizes_each(p, pop, NULL, p->nl, err);
		p->sized = r == 0;
		return r;
	}
	/* A few among many, and a server that pipelines: one LIST each. */
	if (pop3_capabilities(pop)->flags & CAPA_PIPELINING) {
		want = xcalloc(most + 1, sizeof(*want));
		for (i = 0; i < p->nl && n <= most; i++)
			if (acts_on(p, i, st, fp, now) && n++ < most)
				want[n - 1] = (uint32_t)i;
		r = n <= most ? sizes_each(p, pop, want, n, err) : 1;
		free(want);
		if (r <= 0) {
			p->sized = r == 0;
			return r;
		}
	}
	/* LIST lists at most what UIDL did. */
	free(p->size);
	p->size = xcalloc(p->nl + 1, sizeof(*p->size));
	if (pop3_list_each(pop, join_size, &jn, err) == -1)
		return -1;
	p->nl = jn.k;
	p->uids[jn.k] = NULL;
	p->sized = 1;
	return 0;
}

int
plan_check(const struct plan *p, const struct fetch_params *fp,
    struct error *err)
{
	const char *last = NULL;
	uint32_t *tab;
	size_t cap = 2, i, h, n = 0;
	int r = 0, known = 0;

	if (!p->have_uidl) {
		if (fp->all || fp->delete)
			return 0;
		error_set(err, ERR_REFUSED, "the server does not support UIDL, "
		    "so popfetch cannot tell new messages from old");
		return error_hint(err, HINT_ALL_OR_DELETE);
	}
	if (p->nl < 2)
		return 0;
	/* UIDs the state had are its text, one pointer per UID, and the
	 * state is kept in listing order: while those pointers ascend no
	 * two are one, and only the others need the table (a nothing-new
	 * run over 100,000 UIDs then needs none).  A UID in the table is
	 * never one the state had, since state_text answers alike for
	 * the same text. */
	for (i = 0; i < p->nl; i++)
		if (p->st != NULL && state_owns(p->st, p->uids[i])) {
			if (last != NULL && p->uids[i] <= last)
				break;
			last = p->uids[i];
		} else
			n++;
	if (i == p->nl) {
		if (n < 2)
			return 0;
		known = p->st != NULL;
	} else
		n = p->nl;
	/* Two messages with one UID, by hashing: a table at most four
	 * fifths full (with 100,000 UIDs, 512 KB rather than 1 MB at the
	 * peak of a run), holding index + 1 (0 is empty). */
	while (cap * 4 < 5 * n)
		cap *= 2;
	tab = xcalloc(cap, sizeof(*tab));
	for (i = 0; i < p->nl && r == 0; i++) {
		if (known && state_owns(p->st, p->uids[i]))
			continue;
		for (h = str_hash(p->uids[i]) & (cap - 1); tab[h] != 0;
		    h = (h + 1) & (cap - 1))
			if (strcmp(p->uids[tab[h] - 1], p->uids[i]) == 0) {
				r = error_set(err, ERR_PROTO, "the server gives "
				    "two messages the same UID; refusing to "
				    "fetch, since one could be taken for the "
				    "other");
				break;
			}
		tab[h] = (uint32_t)(i + 1);
	}
	free(tab);
	return r;
}

/*
 * Old messages to delete go to the front of one array, new ones to
 * fetch to its back (then put in order).  would counts what a dry run
 * would fetch, for the limit.
 */
void
plan_make(struct plan *p, struct state *st, const struct fetch_params *fp,
    plan_reporter *report, void *arg)
{
	time_t now = time(NULL), when;
	size_t i, would = 0;
	uint32_t *tofetch, t;
	int fresh = 0, judge = p->have_uidl && !fp->all;

	p->v = xcalloc(p->nl + 1, sizeof(uint32_t));
	p->old = p->v;
	tofetch = p->v + p->nl;
	p->appends = -1;
	for (i = 0; i < p->nl; i++) {
		when = judge ? state_lookup(st, p->uids[i]) : 0;
		/* The order: a message fetched before listed after one
		 * new since (not one this run skips for its size, which
		 * stays new for ever) means new mail need not come last.
		 * fresh never goes back to 0, so neither does appends. */
		if (when != 0)
			p->appends = !fresh;
		else if (judge && (fp->max_size == 0 ||
		    plan_size(p, i) <= fp->max_size))
			fresh = 1;
		if (when != 0 && (p->again == NULL ||
		    !p->again(p->again_arg, p->uids[i]))) {
			p->nknown++;
			if (!fp->delete && (fp->keep_days == 0 ||
			    now - when < (time_t)fp->keep_days * 86400))
				continue;
			if (fp->dry_run)
				report(arg, FETCH_WOULD_DELETE, p, i);
			else
				p->old[p->nold++] = (uint32_t)i;
			continue;
		}
		if (fp->max_size > 0 && plan_size(p, i) > fp->max_size) {
			report(arg, FETCH_SKIPPED, p, i);
			continue;
		}
		if (fp->limit > 0 && p->nfetch + would >= fp->limit)
			continue;
		if (fp->dry_run) {
			would++;
			report(arg, FETCH_WOULD_FETCH, p, i);
			if (fp->delete)
				report(arg, FETCH_WOULD_DELETE, p, i);
			continue;
		}
		*--tofetch = (uint32_t)i;
		p->nfetch++;
	}
	p->fetch = tofetch;
	for (i = 0; i < p->nfetch / 2; i++) {
		t = tofetch[i];
		tofetch[i] = tofetch[p->nfetch - 1 - i];
		tofetch[p->nfetch - 1 - i] = t;
	}
}

void
plan_free(struct plan *p)
{
	free(p->uids);
	arena_free(&p->arena);
	free(p->v);
	free(p->num);
	free(p->size);
	memset(p, 0, sizeof(*p));
}
