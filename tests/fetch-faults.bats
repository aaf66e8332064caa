#!/usr/bin/env bats
# fetch against a fake server doing what Dovecot will not: drops, odd
# UIDs, no UIDL, refusals.  Each asserts the exit status, the files on
# disk and the commands the server saw.

bats_require_minimum_version 1.5.0

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

LOGIN='CAPA => +OK\r\nUSER\r\nUIDL\r\n.\r\n
USER .* => +OK\r\n
PASS .* => +OK\r\n
DELE \d+ => +OK\r\n'

MSG1='RETR 1 => +OK\r\nSubject: one\r\n\r\nbody one\r\n.\r\n'
MSG2='RETR 2 => +OK\r\nSubject: two\r\n\r\nbody two\r\n.\r\n'

fake() {
	fake_start "$W" < <(printf '%s\n' "$@" "$LOGIN")
}

pf_fake() {
	"$POPFETCH" --tls none --allow-plaintext --timeout 3 --host 127.0.0.1 \
		-p "$FAKE_PORT" -u alice "$@"
}

@test "a connection dropped mid-RETR: nothing partial, no DELE, exit 75" {
	fake 'UIDL => +OK\r\n1 a\r\n2 b\r\n.\r\n' 'LIST => +OK\r\n1 40\r\n2 40\r\n.\r\n' \
		"$MSG1" 'RETR 2 => +OK\r\nSubject: two\r\n\r\nhalf of it !close'
	run pf_fake --maildir "$W/Mail" --delete
	echo "$output"
	[ "$status" -eq 75 ]
	[[ "$output" == *"RETR 2: the server closed the connection"* ]]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 1 ]
	[ "$(cat "$W"/Mail/new/*)" = $'Subject: one\n\nbody one' ]
	[ -z "$(ls -A "$W/Mail/tmp")" ]
	# Message 1 is delivered and recorded (the next run deletes it
	# without fetching it); nothing undelivered was deleted.
	! grep -q 'DELE 2' "$W/fake.log"
	! grep -q QUIT "$W/fake.log"
	grep -q '^D ' "$HOME"/.local/state/popfetch/alice@*.journal ||
		grep -q '^U ' "$HOME"/.local/state/popfetch/alice@*[0-9]
}

@test "a connection dropped mid-RETR into an mbox leaves no partial message" {
	fake 'UIDL => +OK\r\n1 a\r\n2 b\r\n.\r\n' 'LIST => +OK\r\n1 40\r\n2 40\r\n.\r\n' \
		"$MSG1" 'RETR 2 => +OK\r\nSubject: two\r\n\r\nhalf of it !close'
	run pf_fake --mbox "$W/mbox"
	[ "$status" -eq 75 ]
	mkdir "$W/split"
	python3 "$TOP/tests/lib/mbox_split.py" "$W/mbox" "$W/split"
	[ "$(ls "$W/split")" = 1.eml ]
	[ "$(cat "$W/split/1.eml")" = $'Subject: one\n\nbody one' ]
}

@test "a server that stalls mid-RETR: the timeout fires, nothing delivered" {
	fake 'UIDL => +OK\r\n1 a\r\n.\r\n' 'LIST => +OK\r\n1 40\r\n.\r\n' \
		'RETR 1 => +OK\r\nSubject: one\r\n !hang'
	SECONDS=0
	run pf_fake --maildir "$W/Mail" --delete --timeout 1
	[ "$status" -eq 75 ]
	[ "$SECONDS" -lt 10 ]
	[ -z "$(ls -A "$W/Mail/new")" ] && [ -z "$(ls -A "$W/Mail/tmp")" ]
	! grep -q DELE "$W/fake.log"
}

@test "UIDs with /, .., #, spaces and control characters survive the state" {
	fake 'UIDL => +OK\r\n1 a/b\r\n2 ..\r\n3 #x y\r\n4 c\x01d%41\r\n.\r\n' \
		'LIST => +OK\r\n1 40\r\n2 40\r\n3 40\r\n4 40\r\n.\r\n' "$MSG1" "$MSG2" \
		'RETR 3 => +OK\r\nSubject: three\r\n\r\n.\r\n' 'RETR 4 => +OK\r\nSubject: four\r\n\r\n.\r\n'
	run pf_fake --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 4 ]
	# No UID became part of a path.
	[ "$(find "$W" -name '*..*' -o -name '*#x*' | wc -l)" -eq 0 ]
	: > "$W/fake.log"
	run pf_fake --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[[ "$output" == "no new messages ("*" on the server, all fetched before; the state is "*"; --all fetches them again)" ]]
	! grep -q RETR "$W/fake.log"
}

@test "duplicate UIDs the state knows, far apart or not: refused before anything is fetched or deleted (76)" {
	# The listing's known UIDs are the state's own text, told apart by
	# where that is: a UID known before, listed twice, is still caught.
	fake 'UIDL => +OK\r\n1 same\r\n2 other\r\n.\r\n' 'LIST => +OK\r\n1 40\r\n2 40\r\n.\r\n' "$MSG1" "$MSG2"
	run pf_fake --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 2 ]
	for uidl in '1 same\r\n2 new\r\n3 other\r\n4 new' '1 same\r\n2 other\r\n3 same' '1 other\r\n2 same\r\n3 new\r\n4 other' '1 same\r\n2 same'; do
		fake_stop
		FAKE_BIND=$FAKE_PORT fake "UIDL => +OK\r\n$uidl\r\n.\r\n" \
			'LIST => +OK\r\n1 40\r\n2 40\r\n3 40\r\n4 40\r\n.\r\n' \
			"$MSG1" "$MSG2" 'RETR 3 => +OK\r\nSubject: three\r\n\r\n.\r\n'
		run pf_fake --maildir "$W/Mail" --delete
		echo "$uidl: $output"
		[ "$status" -eq 76 ]
		[[ "$output" == *"same UID"* ]]
		! grep -qE 'RETR|DELE' "$W/fake.log"
	done
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 2 ]
}

@test "duplicate UIDs: refused before anything is fetched (76)" {
	fake 'UIDL => +OK\r\n1 same\r\n2 same\r\n.\r\n' 'LIST => +OK\r\n1 40\r\n2 40\r\n.\r\n' "$MSG1" "$MSG2"
	run pf_fake --maildir "$W/Mail" --delete
	[ "$status" -eq 76 ]
	[[ "$output" == *"same UID"* ]]
	! grep -qE 'RETR|DELE' "$W/fake.log"
}

@test "without UIDL: --keep is refused, --delete works" {
	fake 'UIDL => -ERR not supported\r\n' 'LIST => +OK\r\n1 40\r\n2 40\r\n.\r\n' "$MSG1" "$MSG2"
	run pf_fake --maildir "$W/Mail"
	[ "$status" -eq 69 ]
	[[ "$output" == *"does not support UIDL"*"--all"*"--delete"* ]]
	! grep -q RETR "$W/fake.log"
	run pf_fake --maildir "$W/Mail" --delete
	[ "$status" -eq 0 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 2 ]
	grep -qx 'DELE 2' "$W/fake.log"
}

@test "DELE answered with -ERR: the message is kept on disk, exit 69" {
	fake 'UIDL => +OK\r\n1 a\r\n.\r\n' 'LIST => +OK\r\n1 40\r\n.\r\n' "$MSG1" 'DELE 1 => -ERR cannot\r\n'
	run pf_fake --maildir "$W/Mail" --delete
	[ "$status" -eq 69 ]
	[[ "$output" == *"DELE 1: -ERR cannot"* ]]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 1 ]
	grep -qx QUIT "$W/fake.log"
}

@test "the connection dropped before QUIT's reply: reported, next run neither loses nor duplicates" {
	fake 'UIDL => +OK\r\n1 a\r\n2 b\r\n.\r\n' 'LIST => +OK\r\n1 40\r\n2 40\r\n.\r\n' "$MSG1" "$MSG2" 'QUIT => !close'
	run pf_fake --maildir "$W/Mail" --delete
	[ "$status" -eq 75 ]
	[[ "$output" == *"deletions may not have been committed"* ]]
	: > "$W/fake.log"
	run pf_fake --maildir "$W/Mail" --delete
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 2 ]
	! grep -q RETR "$W/fake.log"
	grep -qx 'DELE 1' "$W/fake.log" && grep -qx 'DELE 2' "$W/fake.log"
}

@test "a LIST announcing a 100 GB message: skipped by --max-size, no allocation" {
	fake 'UIDL => +OK\r\n1 a\r\n2 b\r\n.\r\n' 'LIST => +OK\r\n1 107374182400\r\n2 40\r\n.\r\n' "$MSG2"
	run --separate-stderr pf_fake --maildir "$W/Mail" --max-size 1000000
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"message 1 skipped: 107374182400 bytes, over --max-size 1000000"* ]]
	! grep -q 'RETR 1' "$W/fake.log"
}

@test "--received-header and --uidl-header add escaped headers on top" {
	fake 'UIDL => +OK\r\n1 u\x1bid\r\n.\r\n' 'LIST => +OK\r\n1 40\r\n.\r\n' "$MSG1"
	run pf_fake --maildir "$W/Mail" --received-header --uidl-header
	[ "$status" -eq 0 ]
	f=$(ls "$W"/Mail/new/*)
	[ "$(sed -n 1p "$f")" = "Received: from 127.0.0.1" ]
	[[ "$(sed -n 2p "$f")" == $'\tby '*' with POP3 (popfetch); '* ]]
	[ "$(sed -n 3p "$f")" = 'X-Popfetch-UIDL: u\x1bid' ]
	[ "$(sed -n '4,$p' "$f")" = $'Subject: one\n\nbody one' ]
}

@test "a target that cannot be created exits 73 before connecting" {
	fake 'UIDL => +OK\r\n.\r\n' 'LIST => +OK\r\n.\r\n'
	: > "$W/file"
	run pf_fake --maildir "$W/file/Mail"
	[ "$status" -eq 73 ]
	[[ "$output" == *"$W/file/Mail"* ]]
	[ ! -s "$W/fake.log" ]
}

# big_message: a RETR 1 reply of about 120 kB, without its end.
big_body() {
	python3 -c 'print("+OK\\r\\nSubject: big\\r\\n\\r\\n" + "".join("line %05d %s\\r\\n" % (i, "y" * 50) for i in range(2000)), end="")'
}

# killed_mid_message TARGET-ARGS: popfetch killed while the server
# stalls in the middle of a 120 kB message.  The second server listens
# on the same port (the state is that account's); the state file is
# named explicitly.
killed_mid_message() {
	fake 'UIDL => +OK\r\n1 big\r\n.\r\n' 'LIST => +OK\r\n1 130000\r\n.\r\n' \
		"RETR 1 => $(big_body) !hang"
	"$POPFETCH" --tls none --allow-plaintext --timeout 30 --host 127.0.0.1 \
		-p "$FAKE_PORT" -u alice --state "$W/state" "$@" > /dev/null 2>&1 &
	local pid=$! i
	for i in $(seq 1 100); do
		[ "$(cat "$W"/mbox "$W"/Mail/tmp/* 2>/dev/null | wc -c)" -ge 60000 ] && break
		sleep 0.05
	done
	kill -9 "$pid"
	wait "$pid" || true
	fake_stop
	FAKE_BIND=$FAKE_PORT fake 'UIDL => +OK\r\n1 big\r\n.\r\n' 'LIST => +OK\r\n1 130000\r\n.\r\n' \
		"RETR 1 => $(big_body).\\r\\n"
}

@test "killed mid-message into a maildir: the partial file is removed, the message arrives once" {
	killed_mid_message --maildir "$W/Mail"
	[ -n "$(ls -A "$W/Mail/tmp")" ]		# the kill left a partial file
	run pf_fake --state "$W/state" --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ -z "$(ls -A "$W/Mail/tmp")" ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 1 ]
	[ "$(wc -l < "$W"/Mail/new/*)" -eq 2002 ]
}

@test "killed mid-message into an mbox: the partial message is cut off" {
	killed_mid_message --mbox "$W/mbox"
	[ "$(wc -c < "$W/mbox")" -ge 60000 ]
	[ -e "$W/mbox.lock" ]			# a stale dot-lock, too
	run pf_fake --state "$W/state" --mbox "$W/mbox"
	[ "$status" -eq 0 ]
	mkdir "$W/split"
	python3 "$TOP/tests/lib/mbox_split.py" "$W/mbox" "$W/split"
	[ "$(ls "$W/split")" = 1.eml ]
	[ "$(wc -l < "$W/split/1.eml")" -eq 2002 ]
	[ ! -e "$W/mbox.lock" ]
}

@test "killed mid-message, then another program appends: its mail is never removed" {
	killed_mid_message --mbox "$W/mbox"
	foreign=$'From other@example.org Mon Nov  2 10:00:00 2026\nSubject: foreign\n\nnot popfetch\'s\n\n'
	printf '\n\n%s' "$foreign" >> "$W/mbox"
	run --separate-stderr pf_fake --state "$W/state" --mbox "$W/mbox"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"a partial message remains at byte 0"* ]]
	# The other program's message is intact, and the complete one follows.
	grep -qF "not popfetch's" "$W/mbox"
	[ "$(grep -c '^Subject: foreign$' "$W/mbox")" -eq 1 ]
	[ "$(grep -c '^line 01999 ' "$W/mbox")" -eq 1 ]
	[ "$(grep -c '^Subject: big$' "$W/mbox")" -eq 2 ]
}

@test "PIPELINING: RETRs go out ahead of the replies; DELE only after delivery" {
	fake 'CAPA => +OK\r\nUSER\r\nUIDL\r\nPIPELINING\r\n.\r\n' \
		'UIDL => +OK\r\n1 a\r\n2 b\r\n3 c\r\n.\r\n' 'LIST => +OK\r\n1 40\r\n2 40\r\n3 40\r\n.\r\n' \
		"$MSG1" "$MSG2" 'RETR 3 => +OK\r\nSubject: three\r\n\r\n.\r\n'
	run pf_fake --maildir "$W/Mail" --delete
	[ "$status" -eq 0 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 3 ]
	# All three RETRs were sent before the first DELE.
	[ "$(grep -E '^(RETR|DELE)' "$W/fake.log" | head -3 | tr '\n' ' ')" = "RETR 1 RETR 2 RETR 3 " ]
	[ "$(grep -c '^DELE' "$W/fake.log")" -eq 3 ]
}

@test "without PIPELINING: one command at a time, DELEs after the batch is durable" {
	fake 'UIDL => +OK\r\n1 a\r\n2 b\r\n.\r\n' 'LIST => +OK\r\n1 40\r\n2 40\r\n.\r\n' "$MSG1" "$MSG2"
	run pf_fake --maildir "$W/Mail" --delete
	[ "$status" -eq 0 ]
	[ "$(grep -E '^(RETR|DELE)' "$W/fake.log" | tr '\n' ' ')" = "RETR 1 RETR 2 DELE 1 DELE 2 " ]
}

# long_path BASE TOTAL: makes directories under BASE, each name under
# NAME_MAX, and prints a path of exactly TOTAL bytes in the last of them
# (not created).
long_path() {
	local p=$1 total=$2 d
	d=$(printf 'd%.0s' $(seq 1 200))
	while [ $(( total - ${#p} )) -gt 202 ]; do
		p=$p/$d
	done
	mkdir -p "$p"
	printf '%s/%s\n' "$p" "$(printf 's%.0s' $(seq 1 $(( total - ${#p} - 1 ))))"
}

@test "a --state path of 4,095 bytes: recorded whole, the second run fetches nothing" {
	st=$(long_path "$W/s" 4095)
	[ "${#st}" -eq 4095 ]
	fake 'UIDL => +OK\r\n1 a\r\n2 b\r\n.\r\n' 'LIST => +OK\r\n1 40\r\n2 40\r\n.\r\n' "$MSG1" "$MSG2"
	run pf_fake --state "$st" --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 2 ]
	: > "$W/fake.log"
	run pf_fake --state "$st" --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "no new messages ("*" on the server, all fetched before; the state is "*"; --all fetches them again)" ]]
	! grep -q RETR "$W/fake.log"
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 2 ]
	# PATH.journal and the others are longer than PATH_MAX: look at
	# them from their directory.  Each has its own name.
	cd "$(dirname "$st")"
	b=$(basename "$st")
	[[ "$(sed -n 1p "$b")" == "popfetch-state 2 alice@"* ]]
	[ "$(grep -cE '^U [0-9]* [0-9]* [ab]( |$)' "$b")" -eq 2 ]
	[ "$(tail -1 "$b" | cut -d' ' -f1-2)" = "E 2" ]
	[ -e "$b.lock" ] && [ -e "$b.journal" ] && [ ! -s "$b.journal" ]
	[ "$(ls -A | wc -l)" -eq 3 ]
}

@test "a state name with no room for .journal beside it: refused before connecting (73)" {
	fake 'UIDL => +OK\r\n1 a\r\n.\r\n' 'LIST => +OK\r\n1 40\r\n.\r\n' "$MSG1"
	mkdir "$W/st"
	run pf_fake --state "$W/st/$(printf 'x%.0s' $(seq 1 248))" --maildir "$W/Mail" --delete
	echo "$output"
	[ "$status" -eq 73 ]
	[[ "$output" == *"the state file's name is too long (248 bytes; at most 247"* ]]
	[ ! -s "$W/fake.log" ]
	[ ! -e "$W/Mail" ] && [ -z "$(ls -A "$W/st")" ]
	# 247 bytes leave room for NAME.journal: it works.
	run pf_fake --state "$W/st/$(printf 'x%.0s' $(seq 1 247))" --maildir "$W/Mail" --delete
	[ "$status" -eq 0 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 1 ]
	grep -qx 'DELE 1' "$W/fake.log"
}

@test "an mbox at a path of 4,095 bytes keeps its mail: its dot-lock is NAME.lock" {
	mb=$(long_path "$W/m" 4095)
	[ "${#mb}" -eq 4095 ]
	printf 'From old@example.org Mon Jan  1 00:00:00 2026\nSubject: old\n\nkept\n\n' > "$mb"
	# Old enough to pass for a stale dot-lock, were it taken for one.
	touch -d '-10 minutes' "$mb"
	fake 'UIDL => +OK\r\n1 a\r\n2 b\r\n.\r\n' 'LIST => +OK\r\n1 40\r\n2 40\r\n.\r\n' "$MSG1" "$MSG2"
	run pf_fake --state "$W/state" --mbox "$mb" --delete
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx 'DELE 2' "$W/fake.log"
	cd "$(dirname "$mb")"
	b=$(basename "$mb")
	[ "$(ls -A)" = "$b" ]			# no dot-lock left behind
	mkdir "$W/split"
	python3 "$TOP/tests/lib/mbox_split.py" "$b" "$W/split"
	[ "$(cat "$W/split/1.eml")" = $'Subject: old\n\nkept' ]
	[ "$(cat "$W/split/2.eml")" = $'Subject: one\n\nbody one' ]
	[ "$(cat "$W/split/3.eml")" = $'Subject: two\n\nbody two' ]
	[ "$(ls "$W/split" | wc -l)" -eq 3 ]
}

@test "a maildir whose tmp/ file paths pass PATH_MAX: each message delivered once" {
	md=$(long_path "$W/md" 4080)
	fake 'UIDL => +OK\r\n1 a\r\n2 b\r\n.\r\n' 'LIST => +OK\r\n1 40\r\n2 40\r\n.\r\n' "$MSG1" "$MSG2"
	run pf_fake --state "$W/state" --maildir "$md"
	echo "$output"
	[ "$status" -eq 0 ]
	cd "$md"
	[ "$(ls new | wc -l)" -eq 2 ] && [ -z "$(ls -A tmp)" ]
	: > "$W/fake.log"
	run pf_fake --state "$W/state" --maildir "$md"
	[ "$status" -eq 0 ]
	[[ "$output" == "no new messages ("*" on the server, all fetched before; the state is "*"; --all fetches them again)" ]]
	! grep -q RETR "$W/fake.log"
}

@test "a journal with two unfinished deliveries of one UID: each UID gets its own answer" {
	# Not written by popfetch itself, but a journal someone edited or
	# merged: a's first delivery never arrived, its second did, b's
	# never did.
	mkdir -p "$W/Mail/new" "$W/Mail/cur" "$W/Mail/tmp"
	printf 'Subject: one\n\nbody one\n' > "$W/Mail/new/2.M2P2Q2.h"
	python3 - "$(cd "$W/Mail" && pwd -P)" > "$W/state.journal" <<'PY'
import sys
def esc(s):
    return "".join(c if 0x20 < ord(c) < 0x7f and c != "%" else "%%%02X" % ord(c) for c in s)
d = sys.argv[1]
for uid, name in (("a", "1.M1P1Q1.h"), ("a", "2.M2P2Q2.h"), ("b", "3.M3P3Q3.h")):
    print("B %s %s" % (uid, esc("maildir %s %s" % (name, d))))
PY
	fake 'UIDL => +OK\r\n1 a\r\n2 b\r\n.\r\n' 'LIST => +OK\r\n1 40\r\n2 40\r\n.\r\n' "$MSG1" "$MSG2"
	run pf_fake --state "$W/state" --maildir "$W/Mail" --delete
	echo "$output"
	[ "$status" -eq 0 ]
	# a is in new/: recorded and deleted, not fetched again.  b is not:
	# fetched, and only then deleted.
	! grep -qx 'RETR 1' "$W/fake.log"
	grep -qx 'RETR 2' "$W/fake.log"
	grep -qx 'DELE 1' "$W/fake.log" && grep -qx 'DELE 2' "$W/fake.log"
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 2 ]
	[ "$(cat "$W"/Mail/new/* | grep -c '^Subject: one$')" -eq 1 ]
	[ "$(cat "$W"/Mail/new/* | grep -c '^Subject: two$')" -eq 1 ]
	grep -qE '^U [0-9]* [0-9]* a( |$)' "$W/state" && grep -qE '^U [0-9]* [0-9]* b( |$)' "$W/state"
}
