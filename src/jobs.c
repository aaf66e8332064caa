/*
 * jobs.c - the process pool behind --all-accounts and -j.
 *
 * Each job's stdout and stderr arrive through pipes and go on line by
 * line, so that the lines of two jobs never mix.  A line of stdout is
 * passed on whole however long it is (a streamed fetch --json is one
 * line): while one job's line is half written, no other job's stdout is
 * read, and those jobs wait on their full pipes.  Lines on stderr are
 * short messages; one longer than the buffer is cut rather than held,
 * so that a job holding stdout can never wait on one holding stderr.
 *
 * A job has ended when its process has exited, not when its pipes
 * close: a password helper or an MDA may leave a background process (an
 * agent) holding them.  Once a job has exited, what is in its pipes is
 * read without waiting and the pipes are closed.
 *
 * With a status callback each job has a third pipe, its status channel:
 * short lines the parent shows itself (a progress display), read
 * whenever they come, never held for the stdout holder.  Both ends are
 * non-blocking: a job whose channel is full drops the line rather than
 * wait for the parent.
 */
#define _GNU_SOURCE		/* pipe2 */

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "jobs.h"

struct job {
	pid_t	 pid;		/* > 0 until it has been reported */
	int	 exited;	/* waitpid returned it; status is set */
	int	 status;
	int	 fd[3];		/* stdout, stderr, status; -1 once at EOF */
	int	 open[2];	/* a line is half passed on */
	size_t	 len[2];
	char	 buf[2][4096];
	size_t	 slen;		/* status bytes held */
	int	 sdrop;		/* dropping an overlong status line */
	char	 sbuf[JOBS_STATUS_MAX + 1];
};

struct pool {
	const struct jobs_params *p;
	struct job		*jobs;
	struct jobs_status	*st;
	size_t			 started;
	long			 holder;	/* whose stdout line is half
						 * passed on, or -1 */
};

static void
child(struct pool *pl, size_t i, int out[2], int errp[2], int stp[2])
{
	size_t k;
	int r, f;

	for (k = 0; k < i; k++)
		for (f = 0; f < 3; f++)
			if (pl->jobs[k].fd[f] != -1)
				(void)close(pl->jobs[k].fd[f]);
	(void)close(out[0]);
	(void)close(errp[0]);
	if (stp[0] != -1)
		(void)close(stp[0]);
	if (dup2(out[1], STDOUT_FILENO) == -1 ||
	    dup2(errp[1], STDERR_FILENO) == -1)
		_exit(EX_OSERR);
	(void)close(out[1]);
	(void)close(errp[1]);
	/* Nothing to read for a job in the background. */
	(void)close(STDIN_FILENO);
	(void)open("/dev/null", O_RDONLY);
	r = pl->p->run(pl->p->arg, i, stp[1]);
	fflush(NULL);
	_exit(r);
}

static void
close_pair(int p[2])
{
	if (p[0] != -1)
		(void)close(p[0]);
	if (p[1] != -1)
		(void)close(p[1]);
}

static int
start(struct pool *pl, size_t i)
{
	struct job *j = &pl->jobs[i];
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, stp[2] = { -1, -1 };
	int e;

	/* Close-on-exec: nothing a job runs may inherit another job's
	 * pipes (dup2 clears the flag on the job's own stdout and
	 * stderr), nor its own status channel. */
	if (pipe2(out, O_CLOEXEC) == -1 || pipe2(errp, O_CLOEXEC) == -1 ||
	    (pl->p->status != NULL &&
	    pipe2(stp, O_CLOEXEC | O_NONBLOCK) == -1)) {
		e = errno;
		close_pair(out);
		close_pair(errp);
		errno = e;
		return -1;
	}
	fflush(NULL);
	if ((j->pid = fork()) == -1) {
		e = errno;
		close_pair(out);
		close_pair(errp);
		close_pair(stp);
		errno = e;
		return -1;
	}
	if (j->pid == 0)
		child(pl, i, out, errp, stp);
	(void)close(out[1]);
	(void)close(errp[1]);
	if (stp[1] != -1)
		(void)close(stp[1]);
	/* Never blocks: after the job exited, its pipes are emptied
	 * without waiting for whoever else holds them. */
	(void)fcntl(out[0], F_SETFL, O_NONBLOCK);
	(void)fcntl(errp[0], F_SETFL, O_NONBLOCK);
	j->exited = 0;
	j->fd[0] = out[0];
	j->fd[1] = errp[0];
	j->fd[2] = stp[0];
	j->slen = 0;
	j->sdrop = 0;
	return 0;
}

/* Reads job i's status channel and passes on each whole line; 0 at EOF
 * (or, once the job has exited, when nothing more is there). */
static int
drain_status(struct pool *pl, size_t i)
{
	struct job *j = &pl->jobs[i];
	char *nl;
	size_t n;
	ssize_t r;

	r = read(j->fd[2], j->sbuf + j->slen, sizeof(j->sbuf) - j->slen);
	if (r == -1)
		return errno == EINTR || (errno == EAGAIN && !j->exited);
	if (r == 0)
		return 0;
	j->slen += (size_t)r;
	while ((nl = memchr(j->sbuf, '\n', j->slen)) != NULL) {
		n = (size_t)(nl - j->sbuf);
		if (!j->sdrop)
			pl->p->status(pl->p->arg, i, j->sbuf, n);
		j->sdrop = 0;
		memmove(j->sbuf, nl + 1, j->slen - n - 1);
		j->slen -= n + 1;
	}
	/* Longer than any status line: dropped up to its newline. */
	if (j->slen == sizeof(j->sbuf)) {
		j->slen = 0;
		j->sdrop = 1;
	}
	return 1;
}

/* Reads what job i wrote to stream k and passes on what it can; 0 at
 * EOF. */
static int
drain(struct pool *pl, size_t i, int k)
{
	struct job *j = &pl->jobs[i];
	char *b = j->buf[k], *nl;
	size_t n;
	ssize_t r;
	int eof, flags;

	r = read(j->fd[k], b + j->len[k], sizeof(j->buf[k]) - j->len[k]);
	if (r > 0)
		j->len[k] += (size_t)r;
	/* EAGAIN: nothing more for now; the end only once the job has
	 * exited (what a background process writes later is lost). */
	eof = r == 0 || (r == -1 && errno != EINTR && (errno != EAGAIN ||
	    j->exited));
	if (r == -1 && errno == EAGAIN && !eof)
		return 1;
	while (j->len[k] > 0) {
		nl = memchr(b, '\n', j->len[k]);
		if (nl == NULL && j->len[k] < sizeof(j->buf[k]) && !eof)
			break;
		n = nl != NULL ? (size_t)(nl - b) : j->len[k];
		flags = (j->open[k] ? 0 : JOBS_FIRST) |
		    (nl != NULL || eof || k == 1 ? JOBS_LAST : 0);
		pl->p->out(pl->p->arg, i, k + 1, b, n, flags);
		j->open[k] = !(flags & JOBS_LAST);
		if (nl != NULL)
			n++;
		memmove(b, b + n, j->len[k] - n);
		j->len[k] -= n;
	}
	if (eof && j->open[k]) {
		pl->p->out(pl->p->arg, i, k + 1, b, 0, JOBS_LAST);
		j->open[k] = 0;
	}
	if (k == 0)
		pl->holder = j->open[0] ? (long)i : -1;
	return !eof;
}

static void
reap(struct pool *pl, size_t i)
{
	struct jobs_status *st = &pl->st[i];
	int status = pl->jobs[i].status;

	memset(st, 0, sizeof(*st));
	if (WIFEXITED(status))
		st->code = WEXITSTATUS(status);
	else {
		st->code = EX_SOFTWARE;
		st->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	}
	pl->jobs[i].pid = 0;
	pl->p->done(pl->p->arg, i, st);
}

/* Notes the jobs that have exited; -1 with errno if waitpid failed. */
static int
check_exits(struct pool *pl)
{
	struct job *j;
	size_t i;
	pid_t r;

	for (i = 0; i < pl->started; i++) {
		j = &pl->jobs[i];
		if (j->pid <= 0 || j->exited)
			continue;
		while ((r = waitpid(j->pid, &j->status, WNOHANG)) == -1 &&
		    errno == EINTR)
			;
		if (r == -1)
			return -1;
		if (r == j->pid)
			j->exited = 1;
	}
	return 0;
}

/* Empties the pipes of a job that exited, as far as the holder of
 * stdout allows. */
static void
empty_pipes(struct pool *pl, size_t i)
{
	struct job *j = &pl->jobs[i];
	int k, n;

	if (j->fd[2] != -1) {
		for (n = 0; n < 256 && drain_status(pl, i); n++)
			;
		(void)close(j->fd[2]);
		j->fd[2] = -1;
	}
	for (k = 1; k >= 0; k--) {
		if (j->fd[k] == -1 || (k == 0 && pl->holder >= 0 &&
		    pl->holder != (long)i))
			continue;
		for (n = 0; n < 256 && drain(pl, i, k); n++)
			;
		(void)close(j->fd[k]);
		j->fd[k] = -1;
		if (k == 0 && j->open[0]) {
			pl->p->out(pl->p->arg, i, 1, "", 0, JOBS_LAST);
			j->open[0] = 0;
		}
		if (k == 0)
			pl->holder = -1;
	}
}

/* Starts jobs up to the limit; returns how many run. */
static size_t
fill(struct pool *pl, size_t running)
{
	const struct jobs_params *p = pl->p;
	size_t max = p->max > 0 ? (size_t)p->max : 1;

	while (pl->started < p->n && running < max) {
		size_t i = pl->started++;

		if (start(pl, i) == 0) {
			running++;
			if (p->start != NULL)
				p->start(p->arg, i);
			continue;
		}
		pl->jobs[i].pid = 0;
		pl->st[i].code = EX_OSERR;
		pl->st[i].start_errno = errno;
		p->done(p->arg, i, &pl->st[i]);
	}
	return running;
}

int
jobs_run(const struct jobs_params *p, struct jobs_status *st,
    struct error *err)
{
	struct pool pl = { p, NULL, st, 0, -1 };
	struct pollfd *pfd;
	size_t *who, running = 0, np, m, i;
	int k, r = 0;

	pl.jobs = xcalloc(p->n, sizeof(*pl.jobs));
	pfd = xcalloc(3 * p->n, sizeof(*pfd));
	who = xcalloc(3 * p->n, sizeof(*who));
	for (i = 0; i < p->n; i++) {
		pl.jobs[i].fd[0] = pl.jobs[i].fd[1] = pl.jobs[i].fd[2] = -1;
		st[i].code = EX_OSERR;
	}
	while ((running = fill(&pl, running)) > 0) {
		for (i = 0, np = 0; i < pl.started; i++)
			for (k = 0; k < 3; k++)
				if (pl.jobs[i].pid > 0 &&
				    pl.jobs[i].fd[k] != -1 && (k != 0 ||
				    pl.holder < 0 || pl.holder == (long)i)) {
					pfd[np].fd = pl.jobs[i].fd[k];
					pfd[np].events = POLLIN;
					who[np++] = 3 * i + (size_t)k;
				}
		/* Wakes up now and then to see which jobs have exited. */
		if (poll(pfd, np, 100) == -1 && errno != EINTR) {
			r = error_set(err, ERR_IO, "poll: %s",
			    strerror(errno));
			break;
		}
		for (m = 0; m < np; m++) {
			i = who[m] / 3;
			k = (int)(who[m] % 3);
			if (pfd[m].revents == 0 || (k == 0 && pl.holder >= 0 &&
			    pl.holder != (long)i))
				continue;
			if (!(k == 2 ? drain_status(&pl, i) :
			    drain(&pl, i, k))) {
				(void)close(pl.jobs[i].fd[k]);
				pl.jobs[i].fd[k] = -1;
			}
		}
		if (check_exits(&pl) == -1) {
			r = error_set(err, ERR_IO, "waitpid: %s",
			    strerror(errno));
			break;
		}
		for (i = 0; i < pl.started; i++)
			if (pl.jobs[i].pid > 0 && pl.jobs[i].exited) {
				empty_pipes(&pl, i);
				if (pl.jobs[i].fd[0] == -1 &&
				    pl.jobs[i].fd[1] == -1) {
					reap(&pl, i);
					running--;
				}
			}
		if (p->tick != NULL)
			p->tick(p->arg);
	}
	for (i = 0; i < pl.started; i++)
		for (k = 0; k < 3; k++)
			if (pl.jobs[i].fd[k] != -1)
				(void)close(pl.jobs[i].fd[k]);
	free(who);
	free(pfd);
	free(pl.jobs);
	return r;
}
