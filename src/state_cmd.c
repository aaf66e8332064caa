/*
 * state_cmd.c - the state command: show, check, mark-seen and import,
 * over the state of the account the settings name (the same options as
 * fetch: --state, or the default file of user@host:port).
 *
 * Part of the front end: results go to stdout, errors back to main.c.
 * show and check only read (no lock, nothing written); mark-seen logs
 * in and asks for UIDL only; import reads another program's UID file
 * and talks to no server; adopt records the messages of maildir files
 * popfetch stored that the state lost (fetch_check_lost), by matching
 * the UID hash in their names against the server's UIDL.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "digest.h"
#include "fetch.h"
#include "import.h"
#include "report.h"
#include "session.h"
#include "state.h"

static const char *const subcommands[] = {
	"show", "check", "mark-seen", "import", "adopt", NULL
};

int
state_cmd_check(char **argv, int argc, struct error *err)
{
	size_t i;

	for (i = 0; argc > 0 && subcommands[i] != NULL; i++)
		if (strcmp(argv[0], subcommands[i]) == 0)
			break;
	if (argc == 0 || subcommands[i] == NULL)
		return error_set(err, ERR_USAGE, "usage: state show|check|"
		    "mark-seen|adopt|import --from PROGRAM FILE");
	if ((strcmp(argv[0], "import") == 0) != (argc == 2))
		return error_set(err, ERR_USAGE, strcmp(argv[0], "import") ==
		    0 ? "usage: state import --from mpop|fetchmail|getmail "
		    "FILE" : "usage: state %s", argv[0]);
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

static size_t
npending(struct state *st)
{
	const char *token;
	size_t n = 0;

	while (state_pending(st, n, &token) != NULL)
		n++;
	return n;
}

/* show: every UID recorded, when it was first delivered and last
 * listed, one a line. */
static int
show(struct state *st, const struct cmd_opts *o, struct error *err)
{
	char vis[4 * 512 + 8], d1[32], d2[32], *raw;
	json_t *a = NULL, *rec;
	const char *uid;
	size_t pos = 0, len;
	time_t first, seen;

	if (o->json)
		a = json_array();
	while ((uid = state_entry(st, &pos, &first, &seen)) != NULL) {
		if (state_unescape(uid, &raw, &len) == -1)
			continue;
		if (o->json) {
			rec = json_object();
			report_json_text(rec, "uid", raw, len);
			json_object_set_new(rec, "delivered",
			    json_string(utc(first, d1, sizeof(d1))));
			json_object_set_new(rec, "last_listed",
			    json_string(utc(seen, d2, sizeof(d2))));
			json_array_append_new(a, rec);
		} else
			/* The UID last: escaped, it may still hold spaces. */
			printf("%s %s %s\n", utc(first, d1, sizeof(d1)),
			    utc(seen, d2, sizeof(d2)), vis_text(vis,
			    sizeof(vis), raw, len));
		free(raw);
	}
	if (o->json)
		return report_json_print(stdout, json_pack("{s:o,s:I}",
		    "uids", a, "pending", (json_int_t)npending(st)), err);
	return 0;
}

/* check: the files passed every check state_open makes. */
static int
check(struct state *st, const char *path, const struct cmd_opts *o,
    struct error *err)
{
	if (o->json)
		return report_json_print(stdout, json_pack("{s:s,s:b,s:i,s:I,"
		    "s:I,s:I}", "state", path != NULL ? path : "",
		    "ok", 1, "version", state_version(st), "uids",
		    (json_int_t)state_count(st), "journal_records",
		    (json_int_t)state_journal_records(st), "pending",
		    (json_int_t)npending(st)), err);
	if (!o->quiet)
		printf("state ok: %zu UIDs, %zu journal records, %zu "
		    "deliveries unfinished\n", state_count(st),
		    state_journal_records(st), npending(st));
	return 0;
}

/* Records uids[0..n) as delivered, durably, and writes the snapshot;
 * *added counts those not recorded before. */
static int
record(struct state *st, char **uids, size_t n, size_t *added,
    struct error *err)
{
	size_t i;

	*added = 0;
	for (i = 0; i < n; i++) {
		if (uids[i] == NULL || state_lookup(st, uids[i]) != 0)
			continue;
		if (state_delivered(st, uids[i], 0, NULL, err) == -1)
			return -1;
		(*added)++;
	}
	if (state_sync(st, err) == -1)
		return -1;
	return state_save(st, err);
}

/* mark-seen: every UID the server lists now, recorded as delivered. */
static int
mark_seen(struct cli_settings *s, struct state *st, struct error *err)
{
	struct session *sess;
	struct pop3_msg *m;
	struct error e;
	char **uids;
	size_t n, i, added;
	int r;

	s->errhost = s->sp.host;
	if ((sess = session_open(&s->sp, 1, err)) == NULL)
		return -1;
	if (pop3_uidl(session_pop3(sess), 0, &m, &n, err) == -1) {
		(void)session_end(sess, 0, &e);
		return -1;
	}
	uids = xcalloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++)
		uids[i] = m[i].uid;
	r = record(st, uids, n, &added, err);
	free(uids);
	pop3_msgs_free(m, n, 1);
	/* Nothing was deleted: ending either way commits nothing. */
	if (session_end(sess, r == 0, r == 0 ? err : &e) == -1)
		r = -1;
	if (r == 0 && !s->co.quiet)
		printf("%zu messages recorded as delivered, %zu of them "
		    "new to the state; none downloaded\n", n, added);
	return r;
}

/* One file adopt looks at; the hash first, for fetch_cmp_hash. */
struct orphan {
	unsigned long	 uid;		/* the hash of its UID */
	char		*path;		/* sub/file, in the maildir */
	char		*name;		/* without flags */
};

/* The files adopt looks at: those no record accounts for. */
struct orphans {
	unsigned long	*have;		/* state_uid_hashes */
	size_t		 nhave;
	struct orphan	*v;
	size_t		 n, shown;
	char		 names[200];	/* the first few, for messages */
};

static int
orphan(void *arg, const char *sub, const char *file, const char *name,
    unsigned long uid, struct error *err)
{
	struct orphans *o = arg;
	size_t len = strlen(o->names), plen;

	(void)err;
	if (bsearch(&uid, o->have, o->nhave, sizeof(*o->have),
	    fetch_cmp_hash) != NULL)
		return 0;
	o->v = xreallocarray(o->v, o->n + 1, sizeof(*o->v));
	o->v[o->n].uid = uid;
	plen = strlen(sub) + strlen(file) + 2;
	o->v[o->n].path = xmalloc(plen);
	(void)snprintf(o->v[o->n].path, plen, "%s/%s", sub, file);
	o->v[o->n++].name = xstrdup(name);
	if (o->shown == o->n - 1 &&
	    len + strlen(sub) + strlen(name) + 4 < sizeof(o->names)) {
		(void)snprintf(o->names + len, sizeof(o->names) - len,
		    "%s%s/%s", len > 0 ? ", " : "", sub, name);
		o->shown++;
	}
	return 0;
}

/*
 * What was stored in the maildir file path (sub/file under dir): its
 * digest, size, name and Message-ID, as a delivery records them, into
 * rec (strings in the buffers given).  -1 if it cannot be read: then the
 * message is recorded without them.
 */
static int
stored(const char *dir, const struct orphan *f, struct state_rec *rec,
    char sha[DIGEST_HEX], char msgid[3 * DIGEST_MSGID_MAX + 1],
    char **where)
{
	char buf[65536], path[PATH_MAX];
	struct digest *d;
	ssize_t n;
	size_t got = 0;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, f->path) >=
	    (int)sizeof(path) ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	d = digest_new(0);
	msgid[0] = '\0';
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		/* The Message-ID from the header, which the first read
		 * holds unless it is longer than 64 KiB. */
		if (got == 0)
			digest_msgid(buf, (size_t)n, msgid);
		got += (size_t)n;
		digest_update(d, buf, (size_t)n);
	}
	(void)close(fd);
	digest_final(d, sha, &rec->size);
	digest_free(d);
	if (n == -1)
		return -1;
	if (msgid[0] == '\0')
		(void)strlcpy(msgid, "-", 2);
	*where = state_escape(f->name, strlen(f->name));
	rec->sha = sha;
	rec->where = *where;
	rec->msgid = msgid;
	return 0;
}

/* The first 64 KiB of a TOP n 0 answer: the header. */
struct hbuf {
	size_t	 n;
	char	 b[65536];
};

static int
hbuf_sink(void *arg, const char *data, size_t len, struct error *err)
{
	struct hbuf *h = arg;
	size_t room = sizeof(h->b) - h->n;

	(void)err;
	if (len > room)
		len = room;
	memcpy(h->b + h->n, data, len);
	h->n += len;
	return 0;
}

/*
 * A UID's checksum is 32 bits: before message num is recorded as the
 * file's, their Message-IDs must agree (msgid, the file's, "-" if it has
 * none).  1 if they do, or cannot be compared (no Message-ID, no TOP);
 * 0 if they differ; -1 with err if the connection is lost.
 */
static int
same_message(struct pop3 *p, unsigned long num, const char *msgid,
    struct error *err)
{
	char theirs[3 * DIGEST_MSGID_MAX + 1];
	struct hbuf *h;
	struct error e;
	int r;

	if (strcmp(msgid, "-") == 0)
		return 1;
	h = xmalloc(sizeof(*h));
	h->n = 0;
	if (pop3_top(p, num, 0, hbuf_sink, h, &e) == -1) {
		free(h);
		if (pop3_broken(p)) {
			*err = e;
			return -1;
		}
		return 1;
	}
	digest_msgid(h->b, h->n, theirs);
	free(h);
	r = strcmp(theirs, "-") == 0 || strcmp(theirs, msgid) == 0;
	return r;
}

/*
 * The file f holds the message m, the one listed UID with its checksum:
 * records it as delivered with what the file holds, and returns 1; or 0
 * if its Message-ID says it is another message (left to be fetched); or
 * -1 with err.
 */
static int
adopt_one(const char *dir, const struct orphan *f, struct state *st,
    struct pop3 *p, const struct pop3_msg *m, struct error *err)
{
	struct state_rec rec;
	char sha[DIGEST_HEX], msgid[3 * DIGEST_MSGID_MAX + 1];
	char *where = NULL;
	int ok, r;

	/* What was stored too, so that verify can check it; the first
	 * file, if the message is there twice. */
	ok = stored(dir, f, &rec, sha, msgid, &where) == 0;
	r = same_message(p, m->num, ok ? msgid : "-", err);
	if (r == 1 && state_delivered(st, m->uid, 0, ok ? &rec : NULL,
	    err) == -1)
		r = -1;
	free(where);
	return r;
}

/*
 * adopt: each file in new/ or cur/ that popfetch stored for this account
 * after the snapshot was written and that no record accounts for holds
 * the message whose UID hashes to the one in its name.  A UID the server
 * lists, not recorded, alone with that hash among them: recorded as
 * delivered.  Two such UIDs: neither (one would never be fetched); both
 * are fetched again.  None: the server no longer has the message, so it
 * cannot be fetched again either.  The snapshot is written in any case,
 * so later runs no longer count these files as lost.
 */
static int
adopt(struct cli_settings *s, struct state *st, struct error *err)
{
	struct orphans o;
	struct deliver_seen seen;
	struct session *sess = NULL;
	struct pop3_msg *m = NULL;
	struct error e;
	/* The hash first: fetch_cmp_hash compares the first field. */
	struct srv {
		unsigned long	 hash;
		size_t		 idx;
	} *srv = NULL;
	size_t nm = 0, ns = 0, i, j, k, h, added = 0, gone = 0, twice = 0;
	char *acct, *esc;
	int r = -1;

	if (s->fp.dp.kind != DELIVER_MAILDIR || s->fp.dp.target == NULL)
		return error_set(err, ERR_USAGE, "state adopt needs the "
		    "maildir the messages were stored in: --%s DIR, as for "
		    "fetch", cli_name(O_MAILDIR));
	memset(&o, 0, sizeof(o));
	o.nhave = state_uid_hashes(st, deliver_hash, &o.have);
	acct = fetch_account(&s->sp);
	r = deliver_ours(&s->fp.dp, deliver_hash(acct), state_saved(st), 1,
	    NULL, &seen, orphan, &o, err);
	free(acct);
	if (r == -1)
		goto out;
	r = -1;
	if (o.n == 0) {
		if (!s->co.quiet)
			printf("nothing to adopt: every message popfetch "
			    "stored in %s is recorded\n", s->fp.dp.target);
		r = 0;
		goto out;
	}
	s->errhost = s->sp.host;
	if ((sess = session_open(&s->sp, 1, err)) == NULL)
		goto out;
	if (pop3_uidl(session_pop3(sess), 0, &m, &nm, err) == -1)
		goto out;
	/* The hash of each UID the server lists and the state lacks,
	 * sorted, then each distinct hash of the files looked up in it. */
	srv = xcalloc(nm + 1, sizeof(*srv));
	for (h = 0; h < nm; h++) {
		if (m[h].uid == NULL || state_lookup(st, m[h].uid) != 0)
			continue;
		esc = state_escape(m[h].uid, strlen(m[h].uid));
		srv[ns].hash = deliver_hash(esc);
		srv[ns++].idx = h;
		free(esc);
	}
	qsort(srv, ns, sizeof(*srv), fetch_cmp_hash);
	qsort(o.v, o.n, sizeof(*o.v), fetch_cmp_hash);
	/* Both sorted: one merge. */
	for (i = 0, j = 0; i < o.n; i++) {
		if (i > 0 && o.v[i].uid == o.v[i - 1].uid)
			continue;
		while (j < ns && srv[j].hash < o.v[i].uid)
			j++;
		for (k = 0; j + k < ns && srv[j + k].hash == o.v[i].uid; k++)
			;
		if (k == 0)
			gone++;
		else if (k > 1)
			twice += k;
		else {
			r = adopt_one(s->fp.dp.target, &o.v[i], st,
			    session_pop3(sess), &m[srv[j].idx], err);
			if (r == -1)
				goto out;
			if (r == 0)
				twice++;
			else
				added++;
			r = -1;
		}
	}
	state_touch(st);
	if (state_sync(st, err) == -1 || state_save(st, err) == -1)
		goto out;
	r = 0;
	if (!s->co.quiet)
		printf("%zu file%s adopted (%s%s): %zu recorded as "
		    "delivered, %zu no longer on the server, %zu to be fetched "
		    "again (UIDs that share a checksum with another message); none "
		    "downloaded\n",
		    o.n, o.n == 1 ? "" : "s", o.names, o.shown < o.n ? ", ..." :
		    "", added, gone, twice);
out:
	/* Nothing was deleted: ending either way commits nothing. */
	if (sess != NULL && session_end(sess, r == 0, r == 0 ? err : &e) == -1)
		r = -1;
	if (m != NULL)
		pop3_msgs_free(m, nm, 1);
	free(srv);
	free(o.have);
	for (i = 0; i < o.n; i++) {
		free(o.v[i].path);
		free(o.v[i].name);
	}
	free(o.v);
	return r;
}

static int
import(struct cli_settings *s, struct state *st, const char *file,
    struct error *err)
{
	char **uids;
	size_t n, added;
	int r;

	if (import_read((enum import_kind)s->import_from, file,
	    s->sp.auth.user != NULL ? s->sp.auth.user : "", s->sp.host,
	    session_port(&s->sp), &uids, &n, err) == -1)
		return -1;
	r = record(st, uids, n, &added, err);
	import_free(uids, n);
	if (r == 0 && !s->co.quiet)
		printf("%zu UIDs read from %s, %zu of them new to the state\n",
		    n, file, added);
	return r;
}

int
state_cmd_run(struct cli_settings *s, char **argv, int argc,
    struct error *err)
{
	const char *sub = argv[0];
	char path[PATH_MAX];
	int readonly, r;
	struct state *st;

	(void)argc;
	if (s->sp.host == NULL)
		return error_set(err, ERR_USAGE, "state needs the account: "
		    "a server and a user, as for fetch");
	/* Before the state is touched. */
	if (strcmp(sub, "import") == 0 && s->import_from == IMPORT_NONE)
		return error_set(err, ERR_USAGE, "state import needs the "
		    "program that wrote the file: --%s %s", cli_name(O_FROM),
		    "mpop|fetchmail|getmail");
	readonly = strcmp(sub, "show") == 0 || strcmp(sub, "check") == 0;
	if ((st = fetch_state_open(&s->sp, &s->fp, readonly, path,
	    sizeof(path), err)) == NULL)
		return -1;
	if (strcmp(sub, "show") == 0)
		r = show(st, &s->co, err);
	else if (strcmp(sub, "check") == 0)
		r = fetch_check_lost(st, &s->sp, &s->fp, path, err) == -1 ?
		    -1 : check(st, s->fp.state_path, &s->co, err);
	else if (strcmp(sub, "mark-seen") == 0)
		r = mark_seen(s, st, err);
	else if (strcmp(sub, "adopt") == 0)
		r = adopt(s, st, err);
	else if (fetch_check_lost(st, &s->sp, &s->fp, path, err) == -1)
		/* Its snapshot would hide the files lost records name. */
		r = -1;
	else
		r = import(s, st, argv[1], err);
	state_close(st);
	if (r == 0)
		r = command_flush(err);
	return r;
}
