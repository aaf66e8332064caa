#!/usr/bin/env bats
# SASL (RFC 5034): every mechanism against Dovecot where Dovecot has it,
# the attacks and OAuth against the fake server.  Failure tests assert
# what the server saw as well as the exit status.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/common
	# Client certificates are asked for (not required) so that EXTERNAL
	# works; the static passdb lets EXTERNAL log in without a password.
	export DOVECOT_MECHS="plain login apop cram-md5 scram-sha-1 scram-sha-256 external"
	export DOVECOT_EXTRA="ssl_ca = <@CERTS@/ca.pem
ssl_verify_client_cert = yes
ssl_require_crl = no
ssl_cert_username_field = commonName
auth_ssl_username_from_cert = yes
passdb {
  driver = static
  args = nopassword=y
  mechanisms = external
}"
	suite_start
	dovecot_user_add alice secret
	chmod 644 "$T/dovecot/certs/client.key" "$T/dovecot/certs/rogueclient.key"
}

teardown_file() {
	load lib/common
	suite_stop
}

setup() {
	load lib/common
	export POPFETCH_PASSWORD=secret
	CERTS=$DOVECOT_DIR/certs
}

teardown() {
	fake_stop
}

pf_dovecot() {
	"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 10 --host localhost \
		--tls implicit -p "$DOVECOT_POP3S" -u alice "$@"
}

# The method Dovecot logged for the last login.
last_method() {
	grep 'pop3-login: Info: Login:' "$DOVECOT_DIR/dovecot.log" |
		tail -n 1 | sed -n 's/.*method=\([A-Z0-9-]*\).*/\1/p'
}

no_credentials_sent() {
	! grep -qE '^(USER|PASS|APOP|AUTH)' "$FAKE_DIR/fake.log"
}

pf_fake() {
	setsid -w "$POPFETCH" --tls none --timeout 5 --host localhost \
		-p "$FAKE_PORT" -u alice "$@" < /dev/null
}

@test "SCRAM known answers (RFC 5802, RFC 7677) and strict base64 (RFC 5034)" {
	run "$BATS_TEST_DIRNAME/unit/vectors"
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "each mechanism logs in to Dovecot, with the initial response" {
	for m in plain login cram-md5 scram-sha-1 scram-sha-256; do
		run --separate-stderr pf_dovecot --auth "$m" -d 2 stat
		[ "$status" -eq 0 ]
		[ "$output" = "0 0" ]
		[ "$(last_method)" = "${m^^}" ]
		# The trace hides the exchange: no password, no base64 of it.
		[[ "$stderr" != *secret* ]]
		[[ "$stderr" != *AGFsaWNlAHNlY3JldA* ]]
		[[ "$stderr" == *"AUTH ${m^^}"* ]]
	done
}

@test "each mechanism logs in to Dovecot in the two-step form" {
	for m in plain login cram-md5 scram-sha-1 scram-sha-256; do
		run --separate-stderr pf_dovecot --auth "$m" \
			--no-initial-response -d 2 stat
		[ "$status" -eq 0 ]
		[ "$(last_method)" = "${m^^}" ]
		[[ "$stderr" == *"> AUTH ${m^^}"$'\n''< + ****'* ]]
		[[ "$stderr" != *secret* ]]
	done
}

@test "--auth auto picks SCRAM-SHA-256 when Dovecot offers it" {
	run --separate-stderr pf_dovecot stat
	[ "$status" -eq 0 ]
	[ "$(last_method)" = SCRAM-SHA-256 ]
}

@test "a wrong password over SCRAM is an authentication failure (77)" {
	POPFETCH_PASSWORD=wrong run pf_dovecot --auth scram-sha-256 stat
	[ "$status" -eq 77 ]
	[[ "$output" == *"AUTH SCRAM-SHA-256"*"-ERR"* ]]
}

@test "APOP against Dovecot" {
	run --separate-stderr pf_dovecot --auth apop stat
	[ "$status" -eq 0 ]
	[ "$(last_method)" = APOP ]
}

@test "EXTERNAL logs in with a client certificate alone" {
	run --separate-stderr env -u POPFETCH_PASSWORD "$POPFETCH" \
		--ca-file "$DOVECOT_CA" --timeout 10 --host localhost \
		--tls implicit -p "$DOVECOT_POP3S" --auth external \
		--client-cert "$CERTS/client.pem" --client-key "$CERTS/client.key" stat
	[ "$status" -eq 0 ]
	[ "$output" = "0 0" ]
	grep 'Login:' "$DOVECOT_DIR/dovecot.log" | tail -n 1 | grep -q 'user=<alice>, method=EXTERNAL'
}

@test "EXTERNAL without a client certificate is a usage error (64), nothing sent" {
	run pf_dovecot --auth external stat
	[ "$status" -eq 64 ]
	[[ "$output" == *"EXTERNAL needs TLS and a client certificate"* ]]
}

@test "EXTERNAL with a certificate from an unknown CA is refused (77)" {
	run env -u POPFETCH_PASSWORD "$POPFETCH" --ca-file "$DOVECOT_CA" \
		--timeout 10 --host localhost --tls implicit -p "$DOVECOT_POP3S" \
		--auth external --client-cert "$CERTS/rogueclient.pem" \
		--client-key "$CERTS/rogueclient.key" stat
	[ "$status" -ne 0 ]
	[ "$status" -ne 70 ]
}

@test "a server that requires a client certificate: refused without, accepted with" {
	local d
	d=$(test_dir)
	DOVECOT_MECHS=plain DOVECOT_EXTRA="ssl_ca = <@CERTS@/ca.pem
ssl_verify_client_cert = yes
ssl_require_crl = no
auth_ssl_require_client_cert = yes" dovecot_start "$d/strict"
	dovecot_user_add alice secret
	run pf_dovecot stat
	local without=$status
	run --separate-stderr pf_dovecot --client-cert "$d/strict/certs/client.pem" \
		--client-key "$d/strict/certs/client.key" stat
	local with=$status out=$output
	run pf_dovecot --client-cert "$d/strict/certs/rogueclient.pem" \
		--client-key "$d/strict/certs/rogueclient.key" stat
	local rogue=$status
	dovecot_stop
	rm -rf "$d"
	[ "$without" -eq 77 ]
	[ "$with" -eq 0 ]
	[ "$out" = "0 0" ]
	[ "$rogue" -eq 77 ]
}

# The fake server: attacks and what Dovecot cannot show.

# scram_fake MECHANISM MODE: a fake server offering only that SCRAM
# mechanism and playing it in fakepop.py's MODE (ok, badsig, nosig, ...).
scram_fake() {
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' \
		"CAPA => +OK\\r\\nSASL $1\\r\\n.\\r\\n" \
		"AUTH $1.* => x !scram=$2" 'STAT => +OK 0 0\r\n')
}

@test "SCRAM: a server that cannot prove it knows the password is refused (77)" {
	scram_fake SCRAM-SHA-256 badsig
	run pf_fake stat
	[ "$status" -eq 77 ]
	[[ "$output" == *"signature is wrong"* ]]
	# The exchange was cancelled with "*", and nothing else was sent.
	[ "$(tail -n 1 "$FAKE_DIR/fake.log")" = "*" ]
	! grep -q '^STAT' "$FAKE_DIR/fake.log"
}

@test "SCRAM: +OK without the server's proof is refused (77)" {
	scram_fake SCRAM-SHA-1 nosig
	run pf_fake stat
	[ "$status" -eq 77 ]
	[[ "$output" == *"without proving"* ]]
	! grep -q '^STAT' "$FAKE_DIR/fake.log"
}

@test "SCRAM: the fake's exchange succeeds when the server plays fair" {
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' \
		'CAPA => +OK\r\nSASL SCRAM-SHA-256 PLAIN\r\n.\r\n' \
		'AUTH SCRAM-SHA-256.* => x !scram=ok' 'STAT => +OK 3 30\r\n')
	run pf_fake stat
	[ "$status" -eq 0 ]
	[ "$output" = "3 30" ]
}

@test "SCRAM: a nonce that does not extend ours, or a huge iteration count, is cancelled (76)" {
	scram_fake SCRAM-SHA-256 badnonce
	run pf_fake stat
	[ "$status" -eq 76 ]
	[[ "$output" == *"nonce"* ]]
	[ "$(tail -n 1 "$FAKE_DIR/fake.log")" = "*" ]
	fake_stop
	scram_fake SCRAM-SHA-256 iter=4000000000
	run pf_fake stat
	[ "$status" -eq 76 ]
	[[ "$output" == *"iterations"* ]]
}

@test "SCRAM: the server's e= error is an authentication failure (77)" {
	scram_fake SCRAM-SHA-256 error
	run pf_fake stat
	[ "$status" -eq 77 ]
	[[ "$output" == *"invalid-proof"* ]]
}

@test "a challenge that is not base64 is cancelled with * (76)" {
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' \
		'CAPA => +OK\r\nSASL CRAM-MD5\r\n.\r\n' \
		'AUTH CRAM-MD5 => + not*base64\r\n' '\* => -ERR cancelled\r\n')
	# Without TLS, CRAM-MD5 needs --allow-plaintext (issue 13).
	run pf_fake --allow-plaintext --auth cram-md5 stat
	[ "$status" -eq 76 ]
	[[ "$output" == *"not valid base64"* ]]
	[ "$(fake_log)" = $'CAPA\nAUTH CRAM-MD5\n*' ]
}

@test "CRAM-MD5 answers with the RFC 2195 example digest" {
	# RFC 2195 section 2: user tim, password tanstaaftanstaaf.
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' \
		'greeting => +OK ready\r\n' \
		'CAPA => +OK\r\nSASL CRAM-MD5\r\n.\r\n' \
		'AUTH CRAM-MD5 => + PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n' \
		'dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw => +OK\r\n' \
		'STAT => +OK 0 0\r\n')
	POPFETCH_PASSWORD=tanstaaftanstaaf run pf_fake -u tim --allow-plaintext \
		--auth cram-md5 stat
	[ "$status" -eq 0 ]
	[ "$output" = "0 0" ]
}

@test "without TLS, auto uses SCRAM but never PLAIN, LOGIN or USER/PASS (78)" {
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' \
		'CAPA => +OK\r\nUSER\r\nSASL PLAIN LOGIN\r\n.\r\n' 'STAT => +OK 0 0\r\n')
	run pf_fake stat
	[ "$status" -eq 78 ]
	[[ "$output" == *"unencrypted"* ]]
	no_credentials_sent
	for m in plain login user xoauth2 oauthbearer; do
		run pf_fake --auth "$m" stat
		[ "$status" -eq 78 ]
	done
	no_credentials_sent
	fake_stop
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' \
		'CAPA => +OK\r\nUSER\r\nSASL PLAIN SCRAM-SHA-1\r\n.\r\n' \
		'AUTH SCRAM-SHA-1.* => x !scram=ok' 'STAT => +OK 0 0\r\n')
	run pf_fake stat
	[ "$status" -eq 0 ]
	grep -q '^AUTH SCRAM-SHA-1 ' "$FAKE_DIR/fake.log"
	! grep -qE '^(USER|PASS|AUTH PLAIN)' "$FAKE_DIR/fake.log"
}

@test "--allow-plaintext lets auto use PLAIN in one step" {
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' \
		'CAPA => +OK\r\nSASL PLAIN LOGIN\r\n.\r\n' \
		'AUTH PLAIN AGFsaWNlAHNlY3JldA== => +OK\r\n' 'STAT => +OK 0 0\r\n')
	run pf_fake --allow-plaintext stat
	[ "$status" -eq 0 ]
	[ "$(fake_log)" = $'CAPA\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\nSTAT\nQUIT' ]
}

@test "a mechanism the server does not offer is refused before AUTH (69)" {
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' \
		'CAPA => +OK\r\nSASL PLAIN\r\n.\r\n')
	run pf_fake --allow-plaintext --auth cram-md5 stat
	[ "$status" -eq 69 ]
	[[ "$output" == *"does not offer AUTH CRAM-MD5"* ]]
	no_credentials_sent
}

@test "without a SASL capability, no initial response is sent (RFC 5034)" {
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' \
		'CAPA => -ERR no\r\n' 'AUTH PLAIN => + \r\n' \
		'AGFsaWNlAHNlY3JldA== => +OK\r\n' 'STAT => +OK 0 0\r\n')
	run pf_fake --allow-plaintext --auth plain stat
	[ "$status" -eq 0 ]
	[ "$(fake_log)" = $'CAPA\nAUTH PLAIN\nAGFsaWNlAHNlY3JldA==\nSTAT\nQUIT' ]
}

# tls_fake RULE...: an implicit-TLS fake server with Dovecot's certificate.
tls_fake() {
	fake_start "$BATS_TEST_TMPDIR" "$DOVECOT_DIR/certs/server.pem" \
		"$DOVECOT_DIR/certs/server.key" < <(printf 'implicit\n%s\n' "$@")
}

pf_tls_fake() {
	"$POPFETCH" --ca-file "$DOVECOT_CA" --tls implicit --timeout 5 \
		--host localhost -p "$FAKE_PORT" -u alice "$@"
}

xoauth2_b64() {
	printf 'user=%s\001auth=Bearer %s\001\001' "$1" "$2" | base64 -w0
}

@test "XOAUTH2, one step, token from --password-command" {
	local ir
	ir=$(xoauth2_b64 alice ya29.TOKEN)
	tls_fake \
		'CAPA => +OK\r\nSASL XOAUTH2 OAUTHBEARER\r\n.\r\n' \
		"AUTH XOAUTH2 $ir => +OK\\r\\n" 'STAT => +OK 0 0\r\n'
	run --separate-stderr pf_tls_fake --auth xoauth2 \
		--password-command 'echo ya29.TOKEN' -d 2 stat
	[ "$status" -eq 0 ]
	[[ "$stderr" != *ya29* ]]
	[[ "$stderr" != *"$ir"* ]]
	[[ "$stderr" == *"> AUTH XOAUTH2 ****"* ]]
}

@test "XOAUTH2, two steps (the long-token form Microsoft 365 needs)" {
	local tok ir
	tok=$(head -c 1500 /dev/zero | tr '\0' 'T')
	ir=$(xoauth2_b64 alice "$tok")
	tls_fake \
		'CAPA => +OK\r\nSASL XOAUTH2\r\n.\r\n' 'AUTH XOAUTH2 => + \r\n' \
		"$ir => +OK\\r\\n" 'STAT => +OK 0 0\r\n'
	run pf_tls_fake --auth xoauth2 --password-command "echo $tok" stat
	[ "$status" -eq 0 ]
	# The token does not fit in 255 octets, so it follows the empty challenge.
	[ "$(sed -n 2p "$FAKE_DIR/fake.log")" = "AUTH XOAUTH2" ]
}

@test "XOAUTH2: the server's error challenge is acknowledged and reported (77)" {
	local ir err
	ir=$(xoauth2_b64 alice expired)
	err=$(printf '{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}' | base64 -w0)
	tls_fake \
		'CAPA => +OK\r\nSASL XOAUTH2\r\n.\r\n' \
		"AUTH XOAUTH2 $ir => + $err\\r\\n" '=> -ERR [AUTH] invalid credentials\r\n'
	run pf_tls_fake --auth xoauth2 --password-command 'echo expired' stat
	[ "$status" -eq 77 ]
	[[ "$output" == *'"status":"401"'* ]]
	# The acknowledgement is an empty line.
	[ "$(sed -n 3p "$FAKE_DIR/fake.log")" = "" ]
}

@test "OAUTHBEARER: RFC 7628 message with host and port, one and two steps" {
	local ir
	# The message names the port, known only once the server runs: the
	# rules accept any response and the transcript is checked after.
	tls_fake \
		'CAPA => +OK\r\nSASL OAUTHBEARER\r\n.\r\n' "AUTH OAUTHBEARER => + \\r\\n" \
		"AUTH OAUTHBEARER (.*) => +OK\\r\\n" "[A-Za-z0-9+/=]{20,} => +OK\\r\\n" 'STAT => +OK 0 0\r\n'
	ir=$(printf 'n,a=alice,\001host=localhost\001port=%s\001auth=Bearer tok\001\001' "$FAKE_PORT" | base64 -w0)
	run pf_tls_fake --auth oauthbearer --password-command 'echo tok' stat
	[ "$status" -eq 0 ]
	[ "$(sed -n 2p "$FAKE_DIR/fake.log")" = "AUTH OAUTHBEARER $ir" ]
	: > "$FAKE_DIR/fake.log"
	run pf_tls_fake --auth oauthbearer --no-initial-response \
		--password-command 'echo tok' stat
	[ "$status" -eq 0 ]
	[ "$(sed -n 2,3p "$FAKE_DIR/fake.log")" = "AUTH OAUTHBEARER"$'\n'"$ir" ]
}

@test "user names with CR or LF are refused before anything is sent (64)" {
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' \
		'CAPA => +OK\r\nSASL PLAIN SCRAM-SHA-256\r\n.\r\n')
	for m in auto plain scram-sha-256 user apop; do
		run pf_fake --allow-plaintext -u $'alice\r\nDELE 1' --auth "$m" stat
		[ "$status" -eq 64 ]
		[[ "$output" == *"CR or LF"* ]]
	done
	no_credentials_sent
}

@test "a password with CR is refused before anything is sent (78)" {
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' \
		'CAPA => +OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n')
	for m in user plain; do
		run pf_fake --allow-plaintext --auth "$m" \
			--password-command 'printf "pw\rDELE 1\n"' stat
		[ "$status" -eq 78 ]
	done
	no_credentials_sent
}
