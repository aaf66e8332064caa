/*
 * state_cmd.c - the state command: show, check, mark-seen and import,
 * over the state of the account the settings name (the same options as
 * fetch: --state, or the default file of user@host:port).
 *
 * Part of the front end: results go to stdout, errors back to main.c.
 * show and check only read (no lock, nothing written); mark-seen logs
 * in and asks for UIDL only; import reads another program's UID file
 * and talks to no server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "fetch.h"
#include "import.h"
#include "report.h"
#include "session.h"
#include "state.h"

static const char *const subcommands[] = {
	"show", "check", "mark-seen", "import", NULL
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
		    "mark-seen|import --from PROGRAM FILE");
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
	if ((st = fetch_state_open(&s->sp, &s->fp, readonly, NULL, 0, err)) == NULL)
		return -1;
	if (strcmp(sub, "show") == 0)
		r = show(st, &s->co, err);
	else if (strcmp(sub, "check") == 0)
		r = check(st, s->fp.state_path, &s->co, err);
	else if (strcmp(sub, "mark-seen") == 0)
		r = mark_seen(s, st, err);
	else
		r = import(s, st, argv[1], err);
	state_close(st);
	if (r == 0)
		r = command_flush(err);
	return r;
}
