#!/usr/bin/env bats
# --filter CMD: each header (TOP n 0) is judged before the message is
# downloaded; exit 0 fetches, 1 deletes without fetching (with --delete),
# 2 leaves it for later; anything else, or no answer in time, is an
# error for that message.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/common
	suite_start
	dovecot_user_add fl pw
}

teardown_file() {
	load lib/common
	suite_stop
}

setup() {
	load lib/common
	export POPFETCH_PASSWORD=pw
	export HOME=$BATS_TEST_TMPDIR/home XDG_STATE_HOME=
	mkdir -p "$HOME"
	W=$BATS_TEST_TMPDIR
}

teardown() {
	fake_stop
}

# A server with a spam message (1) and a wanted one (2); TOP 1 0 is
# broken the way some servers are: it sends the whole message.
fake_two() {
	fake_start "$W" <<'S'
CAPA => +OK\r\nUIDL\r\nTOP\r\n.\r\n
USER .* => +OK\r\n
PASS .* => +OK\r\n
STAT => +OK 2 120\r\n
LIST => +OK\r\n1 60\r\n2 60\r\n.\r\n
UIDL => +OK\r\n1 uid-spam\r\n2 uid-ham\r\n.\r\n
TOP 1 0 => +OK\r\nFrom: s@example.org\r\nX-Spam: yes\r\nSubject: buy\r\n\r\nBODYMARK\r\nmore\r\n.\r\n
TOP 2 0 => +OK\r\nFrom: h@example.org\r\nSubject: hello\r\n\r\n.\r\n
RETR 1 => +OK\r\nFrom: s@example.org\r\nX-Spam: yes\r\nSubject: buy\r\n\r\nBODYMARK\r\n.\r\n
RETR 2 => +OK\r\nFrom: h@example.org\r\nSubject: hello\r\n\r\nhi\r\n.\r\n
DELE [12] => +OK\r\n
S
}

pff() {
	"$POPFETCH" --tls none --allow-plaintext --timeout 10 \
		--state "$W/state" "pop3://u@127.0.0.1:$FAKE_PORT" "$@"
}

@test "filter: a spam header is deleted without its body ever being sent" {
	fake_two
	cat > "$W/f.sh" <<FILTER
cat > "$W/seen.\$POPFETCH_MSG_NUMBER"
echo "\$POPFETCH_MSG_NUMBER \$POPFETCH_MSG_SIZE \$POPFETCH_MSG_UID \${POPFETCH_PASSWORD-unset}" >> "$W/env"
grep -q '^X-Spam: yes' "$W/seen.\$POPFETCH_MSG_NUMBER" && exit 1
exit 0
FILTER
	POPFETCH_PASSWORD=pw run pff --filter "sh $W/f.sh" fetch --maildir "$W/Mail" --delete
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 new message, "* ]]
	[ "$(grep -vE '^(USER|PASS|CAPA|QUIT)' "$FAKE_DIR/fake.log")" = "UIDL
LIST
TOP 1 0
TOP 2 0
DELE 1
RETR 2
DELE 2" ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 1 ]
	grep -q '^hi$' "$W"/Mail/new/*
	# The environment: number, size, UID; never the password.
	[ "$(cat "$W/env")" = "1 60 uid-spam unset
2 60 uid-ham unset" ]
	# The broken TOP sent a body: the filter saw only the header block.
	[ "$(cat "$W/seen.1")" = "From: s@example.org
X-Spam: yes
Subject: buy" ]
	[ "$(tail -c 2 "$W/seen.1" | od -An -c | tr -d ' ')" = '\n\n' ]
}

@test "filter: exit 1 without --delete leaves the message, and nothing is deleted" {
	fake_two
	run pff --filter "grep -q '^X-Spam: yes' && exit 1; exit 0" fetch --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^RETR 1' "$FAKE_DIR/fake.log")" -eq 0 ]
	[ "$(grep -c '^DELE' "$FAKE_DIR/fake.log")" -eq 0 ]
	[ "$(grep -c '^RETR 2' "$FAKE_DIR/fake.log")" -eq 1 ]
}

@test "filter: a message left (2) is fetched later, once the filter says 0" {
	printf 'From: a@example.org\nSubject: later\n\nlater\n' > "$W/1.eml"
	printf 'From: a@example.org\nSubject: now\n\nnow\n' > "$W/2.eml"
	dovecot_seed fl "$W/1.eml" "$W/2.eml"
	touch "$W/hold"
	f="grep -q '^Subject: later' && [ -e $W/hold ] && exit 2; exit 0"
	pf() {
		"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 10 --state "$W/fl.state" \
			"pop3s://fl@localhost:$DOVECOT_POP3S" "$@"
	}
	run pf --filter "$f" fetch --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	same_messages "$W/Mail/new" "$W/2.eml"
	rm "$W/hold"
	run pf --filter "$f" fetch --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "1 new message, "* ]]
	same_messages "$W/Mail/new" "$W/1.eml" "$W/2.eml"
}

@test "filter: one that hangs is killed after the timeout; one that fails is an error for its message (74)" {
	fake_two
	start=$(date +%s)
	run "$POPFETCH" --tls none --allow-plaintext --timeout 2 --state "$W/state" \
		"pop3://u@127.0.0.1:$FAKE_PORT" \
		--filter "grep -q '^X-Spam' && exec sleep 6177; exit 0" \
		fetch --maildir "$W/Mail" --delete
	echo "$output"
	[ "$status" -eq 74 ]
	[ $(( $(date +%s) - start )) -lt 10 ]
	[[ "$output" == *"message 1: filter: no answer within 2 seconds; it was killed"* ]]
	# The hung filter is gone; message 2 was still fetched, 1 left alone.
	[ -z "$(pgrep -f 'sleep 6177' || true)" ]
	[ "$(grep -c '^RETR 1' "$FAKE_DIR/fake.log")" -eq 0 ]
	[ "$(grep -c '^DELE 1' "$FAKE_DIR/fake.log")" -eq 0 ]
	grep -q '^DELE 2' "$FAKE_DIR/fake.log"
	run pff --filter "exit 3" fetch --maildir "$W/Mail2" --all
	echo "$output"
	[ "$status" -eq 74 ]
	[[ "$output" == *"message 1: filter: exit status 3"* ]]
	[ ! -d "$W/Mail2/new" ] || [ -z "$(ls "$W/Mail2/new")" ]
}

@test "filter: a huge header is cut at 64 KiB" {
	python3 - "$W" <<'PY'
import sys
w = sys.argv[1]
big = "X-Big: " + "b" * 200 + "\\r\\n"
with open(w + "/big.script", "w") as f:
    f.write("CAPA => +OK\\r\\nUIDL\\r\\nTOP\\r\\n.\\r\\n\n")
    f.write("USER .* => +OK\\r\\n\nPASS .* => +OK\\r\\n\n")
    f.write("STAT => +OK 1 100000\\r\\n\n")
    f.write("LIST => +OK\\r\\n1 100000\\r\\n.\\r\\n\n")
    f.write("UIDL => +OK\\r\\n1 uid-big\\r\\n.\\r\\n\n")
    f.write("TOP 1 0 => +OK\\r\\n" + big * 500 + "\\r\\n.\\r\\n\n")
PY
	fake_start "$W" < "$W/big.script"
	run pff --filter "cat > $W/seen; exit 2" fetch --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(wc -c < "$W/seen")" -eq 65536 ]
}
