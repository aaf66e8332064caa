/*
 * config.c - reading the accounts file.
 *
 *	# comment
 *	defaults
 *	    keyword value
 *	account NAME
 *	    keyword value
 *	    keyword "value with \"quotes\" and trailing spaces  "
 *	    flag
 *
 * Indentation is free; a comment is a line whose first non-blank
 * character is "#" (so passwords may contain "#").
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define CONFIG_MAX	(1024 * 1024)

char *
config_default_path(char *buf, size_t len, struct error *err)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");
	int r;

	if (x != NULL && *x == '/')
		r = snprintf(buf, len, "%s/popfetch/config", x);
	else if (h != NULL && *h != '\0')
		r = snprintf(buf, len, "%s/.config/popfetch/config", h);
	else
		return NULL;
	if (r < 0 || (size_t)r >= len) {
		error_set(err, ERR_CONFIG, "the path of the accounts file is "
		    "longer than %zu bytes", len - 1);
		return NULL;
	}
	return buf;
}

static int
name_ok(const char *s)
{
	return *s != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@+") == strlen(s) &&
	    *s != '-';
}

static void
add_entry(struct config_block *b, const char *key, const char *value,
    unsigned line)
{
	b->entries = xreallocarray(b->entries, b->n + 1, sizeof(*b->entries));
	b->entries[b->n].key = key;
	b->entries[b->n].value = value;
	b->entries[b->n].line = line;
	b->n++;
}

/* Unquotes "..." in place; -1 if unterminated or followed by text. */
static int
unquote(char *s)
{
	char *r = s + 1, *w = s;

	for (; *r != '\0' && *r != '"'; r++) {
		if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
			r++;
		*w++ = *r;
	}
	if (*r != '"' || r[1] != '\0')
		return -1;
	*w = '\0';
	return 0;
}

/* "~/x" becomes "$HOME/x"; the result is kept in the config. */
static char *
expand_home(char *v, char ***owned, size_t *nowned)
{
	const char *home = getenv("HOME");
	size_t hl, vl;
	char *r;

	if (strncmp(v, "~/", 2) != 0 || home == NULL || *home == '\0')
		return v;
	/* HOME, then v without its "~" and with its NUL. */
	hl = strlen(home);
	vl = strlen(v);
	r = xmalloc(hl + vl);
	memcpy(r, home, hl);
	memcpy(r + hl, v + 1, vl);
	*owned = xreallocarray(*owned, *nowned + 1, sizeof(char *));
	(*owned)[(*nowned)++] = r;
	return r;
}

static int
parse(struct config *c, char ***owned, size_t *nowned, int *has_password,
    struct error *err)
{
	struct config_block *cur = NULL;
	char *p = c->text, *line, *key, *val, *end;
	unsigned lineno = 0;
	int have_defaults = 0;
	size_t i;

	while (p != NULL && *p != '\0') {
		line = p;
		if ((p = strchr(p, '\n')) != NULL)
			*p++ = '\0';
		lineno++;
		end = line + strlen(line);
		while (end > line && (end[-1] == ' ' || end[-1] == '\t' ||
		    end[-1] == '\r'))
			*--end = '\0';
		line += strspn(line, " \t");
		if (*line == '\0' || *line == '#')
			continue;
		key = line;
		val = key + strcspn(key, " \t");
		if (*val != '\0') {
			*val++ = '\0';
			val += strspn(val, " \t");
		}
		if (*val == '\0')
			val = NULL;
		if (strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
		    strlen(key))
			return error_set(err, ERR_CONFIG, "%s:%u: \"%.40s\" is "
			    "not a keyword", c->path, lineno, key);
		if (strcmp(key, "defaults") == 0) {
			if (val != NULL)
				return error_set(err, ERR_CONFIG, "%s:%u: "
				    "defaults takes no name", c->path, lineno);
			if (have_defaults)
				return error_set(err, ERR_CONFIG, "%s:%u: a "
				    "second defaults block (the first is at "
				    "line %u)", c->path, lineno,
				    c->defaults.line);
			if (c->naccounts > 0)
				return error_set(err, ERR_CONFIG, "%s:%u: "
				    "defaults must come before the first "
				    "account", c->path, lineno);
			have_defaults = 1;
			c->defaults.line = lineno;
			cur = &c->defaults;
			continue;
		}
		if (strcmp(key, "account") == 0) {
			if (val == NULL)
				return error_set(err, ERR_CONFIG, "%s:%u: "
				    "account needs a name", c->path, lineno);
			if (!name_ok(val))
				return error_set(err, ERR_CONFIG, "%s:%u: bad "
				    "account name \"%.40s\" (letters, digits "
				    "and ._-@+ only)", c->path, lineno, val);
			for (i = 0; i < c->naccounts; i++)
				if (strcmp(c->accounts[i].name, val) == 0)
					return error_set(err, ERR_CONFIG,
					    "%s:%u: duplicate account \"%s\" "
					    "(first at line %u)", c->path,
					    lineno, val, c->accounts[i].line);
			c->accounts = xreallocarray(c->accounts,
			    c->naccounts + 1, sizeof(*c->accounts));
			cur = &c->accounts[c->naccounts++];
			memset(cur, 0, sizeof(*cur));
			cur->name = val;
			cur->line = lineno;
			continue;
		}
		if (cur == NULL)
			return error_set(err, ERR_CONFIG, "%s:%u: %s outside "
			    "a block: start with \"defaults\" or \"account "
			    "NAME\"", c->path, lineno, key);
		if (val != NULL && *val == '"') {
			if (unquote(val) == -1)
				return error_set(err, ERR_CONFIG, "%s:%u: "
				    "unterminated quoted value", c->path,
				    lineno);
		} else if (val != NULL)
			val = expand_home(val, owned, nowned);
		if (strcmp(key, "password") == 0)
			*has_password = 1;
		add_entry(cur, key, val, lineno);
	}
	return 0;
}

/*
 * Zeroes the stack below the caller's frame, where parse and the string
 * functions it called left pieces of the text (vector registers spilled
 * while scanning for line ends): they would outlive the wiping of the
 * text, and be inherited by every job.
 */
static void __attribute__((noinline))
scrub_stack(void)
{
	char buf[131072];

	explicit_bzero(buf, sizeof(buf));
}

/* Marks the bytes of s in c->text as kept. */
static void
keep_str(const struct config *c, unsigned char *keep, const char *s)
{
	size_t off;

	if (s == NULL || s < c->text || s >= c->text + c->textlen)
		return;
	off = (size_t)(s - c->text);
	memset(keep + off, 1, strlen(s) + 1);
}

/* After parsing, wipes every byte of the text that no entry uses:
 * comments, and the rest of lines that were rewritten in place. */
static void
wipe_unused(struct config *c)
{
	unsigned char *keep = xcalloc(c->textlen + 1, 1);
	const struct config_block *b;
	size_t i, k;

	for (i = 0; i <= c->naccounts; i++) {
		b = i < c->naccounts ? &c->accounts[i] : &c->defaults;
		keep_str(c, keep, b->name);
		for (k = 0; k < b->n; k++) {
			keep_str(c, keep, b->entries[k].key);
			keep_str(c, keep, b->entries[k].value);
		}
	}
	for (i = 0; i < c->textlen; i++)
		if (!keep[i])
			c->text[i] = '\0';
	free(keep);
}

void
config_forget_secrets(struct config *c, const struct config_block *keep)
{
	struct config_block *b;
	size_t i, k;

	for (i = 0; i < c->naccounts; i++) {
		b = &c->accounts[i];
		if (b == keep)
			continue;
		for (k = 0; k < b->n; k++)
			if (b->entries[k].value != NULL &&
			    strcmp(b->entries[k].key, "password") == 0)
				/* Ours to write: in c->text or c->owned. */
				explicit_bzero((char *)(uintptr_t)
				    b->entries[k].value,
				    strlen(b->entries[k].value));
	}
	/* And what parsing left on the stack the job inherited. */
	scrub_stack();
}

struct config *
config_load(const char *path, int must_exist, struct error *err)
{
	struct config *c = xcalloc(1, sizeof(*c));
	struct stat sb;
	char **owned = NULL;
	size_t nowned = 0;
	ssize_t r;
	int fd, has_password = 0;

	c->path = xstrdup(path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && !must_exist)
			return c;
		error_set(err, ERR_CONFIG, "%s: %s", path, strerror(errno));
		config_free(c);
		return NULL;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > CONFIG_MAX) {
		error_set(err, ERR_CONFIG, "%s: not a regular file of at most "
		    "1 MiB", path);
		goto fail;
	}
	/* Checked on the file opened, which may be a dotfile manager's
	 * symbolic link: a file of someone else could make popfetch run
	 * any command (password-command) as the invoking user. */
	if (sb.st_uid != geteuid() && sb.st_uid != 0) {
		error_set(err, ERR_CONFIG, "%s: owned by uid %lu, not by you "
		    "or root, who could make popfetch run any command; "
		    "refusing it (chown it or use your own)", path,
		    (unsigned long)sb.st_uid);
		goto fail;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		error_set(err, ERR_CONFIG, "%s: writable by others, who could "
		    "make popfetch run any command; refusing it (chmod go-w "
		    "%s)", path, path);
		goto fail;
	}
	c->text = xmalloc((size_t)sb.st_size + 1);
	while (c->textlen < (size_t)sb.st_size &&
	    (r = read(fd, c->text + c->textlen,
	    (size_t)sb.st_size - c->textlen)) > 0)
		c->textlen += (size_t)r;
	c->text[c->textlen] = '\0';
	close(fd);
	fd = -1;
	if (memchr(c->text, '\0', c->textlen) != NULL) {
		error_set(err, ERR_CONFIG, "%s: contains a NUL byte", path);
		goto fail;
	}
	if (parse(c, &owned, &nowned, &has_password, err) == -1)
		goto fail;
	c->owned = owned;
	c->nowned = nowned;
	owned = NULL;
	wipe_unused(c);
	scrub_stack();
	if (has_password && (sb.st_mode & (S_IRWXG | S_IRWXO))) {
		error_set(err, ERR_CONFIG, "%s: holds a password but others "
		    "may read it; refusing it (chmod 600 %s)", path, path);
		config_free(c);
		return NULL;
	}
	return c;
fail:
	if (fd != -1)
		close(fd);
	while (nowned > 0)
		free(owned[--nowned]);
	free(owned);
	config_free(c);
	return NULL;
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->naccounts; i++)
		free(c->accounts[i].entries);
	free(c->accounts);
	free(c->defaults.entries);
	for (i = 0; i < c->nowned; i++)
		secret_free(c->owned[i]);
	free(c->owned);
	if (c->text != NULL) {
		explicit_bzero(c->text, c->textlen);
		free(c->text);
	}
	free(c->path);
	free(c);
}

const struct config_block *
config_account(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->naccounts; i++)
		if (strcmp(c->accounts[i].name, name) == 0)
			return &c->accounts[i];
	return NULL;
}
