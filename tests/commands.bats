#!/usr/bin/env bats
# Every poplib command against a real Dovecot, over implicit TLS and
# STARTTLS, with output compared to what was seeded.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/common
	suite_start
	dovecot_user_add alice 'correct horse'
	dovecot_user_add dora pw
	dovecot_seed alice "$TOP"/tests/corpus/*.eml
}

teardown_file() {
	load lib/common
	suite_stop
}

setup() {
	load lib/common
	export POPFETCH_PASSWORD='correct horse'
	CORPUS=("$TOP"/tests/corpus/*.eml)
}

teardown() {
	fake_stop
}

# pf MODE ARGS: popfetch against the test server, MODE implicit or starttls.
pf() {
	local mode=$1; shift
	local port=$DOVECOT_POP3S
	[ "$mode" = starttls ] && port=$DOVECOT_POP3
	"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 10 --tls "$mode" \
		--host localhost -p "$port" -u alice "$@"
}

@test "welcome prints the greeting" {
	for mode in implicit starttls; do
		run --separate-stderr pf $mode welcome
		[ "$status" -eq 0 ]
		[[ "$output" == "+OK popfetch test server ready <"*">" ]]
	done
}

@test "capa lists the capabilities, STLS gone after STARTTLS" {
	run --separate-stderr pf implicit capa
	[ "$status" -eq 0 ]
	[[ "$output" == *UIDL* && "$output" == *"SASL PLAIN LOGIN"* ]]
	run --separate-stderr pf starttls capa
	[ "$status" -eq 0 ]
	[[ "$output" == *PIPELINING* ]]
	[[ "$output" != *STLS* ]]
}

@test "capa --json is an array of name and args" {
	run --separate-stderr pf implicit --json capa
	[ "$status" -eq 0 ]
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert {"name":"SASL","args":["PLAIN","LOGIN"]} in d' "$output"
}

@test "stat counts the seeded messages and their CRLF octets" {
	n=${#CORPUS[@]}
	octets=$(cat "${CORPUS[@]}" | wc -l)
	octets=$(( octets + $(cat "${CORPUS[@]}" | wc -c) ))
	for mode in implicit starttls; do
		run --separate-stderr pf $mode stat
		[ "$status" -eq 0 ]
		[ "$output" = "$n $octets" ]
	done
	run --separate-stderr pf implicit --json stat
	[ "$output" = "{\"count\":$n,\"octets\":$octets}" ]
}

@test "list gives every message size; list N gives one" {
	expected=
	i=0
	for f in "${CORPUS[@]}"; do
		i=$((i + 1))
		expected+="$i $(( $(wc -c < "$f") + $(wc -l < "$f") ))"$'\n'
	done
	run --separate-stderr pf starttls list
	[ "$status" -eq 0 ]
	[ "$output" = "${expected%$'\n'}" ]
	run --separate-stderr pf implicit list 2
	[ "$output" = "$(sed -n 2p <<<"$expected")" ]
	run --separate-stderr pf implicit --json list 2
	[ "$output" = "[{\"msg\":2,\"octets\":$(sed -n 2p <<<"$expected" | cut -d' ' -f2)}]" ]
}

@test "uidl gives a stable unique id per message" {
	run --separate-stderr pf implicit uidl
	[ "$status" -eq 0 ]
	[ "$(wc -l <<<"$output")" -eq "${#CORPUS[@]}" ]
	[ "$(cut -d' ' -f2 <<<"$output" | sort -u | wc -l)" -eq "${#CORPUS[@]}" ]
	first=$output
	run --separate-stderr pf starttls uidl 3
	[ "$output" = "$(sed -n 3p <<<"$first")" ]
	run --separate-stderr pf implicit --json uidl 1
	[ "$output" = "[{\"msg\":1,\"uid\":\"$(sed -n 1p <<<"$first" | cut -d' ' -f2)\"}]" ]
}

@test "retr prints each message byte for byte, dot-unstuffed, with LF" {
	i=0
	for f in "${CORPUS[@]}"; do
		i=$((i + 1))
		for mode in implicit starttls; do
			pf $mode retr $i > "$BATS_TEST_TMPDIR/out"
			cmp "$f" "$BATS_TEST_TMPDIR/out"
		done
	done
}

@test "top N 0 prints the header and the empty line" {
	pf implicit top 1 0 > "$BATS_TEST_TMPDIR/out"
	sed -n '1,/^$/p' "${CORPUS[0]}" > "$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/out"
	pf starttls top 2 3 > "$BATS_TEST_TMPDIR/out"
	{ sed -n '1,/^$/p' "${CORPUS[1]}"; sed -n '/^$/,$p' "${CORPUS[1]}" | sed -n '2,4p'; } > "$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/out"
}

@test "retr of a missing message exits 69 with the server's reason" {
	run pf implicit retr 99
	[ "$status" -eq 69 ]
	[[ "$output" == "popfetch: localhost: RETR 99: -ERR"* ]]
}

@test "noop succeeds" {
	run pf starttls noop
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "batch: dele then rset deletes nothing" {
	before=$(dovecot_count alice)
	run --separate-stderr pf implicit batch <<<$'dele 1\nrset\nstat'
	[ "$status" -eq 0 ]
	[ "$output" = "${#CORPUS[@]} $(pf implicit stat | cut -d' ' -f2)" ]
	[ "$(dovecot_count alice)" -eq "$before" ]
}

@test "batch: a failing line stops the batch and commits nothing" {
	before=$(dovecot_count alice)
	run pf implicit batch <<<$'dele 1\nretr 99\nstat'
	[ "$status" -eq 69 ]
	[[ "$output" == *"batch line 2"* ]]
	[ "$(dovecot_count alice)" -eq "$before" ]
	run pf implicit batch <<<$'dele 1\nfrobnicate'
	[ "$status" -eq 64 ]
	[ "$(dovecot_count alice)" -eq "$before" ]
}

@test "dele N... removes exactly those messages on QUIT" {
	dovecot_seed dora "${CORPUS[@]}"
	run "$POPFETCH" --ca-file "$DOVECOT_CA" --tls implicit --host localhost \
		-p "$DOVECOT_POP3S" -u dora --password-command 'echo pw' dele 2 4
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(dovecot_count dora)" -eq $(( ${#CORPUS[@]} - 2 )) ]
	"$POPFETCH" --ca-file "$DOVECOT_CA" --tls implicit --host localhost \
		-p "$DOVECOT_POP3S" -u dora --password-command 'echo pw' retr 2 > "$BATS_TEST_TMPDIR/out"
	cmp "${CORPUS[2]}" "$BATS_TEST_TMPDIR/out"
}

@test "a URL gives host, port and user" {
	run --separate-stderr "$POPFETCH" --ca-file "$DOVECOT_CA" "pop3s://alice@localhost:$DOVECOT_POP3S" stat
	[ "$status" -eq 0 ]
	[ "$(cut -d' ' -f1 <<<"$output")" -eq "${#CORPUS[@]}" ]
	run --separate-stderr "$POPFETCH" --ca-file "$DOVECOT_CA" "pop3://alice@127.0.0.1:$DOVECOT_POP3" stat
	[ "$status" -eq 0 ]
}

@test "-d 1 prints one line per request, -d 2 every line, never the password" {
	run --separate-stderr pf implicit --auth user -d 1 stat
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"PASS **** -> +OK"* ]]
	[[ "$stderr" == *"STAT -> +OK"* ]]
	[[ "$stderr" != *"correct horse"* && "$stderr" != *horse* ]]
	# The password source, the address and the TLS verdict, then one
	# line per request.
	[ "$(grep -c . <<<"$stderr")" -eq 9 ]
	run --separate-stderr pf starttls --auth user -d 2 retr 1
	[[ "$stderr" == *"> PASS ****"* ]]
	[[ "$stderr" == *"< Subject: plain"* ]]
	[[ "$stderr" != *horse* ]]
	# auto picks AUTH PLAIN over USER/PASS; its data is hidden too.
	run --separate-stderr pf implicit -d 2 stat
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"> AUTH PLAIN ****"* ]]
	[ "$(grep -c '^>' <<<"$stderr")" -eq 4 ]
}

@test "UTF8 is not sent to Dovecot, which does not offer it; --utf8 then exits 69 before login" {
	run --separate-stderr pf implicit -d 2 stat
	[ "$status" -eq 0 ]
	[[ "$stderr" != *"> UTF8"* ]]
	run --separate-stderr pf implicit --utf8 -d 2 stat
	[ "$status" -eq 69 ]
	[[ "$stderr" == *"does not offer UTF8"*"--no-utf8"* ]]
	[[ "$stderr" != *"> UTF8"* ]]
	[[ "$stderr" != *"> AUTH"* && "$stderr" != *"> USER"* ]]
}

@test "a wrong password exits 77 and says the server refused it" {
	POPFETCH_PASSWORD=wrong run pf implicit stat
	[ "$status" -eq 77 ]
	[[ "$output" == *"AUTH PLAIN ****: -ERR [AUTH]"* ]]
	[[ "$output" != *wrong* ]]
}

@test "APOP logs in with the greeting's timestamp" {
	run --separate-stderr pf implicit --auth apop -d 2 stat
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"> APOP alice ****"* ]]
	[[ "$stderr" != *"> USER"* ]]
}

@test "stdout that cannot be written exits 74" {
	run bash -c "$(declare -f pf); pf implicit retr 1 > /dev/full"
	[ "$status" -eq 74 ]
	[[ "$output" == *"stdout: No space left on device"* ]]
}

# A self-signed certificate whose subject (and so issuer) carries a
# newline and a terminal escape: a server's name for itself is its own
# to choose.
evil_cert() {
	local d=$1 fp
	fp=$(printf '0%.0s' $(seq 64))
	mkdir -p "$d"
	printf 'cn = "evil\nfingerprint: sha256:%s\nverified: yes\033[2K"\n%s\n' "$fp" \
		'expiration_days = 30' > "$d/evil.tmpl"
	printf '%s\n' tls_www_server signing_key encryption_key >> "$d/evil.tmpl"
	certtool --generate-privkey --key-type ecdsa --outfile "$d/evil.key" 2>/dev/null
	certtool --generate-self-signed --load-privkey "$d/evil.key" \
		--template "$d/evil.tmpl" --outfile "$d/evil.pem" 2>/dev/null
	[ -s "$d/evil.pem" ]
}

@test "certificate and --print-fingerprint escape the subject and issuer" {
	evil_cert "$BATS_TEST_TMPDIR/c"
	fake_start "$BATS_TEST_TMPDIR" "$BATS_TEST_TMPDIR/c/evil.pem" \
		"$BATS_TEST_TMPDIR/c/evil.key" <<<'implicit'
	want='CN=evil\x0afingerprint: sha256:'$(printf '0%.0s' $(seq 64))'\x0averified: yes\x1b[2K'
	for cmd in certificate --print-fingerprint; do
		run --separate-stderr "$POPFETCH" --timeout 5 --host localhost \
			-p "$FAKE_PORT" --tls implicit $cmd
		echo "$output"
		[ "$status" -eq 0 ]
		[ "${#lines[@]}" -eq 6 ]
		[ "${lines[0]}" = "subject: $want" ]
		[ "${lines[1]}" = "issuer: $want" ]
		[ "$(grep -c '^fingerprint: ' <<<"$output")" -eq 1 ]
		[ "$(grep -c '^verified: ' <<<"$output")" -eq 1 ]
		[[ "${lines[5]}" == "verified: no ("* ]]
		[[ "$output" != *$'\e'* ]]
	done
	# JSON says the same exactly, its writer escaping the controls.
	run --separate-stderr "$POPFETCH" --timeout 5 --host localhost \
		-p "$FAKE_PORT" --tls implicit --json certificate
	[ "$status" -eq 0 ]
	[[ "$output" != *$'\e'* ]]
	python3 - "$output" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
want = "CN=evil\nfingerprint: sha256:" + "0" * 64 + "\nverified: yes\x1b[2K"
assert d["subject"] == want and d["issuer"] == want, d
assert "subject_hex" not in d and d["verified"] is False, d
PY
}

# One UID in UTF-8, one in Latin-1 (not UTF-8), one of 400 characters.
UIDS_RULES='CAPA => +OK\r\nUSER\r\nUIDL\r\n.\r\n
USER .* => +OK\r\n
PASS .* => +OK\r\n
UIDL => +OK\r\n1 \xc3\xa9t\xc3\xa9\r\n2 \xe9t\xe9\r\n3 '$(printf 'u%.0s' $(seq 400))'\r\n.\r\n
LIST => +OK\r\n1 30\r\n2 30\r\n3 30\r\n.\r\n
RETR (\d) => +OK\r\nSubject: a\r\n\r\nbody\r\n.\r\n'

# check_uids JSON-ARRAY: the three records, the same for every command.
check_uids() {
	python3 - "$1" <<'PY'
import json, sys
recs = json.loads(sys.argv[1])
by = {r["msg"]: r for r in recs}
assert by[1]["uid"] == "\u00e9t\u00e9" and "uid_hex" not in by[1], by[1]
assert by[2]["uid"] == "\ufffdt\ufffd" and by[2]["uid_hex"] == "e974e9", by[2]
assert by[3]["uid"] == "u" * 400 and "uid_hex" not in by[3], by[3]
PY
}

@test "uidl --json and fetch --json write a UID the same way: UTF-8, or U+FFFD and uid_hex" {
	export HOME=$BATS_TEST_TMPDIR/home XDG_STATE_HOME=
	mkdir -p "$HOME"
	fake_start "$BATS_TEST_TMPDIR" <<<"$UIDS_RULES"
	pff() {
		"$POPFETCH" --tls none --allow-plaintext --timeout 5 --host 127.0.0.1 \
			-p "$FAKE_PORT" -u alice "$@"
	}
	run --separate-stderr pff --json uidl
	echo "$output"
	[ "$status" -eq 0 ]
	check_uids "$output"
	# UTF-8 stays UTF-8 in the JSON text; nothing is cut.
	grep -q 'été' <<<"$output"
	[[ "$output" != *'\u00'* ]]
	run --separate-stderr pff --json --maildir "$BATS_TEST_TMPDIR/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	check_uids "$(python3 -c 'import json, sys
print(json.dumps([m for m in map(json.loads, sys.argv[1].splitlines()) if m["event"] != "summary"]))' "$output")"
	grep -q 'été' <<<"$output"
	[ "$(ls "$BATS_TEST_TMPDIR/Mail/new" | wc -l)" -eq 3 ]
	# The plain form shows the same UIDs escaped.
	run --separate-stderr pff uidl
	[ "${lines[0]}" = '1 \xc3\xa9t\xc3\xa9' ]
	[ "${lines[1]}" = '2 \xe9t\xe9' ]
	[ "${lines[2]}" = "3 $(printf 'u%.0s' $(seq 400))" ]
}
