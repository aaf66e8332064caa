#!/usr/bin/env bats
# OAuth 2.0 built in: oauth2 login (device and loopback flows), the token
# store, refreshing, revocation; against a real authorization server
# (oidc-provider, tests/lib/oauth/) and a Dovecot that asks that server
# whether each token is active (passdb oauth2, introspection_mode post).

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/common
	. "$TESTS_LIB/oauth/oauth.bash"
	# bats 1.8.2 fails a file that skips here: setup() skips instead.
	OAUTH_SKIP=$(oauth_why)
	export OAUTH_SKIP
	[ -z "$OAUTH_SKIP" ] || return 0
	SUITE=$(test_dir)
	export SUITE
	# Access tokens live 65 s: fresh ones are used as they are, and
	# after 6 s they are within popfetch's 60 s of expiry.
	OAUTH_TTL=65 oauth_start "$SUITE/oauth" || return 1
	cat > "$SUITE/oauth2.conf.ext" <<CONF
introspection_mode = post
introspection_url = https://dovecot:dovecot-secret@localhost:$OAUTH_PORT/token/introspection
username_attribute = sub
active_attribute = active
active_value = true
tls_ca_cert_file = $OAUTH_CA
CONF
	chmod 644 "$SUITE/oauth2.conf.ext"
	export DOVECOT_MECHS="xoauth2 oauthbearer"
	# A failed login must not delay the next one past a token's life.
	export DOVECOT_EXTRA="auth_failure_delay = 0"
	export DOVECOT_PASSDB="passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $SUITE/oauth2.conf.ext
}"
	dovecot_start "$SUITE/dovecot" || return 1
	dovecot_user_add alice unused
}

teardown_file() {
	load lib/common
	. "$TESTS_LIB/oauth/oauth.bash"
	dovecot_stop
	oauth_stop
}

setup() {
	[ -z "$OAUTH_SKIP" ] || skip "$OAUTH_SKIP"
	load lib/common
	. "$TESTS_LIB/oauth/oauth.bash"
	config_home
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	T=$BATS_TEST_TMPDIR
	STORE="$XDG_STATE_HOME/popfetch/oauth2/alice@localhost:$DOVECOT_POP3S"
	find "$DOVECOT_DIR/mail/alice" -type f \( -path '*/new/*' -o \
		-path '*/cur/*' \) -delete
	printf 'From: a@example.org\nSubject: one\n\nbody one\n' > "$T/1.eml"
	printf 'From: b@example.org\nSubject: two\n\nbody two\n' > "$T/2.eml"
	dovecot_seed alice "$T/1.eml" "$T/2.eml"
	mkdir -p "$T/md/new" "$T/md/cur" "$T/md/tmp"
}

teardown() {
	# A skipped test loaded nothing.
	[ -z "$OAUTH_SKIP" ] || return 0
	fake_stop
}

# popfetch against the suite's Dovecot, the provider found by discovery.
pf() {
	"$POPFETCH" --host localhost -p "$DOVECOT_POP3S" --tls implicit \
		--ca-file "$DOVECOT_CA" -u alice --timeout 20 \
		--oauth2-issuer "$OAUTH_ISSUER" --oauth2-client-id popfetch \
		--oauth2-scope "openid offline_access" \
		--oauth2-ca-file "$OAUTH_CA" "$@"
}

# expect_status N: the last run's exit status, showing its output if not.
expect_status() {
	[ "$status" -eq "$1" ] && return 0
	echo "status $status, not $1; output:"
	echo "$output"
	echo "${stderr:-}"
	return 1
}

# json_get FILE KEY: a member of the first JSON line of FILE.
json_get() {
	python3 -c 'import json, sys
print(json.loads(open(sys.argv[1]).readline())[sys.argv[2]])' "$1" "$2"
}

# store_get KEY [FILE]: a member of the token file.
store_get() {
	python3 -c 'import json, sys
print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "${2:-$STORE}" "$1"
}

# wait_line FILE: until the first line of output is there.
wait_line() {
	local i
	for i in $(seq 1 200); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# login_device [OPTIONS...]: oauth2 login --json with the device flow, the
# user approving the code it prints.  Sets LOGIN_STATUS.
login_device() {
	: > "$T/login.out"
	pf --json --oauth2-flow device "$@" oauth2 login > "$T/login.out" \
		2> "$T/login.err" &
	local pid=$!
	wait_line "$T/login.out" || { cat "$T/login.err"; false; }
	# A failed approval would leave popfetch polling for ten minutes.
	oauth_approve "$(json_get "$T/login.out" verification_uri_complete)" \
		alice 2> "$T/approve.err" || kill "$pid"
	LOGIN_STATUS=0
	wait "$pid" || LOGIN_STATUS=$?
}

# expire [FILE]: the stored access token is due for a refresh (real
# expiry takes 6 s: the test of expiry between runs waits for it).
expire() {
	python3 -c 'import json, sys
p = sys.argv[1]
d = json.load(open(p))
d["expires_at"] = 0
open(p, "w").write(json.dumps(d))' "${1:-$STORE}"
}

@test "device flow: login prints the code as JSON, then XOAUTH2 and OAUTHBEARER fetch" {
	login_device
	[ "$LOGIN_STATUS" -eq 0 ]
	[ -n "$(json_get "$T/login.out" user_code)" ]
	[ "$(json_get "$T/login.out" verification_uri)" = "$OAUTH_ISSUER/device" ]
	[ "$(json_get "$T/login.out" expires_in)" -gt 0 ]
	# The store: 0600 in 0700, with a refresh token.
	[ "$(stat -c %a "$STORE")" = 600 ]
	[ "$(stat -c %a "$(dirname "$STORE")")" = 700 ]
	[ -n "$(store_get refresh_token)" ]
	run pf --auth xoauth2 --maildir "$T/md" --keep
	expect_status 0
	[ "$(ls "$T/md/new" | wc -l)" -eq 2 ]
	grep -rq "body one" "$T/md/new"
	run pf --auth oauthbearer -d 1 stat
	expect_status 0
	[[ "$output" == *"AUTH OAUTHBEARER"* ]]
	grep -qx '2 [0-9]*' <<<"$output"
}

@test "--auth auto chooses OAUTHBEARER once tokens are stored" {
	login_device
	[ "$LOGIN_STATUS" -eq 0 ]
	run pf -d 1 stat
	expect_status 0
	[[ "$output" == *"AUTH OAUTHBEARER"* ]]
	grep -qx '2 [0-9]*' <<<"$output"
}

@test "loopback flow: a random port, PKCE and state; the browser's redirect logs in" {
	pf --json --oauth2-flow loopback oauth2 login > "$T/login.out" \
		2> "$T/login.err" &
	local pid=$!
	wait_line "$T/login.out" || { cat "$T/login.err"; false; }
	url=$(json_get "$T/login.out" authorization_url)
	redirect=$(json_get "$T/login.out" redirect_uri)
	[[ "$redirect" =~ ^http://127\.0\.0\.1:[0-9]+/$ ]]
	[[ "$url" == "$OAUTH_ISSUER/auth?"* ]]
	[[ "$url" == *"code_challenge_method=S256"* ]]
	[[ "$url" == *"state="* ]]
	oauth_approve "$url" alice
	wait "$pid"
	[ -n "$(store_get refresh_token)" ]
	run pf --auth xoauth2 stat
	expect_status 0
	[[ "$output" == "2 "* ]]
}

@test "loopback flow: a redirect with the wrong state is refused and nothing is stored" {
	before=$(grep -c '^grant authorization_code' "$OAUTH_LOG" || true)
	pf --json --oauth2-flow loopback oauth2 login > "$T/login.out" \
		2> "$T/login.err" &
	local pid=$!
	wait_line "$T/login.out" || { cat "$T/login.err"; false; }
	redirect=$(json_get "$T/login.out" redirect_uri)
	run curl -s "${redirect}?code=forged&state=not-the-one"
	[[ "$output" == *"does not match"* ]]
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 77 ]
	grep -q "state does not match" "$T/login.err"
	[ ! -e "$STORE" ]
	# The forged code never went to the provider.
	[ "$(grep -c '^grant authorization_code' "$OAUTH_LOG" || true)" -eq "$before" ]
}

@test "an expired access token is refreshed by the next run, and the rotated refresh token stored" {
	login_device
	[ "$LOGIN_STATUS" -eq 0 ]
	rt1=$(store_get refresh_token)
	at1=$(store_get access_token)
	before=$(oauth_grants refresh_token)
	run pf --auth xoauth2 stat
	expect_status 0
	[ "$(oauth_grants refresh_token)" -eq "$before" ]
	# Within 60 s of its real expiry.
	sleep 6
	run pf --auth xoauth2 stat
	expect_status 0
	[ "$(oauth_grants refresh_token)" -eq $((before + 1)) ]
	[ "$(store_get refresh_token)" != "$rt1" ]
	[ "$(store_get access_token)" != "$at1" ]
	[ "$(stat -c %a "$STORE")" = 600 ]
	# The old refresh token is spent: the provider refuses it.
	run curl -s --cacert "$OAUTH_CA" -d grant_type=refresh_token \
		-d client_id=popfetch --data-urlencode "refresh_token=$rt1" \
		"$OAUTH_ISSUER/token"
	[[ "$output" == *invalid_grant* ]]
}

@test "two jobs of one account under -j 2 refresh once, not twice" {
	mkdir -m 700 "$T/tok"
	login_device --oauth2-token-file "$T/tok/tokens"
	[ "$LOGIN_STATUS" -eq 0 ]
	expire "$T/tok/tokens"
	for n in one two; do
		mkdir -p "$T/md-$n/new" "$T/md-$n/cur" "$T/md-$n/tmp"
	done
	cat > "$CONF" <<CONF
defaults
    host localhost
    port $DOVECOT_POP3S
    tls implicit
    ca-file $DOVECOT_CA
    user alice
    auth xoauth2
    oauth2-client-id popfetch
    oauth2-ca-file $OAUTH_CA
    oauth2-token-file $T/tok/tokens
    keep
account one
    maildir $T/md-one
    state $T/state-one
account two
    maildir $T/md-two
    state $T/state-two
CONF
	before=$(oauth_grants refresh_token)
	run "$POPFETCH" --all-accounts -j 2
	expect_status 0
	[ "$(oauth_grants refresh_token)" -eq $((before + 1)) ]
	[ "$(ls "$T/md-one/new" | wc -l)" -eq 2 ]
	[ "$(ls "$T/md-two/new" | wc -l)" -eq 2 ]
}

@test "a token the server refuses is refreshed once and tried once more" {
	login_device
	[ "$LOGIN_STATUS" -eq 0 ]
	# An access token the provider no longer knows, though not expired
	# (as after a password change): Dovecot's introspection says it is
	# not active, and the login fails with the OAuth error challenge.
	python3 -c 'import json, sys
p = sys.argv[1]
d = json.load(open(p))
d["access_token"] = "no-longer-valid"
open(p, "w").write(json.dumps(d))' "$STORE"
	before=$(oauth_grants refresh_token)
	run pf --auth xoauth2 -d 1 stat
	expect_status 0
	[ "$(grep -c 'AUTH XOAUTH2 .*-> -ERR' <<<"$output")" -eq 1 ]
	[ "$(grep -c 'AUTH XOAUTH2 .*-> +OK' <<<"$output")" -eq 1 ]
	[ "$(oauth_grants refresh_token)" -eq $((before + 1)) ]
	grep -qx '2 [0-9]*' <<<"$output"
}

@test "a server that hangs up after refusing the token: a new connection, a fresh token" {
	login_device
	[ "$LOGIN_STATUS" -eq 0 ]
	old=$(printf 'user=alice\001auth=Bearer %s\001\001' \
		"$(store_get access_token)" | base64 -w0)
	fake_start "$T" < <(printf '%s\n' \
		'CAPA => +OK\r\nSASL XOAUTH2\r\n.\r\n' \
		"AUTH XOAUTH2 ${old//+/\\+} => -ERR [AUTH] token refused\\r\\n !close" \
		'AUTH XOAUTH2 .* => +OK welcome\r\n' \
		'STAT => +OK 0 0\r\n')
	run "$POPFETCH" --host localhost -p "$FAKE_PORT" --tls none \
		--allow-plaintext -u alice --auth xoauth2 --timeout 10 \
		--oauth2-ca-file "$OAUTH_CA" --oauth2-token-file "$STORE" stat
	expect_status 0
	[ "$output" = "0 0" ]
	[ "$(grep -c '^AUTH XOAUTH2' "$FAKE_DIR/fake.log")" -eq 2 ]
	# The second try carried another token.
	[ "$(grep '^AUTH XOAUTH2' "$FAKE_DIR/fake.log" | sort -u | wc -l)" -eq 2 ]
}

@test "a revoked refresh token ends with 77 and says to log in again" {
	login_device
	[ "$LOGIN_STATUS" -eq 0 ]
	run curl -s -o /dev/null -w '%{http_code}' --cacert "$OAUTH_CA" \
		-d client_id=popfetch -d token_type_hint=refresh_token \
		--data-urlencode "token=$(store_get refresh_token)" \
		"$OAUTH_ISSUER/token/revocation"
	[ "$output" = 200 ]
	expire
	run pf --auth xoauth2 stat
	expect_status 77
	[[ "$output" == *"refused the refresh token: invalid_grant"* ]]
	[[ "$output" == *"oauth2 login again"* ]]
	# In an account, the hint names it.
	cat > "$CONF" <<CONF
account work
    host localhost
    port $DOVECOT_POP3S
    tls implicit
    ca-file $DOVECOT_CA
    user alice
    auth xoauth2
    oauth2-client-id popfetch
    oauth2-ca-file $OAUTH_CA
    oauth2-token-file $STORE
CONF
	run "$POPFETCH" -a work stat
	expect_status 77
	[[ "$output" == *"run popfetch -a work oauth2 login again"* ]]
}

@test "a token store others may read, or in an open directory, is refused (78)" {
	login_device
	[ "$LOGIN_STATUS" -eq 0 ]
	chmod 644 "$STORE"
	run pf --auth xoauth2 stat
	expect_status 78
	[[ "$output" == *"chmod 600"* ]]
	chmod 600 "$STORE"
	chmod 755 "$(dirname "$STORE")"
	run pf --auth xoauth2 stat
	expect_status 78
	[[ "$output" == *"chmod 700"* ]]
	chmod 700 "$(dirname "$STORE")"
	run pf --auth xoauth2 stat
	expect_status 0
}

@test "without tokens, a fetch says to log in; explicit endpoints need no issuer" {
	run pf --auth xoauth2 stat
	expect_status 78
	[[ "$output" == *"no OAuth tokens"*"oauth2 login again"* ]]
	n=$(grep -c well-known "$OAUTH_LOG" || true)
	: > "$T/login.out"
	"$POPFETCH" --host localhost -p "$DOVECOT_POP3S" -u alice --json \
		--oauth2-client-id popfetch --oauth2-scope "openid offline_access" \
		--oauth2-ca-file "$OAUTH_CA" \
		--oauth2-device-endpoint "$OAUTH_ISSUER/device/auth" \
		--oauth2-token-endpoint "$OAUTH_ISSUER/token" \
		oauth2 login > "$T/login.out" 2> "$T/login.err" &
	local pid=$!
	wait_line "$T/login.out" || { cat "$T/login.err"; false; }
	oauth_approve "$(json_get "$T/login.out" verification_uri_complete)" \
		alice 2> "$T/approve.err"
	wait "$pid"
	[ "$(grep -c well-known "$OAUTH_LOG" || true)" -eq "$n" ]
	[ -n "$(store_get refresh_token)" ]
}

@test "discovery from the issuer URL fills the endpoints" {
	login_device
	[ "$LOGIN_STATUS" -eq 0 ]
	# RFC 8414's document, which oidc-provider serves too.
	grep -q "^GET /.well-known/oauth-authorization-server" "$OAUTH_LOG"
	[ "$(store_get token_endpoint)" = "$OAUTH_ISSUER/token" ]
	[ "$(store_get revocation_endpoint)" = "$OAUTH_ISSUER/token/revocation" ]
	[ "$(store_get issuer)" = "$OAUTH_ISSUER" ]
}

@test "the provider's certificate from an unknown CA is refused" {
	run "$POPFETCH" --host localhost -p "$DOVECOT_POP3S" -u alice \
		--ca-file "$DOVECOT_CA" --oauth2-issuer "$OAUTH_ISSUER" \
		--oauth2-client-id popfetch --oauth2-flow device oauth2 login
	expect_status 77
	[[ "$output" == *"localhost:$OAUTH_PORT"* ]]
	[ ! -e "$STORE" ]
	# --ca-file applies to the provider when there is no --oauth2-ca-file.
	: > "$T/login.out"
	"$POPFETCH" --host localhost -p "$DOVECOT_POP3S" -u alice --json \
		--ca-file "$OAUTH_CA" --oauth2-issuer "$OAUTH_ISSUER" \
		--oauth2-client-id popfetch --oauth2-flow device \
		--oauth2-scope "openid offline_access" \
		oauth2 login > "$T/login.out" 2> "$T/login.err" &
	local pid=$!
	wait_line "$T/login.out" || { cat "$T/login.err"; false; }
	oauth_approve "$(json_get "$T/login.out" verification_uri_complete)" \
		alice 2> "$T/approve.err"
	wait "$pid"
	[ -n "$(store_get refresh_token)" ]
}

@test "no token in a -d 2 trace, on a command line or in a child's environment" {
	login_device
	[ "$LOGIN_STATUS" -eq 0 ]
	expire
	run --separate-stderr pf --auth xoauth2 -d 2 --keep --state "$T/st" \
		--mda "env > $T/env.\$\$; cat /proc/\$PPID/cmdline /proc/\$\$/cmdline > $T/cmd.\$\$; cat > /dev/null"
	expect_status 0
	at=$(store_get access_token)
	rt=$(store_get refresh_token)
	[ -n "$at" ] && [ -n "$rt" ]
	[[ "$stderr" == *"AUTH XOAUTH2"* ]]
	ls "$T"/env.* "$T"/cmd.* > /dev/null
	for tok in "$at" "$rt" \
	    "$(printf 'user=alice\001auth=Bearer %s\001\001' "$at" | base64 -w0)"; do
		[[ "$stderr" != *"$tok"* ]]
		[[ "$output" != *"$tok"* ]]
		! grep -rqF -- "$tok" "$T"/env.* "$T"/cmd.*
	done
}

@test "oauth2 status --json, then logout revokes and deletes" {
	login_device
	[ "$LOGIN_STATUS" -eq 0 ]
	run pf --json oauth2 status
	expect_status 0
	python3 -c 'import json, sys
d = json.loads(sys.argv[1])
assert d["issuer"] == sys.argv[2], d
assert d["client_id"] == "popfetch"
assert d["refresh_token"] is True
assert 0 < d["expires_in"] <= 65
assert d["scope"] == "openid offline_access"
assert d["token_file"] == sys.argv[3]' "$output" "$OAUTH_ISSUER" "$STORE"
	run pf oauth2 status
	expect_status 0
	[[ "$output" == *"refresh_token: yes"* ]]
	[[ "$output" != *"$(store_get access_token)"* ]]
	rt=$(store_get refresh_token)
	run pf --json oauth2 logout
	expect_status 0
	python3 -c 'import json, sys
d = json.loads(sys.argv[1])
assert d["revoked"] is True and d["deleted"] is True, d' "$output"
	[ ! -e "$STORE" ]
	grep -q "^POST /token/revocation" "$OAUTH_LOG"
	run curl -s --cacert "$OAUTH_CA" -d grant_type=refresh_token \
		-d client_id=popfetch --data-urlencode "refresh_token=$rt" \
		"$OAUTH_ISSUER/token"
	[[ "$output" == *invalid_grant* ]]
	run pf oauth2 status
	expect_status 78
}

@test "providers: presets listed, a provider without POP refused" {
	run "$POPFETCH" --json providers
	expect_status 0
	python3 -c 'import json, sys
d = {p["name"]: p for p in json.loads(sys.argv[1])}
assert d["gmail"]["host"] == "pop.gmail.com" and d["gmail"]["flow"] == "loopback"
assert d["microsoft"]["host"] == "outlook.office365.com"
assert d["microsoft"]["flow"] == "device"
assert "POP.AccessAsUser.All offline_access" in d["microsoft"]["scope"]
for n in ("yahoo", "aol", "gmx", "webde", "fastmail", "zoho"):
    assert d[n]["auth"] == "password", n
assert d["icloud"]["pop3"] is False and d["proton"]["pop3"] is False' "$output"
	run "$POPFETCH" --provider icloud -u a stat
	expect_status 64
	[[ "$output" == *"no POP3"* ]]
	run "$POPFETCH" --provider nosuch -u a stat
	expect_status 64
	[[ "$output" == *"popfetch providers"* ]]
}

@test "presets with stored tokens: microsoft sends XOAUTH2 in two steps, gmail in one" {
	mkdir -m 700 "$T/tok"
	login_device --oauth2-token-file "$T/tok/t"
	[ "$LOGIN_STATUS" -eq 0 ]
	want=$(printf 'user=alice\001auth=Bearer %s\001\001' \
		"$(store_get access_token "$T/tok/t")" | base64 -w0)
	fake_start "$T" < <(printf '%s\n' \
		'CAPA => +OK\r\nSASL XOAUTH2\r\n.\r\n' \
		'AUTH XOAUTH2 => + \r\n' \
		"AUTH XOAUTH2 ${want//+/\\+} => +OK one step\\r\\n" \
		"${want//+/\\+} => +OK two steps\\r\\n" \
		'STAT => +OK 0 0\r\n')
	# The preset's host, port and TLS, refined on the command line.
	run "$POPFETCH" --provider microsoft --host localhost -p "$FAKE_PORT" \
		--tls none --allow-plaintext -u alice --timeout 10 \
		--oauth2-client-id popfetch --oauth2-ca-file "$OAUTH_CA" \
		--oauth2-token-file "$T/tok/t" stat
	expect_status 0
	grep -qx 'AUTH XOAUTH2' "$FAKE_DIR/fake.log"
	grep -qx "$want" "$FAKE_DIR/fake.log"
	: > "$FAKE_DIR/fake.log"
	run "$POPFETCH" --provider gmail --host localhost -p "$FAKE_PORT" \
		--tls none --allow-plaintext -u alice --timeout 10 \
		--oauth2-client-id popfetch --oauth2-ca-file "$OAUTH_CA" \
		--oauth2-token-file "$T/tok/t" stat
	expect_status 0
	grep -qx "AUTH XOAUTH2 $want" "$FAKE_DIR/fake.log"
	# Without the command line's refinements, the provider's server.
	run "$POPFETCH" --provider microsoft -u a@example.com --json \
		--oauth2-token-file "$T/tok/none" oauth2 status
	expect_status 78
	run "$POPFETCH" --provider microsoft --oauth2-tenant 'a/b' -u a stat
	expect_status 64
	[[ "$output" == *"--oauth2-tenant takes common, consumers"* ]]
}

@test "oauth2: bad subcommands and a login without a client id are usage errors" {
	run "$POPFETCH" --host localhost -u alice oauth2 dance
	expect_status 64
	[[ "$output" == *"usage: oauth2 login|status|logout"* ]]
	run "$POPFETCH" --host localhost -u alice oauth2
	expect_status 64
	run "$POPFETCH" --host localhost -u alice \
		--oauth2-issuer "$OAUTH_ISSUER" oauth2 login
	expect_status 64
	[[ "$output" == *"client id"* ]]
	[ ! -e "$STORE" ]
	# Tokens go only over HTTPS.
	run "$POPFETCH" --host localhost -u alice --oauth2-client-id popfetch \
		--oauth2-device-endpoint "http://127.0.0.1:$OAUTH_PORT/device/auth" \
		--oauth2-token-endpoint "http://127.0.0.1:$OAUTH_PORT/token" \
		--oauth2-flow device oauth2 login
	expect_status 64
	[[ "$output" == *"not an https:// URL"* ]]
}
