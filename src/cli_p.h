/*
 * cli_p.h - the option table's rows, shared by the two files of the cli
 * module: cli.c (the table, applying and parsing) and cli_doc.c (what is
 * written from it for people and tools: --help, --list-options, hints).
 * Nothing else includes it.
 */
#ifndef CLI_P_H
#define CLI_P_H

#include "cli.h"

enum cli_arg {
	ARG_NONE,	/* a flag */
	ARG_STRING,
	ARG_PATH,	/* a file or directory */
	ARG_COMMAND,	/* run by /bin/sh */
	ARG_NUMBER,	/* strtonum within [min, max] */
	ARG_ENUM	/* one of values */
};

enum cli_group {
	G_SERVER, G_TLS, G_LOGIN, G_OAUTH2, G_DELIVER, G_FETCH, G_OUTPUT,
	G_ACCOUNTS,
	G_HIDDEN
};

/* How a row's value is stored at its offset. */
enum cli_store {
	STORE_NONE,	/* the setter does it */
	STORE_STR,	/* const char *: the argument itself */
	STORE_INT,	/* int: a flag, or a number */
	STORE_ULONG,
	STORE_ULLONG
};

#define F_KEYWORD	0x01	/* an accounts-file keyword */
#define F_ARGV		0x02	/* a command-line option */
#define F_FIRST		0x04	/* applied first within a layer */
#define F_ANYCASE	0x08	/* values match in any case */
#define KW		(F_KEYWORD | F_ARGV)

struct cli_value {
	const char	*name;
	int		 val;
	int		 sub;		/* --auth: the SASL mechanism */
};

struct cli_option;
typedef int cli_setter(struct cli_settings *, const struct cli_option *,
    const char *arg, const struct cli_value *, struct error *);

struct cli_option {
	const char		*name;		/* long option and keyword */
	char			 shortname;	/* 0: none */
	enum cli_arg		 arg;
	const char		*argname;	/* "DIR", for --help */
	enum cli_group		 group;
	unsigned		 flags;
	const char		*help;		/* one line */
	long long		 min, max;	/* ARG_NUMBER */
	const struct cli_value	*values;	/* ARG_ENUM, NULL-terminated */
	const char		*dflt;		/* applied before any layer */
	size_t			 off;		/* into struct cli_settings, or
						 * struct cli_args without
						 * F_KEYWORD */
	enum cli_store		 store;
	int			 clear;		/* a flag that stores 0 */
	int			 val;		/* a setter's parameter */
	cli_setter		*set;
};


/* The table, indexed by enum cli_id. */
extern const struct cli_option cli_options[O_COUNT];

/* Appends s to buf (of len bytes, NUL-terminated); -1 once it no longer
 * fits. */
int	cli_append(char *buf, size_t len, const char *s);

#endif
