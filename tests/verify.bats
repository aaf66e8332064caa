#!/usr/bin/env bats
# Verified backups (#19): the state records what was stored of each
# delivery; verify compares the server, the state and the store;
# --refetch-missing restores what is gone; --verified-delete never
# deletes on the server what the store has lost.  Against the test
# Dovecot; every test asserts the exit status, the output and the bytes
# on disk or what the server kept.

bats_require_minimum_version 1.5.0

USERS="ok md mj mb off ref refb vd old v2 q"

setup_file() {
	load lib/common
	suite_start
	for u in $USERS; do dovecot_user_add "$u" pw; done
}

teardown_file() {
	load lib/common
	suite_stop
}

setup() {
	load lib/common
	export POPFETCH_PASSWORD=pw
	export HOME=$BATS_TEST_TMPDIR/home XDG_STATE_HOME=
	mkdir -p "$HOME"
	W=$BATS_TEST_TMPDIR
	chmod 755 "$W"
}

# pf USER ARGS: popfetch for USER over implicit TLS.
pf() {
	local u=$1; shift
	"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 \
		"pop3s://$u@localhost:$DOVECOT_POP3S" "$@"
}

# backup USER N: N messages on the server, fetched into $W/Mail (kept
# on the server).
backup() {
	mkdir -p "$W/corpus.$1"
	make_corpus "$W/corpus.$1" "$2" 400
	dovecot_seed "$1" "$W/corpus.$1"/*.eml
	run pf "$1" --maildir "$W/Mail" -q
	[ "$status" -eq 0 ]
}

# file_of DIR I: the maildir file holding message I of the corpus.
file_of() {
	grep -l "^Subject: message $2\$" "$1"/new/* "$1"/cur/* 2>/dev/null ||
		true
}

# server_drop USER I: removes message I from USER's mailbox on the server.
server_drop() {
	rm "$(grep -l "^Subject: message $2\$" \
		"$DOVECOT_DIR/mail/$1"/new/* "$DOVECOT_DIR/mail/$1"/cur/*)"
}

# uid_of USER I: the UID the state records for message I (by where).
uid_of() {
	local base
	base=$(basename "$(file_of "$W/Mail" "$2")")
	base=${base%%:*}
	pf "$1" verify --maildir "$W/Mail" --offline --json |
		jq -r --arg w "$base" 'select(.where == $w) | .uid'
}

# damage_maildir USER: deletes message 1, changes a byte of message 2,
# moves message 3 to cur/ with flags, drops message 4 on the server.
damage_maildir() {
	U1=$(uid_of "$1" 1) U2=$(uid_of "$1" 2) U3=$(uid_of "$1" 3)
	U4=$(uid_of "$1" 4)
	[ -n "$U1" ] && [ -n "$U2" ] && [ -n "$U3" ] && [ -n "$U4" ]
	rm "$(file_of "$W/Mail" 1)"
	sed -i 's/^message 2 line 1 /message 2 line 1!/' "$(file_of "$W/Mail" 2)"
	f=$(file_of "$W/Mail" 3)
	mv "$f" "$W/Mail/cur/$(basename "$f"):2,RS"
	server_drop "$1" 4
}

@test "an intact backup verifies: exit 0, and the state holds each file's sha256sum" {
	backup ok 3
	run pf ok verify --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "verify: 3 on the server: 3 intact, 0 missing, 0 changed, 0 not yet delivered, 0 unrecorded; 0 kept only locally" ]
	[ "${#lines[@]}" -eq 1 ]
	for f in "$W"/Mail/new/*; do
		sum=$(sha256sum < "$f" | cut -d' ' -f1)
		pf ok verify --maildir "$W/Mail" --json |
			jq -e --arg s "$sum" --arg w "$(basename "$f")" \
			'select(.where == $w) | .sha256 == $s and .status == "intact"' |
			grep -qx true
	done
}

@test "maildir: a deleted file, a changed byte, a move to cur/, a message gone from the server: exactly those, exit 65" {
	backup md 6
	damage_maildir md
	run pf md verify --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 65 ]
	[ "${lines[0]}" = "verify: 5 on the server: 3 intact, 1 missing, 1 changed, 0 not yet delivered, 0 unrecorded; 1 kept only locally" ]
	[[ "${lines[1]}" == "missing: UID $U1, delivered "*", file "* ]]
	[[ "${lines[2]}" == "changed: UID $U2, delivered "*", file "* ]]
	[[ "${lines[3]}" == *"2 delivered messages are missing or changed in $W/Mail; popfetch fetch --refetch-missing fetches them again"* ]]
	[ "${#lines[@]}" -eq 4 ]
	# A message not yet fetched is told apart from one lost.
	printf 'Subject: late\n\nlate\n' > "$W/late.eml"
	dovecot_seed md "$W/late.eml"
	run pf md verify --maildir "$W/Mail"
	[ "$status" -eq 65 ]
	[[ "${lines[0]}" == "verify: 6 on the server: 3 intact, 1 missing, 1 changed, 1 not yet delivered, 0 unrecorded; 1 kept only locally" ]]
}

@test "maildir, --json: one record per UID with its status, exit 65" {
	backup mj 6
	damage_maildir mj
	run --separate-stderr pf mj verify --maildir "$W/Mail" --json
	echo "$output"
	[ "$status" -eq 65 ]
	[ "$(jq -s 'length' <<< "$output")" -eq 7 ]	# 6 UIDs, 1 error
	[ "$(jq -r --arg u "$U1" 'select(.uid == $u) | .status' <<< "$output")" = missing ]
	[ "$(jq -r --arg u "$U2" 'select(.uid == $u) | .status' <<< "$output")" = changed ]
	[ "$(jq -r --arg u "$U3" 'select(.uid == $u) | .status' <<< "$output")" = intact ]
	[ "$(jq -r --arg u "$U4" 'select(.uid == $u) | "\(.status) \(.on_server)"' <<< "$output")" = "local-only false" ]
	[ "$(jq -s '[.[] | select(.status == "intact")] | length' <<< "$output")" -eq 3 ]
	[ "$(jq -r 'select(.event == "error") | .status' <<< "$output")" -eq 65 ]
}

@test "mbox: a removed message, a changed byte, mutt's Status: headers: exactly those, exit 65" {
	mkdir -p "$W/corpus"
	make_corpus "$W/corpus" 5 400
	dovecot_seed mb "$W/corpus"/*.eml
	run pf mb --mbox "$W/mail.mbox" -q
	[ "$status" -eq 0 ]
	run pf mb verify --mbox "$W/mail.mbox"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "verify: 5 on the server: 5 intact, 0 missing, 0 changed, 0 not yet delivered, 0 unrecorded; 0 kept only locally" ]
	# What mutt does on closing: Status: and X-Status: into the header
	# of a message read, the mbox rewritten (offsets move); and what a
	# careless restore does: a message gone, a byte changed.
	python3 - "$W/mail.mbox" <<'PY'
import re, sys
p = sys.argv[1]
msgs = re.split(r'(?m)^(?=From )', open(p).read())
msgs = [m for m in msgs if m]
out = []
for m in msgs:
    if "Subject: message 1\n" in m:
        continue
    if "Subject: message 2\n" in m:
        m = m.replace("message 2 line 3 ", "message 2 line 3!", 1)
    if "Subject: message 4\n" in m:
        m = m.replace("\n\n", "\nStatus: RO\nX-Status: A\n\n", 1)
    out.append(m)
open(p, "w").write("".join(out))
PY
	grep -q '^X-Status: A$' "$W/mail.mbox"
	run pf mb verify --mbox "$W/mail.mbox"
	echo "$output"
	[ "$status" -eq 65 ]
	[ "${lines[0]}" = "verify: 5 on the server: 3 intact, 1 missing, 1 changed, 0 not yet delivered, 0 unrecorded; 0 kept only locally" ]
	[[ "${lines[1]}" == "missing: UID "*", at offset 0" ]]
	[[ "${lines[2]}" == "changed: UID "*", at offset "* ]]
	run --separate-stderr pf mb verify --mbox "$W/mail.mbox" --json
	[ "$status" -eq 65 ]
	[ "$(jq -r 'select(.message_id == "<1@corpus>") | .status' <<< "$output")" = missing ]
	[ "$(jq -r 'select(.message_id == "<2@corpus>") | .status' <<< "$output")" = changed ]
	[ "$(jq -r 'select(.message_id == "<4@corpus>") | .status' <<< "$output")" = intact ]
	[ "$(jq -s '[.[] | select(.status == "intact")] | length' <<< "$output")" -eq 3 ]
}

@test "verify --offline: the store against the state, no connection" {
	backup off 6
	damage_maildir off
	run --separate-stderr pf off -d 1 verify --maildir "$W/Mail" --offline
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 65 ]
	[ "${lines[0]}" = "verify (offline): 6 delivered: 4 intact, 1 missing, 1 changed, 0 unrecorded" ]
	[[ "${lines[1]}" == "missing: UID $U1, delivered "*", file "* ]]
	[[ "${lines[2]}" == "changed: UID $U2, delivered "*", file "* ]]
	[[ "$output" != *"no longer on the server"* ]]
	# No trace: nothing was sent, no server was asked.
	! grep -q 'UIDL\|USER\|CAPA' <<< "$stderr"
}

@test "--refetch-missing restores the deleted and the changed message and nothing else" {
	backup ref 6
	damage_maildir ref
	before=$(find "$W/Mail" -type f | wc -l)
	run pf ref --maildir "$W/Mail" --refetch-missing
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(find "$W/Mail" -type f | wc -l)" -eq $((before + 2)) ]
	[ "$(grep -l '^Subject: message 1$' "$W"/Mail/new/* "$W"/Mail/cur/* | wc -l)" -eq 1 ]
	# The changed copy is the user's: kept, a good one beside it.
	[ "$(grep -l '^Subject: message 2$' "$W"/Mail/new/* "$W"/Mail/cur/* | wc -l)" -eq 2 ]
	cat "$W"/Mail/new/* "$W"/Mail/cur/* | grep -q 'message 2 line 1!'
	for i in 3 5 6; do
		[ "$(grep -l "^Subject: message $i\$" "$W"/Mail/new/* "$W"/Mail/cur/* | wc -l)" -eq 1 ]
	done
	run pf ref verify --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "verify: 5 on the server: 5 intact, 0 missing, 0 changed, 0 not yet delivered, 0 unrecorded; 1 kept only locally" ]
	# Never the default: a plain fetch fetches nothing again.
	rm "$(file_of "$W/Mail" 5)"
	run pf ref --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ -z "$(file_of "$W/Mail" 5)" ]
}

@test "--refetch-missing on an mbox: only the message gone from it" {
	mkdir -p "$W/corpus"
	make_corpus "$W/corpus" 3 400
	dovecot_seed refb "$W/corpus"/*.eml
	run pf refb --mbox "$W/mail.mbox" -q
	[ "$status" -eq 0 ]
	python3 - "$W/mail.mbox" <<'PY'
import re, sys
p = sys.argv[1]
msgs = [m for m in re.split(r'(?m)^(?=From )', open(p).read()) if m]
open(p, "w").write("".join(m for m in msgs if "Subject: message 2\n" not in m))
PY
	run pf refb --mbox "$W/mail.mbox" --refetch-missing
	[ "$status" -eq 0 ]
	[ "$(grep -c '^From ' "$W/mail.mbox")" -eq 3 ]
	[ "$(grep -c '^Subject: message 2$' "$W/mail.mbox")" -eq 1 ]
	run pf refb verify --mbox "$W/mail.mbox"
	[ "$status" -eq 0 ]
}

@test "--verified-delete: no DELE for the message whose copy is missing; it stays on the server" {
	backup vd 4
	U1=$(uid_of vd 1)
	rm "$(file_of "$W/Mail" 1)"
	num=$(pf vd uidl | awk -v u="$U1" '$2 == u { print $1 }')
	[ -n "$num" ]
	run --separate-stderr pf vd --maildir "$W/Mail" --delete --verified-delete -d 1
	echo "$output"
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"message $num (UID $U1) stays on the server: its stored copy is missing"* ]]
	# The transcript: DELE for the three others, none for it.
	[ "$(grep -c '^DELE [0-9]* -> +OK' <<< "$stderr")" -eq 3 ]
	! grep -q "^DELE $num " <<< "$stderr"
	[ "$(dovecot_count vd)" -eq 1 ]
	grep -q '^Subject: message 1$' "$DOVECOT_DIR"/mail/vd/new/* "$DOVECOT_DIR"/mail/vd/cur/*
	# Without it, --delete deletes what the state calls delivered.
	run --separate-stderr pf vd --maildir "$W/Mail" --delete -d 1
	[ "$status" -eq 0 ]
	grep -q "^DELE $num -> +OK" <<< "$stderr"
	[ "$(dovecot_count vd)" -eq 0 ]
}

@test "verify needs a maildir or an mbox: exit 64 with what to give" {
	run pf old verify
	[ "$status" -eq 64 ]
	[[ "$output" == *"verify needs the store to check: --maildir DIR or --mbox FILE"* ]]
	run pf old verify --mda cat
	[ "$status" -eq 64 ]
}

@test "a version 2 state from before digests still loads: unrecorded, not damage, and never deleted unverified" {
	backup v2 2
	state=$(echo "$HOME"/.local/state/popfetch/v2@*:*[0-9])
	[ ! -s "$state.journal" ]
	grep -qE '^U [0-9]+ [0-9]+ [^ ]+ [0-9]+ [0-9a-f]{64} ' "$state"
	python3 "$TOP/tests/lib/state_edit.py" strip-stored "$state"
	! grep -qE '^U [0-9]+ [0-9]+ [^ ]+ [0-9]+ ' "$state"
	run pf v2 state check
	[ "$status" -eq 0 ]
	run pf v2 verify --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "verify: 2 on the server: 0 intact, 0 missing, 0 changed, 0 not yet delivered, 2 unrecorded; 0 kept only locally" ]
	printf 'Subject: new\nMessage-ID: <new@x>\n\nnew\n' > "$W/new.eml"
	dovecot_seed v2 "$W/new.eml"
	run pf v2 --maildir "$W/Mail" --delete --verified-delete
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"stays on the server: its stored copy is not recorded, so it cannot be verified"* ]]
	[ "$(dovecot_count v2)" -eq 2 ]
	run pf v2 verify --maildir "$W/Mail" --offline --json
	[ "$(jq -r 'select(.message_id == "<new@x>") | .status' <<< "$output")" = intact ]
	[ "$(jq -s '[.[] | select(.status == "unrecorded")] | length' <<< "$output")" -eq 2 ]
}

@test "verify with the server: one UIDL listing, nothing fetched, nothing deleted" {
	backup old 3
	rm "$(file_of "$W/Mail" 2)"
	run --separate-stderr pf old -d 1 verify --maildir "$W/Mail"
	echo "$stderr"
	[ "$status" -eq 65 ]
	[ "$(grep -c '^UIDL -> +OK' <<< "$stderr")" -eq 1 ]
	! grep -qE '^(LIST|RETR|TOP|DELE|STAT)' <<< "$stderr"
	[ "$(dovecot_count old)" -eq 3 ]
	[ -z "$(file_of "$W/Mail" 2)" ]
}

@test "mbox: quoted From lines and a Status: the server had verify intact; a changed quote does not" {
	printf 'Subject: q\nStatus: O\nMessage-ID: <q@x>\n\nFrom the start\n>From once\n>>From twice\n> plain\n' > "$W/q.eml"
	dovecot_seed q "$W/q.eml"
	run pf q --mbox "$W/mail.mbox" -q
	[ "$status" -eq 0 ]
	grep -qx '>From the start' "$W/mail.mbox"
	grep -qx '>>>From twice' "$W/mail.mbox"
	run pf q verify --mbox "$W/mail.mbox" --offline
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "verify (offline): 1 delivered: 1 intact, 0 missing, 0 changed, 0 unrecorded" ]
	sed -i 's/^>>>From twice$/>>From twice/' "$W/mail.mbox"
	run pf q verify --mbox "$W/mail.mbox" --offline
	[ "$status" -eq 65 ]
	[[ "${lines[1]}" == "changed: UID "* ]]
}
