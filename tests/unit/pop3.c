/*
 * pop3.c - unit tests of the protocol layer over a socket pair: the
 * command table (states, what a +OK does, what is secret, what may be
 * pipelined), the one place the state changes, and broken connections
 * (refused afterwards with the error that broke them, nothing more
 * written).  The "server" is the other end of the pair: its replies are
 * written ahead, and what the client sent is read back.  Run by
 * tests/protocol.bats; exit 0 when all pass, else prints what failed.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/pop3.h"

static int failed;
static char traced[4096];

static void
check(int ok, const char *what)
{
	if (!ok) {
		printf("FAIL: %s\n", what);
		failed = 1;
	}
}

static void
tracer(void *arg, const char *line)
{
	(void)arg;
	(void)strlcat(traced, line, sizeof(traced));
	(void)strlcat(traced, "\n", sizeof(traced));
}

/* A client over a socket pair whose server end is *srv, with replies
 * already sent. */
static struct pop3 *
client(int *srv, const char *replies)
{
	struct timeval tv = { 2, 0 };
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	/* A reply that never comes must not hang the test. */
	(void)setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (write(sv[0], replies, strlen(replies)) != (ssize_t)strlen(replies))
		abort();
	*srv = sv[0];
	return pop3_new(net_from_fd(sv[1], 2));
}

/* What the client has written since the last call. */
static const char *
sent(int srv)
{
	static char buf[4096];
	ssize_t n = recv(srv, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int
collect(void *arg, const char *d, size_t n, struct error *err)
{
	(void)err;
	(void)strncat(arg, d, n);
	return 0;
}

static void
states(void)
{
	struct error err;
	struct pop3 *p;
	int srv;

	p = client(&srv, "+OK hi <1.2@x>\r\n+OK\r\n+OK\r\n+OK bye\r\n");
	check(pop3_greeting(p, &err) == 0, "greeting");
	check(strcmp(pop3_timestamp(p), "<1.2@x>") == 0, "APOP timestamp");
	check(pop3_stat(p, NULL, NULL, &err) == -1 &&
	    err.cls == ERR_SOFTWARE && strstr(err.msg, "AUTHORIZATION") !=
	    NULL, "STAT is refused before login");
	check(pop3_command(p, ERR_REFUSED, &err, "XTND XMIT") == -1 &&
	    err.cls == ERR_SOFTWARE, "a command not in the table is refused");
	check(pop3_queue(p, &err, "PASS x") == -1 &&
	    strstr(err.msg, "pipelined") != NULL,
	    "a command with a secret is not pipelined");
	check(*sent(srv) == '\0', "nothing refused was written");
	check(pop3_command(p, ERR_AUTH, &err, "USER alice") == 0 &&
	    pop3_state(p) == POP3_AUTHORIZATION, "USER does not log in");
	pop3_set_trace(p, 2, tracer, NULL);
	check(pop3_command(p, ERR_AUTH, &err, "PASS s3cret") == 0 &&
	    pop3_state(p) == POP3_TRANSACTION, "PASS logs in");
	check(strstr(traced, "> PASS ****") != NULL &&
	    strstr(traced, "s3cret") == NULL, "PASS is traced as ****");
	check(strcmp(sent(srv), "USER alice\r\nPASS s3cret\r\n") == 0,
	    "USER and PASS were written");
	check(pop3_command(p, ERR_AUTH, &err, "USER bob") == -1 &&
	    err.cls == ERR_SOFTWARE, "USER is refused after login");
	check(pop3_quit(p, &err) == 0 && pop3_state(p) == POP3_UPDATE &&
	    strcmp(sent(srv), "QUIT\r\n") == 0, "QUIT ends the session");
	check(pop3_noop(p, &err) == -1 && err.cls == ERR_SOFTWARE &&
	    *sent(srv) == '\0', "nothing is allowed after QUIT");
	check(!pop3_broken(p), "refusals do not break the connection");
	pop3_free(p);
	close(srv);
}

static void
sasl(void)
{
	struct error err;
	struct pop3 *p;
	int srv;

	p = client(&srv, "+OK\r\n+ \r\n+ Zm9v\r\n+OK in\r\n");
	check(pop3_greeting(p, &err) == 0, "greeting");
	check(pop3_sasl_line(p, "x", &err) == -1 && err.cls == ERR_SOFTWARE,
	    "a SASL line without a challenge is refused");
	check(pop3_auth(p, "PLAIN", NULL, &err) == 1, "an empty challenge");
	check(pop3_sasl_line(p, "AGEAYg==", &err) == 1 &&
	    strcmp(pop3_reply_text(p), "Zm9v") == 0, "a challenge");
	check(pop3_state(p) == POP3_AUTHORIZATION, "not yet logged in");
	check(pop3_sasl_line(p, "", &err) == 0 &&
	    pop3_state(p) == POP3_TRANSACTION, "a finished AUTH logs in");
	check(strcmp(sent(srv), "AUTH PLAIN\r\nAGEAYg==\r\n\r\n") == 0,
	    "AUTH and the responses were written");
	pop3_free(p);
	close(srv);
}

static void
broken(void)
{
	struct error err, again;
	struct pop3_msg *m;
	struct pop3 *p;
	size_t n;
	int srv;

	p = client(&srv, "+OK\r\n+OK\r\n-ERR no such message\r\n"
	    "+OK\r\n2 b\r\n1 a\r\n.\r\n");
	check(pop3_greeting(p, &err) == 0 &&
	    pop3_command(p, ERR_AUTH, &err, "PASS x") == 0, "login");
	check(pop3_dele(p, 9, &err) == -1 && err.cls == ERR_REFUSED &&
	    !pop3_broken(p), "a -ERR leaves the connection usable");
	check(pop3_uidl(p, 0, &m, &n, &err) == -1 && err.cls == ERR_PROTO &&
	    strncmp(err.msg, "UIDL: message 1 listed out of order", 35) == 0,
	    "a listing out of order is a protocol error of UIDL");
	check(m == NULL && n == 0, "a failed listing returns nothing");
	check(pop3_broken(p), "and it breaks the connection");
	(void)sent(srv);
	check(pop3_noop(p, &again) == -1 && again.cls == err.cls &&
	    strcmp(again.msg, err.msg) == 0, "NOOP fails with that error");
	check(pop3_queue(p, &again, "RETR 1") == -1 &&
	    pop3_flush(p, &again) == -1 && pop3_quit(p, &again) == -1 &&
	    strcmp(again.msg, err.msg) == 0, "and so do queue, flush, QUIT");
	check(*sent(srv) == '\0', "nothing is written after it broke");
	pop3_free(p);
	close(srv);

	p = client(&srv, "+OK\r\n+OK\r\n-ERR [SYS/TEMP] later\r\n");
	check(pop3_greeting(p, &err) == 0 &&
	    pop3_command(p, ERR_AUTH, &err, "PASS x") == 0, "login");
	check(pop3_noop(p, &err) == -1 && err.cls == ERR_BUSY &&
	    pop3_broken(p), "[SYS/TEMP] after login breaks the connection");
	pop3_free(p);
	close(srv);

	p = client(&srv, "+OK\r\n+OK\r\n+OK\r\nSubject: x\r\n");
	check(pop3_greeting(p, &err) == 0 &&
	    pop3_command(p, ERR_AUTH, &err, "PASS x") == 0, "login");
	shutdown(srv, SHUT_WR);
	check(pop3_retr(p, 1, NULL, NULL, &err) == -1 && err.cls == ERR_NET &&
	    strncmp(err.msg, "RETR 1: ", 8) == 0 && pop3_broken(p),
	    "a connection closed mid-body breaks it");
	pop3_free(p);
	close(srv);
}

static void
pipelining(void)
{
	char body[256] = "";
	struct error err;
	struct pop3 *p;
	int srv;

	p = client(&srv, "+OK\r\n+OK\r\n+OK\r\n..a\r\n.\r\n-ERR gone\r\n"
	    "+OK\r\n");
	check(pop3_greeting(p, &err) == 0 &&
	    pop3_command(p, ERR_AUTH, &err, "PASS x") == 0, "login");
	(void)sent(srv);
	check(pop3_queue(p, &err, "RETR 1") == 0 &&
	    pop3_queue(p, &err, "RETR 2") == 0 &&
	    pop3_queue(p, &err, "DELE 1") == 0, "queue");
	check(*sent(srv) == '\0', "queued commands wait for the flush");
	check(pop3_flush(p, &err) == 0 &&
	    strcmp(sent(srv), "RETR 1\r\nRETR 2\r\nDELE 1\r\n") == 0,
	    "flush writes them at once");
	check(pop3_noop(p, &err) == -1 && err.cls == ERR_SOFTWARE,
	    "no command in lock-step while replies are in flight");
	check(pop3_recv_body(p, NULL, NULL, &err) == -1 &&
	    err.cls == ERR_SOFTWARE, "no body before its status");
	check(pop3_recv_status(p, ERR_REFUSED, &err) == 0, "RETR 1 +OK");
	check(pop3_recv_status(p, ERR_REFUSED, &err) == -1 &&
	    err.cls == ERR_SOFTWARE, "no status while a body is unread");
	check(pop3_recv_body(p, collect, body, &err) == 0 &&
	    strcmp(body, ".a\n") == 0, "the body, unstuffed");
	check(pop3_recv_status(p, ERR_REFUSED, &err) == -1 &&
	    err.cls == ERR_REFUSED && strncmp(err.msg, "RETR 2: -ERR", 12) == 0,
	    "RETR 2 -ERR names its command");
	check(pop3_recv_status(p, ERR_REFUSED, &err) == 0, "DELE 1 +OK");
	check(pop3_recv_status(p, ERR_REFUSED, &err) == -1 &&
	    err.cls == ERR_SOFTWARE, "nothing more in flight");
	check(!pop3_broken(p), "still usable");
	pop3_free(p);
	close(srv);
}

int
main(void)
{
	states();
	sasl();
	broken();
	pipelining();
	return failed;
}
