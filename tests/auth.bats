#!/usr/bin/env bats
# Where the password comes from, in order, and how it is guarded.

bats_require_minimum_version 1.5.0

setup() {
	load lib/common
	unset POPFETCH_PASSWORD NETRC
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME"
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' \
		'CAPA => +OK\r\nUSER\r\n.\r\n' 'USER .* => +OK\r\n' \
		'PASS .* => +OK\r\n' 'APOP .* => +OK\r\n' 'RPOP .* => +OK\r\n' \
		'STAT => +OK 0 0\r\n')
}

teardown() {
	fake_stop
}

# Runs popfetch without a controlling terminal, so no prompt can appear.
pf_fake() {
	setsid -w "$POPFETCH" --tls none --allow-plaintext --timeout 5 \
		--host localhost -p "$FAKE_PORT" -u alice "$@" < /dev/null
}

sent_password() {
	sed -n 's/^PASS //p' "$FAKE_DIR/fake.log"
}

@test "--password-command: the first line of its output" {
	run pf_fake --password-command 'printf "s3cret\nignored\n"' stat
	[ "$status" -eq 0 ]
	[ "$(sent_password)" = s3cret ]
}

@test "--password-command that fails or prints nothing is a configuration error (78)" {
	run pf_fake --password-command 'exit 3' stat
	[ "$status" -eq 78 ]
	[[ "$output" == *"password command failed"* ]]
	run pf_fake --password-command 'true' stat
	[ "$status" -eq 78 ]
	! grep -q '^PASS' "$FAKE_DIR/fake.log"
}

@test "--password-file must not be readable by others" {
	printf 'filepw\n' > "$BATS_TEST_TMPDIR/pw"
	chmod 600 "$BATS_TEST_TMPDIR/pw"
	run pf_fake --password-file "$BATS_TEST_TMPDIR/pw" stat
	[ "$status" -eq 0 ]
	[ "$(sent_password)" = filepw ]
	: > "$FAKE_DIR/fake.log"
	chmod 644 "$BATS_TEST_TMPDIR/pw"
	run pf_fake --password-file "$BATS_TEST_TMPDIR/pw" stat
	[ "$status" -eq 78 ]
	[[ "$output" == *"readable by others"*"chmod 600"* ]]
	! grep -q '^PASS' "$FAKE_DIR/fake.log"
}

@test "an unreadable password file is a configuration error (78)" {
	run pf_fake --password-file "$BATS_TEST_TMPDIR/missing" stat
	[ "$status" -eq 78 ]
	[[ "$output" == *"$BATS_TEST_TMPDIR/missing: No such file or directory"* ]]
}

@test "POPFETCH_PASSWORD is used when no option names a source" {
	POPFETCH_PASSWORD=envpw run pf_fake stat
	[ "$status" -eq 0 ]
	[ "$(sent_password)" = envpw ]
}

@test "POPFETCH_PASSWORD with a line break is refused" {
	POPFETCH_PASSWORD=$'a\r\nDELE 1' run pf_fake stat
	[ "$status" -eq 78 ]
	! grep -q '^PASS' "$FAKE_DIR/fake.log"
}

@test "netrc matched by host and login" {
	printf 'machine other login alice password wrong\nmachine localhost login bob password wrong2\nmachine localhost login alice password netrcpw\n' > "$HOME/.netrc"
	chmod 600 "$HOME/.netrc"
	run pf_fake stat
	[ "$status" -eq 0 ]
	[ "$(sent_password)" = netrcpw ]
}

@test "NETRC names another file; default entries apply" {
	printf 'default login alice password defpw\n' > "$BATS_TEST_TMPDIR/n"
	chmod 600 "$BATS_TEST_TMPDIR/n"
	NETRC=$BATS_TEST_TMPDIR/n run pf_fake stat
	[ "$status" -eq 0 ]
	[ "$(sent_password)" = defpw ]
}

@test "a netrc readable by others is refused" {
	printf 'machine localhost login alice password netrcpw\n' > "$HOME/.netrc"
	chmod 644 "$HOME/.netrc"
	run pf_fake stat
	[ "$status" -eq 78 ]
	[[ "$output" == *"readable by others"* ]]
}

@test "sources are tried in order: command, file, environment, netrc" {
	printf 'filepw\n' > "$BATS_TEST_TMPDIR/pw"
	chmod 600 "$BATS_TEST_TMPDIR/pw"
	printf 'machine localhost login alice password netrcpw\n' > "$HOME/.netrc"
	chmod 600 "$HOME/.netrc"
	POPFETCH_PASSWORD=envpw run pf_fake --password-command 'echo cmdpw' --password-file "$BATS_TEST_TMPDIR/pw" stat
	[ "$(sent_password)" = cmdpw ]
	: > "$FAKE_DIR/fake.log"
	POPFETCH_PASSWORD=envpw run pf_fake --password-file "$BATS_TEST_TMPDIR/pw" stat
	[ "$(sent_password)" = filepw ]
	: > "$FAKE_DIR/fake.log"
	POPFETCH_PASSWORD=envpw run pf_fake stat
	[ "$(sent_password)" = envpw ]
}

@test "without any source and without a terminal: a clear error (78)" {
	run pf_fake stat
	[ "$status" -eq 78 ]
	[[ "$output" == *"no password"*"--password-command"* ]]
	! grep -q '^PASS' "$FAKE_DIR/fake.log"
}

@test "there is no option that takes a password on the command line" {
	run "$POPFETCH" --password secret --host localhost stat
	[ "$status" -eq 64 ]
}

@test "the password is wiped from traces at every debug level" {
	POPFETCH_PASSWORD=hunter2 run pf_fake -d 2 stat
	[ "$status" -eq 0 ]
	[[ "$output" == *"> PASS ****"* ]]
	[[ "$output" != *hunter2* ]]
	POPFETCH_PASSWORD=hunter2 run pf_fake -d 1 stat
	[[ "$output" == *"PASS **** -> +OK"* ]]
	[[ "$output" != *hunter2* ]]
}

@test "APOP without a timestamp in the greeting is refused (69)" {
	fake_stop
	fake_start "$BATS_TEST_TMPDIR" < <(printf '%s\n' 'greeting => +OK no stamp\r\n')
	POPFETCH_PASSWORD=x run pf_fake --auth apop stat
	[ "$status" -eq 69 ]
	[[ "$output" == *"no timestamp"* ]]
}

@test "APOP sends the MD5 of timestamp and password" {
	POPFETCH_PASSWORD=tanstaaf run pf_fake --auth apop stat
	# RFC 1939's own example: this timestamp and password give this digest.
	grep -qx 'APOP alice c4c9334bac560ecc979e58001b3e22fb' "$FAKE_DIR/fake.log"
}

@test "RPOP sends USER then RPOP with the local user name" {
	run pf_fake --auth rpop stat
	[ "$status" -eq 0 ]
	grep -qx 'USER alice' "$FAKE_DIR/fake.log"
	grep -qx "RPOP $(id -un)" "$FAKE_DIR/fake.log"
}
