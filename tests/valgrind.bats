#!/usr/bin/env bats
# The default build under valgrind: no memory errors, no definite leaks,
# on success paths and on failure paths.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/common
	command -v valgrind > /dev/null || return 0
	suite_start
	dovecot_user_add alice pw
	dovecot_seed alice "$TOP"/tests/corpus-hard/*.eml
}

teardown_file() {
	load lib/common
	suite_stop
}

setup() {
	load lib/common
	command -v valgrind > /dev/null || skip "valgrind is not installed"
	export POPFETCH_PASSWORD=pw HOME=$BATS_TEST_TMPDIR/home
}

vg() {
	valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite "$TOP/popfetch" "$@"
}

@test "valgrind: fetch into a maildir and an mbox" {
	run vg --ca-file "$DOVECOT_CA" "pop3s://alice@localhost:$DOVECOT_POP3S" --maildir "$BATS_TEST_TMPDIR/Mail"
	[ "$status" -eq 0 ]
	run vg --ca-file "$DOVECOT_CA" "pop3s://alice@localhost:$DOVECOT_POP3S" --mbox "$BATS_TEST_TMPDIR/mbox" --all
	[ "$status" -eq 0 ]
}

@test "valgrind: commands over STARTTLS" {
	run vg --ca-file "$DOVECOT_CA" --host localhost -p "$DOVECOT_POP3" -u alice uidl
	[ "$status" -eq 0 ]
	run vg --ca-file "$DOVECOT_CA" --host localhost -p "$DOVECOT_POP3" -u alice retr 2
	[ "$status" -eq 0 ]
}

@test "valgrind: failure paths (untrusted certificate, wrong password)" {
	run vg --host localhost -p "$DOVECOT_POP3S" --tls implicit -u alice stat
	[ "$status" -eq 77 ]
	POPFETCH_PASSWORD=wrong run vg --ca-file "$DOVECOT_CA" --host localhost -p "$DOVECOT_POP3S" --tls implicit -u alice --maildir "$BATS_TEST_TMPDIR/M"
	[ "$status" -eq 77 ]
}
