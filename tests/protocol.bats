#!/usr/bin/env bats
# Replies a real server will not send: garbage, response codes, overlong
# lines, stalls, drops.  Each maps to its documented exit status.

bats_require_minimum_version 1.5.0

setup() {
	load lib/common
	export POPFETCH_PASSWORD=secret
}

teardown() {
	fake_stop
}

BASE='CAPA => +OK\r\nUSER\r\nUIDL\r\nTOP\r\n.\r\n
USER .* => +OK\r\n'

# fake RULES...: a plaintext fake server with these rules before BASE.
fake() {
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' "$@" "$BASE")
}

pf_fake() {
	"$POPFETCH" --tls none --allow-plaintext --timeout 3 --host 127.0.0.1 -p "$FAKE_PORT" -u alice "$@"
}

@test "unit: the command table, the state changes and broken connections" {
	run "$TOP/tests/unit/pop3"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "a greeting that is not +OK or -ERR is a protocol error (76)" {
	fake 'greeting => HELLO THERE\r\n'
	run pf_fake stat
	[ "$status" -eq 76 ]
	[[ "$output" == *'greeting: unexpected reply "HELLO THERE"'* ]]
}

@test "a -ERR greeting is a refusal (69); with [SYS/TEMP] it is temporary (75)" {
	fake 'greeting => -ERR go away\r\n !close'
	run pf_fake stat
	[ "$status" -eq 69 ]
	fake_stop
	fake 'greeting => -ERR [SYS/TEMP] overloaded\r\n !close'
	run pf_fake stat
	[ "$status" -eq 75 ]
}

@test "response codes on PASS: AUTH 77, IN-USE 75, LOGIN-DELAY 75, SYS/TEMP 75, SYS/PERM 69, none 77" {
	for pair in "AUTH:77" "IN-USE:75" "LOGIN-DELAY:75" "SYS/TEMP:75" "SYS/PERM:69" ":77"; do
		code=${pair%:*} want=${pair#*:}
		text="-ERR no"
		[ -n "$code" ] && text="-ERR [$code] no"
		fake "PASS .* => $text\\r\\n"
		run pf_fake stat
		echo "$code -> $status ($output)"
		[ "$status" -eq "$want" ]
		fake_stop
	done
}

@test "a reply line of 1 MiB without CRLF is refused, not truncated (76)" {
	big=$(head -c 1048576 /dev/zero | tr '\0' 'A')
	fake_start "$BATS_TEST_TMPDIR" < <(printf 'greeting => +OK %s\n' "$big")
	run pf_fake stat
	[ "$status" -eq 76 ]
	[[ "$output" == *"line longer than"* ]]
}

@test "a 200 kB -ERR is refused as too long (76)" {
	big=$(head -c 204800 /dev/zero | tr '\0' 'E')
	fake "PASS .* => -ERR $big\\r\\n"
	run pf_fake stat
	[ "$status" -eq 76 ]
	[ "${#output}" -lt 1000 ]
}

@test "terminal escapes and NUL in the greeting are shown escaped" {
	fake 'greeting => +OK \x1b]0;pwned\x07 hi\x00there\xff\r\n'
	run --separate-stderr pf_fake welcome
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$output" = '+OK \x1b]0;pwned\x07 hi\x00there\xff' ]
}

@test "malformed STAT, LIST and UIDL replies are protocol errors (76)" {
	for rule in 'STAT => +OK many\r\n' 'STAT => +OK -1 5\r\n' \
	    'STAT => +OK 1 99999999999999999999999\r\n'; do
		fake "PASS .* => +OK\\r\\n" "$rule"
		run pf_fake stat
		echo "$rule -> $status"
		[ "$status" -eq 76 ]
		fake_stop
	done
	for rule in 'LIST => +OK\r\n1 10\r\n1 10\r\n.\r\n' 'LIST => +OK\r\n0 10\r\n.\r\n' \
	    'LIST => +OK\r\n1 -10\r\n.\r\n' 'LIST => +OK\r\n18446744073709551617 1\r\n.\r\n'; do
		fake "PASS .* => +OK\\r\\n" "$rule"
		run pf_fake list
		echo "$rule -> $status"
		[ "$status" -eq 76 ]
		fake_stop
	done
	fake "PASS .* => +OK\\r\\n" 'UIDL => +OK\r\n1\r\n.\r\n'
	run pf_fake uidl
	[ "$status" -eq 76 ]
}

@test "LIST N answered for another message is a protocol error" {
	fake "PASS .* => +OK\\r\\n" 'LIST 2 => +OK 3 100\r\n'
	run pf_fake list 2
	[ "$status" -eq 76 ]
	[[ "$output" == *"asked for message 2, got 3"* ]]
}

@test "a LIST announcing a 100 GB message is just a number" {
	fake "PASS .* => +OK\\r\\n" 'LIST => +OK\r\n1 107374182400\r\n.\r\n'
	run --separate-stderr pf_fake list
	[ "$status" -eq 0 ]
	[ "$output" = "1 107374182400" ]
}

@test "a message whose terminating dot never comes fails (75)" {
	fake "PASS .* => +OK\\r\\n" 'RETR 1 => +OK\r\nSubject: x\r\n\r\nbody\r\n !close'
	run --separate-stderr pf_fake retr 1
	[ "$status" -eq 75 ]
	[[ "$stderr" == *"RETR 1: the server closed the connection"* ]]
}

@test "a server that stalls mid-RETR times out (75)" {
	fake "PASS .* => +OK\\r\\n" 'RETR 1 => +OK\r\nSubject: x\r\n !hang'
	SECONDS=0
	run pf_fake --timeout 1 retr 1
	[ "$status" -eq 75 ]
	[[ "$output" == *"timed out"* ]]
	[ "$SECONDS" -lt 10 ]
}

@test "one byte at a time gives the same message" {
	fake "PASS .* => +OK\\r\\n" 'RETR 1 => +OK\r\nSubject: x\r\n\r\n..dot\r\nline\r\n.\r\n !drip'
	run --separate-stderr pf_fake retr 1
	[ "$status" -eq 0 ]
	[ "$output" = $'Subject: x\n\n.dot\nline' ]
}

@test "bare LF line ends are taken as line ends" {
	fake "PASS .* => +OK\\r\\n" 'RETR 1 => +OK\nSubject: x\n\nbody\n..\n.\n'
	run --separate-stderr pf_fake retr 1
	[ "$status" -eq 0 ]
	[ "$output" = $'Subject: x\n\nbody\n.' ]
}

@test "a dropped connection before QUIT's reply is reported after dele (75)" {
	fake "PASS .* => +OK\\r\\n" 'DELE 1 => +OK\r\n' 'QUIT => !close'
	run pf_fake dele 1
	[ "$status" -eq 75 ]
	[[ "$output" == *"deletions may not have been committed"* ]]
}

@test "commands with CR or LF in the user name are never sent" {
	fake "PASS .* => +OK\\r\\n"
	run "$POPFETCH" --tls none --allow-plaintext --host 127.0.0.1 -p "$FAKE_PORT" -u $'alice\r\nDELE 1' stat
	[ "$status" -eq 64 ]
	! grep -q DELE "$FAKE_DIR/fake.log"
	! grep -q '^USER' "$FAKE_DIR/fake.log"
}

@test "a UID of 100 kB is refused as too long (76)" {
	uid=$(head -c 102400 /dev/zero | tr '\0' 'u')
	fake "PASS .* => +OK\\r\\n" "UIDL => +OK\\r\\n1 $uid\\r\\n.\\r\\n"
	run pf_fake uidl
	[ "$status" -eq 76 ]
	[[ "$output" == *"line longer than 4096 bytes"* ]]
}

@test "UIDs with control characters are shown escaped" {
	fake "PASS .* => +OK\\r\\n" 'UIDL => +OK\r\n1 a\x1b[31mb\r\n2 c d\r\n.\r\n'
	run --separate-stderr pf_fake uidl
	[ "$status" -eq 0 ]
	[ "$output" = $'1 a\\x1b[31mb\n2 c d' ]
}

@test "an -ERR with escape sequences and invalid UTF-8 is shown escaped" {
	fake 'PASS .* => -ERR \x1b[2J\x1b]0;owned\x07 bad \xc3\x28 \x00nul\r\n'
	run pf_fake stat
	[ "$status" -eq 77 ]
	[[ "$output" == *'PASS ****: -ERR \x1b[2J\x1b]0;owned\x07 bad \xc3( \x00nul'* ]]
	[[ "$output" != *$'\x1b'* ]]
}

# transcript: every line the fake server received, once popfetch's
# connection to it has ended (so that nothing sent late is missed).
transcript() {
	local i
	for i in $(seq 1 250); do
		[ -s "$FAKE_DIR/fake.log.closed" ] && break
		sleep 0.02
	done
	[ -s "$FAKE_DIR/fake.log.closed" ]
	cat "$FAKE_DIR/fake.log"
}

LOGGED_IN=$'CAPA\nUSER alice\nPASS secret'

@test "after a garbled reply nothing more is written: no DELE, RSET or QUIT (76)" {
	fake "PASS .* => +OK\\r\\n" 'DELE 1 => HELLO\r\n'
	run pf_fake dele 1 2
	[ "$status" -eq 76 ]
	[[ "$output" == *'DELE 1: unexpected reply "HELLO"'* ]]
	[ "$(transcript)" = "$LOGGED_IN"$'\nDELE 1' ]
}

@test "after a malformed listing nothing more is written (76)" {
	fake "PASS .* => +OK\\r\\n" 'UIDL => +OK\r\n2 b\r\n1 a\r\n.\r\n'
	run pf_fake uidl
	[ "$status" -eq 76 ]
	[[ "$output" == *"UIDL: message 1 listed out of order or twice"* ]]
	[ "$(transcript)" = "$LOGGED_IN"$'\nUIDL' ]
}

@test "a -ERR [SYS/TEMP] after login drops the connection: no RSET, no QUIT (75)" {
	fake "PASS .* => +OK\\r\\n" 'DELE 1 => +OK\r\n' \
	    'DELE 2 => -ERR [SYS/TEMP] disk trouble\r\n'
	run pf_fake dele 1 2 3
	[ "$status" -eq 75 ]
	[ "$(transcript)" = "$LOGGED_IN"$'\nDELE 1\nDELE 2' ]
}

@test "a failed command commits nothing: RSET, then QUIT (69)" {
	fake "PASS .* => +OK\\r\\n" 'DELE 1 => +OK\r\n' \
	    'DELE 2 => -ERR no such message\r\n' 'RSET => +OK\r\n'
	run pf_fake dele 1 2 3
	[ "$status" -eq 69 ]
	[[ "$output" == *"DELE 2: -ERR no such message"* ]]
	[ "$(transcript)" = "$LOGGED_IN"$'\nDELE 1\nDELE 2\nRSET\nQUIT' ]
}

@test "a failed batch sends RSET then QUIT; a good one QUIT alone" {
	fake "PASS .* => +OK\\r\\n" 'DELE 1 => +OK\r\n' 'NOOP => +OK\r\n' \
	    'RETR 9 => -ERR no such message\r\n' 'RSET => +OK\r\n'
	run pf_fake batch <<<$'dele 1\nretr 9\nnoop'
	[ "$status" -eq 69 ]
	[[ "$output" == *"batch line 2"* ]]
	[ "$(transcript)" = "$LOGGED_IN"$'\nDELE 1\nRETR 9\nRSET\nQUIT' ]
	fake_stop
	fake "PASS .* => +OK\\r\\n" 'DELE 1 => +OK\r\n' 'NOOP => +OK\r\n'
	run pf_fake batch <<<$'dele 1\nnoop'
	[ "$status" -eq 0 ]
	[ "$(transcript)" = "$LOGGED_IN"$'\nDELE 1\nNOOP\nQUIT' ]
}

@test "when RSET fails, QUIT is not sent, so no deletion is committed" {
	fake "PASS .* => +OK\\r\\n" 'DELE 1 => +OK\r\n' 'DELE 2 => -ERR no\r\n' \
	    'RSET => -ERR cannot\r\n'
	run pf_fake dele 1 2
	[ "$status" -eq 69 ]
	[[ "$output" == *"DELE 2: -ERR no"* ]]
	[ "$(transcript)" = "$LOGGED_IN"$'\nDELE 1\nDELE 2\nRSET' ]
}

@test "a failed login sends no QUIT and nothing else" {
	fake 'PASS .* => -ERR [AUTH] wrong\r\n'
	run pf_fake stat
	[ "$status" -eq 77 ]
	[ "$(transcript)" = "$LOGGED_IN" ]
}

@test "fetch: after a garbled reply to RETR nothing more is written (76)" {
	fake "PASS .* => +OK\\r\\n" 'LIST => +OK\r\n1 40\r\n2 40\r\n.\r\n' \
	    'UIDL => +OK\r\n1 a\r\n2 b\r\n.\r\n' \
	    'RETR 1 => +OK\r\nSubject: one\r\n\r\nbody\r\n.\r\n' \
	    'RETR 2 => garbage\r\n' 'DELE \d+ => +OK\r\n'
	run pf_fake --maildir "$BATS_TEST_TMPDIR/Mail" --delete \
	    --state "$BATS_TEST_TMPDIR/state"
	[ "$status" -eq 76 ]
	[ "$(ls "$BATS_TEST_TMPDIR/Mail/new" | wc -l)" -eq 1 ]
	[ "$(transcript)" = "$LOGGED_IN"$'\nUIDL\nLIST\nRETR 1\nRETR 2' ]
}

@test "fetch: a local failure still reads the replies in flight, sends the DELEs of what it delivered, then QUIT (74)" {
	W=$BATS_TEST_TMPDIR
	fake "PASS .* => +OK\\r\\n" \
	    'CAPA => +OK\r\nUSER\r\nUIDL\r\nPIPELINING\r\n.\r\n' \
	    'LIST => +OK\r\n1 40\r\n2 40\r\n3 40\r\n.\r\n' \
	    'UIDL => +OK\r\n1 a\r\n2 b\r\n3 c\r\n.\r\n' \
	    'RETR 1 => +OK\r\nSubject: one\r\n\r\nbody\r\n.\r\n' \
	    'RETR 2 => +OK\r\nSubject: two\r\n\r\nbody\r\n.\r\n' \
	    'RETR 3 => +OK\r\nSubject: three\r\n\r\nbody\r\n.\r\n' \
	    'DELE \d+ => +OK\r\n'
	mkdir "$W/out"
	run pf_fake --state "$W/state" --delete \
	    --mda "cat > $W/out/m.\$\$; ! grep -q two $W/out/m.\$\$"
	echo "$output"
	[ "$status" -eq 74 ]
	[ "$(transcript)" = "$LOGGED_IN"$'\nUIDL\nLIST\nRETR 1\nRETR 2\nRETR 3\nDELE 1\nQUIT' ]
}

@test "fetch: with nothing new and nothing to delete, UIDL is the only listing" {
	W=$BATS_TEST_TMPDIR
	fake "PASS .* => +OK\\r\\n" 'LIST => +OK\r\n1 40\r\n2 40\r\n.\r\n' \
	    'UIDL => +OK\r\n1 a\r\n2 b\r\n.\r\n' \
	    'RETR 1 => +OK\r\nSubject: one\r\n\r\nbody\r\n.\r\n' \
	    'RETR 2 => +OK\r\nSubject: two\r\n\r\nbody\r\n.\r\n' \
	    'DELE \d+ => +OK\r\n'
	run pf_fake --maildir "$W/Mail" --state "$W/state"
	[ "$status" -eq 0 ]
	[ "$(transcript)" = "$LOGGED_IN"$'\nUIDL\nLIST\nRETR 1\nRETR 2\nQUIT' ]
	: > "$FAKE_DIR/fake.log"; : > "$FAKE_DIR/fake.log.closed"
	run pf_fake --maildir "$W/Mail" --state "$W/state"
	[ "$status" -eq 0 ]
	[ "$(transcript)" = "$LOGGED_IN"$'\nUIDL\nQUIT' ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 2 ]
	# An old message to delete needs its size: LIST again.
	: > "$FAKE_DIR/fake.log"; : > "$FAKE_DIR/fake.log.closed"
	run pf_fake --maildir "$W/Mail" --state "$W/state" --delete
	[ "$status" -eq 0 ]
	[ "$(transcript)" = "$LOGGED_IN"$'\nUIDL\nLIST\nDELE 1\nDELE 2\nQUIT' ]
}

@test "fetch: a message in LIST that UIDL did not name is a protocol error (76), nothing fetched" {
	W=$BATS_TEST_TMPDIR
	fake "PASS .* => +OK\\r\\n" 'LIST => +OK\r\n1 40\r\n2 40\r\n.\r\n' \
	    'UIDL => +OK\r\n1 a\r\n.\r\n' \
	    'RETR 1 => +OK\r\nSubject: one\r\n\r\nbody\r\n.\r\n'
	run pf_fake --maildir "$W/Mail" --state "$W/state"
	[ "$status" -eq 76 ]
	[[ "$output" == *"message 2 is in LIST but not in UIDL"* ]]
	transcript
	[ "$(transcript)" = "$LOGGED_IN"$'\nUIDL\nLIST\nQUIT' ]
	[ ! -e "$W/Mail/new" ] || [ -z "$(ls "$W/Mail/new")" ]
}

@test "fetch: one new message among many known is sized with LIST n alone, pipelined" {
	W=$BATS_TEST_TMPDIR
	# 16 messages known from a first run, then a 17th.
	{ printf '%s\n' "PASS .* => +OK\\r\\n" \
	    'CAPA => +OK\r\nUSER\r\nUIDL\r\nPIPELINING\r\n.\r\n' \
	    'repeat 17 RETR {i} => +OK\r\nSubject: m{i}\r\n\r\nbody\r\n.\r\n' \
	    'repeat 17 LIST {i} => +OK {i} 30\r\n'
	  printf 'UIDL => +OK\\r\\n'; for i in $(seq 1 16); do printf '%d u%d\\r\\n' $i $i; done; printf '.\\r\\n\n'
	  printf 'LIST => +OK\\r\\n'; for i in $(seq 1 16); do printf '%d 30\\r\\n' $i; done; printf '.\\r\\n\n'
	} > "$W/first"
	fake_start "$W" < <(cat "$W/first"; printf '%s\n' "$BASE")
	run pf_fake --maildir "$W/Mail" --state "$W/state"
	[ "$status" -eq 0 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 16 ]
	port=$FAKE_PORT
	fake_stop
	sed -i -e 's/^UIDL => \(.*\)\.\\r\\n$/UIDL => \117 u17\\r\\n.\\r\\n/' \
	    -e 's/^LIST => \(.*\)\.\\r\\n$/LIST => \117 30\\r\\n.\\r\\n/' "$W/first"
	FAKE_BIND=$port fake_start "$W" < <(cat "$W/first"; printf '%s\n' "$BASE")
	run pf_fake --maildir "$W/Mail" --state "$W/state"
	[ "$status" -eq 0 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 17 ]
	grep -q '^Subject: m17$' "$W"/Mail/new/*
	[ "$(transcript)" = "$LOGGED_IN"$'\nUIDL\nLIST 17\nRETR 17\nQUIT' ]
}

# A body is taken as many lines at a time as have arrived (read_body):
# these check the unstuffing across what one read holds.
@test "retr: dot-stuffed lines, bare LFs and lines longer than the read buffer come out whole" {
	W=$BATS_TEST_TMPDIR
	y=$(head -c 40000 /dev/zero | tr '\0' 'y')
	z=$(head -c 100000 /dev/zero | tr '\0' 'z')
	fake "PASS .* => +OK\\r\\n" \
	    "RETR 1 => +OK\\r\\nSubject: x\\r\\n\\r\\n..a\\r\\n..\\r\\nb\\n$y\\r\\n..$z\\r\\n...\\r\\n.\\r\\n"
	pf_fake retr 1 > "$W/got"
	printf 'Subject: x\n\n.a\n.\nb\n%s\n.%s\n..\n' "$y" "$z" > "$W/want"
	cmp "$W/want" "$W/got"
}

@test "fetch: pipelined replies read together are split at their ends, each message byte for byte" {
	W=$BATS_TEST_TMPDIR
	fake "PASS .* => +OK\\r\\n" \
	    'CAPA => +OK\r\nUSER\r\nUIDL\r\nPIPELINING\r\n.\r\n' \
	    'LIST => +OK\r\n1 40\r\n2 40\r\n3 40\r\n.\r\n' \
	    'UIDL => +OK\r\n1 a\r\n2 b\r\n3 c\r\n.\r\n' \
	    'RETR 1 => +OK\r\nSubject: one\r\n\r\n..\r\n.\r\n' \
	    'RETR 2 => +OK\r\nSubject: two\r\n\r\n.\r\n' \
	    'RETR 3 => +OK\r\nSubject: three\r\n\r\n...end\r\nlast\n.\r\n'
	run pf_fake --maildir "$W/Mail" --state "$W/state"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(transcript)" = "$LOGGED_IN"$'\nUIDL\nLIST\nRETR 1\nRETR 2\nRETR 3\nQUIT' ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 3 ]
	[ "$(cat "$W"/Mail/new/* | grep -c '^Subject:')" -eq 3 ]
	printf 'Subject: one\n\n.\n' > "$W/one"
	printf 'Subject: two\n\n' > "$W/two"
	printf 'Subject: three\n\n..end\nlast\n' > "$W/three"
	for m in one two three; do
		f=$(grep -l "^Subject: $m\$" "$W"/Mail/new/*)
		cmp "$W/$m" "$f"
	done
}
