#!/usr/bin/env bats
# --smtp: handing messages to a real Postfix on loopback (started here, a
# private instance), which delivers them into local maildirs; the
# envelope sender, dot-stuffing, and the 4xx and 5xx rules.

bats_require_minimum_version 1.5.0

USERS="s1 s2 s3 s4 s5"

setup_file() {
	load lib/common
	export SMTP_SKIP=
	if ! command -v postfix >/dev/null || [ "$(id -u)" != 0 ]; then
		SMTP_SKIP="postfix is not installed, or the tests do not run as root"
		return 0
	fi
	. "$TESTS_LIB/postfix.bash"
	suite_start
	for u in $USERS; do dovecot_user_add "$u" pw; done
	for u in bob ann cy; do postfix_user_add "$u"; done
	postfix_start "$T/postfix"
}

teardown_file() {
	load lib/common
	[ -n "${SMTP_SKIP:-}" ] && return 0
	. "$TESTS_LIB/postfix.bash"
	postfix_stop
	suite_stop
}

setup() {
	load lib/common
	load lib/relay
	[ -z "$SMTP_SKIP" ] || skip "$SMTP_SKIP"
	. "$TESTS_LIB/postfix.bash"
	export POPFETCH_PASSWORD=pw
	export HOME=$BATS_TEST_TMPDIR/home XDG_STATE_HOME=
	mkdir -p "$HOME"
	W=$BATS_TEST_TMPDIR
	MTA=127.0.0.1:$POSTFIX_PORT
}

teardown() {
	fake_stop
}

pf() {
	local u=$1; shift
	"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 --state "$W/$u.state" \
		"pop3s://$u@localhost:$DOVECOT_POP3S" "$@"
}

@test "smtp: every hard case byte for byte into Postfix's maildir; nothing twice" {
	HARD=("$TOP"/tests/corpus-hard/*.eml)
	dovecot_seed s1 "${HARD[@]}"
	run pf s1 fetch --smtp "$MTA" --smtp-recipient bob@example.test --delete
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "${#HARD[@]} new messages, "* ]]
	[ "$(dovecot_count s1)" -eq 0 ]
	postfix_wait bob "${#HARD[@]}"
	delivered "$POSTFIX_MAIL/bob/new" "${HARD[@]}"
	# The dots of 02-dots.eml went through stuffed and came out whole.
	grep -qx '\.\.two dots' "$POSTFIX_MAIL"/bob/new/*
	dovecot_seed s1 "${HARD[0]}"
	run pf s1 fetch --smtp "$MTA" --smtp-recipient bob@example.test
	[ "$status" -eq 0 ]
	sleep 0.5
	[ "$(postfix_count bob)" -eq $((${#HARD[@]} + 1)) ]
}

@test "smtp: the envelope sender is Return-Path, else From, else <>" {
	printf 'From: Ann <ann@example.org>\nSubject: a\n\na\n' > "$W/1.eml"
	printf 'From: x@example.org\nReturn-Path: <bounce@example.org>\nSubject: b\n\nb\n' > "$W/2.eml"
	printf 'From: nobody\nSubject: c\n\nc\n' > "$W/3.eml"
	printf 'From: "x;rm -rf /" <a`id`@example.org>\nSubject: d\n\nd\n' > "$W/4.eml"
	dovecot_seed s2 "$W"/[1-4].eml
	run pf s2 fetch --smtp "$MTA" --smtp-recipient ann@example.test
	echo "$output"
	[ "$status" -eq 0 ]
	postfix_wait ann 4
	# (Postfix drops a message's own Return-Path field and writes its
	# own from the envelope.)
	delivered "$POSTFIX_MAIL/ann/new" "$W/1.eml" "$W/3.eml" "$W/4.eml" \
		<(grep -v '^Return-Path' "$W/2.eml")
	cd "$POSTFIX_MAIL/ann/new"
	[ "$(grep -l '^Subject: a$' * | xargs head -1)" = "Return-Path: <ann@example.org>" ]
	[ "$(grep -l '^Subject: b$' * | xargs head -1)" = "Return-Path: <bounce@example.org>" ]
	[ "$(grep -l '^Subject: c$' * | xargs head -1)" = "Return-Path: <>" ]
	[ "$(grep -l '^Subject: d$' * | xargs head -1)" = "Return-Path: <aid@example.org>" ]
}

@test "smtp: a 5xx at the end of one message leaves it on the server; the others go on; exit 69" {
	printf 'From: a@example.org\nSubject: one\n\none\n' > "$W/1.eml"
	printf 'From: a@example.org\nSubject: please reject-me\n\ntwo\n' > "$W/2.eml"
	printf 'From: a@example.org\nSubject: three\n\nthree\n' > "$W/3.eml"
	dovecot_seed s3 "$W"/[1-3].eml
	run pf s3 fetch --smtp "$MTA" --smtp-recipient cy@example.test --delete
	echo "$output"
	[ "$status" -eq 69 ]
	[[ "$output" == *"SMTP server: end of message: 550 5.7.1 this message is not wanted"* ]]
	[ "$(dovecot_count s3)" -eq 1 ]
	grep -q 'reject-me' "$DOVECOT_DIR"/mail/s3/*/*
	postfix_wait cy 2
	delivered "$POSTFIX_MAIL/cy/new" "$W/1.eml" "$W/3.eml"
}

@test "smtp: a 4xx at RCPT stops the run with 75 and deletes nothing; an unknown recipient is 69" {
	printf 'From: a@example.org\nSubject: one\n\none\n' > "$W/1.eml"
	dovecot_seed s4 "$W/1.eml"
	run pf s4 fetch --smtp "$MTA" --smtp-recipient later@example.test --delete
	echo "$output"
	[ "$status" -eq 75 ]
	[[ "$output" == *"SMTP server: RCPT TO: 450 4.2.0 "*"come back later"* ]]
	[ "$(dovecot_count s4)" -eq 1 ]
	run pf s4 fetch --smtp "$MTA" --smtp-recipient nobody@example.test --delete
	echo "$output"
	[ "$status" -eq 69 ]
	[[ "$output" == *"SMTP server: RCPT TO: 550 5.1.1 "* ]]
	[ "$(dovecot_count s4)" -eq 1 ]
}

@test "smtp: an MTA that is not listening stops the run at once (75)" {
	printf 'From: a@example.org\nSubject: one\n\none\n' > "$W/1.eml"
	dovecot_seed s5 "$W/1.eml"
	port=$(_free_port)
	run pf s5 fetch --smtp "127.0.0.1:$port" --delete
	echo "$output"
	[ "$status" -eq 75 ]
	[[ "$output" == *"cannot connect to port $port"* ]]
	[ "$(dovecot_count s5)" -eq 1 ]
}

@test "smtp: killed in the middle of DATA, Postfix delivers the message exactly once" {
	python3 - "$W" <<'PY'
import sys
w = sys.argv[1]
head = "From: k@example.org\\r\\nSubject: killed\\r\\n\\r\\n"
body = ("z" * 70 + "\\r\\n") * 9000
rules = ["CAPA => +OK\\r\\nUIDL\\r\\n.\\r\\n", "USER .* => +OK\\r\\n",
         "PASS .* => +OK\\r\\n", "STAT => +OK 1 700000\\r\\n",
         "LIST => +OK\\r\\n1 700000\\r\\n.\\r\\n",
         "UIDL => +OK\\r\\n1 uid-k\\r\\n.\\r\\n", "DELE 1 => +OK\\r\\n"]
with open(w + "/hang.script", "w") as f:
    f.write("\n".join(rules) + "\n")
    f.write("RETR 1 => +OK\\r\\n" + head + body[:len(body) // 3] + " !hang\n")
with open(w + "/whole.script", "w") as f:
    f.write("\n".join(rules) + "\n")
    f.write("RETR 1 => +OK\\r\\n" + head + body + ".\\r\\n\n")
PY
	fake_start "$W" < "$W/hang.script"
	"$POPFETCH" --tls none --allow-plaintext --state "$W/k.state" \
		--timeout 30 "pop3://u@127.0.0.1:$FAKE_PORT" \
		fetch --smtp "$MTA" --smtp-recipient bob@example.test --delete \
		>"$W/out" 2>&1 &
	pid=$!
	for i in $(seq 1 200); do
		grep -q '^RETR 1' "$FAKE_DIR/fake.log" && break
		sleep 0.05
	done
	sleep 1
	before=$(postfix_count bob)
	kill -9 "$pid"
	wait "$pid" || true
	port=$FAKE_PORT
	fake_stop
	sleep 1
	[ "$(postfix_count bob)" -eq "$before" ]
	# The same port: the state is that account's.
	FAKE_BIND=$port fake_start "$W" < "$W/whole.script"
	run "$POPFETCH" --tls none --allow-plaintext --state "$W/k.state" \
		--timeout 30 "pop3://u@127.0.0.1:$FAKE_PORT" \
		fetch --smtp "$MTA" --smtp-recipient bob@example.test --delete
	echo "$output"
	fake_stop
	[ "$status" -eq 0 ]
	[[ "$output" == *"delivery to the mail server was interrupted"* ]]
	postfix_wait bob $((before + 1))
	[ "$(grep -l '^Subject: killed$' "$POSTFIX_MAIL"/bob/new/* | wc -l)" -eq 1 ]
	grep -c '^z\{70\}$' $(grep -l '^Subject: killed$' "$POSTFIX_MAIL"/bob/new/*) |
		grep -qx 9000
}
