#!/usr/bin/env bats
# The command line: bad input gets a clear message and exit status 64
# (usage) or 78 (configuration) before anything touches the network.

bats_require_minimum_version 1.5.0

setup() {
	load lib/common
}

@test "--version names popfetch and GnuTLS" {
	run "$POPFETCH" --version
	[ "$status" -eq 0 ]
	[[ "$output" == "popfetch "*"(GnuTLS "* ]]
}

@test "--help lists every command" {
	run "$POPFETCH" --help
	[ "$status" -eq 0 ]
	for c in welcome capa stat list uidl top retr dele rset noop batch; do
		[[ "$output" == *"$c"* ]]
	done
}

@test "an unknown command is a usage error" {
	run "$POPFETCH" --host localhost frobnicate
	[ "$status" -eq 64 ]
	[[ "$output" == *'unknown command "frobnicate"'* ]]
}

@test "an unknown option is a usage error" {
	run "$POPFETCH" --frobnicate
	[ "$status" -eq 64 ]
}

@test "a missing host is a usage error" {
	run "$POPFETCH" stat
	[ "$status" -eq 64 ]
	[[ "$output" == *"no host given"* ]]
}

@test "no command is a usage error" {
	run "$POPFETCH" --host localhost
	[ "$status" -eq 64 ]
}

@test "message numbers are checked before connecting" {
	# Port 9 on loopback is closed: if popfetch connected, it would be 75.
	for args in "retr 0" "retr -1" "retr x" "retr 99999999999" "top 1" \
	    "top 1 -2" "list 0" "dele" "retr 1 2" "stat 1"; do
		run "$POPFETCH" --host 127.0.0.1 -p 9 $args
		echo "$args -> $status $output"
		[ "$status" -eq 64 ]
	done
}

@test "bad option values are usage errors" {
	run "$POPFETCH" --host h --tls maybe stat
	[ "$status" -eq 64 ]
	[[ "$output" == *"--tls takes implicit, starttls or none"* ]]
	run "$POPFETCH" --host h --auth magic stat
	[ "$status" -eq 64 ]
	run "$POPFETCH" --host h --timeout 0 stat
	[ "$status" -eq 64 ]
	run "$POPFETCH" --host h -d 3 stat
	[ "$status" -eq 64 ]
	run "$POPFETCH" --host h -p 70000 stat
	[ "$status" -eq 64 ]
}

@test "a password in a URL is refused" {
	run "$POPFETCH" pop3s://alice:secret@localhost stat
	[ "$status" -eq 64 ]
	[[ "$output" == *"passwords are not accepted on the command line"* ]]
	[[ "$output" != *secret* ]]
}

@test "bad URLs are usage errors" {
	for u in "imap://h" "pop3s://" "pop3s://h:" "pop3s://[::1" "pop3s://h/x"; do
		run "$POPFETCH" --url "$u" stat
		[ "$status" -eq 64 ]
	done
}

@test "an unknown host exits 68" {
	run "$POPFETCH" --host no-such-host.invalid stat
	[ "$status" -eq 68 ]
	[[ "$output" == "popfetch: no-such-host.invalid: host not found"* ]]
}

@test "a refused connection exits 75" {
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	run "$POPFETCH" --host 127.0.0.1 -p "$port" --tls implicit stat
	[ "$status" -eq 75 ]
	[[ "$output" == *"cannot connect"* ]]
}
