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
	grep -qx 'DELE 1' "$W/fake.log"
	! grep -q 'DELE 2' "$W/fake.log"
	! grep -q QUIT "$W/fake.log"
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
	[ "$output" = "no new messages" ]
	! grep -q RETR "$W/fake.log"
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
	[[ "$stderr" == *"message 1 skipped: 100.0 GiB"* ]]
	! grep -q 'RETR 1' "$W/fake.log"
}
