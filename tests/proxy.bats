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
	# A command that ignores its closed input does not outlive the
	# run: it is ended with its process group (and does not keep the
	# output open, which would hold this test for 300 seconds).
	# The sleep is this test's own (a length no other process on the
	# machine has), so that pgrep cannot find somebody else's.
	local nap="300.$$"
	SECONDS=0
	run pf --timeout 1 --connect-command "sleep $nap; echo x" --tls none \
		--allow-plaintext --host localhost --user pu stat
	echo "$output"
	[ "$status" -eq 75 ]
	[[ "$output" == *"timed out"* ]]
	[ "$SECONDS" -lt 30 ]
	! pgrep -f "sleep $nap; echo x"
	! pgrep -x -f "sleep $nap"
}

@test "connect-command on a terminal: the command may ask there (as ssh does for a passphrase)" {
	command -v socat >/dev/null || skip "socat is not installed"
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	# The command reads a line from the terminal before it connects; in
	# a background process group it would be stopped (SIGTTIN) and the
	# run would time out.
	cat > "$W/cmd" <<EOF
printf 'passphrase: ' >/dev/tty; read -r x </dev/tty; echo "got \$x" > "$W/answer"
exec socat - TCP:127.0.0.1:$DOVECOT_POP3S
EOF
	run script -qec "'$POPFETCH' --ca-file '$DOVECOT_CA' --timeout 10 \
		--state '$W/state' --connect-command '. $W/cmd' \
		pop3s://pu@localhost:$DOVECOT_POP3S stat" /dev/null \
		< <(sleep 1; printf 'hello\n'; sleep 5)
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat "$W/answer")" = "got hello" ]
	[[ "$output" == *"${#CORPUS[@]} "* ]]
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

# socks_start [ARGS]: microsocks on a free loopback port; sets SOCKS_PORT.
socks_start() {
	SOCKS_PORT=$(_free_port)
	microsocks -i 127.0.0.1 -p "$SOCKS_PORT" "$@" >"$W/socks.log" 2>&1 &
	SOCKS_PID=$!
	local i
	for i in $(seq 1 100); do
		python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
		    "$SOCKS_PORT" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

teardown() {
	if [ -n "${SOCKS_PID:-}" ]; then
		kill "$SOCKS_PID" 2>/dev/null || true
		wait "$SOCKS_PID" 2>/dev/null || true
	fi
}

@test "proxy: socks5h by name and socks5 by address, TLS verified against the POP3 host" {
	command -v microsocks >/dev/null || skip "microsocks is not installed"
	socks_start
	run pf --proxy "socks5h://127.0.0.1:$SOCKS_PORT" \
		"pop3s://pu@localhost:$DOVECOT_POP3S" fetch --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	same_messages "$W/Mail/new" "${CORPUS[@]}"
	run pf --proxy "socks5://localhost:$SOCKS_PORT" \
		"pop3s://pu@localhost:$DOVECOT_POP3S" stat
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "${#CORPUS[@]} "* ]]
	# The name checked is the POP3 host's, through the proxy too.
	run pf --proxy "socks5h://127.0.0.1:$SOCKS_PORT" \
		--tls-server-name wrong.example \
		"pop3s://pu@localhost:$DOVECOT_POP3S" stat
	echo "$output"
	[ "$status" -eq 77 ]
}

@test "proxy: user and password (RFC 1929); a wrong password is 77, none is 78" {
	command -v microsocks >/dev/null || skip "microsocks is not installed"
	socks_start -u proxyuser -P proxysecret
	POPFETCH_PROXY_PASSWORD=proxysecret run pf \
		--proxy "socks5h://proxyuser@127.0.0.1:$SOCKS_PORT" \
		"pop3s://pu@localhost:$DOVECOT_POP3S" stat
	echo "$output"
	[ "$status" -eq 0 ]
	POPFETCH_PROXY_PASSWORD=wrong run pf \
		--proxy "socks5h://proxyuser@127.0.0.1:$SOCKS_PORT" \
		"pop3s://pu@localhost:$DOVECOT_POP3S" stat
	echo "$output"
	[ "$status" -eq 77 ]
	[[ "$output" == *"proxy: it refused the user name or password"* ]]
	run pf --proxy "socks5h://127.0.0.1:$SOCKS_PORT" \
		"pop3s://pu@localhost:$DOVECOT_POP3S" stat
	echo "$output"
	[ "$status" -eq 78 ]
	[[ "$output" == *"give USER@ in the proxy URL"* ]]
	# The password comes from a netrc entry for the proxy too.
	printf 'machine 127.0.0.1 login proxyuser password proxysecret\n' > "$HOME/.netrc"
	chmod 600 "$HOME/.netrc"
	run pf --proxy "socks5h://proxyuser@127.0.0.1:$SOCKS_PORT" \
		"pop3s://pu@localhost:$DOVECOT_POP3S" stat
	echo "$output"
	[ "$status" -eq 0 ]
	# Never on the command line.
	run pf --proxy "socks5h://proxyuser:proxysecret@127.0.0.1:$SOCKS_PORT" \
		"pop3s://pu@localhost:$DOVECOT_POP3S" stat
	[ "$status" -eq 78 ]
	[[ "$output" == *"passwords are not accepted in the URL"* ]]
}

@test "proxy: refused (75), unknown (68), and a server the proxy cannot reach (75)" {
	command -v microsocks >/dev/null || skip "microsocks is not installed"
	port=$(_free_port)
	run pf --proxy "socks5h://127.0.0.1:$port" \
		"pop3s://pu@localhost:$DOVECOT_POP3S" stat
	echo "$output"
	[ "$status" -eq 75 ]
	[[ "$output" == *"proxy 127.0.0.1: cannot connect to port $port"* ]]
	run pf --proxy "socks5h://no-such-host.invalid:1080" \
		"pop3s://pu@localhost:$DOVECOT_POP3S" stat
	echo "$output"
	[ "$status" -eq 68 ]
	socks_start
	run pf --proxy "socks5h://127.0.0.1:$SOCKS_PORT" \
		"pop3s://pu@localhost:$port" stat
	echo "$output"
	[ "$status" -eq 75 ]
	[[ "$output" == *"proxy: cannot reach port $port"* ]]
}
