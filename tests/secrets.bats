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
	# setsid: no terminal, so the command gets a process group of its own.
	run setsid -w "$POPFETCH" --tls none --allow-plaintext --host 127.0.0.1 \
		-p "$FAKE_PORT" -u alice --timeout 2 \
		--password-command "sleep 30 & echo \$! >> $W/bg.pids; wait" stat
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

# Over --tls none without --allow-plaintext (pf_plain): what may go out.
pf_plain() {
	"$POPFETCH" --tls none --host 127.0.0.1 -p "$FAKE_PORT" -u alice \
		--timeout 5 "$@" < /dev/null
}

@test "APOP and CRAM-MD5 need --allow-plaintext without TLS (78), and work with it" {
	fake_start "$W" < <(printf '%s\n' 'CAPA => +OK\r\nSASL CRAM-MD5\r\n.\r\n' \
		'APOP .* => +OK\r\n' 'AUTH CRAM-MD5 => + PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n' \
		'[a-zA-Z0-9+/=]{20,} => +OK\r\n' 'STAT => +OK 0 0\r\n')
	export POPFETCH_PASSWORD=tanstaaf
	for m in apop cram-md5; do
		run pf_plain --auth "$m" stat
		echo "$output"
		[ "$status" -eq 78 ]
		[[ "$output" == *"refusing to send a"*"digest of the password over an unencrypted connection"* ]]
	done
	not grep -q '^APOP\|^AUTH' "$W/fake.log"
	run pf_plain --allow-plaintext --auth apop stat
	[ "$status" -eq 0 ]
	grep -qx 'APOP alice c4c9334bac560ecc979e58001b3e22fb' "$W/fake.log"
	run pf_plain --allow-plaintext --auth cram-md5 stat
	[ "$status" -eq 0 ]
	grep -qx 'AUTH CRAM-MD5' "$W/fake.log"
}

@test "SCRAM with fewer than 4096 iterations is refused before any proof (77); 4096 (the fake's ok) logs in" {
	export POPFETCH_PASSWORD=secret
	fake_start "$W" < <(printf '%s\n' 'CAPA => +OK\r\nSASL SCRAM-SHA-256\r\n.\r\n' \
		'AUTH SCRAM-SHA-256.* => x !scram=iter=1' 'STAT => +OK 0 0\r\n')
	run pf_plain --auth scram-sha-256 stat
	echo "$output"
	[ "$status" -eq 77 ]
	[[ "$output" == *"only 1 iterations, fewer than the 4096 of RFC 7677"* ]]
	# The AUTH line and the cancelling "*", never a client-final proof.
	not grep -q 'p=' <(tail -n +2 "$W/fake.log" | grep -v '^\*$' | grep -v '^QUIT$' | base64 -d 2>/dev/null)
	[ "$(grep -c . "$W/fake.log")" -le 3 ]
	fake_stop
	fake_start "$W" < <(printf '%s\n' 'CAPA => +OK\r\nSASL SCRAM-SHA-256\r\n.\r\n' \
		'AUTH SCRAM-SHA-256.* => x !scram=ok' 'STAT => +OK 0 0\r\n')
	run pf_plain --auth scram-sha-256 stat
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "a password in a URL is never printed, on the command line or in the accounts file" {
	for u in 'pop3s://u:hunter2@host/x' 'pop3s://u:hunter2@host' 'imap://u:hunter2@host' \
		'pop3s://u:hunter2@ho[st'; do
		run "$POPFETCH" --url "$u" stat
		echo "$output"
		[ "$status" -eq 64 ]
		[[ "$output" != *hunter2* ]]
		[[ "$output" == *"u:****@"* ]]
	done
	config_home
	printf 'account a\n url pop3s://u:hunter2@host/x\n' > "$CONF"
	chmod 600 "$CONF"
	run "$POPFETCH" -a a stat
	echo "$output"
	[ "$status" -eq 78 ]
	[[ "$output" != *hunter2* ]]
	run "$POPFETCH" config-check
	[[ "$output" != *hunter2* ]]
}

@test "--tls-priority below the default warns on every run; the default and stronger do not" {
	for p in 'NORMAL:+VERS-TLS1.0' 'NORMAL:-VERS-ALL:+VERS-TLS1.2:%VERIFY_ALLOW_SIGN_WITH_SHA1'; do
		run "$POPFETCH" --tls-priority "$p" --host 127.0.0.1 -p 1 --timeout 2 stat
		echo "$output"
		[[ "$output" == *"warning: --tls-priority is weaker than the default"* ]]
	done
	run "$POPFETCH" --tls-priority 'NORMAL:-VERS-ALL:+VERS-TLS1.3' --host 127.0.0.1 -p 1 --timeout 2 stat
	[[ "$output" != *warning* ]]
	run "$POPFETCH" --host 127.0.0.1 -p 1 --timeout 2 stat
	[[ "$output" != *warning* ]]
	config_home
	printf 'account a\n host 127.0.0.1\n port 1\n tls-priority NORMAL:+VERS-TLS1.1\n' > "$CONF"
	chmod 600 "$CONF"
	run "$POPFETCH" -a a stat
	[[ "$output" == *"weaker than the default"* ]]
}

@test "under --all-accounts each job holds only its own password; comments are wiped" {
	# The sanitizer's terabytes of reserved shadow cannot be scanned.
	if ldd "$POPFETCH" | grep -q libasan; then
		skip "memory is scanned on the plain build"
	fi
	fake_start "$W" < <(printf '%s\n' 'CAPA => +OK\r\nUSER\r\n.\r\n' \
		'USER .* => +OK\r\n' 'PASS .* => +OK\r\n' 'STAT => +OK !hang')
	config_home
	cat > "$CONF" <<EOF
# comment-SECRET3 (say, an old password)
defaults
    host 127.0.0.1
    port $FAKE_PORT
    tls none
    allow-plaintext
    timeout 20

account one
    user one
    password pw-one-SECRET1

account two
    user two
    password pw-two-SECRET2
EOF
	chmod 600 "$CONF"
	"$POPFETCH" --all-accounts -j 2 stat > "$W/out" 2>&1 &
	pid=$!
	for i in $(seq 1 100); do
		[ "$(grep -c '^STAT' "$W/fake.log")" -ge 1 ] && break
		sleep 0.05
	done
	sleep 0.3
	jobs=$(cat /proc/$pid/task/*/children)
	[ "$(wc -w <<<"$jobs")" -eq 2 ]
	# Which secrets appear in each job's writable memory but its stack.
	for j in $jobs; do
		python3 - "$j" > "$W/found.$j" <<'PY'
import re, sys
pid = sys.argv[1]
found = set()
with open("/proc/%s/maps" % pid) as maps, open("/proc/%s/mem" % pid, "rb", 0) as mem:
    for line in maps:
        addr, perms = line.split()[:2]
        # The stack is left out: the dynamic linker saves vector
        # registers there, which may hold pieces of any text scanned.
        if "r" not in perms or "w" not in perms or line.rstrip().endswith("[stack]"):
            continue
        lo, hi = (int(x, 16) for x in addr.split("-"))
        try:
            mem.seek(lo)
            data = mem.read(hi - lo)
        except OSError:
            continue
        found.update(m.decode() for m in re.findall(rb"SECRET[0-9]", data))
print(" ".join(sorted(found)))
PY
	done
	kill "$pid"
	wait "$pid" || true
	cat "$W"/found.*
	# One job holds SECRET1 only, the other SECRET2 only; none the comment.
	[ "$(cat "$W"/found.* | sort | tr '\n' ' ')" = "SECRET1 SECRET2 " ]
}
