#!/usr/bin/env bats
# Secrets stay where they belong, and children are bounded (issue 13):
# no POPFETCH_PASSWORD in any child's environment or in /proc, no core
# dumps, a password command bounded in time and waited for itself, no
# concurrent prompts under -j.  Against the fake server; each test
# asserts the exit status, elapsed time, and what the server saw.

bats_require_minimum_version 1.5.0

# "! cmd" cannot fail a Bats test (set -e ignores it); this can.
not() {
	if "$@"; then
		return 1
	fi
}

setup() {
	load lib/common
	export HOME=$BATS_TEST_TMPDIR/home XDG_STATE_HOME=
	mkdir -p "$HOME"
	W=$BATS_TEST_TMPDIR
	: > "$W/bg.pids"
}

teardown() {
	fake_stop
	local p
	for p in $(cat "$W/bg.pids" 2>/dev/null); do
		kill "$p" 2>/dev/null || true
	done
}

LOGIN='CAPA => +OK\r\nUSER\r\nUIDL\r\n.\r\n
USER .* => +OK\r\n
PASS .* => +OK\r\n
STAT => +OK 0 0\r\n
UIDL => +OK\r\n.\r\n
LIST => +OK\r\n.\r\n'

fake() {
	fake_start "$W" < <(printf '%s\n' "$@" "$LOGIN")
}

pf_fake() {
	"$POPFETCH" --tls none --allow-plaintext --host 127.0.0.1 \
		-p "$FAKE_PORT" -u alice "$@"
}

@test "POPFETCH_PASSWORD is used, then gone from the environment and from /proc; no core dumps" {
	fake 'NOOP => +OK !hang'
	# A simple command, so that $! is popfetch itself.
	POPFETCH_PASSWORD=pw-secret-13 "$POPFETCH" --tls none --allow-plaintext \
		--host 127.0.0.1 -p "$FAKE_PORT" -u alice --timeout 20 batch \
		<<<'NOOP' > "$W/out" 2>&1 &
	pid=$!
	for i in $(seq 1 100); do
		grep -q NOOP "$W/fake.log" && break
		sleep 0.05
	done
	grep -q '^PASS pw-secret-13$' "$W/fake.log"
	environ=$(tr '\0' '\n' < /proc/$pid/environ)
	grep -q "$(basename "$POPFETCH")" /proc/$pid/cmdline
	limits=$(cat /proc/$pid/limits)
	kill "$pid"
	wait "$pid" || true
	not grep -q pw-secret-13 <<<"$environ"
	grep -q '^Max core file size *0 *0 ' <<<"$limits"
}

@test "the password command sees no POPFETCH_PASSWORD" {
	fake
	export POPFETCH_PASSWORD=pw-secret-13
	run pf_fake --password-command "env > $W/env; echo from-command" stat
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q '^PASS from-command$' "$W/fake.log"
	grep -q '^HOME=' "$W/env"
	not grep -q POPFETCH_PASSWORD "$W/env"
}

@test "a password command that hangs is killed after --timeout, exit 75, nothing sent" {
	fake
	SECONDS=0
	run pf_fake --timeout 2 --password-command "sleep 30 & echo \$! >> $W/bg.pids; wait" stat
	echo "$output"
	[ "$status" -eq 75 ]
	[ "$SECONDS" -le 6 ]
	[[ "$output" == *"password command was still running after 2 seconds"* ]]
	not grep -q '^PASS' "$W/fake.log"
	bg=$(cat "$W/bg.pids")
	[ ! -e /proc/$bg/status ] || grep -q '^State:.*Z' /proc/$bg/status
}

@test "a password command leaving a background process: popfetch waits only for the command" {
	fake
	SECONDS=0
	run pf_fake --timeout 10 --password-command "sleep 20 2>/dev/null & echo \$! >> $W/bg.pids; echo pw-bg" stat
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$SECONDS" -le 5 ]
	grep -q '^PASS pw-bg$' "$W/fake.log"
}

write_two() {
	config_home
	cat > "$CONF" <<EOF
defaults
    host 127.0.0.1
    port $FAKE_PORT
    tls none
    allow-plaintext
    timeout 10

account one
    user one
    $1

account two
    user two
    $1
EOF
	chmod 600 "$CONF"
}

@test "--all-accounts -j 2 waits for the jobs, not for what their helpers left running" {
	fake
	write_two "password-command sleep 20 </dev/null >/dev/null 2>&1 & echo \$! >> $W/bg.pids; sleep 20 & echo \$! >> $W/bg.pids; echo pw"
	SECONDS=0
	run "$POPFETCH" --all-accounts -j 2 stat
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$SECONDS" -le 6 ]
	[ "$(grep -c '^PASS pw$' "$W/fake.log")" -eq 2 ]
}

@test "--all-accounts -j 2 on a terminal prompts for no password, and says why" {
	fake
	write_two ""
	SECONDS=0
	run timeout 15 script -qec "$POPFETCH --all-accounts -j 2 stat" /dev/null
	echo "$output"
	[ "$SECONDS" -le 10 ]
	[[ "$output" == *"other accounts run at the same time"* ]]
	[[ "$output" != *"Password for"* ]]
	not grep -q '^PASS' "$W/fake.log"
}
