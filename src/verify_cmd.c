/*
 * verify_cmd.c - the verify command: the server's listing, the state
 * and the store (a maildir or an mbox) compared, message by message.
 *
 * Part of the front end: the results go to stdout, errors back to
 * main.c.  Nothing is written anywhere: the state is opened read-only
 * and without its lock, the store only read (verify.h), and the server
 * is asked for one UIDL listing and nothing else; with --offline it is
 * not asked at all.  The exit status is 0 when every message the state
 * calls delivered is intact, ERR_DATAERR (65) otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "fetch.h"
#include "report.h"
#include "session.h"
#include "state.h"
#include "verify.h"

/* What verify says of one UID. */
enum verdict {
	V_INTACT,		/* delivered, there as stored */
	V_LOCAL,		/* intact, but the server no longer has it */
	V_MISSING,
	V_CHANGED,
	V_UNDELIVERED,		/* on the server, not delivered yet */
	V_UNRECORDED,		/* delivered before popfetch kept digests */
	V_COUNT
};

static const char *const verdict_names[V_COUNT] = {
	"intact", "local-only", "missing", "changed", "undelivered",
	"unrecorded"
};

struct item {
	char			*uid;		/* raw */
	size_t			 ulen;
	size_t			 order;		/* the server's, or past it */
	struct state_rec	 rec;		/* if delivered */
	int			 delivered;
	int			 on_server;
	enum verdict		 v;
};

struct items {
	struct item	*v;
	size_t		 n, cap;
};

static struct item *
add(struct items *it)
{
	if (it->n == it->cap) {
		it->cap = it->cap ? 2 * it->cap : 256;
		it->v = xreallocarray(it->v, it->cap, sizeof(*it->v));
	}
	memset(&it->v[it->n], 0, sizeof(it->v[0]));
	return &it->v[it->n++];
}

static int
by_order(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	if (x->rec.when != y->rec.when)
		return x->rec.when < y->rec.when ? -1 : 1;
	return strcmp(x->uid, y->uid);
}

/* The server's UIDs, by hashing: index + 1 into m. */
struct listing {
	struct pop3_msg	*m;
	size_t		 n, cap;
	uint32_t	*tab;
};

static size_t
listed(const struct listing *l, const char *uid)
{
	size_t h;

	if (l->cap == 0)
		return 0;
	for (h = str_hash(uid) & (l->cap - 1); l->tab[h] != 0;
	    h = (h + 1) & (l->cap - 1))
		if (strcmp(l->m[l->tab[h] - 1].uid, uid) == 0)
			return l->tab[h];
	return 0;
}

/* One UIDL listing, and the session ended: nothing is deleted. */
static int
list_server(struct cli_settings *s, struct listing *l, struct error *err)
{
	struct session *sess;
	struct error e;
	size_t i, h;

	s->errhost = s->sp.host;
	if ((sess = session_open(&s->sp, 1, err)) == NULL)
		return -1;
	if (pop3_uidl(session_pop3(sess), 0, &l->m, &l->n, err) == -1) {
		(void)session_end(sess, 0, &e);
		return -1;
	}
	if (session_end(sess, 1, err) == -1)
		return -1;
	for (l->cap = 64; l->cap < 2 * l->n; l->cap *= 2)
		;
	l->tab = xcalloc(l->cap, sizeof(*l->tab));
	for (i = 0; i < l->n; i++) {
		for (h = str_hash(l->m[i].uid) & (l->cap - 1); l->tab[h] != 0;
		    h = (h + 1) & (l->cap - 1))
			;
		l->tab[h] = (uint32_t)(i + 1);
	}
	return 0;
}

static const char *
utc(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(buf, len, "%lld", (long long)t);
	return buf;
}

/* An escaped field of the state, shown safely. */
static const char *
shown(const char *esc, char *buf, size_t len)
{
	char *raw;
	size_t n;

	if (esc == NULL || state_unescape(esc, &raw, &n) == -1)
		return "-";
	vis_text(buf, len, raw, n);
	free(raw);
	return buf;
}

static void
print_json(const struct item *x, int offline)
{
	char d[32], b[1024];
	json_t *j = json_object();

	report_json_text(j, "uid", x->uid, x->ulen);
	json_object_set_new(j, "status", json_string(verdict_names[x->v]));
	if (!offline)
		json_object_set_new(j, "on_server",
		    json_boolean(x->on_server));
	json_object_set_new(j, "delivered", x->delivered ?
	    json_string(utc(x->rec.when, d, sizeof(d))) : json_null());
	if (x->delivered && x->rec.sha != NULL) {
		json_object_set_new(j, "size", json_integer(
		    (json_int_t)x->rec.size));
		json_object_set_new(j, "sha256", json_string(x->rec.sha));
		json_object_set_new(j, "where", json_string(shown(x->rec.where,
		    b, sizeof(b))));
		if (strcmp(x->rec.msgid, "-") != 0)
			json_object_set_new(j, "message_id", json_string(
			    shown(x->rec.msgid, b, sizeof(b))));
	}
	(void)report_json_print(stdout, j, NULL);
}

static void
print_problem(const struct item *x, int offline)
{
	char vis[4 * 256 + 8], d[32], w[1024];

	printf("%s: UID %s, delivered %s", verdict_names[x->v],
	    vis_text(vis, sizeof(vis), x->uid, x->ulen),
	    utc(x->rec.when, d, sizeof(d)));
	if (x->rec.sha != NULL)
		printf(", %s %s", x->rec.where != NULL &&
		    strspn(x->rec.where, "0123456789") ==
		    strlen(x->rec.where) ? "at offset" : "file",
		    shown(x->rec.where, w, sizeof(w)));
	printf("%s\n", x->on_server || offline ? "" :
	    " (no longer on the server)");
}

int
verify_cmd_run(struct cli_settings *s, struct error *err)
{
	struct listing l = { NULL, 0, 0, NULL };
	struct items it = { NULL, 0, 0 };
	size_t count[V_COUNT] = { 0 }, pos = 0, i, k;
	enum verify_status vs;
	struct verify *vf = NULL;
	struct state *st = NULL;
	struct item *x;
	const char *uid;
	struct state_rec rec;
	char *raw;
	size_t len;
	int offline = s->offline, r = -1;

	if (s->sp.host == NULL)
		return error_set(err, ERR_USAGE, "verify needs the account: "
		    "a server and a user, as for fetch");
	if (s->target_layer == 0 || (s->fp.dp.kind != DELIVER_MAILDIR &&
	    s->fp.dp.kind != DELIVER_MBOX))
		return error_set(err, ERR_USAGE, "verify needs the store to "
		    "check: --%s DIR or --%s FILE", cli_name(O_MAILDIR),
		    cli_name(O_MBOX));
	if ((st = fetch_state_open(&s->sp, &s->fp, 1, NULL, 0, err)) ==
	    NULL)
		return -1;
	if ((vf = verify_open(s->fp.dp.kind, s->fp.dp.target, err)) == NULL)
		goto out;
	if (!offline && list_server(s, &l, err) == -1)
		goto out;
	while ((uid = state_entry_rec(st, &pos, &rec)) != NULL) {
		if (state_unescape(uid, &raw, &len) == -1)
			continue;
		x = add(&it);
		x->uid = raw;
		x->ulen = len;
		x->rec = rec;
		x->delivered = 1;
		k = offline ? 0 : listed(&l, raw);
		x->on_server = k != 0;
		x->order = k != 0 ? k - 1 : l.n;
		if (verify_check(vf, &rec, &vs, err) == -1)
			goto out;
		x->v = vs == VERIFY_INTACT ? (x->on_server || offline ?
		    V_INTACT : V_LOCAL) : vs == VERIFY_MISSING ? V_MISSING :
		    vs == VERIFY_CHANGED ? V_CHANGED : V_UNRECORDED;
	}
	for (i = 0; i < l.n; i++) {
		if (state_lookup(st, l.m[i].uid) != 0)
			continue;
		x = add(&it);
		x->uid = xstrdup(l.m[i].uid);
		x->ulen = strlen(x->uid);
		x->order = i;
		x->on_server = 1;
		x->v = V_UNDELIVERED;
	}
	if (it.n > 1)
		qsort(it.v, it.n, sizeof(*it.v), by_order);
	for (i = 0; i < it.n; i++) {
		count[it.v[i].v]++;
		if (s->co.json)
			print_json(&it.v[i], offline);
	}
	if (!s->co.json && !s->co.quiet) {
		if (offline)
			printf("verify (offline): %zu delivered: %zu intact, "
			    "%zu missing, %zu changed, %zu unrecorded\n",
			    it.n, count[V_INTACT], count[V_MISSING],
			    count[V_CHANGED], count[V_UNRECORDED]);
		else
			printf("verify: %zu on the server: %zu intact, %zu "
			    "missing, %zu changed, %zu not yet delivered, %zu "
			    "unrecorded; %zu kept only locally\n", l.n,
			    count[V_INTACT], count[V_MISSING],
			    count[V_CHANGED], count[V_UNDELIVERED],
			    count[V_UNRECORDED], count[V_LOCAL]);
	}
	if (!s->co.json)
		for (i = 0; i < it.n; i++)
			if (it.v[i].v == V_MISSING || it.v[i].v == V_CHANGED)
				print_problem(&it.v[i], offline);
	r = command_flush(err);
	if (r == 0 && count[V_MISSING] + count[V_CHANGED] > 0)
		r = error_set(err, ERR_DATAERR, "%zu delivered message%s "
		    "missing or changed in %s; popfetch fetch --%s fetches "
		    "%s again if the server still has %s",
		    count[V_MISSING] + count[V_CHANGED],
		    count[V_MISSING] + count[V_CHANGED] == 1 ? " is" : "s are",
		    s->fp.dp.target, cli_name(O_REFETCH_MISSING),
		    count[V_MISSING] + count[V_CHANGED] == 1 ? "it" : "them",
		    count[V_MISSING] + count[V_CHANGED] == 1 ? "it" : "them");
out:
	for (i = 0; i < it.n; i++)
		free(it.v[i].uid);
	free(it.v);
	if (l.m != NULL)
		pop3_msgs_free(l.m, l.n, 1);
	free(l.tab);
	verify_close(vf);
	state_close(st);
	return r;
}
