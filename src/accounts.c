/*
 * accounts.c - defaults, then the account, then the command line; and
 * the commands over the whole accounts file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accounts.h"
#include "jobs.h"
#include "report.h"

/* Receives each error of a block when errors are collected. */
typedef void block_error(void *arg, const struct error *);

/* "FILE:LINE: unknown keyword "keepdays" (did you mean keep-days?)" */
static int
unknown_keyword(const struct config *cfg, const struct config_entry *e,
    struct error *err)
{
	const char *near = cli_keyword_near(e->key);

	return error_set(err, ERR_CONFIG, "%s:%u: unknown keyword "
	    "\"%.64s\"%s%s%s", cfg->path, e->line, e->key,
	    near != NULL ? " (did you mean " : "", near != NULL ? near : "",
	    near != NULL ? "?)" : "");
}

/*
 * Applies a block of the file: its URL first, so that the block's other
 * lines can refine it.  Without each, the first error ends it, and an
 * unknown keyword is found before anything of the block is applied;
 * with each, every bad line is passed to each (once) and skipped, and
 * the others are applied.
 */
static int
apply_block(struct cli_settings *s, const struct config *cfg,
    const struct config_block *b, block_error *each, void *arg,
    struct error *err)
{
	const struct config_entry *e;
	int pass, id, bad = 0;
	size_t i;

	for (i = 0; i < b->n; i++)
		if (cli_keyword(b->entries[i].key) == -1) {
			(void)unknown_keyword(cfg, &b->entries[i], err);
			if (each == NULL)
				return -1;
			each(arg, err);
			bad = 1;
		}
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < b->n; i++) {
			e = &b->entries[i];
			if ((id = cli_keyword(e->key)) == -1 ||
			    cli_first((enum cli_id)id) != (pass == 0))
				continue;
			if (cli_apply(s, (enum cli_id)id, e->value,
			    CLI_KEYWORD, err) == -1) {
				err->cls = ERR_CONFIG;
				(void)error_prefix(err, "%s:%u", cfg->path,
				    e->line);
				if (each == NULL)
					return -1;
				each(arg, err);
				bad = 1;
			}
		}
	return bad ? -1 : 0;
}

/* The command line's settings, its URL first. */
static int
apply_args(struct cli_settings *s, const struct cli_args *a,
    struct error *err)
{
	size_t i;
	int pass;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < a->n; i++)
			if (cli_first(a->v[i].id) == (pass == 0) &&
			    cli_apply(s, a->v[i].id, a->v[i].arg, CLI_OPTION,
			    err) == -1)
				return -1;
	return 0;
}

/* The command line's settings, for config-check, which reported their
 * errors once already. */
static void
apply_args_quietly(struct cli_settings *s, const struct cli_args *a)
{
	struct error e;

	(void)apply_args(s, a, &e);
}

/* What follows the layers: the server and what depends on it. */
static int
finish(struct cli_settings *s, const struct config *cfg,
    const struct config_block *acct, int need_host, struct error *err)
{
	if (!need_host)
		return 0;
	if ((s->sp.host == NULL || *s->sp.host == '\0') && acct != NULL)
		return error_set(err, ERR_CONFIG, "%s:%u: account %s: no host "
		    "given (add a \"%s pop3s://...\" or a \"%s\" line)",
		    cfg->path, acct->line, acct->name, cli_name(O_URL),
		    cli_name(O_HOST));
	if (s->sp.host == NULL || *s->sp.host == '\0')
		return error_set(err, ERR_USAGE, "no host given (use --%s or "
		    "a pop3s:// URL)", cli_name(O_HOST));
	s->sp.auth.host = s->sp.host;
	s->sp.auth.port = session_port(&s->sp);
	s->sp.auth.have_client_cert = s->sp.tlsp.client_cert != NULL;
	s->sp.tlsp.server_name = s->server_name != NULL ? s->server_name :
	    s->sp.host;
	if (s->sp.tlsp.client_key != NULL && s->sp.tlsp.client_cert == NULL)
		return error_set(err, acct != NULL ? ERR_CONFIG : ERR_USAGE,
		    "--%s needs --%s", cli_name(O_CLIENT_KEY),
		    cli_name(O_CLIENT_CERT));
	return cli_finish(s, err);
}

int
accounts_setup(struct cli_settings *s, const struct config *cfg,
    const struct config_block *acct, const struct cli_args *a,
    int need_host, struct error *err)
{
	cli_settings_init(s);
	s->sp.trace = report_trace;
	s->layer = 1;
	if (cfg != NULL && apply_block(s, cfg, &cfg->defaults, NULL, NULL,
	    err) == -1)
		return -1;
	s->layer = 2;
	if (acct != NULL) {
		s->form = CLI_KEYWORD;
		s->account = acct->name;
		if (apply_block(s, cfg, acct, NULL, NULL, err) == -1)
			return -1;
	}
	s->layer = 3;
	if (apply_args(s, a, err) == -1)
		return -1;
	return finish(s, cfg, acct, need_host, err);
}

int
accounts_list(const struct accounts_run *r)
{
	const struct config *cfg = r->cfg;
	int json = cli_args_has(r->args, O_JSON), bad = 0;
	struct cli_settings s;
	struct error e;
	const char *name;
	json_t *j;
	size_t i;

	for (i = 0; cfg != NULL && i < cfg->naccounts; i++) {
		name = cfg->accounts[i].name;
		if (accounts_setup(&s, cfg, &cfg->accounts[i], r->args, 1,
		    &e) == -1)
			bad = 1;
		if (json) {
			j = json_object();
			report_json_text(j, "account", name, strlen(name));
			if (s.sp.auth.user != NULL)
				report_json_text(j, "user", s.sp.auth.user,
				    strlen(s.sp.auth.user));
			if (s.sp.host != NULL) {
				report_json_text(j, "host", s.sp.host,
				    strlen(s.sp.host));
				json_object_set_new(j, "port",
				    json_string(session_port(&s.sp)));
			}
			(void)report_json_print(stdout, j, NULL);
		} else {
			printf("%s", name);
			if (s.sp.host != NULL)
				printf("\t%s%s%s:%s", s.sp.auth.user != NULL ?
				    s.sp.auth.user : "", s.sp.auth.user !=
				    NULL ? "@" : "", s.sp.host,
				    session_port(&s.sp));
			putchar('\n');
		}
		cli_settings_free(&s);
	}
	if (command_flush(&e) == -1)
		return r->fail(&e, NULL);
	/* popfetch.conf(5): every command exits 78 on a broken file. */
	if (bad) {
		error_set(&e, ERR_CONFIG, "%s has errors; popfetch "
		    "config-check lists them all", cfg->path);
		return r->fail(&e, NULL);
	}
	return 0;
}

/* config-check: every error once, in file order within each part. */
struct check {
	const struct accounts_run	*r;
	size_t				 nerr;
	int				 code;
};

static void
check_report(void *arg, const struct error *e)
{
	struct check *c = arg;

	c->nerr++;
	c->code = c->r->fail(e, NULL);
}

static void
check_ignore(void *arg, const struct error *e)
{
	(void)arg, (void)e;
}

int
accounts_check(const struct accounts_run *r)
{
	const struct config *cfg = r->cfg;
	struct check c = { r, 0, 0 };
	struct cli_settings s;
	struct error e;
	json_t *j;
	size_t i;

	if (cfg == NULL || cfg->text == NULL) {
		error_set(&e, ERR_CONFIG, "%s: no such file",
		    cfg != NULL ? cfg->path : "the configuration");
		return r->fail(&e, NULL);
	}
	/* The defaults and the command line once, then what each account
	 * adds; a bad line of the defaults is not repeated per account. */
	cli_settings_init(&s);
	s.layer = 1;
	(void)apply_block(&s, cfg, &cfg->defaults, check_report, &c, &e);
	s.layer = 3;
	if (apply_args(&s, r->args, &e) == -1)
		check_report(&c, &e);
	cli_settings_free(&s);
	for (i = 0; i < cfg->naccounts; i++) {
		cli_settings_init(&s);
		s.layer = 1;
		(void)apply_block(&s, cfg, &cfg->defaults, check_ignore, NULL,
		    &e);
		s.layer = 2;
		s.form = CLI_KEYWORD;
		(void)apply_block(&s, cfg, &cfg->accounts[i], check_report,
		    &c, &e);
		s.layer = 3;
		apply_args_quietly(&s, r->args);
		if (finish(&s, cfg, &cfg->accounts[i], 1, &e) == -1) {
			e.cls = ERR_CONFIG;
			check_report(&c, &e);
		}
		cli_settings_free(&s);
	}
	if (cli_args_has(r->args, O_JSON)) {
		j = json_pack("{s:s}", "event", "summary");
		report_json_text(j, "file", cfg->path, strlen(cfg->path));
		json_object_set_new(j, "accounts",
		    json_integer((json_int_t)cfg->naccounts));
		json_object_set_new(j, "errors",
		    json_integer((json_int_t)c.nerr));
		json_object_set_new(j, "ok", json_boolean(c.nerr == 0));
		(void)report_json_print(stdout, j, NULL);
	} else if (c.nerr == 0)
		printf("%s: %zu account%s, no errors\n", cfg->path,
		    cfg->naccounts, cfg->naccounts == 1 ? "" : "s");
	else
		fprintf(stderr, "popfetch: %s: %zu error%s\n", cfg->path,
		    c.nerr, c.nerr == 1 ? "" : "s");
	if (command_flush(&e) == -1 && c.code == 0)
		return r->fail(&e, NULL);
	return c.code;
}

/*
 * --all-accounts: the jobs are the accounts of the file.  On a terminal
 * the progress shows one line for the accounts done and one for each
 * account running, with its own progress: each job sends it over its
 * status channel (report_progress_to), since only this process may
 * draw the terminal.  An account's line goes when it ends; its summary
 * is printed above the lines as it comes.  The lines are up only while
 * some account has progress to show.
 */
struct acct {
	int		 running;
	int		 has;		/* a progress report came */
	size_t		 done, total;
	unsigned long long bytes;
	long long	 start;		/* now_ms when it started */
};

struct all {
	const struct accounts_run	*r;
	int				 json;
	int				 progress;
	struct acct			*acct;	/* per account */
	size_t				 ndone;
	int				 dirty;	/* news not drawn yet */
	long long			 drawn;	/* now_ms of the last draw */
};

/* Redraws at most every DRAW_MS for progress alone. */
#define DRAW_MS		100

static void
all_progress(struct all *a)
{
	const struct config *cfg = a->r->cfg;
	const char **lines;
	char *text, part[160];
	size_t i, n = 0, w = 256;
	struct acct *c;

	if (!a->progress)
		return;
	a->dirty = 0;
	a->drawn = now_ms();
	/*
	 * Nothing until an account has progress to show: before that it
	 * may be asking for its password on the terminal (-j 1), and a
	 * prompt under the lines would throw their count off.
	 */
	for (i = 0; i < cfg->naccounts && !(a->acct[i].running &&
	    a->acct[i].has); i++)
		;
	if (i == cfg->naccounts) {
		report_progress_lines(NULL, 0);
		return;
	}
	lines = xcalloc(cfg->naccounts + 1, sizeof(*lines));
	text = xcalloc(cfg->naccounts + 1, w);
	(void)snprintf(text, w, "popfetch: %zu of %zu accounts done",
	    a->ndone, cfg->naccounts);
	lines[n++] = text;
	for (i = 0; i < cfg->naccounts; i++) {
		c = &a->acct[i];
		if (!c->running)
			continue;
		if (c->has)
			report_progress_text(part, sizeof(part), c->done,
			    c->total, c->bytes, (a->drawn - c->start) / 1e3);
		else
			(void)strlcpy(part, "running", sizeof(part));
		(void)snprintf(text + n * w, w, "%s: %s", cfg->accounts[i].name,
		    part);
		lines[n] = text + n * w;
		n++;
	}
	report_progress_lines(lines, n);
	free(text);
	free(lines);
}

static void
all_start(void *arg, size_t i)
{
	struct all *a = arg;

	a->acct[i].running = 1;
	a->acct[i].start = now_ms();
	all_progress(a);
}

static int
all_run(void *arg, size_t i, int status_fd)
{
	struct all *a = arg;

	report_forget_progress();
	if (a->progress)
		report_progress_to(status_fd);
	/* In the job's own process: the other accounts' passwords go. */
	config_forget_secrets((struct config *)(uintptr_t)a->r->cfg,
	    &a->r->cfg->accounts[i]);
	return a->r->run(a->r, &a->r->cfg->accounts[i]);
}

/* A job's progress report: drawn with the next tick. */
static void
all_status(void *arg, size_t i, const char *line, size_t len)
{
	struct all *a = arg;
	struct acct *c = &a->acct[i];

	if (report_progress_parse(line, len, &c->done, &c->total,
	    &c->bytes) == 0) {
		c->has = 1;
		a->dirty = 1;
	}
}

static void
all_tick(void *arg)
{
	struct all *a = arg;

	if (a->dirty && now_ms() - a->drawn >= DRAW_MS)
		all_progress(a);
}

static void
all_out(void *arg, size_t i, int stream, const char *data, size_t len,
    int flags)
{
	struct all *a = arg;
	const char *name = a->r->cfg->accounts[i].name;
	FILE *f = stream == 1 ? stdout : stderr;
	json_t *head;

	if (a->progress && (flags & JOBS_FIRST))
		report_progress_lines(NULL, 0);

	if (stream == 1 && a->json) {
		if (flags & JOBS_FIRST) {
			head = json_object();
			report_json_text(head, "account", name, strlen(name));
			report_json_open(f, head, "result");
		}
		(void)fwrite(data, 1, len, f);
		if (flags & JOBS_LAST)
			report_json_close(f, NULL, 1);
	} else {
		if (flags & JOBS_FIRST)
			fprintf(f, "%s: ", name);
		(void)fwrite(data, 1, len, f);
		if (flags & JOBS_LAST)
			fputc('\n', f);
	}
	fflush(f);
	if (flags & JOBS_LAST)
		all_progress(a);
}

static void
all_done(void *arg, size_t i, const struct jobs_status *st)
{
	struct all *a = arg;
	const char *name = a->r->cfg->accounts[i].name;

	a->acct[i].running = 0;
	a->ndone++;
	if (a->progress)
		report_progress_lines(NULL, 0);
	if (st->start_errno != 0)
		fprintf(stderr, "popfetch: %s: cannot start: %s\n", name,
		    strerror(st->start_errno));
	else if (st->signal != 0)
		fprintf(stderr, "popfetch: %s: killed by signal %d\n", name,
		    st->signal);
	all_progress(a);
}

int
accounts_all(const struct accounts_run *r)
{
	const struct config *cfg = r->cfg;
	struct all a = { r, cli_args_has(r->args, O_JSON), 0, NULL, 0, 0,
	    0 };
	struct jobs_params p;
	struct jobs_status *st;
	struct error e;
	size_t i, nfail = 0;
	int code = 0;

	if (cfg == NULL || cfg->naccounts == 0) {
		error_set(&e, ERR_CONFIG, "%s: no accounts configured",
		    cfg != NULL ? cfg->path : "the configuration");
		return r->fail(&e, NULL);
	}
	a.progress = !a.json && !cli_args_has(r->args, O_QUIET) &&
	    !report_syslog() && isatty(STDERR_FILENO);
	a.acct = xcalloc(cfg->naccounts, sizeof(*a.acct));
	memset(&p, 0, sizeof(p));
	p.start = all_start;
	p.n = cfg->naccounts;
	p.max = r->args->jobs;
	p.arg = &a;
	p.run = all_run;
	p.out = all_out;
	p.done = all_done;
	if (a.progress) {
		p.status = all_status;
		p.tick = all_tick;
	}
	/* Jobs running at once must not share the terminal for prompts. */
	if (p.max > 1 && p.n > 1)
		auth_set_prompt(0);
	st = xcalloc(p.n, sizeof(*st));
	if (jobs_run(&p, st, &e) == -1) {
		report_progress_lines(NULL, 0);
		free(a.acct);
		free(st);
		return r->fail(&e, NULL);
	}
	if (a.progress)
		report_progress_lines(NULL, 0);
	free(a.acct);
	for (i = 0; i < p.n; i++)
		if (st[i].code != 0) {
			if (nfail++ == 0) {
				code = st[i].code;
				fprintf(stderr, "popfetch: accounts that "
				    "failed:");
			}
			fprintf(stderr, " %s (%d)", cfg->accounts[i].name,
			    st[i].code);
		}
	if (nfail > 0)
		fprintf(stderr, "; %zu of %zu failed\n", nfail, p.n);
	free(st);
	return code;
}
