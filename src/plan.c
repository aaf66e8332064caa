/*
 * plan.c - the listing of a mailbox and what to do with each message;
 * see plan.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plan.h"

/* Puts each UID of a UIDL listing beside its LIST entry. */
static int
join_uid(void *arg, unsigned long num, const char *uid, size_t len,
    struct error *err)
{
	struct plan *p = arg;
	size_t lo = 0, hi = p->nl, mid;

	(void)err;
	/* LIST is in ascending order (pop3.c checks). */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (p->list[mid].num < num)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* A message only in UIDL (deleted in between) is of no use. */
	if (lo < p->nl && p->list[lo].num == num)
		p->uids[lo] = arena_strndup(&p->arena, uid, len);
	return 0;
}

int
plan_list(struct plan *p, struct pop3 *pop, struct error *err)
{
	struct error e;

	memset(p, 0, sizeof(*p));
	if (pop3_list(pop, 0, &p->list, &p->nl, err) == -1)
		return -1;
	p->uids = xcalloc(p->nl + 1, sizeof(char *));
	p->have_uidl = 1;
	if (pop3_uidl_each(pop, join_uid, p, &e) == -1) {
		if (e.cls != ERR_REFUSED) {
			*err = e;
			return -1;
		}
		p->have_uidl = 0;
	}
	return 0;
}

static int
cmp_uid(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
plan_check(const struct plan *p, const struct fetch_params *fp,
    struct error *err)
{
	char **sorted;
	size_t i;
	int r = 0;

	if (!p->have_uidl) {
		if (fp->all || fp->delete)
			return 0;
		error_set(err, ERR_REFUSED, "the server does not support UIDL, "
		    "so popfetch cannot tell new messages from old");
		return error_hint(err, HINT_ALL_OR_DELETE);
	}
	for (i = 0; i < p->nl; i++)
		if (p->uids[i] == NULL)
			return error_set(err, ERR_PROTO, "message %lu is in "
			    "LIST but not in UIDL", p->list[i].num);
	if (p->nl < 2)
		return 0;
	sorted = xreallocarray(NULL, p->nl, sizeof(char *));
	memcpy(sorted, p->uids, p->nl * sizeof(char *));
	qsort(sorted, p->nl, sizeof(char *), cmp_uid);
	for (i = 1; i < p->nl && r == 0; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			r = error_set(err, ERR_PROTO, "the server gives two "
			    "messages the same UID; refusing to fetch, since "
			    "one could be taken for the other");
	free(sorted);
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

	p->v = xcalloc(p->nl + 1, sizeof(uint32_t));
	p->old = p->v;
	tofetch = p->v + p->nl;
	for (i = 0; i < p->nl; i++) {
		if (p->have_uidl && !fp->all &&
		    (when = state_lookup(st, p->uids[i])) != 0) {
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
		if (fp->max_size > 0 && p->list[i].size > fp->max_size) {
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
	pop3_msgs_free(p->list, p->nl, 0);
	memset(p, 0, sizeof(*p));
}
