/*
 * fetch.c - download, deliver, record, delete: exactly once.
 *
 * The argument, for one message with UID u (the order of events is the
 * order of the code below; the promises of the delivery backends it
 * relies on are written out in backend.h):
 *
 *  1. The journal gets "B u token".  The token names exactly what will
 *     be written (a maildir file name, an mbox offset) and never holds
 *     server text.  For a backend with durable_token (an mbox, where a
 *     partial tail without its record would be a corrupt message after
 *     a power loss) the record is fsync'd before the target is touched;
 *     for a maildir, where it would only be a file in tmp/ (removed as
 *     an orphan after a crash), it is written and fsync'd with the
 *     batch, before any of the batch is published, whichever
 *     filesystems hold the journal and the target; for the others it
 *     reaches the kernel before the target is touched.  A journal write
 *     that fails once fails every later sync, so no batch is published
 *     after records were lost.
 *  2. RETR streams into the target; deliver_finish ends the message.
 *     For a batch of such messages, deliver_sync makes them durable
 *     with one barrier (syncfs, or fsync of each file), publishes them
 *     (rename into new/) and fsyncs the directory, and says how many,
 *     in order, made it; the rest are removed, except those it cannot
 *     prove either way (renamed, new/ not synced; an mbox that could
 *     not be cut back): their "B" stays pending, the journal is kept
 *     instead of a snapshot, and the next run's recovery decides.
 *  3. The journal gets "D u" for each message the sync counted
 *     (flush_batch), written at once and fsync'd if a DELE is to follow
 *     or the target took each message for good (record_each); else
 *     made durable by the next batch's fsync, or the snapshot.  Only
 *     now is u delivered.  A power cut that loses a D not yet durable
 *     leaves its B, durable since 1, and so the case below.
 *  4. With --delete, DELE is queued only after 3; QUIT at the end
 *     commits it.
 *
 * A kill before 1 leaves nothing.  Between 1 and 3, the next run finds
 * "B" without "D" and hands the token to the backend that wrote it
 * (recover, deliver_recover): a maildir file in new/ or cur/ means
 * delivered, so u is recorded and not fetched again; a partial file in
 * tmp/ or partial mbox bytes (which only popfetch wrote, under its
 * lock) are removed, and u is fetched again.  After 3, u is never
 * fetched again: the state keeps it until the server no longer lists
 * it, and the snapshot replaces the journal only by an atomic rename.
 * DELE is sent only after 3, so nothing undelivered is ever deleted; if
 * QUIT's answer is lost, u is still in the state and still on the
 * server, and the next run (with --delete) deletes it without fetching
 * it.  A failed write (ENOSPC, EIO) aborts the delivery in step 2
 * exactly like a kill, but in process: the target is rolled back and
 * "A u" is journalled.
 *
 * The one deletion of an undelivered message is asked for: a --filter
 * that exits 1 with --delete (apply_filter); its DELE goes out with
 * those of step 4.
 *
 * An MDA cannot be asked or rolled back, so for it the guarantee is at
 * least once; but it is started only for a whole message (mda.c), and
 * its backend asks for record_each, so each delivery is recorded as soon
 * as the MDA exited 0 and a crash repeats at most the one in flight.  An
 * LMTP or SMTP server cannot be asked either, but it drops a message cut
 * off before the end: there a crash repeats a message only between the
 * server's reply and step 3, and that window is one message wide too.
 * Without UIDL there are no UIDs to record; see FALLBACK_PREFIX below.
 *
 * The argument needs the records to survive.  A crash only ever tears
 * the journal's last record, which nothing relied on; but a journal cut
 * at a record boundary or deleted, or a state replaced by an older copy,
 * loses records whole, and their messages would be fetched again.  For
 * a maildir this is caught before anything is fetched: each file's name
 * carries a checksum of the account and of its UID, so the files stored
 * after the snapshot was written that no record accounts for are lost
 * records (fetch_check_lost), and the run stops with ERR_CONFIG.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "fetch.h"
#include "filter.h"
#include "logindelay.h"
#include "net.h"
#include "plan.h"
#include "pop3.h"
#include "state.h"
#include "verify.h"

/* Journal UIDs for servers without UIDL start with LF, which no real
 * UID can contain; they only serve to clean up after a crash. */
#define FALLBACK_PREFIX	"\n"

/* One fetch_run: what it was asked, what it holds, what it found. */
struct run {
	const struct fetch_params	*fp;
	fetch_reporter			*report;
	void				*arg;
	struct fetch_result		*res;
	struct state			*st;
	struct deliver			*d;
	struct pop3			*p;
	struct error			 first;	/* the first deferred error */
	/* The filter left some of this session's plan. */
	int				 left;
	int				 unresolved;	/* recovery failed */
	int				 unsure;	/* records left pending
						 * for the next recovery */
	int				 nosave;	/* records lost: the
						 * state stays as it is */
	struct plan			 pl;	/* the listing and the plan */
	struct logindelay		 delay;	/* beside the state */
	unsigned long long		 got;	/* of this message */
	int				 oversize; /* got > max_size */
	uint32_t			*old;	/* the plan's old and what the
						 * filter deletes */
	char				*acct;	/* the account, escaped, for
						 * deliver_tag */
	struct verify			*vf;	/* the store read back, for
						 * refetch_missing and
						 * verified_delete */
	/* fetch_again's answers this session, by the plan's UID
	 * pointers (which plan_sizes keeps), so that each stored copy
	 * is read once: open addressing, NULL is empty. */
	const char			**again_uid;
	signed char			*again_res;
	size_t				 again_cap, again_n;
};

/* What was stored of one message of a batch, until it is recorded. */
struct stored {
	int			 has;
	unsigned long long	 size;
	char			 sha[DIGEST_HEX];
	/* The rest is in the batch's text (struct pipe), one after the
	 * other, so that a batch of short names touches a few pages of
	 * memory, not BATCH times the longest. */
	const char		*where;		/* escaped */
	const char		*msgid;		/* escaped */
	const char		*reply;		/* the target's answer, or "" */
};

/* The longest where (escaped: a long host name, tripled), msgid and
 * reply kept, with their NULs: what one message may add to a batch's
 * text. */
#define WHERE_MAX	(3 * 256 + 1)
#define MSGID_MAX	(3 * DIGEST_MSGID_MAX + 1)
#define REPLY_MAX	288
#define STORED_TEXT	(WHERE_MAX + MSGID_MAX + REPLY_MAX)

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

/* The target's absolute name as a backend writes it in its tokens
 * (maildir: the real path; mbox: the path made absolute), in buf. */
static const char *
target_abs(const struct deliver_params *dp, char *buf, size_t len)
{
	char cwd[PATH_MAX];
	int n;

	if (dp->target[0] == '/')
		return dp->target;
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	n = snprintf(buf, len, "%s/%s", cwd, dp->target);
	return n < 0 || (size_t)n >= len ? NULL : buf;
}

/*
 * Whether a journal token names the configured target: "maildir NAME
 * DIR" or "mbox OFFSET PATH" (the kind first, the path last, as
 * backend.h has them), or one of the kind of an MDA or a server.  A
 * token naming any other path is not popfetch's to touch: recovery
 * refuses it as corruption.
 */
static int
token_ours(const struct deliver_params *dp, const char *token)
{
	char abuf[PATH_MAX], ra[PATH_MAX], rb[PATH_MAX];
	const char *kind = deliver_kind_name(dp->kind), *path, *abs;
	size_t kl = strlen(kind);

	if (strncmp(token, kind, kl) != 0 || (token[kl] != ' ' &&
	    token[kl] != '\0'))
		return 0;
	/* Only a maildir's and an mbox's tokens name a path. */
	if (dp->kind != DELIVER_MAILDIR && dp->kind != DELIVER_MBOX)
		return 1;
	if ((path = strrchr(token, ' ')) == NULL || path == token + kl)
		return 0;
	path++;
	if ((abs = target_abs(dp, abuf, sizeof(abuf))) != NULL &&
	    strcmp(abs, path) == 0)
		return 1;
	return realpath(dp->target, ra) != NULL &&
	    realpath(path, rb) != NULL && strcmp(ra, rb) == 0;
}

/*
 * Resolves deliveries a killed run left unfinished, all at once.  The
 * answers are matched to pending records by UID, not by position:
 * resolving a UID resolves every record of it, and a journal holds one
 * per UID only if nobody edited it.  A UID is delivered if any of its
 * tokens says so (the others were rolled back).
 */
static int
recover(struct run *r, struct error *err)
{
	const char *uid, *etoken;
	char **tokens = NULL, **uids = NULL;
	int *delivered = NULL, rv = -1, got;
	size_t n = 0, i, len;

	while ((uid = state_pending(r->st, n, &etoken)) != NULL) {
		tokens = xreallocarray(tokens, n + 1, sizeof(char *));
		uids = xreallocarray(uids, n + 1, sizeof(char *));
		if (state_unescape(etoken, &tokens[n], &len) == -1) {
			error_set(err, ERR_CONFIG, "corrupt journal");
			goto out;
		}
		uids[n++] = xstrdup(uid);
		if (!token_ours(&r->fp->dp, tokens[n - 1])) {
			char vis[256];

			error_set(err, ERR_CONFIG, "damaged journal: a "
			    "delivery in it names another place than %s "
			    "(\"%s\"); nothing was touched or fetched (if you "
			    "changed the target, run once more with the old "
			    "one)", r->fp->dp.target, vis_text(vis, sizeof(vis),
			    tokens[n - 1], strlen(tokens[n - 1])));
			error_hint(err, HINT_STATE_DAMAGED);
			goto out;
		}
	}
	if (n == 0)
		return 0;
	delivered = xcalloc(n, sizeof(int));
	if (deliver_recover(tokens, n, delivered, recover_warn, r, err) == -1)
		goto out;
	while ((uid = state_pending(r->st, 0, &etoken)) != NULL) {
		for (got = 0, i = 0; i < n; i++)
			if (strcmp(uids[i], uid) == 0)
				got |= delivered[i];
		/* A fallback entry is never recorded as delivered. */
		if (state_resolve(r->st, 0, got &&
		    strncmp(uid, "%0A", 3) != 0, err) == -1)
			goto out;
	}
	rv = 0;
out:
	for (i = 0; i < n; i++) {
		free(tokens[i]);
		free(uids[i]);
	}
	free(tokens);
	free(uids);
	free(delivered);
	return rv;
}

/* The UID journalled for listing entry idx: its own, or for a server
 * without UIDL a pseudo-UID in buf (PSEUDO_MAX bytes). */
#define PSEUDO_MAX	32
_Static_assert(sizeof(FALLBACK_PREFIX) + 20 < PSEUDO_MAX,
    "a pseudo-UID always fits");

static const char *
journal_uid(const struct run *r, size_t idx, char *buf)
{
	int n;

	if (r->pl.uids[idx] != NULL)
		return r->pl.uids[idx];
	n = snprintf(buf, PSEUDO_MAX, "%s%lu", FALLBACK_PREFIX,
	    plan_num(&r->pl, idx));
	/* Cannot happen (see above); never journal a cut number. */
	if (n < 0 || n >= PSEUDO_MAX)
		abort();
	return buf;
}

static int
sink(void *arg, const char *data, size_t len, struct error *err)
{
	struct run *r = arg;

	/* LIST's size is the server's word: what counts is what arrives.
	 * Past the limit the delivery is abandoned and rolled back. */
	r->got += len;
	if (r->fp->max_size > 0 && r->got > r->fp->max_size) {
		r->oversize = 1;
		return error_set(err, ERR_PROTO, "the message is larger "
		    "than its LIST size and the limit");
	}
	if (deliver_write(r->d, data, len, err) == -1)
		return -1;
	r->res->bytes += len;
	return 0;
}

/* Writes one header line, formatted; the buffer fits every caller's. */
static int
header(struct run *r, struct error *err, const char *fmt, ...)
{
	char line[1400];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return error_set(err, ERR_SOFTWARE, "trace header too long");
	return deliver_write(r->d, line, (size_t)n, err);
}

/* The optional trace headers, before the message's own.  The UID is
 * server text: escaped, so it can never end the header early. */
static int
add_headers(struct run *r, const char *uid, struct error *err)
{
	char esc[1024], date[64], host[256];
	time_t now = time(NULL);

	if (r->fp->received_header) {
		if (gethostname(host, sizeof(host)) == -1)
			(void)strlcpy(host, "localhost", sizeof(host));
		host[sizeof(host) - 1] = '\0';
		(void)strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z",
		    localtime(&now));
		vis_text(esc, sizeof(esc), r->fp->host, strlen(r->fp->host));
		if (header(r, err, "Received: from %s\n\tby %s with POP3 "
		    "(popfetch); %s\n", esc, host, date) == -1)
			return -1;
	}
	if (r->fp->uidl_header && uid != NULL) {
		vis_text(esc, sizeof(esc), uid, strlen(uid));
		if (header(r, err, "X-Popfetch-UIDL: %s\n", esc) == -1)
			return -1;
	}
	return 0;
}

/*
 * A delivery of uid failed and was rolled back: "A" is journalled.  If
 * the rollback itself failed (an mbox that could not be truncated),
 * what was written is still there: the "B" record stays pending for
 * the next run's recovery, the journal is kept (no snapshot replaces
 * it), and the failure is an I/O error whatever caused it.
 */
static void
undone(struct run *r, const char *uid, struct error *err)
{
	if (deliver_unsure(r->d) == 0) {
		(void)state_abort(r->st, uid, NULL);
		return;
	}
	r->unsure = 1;
	err->cls = ERR_IO;
	(void)error_prefix(err, "the message could not be removed again "
	    "and is recovered on the next run");
}

/*
 * Receives the reply to a RETR already sent and delivers it.  Returns 0,
 * or -1 with err; unless pop3_broken says the connection is lost, the
 * reply has been read to its end, so the pipeline stays in step.
 */
static int
receive_one(struct run *r, size_t idx, struct error *err)
{
	const char *token, *uid;
	char pseudo[PSEUDO_MAX], tag[DELIVER_TAG_MAX];
	struct error e;

	uid = journal_uid(r, idx, pseudo);
	r->got = 0;
	r->oversize = 0;
	if (pop3_recv_status(r->p, ERR_REFUSED, err) == -1)
		return -1;
	/* The name of a maildir file tells whose message it holds
	 * (fetch_check_lost); a pseudo-UID is never recorded, so its file
	 * is not tagged. */
	tag[0] = '\0';
	if (uid != pseudo && r->acct != NULL) {
		char *e = state_escape(uid, strlen(uid));

		deliver_tag(tag, r->acct, e);
		free(e);
	}
	/* The journal entry comes before the first byte is written, or
	 * (a maildir) before the batch is published. */
	if ((token = deliver_prepare(r->d, tag, err)) == NULL ||
	    state_begin(r->st, uid, token, deliver_durable_token(r->d) ? 1 :
	    deliver_hidden_until_sync(r->d) ? STATE_LATER : 0, err) == -1 ||
	    add_headers(r, uid == pseudo ? NULL : uid, err) == -1) {
		deliver_abort(r->d);
		if (token != NULL)
			(void)state_abort(r->st, uid, NULL);
		(void)pop3_recv_body(r->p, NULL, NULL, &e);
		return -1;
	}
	if (pop3_recv_body(r->p, sink, r, err) == -1) {
		deliver_abort(r->d);
		undone(r, uid, err);
		return -1;
	}
	if (deliver_finish(r->d, err) == -1) {
		undone(r, uid, err);
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

struct inflight {
	int	retr;		/* RETR, else DELE */
	size_t	idx;		/* into the listing */
};

/*
 * The pipeline's state.  old[oi..nold) and fetch[nextf..nfetch) are
 * still to be sent.  Commands in flight are a ring of window slots
 * (head and tail only grow; tail - head <= window), with out bytes of
 * announced message size.  batch holds the messages written since the
 * last flush_batch; done counts those delivered, for progress.  dele:
 * queue DELEs for what is delivered.  stop: a local failure (local)
 * means no more RETR.
 */
struct pipe {
	const uint32_t		*old, *fetch;
	size_t			 nold, nfetch;
	size_t			 oi, nextf;
	struct inflight		*q;
	size_t			 window, head, tail;
	unsigned long long	 out;
	size_t			 batch[BATCH], nbatch;
	struct stored		*recs;		/* BATCH of them */
	char			*text;		/* theirs: BATCH *
						 * STORED_TEXT bytes */
	size_t			 ntext;		/* in use */
	size_t			 done;
	struct dqueue		 dq;
	int			 dele;
	int			 stop;
	struct error		 local;
};

static void
progress(struct run *r, size_t done)
{
	struct fetch_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = FETCH_PROGRESS;
	ev.done = done;
	ev.total = r->pl.nfetch;
	ev.bytes = r->res->bytes;
	if (r->report != NULL)
		r->report(r->arg, &ev);
}

/* A copy of t at the end of the batch's text, or NULL if t is max
 * bytes or longer. */
static const char *
keep_text(struct pipe *pp, const char *t, size_t max)
{
	size_t n = strlen(t);
	char *d;

	if (n >= max)
		return NULL;
	d = pp->text + pp->ntext;
	memcpy(d, t, n + 1);
	pp->ntext += n + 1;
	return d;
}

/* What deliver_stored says of the message just finished, into the
 * batch's next record. */
static void
keep_stored(struct run *r, struct pipe *pp)
{
	struct stored *s = &pp->recs[pp->nbatch];
	const char *sha, *where, *msgid, *reply;

	if ((reply = deliver_reply(r->d)) == NULL ||
	    (s->reply = keep_text(pp, reply, REPLY_MAX)) == NULL)
		s->reply = "";
	s->has = deliver_stored(r->d, &sha, &s->size, &where, &msgid) == 0 &&
	    strlen(where) < WHERE_MAX && strlen(msgid) < MSGID_MAX;
	if (!s->has)
		return;
	(void)strlcpy(s->sha, sha, sizeof(s->sha));
	s->where = keep_text(pp, where, WHERE_MAX);
	s->msgid = keep_text(pp, msgid, MSGID_MAX);
}

/* FETCH_FETCHED for message idx, saying where it is from what was
 * stored (s). */
static void
fetched(struct run *r, size_t idx, const struct stored *s)
{
	char file[300], path[PATH_MAX + 300];
	struct fetch_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = FETCH_FETCHED;
	ev.num = plan_num(&r->pl, idx);
	ev.uid = r->pl.uids[idx];
	ev.size = plan_size(&r->pl, idx);
	ev.offset = -1;
	if (s->has && deliver_place(r->d, s->where, file, sizeof(file), path,
	    sizeof(path), &ev.offset) == 0) {
		ev.path = path;
		ev.file = file;
	}
	if (s->reply[0] != '\0')
		ev.reply = s->reply;
	if (r->report != NULL)
		r->report(r->arg, &ev);
}

static void
to_rec(const struct stored *s, struct state_rec *rec)
{
	rec->when = 0;
	rec->size = s->size;
	rec->sha = s->sha;
	rec->where = s->where;
	rec->msgid = s->msgid;
}

/*
 * Whether the stored copy of message idx (rec: what the state says was
 * stored) verifies now, for a verified delete; if not, a warning says
 * that it stays on the server and why.
 */
static int
verified(struct run *r, size_t idx, const struct state_rec *rec)
{
	enum verify_status vs = VERIFY_UNRECORDED;
	char msg[512], vis[128];
	struct error e;
	const char *uid = r->pl.uids[idx];

	if (rec != NULL && verify_check(r->vf, rec, &vs, &e) == -1) {
		event(r, FETCH_WARNING, 0, NULL, 0, e.msg);
		vs = VERIFY_UNRECORDED;
	}
	if (vs == VERIFY_INTACT)
		return 1;
	(void)snprintf(msg, sizeof(msg), "message %lu (UID %s) stays on the "
	    "server: its stored copy is %s", plan_num(&r->pl, idx),
	    uid != NULL ? vis_text(vis, sizeof(vis), uid, strlen(uid)) : "-",
	    vs == VERIFY_MISSING ? "missing" : vs == VERIFY_CHANGED ?
	    "changed" : "not recorded, so it cannot be verified");
	event(r, FETCH_WARNING, 0, NULL, 0, msg);
	return 0;
}

static void
again_put(struct run *r, const char *uid, int res)
{
	size_t i, h = ((uintptr_t)uid >> 3) * 0x9E3779B97F4A7C15ULL;

	for (i = h & (r->again_cap - 1); r->again_uid[i] != NULL;
	    i = (i + 1) & (r->again_cap - 1))
		;
	r->again_uid[i] = uid;
	r->again_res[i] = (signed char)res;
	r->again_n++;
}

/* For plan.h's again: a delivered message whose copy is missing or
 * changed is fetched again. */
static int
fetch_again(void *arg, const char *uid)
{
	struct run *r = arg;
	struct state_rec rec;
	enum verify_status vs;
	struct error e;
	size_t h, i, oldcap;
	const char **ou;
	signed char *orr;
	int res = 0;

	h = ((uintptr_t)uid >> 3) * 0x9E3779B97F4A7C15ULL;
	if (r->again_cap > 0)
		for (i = h & (r->again_cap - 1); r->again_uid[i] != NULL;
		    i = (i + 1) & (r->again_cap - 1))
			if (r->again_uid[i] == uid)
				return r->again_res[i];
	if (state_record(r->st, uid, &rec) == 0 && rec.sha != NULL) {
		if (verify_check(r->vf, &rec, &vs, &e) == -1)
			event(r, FETCH_WARNING, 0, NULL, 0, e.msg);
		else
			res = vs == VERIFY_MISSING || vs == VERIFY_CHANGED;
	}
	if (2 * (r->again_n + 1) > r->again_cap) {
		ou = r->again_uid;
		orr = r->again_res;
		oldcap = r->again_cap;
		r->again_cap = oldcap ? 2 * oldcap : 256;
		r->again_uid = xcalloc(r->again_cap, sizeof(*r->again_uid));
		r->again_res = xcalloc(r->again_cap, 1);
		r->again_n = 0;
		for (i = 0; i < oldcap; i++)
			if (ou[i] != NULL)
				again_put(r, ou[i], orr[i]);
		free(ou);
		free(orr);
	}
	again_put(r, uid, res);
	return res;
}

/* A verified delete: drops from the plan's old messages those whose
 * stored copy does not verify. */
static void
verify_old(struct run *r)
{
	struct state_rec rec;
	size_t k, kept = 0, idx;

	for (k = 0; k < r->pl.nold; k++) {
		idx = r->pl.old[k];
		if (r->pl.uids[idx] != NULL && verified(r, idx,
		    state_record(r->st, r->pl.uids[idx], &rec) == 0 ?
		    &rec : NULL))
			r->pl.old[kept++] = (uint32_t)idx;
	}
	r->pl.nold = kept;
}

/*
 * Makes the batch durable with one barrier, records it (with an fsync
 * of the journal when DELEs follow), and only then lets its DELEs be
 * sent: pushed on the DELE queue when dele is set.  Returns 0, or -1
 * with err (ERR_IO): what the barrier did not cover was removed and is
 * fetched again next time.
 */
static int
flush_batch(struct run *r, struct pipe *pp, int dele, struct error *err)
{
	struct error e;
	size_t pub, unsure = 0, k, idx;
	char pseudo[PSEUDO_MAX];
	const char *uid;
	int rv;

	if (pp->nbatch == 0)
		return 0;
	/*
	 * The batch's B records are durable before any of its messages is
	 * published (renamed into new/): otherwise, with the journal and
	 * the maildir on different filesystems, a power loss could keep
	 * the files and lose their records, and the batch would be
	 * fetched again.
	 */
	if (state_sync(r->st, err) == -1) {
		for (k = 0; k < pp->nbatch; k++)
			(void)state_abort(r->st, journal_uid(r, pp->batch[k],
			    pseudo), NULL);
		/* Nothing was published; the files are removed by
		 * deliver_close and fetched again. */
		pp->nbatch = 0;
		pp->ntext = 0;
		return -1;
	}
	rv = deliver_sync(r->d, &pub, &e);
	if (rv == -1)
		unsure = deliver_unsure(r->d);
	for (k = 0; k < pp->nbatch; k++) {
		idx = pp->batch[k];
		uid = journal_uid(r, idx, pseudo);
		/* Recorded only once the barrier covered it. */
		if (k < pub && r->pl.uids[idx] != NULL) {
			struct state_rec rec;

			to_rec(&pp->recs[k], &rec);
			if (state_delivered(r->st, uid, 0, pp->recs[k].has ?
			    &rec : NULL, err) == -1)
				return -1;
		} else if (k >= pub && k - pub < unsure)
			/* Maybe published: recovery decides. */
			r->unsure = 1;
		else
			(void)state_abort(r->st, uid, NULL);
	}
	/*
	 * The D records must be durable before a DELE, and before the next
	 * message where each is final (record_each).  Otherwise they go to
	 * the kernel now, which a killed run does not lose, and are made
	 * durable by the next batch's sync (or the snapshot at the end):
	 * on a real disk a batch costs one fdatasync of the journal, not
	 * two.  Lost with a power cut, they are found again by recovery,
	 * from the B records, only without the digests verify checks.
	 */
	if (dele || rv == -1 || deliver_record_each(r->d)) {
		if (state_sync(r->st, err) == -1)
			return -1;
	} else if (state_write(r->st, err) == -1)
		return -1;
	for (k = 0; k < pub; k++) {
		idx = pp->batch[k];
		r->res->fetched++;
		fetched(r, idx, &pp->recs[k]);
		progress(r, ++pp->done);
		if (dele && r->vf != NULL && r->fp->verified_delete) {
			struct state_rec rec;

			to_rec(&pp->recs[k], &rec);
			if (!verified(r, idx, pp->recs[k].has ? &rec : NULL))
				continue;
		}
		if (dele)
			dq_push(&pp->dq, idx);
	}
	pp->nbatch = 0;
	pp->ntext = 0;
	if (rv == -1) {
		*err = e;
		return -1;
	}
	return 0;
}

/* flush_batch in the pipeline: a failure stops new RETRs. */
static void
flush_or_stop(struct run *r, struct pipe *pp)
{
	struct error e;

	if (flush_batch(r, pp, pp->dele, &e) == -1 && !pp->stop) {
		pp->local = e;
		pp->stop = 1;
	}
}

/* The window is deep (PIPE_CMDS) so that the server never waits for
 * commands while popfetch creates files; PIPE_BYTES bounds what the
 * server may have to buffer.  4 MiB rather than 1: with messages of 2
 * to 20 KB the smaller bound let Dovecot run dry and cost it (and the
 * wall time) 5 to 12% more (make bench); beyond 4 MiB nothing changed. */
#define PIPE_BYTES	(4 * 1024 * 1024)
#define PIPE_CMDS	1024

/* Queues commands until the window is full; the server must never wait
 * for a command (sending in bursts of several measured slower). */
static int
refill(struct run *r, struct pipe *pp, struct error *err)
{
	struct inflight it;

	while (pp->tail - pp->head < pp->window) {
		if (pp->oi < pp->nold) {
			it.retr = 0;
			it.idx = pp->old[pp->oi++];
		} else if (pp->dq.n > 0) {
			it.retr = 0;
			it.idx = dq_pop(&pp->dq);
		} else if (!pp->stop && pp->nextf < pp->nfetch &&
		    (pp->tail == pp->head || pp->out +
		    plan_size(&r->pl, pp->fetch[pp->nextf]) <= PIPE_BYTES)) {
			it.retr = 1;
			it.idx = pp->fetch[pp->nextf++];
			pp->out += plan_size(&r->pl, it.idx);
		} else
			break;
		if (pop3_queue_num(r->p, it.retr ? "RETR" : "DELE",
		    plan_num(&r->pl, it.idx), err) == -1)
			return -1;
		pp->q[pp->tail++ % pp->window] = it;
	}
	return 0;
}

/* The reply to a DELE.  -1 with err only if the connection is lost. */
static int
recv_dele(struct run *r, size_t idx, struct error *err)
{
	struct error e;

	if (pop3_recv_status(r->p, ERR_REFUSED, &e) == 0) {
		r->res->deleted++;
		event(r, FETCH_DELETED, plan_num(&r->pl, idx), r->pl.uids[idx],
		    plan_size(&r->pl, idx), NULL);
	} else if (pop3_broken(r->p)) {
		*err = e;
		return -1;
	} else
		defer(r, &e);
	return 0;
}

/* Reads and drops the reply to a RETR sent before a local failure.  -1
 * if the connection is lost; no error is set, since the local failure
 * that stopped the RETRs is what the run reports. */
static int
recv_dropped(struct run *r)
{
	struct error e;

	if (pop3_recv_status(r->p, ERR_REFUSED, &e) == -1)
		return pop3_broken(r->p) ? -1 : 0;
	return pop3_recv_body(r->p, NULL, NULL, &e);
}

/* The reply to a RETR: delivered into the batch, deferred (-ERR), or a
 * local failure that stops new RETRs.  -1 with err if the connection is
 * lost. */
static int
recv_retr(struct run *r, struct pipe *pp, size_t idx, struct error *err)
{
	struct error e;

	if (receive_one(r, idx, &e) == 0) {
		keep_stored(r, pp);
		pp->batch[pp->nbatch++] = idx;
	}
	else if (pop3_broken(r->p)) {
		*err = e;
		return -1;
	} else if (r->oversize) {
		/* Rolled back, not recorded: reported like a LIST size over
		 * the limit, with the bytes that came before giving up. */
		r->res->skipped++;
		event(r, FETCH_SKIPPED, plan_num(&r->pl, idx), r->pl.uids[idx],
		    r->got, NULL);
	} else if (e.cls == ERR_REFUSED)	/* -ERR to RETR */
		defer(r, &e);
	else {
		pp->local = e;
		pp->stop = 1;
	}
	if (pp->nbatch == BATCH || (pp->nbatch > 0 && (pp->stop ||
	    deliver_record_each(r->d))))
		flush_or_stop(r, pp);
	return 0;
}

/*
 * Sends DELE for old[] and RETR for fetch[], keeping up to window
 * commands and PIPE_BYTES of announced message size in flight (RFC 2449
 * PIPELINING; a window of 1 is lock-step), and handles the replies in
 * order.  Messages are written without waiting for the disk and made
 * durable BATCH at a time (flush_batch); a message's DELE is queued only
 * after that.  After a local failure (a full disk) no new RETR is sent,
 * the replies in flight are read and dropped, and the DELEs of what was
 * delivered still go out, so that QUIT can commit them.  Commands are a
 * few bytes each, so the client's writes never fill the socket while
 * the server's replies wait to be read.
 */
static int
pipeline(struct run *r, struct error *err)
{
	struct pipe pipe, *pp = &pipe;
	struct inflight it;
	struct error e;
	int rv = 0;

	memset(pp, 0, sizeof(*pp));
	pp->old = r->pl.old;
	pp->nold = r->pl.nold;
	pp->fetch = r->pl.fetch;
	pp->nfetch = r->pl.nfetch;
	pp->window = pop3_capabilities(r->p)->flags & CAPA_PIPELINING ?
	    PIPE_CMDS : 1;
	pp->q = xcalloc(pp->window, sizeof(*pp->q));
	pp->recs = xcalloc(BATCH, sizeof(*pp->recs));
	/* Touched only as far as the longest batch's text reaches. */
	pp->text = xmalloc(BATCH * STORED_TEXT);
	pp->dele = r->fp->delete;
	for (;;) {
		if (refill(r, pp, err) == -1) {
			rv = -1;
			break;
		}
		/* Commands go out when the replies that arrived are used
		 * up, a burst at a time: the server still holds a window
		 * of them, and one write (one TLS record) carries many. */
		if (!net_buffered(pop3_net(r->p)) &&
		    pop3_flush(r->p, err) == -1) {
			rv = -1;
			break;
		}
		if (pp->head == pp->tail) {
			if (pp->nbatch == 0)
				break;
			flush_or_stop(r, pp);
			continue;
		}
		it = pp->q[pp->head++ % pp->window];
		if (!it.retr)
			rv = recv_dele(r, it.idx, err);
		else {
			pp->out -= plan_size(&r->pl, it.idx);
			rv = pp->stop ? recv_dropped(r) :
			    recv_retr(r, pp, it.idx, err);
		}
		if (rv == -1)
			break;
	}
	if (rv == -1)
		/* What arrived whole is still delivered, just not deleted. */
		(void)flush_batch(r, pp, 0, &e);
	free(pp->q);
	free(pp->recs);
	free(pp->text);
	free(pp->dq.v);
	if (pp->stop) {
		*err = pp->local;
		return -1;
	}
	return rv;
}

/* A header for the filter: at most FILTER_HDR_MAX bytes, and nothing
 * past its empty line, whatever a broken TOP sends. */
struct hdrbuf {
	size_t	len;
	int	end;		/* the empty line was seen */
	int	bol;
	char	buf[FILTER_HDR_MAX];
};

static int
hdr_sink(void *arg, const char *data, size_t len, struct error *err)
{
	struct hdrbuf *h = arg;
	size_t i;

	(void)err;
	for (i = 0; i < len && !h->end && h->len < sizeof(h->buf); i++) {
		h->buf[h->len++] = data[i];
		if (data[i] == '\n' && h->bol)
			h->end = 1;
		h->bol = data[i] == '\n';
	}
	return 0;
}

/*
 * Asks the filter about each message to be fetched, with its header
 * from TOP n 0: 0 keeps it in the plan, 1 deletes it without fetching
 * (with --delete; else it is left), 2 leaves it for a later run; any
 * other answer is an error for that message, which is left too.
 * Messages left are not recorded, so the filter sees them again next
 * time.  -1 with err only if the connection is lost.
 */
static int
apply_filter(struct run *r, struct error *err)
{
	struct hdrbuf *h = xmalloc(sizeof(*h));
	enum filter_verdict v;
	struct error e;
	size_t k, kept = 0, nold = r->pl.nold, idx;
	unsigned long num;

	r->old = xreallocarray(NULL, r->pl.nold + r->pl.nfetch + 1,
	    sizeof(uint32_t));
	if (r->pl.nold > 0)
		memcpy(r->old, r->pl.old, r->pl.nold * sizeof(uint32_t));
	for (k = 0; k < r->pl.nfetch; k++) {
		idx = r->pl.fetch[k];
		num = plan_num(&r->pl, idx);
		h->len = 0;
		h->end = 0;
		h->bol = 1;
		if (pop3_top(r->p, num, 0, hdr_sink, h, &e) == -1) {
			if (pop3_broken(r->p)) {
				*err = e;
				free(h);
				return -1;
			}
			defer(r, &e);
			continue;
		}
		if (filter_run(r->fp->filter, r->fp->filter_timeout, num,
		    plan_size(&r->pl, idx), r->pl.uids[idx], h->buf, h->len,
		    &v, &e) == -1) {
			error_prefix(&e, "message %lu", num);
			defer(r, &e);
			continue;
		}
		if (v == FILTER_FETCH)
			r->pl.fetch[kept++] = (uint32_t)idx;
		else if (v == FILTER_DELETE && r->fp->delete)
			r->old[nold++] = (uint32_t)idx;
	}
	free(h);
	if (kept < r->pl.nfetch)
		r->left = 1;
	r->pl.nfetch = kept;
	r->pl.old = r->old;
	r->pl.nold = nold;
	return 0;
}

/* Counts and reports what the plan decided without acting. */
static void
planned(void *arg, enum fetch_event_kind kind, const struct plan *pl,
    size_t i)
{
	struct run *r = arg;

	if (kind == FETCH_SKIPPED)
		r->res->skipped++;
	else if (kind == FETCH_WOULD_FETCH)
		r->res->would_fetch++;
	else
		r->res->would_delete++;
	event(r, kind, plan_num(pl, i), pl->uids[i], plan_size(pl, i), NULL);
}

/* The identity of the account, user@host:port (the caller frees it). */
static char *
account_id(const struct session_params *sp)
{
	const char *port = session_port(sp);
	const char *user = sp->auth.user != NULL ? sp->auth.user : "";
	size_t len;
	char *id;

	len = strlen(user) + strlen(sp->host) + strlen(port) + 3;
	id = xmalloc(len);
	(void)snprintf(id, len, "%s@%s:%s", user, sp->host, port);
	return id;
}

char *
fetch_account(const struct session_params *sp)
{
	char *id = account_id(sp), *e;

	e = state_escape(id, strlen(id));
	free(id);
	return e;
}

struct state *
fetch_state_open(const struct session_params *sp,
    const struct fetch_params *fp, int readonly, char *used, size_t usedsz,
    struct error *err)
{
	const char *path = fp->state_path, *port = session_port(sp);
	char buf[PATH_MAX], *id;
	struct state *st;

	if (path == NULL) {
		if (state_default_path(buf, sizeof(buf), sp->auth.user,
		    sp->host, port, err) == -1)
			return NULL;
		path = buf;
	}
	if (used != NULL)
		(void)strlcpy(used, path, usedsz);
	id = account_id(sp);
	st = state_open(path, id, readonly, err);
	free(id);
	return st;
}

/* What fetch_check_lost found. */
struct lost {
	unsigned long	*have;		/* state_uid_hashes, once needed */
	size_t		 nhave;
	int		 built;
	const struct state *st;
	size_t		 n;		/* files no record accounts for */
	char		 names[200];	/* the first of them */
};

static int
lost_one(void *arg, const char *sub, const char *file, const char *name,
    unsigned long uid, struct error *err)
{
	struct lost *l = arg;
	size_t len;

	(void)sub;
	(void)file;
	(void)err;
	/* Built only when a file may be unaccounted for: a run that finds
	 * new/ unchanged never hashes the 100,000 UIDs. */
	if (!l->built) {
		l->nhave = state_uid_hashes(l->st, deliver_hash, &l->have);
		l->built = 1;
	}
	if (bsearch(&uid, l->have, l->nhave, sizeof(*l->have),
	    fetch_cmp_hash) != NULL)
		return 0;
	len = strlen(l->names);
	if (l->n++ < 3 && len + strlen(name) + 3 < sizeof(l->names))
		(void)snprintf(l->names + len, sizeof(l->names) - len, "%s%s",
		    len > 0 ? ", " : "", name);
	return 0;
}

int
fetch_cmp_hash(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/*
 * Whether a directory modified at mtime_ns may change again within the
 * same timestamp: on a filesystem whose times have a granularity of a
 * second or two, a file published in the same second as the reading
 * leaves new/'s time as it was.  Such a reading is not noted (git does
 * the same with its index).
 */
static int
racy(long long mtime_ns)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec -
	    mtime_ns < 3LL * 1000000000LL;
}

/*
 * The note beside the state (state_set_note) is clauses with "; "
 * between them, each a keyword and its words, in this order:
 * "lost-check ..." (what new/ looked like: fetch_check_lost), and
 * "listing appends TIME" (the last whole listing showed new mail added
 * at the end, so the quick listing may serve until a day later),
 * "listing pending" (a run left a message it meant to fetch: the next
 * lists whole, note_left) or "listing unordered" (a whole listing
 * showed otherwise: whole listings for good).  A note only saves work:
 * lost or garbled, a run lists everything and reads new/.
 */
static const char *const note_keys[] = { "lost-check", "listing" };

/* Copies the clause of key (the keyword and its words) into buf of
 * STATE_NOTE_MAX; 0 if note has none. */
static int
note_get(const char *note, const char *key, char *buf)
{
	const char *p = note, *end;
	size_t n, klen = strlen(key);

	for (; *p != '\0'; p = end + 2) {
		end = strstr(p, "; ");
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n >= klen && strncmp(p, key, klen) == 0 &&
		    (n == klen || p[klen] == ' ') && n < STATE_NOTE_MAX) {
			memcpy(buf, p, n);
			buf[n] = '\0';
			return 1;
		}
		if (end == NULL)
			break;
	}
	return 0;
}

/* Makes text (NULL: none) the clause of key, keeping the others; one
 * that would make the note too long is left out (work, not safety). */
static void
note_put(struct state *st, const char *key, const char *text)
{
	char out[STATE_NOTE_MAX], c[STATE_NOTE_MAX];
	const char *t;
	size_t i, len = 0, n;

	out[0] = '\0';
	for (i = 0; i < sizeof(note_keys) / sizeof(note_keys[0]); i++) {
		if (strcmp(note_keys[i], key) == 0)
			t = text;
		else
			t = note_get(state_note(st), note_keys[i], c) ? c :
			    NULL;
		if (t == NULL || (n = strlen(t)) + 2 + len >= sizeof(out))
			continue;
		if (len > 0) {
			memcpy(out + len, "; ", 2);
			len += 2;
		}
		memcpy(out + len, t, n + 1);
		len += n;
	}
	state_set_note(st, out);
}

/* The note "lost-check SAVED JSIZE DEV INO MTIME_NS": 1 with *last
 * filled if it is one, SAVED is saved and JSIZE jsize. */
static int
parse_note(const char *note, long long saved, long long jsize,
    struct deliver_seen *last)
{
	unsigned long long v[5];
	char c[STATE_NOTE_MAX];
	const char *p = c, *sp;
	size_t len;
	int i;

	if (!note_get(note, "lost-check", c) ||
	    strncmp(p, "lost-check ", 11) != 0)
		return 0;
	p += 11;
	for (i = 0; i < 5; i++) {
		sp = strchr(p, ' ');
		len = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if ((sp == NULL) != (i == 4) ||
		    parse_u64(p, len, LLONG_MAX, &v[i]) == -1)
			return 0;
		p += len + 1;
	}
	if ((long long)v[0] != saved || (long long)v[1] != jsize)
		return 0;
	last->dev = v[2];
	last->ino = v[3];
	last->mtime_ns = (long long)v[4];
	return 1;
}

/*
 * Records lost: a file popfetch stored in the maildir for this account
 * after the snapshot was written (its name says so: deliver_tag, and
 * its time) whose UID neither the snapshot nor the journal has.  A
 * crash never makes one: the journal's B record is durable before the
 * file is published (a failed journal write stops every later sync),
 * and recovery turns it into a D.  So the journal
 * was cut at a record boundary or deleted, or the state was replaced by
 * an older copy, and the files' messages would be fetched again.
 * Files the user moved to cur/ or removed, and those of other programs,
 * other accounts and other hosts, are not looked at.
 */
int
fetch_check_lost(struct state *st, const struct session_params *sp,
    const struct fetch_params *fp, const char *path, struct error *err)
{
	struct lost l;
	struct deliver_seen last, seen;
	char *acct, note[STATE_NOTE_MAX];
	long long saved = state_saved(st);
	int r, haslast;

	/* The state command without a target: nothing to look at. */
	if (fp->dp.kind != DELIVER_MAILDIR || fp->dp.target == NULL)
		return 0;
	memset(&l, 0, sizeof(l));
	l.st = st;
	/* The note says what new/ looked like when a run last read it and
	 * found nothing lost against this very snapshot and journal:
	 * unchanged since, it holds nothing new (a run that publishes
	 * changes it; an older state has another save time; the journal
	 * only grows until a snapshot takes it in, so one cut short or
	 * deleted since has another length). */
	haslast = parse_note(state_note(st), saved, state_journal_size(st),
	    &last);
	/* Nor when new/'s time it records is within seconds of now: on a
	 * filesystem with coarse timestamps this run could publish a file
	 * without changing that time.  Such a note is replaced or cleared
	 * below, before anything is published, so a run that starts
	 * seconds after the last one reads new/, and one that starts later
	 * may trust the note the last one left (note_after). */
	if (haslast && racy(last.mtime_ns))
		haslast = 0;
	acct = fetch_account(sp);
	r = deliver_ours(&fp->dp, deliver_hash(acct), saved, 0,
	    haslast ? &last : NULL, &seen, lost_one, &l, err);
	free(acct);
	free(l.have);
	/* Not within seconds of new/'s last change (racy): this run may
	 * still publish within that timestamp. */
	if (r == 0 && l.n == 0 && seen.ino != 0 && !racy(seen.mtime_ns)) {
		(void)snprintf(note, sizeof(note), "lost-check %lld %lld %llu "
		    "%llu %lld", saved, state_journal_size(st), seen.dev,
		    seen.ino, seen.mtime_ns);
		note_put(st, "lost-check", note);
	} else if (!haslast)
		note_put(st, "lost-check", NULL);
	if (r == -1 || l.n == 0)
		return r;
	/* The files last: a long path cuts them, not what happened. */
	error_set(err, ERR_CONFIG, "%s: records lost: %zu message%s popfetch "
	    "stored in %s/new %s in neither this state nor its journal, "
	    "which was cut short or deleted, or the state replaced by an "
	    "older copy; nothing was fetched (%s%s)", path, l.n,
	    l.n == 1 ? "" : "s", fp->dp.target, l.n == 1 ? "is" : "are",
	    l.names, l.n > 3 ? ", ..." : "");
	return error_hint(err, HINT_STATE_LOST);
}

/*
 * After a run that recorded all it stored: new/ as it is now holds
 * nothing that the snapshot and the journal do not account for (what
 * was there at the start was checked, and the run's own files have
 * their records in the journal, durable by now), so the next run need
 * not read it, though the snapshot kept its old save time.  The note is
 * written even just after the run's own renames: the next run trusts it
 * only if it starts seconds after new/'s time (fetch_check_lost), when
 * a file it publishes changes that time even on a coarse filesystem.
 */
static void
note_after(struct run *r)
{
	struct deliver_seen seen;
	char note[STATE_NOTE_MAX];

	if (r->fp->dp.kind != DELIVER_MAILDIR || r->fp->dp.target == NULL ||
	    r->d == NULL)
		return;
	deliver_look(&r->fp->dp, &seen);
	if (seen.ino == 0)
		return;
	(void)snprintf(note, sizeof(note), "lost-check %lld %lld %llu %llu "
	    "%lld", state_saved(r->st), state_journal_size(r->st), seen.dev,
	    seen.ino, seen.mtime_ns);
	note_put(r->st, "lost-check", note);
}

/*
 * Whether the quick listing (plan_list_quick) may serve this session:
 * the first of the run, keeping mail on the server and trusting the
 * state (nothing to delete, fetch again or check among the known
 * messages, which only a whole listing finds), a state of at least
 * PLAN_QUICK_MIN messages, and a note that a whole listing showed the
 * server adding new mail at the end, at most a day ago (and half of
 * --forget-after): so a UID is still forgotten only once whole
 * listings have missed it for that long, and a server that does add
 * mail elsewhere keeps a message waiting a day at most.
 */
static int
quick_ok(const struct run *r, int first)
{
	const struct fetch_params *fp = r->fp;
	unsigned long long t;
	time_t now = time(NULL), most;
	char c[STATE_NOTE_MAX];

	if (!first || fp->full_listing || fp->all || fp->delete ||
	    fp->keep_days > 0 || fp->refetch_missing || fp->forget_days == 0 ||
	    fp->dry_run || state_count(r->st) < PLAN_QUICK_MIN)
		return 0;
	if (!note_get(state_note(r->st), "listing", c) ||
	    strncmp(c, "listing appends ", 16) != 0 ||
	    parse_u64(c + 16, strlen(c + 16), LLONG_MAX, &t) == -1)
		return 0;
	most = (time_t)fp->forget_days * 86400 / 2;
	if (most > 86400)
		most = 86400;
	return (time_t)t <= now && now - (time_t)t < most;
}

/* Whether the note's listing clause is text. */
static int
listing_is(struct state *st, const char *text)
{
	char c[STATE_NOTE_MAX];

	return note_get(state_note(st), "listing", c) && strcmp(c, text) == 0;
}

/* A quick listing that failed (a server that answers STAT, "UIDL n"
 * or "LIST n" wrongly, or a dropped connection): the next run lists
 * whole, rather than fail the same way until the note is a day old. */
static void
quick_failed(struct run *r)
{
	if (!listing_is(r->st, "listing unordered"))
		note_put(r->st, "listing", NULL);
}

/* The listing: the quick one when it may serve, else the whole. */
static int
list(struct run *r, int first, struct error *err)
{
	int q;

	if (quick_ok(r, first)) {
		if ((q = plan_list_quick(&r->pl, r->p, r->st, err)) <= 0) {
			if (q == -1)
				quick_failed(r);
			return q;
		}
	}
	return plan_list(&r->pl, r->p, r->st, err);
}

/*
 * What a whole listing showed of the server's order, for the next run's
 * quick_ok; "unordered" is for good.  After a run that left a message
 * it meant to fetch ("pending": a filter's "later", a refused RETR),
 * that message is still new before others fetched since, which says
 * nothing of the server.
 */
static void
note_order(struct run *r)
{
	char c[STATE_NOTE_MAX];

	if (listing_is(r->st, "listing unordered") || r->pl.appends == -1 ||
	    (r->pl.appends == 0 && listing_is(r->st, "listing pending")))
		return;
	if (r->pl.appends == 0) {
		note_put(r->st, "listing", "listing unordered");
		return;
	}
	(void)snprintf(c, sizeof(c), "listing appends %lld",
	    (long long)time(NULL));
	note_put(r->st, "listing", c);
}

/* After the pipeline: a message planned that is not recorded now was
 * left for a later run, and may stand before one fetched after it, out
 * of the quick listing's sight: the next run lists whole. */
static void
note_left(struct run *r, size_t before)
{
	size_t i;

	if (r->fp->dry_run || !r->pl.have_uidl ||
	    listing_is(r->st, "listing unordered"))
		return;
	if (r->left) {
		note_put(r->st, "listing", "listing pending");
		return;
	}
	if (r->res->fetched - before >= r->pl.nfetch)
		return;
	for (i = 0; i < r->pl.nfetch; i++)
		if (state_lookup(r->st, r->pl.uids[r->pl.fetch[i]]) == 0) {
			note_put(r->st, "listing", "listing pending");
			return;
		}
}

/* The state (locked, unfinished deliveries resolved) and the delivery
 * target, before any connection is made. */
static int
open_local(struct run *r, const struct session_params *sp,
    struct error *err)
{
	const struct fetch_params *fp = r->fp;

	if ((r->st = fetch_state_open(sp, fp, fp->dry_run, r->res->state_path,
	    sizeof(r->res->state_path), err)) == NULL)
		return -1;
	logindelay_open(&r->delay, r->res->state_path);
	/* Before recovery too: a pending record accounts for its file. */
	if (fetch_check_lost(r->st, sp, fp, r->res->state_path, err) == -1) {
		/* A snapshot written now would hide the lost records. */
		r->nosave = 1;
		return -1;
	}
	if (fp->dry_run)
		return 0;
	if (recover(r, err) == -1) {
		/* Its records stay pending: state_save keeps the journal. */
		r->unresolved = 1;
		return -1;
	}
	r->acct = fetch_account(sp);
	if ((r->d = deliver_open(&fp->dp, err)) == NULL)
		return -1;
	if (!fp->refetch_missing && !(fp->verified_delete && (fp->delete ||
	    fp->keep_days > 0)))
		return 0;
	if (fp->dp.kind != DELIVER_MAILDIR && fp->dp.kind != DELIVER_MBOX)
		return error_set(err, ERR_USAGE, "only what is delivered into "
		    "a maildir or an mbox can be verified, refetched or "
		    "deleted once verified");
	if ((r->vf = verify_open(fp->dp.kind, fp->dp.target, err)) == NULL)
		return -1;
	return 0;
}

/* Ends the session.  DELEs went out only for durable messages, so the
 * session commits them even after a local failure (session_end drops a
 * connection that can no longer be trusted, which commits nothing).
 * Returns rv, or -1 with err if the ending failed. */
static int
end_session(struct session *s, int rv, struct error *err)
{
	struct error e;

	if (s != NULL && session_end(s, 1, &e) == -1 && rv == 0) {
		*err = e;
		rv = -1;
	}
	return rv;
}

/* "14:05:00 UTC" (or local time), for a message. */
static const char *
clock_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%H:%M:%S %Z", &tm) == 0)
		(void)snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

/* Refuses to log in while a LOGIN-DELAY refusal says a login fails:
 * ERR_BUSY without connecting. */
static int
delay_check(struct run *r, struct error *err)
{
	char when[64];
	time_t now = time(NULL), until;

	if (!logindelay_check(&r->delay, now, &until))
		return 0;
	return error_set(err, ERR_BUSY, "the server refused a login with "
	    "[LOGIN-DELAY]; the next login may succeed at %s (in %lld s), "
	    "so popfetch does not connect before then",
	    clock_time(until, when, sizeof(when)), (long long)(until - now));
}

/* A login refused with [LOGIN-DELAY]: says when the next may succeed,
 * and remembers it so that runs before then do not connect. */
static void
delay_refused(struct run *r, const struct session_info *in,
    struct error *err)
{
	char when[64], msg[sizeof(err->msg)];
	struct error e;
	time_t now = time(NULL), until;

	if (r->fp->dry_run)
		return;
	if (logindelay_refused(&r->delay, now, in->login_delay_known,
	    in->login_delay, &until, &e) == -1)
		event(r, FETCH_WARNING, 0, NULL, 0, e.msg);
	/* A cut message still says the most important part first. */
	if (snprintf(msg, sizeof(msg), "%s; the next login may succeed at "
	    "%s (in %lld s); until then popfetch skips this account without "
	    "connecting", err->msg, clock_time(until, when, sizeof(when)),
	    (long long)(until - now)) < 0)
		return;
	(void)strlcpy(err->msg, msg, sizeof(err->msg));
}

/* What CAPA's EXPIRE means for what is kept on the server. */
static void
expire_warn(struct run *r, const struct session_info *in)
{
	char msg[256];

	if (!in->expire_known || r->fp->delete)
		return;
	if (in->expire == 0)
		event(r, FETCH_WARNING, 0, NULL, 0, "the server may remove "
		    "every message once it is retrieved (EXPIRE 0): nothing "
		    "can be kept on it");
	else if (r->fp->keep_days > in->expire) {
		(void)snprintf(msg, sizeof(msg), "the server may remove "
		    "messages %llu days after they are retrieved (EXPIRE %llu),"
		    " before %lu days are up", in->expire, in->expire,
		    r->fp->keep_days);
		event(r, FETCH_WARNING, 0, NULL, 0, msg);
	}
}

/* One session: log in, list, plan, fetch, delete, end.  first: the
 * first session of the run (the only one that honours a recorded
 * LOGIN-DELAY refusal, warns about EXPIRE and forgets what the server
 * no longer lists: later sessions of --until-empty may see only a part
 * of the mailbox). */
static int
one_session(struct run *r, const struct session_params *sp, int first,
    struct error *err)
{
	struct session_params p = *sp;
	struct session_info in;
	struct session *s = NULL;
	struct error e;
	size_t before;
	int rv = -1;

	p.info = &in;
	r->left = 0;
	if (first && delay_check(r, err) == -1)
		return -1;
	if ((s = session_open(&p, 1, err)) == NULL) {
		if (in.delayed)
			delay_refused(r, &in, err);
		return -1;
	}
	if (!r->fp->dry_run && logindelay_loggedin(&r->delay, time(NULL),
	    in.login_delay_known, &e) == -1)
		event(r, FETCH_WARNING, 0, NULL, 0, e.msg);
	if (first)
		expire_warn(r, &in);
	r->p = session_pop3(s);
	if (list(r, first, err) == -1)
		goto out;
	if (r->vf != NULL && r->fp->refetch_missing) {
		r->pl.again = fetch_again;
		r->pl.again_arg = r;
	}
	if (plan_check(&r->pl, r->fp, err) == -1)
		goto out;
	if (plan_needs_sizes(&r->pl, r->st, r->fp) &&
	    plan_sizes(&r->pl, r->p, r->st, r->fp, err) == -1) {
		if (r->pl.quick)
			quick_failed(r);
		goto out;
	}
	plan_make(&r->pl, r->st, r->fp, planned, r);
	if (first && !r->pl.quick && r->pl.have_uidl && !r->fp->dry_run)
		note_order(r);
	if (r->vf != NULL && r->fp->verified_delete)
		verify_old(r);
	/* The summary tells of the first listing: later sessions of
	 * --until-empty may see only a part of the mailbox. */
	if (first) {
		r->res->total = r->pl.quick ? r->pl.total : r->pl.nl;
		r->res->quick = r->pl.quick;
		r->res->known = r->pl.nknown;
		r->res->listed = 1;
	}
	if (!r->fp->dry_run && r->fp->filter != NULL &&
	    apply_filter(r, err) == -1)
		goto out;
	/* Room at once for what the run is to record: a message is
	 * recorded by its UID, so only with UIDL. */
	if (!r->fp->dry_run && r->pl.have_uidl)
		state_reserve(r->st, r->pl.nfetch);
	before = r->res->fetched;
	if (!r->fp->dry_run && pipeline(r, err) == -1) {
		note_left(r, before);
		goto out;
	}
	note_left(r, before);
	/* Messages the server no longer lists need no memory (a quick
	 * listing lists only the new). */
	if (first && r->pl.have_uidl && !r->fp->dry_run && !r->pl.quick)
		state_forget_absent(r->st, r->pl.uids, r->pl.nl, time(NULL),
		    (time_t)r->fp->forget_days * 86400);
	rv = 0;
out:
	rv = end_session(s, rv, err);
	r->p = NULL;
	plan_free(&r->pl);
	memset(&r->pl, 0, sizeof(r->pl));
	free(r->again_uid);
	free(r->again_res);
	r->again_uid = NULL;
	r->again_res = NULL;
	r->again_cap = r->again_n = 0;
	free(r->old);
	r->old = NULL;
	return rv;
}

int
fetch_run(const struct session_params *sp, const struct fetch_params *fp,
    fetch_reporter *report, void *arg, struct fetch_result *res,
    struct error *err)
{
	struct run r;
	struct error e;
	unsigned long n;
	size_t before;
	char msg[128];
	int rv = -1;

	memset(&r, 0, sizeof(r));
	memset(res, 0, sizeof(*res));
	r.delay.dirfd = -1;
	r.fp = fp;
	r.report = report;
	r.arg = arg;
	r.res = res;

	if (open_local(&r, sp, err) == -1)
		goto out;
	/*
	 * --until-empty: Gmail hands out some 250 messages a session, so
	 * log in again while the last session brought new mail and nothing
	 * went wrong, up to max_sessions.
	 */
	for (n = 1;; n++) {
		before = res->fetched;
		if (one_session(&r, sp, n == 1, err) == -1)
			goto out;
		if (!fp->until_empty || fp->dry_run ||
		    res->fetched == before || r.first.cls != ERR_NONE)
			break;
		if (n >= fp->max_sessions) {
			(void)snprintf(msg, sizeof(msg), "stopped after %lu "
			    "sessions; there may be more mail", n);
			event(&r, FETCH_WARNING, 0, NULL, 0, msg);
			break;
		}
	}
	rv = 0;
out:
	/* Records left pending must reach the next recovery: the journal
	 * stays as it is, with them, instead of a snapshot. */
	if (r.unsure && r.st != NULL) {
		e.cls = ERR_NONE;
		(void)state_sync(r.st, &e);
	} else if (r.st != NULL && !fp->dry_run && !r.nosave &&
	    state_save(r.st, &e) == -1 && rv == 0) {
		*err = e;
		rv = -1;
	} else if (rv == 0 && r.st != NULL && !fp->dry_run && !r.nosave &&
	    !r.unresolved && r.first.cls == ERR_NONE)
		note_after(&r);
	if (rv == 0 && r.first.cls != ERR_NONE) {
		*err = r.first;
		rv = -1;
	}
	deliver_close(r.d);
	free(r.acct);
	verify_close(r.vf);
	logindelay_close(&r.delay);
	state_close(r.st);
	return rv;
}
