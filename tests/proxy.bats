#!/usr/bin/env bats
# Getting there: --connect-command (socat and nc as the command, TLS and
# its verification end to end), -4/--ipv4, -6/--ipv6, --source-address,
# against a real Dovecot on loopback.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/common
	suite_start
	dovecot_user_add pu pw
	dovecot_seed pu "$TOP"/tests/corpus/*.eml
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
	CORPUS=("$TOP"/tests/corpus/*.eml)
}

pf() {
	"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 10 --state "$W/state" "$@"
}

@test "connect-command: socat carries implicit TLS, verified end to end; the password stays out of its environment" {
	command -v socat >/dev/null || skip "socat is not installed"
	run pf --connect-command "env > $W/env; exec socat - TCP:127.0.0.1:%p" \
		"pop3s://pu@localhost:$DOVECOT_POP3S" fetch --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	same_messages "$W/Mail/new" "${CORPUS[@]}"
	[ -s "$W/env" ]
	[ "$(grep -c POPFETCH_PASSWORD "$W/env")" -eq 0 ]
	# The certificate is still checked against the POP3 host's name.
	run pf --connect-command "exec socat - TCP:127.0.0.1:%p" \
		--tls-server-name wrong.example "pop3s://pu@localhost:$DOVECOT_POP3S" stat
	echo "$output"
	[ "$status" -eq 77 ]
}

@test "connect-command: nc with STARTTLS; %h and %p arrive shell-quoted, one word each" {
	command -v nc >/dev/null || skip "nc is not installed"
	run pf --connect-command "printf '[%%s]\\n' %h %p > $W/args; exec nc 127.0.0.1 %p" \
		--tls starttls --host localhost --port "$DOVECOT_POP3" --user pu stat
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "${#CORPUS[@]} "* ]]
	[ "$(cat "$W/args")" = "[localhost]
[$DOVECOT_POP3]" ]
	# A host with shell syntax in it stays one harmless word.
	run pf --connect-command "printf '[%%s]\\n' %h > $W/args; exec nc 127.0.0.1 $DOVECOT_POP3S" \
		--tls implicit --host "x';touch $W/pwned;'" --port 1 --user pu \
		--tls-server-name localhost stat
	echo "$output"
	[ "$status" -eq 0 ]
	[ ! -e "$W/pwned" ]
	[ "$(cat "$W/args")" = "[x';touch $W/pwned;']" ]
}

@test "connect-command: a command that fails or says nothing is a network error (75)" {
	run pf --connect-command "exit 3" "pop3s://pu@localhost:$DOVECOT_POP3S" stat
	echo "$output"
	[ "$status" -eq 75 ]
	[[ "$output" == *"the server closed the connection during the TLS handshake"* ]]
	run pf --timeout 1 --connect-command "exec sleep 30" --tls none \
		--allow-plaintext --host localhost --user pu stat
	echo "$output"
	[ "$status" -eq 75 ]
	[[ "$output" == *"timed out"* ]]
}

@test "-4, -6 and --source-address choose how the connection is made" {
	# Dovecot listens on 127.0.0.1 only.
	run pf -4 "pop3s://pu@localhost:$DOVECOT_POP3S" stat
	echo "$output"
	[ "$status" -eq 0 ]
	run pf -6 --tls-server-name localhost "pop3s://pu@127.0.0.1:$DOVECOT_POP3S" stat
	echo "$output"
	[ "$status" -eq 68 ]
	[[ "$output" == *"host not found over IPv6"* ]]
	run pf --source-address 127.0.0.7 "pop3s://pu@localhost:$DOVECOT_POP3S" stat
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q 'rip=127.0.0.7' "$DOVECOT_DIR/dovecot.log"
	run pf --source-address not-an-address "pop3s://pu@localhost:$DOVECOT_POP3S" stat
	[ "$status" -eq 78 ]
	[[ "$output" == *'source address "not-an-address" is not an address'* ]]
}
