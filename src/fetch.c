/*
 * fetch.c - download, deliver, record, delete: exactly once.
 *
 * The argument, for one message with UID u (the order of events is the
 * order of the code below):
 *
 *  1. The journal gets "B u token" before the delivery target is
 *     touched (fsync'd at once for an mbox, where a partial tail
 *     without its record would be a corrupt message after a power
 *     loss; with the batch for a maildir, where it would only be a
 *     file in tmp/).  The token names exactly what will be written (a
 *     maildir file name, an mbox offset).
 *  2. RETR streams into the target; deliver_finish closes the file.
 *     For a batch of such messages, deliver_sync makes them durable
 *     with one barrier (syncfs, or fsync of each file), publishes them
 *     (rename into new/) and fsyncs the directory.
 *  3. The journal gets "D u" for the batch (fsync'd).  Only now is u
 *     delivered.
 *  4. With --delete, DELE is sent; QUIT at the end commits it.
 *
 * A kill before 1 leaves nothing.  Between 1 and 3, the next run finds
 * "B" without "D" and asks the target (deliver_recover): a maildir file
 * in new/ or cur/ means delivered, so u is recorded and not fetched
 * again; a partial file in tmp/ or partial mbox bytes (which only
 * popfetch wrote, under its lock) are removed, and u is fetched again.
 * After 3, u is never fetched again.  DELE is sent only after 3, so
 * nothing undelivered is ever deleted; if QUIT's answer is lost, u is
 * still in the state and still on the server, and the next run (with
 * --delete) deletes it without fetching it.  A failed write (ENOSPC,
 * EIO) aborts the delivery in step 2 exactly like a kill, but in
 * process: the target is rolled back and "A u" is journalled.
 *
 * An MDA cannot be asked or rolled back, so for it the guarantee is at
 * least once.  Without UIDL there are no UIDs to record; see
 * fallback below.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fetch.h"
#include "pop3.h"
#include "state.h"

/* Journal UIDs for servers without UIDL start with LF, which no real
 * UID can contain; they only serve to clean up after a crash. */
#define FALLBACK_PREFIX	"\n"

struct run {
	const struct fetch_params	*fp;
	fetch_reporter			*report;
	void				*arg;
	struct fetch_result		*res;
	struct state			*st;
	struct deliver			*d;
	struct pop3			*p;
	struct error			 first;	/* first deferred error */
};

static void
event(struct run *r, enum fetch_event_kind kind, unsigned long num,
    const char *uid, unsigned long long size, const char *text)
{
	struct fetch_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.num = num;
	ev.uid = uid;
	ev.size = size;
	ev.text = text;
	if (r->report != NULL)
		r->report(r->arg, &ev);
}

static void
defer(struct run *r, const struct error *e)
{
	if (r->first.cls == ERR_NONE)
		r->first = *e;
	event(r, FETCH_WARNING, 0, NULL, 0, e->msg);
}

static void
recover_warn(void *arg, const char *text)
{
	event(arg, FETCH_WARNING, 0, NULL, 0, text);
}

/* Resolves deliveries a killed run left unfinished, all at once. */
static int
recover(struct run *r, struct error *err)
{
	const char *uid, *etoken;
	char **tokens = NULL;
	int *delivered = NULL, rv = -1;
	size_t n = 0, i, len;

	while ((uid = state_pending(r->st, n, &etoken)) != NULL) {
		tokens = xreallocarray(tokens, n + 1, sizeof(char *));
		if (state_unescape(etoken, &tokens[n], &len) == -1) {
			error_set(err, ERR_CONFIG, "corrupt journal");
			goto out;
		}
		n++;
	}
	if (n == 0)
		return 0;
	delivered = xcalloc(n, sizeof(int));
	if (deliver_recover(tokens, n, delivered, recover_warn, r, err) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		uid = state_pending(r->st, 0, &etoken);
		/* A fallback entry is never recorded as delivered. */
		if (state_resolve(r->st, 0, delivered[i] &&
		    strncmp(uid, "%0A", 3) != 0, err) == -1)
			goto out;
	}
	rv = 0;
out:
	for (i = 0; i < n; i++)
		free(tokens[i]);
	free(tokens);
	free(delivered);
	return rv;
}

static int
sink(void *arg, const char *data, size_t len, struct error *err)
{
	struct run *r = arg;

	if (deliver_write(r->d, data, len, err) == -1)
		return -1;
	r->res->bytes += len;
	return 0;
}

/* The optional trace headers, before the message's own.  The UID is
 * server text: escaped, so it can never end the header early. */
static int
add_headers(struct run *r, const char *uid, struct error *err)
{
	char line[1400], esc[1024], date[64], host[256];
	time_t now = time(NULL);

	if (r->fp->received_header) {
		if (gethostname(host, sizeof(host)) == -1)
			(void)strlcpy(host, "localhost", sizeof(host));
		host[sizeof(host) - 1] = '\0';
		(void)strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z",
		    localtime(&now));
		vis_text(esc, sizeof(esc), r->fp->host, strlen(r->fp->host));
		(void)snprintf(line, sizeof(line), "Received: from %s\n\tby %s "
		    "with POP3 (popfetch); %s\n", esc, host, date);
		if (deliver_write(r->d, line, strlen(line), err) == -1)
			return -1;
	}
	if (r->fp->uidl_header && uid != NULL) {
		vis_text(esc, sizeof(esc), uid, strlen(uid));
		(void)snprintf(line, sizeof(line), "X-Popfetch-UIDL: %s\n", esc);
		if (deliver_write(r->d, line, strlen(line), err) == -1)
			return -1;
	}
	return 0;
}

/*
 * Receives the reply to a RETR already sent and delivers it.  Returns 0,
 * or -1 with err; unless pop3_broken says the connection is lost, the
 * reply has been read to its end, so the pipeline stays in step.
 */
static int
receive_one(struct run *r, const struct pop3_msg *m, const char *uid,
    struct error *err)
{
	const char *token;
	char pseudo[32];
	struct error e;

	if (uid == NULL) {
		(void)snprintf(pseudo, sizeof(pseudo), "%s%lu", FALLBACK_PREFIX,
		    m->num);
		uid = pseudo;
	}
	if (pop3_recv_status(r->p, ERR_REFUSED, err) == -1)
		return -1;
	/* The journal entry comes before the first byte is written. */
	if ((token = deliver_prepare(r->d, err)) == NULL ||
	    state_begin(r->st, uid, token, deliver_durable_token(r->d),
	    err) == -1 ||
	    add_headers(r, uid == pseudo ? NULL : uid, err) == -1) {
		deliver_abort(r->d);
		if (token != NULL)
			(void)state_abort(r->st, uid, NULL);
		(void)pop3_recv_body(r->p, NULL, NULL, &e);
		return -1;
	}
	if (pop3_recv_body(r->p, sink, r, err) == -1) {
		deliver_abort(r->d);
		(void)state_abort(r->st, uid, NULL);
		return -1;
	}
	if (deliver_finish(r->d, err) == -1) {
		(void)state_abort(r->st, uid, NULL);
		return -1;
	}
	return 0;
}

/* Messages made durable together (one barrier, one journal fsync). */
#define BATCH		64

/* DELEs waiting to be sent: a ring that grows when it must. */
struct dqueue {
	size_t	*v;
	size_t	 head, n, cap;
};

static void
dq_push(struct dqueue *q, size_t idx)
{
	size_t i, *nv;

	if (q->n == q->cap) {
		nv = xreallocarray(NULL, q->cap ? 2 * q->cap : 2 * BATCH,
		    sizeof(size_t));
		for (i = 0; i < q->n; i++)
			nv[i] = q->v[(q->head + i) % q->cap];
		free(q->v);
		q->v = nv;
		q->head = 0;
		q->cap = q->cap ? 2 * q->cap : 2 * BATCH;
	}
	q->v[(q->head + q->n++) % q->cap] = idx;
}

static size_t
dq_pop(struct dqueue *q)
{
	size_t idx = q->v[q->head];

	q->head = (q->head + 1) % q->cap;
	q->n--;
	return idx;
}

/*
 * Makes the batch durable with one barrier, records it (one fsync of
 * the journal), and only then lets its DELEs be sent: pushed on dq
 * when dele is set.  Returns 0, or -1 with err (ERR_IO): what the
 * barrier did not cover was removed and is fetched again next time.
 */
static int
flush_batch(struct run *r, const struct pop3_msg *list, char **uids,
    size_t *batch, size_t *nbatch, struct dqueue *dq, int dele,
    size_t nfetch, size_t *done, struct error *err)
{
	struct fetch_event ev;
	struct error e;
	size_t pub, k, idx;
	char pseudo[32];
	const char *uid;
	int rv;

	if (*nbatch == 0)
		return 0;
	rv = deliver_sync(r->d, &pub, &e);
	for (k = 0; k < *nbatch; k++) {
		idx = batch[k];
		uid = uids[idx];
		if (uid == NULL) {
			(void)snprintf(pseudo, sizeof(pseudo), "%s%lu",
			    FALLBACK_PREFIX, list[idx].num);
			uid = pseudo;
		}
		if (k < pub && uids[idx] != NULL) {
			if (state_delivered(r->st, uid, 0, err) == -1)
				return -1;
		} else
			(void)state_abort(r->st, uid, NULL);
	}
	if (state_sync(r->st, err) == -1)
		return -1;
	for (k = 0; k < pub; k++) {
		idx = batch[k];
		r->res->fetched++;
		event(r, FETCH_FETCHED, list[idx].num, uids[idx],
		    list[idx].size, NULL);
		memset(&ev, 0, sizeof(ev));
		ev.kind = FETCH_PROGRESS;
		ev.done = ++*done;
		ev.total = nfetch;
		ev.bytes = r->res->bytes;
		if (r->report != NULL)
			r->report(r->arg, &ev);
		if (dele)
			dq_push(dq, idx);
	}
	*nbatch = 0;
	if (rv == -1) {
		*err = e;
		return -1;
	}
	return 0;
}

struct inflight {
	int	retr;		/* RETR, else DELE */
	size_t	idx;		/* into the listing */
};

/*
 * Sends DELE for old[] and RETR for fetch[], keeping up to window
 * commands and PIPE_BYTES of announced message size in flight (RFC 2449
 * PIPELINING; a window of 1 is lock-step), and handles the replies in
 * order.  Messages are written without waiting for the disk and made
 * durable BATCH at a time (flush_batch); a message's DELE is queued only
 * after that.  After a local failure (a full disk) no new RETR is sent,
 * the replies in flight are read and dropped, and the DELEs of what was
 * delivered still go out, so that QUIT can commit them.
 *
 * The window is deep (PIPE_CMDS) so that the server never waits for
 * commands while popfetch creates files; PIPE_BYTES bounds what the
 * server may have to buffer.  Commands are a few bytes each, so the client's writes never
 * fill the socket while the server's replies wait to be read.
 */
#define PIPE_BYTES	(1024 * 1024)
#define PIPE_CMDS	1024

static int
pipeline(struct run *r, const struct pop3_msg *list, char **uids,
    const uint32_t *old, size_t nold, const uint32_t *fetch, size_t nfetch,
    size_t window, struct error *err)
{
	/* Commands in flight: a ring of window slots (head and tail only
	 * grow; tail - head <= window). */
	size_t head = 0, tail = 0, nextf = 0, oi = 0;
	size_t done = 0, nbatch = 0, batch[BATCH];
	struct inflight *q = xcalloc(window, sizeof(*q)), it;
	struct dqueue dq = { NULL, 0, 0, 0 };
	unsigned long long out = 0;
	struct error e, local = { .cls = ERR_NONE };
	int stop = 0, dele = r->fp->delete;

	for (;;) {
		/* Refill at once: the server must never wait for a command
		 * (sending in bursts of several commands measured slower). */
		while (tail - head < window) {
			if (oi < nold) {
				it.retr = 0;
				it.idx = old[oi++];
			} else if (dq.n > 0) {
				it.retr = 0;
				it.idx = dq_pop(&dq);
			} else if (!stop && nextf < nfetch && (tail == head ||
			    out + list[fetch[nextf]].size <= PIPE_BYTES)) {
				it.retr = 1;
				it.idx = fetch[nextf++];
				out += list[it.idx].size;
			} else
				break;
			if (pop3_queue(r->p, err, "%s %lu", it.retr ? "RETR" :
			    "DELE", list[it.idx].num) == -1)
				goto fail;
			q[tail++ % window] = it;
		}
		if (pop3_flush(r->p, err) == -1)
			goto fail;
		if (head == tail) {
			if (nbatch == 0)
				break;
			if (flush_batch(r, list, uids, batch, &nbatch, &dq,
			    dele, nfetch, &done, &e) == -1 && !stop) {
				local = e;
				stop = 1;
			}
			continue;
		}
		it = q[head++ % window];
		if (!it.retr) {
			if (pop3_recv_status(r->p, ERR_REFUSED, &e) == 0) {
				r->res->deleted++;
				event(r, FETCH_DELETED, list[it.idx].num,
				    uids[it.idx], list[it.idx].size, NULL);
			} else if (pop3_broken(r->p)) {
				*err = e;
				goto fail;
			} else
				defer(r, &e);
			continue;
		}
		out -= list[it.idx].size;
		if (stop) {
			/* Drop the replies still coming. */
			if (pop3_recv_status(r->p, ERR_REFUSED, &e) == -1) {
				if (pop3_broken(r->p))
					goto fail;
				continue;
			}
			if (pop3_recv_body(r->p, NULL, NULL, &e) == -1)
				goto fail;
			continue;
		}
		if (receive_one(r, &list[it.idx], uids[it.idx], &e) == -1) {
			if (pop3_broken(r->p)) {
				*err = e;
				goto fail;
			}
			if (e.cls == ERR_REFUSED)	/* -ERR to RETR */
				defer(r, &e);
			else {
				local = e;
				stop = 1;
			}
		} else
			batch[nbatch++] = it.idx;
		if ((nbatch == BATCH || (stop && nbatch > 0)) &&
		    flush_batch(r, list, uids, batch, &nbatch, &dq, dele,
		    nfetch, &done, &e) == -1 && !stop) {
			local = e;
			stop = 1;
		}
	}
	free(q);
	free(dq.v);
	if (stop) {
		*err = local;
		return -1;
	}
	return 0;
fail:
	/* What arrived whole is still delivered, just not deleted. */
	(void)flush_batch(r, list, uids, batch, &nbatch, &dq, 0,
	    nfetch, &done, &e);
	if (stop)
		*err = local;
	free(q);
	free(dq.v);
	return -1;
}

static int
cmp_uid(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Puts each UID of a UIDL listing beside its LIST entry. */
struct uidjoin {
	const struct pop3_msg	*list;
	size_t			 nl;
	char			**uids;
	struct arena		*arena;
};

static int
join_uid(void *arg, unsigned long num, const char *uid, size_t len,
    struct error *err)
{
	struct uidjoin *j = arg;
	size_t lo = 0, hi = j->nl, mid;

	(void)err;
	/* LIST is in ascending order (pop3.c checks). */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (j->list[mid].num < num)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* A message only in UIDL (deleted in between) is of no use. */
	if (lo < j->nl && j->list[lo].num == num)
		j->uids[lo] = arena_strndup(j->arena, uid, len);
	return 0;
}

/* Every LIST entry needs its UID, and no two may share one. */
static int
check_uids(const struct pop3_msg *list, size_t nl, char **uids,
    struct error *err)
{
	char **sorted;
	size_t i;
	int r = 0;

	for (i = 0; i < nl; i++)
		if (uids[i] == NULL)
			return error_set(err, ERR_PROTO, "message %lu is in "
			    "LIST but not in UIDL", list[i].num);
	if (nl < 2)
		return 0;
	sorted = xreallocarray(NULL, nl, sizeof(char *));
	memcpy(sorted, uids, nl * sizeof(char *));
	qsort(sorted, nl, sizeof(char *), cmp_uid);
	for (i = 1; i < nl && r == 0; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			r = error_set(err, ERR_PROTO, "the server gives two "
			    "messages the same UID; refusing to fetch, since "
			    "one could be taken for the other");
	free(sorted);
	return r;
}

int
fetch_run(const struct session_params *sp, const struct fetch_params *fp,
    fetch_reporter *report, void *arg, struct fetch_result *res,
    struct error *err)
{
	struct run r;
	struct session *s = NULL;
	struct pop3_msg *list = NULL;
	size_t nl = 0, i, nold = 0, nfetch = 0, window;
	uint32_t *plan = NULL, *old, *tofetch;
	char **uids = NULL, path[4096];
	struct arena uidarena;
	struct error e;
	time_t now = time(NULL), when;
	int rv = -1, have_uidl;

	memset(&r, 0, sizeof(r));
	memset(&uidarena, 0, sizeof(uidarena));
	memset(res, 0, sizeof(*res));
	r.fp = fp;
	r.report = report;
	r.arg = arg;
	r.res = res;

	if (fp->state_path != NULL)
		(void)strlcpy(path, fp->state_path, sizeof(path));
	else if (state_default_path(path, sizeof(path), sp->auth.user,
	    sp->host, session_port(sp), err) == -1)
		return -1;
	if ((r.st = state_open(path, fp->dry_run, err)) == NULL)
		return -1;
	if (!fp->dry_run && recover(&r, err) == -1)
		goto out;
	if (!fp->dry_run && (r.d = deliver_open(&fp->dp, err)) == NULL)
		goto out;
	if ((s = session_open(sp, 1, err)) == NULL)
		goto out;
	r.p = session_pop3(s);

	/* LIST first, then UIDL straight into an array beside it: the
	 * listing is held once, whatever the number of messages. */
	if (pop3_list(r.p, 0, &list, &nl, err) == -1)
		goto out;
	uids = xcalloc(nl + 1, sizeof(char *));
	{
		struct uidjoin j = { list, nl, uids, &uidarena };

		have_uidl = 1;
		if (pop3_uidl_each(r.p, join_uid, &j, &e) == -1) {
			if (e.cls != ERR_REFUSED) {
				*err = e;
				goto out;
			}
			have_uidl = 0;
		}
	}
	if (!have_uidl && !fp->all && !fp->delete) {
		error_set(err, ERR_REFUSED, "the server does not support UIDL, "
		    "so popfetch cannot tell new messages from old");
		error_hint(err, HINT_ALL_OR_DELETE);
		goto out;
	}
	if (have_uidl && check_uids(list, nl, uids, err) == -1)
		goto out;

	/* Plan: old messages to delete from the front of one array, new
	 * ones to fetch from its back (then put in order). */
	plan = xcalloc(nl + 1, sizeof(uint32_t));
	old = plan;
	tofetch = plan + nl;
	for (i = 0; i < nl; i++) {
		const struct pop3_msg *m = &list[i];

		if (have_uidl && !fp->all &&
		    (when = state_lookup(r.st, uids[i])) != 0) {
			if (!fp->delete && (fp->keep_days == 0 ||
			    now - when < (time_t)fp->keep_days * 86400))
				continue;
			if (fp->dry_run) {
				res->would_delete++;
				event(&r, FETCH_WOULD_DELETE, m->num, uids[i],
				    m->size, NULL);
			} else
				old[nold++] = (uint32_t)i;
			continue;
		}
		if (fp->max_size > 0 && m->size > fp->max_size) {
			res->skipped++;
			event(&r, FETCH_SKIPPED, m->num, uids[i], m->size,
			    NULL);
			continue;
		}
		if (fp->limit > 0 && nfetch + res->would_fetch >= fp->limit)
			continue;
		if (fp->dry_run) {
			res->would_fetch++;
			event(&r, FETCH_WOULD_FETCH, m->num, uids[i], m->size,
			    NULL);
			if (fp->delete) {
				res->would_delete++;
				event(&r, FETCH_WOULD_DELETE, m->num, uids[i],
				    m->size, NULL);
			}
			continue;
		}
		*--tofetch = (uint32_t)i;
		nfetch++;
	}
	for (i = 0; i < nfetch / 2; i++) {
		uint32_t t = tofetch[i];

		tofetch[i] = tofetch[nfetch - 1 - i];
		tofetch[nfetch - 1 - i] = t;
	}
	window = pop3_capabilities(r.p)->flags & CAPA_PIPELINING ?
	    PIPE_CMDS : 1;
	if (!fp->dry_run && pipeline(&r, list, uids, old, nold, tofetch,
	    nfetch, window, err) == -1)
		goto out;
	/* Messages the server no longer lists need no memory. */
	if (have_uidl && !fp->dry_run)
		state_forget_absent(r.st, uids, nl);
	rv = 0;
out:
	/* DELEs went out only for durable messages: QUIT commits them. */
	if (session_end(s, 1, &e) == -1 && rv == 0) {
		*err = e;
		rv = -1;
	}
	if (r.st != NULL && !fp->dry_run && state_save(r.st, &e) == -1 &&
	    rv == 0) {
		*err = e;
		rv = -1;
	}
	if (rv == 0 && r.first.cls != ERR_NONE) {
		*err = r.first;
		rv = -1;
	}
	deliver_close(r.d);
	state_close(r.st);
	free(uids);
	arena_free(&uidarena);
	free(plan);
	pop3_msgs_free(list, nl, 0);
	return rv;
}
