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
	if declare -F popa3d_stop >/dev/null; then popa3d_stop; fi
}

fake() {
	fake_start "$W" < <(printf '%s\n' "$@")
}

pf_fake() {
	"$POPFETCH" --tls none --allow-plaintext --timeout 5 --host 127.0.0.1 \
		-p "$FAKE_PORT" -u alice "$@"
}

# wait_closed N: until the fake server has seen N connections end (at
# most 2 s), so that counting them is not a race.
wait_closed() {
	local i
	for i in $(seq 1 100); do
		[ "$(wc -l < "$W/fake.log.closed")" -ge "$1" ] && break
		sleep 0.02
	done
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

# Courier: a message whose header holds UTF-8 is replaced by a notice
# unless the client sent UTF8 (RFC 6856).
COURIER='CAPA => +OK\r\nTOP\r\nUSER\r\nUIDL\r\nUTF8 USER\r\nIMPLEMENTATION Courier Mail Server\r\n.\r\n
UTF8 => +OK UTF8 enabled\r\n !flag=utf8
UIDL => +OK\r\n1 u1\r\n.\r\n
LIST => +OK\r\n1 20\r\n.\r\n
?utf8 RETR 1 => +OK\r\nSubject: caf\xc3\xa9\r\n\r\nbody\r\n.\r\n
?!utf8 RETR 1 => +OK\r\nSubject: Cannot display Unicode content\r\n\r\nnotice\r\n.\r\n'

@test "Courier: UTF8 is sent before login when offered, so the real message arrives, not the notice" {
	fake "$COURIER" "$USERPASS"
	run pf_fake --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat "$W"/Mail/new/*)" = $'Subject: caf\xc3\xa9\n\nbody' ]
	[ "$(sed -n 2,3p "$W/fake.log")" = $'UTF8\nUSER alice' ]
}

@test "--no-utf8: no UTF8 is sent, and Courier substitutes its notice" {
	fake "$COURIER" "$USERPASS"
	run pf_fake --maildir "$W/Mail" --no-utf8
	[ "$status" -eq 0 ]
	! grep -qx UTF8 "$W/fake.log"
	grep -q 'Cannot display Unicode' "$W"/Mail/new/*
}

@test "--utf8 requires UTF8: a server without it is refused (69) before login" {
	fake 'CAPA => +OK\r\nUSER\r\nUIDL\r\n.\r\n' "$USERPASS"
	run pf_fake --maildir "$W/Mail" --utf8
	echo "$output"
	[ "$status" -eq 69 ]
	[[ "$output" == *"does not offer UTF8"*"--no-utf8"* ]]
	[ "$(cat "$W/fake.log")" = CAPA ]
	[ -z "$(ls -A "$W/Mail/new" 2>/dev/null)" ]
}

@test "a server that refuses UTF8 although it offers it: auto goes on, --utf8 exits 69" {
	fake 'CAPA => +OK\r\nUSER\r\nUIDL\r\nUTF8\r\n.\r\n' 'UTF8 => -ERR no\r\n' "$USERPASS" \
		'UIDL => +OK\r\n1 u1\r\n.\r\n' 'LIST => +OK\r\n1 20\r\n.\r\n' \
		'RETR 1 => +OK\r\nSubject: a\r\n\r\nb\r\n.\r\n'
	run pf_fake --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ "$(cat "$W"/Mail/new/*)" = $'Subject: a\n\nb' ]
	: > "$W/fake.log"
	run pf_fake --maildir "$W/Mail2" --utf8
	[ "$status" -eq 69 ]
	[ "$(cat "$W/fake.log")" = $'CAPA\nUTF8' ]
}

# mailutils, popa3d, solid-pop3d: CAPA without a SASL line.
@test "a named SASL mechanism with CAPA known and no SASL line: 69 with a hint, nothing sent" {
	fake 'CAPA => +OK\r\nUSER\r\nUIDL\r\n.\r\n' 'AUTH.* => -ERR Not implemented\r\n' 'STAT => +OK 0 0\r\n' "$USERPASS"
	for m in plain login cram-md5 scram-sha-256; do
		: > "$W/fake.log"
		run pf_fake --maildir "$W/Mail" --auth "$m"
		echo "$m: $output"
		[ "$status" -eq 69 ]
		[[ "$output" == *"no SASL line"*"--auth auto"*"--auth user"* ]]
		[ "$(cat "$W/fake.log")" = CAPA ]
	done
	# auto logs in with USER/PASS there.
	: > "$W/fake.log"
	run pf_fake stat
	[ "$status" -eq 0 ]
	[ "$(sed -n 2p "$W/fake.log")" = "USER alice" ]
}

@test "a server that drops the connection on CAPA: one reconnection without CAPA, and the fetch goes on" {
	fake 'CAPA =>  !close' "$USERPASS" 'UIDL => +OK\r\n1 u1\r\n2 u2\r\n.\r\n' \
		'LIST => +OK\r\n1 20\r\n2 20\r\n.\r\n' \
		'RETR 1 => +OK\r\nSubject: one\r\n\r\n1\r\n.\r\n' \
		'RETR 2 => +OK\r\nSubject: two\r\n\r\n2\r\n.\r\n'
	run pf_fake --maildir "$W/Mail" -d 1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"hung up on CAPA"* ]]
	[ "$(head -2 "$W/fake.log")" = $'CAPA\nUSER alice' ]
	[ "$(grep -c '^CAPA' "$W/fake.log")" -eq 1 ]
	wait_closed 2
	[ "$(wc -l < "$W/fake.log.closed")" -eq 2 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 2 ]
}

@test "a server that drops on CAPA twice: exit 75, two connections only" {
	fake 'CAPA =>  !close' 'USER .* =>  !close'
	run pf_fake --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 75 ]
	[ "$(cat "$W/fake.log")" = $'CAPA\nUSER alice' ]
}

@test "a SASL continuation \"+\" without the trailing space (seznam.cz) is accepted" {
	fake 'CAPA => +OK\r\nSASL PLAIN LOGIN\r\nUIDL\r\n.\r\n' \
		'AUTH PLAIN => +\r\n' 'AUTH LOGIN => +\r\n' 'YWxpY2U= => +\r\n' \
		'AGFsaWNlAHNlY3JldA== => +OK\r\n' 'c2VjcmV0 => +OK\r\n'
	run pf_fake --auth plain --no-initial-response stat
	echo "$output"
	[ "$status" -eq 69 ]	# STAT is refused by the fake: logged in
	[ "$(head -4 "$W/fake.log")" = $'CAPA\nAUTH PLAIN\nAGFsaWNlAHNlY3JldA==\nSTAT' ]
	: > "$W/fake.log"
	run pf_fake --auth login --no-initial-response stat
	echo "$output"
	[ "$status" -eq 69 ]
	[ "$(head -5 "$W/fake.log")" = $'CAPA\nAUTH LOGIN\nYWxpY2U=\nc2VjcmV0\nSTAT' ]
}

# expected_pad HEAD N: what popfetch delivers for a reply padded by
# fakepop's !pad=N after HEAD (CRLF lines).
expected_pad() {
	python3 - "$@" <<'PY'
import sys
head, n = sys.argv[1].encode(), int(sys.argv[2])
out, left = [], n
while left > 0:
    k = min(78, max(left - 2, 1))
    out.append(b"x" * k + b"\n")
    left -= k + 2
sys.stdout.buffer.write(head.replace(b"\\r\\n", b"\n") + b"".join(out))
PY
}

@test "LIST sizes far too small (10 octets, 3 MB sent), pipelined: every byte delivered, no stall" {
	fake 'CAPA => +OK\r\nUSER\r\nUIDL\r\nPIPELINING\r\n.\r\n' "$USERPASS" \
		"UIDL => +OK\\r\\n$(for i in 1 2 3 4; do printf '%s u%s\\r\\n' $i $i; done).\\r\\n" \
		"LIST => +OK\\r\\n$(for i in 1 2 3 4; do printf '%s 10\\r\\n' $i; done).\\r\\n" \
		'repeat 4 RETR {i} => +OK\r\nSubject: big {i}\r\n\r\n.\r\n !pad=3000000'
	SECONDS=0
	run pf_fake --maildir "$W/Mail" --timeout 10
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$SECONDS" -lt 20 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 4 ]
	for i in 1 2 3 4; do
		expected_pad "Subject: big $i\\r\\n\\r\\n" 3000000 > "$W/want"
		cmp "$W/want" "$(grep -l "^Subject: big $i\$" "$W"/Mail/new/*)"
	done
	# All four RETRs went out at once: the sizes only bound the window.
	[ "$(sed -n 6,9p "$W/fake.log" | tr '\n' ' ')" = "RETR 1 RETR 2 RETR 3 RETR 4 " ]
}

@test "LIST sizes far too large (50 MB listed, 10 octets sent): every message delivered, no wait" {
	fake 'CAPA => +OK\r\nUSER\r\nUIDL\r\nPIPELINING\r\n.\r\n' "$USERPASS" \
		"UIDL => +OK\\r\\n$(for i in 1 2 3; do printf '%s u%s\\r\\n' $i $i; done).\\r\\n" \
		"LIST => +OK\\r\\n$(for i in 1 2 3; do printf '%s 52428800\\r\\n' $i; done).\\r\\n" \
		'repeat 3 RETR {i} => +OK\r\nSubject: {i}\r\n\r\n.\r\n'
	SECONDS=0
	run pf_fake --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$SECONDS" -lt 5 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 3 ]
	for i in 1 2 3; do
		[ "$(cat "$(grep -l "^Subject: $i\$" "$W"/Mail/new/*)")" = "Subject: $i" ]
	done
}

# Cyrus with saslauthd: SCRAM advertised, but refused for this user.
CYRUS='implicit
CAPA => +OK\r\nSASL SCRAM-SHA-256 DIGEST-MD5 CRAM-MD5 PLAIN LOGIN\r\nUIDL\r\nIMPLEMENTATION Cyrus POP3 v3.6.1\r\n.\r\n
AUTH SCRAM-SHA-256.* => -ERR [AUTH] Invalid login\r\n
AUTH PLAIN AGFsaWNlAHNlY3JldA== => +OK Mailbox locked and ready\r\n
AUTH PLAIN .* => -ERR [AUTH] Invalid login\r\n
USER alice => +OK\r\n
PASS secret => +OK\r\n
PASS .* => -ERR [AUTH] Invalid login\r\n
STAT => +OK 0 0\r\n'

tls_certs() {
	CERTS=$BATS_FILE_TMPDIR/certs
	[ -s "$CERTS/server.pem" ] || certs_make "$CERTS"
}

cyrus() {
	tls_certs
	fake_start "$W" "$CERTS/server.pem" "$CERTS/server.key" < <(printf '%s\n' "$@")
}

pf_tls() {
	"$POPFETCH" --ca-file "$CERTS/ca.pem" --tls implicit --timeout 5 \
		--host localhost \
		-p "$FAKE_PORT" -u alice "$@"
}

@test "Cyrus refusing SCRAM: auto tries PLAIN once over verified TLS, and -d 1 says so" {
	cyrus "$CYRUS"
	run pf_tls -d 1 stat
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"note: AUTH SCRAM-SHA-256 refused; trying AUTH PLAIN over verified TLS"* ]]
	[ "$(grep -c '^AUTH' "$W/fake.log")" -eq 2 ]
	[ "$(sed -n 3p "$W/fake.log")" = "AUTH PLAIN AGFsaWNlAHNlY3JldA==" ]
	[[ "$(sed -n 2p "$W/fake.log")" == "AUTH SCRAM-SHA-256 "* ]]
	[ "$(sed -n 4p "$W/fake.log")" = STAT ]
}

@test "a wrong password on Cyrus costs two attempts, and the error names both (77)" {
	cyrus "$CYRUS"
	POPFETCH_PASSWORD=wrong run pf_tls stat
	echo "$output"
	[ "$status" -eq 77 ]
	[[ "$output" == *"tried AUTH SCRAM-SHA-256, then AUTH PLAIN"*"Invalid login"* ]]
	[ "$(grep -c '^AUTH' "$W/fake.log")" -eq 2 ]
	[ "$(grep -c '^AUTH PLAIN' "$W/fake.log")" -eq 1 ]
}

@test "without a verified certificate there is no fallback from SCRAM (77, one AUTH)" {
	cyrus "$CYRUS"
	run pf_tls --insecure stat
	echo "$output"
	[ "$status" -eq 77 ]
	[ "$(grep -c '^AUTH' "$W/fake.log")" -eq 1 ]
	! grep -q 'AUTH PLAIN' "$W/fake.log"
}

@test "without TLS there is no fallback from SCRAM either (77, one AUTH)" {
	fake 'CAPA => +OK\r\nSASL SCRAM-SHA-256 PLAIN\r\nUSER\r\n.\r\n' \
		'AUTH SCRAM-SHA-256.* => -ERR [AUTH] Invalid login\r\n' \
		'AUTH PLAIN .* => +OK\r\n' 'STAT => +OK 0 0\r\n'
	run pf_fake stat
	echo "$output"
	[ "$status" -eq 77 ]
	[ "$(grep -c '^AUTH' "$W/fake.log")" -eq 1 ]
}

@test "where PLAIN is not offered, the fallback from SCRAM is USER/PASS" {
	cyrus "$(sed 's/ PLAIN LOGIN//; s/^CAPA => +OK/&\\r\\nUSER/' <<<"$CYRUS")"
	run pf_tls -d 1 stat
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"trying USER/PASS over verified TLS"* ]]
	[ "$(sed -n 3,5p "$W/fake.log")" = $'USER alice\nPASS secret\nSTAT' ]
}

@test "a SCRAM server that cannot prove the password is no reason to fall back (77)" {
	cyrus 'implicit' 'CAPA => +OK\r\nSASL SCRAM-SHA-256 PLAIN\r\n.\r\n' \
		'AUTH SCRAM-SHA-256.* => x !scram=badsig' 'AUTH PLAIN .* => +OK\r\n'
	run pf_tls stat
	echo "$output"
	[ "$status" -eq 77 ]
	! grep -q 'AUTH PLAIN' "$W/fake.log"
}

# The LOGIN-DELAY file of the default state of alice at the fake server.
delay_file() {
	ls "$HOME"/.local/state/popfetch/alice@*.login-delay 2>/dev/null
}

@test "a login refused with [LOGIN-DELAY]: exit 75 saying when, and no connection until then" {
	fake 'CAPA => +OK\r\nUSER\r\nUIDL\r\nRESP-CODES\r\nLOGIN-DELAY 600\r\n.\r\n' \
		'USER .* => +OK\r\n' 'PASS .* => -ERR [LOGIN-DELAY] minimum time between logins not met\r\n'
	run pf_fake --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 75 ]
	[[ "$output" == *"[LOGIN-DELAY]"*"the next login may succeed at "*"(in 600 s)"*"skips this account"* ]]
	f=$(delay_file)
	grep -q '^until [0-9]*$' "$f"
	wait_closed 1
	[ "$(wc -l < "$W/fake.log.closed")" -eq 1 ]
	# Until then: the same exit status and advice, without connecting.
	: > "$W/fake.log"
	run pf_fake --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 75 ]
	[[ "$output" == *"the next login may succeed at "*"popfetch does not connect before then"* ]]
	[ ! -s "$W/fake.log" ]
	[ "$(wc -l < "$W/fake.log.closed")" -eq 1 ]
	# Once the time has come, popfetch logs in again.
	echo "until $(( $(date +%s) - 1 ))" > "$f"
	run pf_fake --maildir "$W/Mail"
	[ "$status" -eq 75 ]
	grep -q '^PASS' "$W/fake.log"
}

@test "the delay is counted from the last login when popfetch saw it" {
	fake 'CAPA => +OK\r\nUSER\r\nUIDL\r\nLOGIN-DELAY 900\r\n.\r\n' 'USER .* => +OK\r\n' \
		'?conn1 PASS .* => +OK\r\n' 'PASS .* => -ERR [LOGIN-DELAY] wait\r\n' \
		'UIDL => +OK\r\n.\r\n' 'LIST => +OK\r\n.\r\n'
	run pf_fake --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	last=$(sed -n 's/^last //p' "$(delay_file)")
	[ -n "$last" ]
	run pf_fake --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 75 ]
	[ "$(sed -n 's/^until //p' "$(delay_file)")" -eq $(( last + 900 )) ]
}

@test "Gmail advertises LOGIN-DELAY 300 but accepts earlier logins: not slowed down" {
	fake 'CAPA => +OK\r\nUSER\r\nRESP-CODES\r\nEXPIRE 0\r\nLOGIN-DELAY 300\r\nTOP\r\nUIDL\r\n.\r\n' \
		"$USERPASS" 'UIDL => +OK\r\n1 u1\r\n.\r\n' 'LIST => +OK\r\n1 20\r\n.\r\n' \
		'RETR 1 => +OK\r\nSubject: g\r\n\r\nb\r\n.\r\n' 'DELE 1 => +OK\r\n'
	run pf_fake --maildir "$W/Mail" --delete
	[ "$status" -eq 0 ]
	run pf_fake --maildir "$W/Mail" --delete -d 1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"note: the server asks for 300 s between logins (LOGIN-DELAY)"* ]]
	[[ "$output" == *"note: the server may remove messages 0 days after they are retrieved (EXPIRE)"* ]]
	[ "$(grep -c '^PASS' "$W/fake.log")" -eq 2 ]
	! grep -q '^until' "$(delay_file)"
}

@test "EXPIRE 0 (Gmail): keeping warns that nothing can be kept; --delete does not" {
	fake 'CAPA => +OK\r\nUSER\r\nEXPIRE 0\r\nUIDL\r\n.\r\n' "$USERPASS" \
		'UIDL => +OK\r\n1 u1\r\n.\r\n' 'LIST => +OK\r\n1 20\r\n.\r\n' \
		'RETR 1 => +OK\r\nSubject: g\r\n\r\nb\r\n.\r\n' 'DELE 1 => +OK\r\n'
	run --separate-stderr pf_fake --maildir "$W/Mail" --keep
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"EXPIRE 0"*"nothing can be kept"* ]]
	[ "$(cat "$W"/Mail/new/*)" = $'Subject: g\n\nb' ]
	! grep -q DELE "$W/fake.log"
	run --separate-stderr pf_fake --maildir "$W/Mail2" --delete
	[ "$status" -eq 0 ]
	[[ "$stderr" != *EXPIRE* ]]
}

@test "EXPIRE 5 with --keep-days 30 warns that the server may remove them first" {
	fake 'CAPA => +OK\r\nUSER\r\nEXPIRE 5\r\nUIDL\r\n.\r\n' "$USERPASS" \
		'UIDL => +OK\r\n.\r\n' 'LIST => +OK\r\n.\r\n'
	run --separate-stderr pf_fake --maildir "$W/Mail" --keep-days 30
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"5 days after they are retrieved (EXPIRE 5), before 30 days"* ]]
}

# gmail_cap N CAP: a Gmail-like server holding N messages that lists the
# next CAP not yet retrieved in each session (connection k lists
# messages (k-1)*CAP+1 ...).
gmail_cap() {
	local n=$1 cap=$2 k=1 first i j uidl list
	printf '%s\n' 'CAPA => +OK\r\nUSER\r\nRESP-CODES\r\nEXPIRE 0\r\nLOGIN-DELAY 300\r\nTOP\r\nUIDL\r\n.\r\n' "$USERPASS"
	for (( first = 1; ; first += cap, k++ )); do
		uidl=+OK\\r\\n list=+OK\\r\\n j=0
		for (( i = first; i <= n && i < first + cap; i++ )); do
			j=$(( j + 1 ))
			uidl+="$j g$i\\r\\n"
			list+="$j 40\\r\\n"
			printf '%s\n' "?conn$k RETR $j => +OK\\r\\nSubject: gmail $i\\r\\n\\r\\nbody $i\\r\\n.\\r\\n"
		done
		printf '%s\n' "?conn$k UIDL => $uidl.\\r\\n" "?conn$k LIST => $list.\\r\\n"
		[ "$first" -gt "$n" ] && break
	done
}

@test "--until-empty on a Gmail-like 250-a-session server: 600 messages in 3 sessions and one that finds none" {
	fake_start "$W" < <(gmail_cap 600 250)
	run pf_fake --maildir "$W/Mail" --until-empty
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 600 ]
	[ "$(cat "$W"/Mail/new/* | grep -c '^Subject: gmail')" -eq 600 ]
	[ "$(cat "$W"/Mail/new/* | grep '^Subject: gmail' | sort -u | wc -l)" -eq 600 ]
	[ "$(grep -c '^PASS' "$W/fake.log")" -eq 4 ]
	[ "$(grep -c '^QUIT' "$W/fake.log")" -eq 4 ]
	[ "$(grep -c '^RETR' "$W/fake.log")" -eq 600 ]
}

@test "without --until-empty one session; --max-sessions bounds the reconnections and says so" {
	fake_start "$W" < <(gmail_cap 600 250)
	run pf_fake --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 250 ]
	[ "$(grep -c '^PASS' "$W/fake.log")" -eq 1 ]
	fake_stop
	rm -rf "$W/Mail" "$HOME/.local"
	fake_start "$W" < <(gmail_cap 600 250)
	run pf_fake --maildir "$W/Mail" --until-empty --max-sessions 2
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"stopped after 2 sessions; there may be more mail"* ]]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 500 ]
	[ "$(grep -c '^PASS' "$W/fake.log")" -eq 2 ]
}

@test "--until-empty stops at an error, and a reconnection refused with [LOGIN-DELAY] exits 75 with what came" {
	fake 'CAPA => +OK\r\nUSER\r\nUIDL\r\nLOGIN-DELAY 60\r\n.\r\n' 'USER .* => +OK\r\n' \
		'?conn1 PASS .* => +OK\r\n' 'PASS .* => -ERR [LOGIN-DELAY] too soon\r\n' \
		'UIDL => +OK\r\n1 a\r\n.\r\n' 'LIST => +OK\r\n1 20\r\n.\r\n' \
		'RETR 1 => +OK\r\nSubject: a\r\n\r\nb\r\n.\r\n'
	run pf_fake --maildir "$W/Mail" --until-empty
	echo "$output"
	[ "$status" -eq 75 ]
	[[ "$output" == *"LOGIN-DELAY"*"next login may succeed"* ]]
	[ "$(cat "$W"/Mail/new/*)" = $'Subject: a\n\nb' ]
	[ "$(grep -c '^PASS' "$W/fake.log")" -eq 2 ]
	# A refused RETR is an error: no second session.
	fake_stop
	rm -rf "$W/Mail" "$HOME/.local"
	fake 'CAPA => +OK\r\nUSER\r\nUIDL\r\n.\r\n' "$USERPASS" \
		'UIDL => +OK\r\n1 a\r\n2 b\r\n.\r\n' 'LIST => +OK\r\n1 20\r\n2 20\r\n.\r\n' \
		'RETR 1 => +OK\r\nSubject: a\r\n\r\nb\r\n.\r\n' 'RETR 2 => -ERR gone\r\n'
	run pf_fake --maildir "$W/Mail" --until-empty
	[ "$status" -eq 69 ]
	[ "$(grep -c '^PASS' "$W/fake.log")" -eq 1 ]
}

# Interop with a real popa3d, when it can run here (tests/lib/popa3d.bash
# says how to provide it; CI does not).
popa3d_setup() {
	. "$TESTS_LIB/popa3d.bash"
	popa3d_usable || skip "popa3d not available (set POPA3D; see tests/lib/popa3d.bash)"
	mkdir -p "$W/corpus"
	make_corpus "$W/corpus" "$1" "$2"
	for f in "$W"/corpus/*.eml; do
		printf 'From alice@example.org Mon Jan  1 00:00:00 2024\n'
		cat "$f"
		echo
	done > "$W/mbox"
	popa3d_start "$W/popa3d" "$W/mbox"
}

pf_popa3d() {
	"$POPFETCH" --tls none --allow-plaintext --timeout 5 --host 127.0.0.1 \
		-p "$POPA3D_PORT" -u alice "$@"
}

@test "popa3d (real, optional): 300 messages in lock-step in under 1 s, byte for byte" {
	popa3d_setup 300 2000
	start=$(date +%s%N)
	run pf_popa3d --maildir "$W/Mail" -d 1
	end=$(date +%s%N)
	popa3d_stop
	[ "$status" -eq 0 ]
	# No CAPA, so no PIPELINING: one command at a time.
	[[ "$output" == *"CAPA -> -ERR"* ]]
	[ "$(grep -c '^RETR [0-9]* -> +OK' <<<"$output")" -eq 300 ]
	same_messages "$W/Mail/new" "$W"/corpus/*.eml
	ms=$(( (end - start) / 1000000 ))
	echo "popa3d: 300 messages in ${ms} ms" >&3
	[ "$ms" -lt 1000 ]
}

@test "popa3d (real, optional): --delete empties the mailbox only of what was delivered" {
	popa3d_setup 5 300
	run pf_popa3d --maildir "$W/Mail" --delete
	echo "$output"
	[ "$status" -eq 0 ]
	same_messages "$W/Mail/new" "$W"/corpus/*.eml
	[ ! -s "$W/popa3d/spool/alice" ]
	run pf_popa3d --maildir "$W/Mail" --delete
	[ "$status" -eq 0 ]
	[ "$output" = "no new messages" ]
	popa3d_stop
}

@test "a server that drops on CAPA, with --tls starttls: no STLS can be offered, so 77 and no login" {
	fake 'CAPA =>  !close' "$USERPASS"
	run "$POPFETCH" --tls starttls --timeout 5 --host 127.0.0.1 -p "$FAKE_PORT" \
		-u alice --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 77 ]
	[[ "$output" == *"does not answer CAPA"* ]]
	[ "$(cat "$W/fake.log")" = CAPA ]
	wait_closed 2
	[ "$(wc -l < "$W/fake.log.closed")" -eq 2 ]
}

@test "--provider gmail turns --until-empty on (later options refine the preset)" {
	fake_start "$W" < <(gmail_cap 300 250)
	run "$POPFETCH" --provider gmail --auth user --tls none \
		--allow-plaintext --timeout 5 --host 127.0.0.1 -p "$FAKE_PORT" \
		-u alice --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 300 ]
	[ "$(grep -c '^PASS' "$W/fake.log")" -eq 3 ]
}
