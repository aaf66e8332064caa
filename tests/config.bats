#!/usr/bin/env bats
# The accounts file: syntax, errors with file and line, permissions,
# precedence, and the accounts / config-check commands.

bats_require_minimum_version 1.5.0

setup() {
	load lib/common
	config_home
}

teardown() {
	fake_stop
}

conf() {
	cat > "$CONF"
	chmod 600 "$CONF"
}

# Each bad file: the exit status, and a message with file and line.
bad_file() {
	conf
	run "$POPFETCH" config-check
	[ "$status" -eq 78 ]
	[[ "$output" == *"$CONF:$1: $2"* ]] || { echo "$output"; return 1; }
}

@test "a good file: accounts lists names and servers, config-check passes" {
	conf <<'EOF'
# mail accounts
defaults
    tls implicit
    maildir ~/Mail/inbox
    timeout 30

account home
    url pop3s://alice@pop.example.org
account work
    host mail.example.com
    port 1995
    user "bob smith"
    keep-days 30
    mbox ~/work.mbox
EOF
	run "$POPFETCH" accounts
	[ "$status" -eq 0 ]
	[ "$output" = $'home\talice@pop.example.org:995\nwork\tbob smith@mail.example.com:1995' ]
	run "$POPFETCH" config-check
	[ "$status" -eq 0 ]
	[ "$output" = "$CONF: 2 accounts, no errors" ]
}

@test "--config names another file; a missing one is an error (78)" {
	printf 'account x\nhost h\n' > "$BATS_TEST_TMPDIR/other"
	run "$POPFETCH" --config "$BATS_TEST_TMPDIR/other" accounts
	[ "$status" -eq 0 ]
	[ "$(cut -f1 <<<"$output")" = x ]
	run "$POPFETCH" --config "$BATS_TEST_TMPDIR/missing" accounts
	[ "$status" -eq 78 ]
	[[ "$output" == *"missing: No such file"* ]]
}

@test "no file at the default place is no configuration, not an error" {
	run "$POPFETCH" accounts
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "an unknown keyword names file and line (78)" {
	bad_file 3 'unknown keyword "hots"' <<'EOF'
account a
host h
hots x
EOF
}

@test "a missing value, a value on a flag (78)" {
	bad_file 2 'timeout needs a value' <<'EOF'
account a
timeout
host h
EOF
	bad_file 3 'insecure takes no value' <<'EOF'
account a
host h
insecure yes
EOF
}

@test "a duplicate account names both lines (78)" {
	bad_file 4 'duplicate account "a" (first at line 1)' <<'EOF'
account a
host h

account a
host g
EOF
}

@test "a bad number or value is checked like the option (78)" {
	bad_file 3 'timeout "soon" is invalid' <<'EOF'
account a
host h
timeout soon
EOF
	bad_file 2 '--tls takes implicit, starttls or none' <<'EOF'
account a
tls sometimes
host h
EOF
	bad_file 2 'port "99999" is too large' <<'EOF'
account a
port 99999
host h
EOF
}

@test "syntax: lines outside a block, a bad name, an unterminated quote (78)" {
	bad_file 1 'host outside a block' <<'EOF'
host h
EOF
	bad_file 1 'bad account name' <<'EOF'
account a/b
EOF
	bad_file 2 'unterminated quoted value' <<'EOF'
account a
user "alice
EOF
	bad_file 3 'a second defaults block' <<'EOF'
defaults
timeout 5
defaults
EOF
	bad_file 1 'account needs a name' <<'EOF'
account
EOF
}

@test "an account without a host fails config-check (78)" {
	conf <<'EOF'
account a
user alice
EOF
	run "$POPFETCH" config-check
	[ "$status" -eq 78 ]
	[[ "$output" == *"account a: no host given"* ]]
}

@test "the options that choose accounts are not keywords" {
	bad_file 2 'unknown keyword "all-accounts"' <<'EOF'
account a
all-accounts
EOF
}

@test "a password in a file others may read is refused (78) with the fix" {
	printf 'account a\nhost h\npassword s3cret\n' > "$CONF"
	chmod 640 "$CONF"
	run "$POPFETCH" config-check
	[ "$status" -eq 78 ]
	[[ "$output" == *"holds a password but others may read it"*"chmod 600 $CONF"* ]]
	[[ "$output" != *s3cret* ]]
	chmod 600 "$CONF"
	run "$POPFETCH" config-check
	[ "$status" -eq 0 ]
	# Without a password, a readable file is fine; a writable one never.
	printf 'account a\nhost h\n' > "$CONF"
	chmod 644 "$CONF"
	run "$POPFETCH" config-check
	[ "$status" -eq 0 ]
	chmod 666 "$CONF"
	run "$POPFETCH" config-check
	[ "$status" -eq 78 ]
	[[ "$output" == *"writable by others"* ]]
}

@test "-a runs one account: defaults, then the account, then the command line" {
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' \
		'CAPA => +OK\r\nUSER\r\n.\r\n' 'USER (.*) => +OK\r\n' \
		'PASS (.*) => +OK\r\n' 'STAT => +OK 7 700\r\n')
	conf <<EOF
defaults
    tls none
    allow-plaintext
    timeout 5
    user nobody
account fake
    host 127.0.0.1
    port $FAKE_PORT
    user alice
    password "pw with # and spaces "
EOF
	run --separate-stderr "$POPFETCH" -a fake stat
	[ "$status" -eq 0 ]
	[ "$output" = "7 700" ]
	[ "$(fake_log)" = $'CAPA\nUSER alice\nPASS pw with # and spaces \nSTAT\nQUIT' ]
	: > "$FAKE_DIR/fake.log"
	run --separate-stderr "$POPFETCH" -a fake -u carol stat
	[ "$status" -eq 0 ]
	grep -qx 'USER carol' "$FAKE_DIR/fake.log"
	# The command line's password sources beat the file's password.
	: > "$FAKE_DIR/fake.log"
	run --separate-stderr "$POPFETCH" -a fake --password-command 'echo other' stat
	grep -qx 'PASS other' "$FAKE_DIR/fake.log"
}

@test "an account called default serves a command line without a server" {
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' \
		'CAPA => +OK\r\nUSER\r\n.\r\n' 'USER (.*) => +OK\r\n' \
		'PASS (.*) => +OK\r\n' 'STAT => +OK 2 20\r\n')
	conf <<EOF
account default
    url pop3://alice@127.0.0.1:$FAKE_PORT
    tls none
    allow-plaintext
    password pw
EOF
	run --separate-stderr "$POPFETCH" stat
	[ "$status" -eq 0 ]
	[ "$output" = "2 20" ]
}

@test "-a with an account that does not exist (78)" {
	conf <<'EOF'
account a
host h
EOF
	run "$POPFETCH" -a b stat
	[ "$status" -eq 78 ]
	[[ "$output" == *"no account \"b\" in $CONF"* ]]
}

@test "a config error stops every command, even with a server on the command line" {
	conf <<'EOF'
defaults
frobnicate
EOF
	run "$POPFETCH" --host 127.0.0.1 stat
	[ "$status" -eq 78 ]
	[[ "$output" == *"$CONF:2: unknown keyword \"frobnicate\""* ]]
}

@test "every long option except the account choosers is a keyword" {
	local opt
	for opt in $("$POPFETCH" --help | grep -o -- '--[a-z0-9-]*' | sort -u); do
		opt=${opt#--}
		case $opt in
		account|all-accounts|jobs|config|help|version) continue ;;
		esac
		printf 'account a\nhost h\n%s\n' "$opt" > "$CONF"
		run "$POPFETCH" config-check
		[[ "$output" != *"unknown keyword"* ]] || { echo "$opt: $output"; return 1; }
	done
}

@test "an accounts-file path longer than the buffer is refused, never cut (78)" {
	XDG_CONFIG_HOME=/$(head -c 4090 /dev/zero | tr '\0' a) run "$POPFETCH" accounts
	[ "$status" -eq 78 ]
	[[ "$output" == *"the path of the accounts file is longer than 4095 bytes"* ]]
}

@test "a hint names the keyword for an account, the option on the command line" {
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' \
		'CAPA => +OK\r\nUSER\r\n.\r\n' 'USER (.*) => +OK\r\n')
	conf <<EOF2
account plain
    host 127.0.0.1
    port $FAKE_PORT
    tls none
    user alice
    password pw
EOF2
	run "$POPFETCH" -a plain stat
	[ "$status" -eq 78 ]
	[[ "$output" == *'refusing to send'*'(add "allow-plaintext" to allow it)' ]]
	! grep -q '^PASS' "$FAKE_DIR/fake.log"
	POPFETCH_PASSWORD=pw run "$POPFETCH" --host 127.0.0.1 -p "$FAKE_PORT" \
		--tls none -u alice stat
	[ "$status" -eq 78 ]
	[[ "$output" == *'refusing to send'*'(add --allow-plaintext to allow it)' ]]
	! grep -q '^PASS' "$FAKE_DIR/fake.log"
}

@test "the accounts file's value messages name the keyword, argv's the option" {
	bad_file 3 'keep-days "0" is too small (1 to 36500)' <<'EOF2'
account a
host h
keep-days 0
EOF2
	run "$POPFETCH" --host h --keep-days 0 stat
	[ "$status" -eq 64 ]
	[ "$output" = 'popfetch: --keep-days "0" is too small (1 to 36500)' ]
	run "$POPFETCH" --host h --timeout x stat
	[ "$output" = 'popfetch: --timeout "x" is invalid (1 to 86400)' ]
	run "$POPFETCH" --host h --auth nonsense stat
	[ "$output" = 'popfetch: --auth takes auto, user, apop, rpop, plain, login, cram-md5, scram-sha-1, scram-sha-256, scram-sha-1-plus, scram-sha-256-plus, external, xoauth2 or oauthbearer' ]
}
