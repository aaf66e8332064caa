#!/usr/bin/env bats
# The MDA gets each message once and whole, within --mda-timeout, in a
# clean environment (issue 13).  A fake server feeds the messages; each
# test asserts the exit status, the elapsed time, what the MDA received
# and what the server saw, across runs where it matters.

bats_require_minimum_version 1.5.0

# "! cmd" cannot fail a Bats test (set -e ignores it); this can.
not() {
	if "$@"; then
		return 1
	fi
}

setup() {
	load lib/common
	export POPFETCH_PASSWORD=pw-secret-13
	export HOME=$BATS_TEST_TMPDIR/home XDG_STATE_HOME=
	mkdir -p "$HOME"
	W=$BATS_TEST_TMPDIR
	mkdir -p "$W/out"
}

teardown() {
	fake_stop
	if [ -s "$W/bg.pid" ]; then
		kill "$(cat "$W/bg.pid")" 2>/dev/null || true
	fi
}

LOGIN='CAPA => +OK\r\nUSER\r\nUIDL\r\n.\r\n
USER .* => +OK\r\n
PASS .* => +OK\r\n
DELE \d+ => +OK\r\n'

THREE='UIDL => +OK\r\n1 a\r\n2 b\r\n3 c\r\n.\r\n
LIST => +OK\r\n1 40\r\n2 40\r\n3 40\r\n.\r\n
RETR 1 => +OK\r\nSubject: one\r\n\r\nbody one\r\n.\r\n
RETR 2 => +OK\r\nSubject: two\r\n\r\nbody two\r\n.\r\n
RETR 3 => +OK\r\nSubject: three\r\n\r\nbody three\r\n.\r\n'

fake() {
	fake_start "$W" < <(printf '%s\n' "$@" "$LOGIN")
}

pf_fake() {
	"$POPFETCH" --tls none --allow-plaintext --timeout 3 --host 127.0.0.1 \
		-p "$FAKE_PORT" -u alice "$@"
}

@test "an MDA that overruns --mda-timeout is killed with its group; exit 75, nothing recorded" {
	fake "$THREE"
	SECONDS=0
	# The MDA leaves a grandchild in its group; both must be gone.
	run pf_fake --delete --mda-timeout 2 \
		--mda "sleep 30 & echo \$! > $W/bg.pid; wait; cat > $W/out/m.\$\$"
	echo "$output"
	[ "$status" -eq 75 ]
	[ "$SECONDS" -le 7 ]
	[[ "$output" == *"MDA: still running after 2 seconds"* ]]
	[ -z "$(ls -A "$W/out")" ]
	# Gone, or a zombie waiting for init to reap it.
	bg=$(cat "$W/bg.pid")
	[ ! -e /proc/$bg/status ] || grep -q '^State:.*Z' /proc/$bg/status
	not grep -q DELE "$W/fake.log"
	# Nothing recorded: the next run gives message 1 to the MDA again.
	run pf_fake --mda "cat > $W/out/m.\$\$"
	[ "$status" -eq 0 ]
	[ "$(ls "$W/out" | wc -l)" -eq 3 ]
	[ "$(grep -c '^RETR 1' "$W/fake.log")" -eq 2 ]
}

@test "--mda-timeout is in the option table with its default of 300" {
	run "$POPFETCH" --list-options
	[ "$status" -eq 0 ]
	grep -q '"name": *"mda-timeout".*"default": *"300"' <<<"$output" ||
		grep '"mda-timeout"' <<<"$output" | grep -q '"300"'
	run "$POPFETCH" --mda-timeout 0 --mda cat --host h stat
	[ "$status" -eq 64 ]
}

@test "each MDA delivery is recorded when the MDA exits 0: a crash repeats none" {
	fake "$THREE"
	# The MDA for message 2 kills popfetch after taking the message:
	# message 1 (its MDA had exited 0) must not be delivered again.
	run pf_fake --mda "cat > $W/out/m.\$\$; grep -q two $W/out/m.\$\$ && kill -9 \$PPID; exit 0"
	[ "$status" -eq 137 ] || [ "$status" -gt 128 ]
	run pf_fake --mda "cat > $W/out/r.\$\$"
	echo "$output"
	[ "$status" -eq 0 ]
	# Run 1 delivered 1 and 2; run 2 repeated only 2 (whose MDA had not
	# exited) and delivered 3.
	[ "$(grep -c '^RETR 1' "$W/fake.log")" -eq 1 ]
	[ "$(grep -l 'body one' "$W"/out/* | wc -l)" -eq 1 ]
	[ "$(grep -l 'body three' "$W"/out/* | wc -l)" -eq 1 ]
}

@test "popfetch killed mid-message: the MDA never sees a partial message" {
	fake 'UIDL => +OK\r\n1 a\r\n.\r\n' 'LIST => +OK\r\n1 4000\r\n.\r\n' \
		'RETR 1 => +OK\r\nSubject: half\r\n\r\nfirst half\r\n !hang'
	pf_fake --mda "cat > $W/out/m.\$\$" 3>&- &
	pid=$!
	for i in $(seq 1 100); do
		grep -q RETR "$W/fake.log" && break
		sleep 0.05
	done
	sleep 0.5
	kill -9 "$pid"
	wait "$pid" || true
	sleep 0.5
	[ -z "$(ls -A "$W/out")" ]
}

@test "a connection dropped mid-message: the MDA is never started for it" {
	fake 'UIDL => +OK\r\n1 a\r\n2 b\r\n.\r\n' 'LIST => +OK\r\n1 40\r\n2 40\r\n.\r\n' \
		'RETR 1 => +OK\r\nSubject: one\r\n\r\nbody one\r\n.\r\n' \
		'RETR 2 => +OK\r\nSubject: two\r\n\r\nhalf of it !close'
	run pf_fake --mda "cat > $W/out/m.\$\$"
	[ "$status" -eq 75 ]
	[ "$(ls "$W/out" | wc -l)" -eq 1 ]
	grep -q 'body one' "$W"/out/*
	not grep -q 'half of it' "$W"/out/*
}

@test "the MDA's environment holds no POPFETCH_PASSWORD, and %F never starts with -" {
	fake 'UIDL => +OK\r\n1 a\r\n.\r\n' 'LIST => +OK\r\n1 40\r\n.\r\n' \
		'RETR 1 => +OK\r\nFrom: -oQ/tmp/x@example.org\r\n\r\nbody\r\n.\r\n'
	run pf_fake --mda "env > $W/out/env; printf '%s\n' %F > $W/out/sender; cat >/dev/null"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q '^HOME=' "$W/out/env"
	not grep -q POPFETCH_PASSWORD "$W/out/env"
	not grep -q pw-secret-13 "$W/out/env"
	[ "$(cat "$W/out/sender")" = MAILER-DAEMON ]
}

@test "a failed wait4 is reported as such, not as a signal" {
	fake "$THREE"
	# LeakSanitizer cannot run under ptrace.
	ASAN_OPTIONS=${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0} \
	run strace -f -o /dev/null -e trace=wait4 -e inject=wait4:error=ECHILD \
		"$POPFETCH" --tls none --allow-plaintext --timeout 3 \
		--host 127.0.0.1 -p "$FAKE_PORT" -u alice --mda "cat >/dev/null"
	echo "$output"
	[ "$status" -eq 74 ]
	[[ "$output" == *"MDA: waitpid: No child processes"* ]]
	[[ "$output" != *"killed by"* ]]
}
