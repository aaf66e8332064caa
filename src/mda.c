/*
 * mda.c - the MDA backend (backend.h): each message is handed to
 * COMMAND, run by /bin/sh; exit status 0 means delivered.
 *
 * Once and whole.  The message is first spooled into an unlinked file
 * (O_TMPFILE in $TMPDIR or /tmp); only when the whole message is there
 * does the MDA start, with that file as its standard input.  So an MDA
 * never sees the end of a partial message: if the download fails or
 * popfetch dies, no MDA was started for it.  The MDA runs in a process
 * group of its own, with a parent-death signal (SIGKILL), and a time
 * limit (mda_timeout): when the limit passes, or the delivery is
 * aborted, the whole group is killed, and the message is not recorded.
 * The backend asks to be synced after each message (record_each), so
 * fetch.c records a message as delivered as soon as its MDA exited 0,
 * before the next one starts: a crash repeats at most the message whose
 * MDA had not yet exited.  An MDA cannot be asked or rolled back, so its
 * token body is empty and a message whose delivery was interrupted is
 * delivered again: at least once, but never partial.
 *
 * %F in the command becomes the envelope sender, single-quoted; the
 * sender was already reduced to characters that cannot leave the quotes
 * (envelope_sender).  A sender that begins with "-" would be read as an
 * option by an MDA that takes %F as an argument; it becomes
 * MAILER-DAEMON instead.
 */
#define _GNU_SOURCE		/* O_TMPFILE, mkostemp */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"

struct mda {
	char		*command;
	char		*cmd;		/* expanded for this message */
	int		 timeout;	/* seconds */
	pid_t		 pid;		/* MDA and process group */
	size_t		 finished;	/* since the last sync */
	struct wbuf	 w;		/* into the spool file */
};

static void *
mda_open(const struct deliver_params *p, struct error *err)
{
	struct mda *m = xcalloc(1, sizeof(*m));

	(void)err;
	m->command = xstrdup(p->target);
	m->timeout = p->child_timeout > 0 ? p->child_timeout : 300;
	m->pid = -1;
	m->w.fd = -1;
	return m;
}

static const char *
mda_prepare(void *h, struct error *err)
{
	(void)h;
	(void)err;
	return "";
}

/* An unlinked, private, close-on-exec file for one message. */
static int
spool_open(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (dir == NULL || *dir != '/')
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd != -1 || (errno != EOPNOTSUPP && errno != EISDIR &&
	    errno != EINVAL))
		return fd;
	if (snprintf(path, sizeof(path), "%s/popfetch-mda.XXXXXX", dir) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkostemp(path, O_CLOEXEC)) != -1)
		(void)unlink(path);
	return fd;
}

static int
mda_begin(void *h, const char *sender, struct error *err)
{
	struct mda *m = h;

	if ((m->w.fd = spool_open()) == -1)
		return error_set(err, ERR_IO, "MDA: cannot spool the "
		    "message: %s", strerror(errno));
	m->w.len = 0;
	free(m->cmd);
	/* %F: a sender that could pass for an option is not given. */
	m->cmd = sh_expand(m->command, "F", (const char *const[]){
	    sender[0] == '-' ? "MAILER-DAEMON" : sender });
	return 0;
}

static int
mda_write(void *h, const char *data, size_t len, struct error *err)
{
	struct mda *m = h;

	if (wbuf_put(&m->w, data, len) == -1)
		return error_set(err, ERR_IO, "MDA: cannot spool the "
		    "message: %s", strerror(errno));
	return 0;
}

/* Kills the MDA's whole process group and reaps the MDA. */
static void
kill_group(struct mda *m)
{
	int st;

	if (m->pid <= 0)
		return;
	(void)kill(-m->pid, SIGKILL);
	(void)kill(m->pid, SIGKILL);
	while (waitpid(m->pid, &st, 0) == -1 && errno == EINTR)
		;
	m->pid = -1;
}

/*
 * Waits for the MDA until the deadline: 0 with *st, 1 when the deadline
 * passed (the MDA still runs), -1 with errno when waitpid failed.
 */
static int
wait_until(struct mda *m, long long deadline, int *st)
{
	struct timespec ts;
	long ms = 1;
	pid_t r;

	for (;;) {
		r = waitpid(m->pid, st, WNOHANG);
		if (r == m->pid) {
			m->pid = -1;
			return 0;
		}
		if (r == -1 && errno != EINTR)
			return -1;
		if (now_ms() >= deadline)
			return 1;
		ts.tv_sec = 0;
		ts.tv_nsec = ms * 1000000;
		(void)nanosleep(&ts, NULL);
		if (ms < 50)
			ms *= 2;
	}
}

static void
run_child(struct mda *m, pid_t parent)
{
	sigset_t none;

	(void)setpgid(0, 0);
	/* Dies with popfetch; if popfetch is already gone, goes at once. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(127);
	(void)sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)signal(SIGPIPE, SIG_DFL);
	if (dup2(m->w.fd, STDIN_FILENO) == -1)
		_exit(127);
	execl("/bin/sh", "sh", "-c", m->cmd, (char *)NULL);
	_exit(127);
}

static int
mda_finish(void *h, struct error *err)
{
	struct mda *m = h;
	pid_t parent = getpid();
	int st = 0, r;

	if (wbuf_flush(&m->w) == -1 || lseek(m->w.fd, 0, SEEK_SET) == -1) {
		error_set(err, ERR_IO, "MDA: cannot spool the message: %s",
		    strerror(errno));
		goto fail;
	}
	if ((m->pid = fork()) == -1) {
		error_set(err, ERR_IO, "MDA: fork: %s", strerror(errno));
		goto fail;
	}
	if (m->pid == 0)
		run_child(m, parent);
	/* Both sides set the group, so that kill_group never misses. */
	(void)setpgid(m->pid, m->pid);
	(void)close(m->w.fd);
	m->w.fd = -1;
	r = wait_until(m, now_ms() + (long long)m->timeout * 1000, &st);
	if (r == 1) {
		kill_group(m);
		return error_set(err, ERR_DEFERRED, "MDA: still running "
		    "after %d seconds; killed it, and the message is "
		    "fetched again next time", m->timeout);
	}
	if (r == -1) {
		error_set(err, ERR_IO, "MDA: waitpid: %s", strerror(errno));
		kill_group(m);
		return -1;
	}
	if (WIFSIGNALED(st))
		return error_set(err, ERR_IO, "MDA: killed by signal %d (%s)",
		    WTERMSIG(st), strsignal(WTERMSIG(st)));
	if (!WIFEXITED(st))
		return error_set(err, ERR_IO, "MDA: stopped, status %#x", st);
	if (WEXITSTATUS(st) == 75)
		return error_set(err, ERR_DEFERRED, "MDA: exit status 75 "
		    "(temporary failure)");
	if (WEXITSTATUS(st) != 0)
		return error_set(err, ERR_IO, "MDA: exit status %d",
		    WEXITSTATUS(st));
	m->finished++;
	return 0;
fail:
	(void)close(m->w.fd);
	m->w.fd = -1;
	return -1;
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

	if (m == NULL)
		return;
	/* Kill the group first: at end of input it might deliver half a
	 * message. */
	kill_group(m);
	if (m->w.fd != -1)
		(void)close(m->w.fd);
	m->w.fd = -1;
}

static void
mda_close(void *h)
{
	struct mda *m = h;

	if (m == NULL)
		return;
	mda_abort(m);
	free(m->cmd);
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
	.record_each = 1,
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
