/*
 * cli_doc.c - what is written from the option table for people and for
 * tools: --help, the --list-options listing (which tests/docs.bats holds
 * the man pages and the completions to), and the hints of errors.
 */
#include <stdio.h>
#include <string.h>

#include "cli_p.h"
#include "report.h"

/* The hints of errors: each "%o" in text is the next setting, rendered
 * as "--tls none" or as "tls none" in quotes. */
static const struct {
	enum err_hint	 hint;
	const char	*text;
	struct {
		enum cli_id	 id;
		int		 val;	/* a value of the row, or -1 */
	} set[2];
} hints[] = {
	{ HINT_TLS_MODE, "use %o, or %o",
	    { { O_TLS, TLSMODE_IMPLICIT }, { O_TLS, TLSMODE_NONE } } },
	{ HINT_ALLOW_PLAINTEXT, "add %o to allow it",
	    { { O_ALLOW_PLAINTEXT, -1 } } },
	{ HINT_ALL_OR_DELETE, "use %o (fetch every message on every run) or "
	    "%o", { { O_ALL, -1 }, { O_DELETE, -1 } } },
	{ HINT_USER, "use %o or user@ in the URL", { { O_USER, -1 } } },
	{ HINT_CLIENT_CERT, "use %o", { { O_CLIENT_CERT, -1 } } },
	{ HINT_STATE, "use %o", { { O_STATE, -1 } } },
	{ HINT_CERT_TRUST, "look at it with the certificate command; then "
	    "trust its issuer with %o FILE, or pin this certificate with %o "
	    "and the sha256: above", { { O_CA_FILE, -1 },
	    { O_FINGERPRINT, -1 } } },
	{ HINT_TLS_IMPLICIT, "use a pop3s:// URL or %o",
	    { { O_TLS, TLSMODE_IMPLICIT } } },
	{ HINT_TLS_STARTTLS, "use a pop3:// URL or %o",
	    { { O_TLS, TLSMODE_STARTTLS } } },
	{ HINT_STATE_DAMAGED, "popfetch state check tells what is wrong; "
	    "move the file away and run popfetch state mark-seen to record "
	    "what the server holds as delivered", { { O_STATE, -1 } } },
	{ HINT_STATE_FOREIGN, "use %o with this account's own file, or move "
	    "this one away and run popfetch state mark-seen",
	    { { O_STATE, -1 } } },
	{ HINT_STATE_LOST, "popfetch state adopt records the messages those "
	    "files hold as delivered, matching their names against the "
	    "server's UIDL, without downloading anything; or remove the files "
	    "to have them fetched again", { { O_STATE, -1 } } },
	{ HINT_PASSWORD_SOURCE, "use %o, %o, POPFETCH_PASSWORD or ~/.netrc",
	    { { O_PASSWORD_COMMAND, -1 }, { O_PASSWORD_FILE, -1 } } },
	{ HINT_AUTH_METHOD, "use %o, or %o", { { O_AUTH, AUTH_AUTO },
	    { O_AUTH, AUTH_USER } } },
	{ HINT_UTF8, "drop %o, or use %o to go on without it",
	    { { O_UTF8, -1 }, { O_NO_UTF8, -1 } } },
};

const char *
cli_doc_hint(enum err_hint h, enum cli_form form, char *buf, size_t len)
{
	const char *p, *q, *quote = form == CLI_KEYWORD ? "\"" : "";
	char piece[128];
	size_t i, k;

	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (hints[i].hint == h)
			break;
	if (i == sizeof(hints) / sizeof(hints[0]) || len == 0)
		return NULL;
	buf[0] = '\0';
	for (p = hints[i].text, k = 0; (q = strstr(p, "%o")) != NULL &&
	    k < 2; p = q + 2, k++) {
		enum cli_id id = hints[i].set[k].id;
		int val = hints[i].set[k].val;

		if (snprintf(piece, sizeof(piece), "%.*s%s%s%s%s%s%s",
		    (int)(q - p), p, quote, form == CLI_OPTION ? "--" : "",
		    cli_options[id].name, val >= 0 ? " " : "",
		    val >= 0 ? cli_value(id, val) : "", quote) >=
		    (int)sizeof(piece) || cli_append(buf, len, piece) == -1)
			return buf;
	}
	(void)cli_append(buf, len, p);
	return buf;
}

/*
 * --help: the commands, then the options by group, each group's words
 * filled into lines of at most HELP_WIDTH columns after a label.
 */
#define HELP_WIDTH	79
#define HELP_INDENT	10

struct help {
	FILE	*f;
	size_t	 col;
};

static void
help_label(struct help *h, const char *label)
{
	fprintf(h->f, "%s%-*s", h->col > 0 ? "\n" : "", HELP_INDENT, label);
	h->col = HELP_INDENT;
}

/* One word, two spaces after the one before; a word longer than a line
 * (the values of --auth) is broken after a "|". */
static void
help_word(struct help *h, const char *w)
{
	size_t len = strlen(w), sep, room, cut, i;

	for (;;) {
		sep = h->col > HELP_INDENT ? 2 : 0;
		room = h->col + sep < HELP_WIDTH ? HELP_WIDTH - h->col - sep :
		    0;
		if (len <= room) {
			fprintf(h->f, "%*s%s", (int)sep, "", w);
			h->col += sep + len;
			return;
		}
		if (sep > 0) {
			help_label(h, "");
			continue;
		}
		for (cut = 0, i = 0; i < room; i++)
			if (w[i] == '|')
				cut = i + 1;
		if (cut == 0)
			cut = len;
		fprintf(h->f, "%.*s", (int)cut, w);
		h->col += cut;
		if (cut == len)
			return;
		w += cut;
		len -= cut;
		help_label(h, "");
	}
}

/* "-p, --port PORT", "--tls implicit|starttls|none", "--utf8". */
static const char *
help_option(const struct cli_option *o, char *buf, size_t len)
{
	const struct cli_value *v;
	char shortname[] = { '-', o->shortname, ',', ' ', '\0' };

	/* The OAuth settings without their arguments, which their names
	 * say, so that --help still fits a terminal. */
	int bare = o->group == G_OAUTH2 && o->arg != ARG_ENUM;

	if (o->shortname == 0)
		shortname[0] = '\0';
	if (snprintf(buf, len, "%s--%s%s%s", shortname, o->name,
	    o->arg != ARG_NONE && !bare ? " " : "", o->arg == ARG_ENUM ||
	    bare ? "" : o->arg != ARG_NONE ? o->argname : "") >= (int)len)
		return o->name;
	for (v = o->values; o->arg == ARG_ENUM && v->name != NULL; v++)
		if ((v != o->values && cli_append(buf, len, "|") == -1) ||
		    cli_append(buf, len, v->name) == -1)
			return o->name;
	return buf;
}

#define SYNOPSIS "usage: popfetch [options] [pop3s://user@host[:port]] " \
	"[command [args]]\n"

void
cli_doc_synopsis(FILE *f)
{
	fprintf(f, "%stry popfetch --help, or see popfetch(1)\n", SYNOPSIS);
}

void
cli_doc_usage(FILE *f)
{
	static const char *const labels[] = {
		[G_SERVER] = "server:", [G_TLS] = "tls:", [G_LOGIN] = "login:",
		[G_OAUTH2] = "oauth2:",
		[G_DELIVER] = "deliver:", [G_FETCH] = "fetch:",
		[G_OUTPUT] = "output:", [G_ACCOUNTS] = "accounts:"
	};
	struct help h = { f, 0 };
	const struct command *c;
	char word[256];
	size_t i, n, g;

	fputs(SYNOPSIS, f);
	help_label(&h, "commands:");
	c = command_list(&n);
	for (i = 0; i < n; i++) {
		if (snprintf(word, sizeof(word), "%s%s", c[i].usage,
		    i == 0 ? " (the default)" : "") >= (int)sizeof(word))
			continue;
		help_word(&h, word);
	}
	for (g = 0; g < sizeof(labels) / sizeof(labels[0]); g++) {
		help_label(&h, labels[g]);
		for (i = 0; i < O_COUNT; i++)
			if (cli_options[i].group == g &&
			    (cli_options[i].flags & F_ARGV))
				help_word(&h, help_option(&cli_options[i], word,
				    sizeof(word)));
	}
	fprintf(f, "\nSee popfetch(1).\n");
}

static json_t *
list_option(const struct cli_option *o)
{
	static const char *const kinds[] = {
		[ARG_NONE] = "none", [ARG_STRING] = "string",
		[ARG_PATH] = "path", [ARG_COMMAND] = "command",
		[ARG_NUMBER] = "number", [ARG_ENUM] = "enum"
	};
	const struct cli_value *v;
	char shortname[2] = { o->shortname, '\0' };
	json_t *j, *values;

	j = json_pack("{s:s,s:s,s:s}", "option", o->name, "short", shortname,
	    "arg", kinds[o->arg]);
	if (o->arg != ARG_NONE)
		json_object_set_new(j, "argname", json_string(o->argname));
	if (o->arg == ARG_ENUM) {
		values = json_array();
		for (v = o->values; v->name != NULL; v++)
			json_array_append_new(values, json_string(v->name));
		json_object_set_new(j, "values", values);
	}
	if (o->arg == ARG_NUMBER) {
		json_object_set_new(j, "min", json_integer(o->min));
		json_object_set_new(j, "max", json_integer(o->max));
	}
	if (o->dflt != NULL)
		json_object_set_new(j, "default", json_string(o->dflt));
	json_object_set_new(j, "keyword",
	    json_boolean(o->flags & F_KEYWORD));
	json_object_set_new(j, "argv", json_boolean(o->flags & F_ARGV));
	json_object_set_new(j, "help", json_string(o->help));
	return j;
}

int
cli_doc_list(FILE *f, struct error *err)
{
	const struct command *c;
	size_t i, n;

	for (i = 0; i < O_COUNT; i++)
		if (cli_options[i].group != G_HIDDEN && report_json_print(f,
		    list_option(&cli_options[i]), err) == -1)
			return -1;
	c = command_list(&n);
	for (i = 0; i < n; i++)
		if (report_json_print(f, json_pack("{s:s,s:s,s:b,s:b}",
		    "command", c[i].name, "usage", c[i].usage, "login",
		    c[i].login, "json", c[i].json), err) == -1)
			return -1;
	return 0;
}
