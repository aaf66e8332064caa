#!/usr/bin/env bats
# state import: the UID files mpop, fetchmail and getmail6 really write.
# Each program fetches from the test Dovecot (with keep), popfetch
# imports its file, and the next fetch --new downloads nothing.  The
# programs come from Debian (see README); this file installs nothing.

bats_require_minimum_version 1.5.0

USERS="mp fm gm bad"

setup_file() {
	load lib/common
	suite_start
	for u in $USERS; do dovecot_user_add "$u" pw; done
}

teardown_file() {
	load lib/common
	suite_stop
}

teardown() {
	if [ -n "${G:-}" ]; then rm -rf "$G"; fi
}

setup() {
	load lib/common
	export POPFETCH_PASSWORD=pw
	export HOME=$BATS_TEST_TMPDIR/home XDG_STATE_HOME=
	mkdir -p "$HOME"
	W=$BATS_TEST_TMPDIR
}

# pf USER ARGS: popfetch for USER at 127.0.0.1, the host name the other
# programs were given (their files record it).
pf() {
	local u=$1; shift
	"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 "pop3s://$u@127.0.0.1:$DOVECOT_POP3S" "$@"
}

seeded() {
	local i
	for i in $(seq "$2" "$3"); do
		printf 'Subject: %s %d\n\nbody %d\n' "$1" "$i" "$i" > "$W/$1-$i.eml"
		dovecot_seed "$1" "$W/$1-$i.eml"
	done
}

count_new() {
	find "$W/Mail/new" -type f 2>/dev/null | wc -l
}

# After the import: nothing is fetched again; a message that came later
# is.
nothing_twice() {
	run pf "$1" --maildir "$W/Mail"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == "no new messages (3 on the server, all fetched before"* ]]
	[ "$(count_new)" -eq 0 ]
	seeded "$1" 4 4
	run pf "$1" --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ "$(count_new)" -eq 1 ]
	grep -q "^Subject: $1 4$" "$W"/Mail/new/*
}

@test "import --from mpop: ~/.mpop_uidls/USER_at_HOST, then fetch --new downloads nothing" {
	command -v mpop || skip "mpop is not installed"
	seeded mp 1 3
	mkdir -p "$W/mpop/new" "$W/mpop/cur" "$W/mpop/tmp"
	cat > "$HOME/.mpoprc" <<RC
account default
host 127.0.0.1
port $DOVECOT_POP3S
tls on
tls_starttls off
tls_trust_file $DOVECOT_CA
user mp
password pw
delivery maildir $W/mpop
keep on
uidls_file ~/.mpop_uidls/%U_at_%H
RC
	chmod 600 "$HOME/.mpoprc"
	run mpop -q
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(find "$W/mpop/new" -type f | wc -l)" -eq 3 ]
	f=$HOME/.mpop_uidls/mp_at_127.0.0.1
	[ -s "$f" ]
	run pf mp state import --from mpop "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "3 UIDs read from $f, 3 of them new to the state" ]
	nothing_twice mp
}

@test "import --from fetchmail: .fetchids, then fetch --new downloads nothing" {
	command -v fetchmail || skip "fetchmail is not installed"
	seeded fm 1 3
	cat > "$HOME/.fetchmailrc" <<RC
poll 127.0.0.1 service $DOVECOT_POP3S protocol pop3 uidl auth password
  user "fm" password "pw" is $(id -un) here keep ssl no sslcertck mda "cat >/dev/null"
RC
	chmod 600 "$HOME/.fetchmailrc"
	run fetchmail -f "$HOME/.fetchmailrc" -i "$HOME/.fetchids"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(wc -l < "$HOME/.fetchids")" -eq 3 ]
	run pf fm state import --from fetchmail "$HOME/.fetchids"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "3 UIDs read from $HOME/.fetchids, 3 of them new to the state" ]
	nothing_twice fm
}

@test "import --from getmail: oldmail-HOST-PORT-USER, then fetch --new downloads nothing" {
	command -v getmail || skip "getmail6 is not installed"
	seeded gm 1 3
	# getmail delivers as nobody when run as root: a directory that
	# user can reach.
	G=$(test_dir)
	mkdir -p "$W/gm" "$G/gmail/new" "$G/gmail/cur" "$G/gmail/tmp"
	chmod -R 777 "$G/gmail"
	cat > "$W/gm/getmailrc" <<RC
[retriever]
type = SimplePOP3SSLRetriever
server = 127.0.0.1
port = $DOVECOT_POP3S
username = gm
password = pw
[destination]
type = Maildir
path = $G/gmail/
$( [ "$(id -u)" = 0 ] && echo "user = nobody")
[options]
read_all = false
delete = false
RC
	run getmail --getmaildir="$W/gm" --rcfile=getmailrc
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(find "$G/gmail/new" -type f | wc -l)" -eq 3 ]
	f=$W/gm/oldmail-127.0.0.1-$DOVECOT_POP3S-gm
	[ -s "$f" ]
	run pf gm state import --from getmail "$f"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "3 UIDs read from $f, 3 of them new to the state" ]
	nothing_twice gm
}

@test "import: a file of another account or not of that program is refused (78), nothing recorded" {
	printf '# mpop\n 2 127.0.0.1 someoneelse\na1\na2\n' > "$W/uidls"
	run pf bad state import --from mpop "$W/uidls"
	echo "$output"
	[ "$status" -eq 78 ]
	[[ "$output" == *"$W/uidls: no UIDs of bad@127.0.0.1 in it"* ]]
	printf '# mpop\n 3 127.0.0.1 bad\na1\na2\n' > "$W/uidls"
	run pf bad state import --from mpop "$W/uidls"
	[ "$status" -eq 78 ]
	[[ "$output" == *"$W/uidls: cut short: 1 UIDs missing"* ]]
	printf 'bad@127.0.0.1 a1\nthis is not it\n' > "$W/fetchids"
	run pf bad state import --from fetchmail "$W/fetchids"
	[ "$status" -eq 78 ]
	[[ "$output" == *"$W/fetchids: line 2: not a UID file of fetchmail"* ]]
	printf 'a1 1700000000\n' > "$W/oldmail"
	run pf bad state import --from getmail "$W/oldmail"
	[ "$status" -eq 78 ]
	[[ "$output" == *"line 1: not a UID file of getmail"* ]]
	run pf bad state show
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}
