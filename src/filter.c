/*
 * filter.c - running a filter command on a message header (filter.h).
 *
 * The filter is a child with a time limit: its input is written
 * without blocking, so a filter that never reads cannot hold popfetch,
 * and its whole process group is killed when the time is up, so that a
 * shell's children die with it.  A filter that exits before reading
 * everything is fine (EPIPE is expected: SIGPIPE is ignored in
 * popfetch, and reset to the default in the child).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "filter.h"

static void
child(int in, const char *cmd, unsigned long num, unsigned long long size,
    const char *uid)
{
	char nb[32], sb[32];

	(void)setpgid(0, 0);
	(void)signal(SIGPIPE, SIG_DFL);
	if (dup2(in, STDIN_FILENO) == -1)
		_exit(127);
	(void)snprintf(nb, sizeof(nb), "%lu", num);
	(void)snprintf(sb, sizeof(sb), "%llu", size);
	(void)unsetenv("POPFETCH_PASSWORD");
	(void)unsetenv("POPFETCH_PROXY_PASSWORD");
	if (setenv("POPFETCH_MSG_NUMBER", nb, 1) == -1 ||
	    setenv("POPFETCH_MSG_SIZE", sb, 1) == -1 ||
	    setenv("POPFETCH_MSG_UID", uid != NULL ? uid : "", 1) == -1)
		_exit(127);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

int
filter_run(const char *cmd, int timeout, unsigned long num,
    unsigned long long size, const char *uid, const char *hdr, size_t len,
    enum filter_verdict *verdict, struct error *err)
{
	long long deadline = now_ms() + (long long)timeout * 1000;
	struct pollfd pfd;
	size_t off = 0;
	ssize_t w;
	pid_t pid, r;
	int fds[2], st = 0, done = 0;

	if (pipe(fds) == -1)
		return error_set(err, ERR_IO, "filter: pipe: %s",
		    strerror(errno));
	(void)fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	if ((pid = fork()) == -1) {
		(void)close(fds[0]);
		(void)close(fds[1]);
		return error_set(err, ERR_IO, "filter: fork: %s",
		    strerror(errno));
	}
	if (pid == 0)
		child(fds[0], cmd, num, size, uid);
	(void)setpgid(pid, pid);	/* either side may win the race */
	(void)close(fds[0]);
	(void)fcntl(fds[1], F_SETFL, O_NONBLOCK);
	while (off < len && now_ms() < deadline) {
		pfd.fd = fds[1];
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		w = write(fds[1], hdr + off, len - off);
		if (w == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (w == -1)
			break;		/* EPIPE: it stopped reading */
		off += (size_t)w;
	}
	(void)close(fds[1]);
	while (!done) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid || (r == -1 && errno != EINTR))
			done = 1;
		else if (now_ms() >= deadline) {
			(void)kill(-pid, SIGKILL);
			(void)kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
				;
			return error_set(err, ERR_IO, "filter: no answer "
			    "within %d seconds; it was killed", timeout);
		} else
			(void)poll(NULL, 0, 10);
	}
	if (!WIFEXITED(st))
		return error_set(err, ERR_IO, "filter: killed by signal %d",
		    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	if (WEXITSTATUS(st) > 2)
		return error_set(err, ERR_IO, "filter: exit status %d (0 "
		    "fetches, 1 deletes, 2 leaves a message)",
		    WEXITSTATUS(st));
	*verdict = (enum filter_verdict)WEXITSTATUS(st);
	return 0;
}
