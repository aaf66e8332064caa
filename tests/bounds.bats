#!/usr/bin/env bats
# Time, memory and size bounds against hostile servers (issue 13): a
# server that drips bytes, a whole session past --max-time, a TLS
# handshake that never ends.  Each asserts the exit status, the elapsed
# time against the bound the man page states (generously), what is on
# disk, and what the server saw.

bats_require_minimum_version 1.5.0

# "! cmd" cannot fail a Bats test (set -e ignores it); this can.
not() {
	if "$@"; then
		return 1
	fi
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

LOGIN='CAPA => +OK\r\nUSER\r\nUIDL\r\n.\r\n
USER .* => +OK\r\n
PASS .* => +OK\r\n
DELE \d+ => +OK\r\n'

fake() {
	fake_start "$W" < <(printf '%s\n' "$@" "$LOGIN")
}

pf_fake() {
	"$POPFETCH" --tls none --allow-plaintext --host 127.0.0.1 \
		-p "$FAKE_PORT" -u alice "$@"
}

assert_nothing_delivered() {
	[ -z "$(ls -A "$W/Mail/new")" ] && [ -z "$(ls -A "$W/Mail/tmp")" ]
	not grep -q DELE "$W/fake.log"
}

@test "a greeting dripped one byte a second ends after --timeout, exit 75" {
	fake 'greeting => +OK a greeting that takes half a minute to arrive\r\n !slow=0.5'
	SECONDS=0
	run pf_fake --timeout 2 stat
	echo "$output"
	[ "$status" -eq 75 ]
	[ "$SECONDS" -le 6 ]
	[[ "$output" == *"timed out"* ]]
	not grep -q USER "$W/fake.log"
}

@test "a message body dripped one byte every 0.5 s is cut at the rate bound" {
	# Every byte comes well within --timeout 2; before the rate rule the
	# 100-byte body held the session for 50 s.
	body=$(printf 'x%.0s' $(seq 1 90))
	fake 'UIDL => +OK\r\n1 a\r\n.\r\n' 'LIST => +OK\r\n1 100\r\n.\r\n' \
		"RETR 1 => +OK\\r\\nSubject: s\\r\\n\\r\\n$body\\r\\n.\\r\\n !slow=0.5"
	SECONDS=0
	run pf_fake --timeout 2 --maildir "$W/Mail" --delete
	echo "$output"
	[ "$status" -eq 75 ]
	[ "$SECONDS" -le 8 ]
	[[ "$output" == *"RETR 1: read timed out: less than 1024 bytes in 2 seconds"* ]]
	assert_nothing_delivered
	not grep -q QUIT "$W/fake.log"
}

@test "a listing trickled one short line at a time is cut at the rate bound" {
	list=$(for i in $(seq 1 200); do printf '%d u%d\\r\\n' "$i" "$i"; done)
	fake "UIDL => +OK\\r\\n$list.\\r\\n !trickle=0.2" \
		'LIST => +OK\r\n1 100\r\n.\r\n'
	SECONDS=0
	run pf_fake --timeout 2 --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 75 ]
	[ "$SECONDS" -le 8 ]
	[[ "$output" == *"less than 1024 bytes in 2 seconds"* ]]
	assert_nothing_delivered
}

@test "a server sending steadily but slowly above the rate is not cut" {
	# 400 lines of 64 bytes, one every 10 ms: about 6 KB/s, far above
	# 1024 bytes per 2 s, and the whole body takes longer than 2 s.
	line=$(printf 'y%.0s' $(seq 1 62))
	body=$(for i in $(seq 1 400); do printf '%s\\r\\n' "$line"; done)
	fake 'UIDL => +OK\r\n1 a\r\n.\r\n' 'LIST => +OK\r\n1 26000\r\n.\r\n' \
		"RETR 1 => +OK\\r\\nSubject: s\\r\\n\\r\\n$body.\\r\\n !trickle=0.01"
	SECONDS=0
	run pf_fake --timeout 2 --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$SECONDS" -ge 3 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 1 ]
	[ "$(grep -c '^y' "$W"/Mail/new/*)" -eq 400 ]
}

@test "--max-time ends a session of prompt but slow replies, exit 75" {
	fake 'UIDL => +OK\r\n1 a\r\n2 b\r\n3 c\r\n4 d\r\n5 e\r\n6 f\r\n.\r\n' \
		'LIST => +OK\r\n1 30\r\n2 30\r\n3 30\r\n4 30\r\n5 30\r\n6 30\r\n.\r\n' \
		'RETR (\d) => +OK\r\nSubject: m\r\n\r\nbody\r\n.\r\n !sleep=1'
	SECONDS=0
	run pf_fake --timeout 5 --max-time 3 --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 75 ]
	[ "$SECONDS" -le 6 ]
	[[ "$output" == *"the session took longer than its limit of 3 seconds"* ]]
	# What came whole before the limit is delivered; nothing partial.
	n=$(ls "$W/Mail/new" | wc -l)
	[ "$n" -ge 1 ] && [ "$n" -le 3 ]
	[ -z "$(ls -A "$W/Mail/tmp")" ]
	[ "$(grep -c '^RETR' "$W/fake.log")" -le 4 ]
}

@test "max-time works from the accounts file too" {
	fake 'greeting => +OK\r\n !sleep=10'
	config_home
	export POPFETCH_PASSWORD=pw
	printf 'account slow\n host 127.0.0.1\n port %s\n user alice\n tls none\n allow-plaintext\n timeout 20\n max-time 2\n' \
		"$FAKE_PORT" > "$CONF"
	SECONDS=0
	run "$POPFETCH" -a slow stat
	echo "$output"
	[ "$status" -eq 75 ]
	[ "$SECONDS" -le 5 ]
	[[ "$output" == *"limit of 2 seconds"* ]]
}

@test "a TLS handshake dripped by the server ends within --timeout, exit 75" {
	# A TLS record header announcing 64 bytes, then one byte a second.
	fake 'greeting => \x16\x03\x03\x00\x40aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa !sleep=0.3 !slow=0.5'
	SECONDS=0
	run "$POPFETCH" --tls implicit --insecure --timeout 2 --host 127.0.0.1 \
		-p "$FAKE_PORT" -u alice stat
	echo "$output"
	[ "$status" -eq 75 ]
	[ "$SECONDS" -le 6 ]
	[[ "$output" == *"timed out"* ]]
	not grep -q USER "$W/fake.log"
}
