/*
 * mda.c - the MDA backend (backend.h): each message is piped into
 * COMMAND, run by /bin/sh; exit status 0 means delivered.
 *
 * %F in the command becomes the envelope sender, single-quoted; the
 * sender was already reduced to characters that cannot leave the quotes
 * (envelope_sender).  An MDA cannot be asked or rolled back, so its token
 * body is empty and a message whose delivery was interrupted is
 * delivered again: at least once.  A message is the MDA's once it
 * exited 0, so finish is the barrier and sync only counts.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"

struct mda {
	char		*command;
	pid_t		 pid;
	size_t		 finished;	/* since the last sync */
	struct wbuf	 w;
};

static void *
mda_open(const struct deliver_params *p, struct error *err)
{
	struct mda *m = xcalloc(1, sizeof(*m));

	(void)err;
	m->command = xstrdup(p->target);
	m->pid = -1;
	m->w.fd = -1;
	return m;
}

/* The command with %F replaced and %% turned into %. */
static char *
expand(const char *cmd, const char *sender)
{
	size_t cap = strlen(cmd) + 1, n = 0, sl = strlen(sender);
	char *out = xmalloc(cap);
	const char *p;

	for (p = cmd; *p != '\0'; p++) {
		if (n + sl + 4 >= cap) {
			cap = (cap + sl + 4) * 2;
			out = xreallocarray(out, cap, 1);
		}
		if (p[0] == '%' && p[1] == 'F') {
			out[n++] = '\'';
			memcpy(out + n, sender, sl);
			n += sl;
			out[n++] = '\'';
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			out[n++] = '%';
			p++;
		} else
			out[n++] = *p;
	}
	out[n] = '\0';
	return out;
}

static const char *
mda_prepare(void *h, struct error *err)
{
	(void)h;
	(void)err;
	return "";
}

static int
mda_begin(void *h, const char *sender, struct error *err)
{
	struct mda *m = h;
	char *cmd = expand(m->command, sender);
	int fds[2];

	if (pipe(fds) == -1) {
		free(cmd);
		return error_set(err, ERR_IO, "pipe: %s", strerror(errno));
	}
	/* Neither end may leak into the MDA past exec, or it would never
	 * see the end of its input. */
	(void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	if ((m->pid = fork()) == -1) {
		free(cmd);
		(void)close(fds[0]);
		(void)close(fds[1]);
		return error_set(err, ERR_IO, "fork: %s", strerror(errno));
	}
	if (m->pid == 0) {
		(void)signal(SIGPIPE, SIG_DFL);
		if (dup2(fds[0], STDIN_FILENO) == -1)
			_exit(127);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	free(cmd);
	(void)close(fds[0]);
	m->w.fd = fds[1];
	m->w.len = 0;
	return 0;
}

static int
mda_write(void *h, const char *data, size_t len, struct error *err)
{
	struct mda *m = h;

	if (wbuf_put(&m->w, data, len) == -1)
		return error_set(err, ERR_IO, "MDA: %s", errno == EPIPE ?
		    "it stopped reading the message" : strerror(errno));
	return 0;
}

static int
reap(struct mda *m)
{
	int st;

	while (waitpid(m->pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	m->pid = -1;
	return st;
}

static int
mda_finish(void *h, struct error *err)
{
	struct mda *m = h;
	int st, werr = 0;

	if (wbuf_flush(&m->w) == -1)
		werr = errno;
	(void)close(m->w.fd);
	m->w.fd = -1;
	st = reap(m);
	if (werr != 0)
		return error_set(err, ERR_IO, "MDA: %s", werr == EPIPE ?
		    "it stopped reading the message" : strerror(werr));
	if (st == -1 || !WIFEXITED(st))
		return error_set(err, ERR_IO, "MDA: killed by a signal");
	if (WEXITSTATUS(st) == 75)
		return error_set(err, ERR_DEFERRED, "MDA: exit status 75 "
		    "(temporary failure)");
	if (WEXITSTATUS(st) != 0)
		return error_set(err, ERR_IO, "MDA: exit status %d",
		    WEXITSTATUS(st));
	m->finished++;
	return 0;
}

static int
mda_sync(void *h, size_t *published, struct error *err)
{
	struct mda *m = h;

	(void)err;
	*published = m->finished;
	m->finished = 0;
	return 0;
}

static void
mda_abort(void *h)
{
	struct mda *m = h;

	if (m == NULL || m->pid == -1)
		return;
	/* Kill it first: at end of input it might deliver half a
	 * message. */
	(void)kill(m->pid, SIGKILL);
	(void)close(m->w.fd);
	m->w.fd = -1;
	(void)reap(m);
}

static void
mda_close(void *h)
{
	struct mda *m = h;

	if (m == NULL)
		return;
	mda_abort(m);
	free(m->command);
	free(m);
}

static int
mda_recover(const char **bodies, size_t n, int *delivered,
    deliver_warn *warn, void *arg, struct error *err)
{
	size_t i;

	(void)bodies;
	(void)err;
	for (i = 0; i < n; i++) {
		delivered[i] = 0;
		warn(arg, "a delivery to the MDA was interrupted; that "
		    "message is delivered again");
	}
	return 0;
}

const struct backend mda_backend = {
	.name = "mda",
	.kind = DELIVER_MDA,
	.durable_token = 0,
	.open = mda_open,
	.prepare = mda_prepare,
	.begin = mda_begin,
	.write = mda_write,
	.finish = mda_finish,
	.sync = mda_sync,
	.abort = mda_abort,
	.close = mda_close,
	.recover = mda_recover
};
