#!/usr/bin/env bats
# --lmtp: delivery into a real Dovecot over LMTP (dovecot-lmtpd), with a
# Sieve script (dovecot-sieve) filing mail into a folder, read back
# through Dovecot's own POP3 and from the mailbox on disk; 4xx and 5xx
# replies, and a kill in the middle of the DATA phase.

bats_require_minimum_version 1.5.0

USERS="src1 src2 src3 src4 src5 src6 src7 src8 bob carl dora erin fay"

setup_file() {
	load lib/common
	export LMTP_SKIP=
	if [ ! -x /usr/lib/dovecot/lmtp ] ||
	    [ ! -e /usr/lib/dovecot/modules/lib90_sieve_plugin.so ]; then
		LMTP_SKIP="dovecot-lmtpd and dovecot-sieve are not installed"
		return 0
	fi
	export T LMTP_PORT
	T=$(test_dir)
	LMTP_PORT=$(_free_port)
	export DOVECOT_PROTOCOLS="pop3 lmtp"
	export DOVECOT_EXTRA="mail_plugins = quota
postmaster_address = postmaster@example.org
lda_mailbox_autocreate = yes
protocol lmtp {
  mail_plugins = quota sieve
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
  quota = maildir:User quota
  quota_rule = *:storage=1M
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}"
	dovecot_start "$T/dovecot"
	for u in $USERS; do dovecot_user_add "$u" pw; done
	# bob's own filter: mailing-list mail goes into the folder "Lists".
	mkdir -p "$DOVECOT_DIR/home/bob"
	cat > "$DOVECOT_DIR/home/bob/.dovecot.sieve" <<'SIEVE'
require ["fileinto", "mailbox"];
if header :contains "subject" "[list]" {
	fileinto :create "Lists";
}
SIEVE
	chown -R "$(_dovecot_owner)" "$DOVECOT_DIR/home"
}

teardown_file() {
	load lib/common
	[ -n "${LMTP_SKIP:-}" ] || suite_stop
}

setup() {
	load lib/common
	load lib/relay
	[ -z "$LMTP_SKIP" ] || skip "$LMTP_SKIP"
	export POPFETCH_PASSWORD=pw
	export HOME=$BATS_TEST_TMPDIR/home XDG_STATE_HOME=
	mkdir -p "$HOME"
	W=$BATS_TEST_TMPDIR
	SOCK=$DOVECOT_DIR/run/lmtp
}

teardown() {
	fake_stop
	if [ -n "${LMTP_PID:-}" ]; then
		kill "$LMTP_PID" 2>/dev/null || true
		wait "$LMTP_PID" 2>/dev/null || true
	fi
}

# pf USER ARGS: popfetch for USER over implicit TLS, with its own state.
pf() {
	local u=$1; shift
	"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 --state "$W/$u.state" \
		"pop3s://$u@localhost:$DOVECOT_POP3S" "$@"
}

# lmtp_fake END_REPLY [RCPT_REPLY]: a fake LMTP server; sets LMTP_FAKE
# (HOST:PORT) and LMTP_LOG.
lmtp_fake() {
	LMTP_LOG=$W/lmtp.log
	: > "$LMTP_LOG"
	python3 "$TOP/tests/lib/fakelmtp.py" "$W/lmtp.port" "$LMTP_LOG" "$@" &
	LMTP_PID=$!
	local i
	for i in $(seq 1 200); do
		[ -s "$W/lmtp.port" ] && break
		sleep 0.02
	done
	LMTP_FAKE=127.0.0.1:$(cat "$W/lmtp.port")
}

@test "lmtp: into Dovecot over a unix socket; Sieve files the list mail; read back through POP3" {
	printf 'From: ann@example.org\nSubject: hello\n\nfirst\n' > "$W/1.eml"
	printf 'From: list@example.org\nSubject: [list] news\n\nsecond\n' > "$W/2.eml"
	printf 'From: x@example.org\nReturn-Path: <r@example.org>\nSubject: third\n\n.\n..\n.x\n' > "$W/3.eml"
	dovecot_seed src1 "$W/1.eml" "$W/2.eml" "$W/3.eml"
	run pf src1 fetch --lmtp "unix:$SOCK" --lmtp-recipient bob --delete
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "3 new messages, "* ]]
	[ "$(dovecot_count src1)" -eq 0 ]
	# The Sieve script ran: the list mail is in Lists, the rest in INBOX.
	delivered "$DOVECOT_DIR/mail/bob/.Lists/new" "$W/2.eml"
	# bob's INBOX through Dovecot's POP3: the two others, dots intact.
	run pf bob fetch --maildir "$W/bob"
	[ "$status" -eq 0 ]
	delivered "$W/bob/new" "$W/1.eml" "$W/3.eml"
	# The envelope sender is the message's Return-Path, else its From.
	grep -l '^Return-Path: <r@example.org>$' "$W"/bob/new/* >/dev/null
	grep -l '^Return-Path: <x@example.org>$' "$W"/bob/new/* && false
	grep -l '^Return-Path: <ann@example.org>$' "$W"/bob/new/* >/dev/null
	# Nothing is delivered twice.
	run pf src1 fetch --lmtp "unix:$SOCK" --lmtp-recipient bob --all
	[ "$status" -eq 0 ]
	[ "$(dovecot_count bob)" -eq 2 ]
}

@test "lmtp: --json: each fetched record has the server's reply to its message" {
	printf 'From: ann@example.org\nSubject: one\n\nfirst\n' > "$W/1.eml"
	printf 'From: ann@example.org\nSubject: two\n\nsecond\n' > "$W/2.eml"
	dovecot_seed src8 "$W/1.eml" "$W/2.eml"
	lmtp_fake "250 2.0.0 Ok: queued as 4Xy7Z"
	run --separate-stderr pf src8 fetch --json --lmtp "$LMTP_FAKE" --lmtp-recipient bob
	[ "$status" -eq 0 ]
	python3 - "$output" "250 2.0.0 Ok: queued as 4Xy7Z" <<'PY'
import json, sys
got = [r for r in map(json.loads, sys.argv[1].splitlines()) if r["event"] == "fetched"]
assert [r["msg"] for r in got] == [1, 2], got
assert all(r["reply"] == sys.argv[2] for r in got), got
assert not any(k in r for r in got for k in ("file", "path", "mbox", "offset")), got
PY
	# Dovecot's own reply, whatever its text: a 250 for each.
	run --separate-stderr pf src8 fetch --json --all --lmtp "unix:$SOCK" --lmtp-recipient bob
	[ "$status" -eq 0 ]
	python3 - "$output" <<'PY'
import json, sys
got = [r for r in map(json.loads, sys.argv[1].splitlines()) if r["event"] == "fetched"]
assert len(got) == 2 and all(r["reply"].startswith("250 2.0.0 ") for r in got), got
PY
	echo "$output"
}

@test "lmtp: HOST:PORT, the recipient defaults to the user, every hard case byte for byte" {
	HARD=("$TOP"/tests/corpus-hard/*.eml)
	dovecot_seed carl "${HARD[@]}"
	# carl fetches his own mail into... his own mailbox: the recipient is
	# the POP3 user.  The copies arrive next to the originals.
	run pf carl fetch --lmtp "127.0.0.1:$LMTP_PORT"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(dovecot_count carl)" -eq $((2 * ${#HARD[@]})) ]
	mkdir "$W/copies"
	grep -l '^Delivered-To: carl' "$DOVECOT_DIR"/mail/carl/{new,cur}/* |
		xargs -I{} cp {} "$W/copies/"
	delivered "$W/copies" "${HARD[@]}"
}

@test "lmtp: a 5xx (over quota) leaves that message on the server, the others go on, exit 69" {
	printf 'From: a@example.org\nSubject: small\n\nsmall\n' > "$W/1.eml"
	python3 -c 'print("From: b@example.org\nSubject: big\n\n" + "y" * 79 + ("\n" + "y" * 79) * 15000)' > "$W/2.eml"
	printf 'From: c@example.org\nSubject: small too\n\nsmall too\n' > "$W/3.eml"
	dovecot_seed src3 "$W/1.eml" "$W/2.eml" "$W/3.eml"
	run pf src3 fetch --lmtp "unix:$SOCK" --lmtp-recipient dora --delete
	echo "$output"
	[ "$status" -eq 69 ]
	[[ "$output" == *"LMTP server: end of message: 552 "*"uota"* ]]
	# The big one is still on the server, the small ones went to dora.
	[ "$(dovecot_count src3)" -eq 1 ]
	grep -q '^Subject: big' "$DOVECOT_DIR"/mail/src3/*/*
	delivered "$DOVECOT_DIR/mail/dora/new" "$W/1.eml" "$W/3.eml"
	# It is tried again next time, and refused again.
	run pf src3 fetch --lmtp "unix:$SOCK" --lmtp-recipient dora --delete
	[ "$status" -eq 69 ]
	[ "$(dovecot_count src3)" -eq 1 ]
	[ "$(dovecot_count dora)" -eq 2 ]
}

@test "lmtp: an unknown recipient is refused (550), nothing is deleted, exit 69" {
	printf 'From: a@example.org\nSubject: one\n\none\n' > "$W/1.eml"
	dovecot_seed src4 "$W/1.eml"
	run pf src4 fetch --lmtp "unix:$SOCK" --lmtp-recipient nobody --delete
	echo "$output"
	[ "$status" -eq 69 ]
	[[ "$output" == *"LMTP server: RCPT TO: 550 "* ]]
	[ "$(dovecot_count src4)" -eq 1 ]
	[ ! -e "$DOVECOT_DIR/mail/nobody" ]
}

@test "lmtp: a 4xx stops the run with 75; the message stays and comes next time" {
	printf 'From: a@example.org\nSubject: one\n\none\n' > "$W/1.eml"
	printf 'From: a@example.org\nSubject: two\n\ntwo\n' > "$W/2.eml"
	dovecot_seed src5 "$W/1.eml" "$W/2.eml"
	lmtp_fake "451 4.3.0 try again later"
	run pf src5 fetch --lmtp "$LMTP_FAKE" --lmtp-recipient erin --delete
	echo "$output"
	[ "$status" -eq 75 ]
	[[ "$output" == *"LMTP server: end of message: 451 4.3.0 try again later"* ]]
	[ "$(dovecot_count src5)" -eq 2 ]
	# The fake saw one transaction, dot-stuffed and CRLF, then QUIT.
	grep -c '^DATA' "$LMTP_LOG" | grep -qx 1
	grep -q $'^MAIL FROM:<a@example.org>' "$LMTP_LOG"
	grep -q $'^RCPT TO:<erin>\r$' "$LMTP_LOG"
	grep -q $'^QUIT\r$' "$LMTP_LOG"
	# With the server willing again, both arrive, once.
	run pf src5 fetch --lmtp "unix:$SOCK" --lmtp-recipient erin --delete
	[ "$status" -eq 0 ]
	delivered "$DOVECOT_DIR/mail/erin/new" "$W/1.eml" "$W/2.eml"
	[ "$(dovecot_count src5)" -eq 0 ]
}

@test "lmtp: dot-stuffing and the null sender, as the server sees them" {
	printf 'From: <>\nSubject: dots\n\n.\n..two\n.x\nend' > "$W/1.eml"
	dovecot_seed src6 "$W/1.eml"
	lmtp_fake
	run pf src6 fetch --lmtp "$LMTP_FAKE" --lmtp-recipient fay
	echo "$output"
	[ "$status" -eq 0 ]
	python3 - "$LMTP_LOG" <<'PY'
import sys
log = open(sys.argv[1], "rb").read()
want = (b"MAIL FROM:<> BODY=8BITMIME\r\nRCPT TO:<fay>\r\nDATA\r\n"
        b"From: <>\r\nSubject: dots\r\n\r\n..\r\n...two\r\n..x\r\nend\r\n.\r\n"
        b"QUIT\r\n")
assert log.startswith(b"LHLO "), log
assert log.split(b"\r\n", 1)[1] == want, log
PY
}

@test "lmtp: killed in the middle of DATA, the message arrives exactly once" {
	# The server sends a third of a message and then nothing: popfetch
	# is in the DATA phase (the part is larger than its buffers).
	python3 - "$W" <<'PY'
import sys
w = sys.argv[1]
head = "From: k@example.org\\r\\nSubject: killed\\r\\n\\r\\n"
body = ("z" * 70 + "\\r\\n") * 9000
with open(w + "/hang.script", "w") as f:
    f.write("CAPA => +OK\\r\\nUIDL\\r\\n.\\r\\n\n")
    f.write("USER .* => +OK\\r\\n\nPASS .* => +OK\\r\\n\n")
    f.write("STAT => +OK 1 700000\\r\\n\n")
    f.write("LIST => +OK\\r\\n1 700000\\r\\n.\\r\\n\n")
    f.write("UIDL => +OK\\r\\n1 uid-k\\r\\n.\\r\\n\n")
    f.write("DELE 1 => +OK\\r\\n\n")
    f.write("RETR 1 => +OK\\r\\n" + head + body[:len(body) // 3] + " !hang\n")
    f.write("# whole\n")
with open(w + "/whole.script", "w") as f:
    for line in open(w + "/hang.script"):
        if line.startswith("RETR"):
            line = "RETR 1 => +OK\\r\\n" + head + body + ".\\r\\n\n"
        f.write(line)
PY
	fake_start "$W" < "$W/hang.script"
	"$POPFETCH" --tls none --allow-plaintext --state "$W/k.state" \
		--timeout 30 "pop3://u@127.0.0.1:$FAKE_PORT" \
		fetch --lmtp "unix:$SOCK" --lmtp-recipient fay --delete \
		>"$W/out" 2>&1 &
	pid=$!
	for i in $(seq 1 200); do
		grep -q '^RETR 1' "$FAKE_DIR/fake.log" && break
		sleep 0.05
	done
	sleep 1
	kill -9 "$pid"
	wait "$pid" || true
	port=$FAKE_PORT
	fake_stop
	[ "$(dovecot_count fay)" -eq 0 ]
	# The same port: the state is that account's.
	FAKE_BIND=$port fake_start "$W" < "$W/whole.script"
	run "$POPFETCH" --tls none --allow-plaintext --state "$W/k.state" \
		--timeout 30 "pop3://u@127.0.0.1:$FAKE_PORT" \
		fetch --lmtp "unix:$SOCK" --lmtp-recipient fay --delete
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"delivery to the mail server was interrupted"* ]]
	[ "$(dovecot_count fay)" -eq 1 ]
	grep -q '^DELE 1' "$FAKE_DIR/fake.log"
	grep -c '^z\{70\}$' "$DOVECOT_DIR"/mail/fay/new/* | grep -qx 9000
}

@test "lmtp: a server that is down stops the run before anything is fetched (75)" {
	printf 'From: a@example.org\nSubject: one\n\none\n' > "$W/1.eml"
	dovecot_seed src7 "$W/1.eml"
	run pf src7 fetch --lmtp "unix:$W/no-such-socket" --delete
	echo "$output"
	[ "$status" -eq 75 ]
	[[ "$output" == *"cannot connect to $W/no-such-socket"* ]]
	run pf src7 fetch --lmtp "127.0.0.1" --delete
	[ "$status" -eq 78 ]
	[[ "$output" == *"neither unix:PATH nor HOST:PORT"* ]]
	[ "$(dovecot_count src7)" -eq 1 ]
}

@test "lmtp: each message is recorded right after the server's 250, before the next one" {
	# Lock-step (no PIPELINING): RETR 2 goes out only once message 1 is
	# dealt with, and then the server hangs; a kill there must not
	# deliver message 1 a second time.
	cat > "$W/two.script" <<'S'
CAPA => +OK\r\nUIDL\r\n.\r\n
USER .* => +OK\r\n
PASS .* => +OK\r\n
STAT => +OK 2 60\r\n
LIST => +OK\r\n1 30\r\n2 30\r\n.\r\n
UIDL => +OK\r\n1 uid-a\r\n2 uid-b\r\n.\r\n
RETR 1 => +OK\r\nFrom: a@example.org\r\nSubject: one\r\n\r\none\r\n.\r\n
RETR 2 => +OK\r\nFrom: a@example.org\r\nSubject: two\r\n\r\n !hang
S
	fake_start "$W" < "$W/two.script"
	lmtp_fake
	"$POPFETCH" --tls none --allow-plaintext --state "$W/e.state" \
		--timeout 30 "pop3://u@127.0.0.1:$FAKE_PORT" \
		fetch --lmtp "$LMTP_FAKE" --lmtp-recipient fay >"$W/out" 2>&1 &
	pid=$!
	for i in $(seq 1 200); do
		grep -q '^RETR 2' "$FAKE_DIR/fake.log" && break
		sleep 0.05
	done
	grep -q '^RETR 2' "$FAKE_DIR/fake.log"
	kill -9 "$pid"
	wait "$pid" || true
	port=$FAKE_PORT
	fake_stop
	grep -c '^Subject: one' "$LMTP_LOG" | grep -qx 1
	sed -i 's/^RETR 2 => .*/RETR 2 => +OK\\r\\nFrom: a@example.org\\r\\nSubject: two\\r\\n\\r\\ntwo\\r\\n.\\r\\n/' "$W/two.script"
	FAKE_BIND=$port fake_start "$W" < "$W/two.script"
	run "$POPFETCH" --tls none --allow-plaintext --state "$W/e.state" \
		--timeout 30 "pop3://u@127.0.0.1:$FAKE_PORT" \
		fetch --lmtp "$LMTP_FAKE" --lmtp-recipient fay
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 new message, "* ]]
	grep -c '^Subject: one' "$LMTP_LOG" | grep -qx 1
	grep -c '^Subject: two' "$LMTP_LOG" | grep -qx 1
	[ "$(grep -c '^RETR 1' "$FAKE_DIR/fake.log")" -eq 0 ]
}
