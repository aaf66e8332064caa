#!/usr/bin/env bats
# TLS: verification before any credential, STARTTLS without fallback.
# Every failure also asserts what the server saw: no USER, PASS or APOP.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/common
	suite_start
	certs_make "$T/certs"
	dovecot_user_add alice secret
}

teardown_file() {
	load lib/common
	suite_stop
}

setup() {
	load lib/common
	export POPFETCH_PASSWORD=secret
}

teardown() {
	fake_stop
}

LOGIN_RULES='CAPA => +OK\r\nUSER\r\nUIDL\r\n.\r\n
USER .* => +OK\r\n
PASS .* => +OK logged in\r\n
STAT => +OK 1 10\r\n'

no_credentials_sent() {
	! grep -qE '^(USER|PASS|APOP|AUTH)' "$FAKE_DIR/fake.log"
}

implicit_fake() {
	# implicit_fake CERTNAME: a TLS fake server with that certificate
	fake_start "$BATS_TEST_TMPDIR" "$T/certs/$1.pem" "$T/certs/$1.key" < <(printf 'implicit\n%s\n' "$LOGIN_RULES")
}

pf_fake() {
	"$POPFETCH" --ca-file "$T/certs/ca.pem" --timeout 5 --host localhost -p "$FAKE_PORT" -u alice "$@"
}

@test "implicit TLS with a trusted certificate logs in" {
	implicit_fake server
	run --separate-stderr pf_fake --tls implicit stat
	[ "$status" -eq 0 ]
	[ "$output" = "1 10" ]
	grep -qx 'PASS secret' "$FAKE_DIR/fake.log"
}

@test "an unknown certificate authority is refused before login (77)" {
	implicit_fake unknown
	run pf_fake --tls implicit stat
	[ "$status" -eq 77 ]
	[[ "$output" == *"signed by an unknown certificate authority"* ]]
	no_credentials_sent
}

@test "an expired certificate is refused before login (77)" {
	implicit_fake expired
	run pf_fake --tls implicit stat
	[ "$status" -eq 77 ]
	[[ "$output" == *"certificate has expired"* ]]
	no_credentials_sent
}

@test "a certificate for another name is refused before login (77)" {
	implicit_fake other
	run pf_fake --tls implicit stat
	[ "$status" -eq 77 ]
	[[ "$output" == *"not valid for localhost"* ]]
	no_credentials_sent
}

@test "the system trust store does not vouch for the test CA" {
	run "$POPFETCH" --host localhost -p "$DOVECOT_POP3S" --tls implicit -u alice stat
	[ "$status" -eq 77 ]
	[[ "$output" == *"unknown certificate authority"* ]]
	! grep -q 'user=<alice>' "$DOVECOT_DIR/dovecot.log"
}

@test "a missing CA file is a configuration error (78)" {
	run "$POPFETCH" --ca-file /nonexistent --host localhost -p "$DOVECOT_POP3S" --tls implicit -u alice stat
	[ "$status" -eq 78 ]
	[[ "$output" == *"/nonexistent"* ]]
}

@test "STARTTLS: a server without STLS is refused, no plaintext login" {
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' "$LOGIN_RULES")
	run pf_fake --tls starttls stat
	[ "$status" -eq 77 ]
	[[ "$output" == *"does not offer STLS"* ]]
	[ "$(fake_log)" = "CAPA" ]
}

@test "STARTTLS: CAPA -ERR is refused" {
	fake_start "$BATS_TEST_TMPDIR" < <(printf 'CAPA => -ERR no capa\\r\\n\n%s\n' "$LOGIN_RULES")
	run pf_fake --tls starttls stat
	[ "$status" -eq 77 ]
	[ "$(fake_log)" = "CAPA" ]
}

@test "STARTTLS: STLS -ERR is refused" {
	fake_start "$BATS_TEST_TMPDIR" < <(printf 'CAPA => +OK\\r\\nSTLS\\r\\nUSER\\r\\n.\\r\\n\nSTLS => -ERR not now\\r\\n\n%s\n' "$LOGIN_RULES")
	run pf_fake --tls starttls stat
	[ "$status" -eq 77 ]
	[[ "$output" == *"STARTTLS: STLS: -ERR not now"* ]]
	[ "$(fake_log)" = $'CAPA\nSTLS' ]
}

@test "STARTTLS: bytes injected after +OK are refused" {
	fake_start "$BATS_TEST_TMPDIR" "$T/certs/server.pem" "$T/certs/server.key" < <(printf 'CAPA => +OK\\r\\nSTLS\\r\\nUSER\\r\\n.\\r\\n\nSTLS => +OK begin\\r\\n+OK injected\\r\\n !tls\n%s\n' "$LOGIN_RULES")
	run pf_fake --tls starttls stat
	[ "$status" -eq 77 ]
	[[ "$output" == *"injection"* ]]
	[ "$(fake_log)" = $'CAPA\nSTLS' ]
}

@test "STARTTLS: a server silent after +OK times out" {
	fake_start "$BATS_TEST_TMPDIR" < <(printf 'CAPA => +OK\\r\\nSTLS\\r\\nUSER\\r\\n.\\r\\n\nSTLS => +OK begin\\r\\n !hang\n')
	SECONDS=0
	run "$POPFETCH" --ca-file "$T/certs/ca.pem" --timeout 1 --host localhost -p "$FAKE_PORT" -u alice --tls starttls stat
	[ "$status" -eq 75 ]
	[[ "$output" == *"timed out"* ]]
	[ "$SECONDS" -lt 10 ]
	no_credentials_sent
}

@test "STARTTLS: capabilities are asked again after TLS" {
	fake_start "$BATS_TEST_TMPDIR" "$T/certs/server.pem" "$T/certs/server.key" < <(printf 'CAPA => +OK\\r\\nSTLS\\r\\nUSER\\r\\n.\\r\\n !tls_next\nSTLS => +OK begin\\r\\n !tls\n%s\n' "$LOGIN_RULES")
	run --separate-stderr pf_fake --tls starttls stat
	[ "$status" -eq 0 ]
	[ "$(fake_log)" = $'CAPA\nSTLS\nCAPA\nUSER alice\nPASS secret\nSTAT\nQUIT' ]
}

@test "STARTTLS against Dovecot" {
	run --separate-stderr "$POPFETCH" --ca-file "$DOVECOT_CA" --host localhost -p "$DOVECOT_POP3" -u alice stat
	[ "$status" -eq 0 ]
	[ "$output" = "0 0" ]
}

@test "--tls none refuses to send a password without --allow-plaintext (78)" {
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' "$LOGIN_RULES")
	run pf_fake --tls none stat
	[ "$status" -eq 78 ]
	[[ "$output" == *"--allow-plaintext"* ]]
	no_credentials_sent
	run --separate-stderr pf_fake --tls none --allow-plaintext stat
	[ "$status" -eq 0 ]
	[ "$output" = "1 10" ]
}

@test "--allow-plaintext alone does not turn TLS off" {
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' "$LOGIN_RULES")
	run pf_fake --allow-plaintext stat
	[ "$status" -eq 77 ]
	no_credentials_sent
}

sha256_of() {
	certtool --fingerprint --hash sha256 --infile "$1" 2>/dev/null | tr 'a-f' 'A-F'
}

@test "certificate shows subject, issuer, validity and the SHA-256 fingerprint" {
	run --separate-stderr "$POPFETCH" --host localhost -p "$DOVECOT_POP3S" --tls implicit certificate
	[ "$status" -eq 0 ]
	[[ "$output" == *"subject: CN=localhost"* ]]
	[[ "$output" == *"issuer: CN=popfetch test CA"* ]]
	[[ "$output" == *"fingerprint: sha256:$(sha256_of "$DOVECOT_DIR/certs/server.pem")"* ]]
	[[ "$output" == *"verified: no (the server certificate is signed by an unknown certificate authority)"* ]]
	run --separate-stderr "$POPFETCH" --ca-file "$DOVECOT_CA" --host localhost -p "$DOVECOT_POP3" --print-fingerprint
	[ "$status" -eq 0 ]
	[[ "$output" == *"verified: yes"* ]]
}

@test "--fingerprint pins a certificate no CA vouches for" {
	implicit_fake unknown
	run --separate-stderr "$POPFETCH" --timeout 5 --host localhost -p "$FAKE_PORT" -u alice --tls implicit \
		--fingerprint "sha256:$(sha256_of "$T/certs/unknown.pem")" stat
	[ "$status" -eq 0 ]
	[ "$output" = "1 10" ]
}

@test "--fingerprint refuses any other certificate (77), before login" {
	implicit_fake server
	run "$POPFETCH" --ca-file "$T/certs/ca.pem" --timeout 5 --host localhost -p "$FAKE_PORT" -u alice --tls implicit \
		--fingerprint "sha256:$(sha256_of "$T/certs/unknown.pem")" stat
	[ "$status" -eq 77 ]
	[[ "$output" == *"does not match the pinned fingerprint (it is sha256:$(sha256_of "$T/certs/server.pem"))"* ]]
	no_credentials_sent
	run "$POPFETCH" --host localhost --fingerprint sha256:1234 stat
	[ "$status" -eq 64 ]
}

@test "--tls-server-name verifies against another name" {
	implicit_fake other
	run --separate-stderr pf_fake --tls implicit --tls-server-name mail.example.org stat
	[ "$status" -eq 0 ]
	[ "$output" = "1 10" ]
}

@test "--insecure skips verification and warns on every run" {
	implicit_fake unknown
	run --separate-stderr pf_fake --tls implicit --insecure stat
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"warning: --insecure"* ]]
}

@test "a bad --tls-priority or client certificate is a configuration error (78)" {
	implicit_fake server
	run pf_fake --tls implicit --tls-priority 'NONSENSE:+FOO' stat
	[ "$status" -eq 78 ]
	run pf_fake --tls implicit --client-cert /nonexistent stat
	[ "$status" -eq 78 ]
	no_credentials_sent
}
