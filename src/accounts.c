/*
 * accounts.c - defaults, then the account, then the command line; and
 * the commands over the whole accounts file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "jobs.h"
#include "report.h"

/* Applies a block of the file: its URL first, so that the block's other
 * lines can refine it.  An unknown keyword is found before anything of
 * the block is applied. */
static int
apply_block(struct cli_settings *s, const struct config *cfg,
    const struct config_block *b, struct error *err)
{
	const struct config_entry *e;
	int pass, id;
	size_t i;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < b->n; i++) {
			e = &b->entries[i];
			if ((id = cli_keyword(e->key)) == -1)
				return error_set(err, ERR_CONFIG, "%s:%u: "
				    "unknown keyword \"%s\"", cfg->path,
				    e->line, e->key);
			if (cli_first((enum cli_id)id) != (pass == 0))
				continue;
			if (cli_apply(s, (enum cli_id)id, e->value,
			    CLI_KEYWORD, err) == -1) {
				err->cls = ERR_CONFIG;
				return error_prefix(err, "%s:%u", cfg->path,
				    e->line);
			}
		}
	return 0;
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

int
accounts_setup(struct cli_settings *s, const struct config *cfg,
    const struct config_block *acct, const struct cli_args *a,
    int need_host, struct error *err)
{
	cli_settings_init(s);
	s->sp.trace = report_trace;
	s->layer = 1;
	if (cfg != NULL && apply_block(s, cfg, &cfg->defaults, err) == -1)
		return -1;
	s->layer = 2;
	if (acct != NULL) {
		s->form = CLI_KEYWORD;
		s->account = acct->name;
		if (apply_block(s, cfg, acct, err) == -1)
			return -1;
	}
	s->layer = 3;
	if (apply_args(s, a, err) == -1)
		return -1;
	if (!need_host)
		return 0;
	if (s->sp.host == NULL || *s->sp.host == '\0')
		return error_set(err, acct != NULL ? ERR_CONFIG : ERR_USAGE,
		    "%s%s%sno host given (use --%s or a pop3s:// URL)",
		    acct != NULL ? "account " : "",
		    acct != NULL ? acct->name : "", acct != NULL ? ": " : "",
		    cli_name(O_HOST));
	s->sp.auth.host = s->sp.host;
	s->sp.auth.port = session_port(&s->sp);
	s->sp.auth.have_client_cert = s->sp.tlsp.client_cert != NULL;
	s->sp.tlsp.server_name = s->server_name != NULL ? s->server_name :
	    s->sp.host;
	if (s->sp.tlsp.client_key != NULL && s->sp.tlsp.client_cert == NULL)
		return error_set(err, ERR_USAGE, "--%s needs --%s",
		    cli_name(O_CLIENT_KEY), cli_name(O_CLIENT_CERT));
	return cli_finish(s, err);
}

int
accounts_list(const struct accounts_run *r)
{
	const struct config *cfg = r->cfg;
	struct cli_settings s;
	struct error e;
	size_t i;

	for (i = 0; cfg != NULL && i < cfg->naccounts; i++) {
		printf("%s", cfg->accounts[i].name);
		if (accounts_setup(&s, cfg, &cfg->accounts[i], r->args, 0,
		    &e) == 0 && s.sp.host != NULL)
			printf("\t%s%s%s:%s", s.sp.auth.user != NULL ?
			    s.sp.auth.user : "", s.sp.auth.user != NULL ?
			    "@" : "", s.sp.host, session_port(&s.sp));
		putchar('\n');
		cli_settings_free(&s);
	}
	return command_flush(&e) == -1 ? r->fail(&e, NULL) : 0;
}

int
accounts_check(const struct accounts_run *r)
{
	const struct config *cfg = r->cfg;
	struct cli_settings s;
	struct error e;
	size_t i;
	int bad = 0;

	if (cfg == NULL || cfg->text == NULL) {
		error_set(&e, ERR_CONFIG, "%s: no such file",
		    cfg != NULL ? cfg->path : "the configuration");
		return r->fail(&e, NULL);
	}
	if (cfg->naccounts == 0) {
		if (accounts_setup(&s, cfg, NULL, r->args, 0, &e) == -1)
			bad = r->fail(&e, &s);
		cli_settings_free(&s);
	}
	for (i = 0; i < cfg->naccounts; i++) {
		if (accounts_setup(&s, cfg, &cfg->accounts[i], r->args, 1,
		    &e) == -1) {
			e.cls = ERR_CONFIG;
			bad = r->fail(&e, &s);
		}
		cli_settings_free(&s);
	}
	if (bad)
		return bad;
	printf("%s: %zu account%s, no errors\n", cfg->path, cfg->naccounts,
	    cfg->naccounts == 1 ? "" : "s");
	return 0;
}

/* --all-accounts: the jobs are the accounts of the file. */
struct all {
	const struct accounts_run	*r;
	int				 json;
};

static int
all_run(void *arg, size_t i)
{
	struct all *a = arg;

	return a->r->run(a->r, &a->r->cfg->accounts[i]);
}

static void
all_out(void *arg, size_t i, int stream, const char *data, size_t len,
    int flags)
{
	struct all *a = arg;
	const char *name = a->r->cfg->accounts[i].name;
	FILE *f = stream == 1 ? stdout : stderr;
	json_t *head;

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
}

static void
all_done(void *arg, size_t i, const struct jobs_status *st)
{
	struct all *a = arg;
	const char *name = a->r->cfg->accounts[i].name;

	if (st->start_errno != 0)
		fprintf(stderr, "popfetch: %s: cannot start: %s\n", name,
		    strerror(st->start_errno));
	else if (st->signal != 0)
		fprintf(stderr, "popfetch: %s: killed by signal %d\n", name,
		    st->signal);
}

int
accounts_all(const struct accounts_run *r)
{
	const struct config *cfg = r->cfg;
	struct all a = { r, cli_args_has(r->args, O_JSON) };
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
	memset(&p, 0, sizeof(p));
	p.n = cfg->naccounts;
	p.max = r->args->jobs;
	p.arg = &a;
	p.run = all_run;
	p.out = all_out;
	p.done = all_done;
	st = xcalloc(p.n, sizeof(*st));
	if (jobs_run(&p, st, &e) == -1) {
		free(st);
		return r->fail(&e, NULL);
	}
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
