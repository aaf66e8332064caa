#!/usr/bin/env bats
# The quirks of the POP3 servers people run (issue 15), each played by a
# personality of tests/lib/fakepop.py.  Every test asserts the exit
# status, the transcript the server saw and the bytes delivered.

bats_require_minimum_version 1.5.0

setup() {
	load lib/common
	export POPFETCH_PASSWORD=secret
	export HOME=$BATS_TEST_TMPDIR/home XDG_STATE_HOME=
	mkdir -p "$HOME"
	W=$BATS_TEST_TMPDIR
}

teardown() {
	fake_stop
}

fake() {
	fake_start "$W" < <(printf '%s\n' "$@")
}

pf_fake() {
	"$POPFETCH" --tls none --allow-plaintext --timeout 5 --host 127.0.0.1 \
		-p "$FAKE_PORT" -u alice "$@"
}

# listing N: UIDL and LIST rules for messages 1..N of 40 octets.
listing() {
	local i uidl=+OK\\r\\n list=+OK\\r\\n
	for i in $(seq 1 "$1"); do
		uidl+="$i u$i\\r\\n"
		list+="$i 40\\r\\n"
	done
	printf '%s\n' "UIDL => $uidl.\\r\\n" "LIST => $list.\\r\\n"
}

USERPASS='USER .* => +OK\r\n
PASS .* => +OK\r\n'

@test "a lock-step server writing status and body apart with Nagle: 300 messages in under 1 s" {
	fake 'CAPA => +OK\r\nUSER\r\nUIDL\r\n.\r\n' "$USERPASS" "$(listing 300)" \
		'repeat 300 RETR {i} => +OK message follows\r\nSubject: m{i}\r\n\r\nbody {i}\r\n.\r\n !split'
	start=$(date +%s%N)
	run pf_fake --maildir "$W/Mail"
	end=$(date +%s%N)
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 300 ]
	grep -lx 'body 123' "$W"/Mail/new/* | xargs cat | grep -qx 'Subject: m123'
	[ "$(grep -c '^RETR ' "$W/fake.log")" -eq 300 ]
	# Lock-step: no command before the reply to the one before it.
	grep -q QUIT "$W/fake.log"
	ms=$(( (end - start) / 1000000 ))
	echo "elapsed ${ms} ms" >&3
	[ "$ms" -lt 1000 ]
}
