#!/usr/bin/env bats
# Many accounts: --all-accounts, -j, prefixed output, combined status,
# against two Dovecot users at once.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/common
	suite_start
	dovecot_user_add ann secret-a
	dovecot_user_add ben secret-b
}

teardown_file() {
	load lib/common
	suite_stop
}

setup() {
	load lib/common
	config_home
	W=$BATS_TEST_TMPDIR/corpus
	mkdir -p "$W/a" "$W/b"
	make_corpus "$W/a" 40 3000
	make_corpus "$W/b" 25 9000
	# Different corpora: the message numbers in the names collide, so
	# the second set gets another Subject.
	sed -i 's/^Subject: message/Subject: ben message/' "$W"/b/*.eml
	# Every test starts with empty mailboxes.
	find "$DOVECOT_DIR/mail/ann" "$DOVECOT_DIR/mail/ben" -type f \
		-path '*/new/*' -delete -o -type f -path '*/cur/*' -delete
}

# write_conf [EXTRA-FOR-BEN]
write_conf() {
	cat > "$CONF" <<EOF
defaults
    host localhost
    port $DOVECOT_POP3S
    tls implicit
    ca-file $DOVECOT_CA
    timeout 20
    keep
    new

account ann
    user ann
    password secret-a
    maildir $BATS_TEST_TMPDIR/ann

account ben
    user ben
    password ${1:-secret-b}
    mbox $BATS_TEST_TMPDIR/ben.mbox
EOF
	chmod 600 "$CONF"
}

mbox_count() {
	grep -c '^From ' "$1"
}

@test "--all-accounts -j 2 fetches both mailboxes completely, output prefixed" {
	dovecot_seed ann "$W"/a/*.eml
	dovecot_seed ben "$W"/b/*.eml
	write_conf
	run --separate-stderr "$POPFETCH" --all-accounts -j 2 fetch
	[ "$status" -eq 0 ]
	same_messages "$BATS_TEST_TMPDIR/ann/new" "$W"/a/*.eml
	[ "$(mbox_count "$BATS_TEST_TMPDIR/ben.mbox")" -eq 25 ]
	[ "$(grep -c '^Subject: ben message' "$BATS_TEST_TMPDIR/ben.mbox")" -eq 25 ]
	grep -qx "ann: 40 new messages, .*" <<<"$output"
	grep -qx "ben: 25 new messages, .*" <<<"$output"
	[ "$(grep -c . <<<"$output")" -eq 2 ]
	# Each account kept its own state: a second run fetches nothing.
	run --separate-stderr "$POPFETCH" --all-accounts -j 2 fetch
	[ "$status" -eq 0 ]
	grep -qx "ann: no new messages (40 on the server, all fetched before; .*)" <<<"$output"
	grep -qx "ben: no new messages (25 on the server, all fetched before; .*)" <<<"$output"
	[ "$(grep -c . <<<"$output")" -eq 2 ]
}

@test "one failing account does not stop the other; the status says so" {
	dovecot_seed ann "$W"/a/0000[1-5].eml
	write_conf wrong-password
	run --separate-stderr "$POPFETCH" --all-accounts -j 2 fetch
	[ "$status" -eq 77 ]
	[ "$(ls "$BATS_TEST_TMPDIR/ann/new" | wc -l)" -eq 5 ]
	[[ "$stderr" == *"ben: popfetch: localhost: AUTH PLAIN ****: -ERR"* ]]
	[[ "$stderr" == *"popfetch: accounts that failed: ben (77); 1 of 2 failed"* ]]
	[ ! -s "$BATS_TEST_TMPDIR/ben.mbox" ]
}

@test "one at a time by default, in file order, with the same result" {
	dovecot_seed ann "$W"/a/0000[1-3].eml
	dovecot_seed ben "$W"/b/0000[1-2].eml
	write_conf
	run --separate-stderr "$POPFETCH" --all-accounts
	[ "$status" -eq 0 ]
	[ "${lines[0]%%:*}" = ann ]
	[ "${lines[1]%%:*}" = ben ]
	[ "$(ls "$BATS_TEST_TMPDIR/ann/new" | wc -l)" -eq 3 ]
	[ "$(mbox_count "$BATS_TEST_TMPDIR/ben.mbox")" -eq 2 ]
}

@test "--all-accounts with --json wraps each account's result" {
	dovecot_seed ann "$W"/a/00001.eml
	write_conf
	run --separate-stderr "$POPFETCH" --all-accounts -j 2 --json stat
	[ "$status" -eq 0 ]
	python3 - "$output" <<'PY'
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
got = {r["account"]: r["result"] for r in rows}
assert set(got) == {"ann", "ben"}, got
assert got["ann"]["count"] == 1 and got["ben"]["count"] == 0, got
PY
}

@test "--all-accounts --json fetch: each account's result whole, however long" {
	dovecot_seed ann "$W"/a/*.eml
	dovecot_seed ben "$W"/b/*.eml
	write_conf
	run --separate-stderr "$POPFETCH" --all-accounts -j 2 --json fetch --delete
	[ "$status" -eq 0 ]
	# JSON Lines: one record per event and a summary, each wrapped.
	[ "$(grep -c . <<<"$output")" -eq $((80 + 1 + 50 + 1)) ]
	python3 - "$output" <<'PY'
import json, sys
recs = [json.loads(l) for l in sys.argv[1].splitlines()]
got = {}
for r in recs:
    got.setdefault(r["account"], []).append(r["result"])
s = {a: [x for x in v if x["event"] == "summary"] for a, v in got.items()}
assert len(s["ann"]) == 1 and len(s["ben"]) == 1, s
assert s["ann"][0]["fetched"] == 40 and s["ann"][0]["deleted"] == 40, s
assert s["ben"][0]["fetched"] == 25 and len(got["ben"]) == 51, s
PY
}

@test "-a picks one account from the file" {
	dovecot_seed ben "$W"/b/0000[1-4].eml
	write_conf
	run --separate-stderr "$POPFETCH" -a ben stat
	[ "$status" -eq 0 ]
	[ "$(cut -d' ' -f1 <<<"$output")" -eq 4 ]
}

@test "--all-accounts without any account is a configuration error (78)" {
	printf 'defaults\n    timeout 5\n' > "$CONF"
	run "$POPFETCH" --all-accounts fetch
	[ "$status" -eq 78 ]
	[[ "$output" == *"no accounts configured"* ]]
}
