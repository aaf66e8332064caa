#!/usr/bin/env bats
# SCRAM channel binding (RFC 5802 section 6): SCRAM-SHA-1-PLUS and
# SCRAM-SHA-256-PLUS with tls-exporter under TLS 1.3 (RFC 9266) and
# tls-server-end-point under TLS 1.2 (RFC 5929), the GS2 flag y and n,
# and the faults of a server or a man in the middle.  Dovecot 2.3 has no
# channel binding: the server is tests/lib/fakepop.py over pyOpenSSL,
# which computes each binding from its own TLS session, so every test
# that logs in checks GnuTLS's binding against OpenSSL's.  What the fake
# saw of the exchange is in fake.log.scram (gs2, cbind, cbdata).

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/common
	export CB_CERTS=$BATS_FILE_TMPDIR/certs
	certs_make "$CB_CERTS"
	# A server certificate signed with SHA-384: tls-server-end-point
	# hashes it with SHA-384, not SHA-256 (RFC 5929 section 4.1).
	(
	cd "$CB_CERTS" &&
	printf '%s\n' 'cn = "localhost"' 'dns_name = "localhost"' \
		'tls_www_server' 'signing_key' 'expiration_days = 30' > s384.tmpl &&
	certtool --generate-privkey --key-type ecdsa --outfile s384.key 2>/dev/null &&
	certtool --generate-certificate --hash SHA384 --load-privkey s384.key \
		--load-ca-certificate ca.pem --load-ca-privkey ca.key \
		--template s384.tmpl --outfile s384.pem 2>/dev/null
	)
	[ -s "$CB_CERTS/s384.pem" ]
}

setup() {
	load lib/common
	export POPFETCH_PASSWORD=secret
	CERTS=$CB_CERTS
	# pyOpenSSL (python3-openssl) plays the binding server; CI installs
	# it, so there a missing one fails rather than skips.
	if ! fake_python > /dev/null; then
		[ -z "${CI:-}" ] || return 1
		skip "python3-openssl is not installed"
	fi
}

teardown() {
	fake_stop
}

# cb_fake TLSVERSION CERTNAME RULE...: a pyOpenSSL fake server ("" for
# any TLS version, or 1.2) with the certificate CERTNAME.pem of CERTS.
cb_fake() {
	local v=$1 c=$2
	shift 2
	fake_start "$BATS_TEST_TMPDIR" "$CERTS/$c.pem" "$CERTS/$c.key" \
		< <(printf 'pyopenssl %s\n' "$v"; printf '%s\n' "$@")
}

pf() {
	"$POPFETCH" --ca-file "$CERTS/ca.pem" --timeout 5 --host localhost \
		-p "$FAKE_PORT" -u alice "$@"
}

# What the fake's SCRAM player noted: scram_seen KEY.
scram_seen() {
	sed -n "s/^$1: //p" "$FAKE_DIR/fake.log.scram"
}

# The SHA-NNN of a PEM certificate's DER form, in hex: cert_hash ALGO FILE.
cert_hash() {
	certtool --certificate-info --outder --infile "$2" 2>/dev/null |
		"${1}sum" | cut -d' ' -f1
}

AUTO_CAPA='CAPA => +OK\r\nSASL SCRAM-SHA-1 SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-256-PLUS PLAIN\r\n.\r\n'

@test "auto over TLS 1.3 picks SCRAM-SHA-256-PLUS with tls-exporter; the server's binding matches" {
	cb_fake "" server implicit "$AUTO_CAPA" \
		'AUTH SCRAM-SHA-256-PLUS .* => x !scram=ok' 'STAT => +OK 2 20\r\n'
	run --separate-stderr pf --tls implicit stat
	[ "$status" -eq 0 ]
	[ "$output" = "2 20" ]
	[ "$(scram_seen gs2)" = "p=tls-exporter,," ]
	[ "$(scram_seen cbind)" = match ]
	[ "$(scram_seen cbdata | tr -d '\n' | wc -c)" -eq 64 ]
	[ "$(cut -d' ' -f1,2 "$FAKE_DIR/fake.log" | sed -n 2p)" = "AUTH SCRAM-SHA-256-PLUS" ]
	[ "$(tail -n 2 "$FAKE_DIR/fake.log")" = $'STAT\nQUIT' ]
	run --separate-stderr pf --tls implicit -d 1 stat
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"AUTH SCRAM-SHA-256-PLUS: channel binding tls-exporter"* ]]
}

@test "over TLS 1.2 the binding is tls-server-end-point: SHA-256 of the certificate" {
	cb_fake 1.2 server implicit "$AUTO_CAPA" \
		'AUTH SCRAM-SHA-256-PLUS .* => x !scram=ok' 'STAT => +OK 0 0\r\n'
	run pf --tls implicit stat
	[ "$status" -eq 0 ]
	[ "$output" = "0 0" ]
	# Never tls-exporter on TLS 1.2 (RFC 9266 section 4.2).
	[ "$(scram_seen gs2)" = "p=tls-server-end-point,," ]
	[ "$(scram_seen cbind)" = match ]
	[ "$(scram_seen cbdata)" = "$(cert_hash sha256 "$CERTS/server.pem")" ]
}

@test "tls-server-end-point of a certificate signed with SHA-384 is its SHA-384" {
	cb_fake 1.2 s384 implicit 'CAPA => +OK\r\nSASL SCRAM-SHA-1-PLUS\r\n.\r\n' \
		'AUTH SCRAM-SHA-1-PLUS .* => x !scram=ok' 'STAT => +OK 0 0\r\n'
	run pf --tls implicit stat
	[ "$status" -eq 0 ]
	[ "$(scram_seen gs2)" = "p=tls-server-end-point,," ]
	[ "$(scram_seen cbind)" = match ]
	[ "$(scram_seen cbdata)" = "$(cert_hash sha384 "$CERTS/s384.pem")" ]
	[ "$(scram_seen cbdata | tr -d '\n' | wc -c)" -eq 96 ]
}

@test "STLS: -PLUS binds the session STLS started, TLS 1.3 and TLS 1.2" {
	local v want
	for v in "" 1.2; do
		cb_fake "$v" server \
			'CAPA => +OK\r\nSTLS\r\nSASL SCRAM-SHA-1-PLUS SCRAM-SHA-1\r\n.\r\n' \
			'STLS => +OK go\r\n !tls' \
			'AUTH SCRAM-SHA-1-PLUS.* => x !scram=ok' 'STAT => +OK 1 5\r\n'
		run pf --tls starttls --no-initial-response stat
		[ "$status" -eq 0 ]
		[ "$output" = "1 5" ]
		want=tls-exporter
		[ -z "$v" ] || want=tls-server-end-point
		[ "$(scram_seen gs2)" = "p=$want,," ]
		[ "$(scram_seen cbind)" = match ]
		[ "$(sed -n 1,4p "$FAKE_DIR/fake.log")" = $'CAPA\nSTLS\nCAPA\nAUTH SCRAM-SHA-1-PLUS' ]
		fake_stop
	done
}

@test "a server whose binding differs (a man in the middle) says so: 77, nothing after" {
	cb_fake "" server implicit "$AUTO_CAPA" \
		'AUTH SCRAM-SHA-256-PLUS .* => x !scram=badcb' 'STAT => +OK 0 0\r\n'
	run pf --tls implicit stat
	[ "$status" -eq 77 ]
	[[ "$output" == *"channel-bindings-dont-match (the server's TLS session is not ours: a man in the middle?)"* ]]
	[ "$(scram_seen cbind)" = mismatch ]
	# The e= was answered with "*"; no fallback to PLAIN, no STAT.
	[ "$(tail -n 1 "$FAKE_DIR/fake.log")" = "*" ]
	! grep -qE '^(AUTH PLAIN|USER|STAT)' "$FAKE_DIR/fake.log"
}

@test "a server-final proving another binding than ours is refused (77)" {
	cb_fake "" server implicit "$AUTO_CAPA" \
		'AUTH SCRAM-SHA-256-PLUS .* => x !scram=othercb' 'STAT => +OK 0 0\r\n'
	run pf --tls implicit stat
	[ "$status" -eq 77 ]
	[[ "$output" == *"signature is wrong: it does not know the password, or it signed another channel binding than this TLS session's"* ]]
	[ "$(tail -n 1 "$FAKE_DIR/fake.log")" = "*" ]
	! grep -qE '^(AUTH PLAIN|STAT)' "$FAKE_DIR/fake.log"
}

@test "a server-final proving a p= binding the client did not ask for is refused (77)" {
	# Over TLS 1.3 (the client says y) and without TLS (it says n).
	cb_fake "" server implicit 'CAPA => +OK\r\nSASL SCRAM-SHA-256\r\n.\r\n' \
		'AUTH SCRAM-SHA-256 .* => x !scram=addp' 'STAT => +OK 0 0\r\n'
	run pf --tls implicit stat
	[ "$status" -eq 77 ]
	[[ "$output" == *"signature is wrong"* ]]
	[ "$(scram_seen gs2)" = "y,," ]
	! grep -q '^STAT' "$FAKE_DIR/fake.log"
	fake_stop
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' \
		'CAPA => +OK\r\nSASL SCRAM-SHA-256\r\n.\r\n' \
		'AUTH SCRAM-SHA-256 .* => x !scram=addp' 'STAT => +OK 0 0\r\n')
	run pf --tls none stat
	[ "$status" -eq 77 ]
	[[ "$output" == *"signature is wrong"* ]]
	[ "$(scram_seen gs2)" = "n,," ]
	! grep -q '^STAT' "$FAKE_DIR/fake.log"
}

@test "-PLUS stripped from CAPA: the client says y, a binding server fails it (77), no fallback" {
	cb_fake "" server implicit 'CAPA => +OK\r\nSASL SCRAM-SHA-256 PLAIN\r\n.\r\n' \
		'AUTH SCRAM-SHA-256 .* => x !scram=ok' 'AUTH PLAIN.* => +OK\r\n' \
		'STAT => +OK 0 0\r\n'
	run pf --tls implicit stat
	[ "$status" -eq 77 ]
	[[ "$output" == *"server-does-support-channel-binding (its CAPA offered no -PLUS mechanism, yet it binds channels: someone may have removed the offer on the way)"* ]]
	[ "$(scram_seen gs2)" = "y,," ]
	! grep -qE '^(AUTH PLAIN|USER|STAT)' "$FAKE_DIR/fake.log"
}

@test "y only on TLS without an offered -PLUS; n without TLS and when plain SCRAM is named" {
	# A server over the ssl module (it cannot bind, so it accepts y).
	fake_start "$BATS_TEST_TMPDIR" "$CERTS/server.pem" "$CERTS/server.key" \
		< <(printf '%s\n' implicit 'CAPA => +OK\r\nSASL SCRAM-SHA-256\r\n.\r\n' \
		'AUTH SCRAM-SHA-256 .* => x !scram=ok' 'STAT => +OK 0 0\r\n')
	run --separate-stderr pf --tls implicit -d 1 stat
	[ "$status" -eq 0 ]
	[ "$(scram_seen gs2)" = "y,," ]
	[ "$(scram_seen cbind)" = match ]
	[[ "$stderr" == *"AUTH SCRAM-SHA-256: no channel binding (GS2 flag y: the server offers no -PLUS)"* ]]
	fake_stop
	# Without TLS auto never picks -PLUS, and says n.
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' "$AUTO_CAPA" \
		'AUTH SCRAM-SHA-256 .* => x !scram=ok' 'STAT => +OK 0 0\r\n')
	run pf --tls none stat
	[ "$status" -eq 0 ]
	[ "$(scram_seen gs2)" = "n,," ]
	[ "$(cut -d' ' -f1,2 "$FAKE_DIR/fake.log" | sed -n 2p)" = "AUTH SCRAM-SHA-256" ]
	fake_stop
	# Plain SCRAM named although the server offers -PLUS: n, not y
	# (which this binding server would refuse).
	cb_fake "" server implicit "$AUTO_CAPA" \
		'AUTH SCRAM-SHA-256 .* => x !scram=ok' 'STAT => +OK 0 0\r\n'
	run pf --tls implicit --auth scram-sha-256 stat
	[ "$status" -eq 0 ]
	[ "$(scram_seen gs2)" = "n,," ]
}

@test "--auth scram-sha-256-plus without TLS is a usage error (64), nothing sent" {
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' "$AUTO_CAPA")
	for m in scram-sha-256-plus SCRAM-SHA-1-PLUS; do
		for extra in "" --allow-plaintext; do
			run pf --tls none $extra --auth "$m" stat
			[ "$status" -eq 64 ]
			[[ "$output" == *"AUTH ${m^^} binds the login to the TLS session, and this connection has no TLS; nothing was sent (without TLS, use the mechanism without -PLUS)"* ]]
			[[ "$output" == *"--tls implicit"* ]]
		done
	done
	! grep -q '^AUTH' "$FAKE_DIR/fake.log"
}

@test "--auth scram-sha-256-plus the server does not offer is refused before AUTH (69)" {
	cb_fake "" server implicit 'CAPA => +OK\r\nSASL SCRAM-SHA-256\r\n.\r\n'
	run pf --tls implicit --auth scram-sha-256-plus stat
	[ "$status" -eq 69 ]
	[[ "$output" == *"does not offer AUTH SCRAM-SHA-256-PLUS"* ]]
	! grep -q '^AUTH' "$FAKE_DIR/fake.log"
}

@test "a -PLUS exchange refused with -ERR over verified TLS falls back to PLAIN once" {
	cb_fake "" server implicit 'CAPA => +OK\r\nSASL SCRAM-SHA-256-PLUS PLAIN\r\n.\r\n' \
		'AUTH SCRAM-SHA-256-PLUS.* => -ERR [AUTH] no SCRAM secret\r\n' \
		'AUTH PLAIN AGFsaWNlAHNlY3JldA== => +OK\r\n' 'STAT => +OK 0 0\r\n'
	run --separate-stderr pf --tls implicit -d 1 stat
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"AUTH SCRAM-SHA-256-PLUS refused; trying AUTH PLAIN over verified TLS"* ]]
	[ "$(cut -d' ' -f1,2 "$FAKE_DIR/fake.log" | sed -n 2,3p)" = $'AUTH SCRAM-SHA-256-PLUS\nAUTH PLAIN' ]
}

@test "info names the binding and the -PLUS mechanism auto would use" {
	local v want
	for v in "" 1.2; do
		cb_fake "$v" server implicit "$AUTO_CAPA" \
			'AUTH SCRAM-SHA-256-PLUS .* => x !scram=ok'
		run --separate-stderr pf --tls implicit info
		[ "$status" -eq 0 ]
		want=tls-exporter
		[ -z "$v" ] || want=tls-server-end-point
		grep -qx "channel binding: $want" <<<"$output"
		grep -qx -- "--auth auto would use: SCRAM-SHA-256-PLUS" <<<"$output"
		[ "$(scram_seen cbind)" = match ]
		fake_stop
	done
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' "$AUTO_CAPA")
	run --separate-stderr pf --tls none --auth user --allow-plaintext info
	grep -qx -- "--auth auto would use: SCRAM-SHA-256" <<<"$output"
	! grep -q "channel binding" <<<"$output"
}
