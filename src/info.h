/*
 * info.h - the info command: the connection, the certificate, the
 * capabilities before and after login, and the account's state file.
 */
#ifndef INFO_H
#define INFO_H

#include "util.h"

struct cli_settings;

/*
 * Connects and verifies as a run would, prints what it learns (text, or
 * one JSON object with co.json), logs in and prints the capabilities
 * again.  Sets s->errhost.  Changes nothing on the server or on disk.
 * Errors: those of session_open, session_login and pop3_capa, ERR_IO
 * for stdout.
 */
int	info_run(struct cli_settings *s, struct error *);

/* -d 1 and more: where the password comes from (never the password)
 * and, for fetch, the state file, through s->sp.trace. */
void	info_trace(const struct cli_settings *s, int fetch);

#endif
