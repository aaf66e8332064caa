#!/usr/bin/env bats
# What popfetch says: messages that say what to do next, summaries that
# say what happened, and --json for scripts (issue 14).  Against a real
# Dovecot; each test asserts the exit status, the exact message and what
# is on disk.

bats_require_minimum_version 1.5.0

USERS="sum sq js jd jw jerr pwf jall ca sl cc pa pb al"
INF_PW=Inf-Secret-4711

setup_file() {
	load lib/common
	suite_start
	for u in $USERS; do dovecot_user_add "$u" pw; done
	# inf's tests check that the password appears nowhere in what is
	# printed: a two-letter "pw" also turns up in random bytes (a
	# temporary path, a greeting's challenge), so inf's is distinctive.
	dovecot_user_add inf "$INF_PW"
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
	CORPUS=("$TOP"/tests/corpus/*.eml)
}

# pf USER ARGS: popfetch for USER over implicit TLS.
pf() {
	local u=$1; shift
	"$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 "pop3s://$u@localhost:$DOVECOT_POP3S" "$@"
}

@test "no arguments: the usage summary on stderr, 64" {
	run --separate-stderr "$POPFETCH"
	[ "$status" -eq 64 ]
	[ -z "$output" ]
	[[ "${stderr_lines[0]}" == "usage: popfetch [options] [pop3s://user@host[:port]] [command [args]]" ]]
	[[ "$stderr" == *"commands: fetch (the default)"* ]]
}

@test "a server without its scheme: 64 and the URL it probably meant" {
	run --separate-stderr "$POPFETCH" alice@host:995 stat
	[ "$status" -eq 64 ]
	[ "${stderr_lines[0]}" = 'popfetch: "alice@host:995" is not a command; a server is written as a URL: did you mean pop3s://alice@host:995?' ]
	[ "${stderr_lines[1]}" = "usage: popfetch [options] [pop3s://user@host[:port]] [command [args]]" ]
	run --separate-stderr "$POPFETCH" alice@host:110
	[ "$status" -eq 64 ]
	[[ "${stderr_lines[0]}" == *"did you mean pop3://alice@host:110?" ]]
}

@test "-j without --all-accounts is refused (64)" {
	run --separate-stderr "$POPFETCH" -j 2 pop3s://a@localhost stat
	[ "$status" -eq 64 ]
	[ "$stderr" = "popfetch: -j N runs accounts in parallel: it needs --all-accounts" ]
}

@test "an empty password file is refused (78), nothing sent" {
	unset POPFETCH_PASSWORD
	: > "$W/pw"
	chmod 600 "$W/pw"
	run --separate-stderr pf pwf --password-file "$W/pw" stat
	[ "$status" -eq 78 ]
	[ "$stderr" = "popfetch: localhost: $W/pw: the password file is empty (its first line is the password)" ]
	# An empty first line is an empty password too; no login is tried.
	printf '\nsecond\n' > "$W/pw"
	run --separate-stderr pf pwf -d 1 --password-file "$W/pw" stat
	[ "$status" -eq 78 ]
	[[ "$stderr" == *"CAPA -> +OK"* ]]
	! grep -qE '^(USER|PASS|AUTH)' <<<"$stderr"
}

@test "summaries: what was seen, what --all does, a new maildir" {
	dovecot_seed sum "${CORPUS[@]}"
	run --separate-stderr pf sum --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[[ "$output" == "5 new messages, "*", delivered to $W/Mail" ]]
	st="$HOME/.local/state/popfetch/sum@localhost:$DOVECOT_POP3S"
	run --separate-stderr pf sum --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ "$output" = "no new messages (5 on the server, all fetched before; the state is $st; --all fetches them again)" ]
	# A second maildir for the same account: nothing new, and it says why.
	run --separate-stderr pf sum --maildir "$W/Mail/home"
	[ "$status" -eq 0 ]
	[ "$output" = "no new messages (5 on the server, all fetched before; the state is $st, and the messages fetched before went to another target; --all fetches them again)" ]
	[ "$(find "$W/Mail/home" -type f 2>/dev/null | wc -l)" -eq 0 ]
	# --all calls them fetched, not new.
	run --separate-stderr pf sum --all --mbox "$W/all.mbox"
	[ "$status" -eq 0 ]
	[[ "$output" == "5 messages fetched, "*", delivered to $W/all.mbox" ]]
	[ "$(grep -c '^From ' "$W/all.mbox")" -eq 5 ]
	run --separate-stderr pf sum --delete --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ "$output" = "no new messages (5 on the server, all fetched before; the state is $st; --all fetches them again)"$'\n'"5 messages deleted from the server" ]
	run --separate-stderr pf sum --maildir "$W/Mail"
	[ "$output" = "no new messages (none on the server)" ]
}

@test "-q is quiet about --max-size skips; the text gives exact bytes" {
	dovecot_seed sq "${CORPUS[@]}"
	big=$(pf sq list | sort -k2 -n | tail -1)
	num=${big%% *} size=${big##* }
	run --separate-stderr pf sq -q --max-size 2000 --maildir "$W/Mail" --state "$W/s1"
	[ "$status" -eq 0 ]
	[ -z "$output" ] && [ -z "$stderr" ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 4 ]
	run --separate-stderr pf sq --max-size 2000 --maildir "$W/Mail2" --state "$W/s2"
	[ "$status" -eq 0 ]
	[ "$stderr" = "popfetch: localhost: message $num skipped: $size bytes, over --max-size 2000" ]
	[[ "$output" == "4 new messages, "*", delivered to $W/Mail2; 1 skipped, over --max-size" ]]
	# Counted in --json too, and silent there on stderr.
	run --separate-stderr pf sq --json --max-size 2000 --maildir "$W/Mail3" --state "$W/s3"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	python3 - "$output" "$num" <<'PY'
import json, sys
recs = [json.loads(l) for l in sys.argv[1].splitlines()]
assert [r for r in recs if r["event"] == "skipped"][0]["msg"] == int(sys.argv[2])
assert recs[-1]["event"] == "summary" and recs[-1]["skipped"] == 1, recs[-1]
PY
}

@test "--json fetch: JSON Lines; a dry run's JSON and text agree" {
	dovecot_seed js "${CORPUS[@]}"
	run --separate-stderr pf js --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	run --separate-stderr pf js --dry-run --delete --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 6 ]
	[[ "${lines[0]}" == "would delete message 1 ("*")" ]]
	[ "${lines[5]}" = "dry run: 0 messages would be fetched, 5 deleted" ]
	run --separate-stderr pf js --json --dry-run --delete --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	python3 - "$output" "$W/Mail" <<'PY'
import json, sys
recs = [json.loads(l) for l in sys.argv[1].splitlines()]
assert [r["event"] for r in recs[:-1]] == ["would-delete"] * 5, recs
s = recs[-1]
assert s["event"] == "summary" and s["dry_run"] is True, s
assert s["would_fetch"] == 0 and s["would_delete"] == 5, s
assert s["total"] == 5 and s["known"] == 5, s
assert s["target"] == sys.argv[2], s
PY
	[ "$(dovecot_count js)" -eq 5 ]
}

@test "--json fetch: a dry run's JSON and text agree, message by message and in the totals" {
	dovecot_seed jd "${CORPUS[@]}"
	run --separate-stderr pf jd --limit 2 --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	run --separate-stderr pf jd --dry-run --delete --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	text=$output
	echo "$output"
	[ "${lines[-1]}" = "dry run: 3 messages would be fetched, 5 deleted" ]
	run --separate-stderr pf jd --json --dry-run --delete --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	python3 - "$text" "$output" <<'PY'
import json, re, sys
text, recs = sys.argv[1].splitlines(), [json.loads(l) for l in sys.argv[2].splitlines()]
said = [re.fullmatch(r"would (fetch|delete) message (\d+) \(.*\)", l).groups() for l in text[:-1]]
assert [(r["event"], r["msg"]) for r in recs[:-1]] == [("would-" + k, int(n)) for k, n in said], (said, recs)
m = re.fullmatch(r"dry run: (\d+) messages would be fetched, (\d+) deleted", text[-1])
s = recs[-1]
assert s["event"] == "summary" and s["dry_run"] is True, s
# The text's counts are the JSON's would_ counts; nothing was done.
assert (s["would_fetch"], s["would_delete"]) == (int(m[1]), int(m[2])) == (3, 5), s
assert s["fetched"] == 0 and s["deleted"] == 0 and s["octets"] == 0, s
PY
	[ "$(dovecot_count jd)" -eq 5 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 2 ]
}

@test "--json fetch: each fetched record names its maildir file or the offset of its mbox From line" {
	dovecot_seed jw "${CORPUS[@]}"
	run --separate-stderr pf jw --json --maildir "$W/Mail" --state "$W/s1"
	[ "$status" -eq 0 ]
	python3 - "$output" "$W/Mail" "${CORPUS[@]}" <<'PY'
import json, os, sys
recs = [json.loads(l) for l in sys.argv[1].splitlines()]
maildir, corpus = os.path.realpath(sys.argv[2]), sys.argv[3:]
got = [r for r in recs if r["event"] == "fetched"]
assert [r["msg"] for r in got] == list(range(1, len(corpus) + 1)), recs
for r in got:
    want = open(corpus[r["msg"] - 1], "rb").read().replace(b"\r\n", b"\n")
    want += b"" if want.endswith(b"\n") else b"\n"
    assert r["file"].startswith("new/") and "/" not in r["file"][4:], r
    assert r["path"] == maildir + "/" + r["file"], r
    assert open(r["path"], "rb").read() == want, r
    assert "offset" not in r and "mbox" not in r, r
assert sorted(os.listdir(maildir + "/new")) == sorted(r["file"][4:] for r in got)
PY
	# An mbox that does not end in an empty line: the first From line
	# comes after the one popfetch adds, and the offset is the From
	# line's, not the old end of the file.
	old=$'From a@example.org Mon Jan  1 00:00:00 2024\nSubject: old\n\nold body\n'
	printf '%s' "$old" > "$W/in.mbox"
	run --separate-stderr pf jw --json --mbox "$W/in.mbox" --state "$W/s2"
	[ "$status" -eq 0 ]
	python3 - "$output" "$W/in.mbox" "${#old}" "${CORPUS[@]}" <<'PY'
import json, re, sys
recs = [json.loads(l) for l in sys.argv[1].splitlines()]
path, oldlen, corpus = sys.argv[2], int(sys.argv[3]), sys.argv[4:]
data = open(path, "rb").read()
got = [r for r in recs if r["event"] == "fetched"]
assert [r["msg"] for r in got] == list(range(1, len(corpus) + 1)), recs
offs = [r["offset"] for r in got]
assert offs[0] == oldlen + 1 and offs == sorted(offs), offs
for k, r in enumerate(got):
    assert r["mbox"] == path and "file" not in r and "path" not in r, r
    off = r["offset"]
    assert data[off:off + 5] == b"From " and data[off - 2:off] == b"\n\n", (r, data[off - 2:off + 5])
    end = offs[k + 1] if k + 1 < len(offs) else len(data)
    msg = data[off:end].split(b"\n", 1)[1]
    assert msg.endswith(b"\n\n"), msg[-10:]
    msg = re.sub(rb"(?m)^>(>*From )", rb"\1", msg[:-1])
    want = open(corpus[r["msg"] - 1], "rb").read().replace(b"\r\n", b"\n")
    want += b"" if want.endswith(b"\n") else b"\n"
    assert msg == want, r
PY
	# The state records the same places: the copies verify.
	run --separate-stderr pf jw verify --mbox "$W/in.mbox" --state "$W/s2"
	[ "$status" -eq 0 ]
	[[ "$output" == "verify: 5 on the server: 5 intact, "* ]]
	# An MDA keeps no place popfetch can name.
	run --separate-stderr pf jw --json --mda "cat >/dev/null" --state "$W/s3"
	[ "$status" -eq 0 ]
	python3 - "$output" <<'PY'
import json, sys
got = [r for r in map(json.loads, sys.argv[1].splitlines()) if r["event"] == "fetched"]
assert len(got) == 5 and all(set(r) == {"event", "msg", "octets", "uid"} for r in got), got
PY
}

@test "--json: a failure is a JSON record with message, class and status" {
	dovecot_seed jerr "${CORPUS[0]}"
	run --separate-stderr env POPFETCH_PASSWORD=wrong "$POPFETCH" --ca-file "$DOVECOT_CA" \
		--json "pop3s://jerr@localhost:$DOVECOT_POP3S" stat
	[ "$status" -eq 77 ]
	python3 - "$output" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
assert r["event"] == "error" and r["class"] == "auth" and r["status"] == 77, r
assert r["host"] == "localhost" and "Authentication failed" in r["message"], r
PY
	[[ "$stderr" == "popfetch: localhost: AUTH PLAIN ****: -ERR "* ]]
	# A usage error before any server is named, too.
	run --separate-stderr "$POPFETCH" --json -j 3 stat
	[ "$status" -eq 64 ]
	python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["class"]=="usage" and r["status"]==64, r' "$output"
}

@test "config-check reports every error once with FILE:LINE; accounts exits 78 too" {
	config_home
	cat > "$CONF" <<'CONF'
defaults
keepdays 3
timeout soon

account a
user alice
hots x

account b
host h
port 99999
CONF
	chmod 600 "$CONF"
	run --separate-stderr "$POPFETCH" config-check
	[ "$status" -eq 78 ]
	[ -z "$output" ]
	[ "$stderr" = "popfetch: $CONF:2: unknown keyword \"keepdays\" (did you mean keep-days?)
popfetch: $CONF:3: timeout \"soon\" is invalid (1 to 86400)
popfetch: $CONF:7: unknown keyword \"hots\" (did you mean host?)
popfetch: $CONF:5: account a: no host given (add a \"url pop3s://...\" or a \"host\" line)
popfetch: $CONF:11: port \"99999\" is too large (1 to 65535)
popfetch: $CONF: 5 errors" ]
	run --separate-stderr "$POPFETCH" --json config-check
	[ "$status" -eq 78 ]
	python3 - "$output" <<'PY'
import json, sys
recs = [json.loads(l) for l in sys.argv[1].splitlines()]
errs = [r for r in recs if r["event"] == "error"]
assert len(errs) == 5 and all(r["class"] == "config" and r["status"] == 78 for r in errs), errs
assert recs[-1] == dict(recs[-1], event="summary", accounts=2, errors=5, ok=False), recs[-1]
PY
	run --separate-stderr "$POPFETCH" accounts
	[ "$status" -eq 78 ]
	[ "$output" = $'a\nb' ]
	[ "$stderr" = "popfetch: $CONF has errors; popfetch config-check lists them all" ]
	# Fixed, both say so.
	printf 'defaults\nkeep-days 3\n\naccount a\nurl pop3s://alice@h1\n\naccount b\nhost h\nport 1995\n' > "$CONF"
	run --separate-stderr "$POPFETCH" accounts
	[ "$status" -eq 0 ]
	[ "$output" = $'a\talice@h1:995\nb\th:1995' ]
	run --separate-stderr "$POPFETCH" --json accounts
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"account":"a","user":"alice","host":"h1","port":"995"}' ]
	run --separate-stderr "$POPFETCH" config-check
	[ "$status" -eq 0 ]
	[ "$output" = "$CONF: 2 accounts, no errors" ]
}

@test "--json: every command writes JSON or refuses it (64), as --list-options says" {
	dovecot_seed jall "${CORPUS[@]}"
	run --separate-stderr "$POPFETCH" --list-options
	python3 - "$output" <<'PY'
import json, sys
cmds = {r["command"]: r["json"] for r in map(json.loads, sys.argv[1].splitlines()) if "command" in r}
assert cmds["retr"] is False and cmds["top"] is False, cmds
assert all(v for k, v in cmds.items() if k not in ("retr", "top")), cmds
PY
	for c in welcome capa certificate stat list uidl "dele 5" rset noop; do
		run --separate-stderr pf jall --json $c
		[ "$status" -eq 0 ]
		[ "${#lines[@]}" -eq 1 ]
		python3 -c 'import json,sys; json.loads(sys.argv[1])' "$output"
	done
	run --separate-stderr pf jall --json welcome
	[[ "$output" == '{"greeting":"'*'"}' ]]
	run --separate-stderr pf jall --json dele 1 2
	[ "$output" = '{"command":"dele","ok":true,"msgs":[1,2]}' ]
	[ "$(dovecot_count jall)" -eq 2 ]
	for c in "retr 3" "top 3 0"; do
		run --separate-stderr pf jall --json $c
		[ "$status" -eq 64 ]
		[ "$stderr" = "popfetch: ${c%% *} writes the message itself; --json does not apply to it" ]
	done
	run --separate-stderr pf jall --json batch <<<$'stat\nretr 3'
	[ "$status" -eq 64 ]
	[ "${lines[0]}" = '{"count":2,"octets":'"$(pf jall stat | cut -d' ' -f2)"'}' ]
	[ "$(dovecot_count jall)" -eq 2 ]
}

@test "an unknown CA: subject, issuer, fingerprint and what to do; the pin it shows works" {
	dovecot_seed ca "${CORPUS[0]}"
	url="pop3s://ca@localhost:$DOVECOT_POP3S"
	run --separate-stderr "$POPFETCH" "$url" stat
	[ "$status" -eq 77 ]
	[[ "$stderr" =~ ^"popfetch: localhost: TLS: the server certificate is signed by an unknown certificate authority (subject CN=localhost; issuer CN=popfetch test CA; "(sha256:[0-9A-F]{64})") (look at it with the certificate command; then trust its issuer with --ca-file FILE, or pin this certificate with --fingerprint and the sha256: above)"$ ]]
	pin=${BASH_REMATCH[1]}
	# The same fingerprint as the certificate command shows.
	run --separate-stderr "$POPFETCH" "$url" certificate
	[ "$status" -eq 0 ]
	grep -qix "fingerprint: $pin" <<<"$output"
	run --separate-stderr "$POPFETCH" --fingerprint "$pin" "$url" stat
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^1\ [0-9]+$ ]]
	# In the accounts file the hint names the keywords.
	config_home
	export POPFETCH_PASSWORD=pw
	printf 'account x\nurl %s\n' "$url" > "$CONF"
	run --separate-stderr "$POPFETCH" -a x stat
	[ "$status" -eq 77 ]
	[[ "$stderr" == *'trust its issuer with "ca-file" FILE, or pin this certificate with "fingerprint" and the sha256: above)' ]]
}

@test "implicit TLS against a plain-text port: 78, and the fix" {
	run --separate-stderr "$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 \
		"pop3s://ca@localhost:$DOVECOT_POP3" stat
	[ "$status" -eq 78 ]
	[ "$stderr" = "popfetch: localhost: the server sent a plain-text POP3 greeting where a TLS handshake was expected: this port does not use implicit TLS (use a pop3:// URL or --tls starttls)" ]
	# The advice works.
	run --separate-stderr "$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 \
		"pop3://ca@localhost:$DOVECOT_POP3" stat
	[ "$status" -eq 0 ]
}

@test "STARTTLS against an implicit-TLS port: a message naming the cause; on 995 it is 78" {
	SECONDS=0
	run --separate-stderr "$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 2 \
		"pop3://ca@localhost:$DOVECOT_POP3S" stat
	[ "$status" -eq 75 ]
	[ "$stderr" = "popfetch: localhost: timed out: no greeting in 2 seconds; the server at port $DOVECOT_POP3S probably expects a TLS handshake first (implicit TLS) (use a pop3s:// URL or --tls implicit)" ]
	[ "$SECONDS" -lt 10 ]
	# Port 995 itself, in a network namespace of its own so that no
	# other server's port is taken: a silent server there is a mistake
	# of configuration, which a cron job should not retry.
	command -v unshare >/dev/null || skip "unshare missing"
	run --separate-stderr unshare -n bash -c '
		python3 -c "
import fcntl, socket, struct, time
# The loopback of a new namespace is down: up, loopback, running.
fcntl.ioctl(socket.socket(), 0x8914, struct.pack(\"16sH14s\", b\"lo\", 0x49, b\"\"))
s = socket.socket(); s.bind((\"127.0.0.1\", 995)); s.listen(1)
open(\"$1/ready\", \"w\").close()
c, _ = s.accept(); time.sleep(10)" & 
		for i in $(seq 100); do [ -e "$1/ready" ] && break; sleep 0.05; done
		"$2" --timeout 2 --tls starttls --host 127.0.0.1 -p 995 -u x stat
		r=$?; kill $! 2>/dev/null; exit $r' sh "$W" "$POPFETCH"
	[ "$status" -eq 78 ]
	[ "$stderr" = "popfetch: 127.0.0.1: timed out: no greeting in 2 seconds; the server at port 995 probably expects a TLS handshake first (implicit TLS) (use a pop3s:// URL or --tls implicit)" ]
}

# with_syslog N CMD...: runs CMD in a mount namespace whose /dev/log is a
# socket of the test's; $W/syslog gets each of the first N datagrams on
# a line.
with_syslog() {
	local n=$1; shift
	mkdir -p "$W/dev"
	cat > "$W/listen.py" <<'PY'
import os, socket, sys
path, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
open(out + ".ready", "w").close()
s.settimeout(20)
with open(out, "wb") as f:
    for _ in range(n):
        f.write(s.recv(65536) + b"\n")
        f.flush()
PY
	unshare -m bash -c '
		d=$1 w=$2 n=$3; shift 3
		for f in null zero urandom random; do
			touch "$d/$f" && mount --bind "/dev/$f" "$d/$f" || exit 99
		done
		python3 "$w/listen.py" "$d/log" "$w/syslog" "$n" &
		for i in $(seq 200); do [ -e "$w/syslog.ready" ] && break; sleep 0.05; done
		mount --bind "$d" /dev || exit 99
		"$@"; r=$?
		wait
		exit $r' sh "$W/dev" "$W" "$n" "$@"
}

@test "--syslog: messages and the summary (even with -q) go to syslog (mail, popfetch), not the terminal" {
	command -v unshare >/dev/null || skip "unshare missing"
	dovecot_seed sl "${CORPUS[@]}"
	run --separate-stderr with_syslog 1 "$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 \
		"pop3s://sl@localhost:$DOVECOT_POP3S" -q --syslog --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ -z "$output" ] && [ -z "$stderr" ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 5 ]
	# <22>: facility mail (2), priority info (6).
	[[ "$(cat "$W/syslog")" =~ ^"<22>"[A-Z][a-z]{2}\ [\ 0-9]{2}\ [0-9:]{8}\ "popfetch["[0-9]+"]: localhost: 5 new messages, "[^\ ]+" KiB, delivered to $W/Mail"$ ]]
	# An error: <19> is mail and err; the exit status is the same.
	rm -f "$W/syslog" "$W/syslog.ready" "$W/dev/log"
	run --separate-stderr with_syslog 1 "$POPFETCH" --syslog --timeout 5 pop3s://sl@127.0.0.1:1 stat
	[ "$status" -eq 75 ]
	[ -z "$output" ] && [ -z "$stderr" ]
	[[ "$(cat "$W/syslog")" == "<19>"*" popfetch["*"]: 127.0.0.1: cannot connect to port 1: Connection refused" ]]
}

@test "info: connection, TLS, certificate, capabilities before and after login, state" {
	export POPFETCH_PASSWORD=$INF_PW
	dovecot_seed inf "${CORPUS[@]}"
	pf inf --maildir "$W/Mail" >/dev/null
	run --separate-stderr pf inf info
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "host: localhost" ]
	[ "${lines[1]}" = "port: $DOVECOT_POP3S" ]
	[[ "${lines[2]}" =~ ^"address: "(127.0.0.1|::1)" $DOVECOT_POP3S"$ ]]
	[ "${lines[3]}" = "tls mode: implicit" ]
	[[ "${lines[4]}" =~ ^"tls: TLS1."[23]$ ]]
	grep -qx "certificate subject: CN=localhost" <<<"$output"
	grep -qx "certificate issuer: CN=popfetch test CA" <<<"$output"
	grep -qx "certificate verified: yes" <<<"$output"
	grep -qE "^certificate fingerprint: sha256:[0-9A-F]{64}$" <<<"$output"
	grep -qx "capabilities before login: .*USER.*SASL PLAIN LOGIN.*" <<<"$output"
	grep -qx "sasl mechanisms: PLAIN LOGIN" <<<"$output"
	grep -qx -- "--auth auto would use: PLAIN" <<<"$output"
	grep -qx "password source: POPFETCH_PASSWORD" <<<"$output"
	grep -qx "state: $HOME/.local/state/popfetch/inf@localhost:$DOVECOT_POP3S (5 UIDs)" <<<"$output"
	[[ "${lines[-1]}" == "capabilities after login: "* && "${lines[-1]}" != *USER* ]]
	[[ "$output" != *"$INF_PW"* ]]
	[ "$(dovecot_count inf)" -eq 5 ]
	# Over STARTTLS, as JSON: one object.
	run --separate-stderr "$POPFETCH" --ca-file "$DOVECOT_CA" --json \
		"pop3://inf@localhost:$DOVECOT_POP3" info
	[ "$status" -eq 0 ]
	python3 - "$output" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["tls_mode"] == "starttls" and d["verified"] is True and d["login"] is True, d
assert "USER" in d["capabilities_before"] and "USER" not in d["capabilities_after"], d
assert d["state_uids"] == 0 and d["login_delay"] is None, d
PY
	# A wrong password: what was learnt before the login, then the error.
	run --separate-stderr env POPFETCH_PASSWORD=wrong "$POPFETCH" --ca-file "$DOVECOT_CA" \
		"pop3s://inf@localhost:$DOVECOT_POP3S" info
	[ "$status" -eq 77 ]
	grep -qx "certificate verified: yes" <<<"$output"
	[[ "$stderr" == "popfetch: localhost: AUTH PLAIN ****: -ERR "* ]]
}

# on_pty SIGNAL-AFTER CMD...: runs CMD on a pseudo-terminal; once the
# output holds SIGNAL-AFTER, sends SIGINT (or SIG$PTY_SIGNAL) to its
# process group, as Ctrl-C does.  Prints the output (repr) and then how
# CMD ended ("signal" if the signal killed it).  With PTY_ANSWER set to
# TEXT=REPLY, types REPLY and a newline once the output holds TEXT.
on_pty() {
	python3 - "$@" <<'PY'
import os, pty, signal, sys, time
marker, argv = sys.argv[1].encode(), sys.argv[2:]
sig = getattr(signal, "SIG" + os.environ.get("PTY_SIGNAL", "INT"))
ask, _, reply = os.environ.get("PTY_ANSWER", "").partition("=")
ask, answered = ask.encode(), not ask
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
out, sent, t0 = b"", False, time.time()
while True:
    try:
        d = os.read(fd, 65536)
    except OSError:
        break
    if not d:
        break
    out += d
    if not answered and ask in out:
        os.write(fd, reply.encode() + b"\n")
        answered = True
    if not sent and marker in out:
        os.killpg(pid, sig)
        sent = True
    if time.time() - t0 > 60:
        os.kill(pid, signal.SIGKILL)
_, st = os.waitpid(pid, 0)
print(repr(out))
print("signal" if os.WIFSIGNALED(st) and os.WTERMSIG(st) == sig else "exit %d" % os.waitstatus_to_exitcode(st))
PY
}

@test "Ctrl-C clears the progress line, and the run dies of it as before" {
	make_corpus "$W" 3000 2000
	dovecot_seed cc "$W"/*.eml
	run on_pty " messages, " "$POPFETCH" --ca-file "$DOVECOT_CA" --timeout 20 \
		"pop3s://cc@localhost:$DOVECOT_POP3S" --maildir "$W/Mail"
	echo "$output"
	[ "${lines[1]}" = signal ]
	# A progress line was up; the last thing written clears it.
	[[ "${lines[0]}" == *"popfetch: "*"/3000 messages, "* ]]
	[[ "${lines[0]}" == *"\\r\\x1b[K'" ]]
	# Nothing is lost: the next run fetches the rest, each message once.
	run --separate-stderr pf cc --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 3000 ]
}

# slow_accounts N: two accounts, alpha and beta, each on a fake server of
# its own with N messages answered slowly enough (10 ms a RETR) for the
# progress to be seen; CONF names them.
slow_accounts() {
	local n=$1 a i port
	config_home
	printf 'defaults\ntls none\nallow-plaintext\ntimeout 20\npassword pw\n' > "$CONF"
	for a in alpha beta; do
		mkdir -p "$W/$a"
		{
			printf 'CAPA => +OK\\r\\nUSER\\r\\nUIDL\\r\\n.\\r\\n\nUSER .* => +OK\\r\\n\nPASS .* => +OK\\r\\n\n'
			printf 'UIDL => +OK\\r\\n'
			for i in $(seq 1 "$n"); do printf '%d %s%d\\r\\n' "$i" "$a" "$i"; done
			printf '.\\r\\n\nLIST => +OK\\r\\n'
			for i in $(seq 1 "$n"); do printf '%d 30\\r\\n' "$i"; done
			printf '.\\r\\n\n'
			printf 'repeat %d RETR {i} => +OK\\r\\nSubject: %s {i}\\r\\n\\r\\nbody\\r\\n.\\r\\n !sleep=0.01\n' "$n" "$a"
		} > "$W/$a.script"
		fake_start "$W/$a" < "$W/$a.script"
		FAKES="${FAKES:-} $FAKE_PID"
		printf 'account %s\nhost 127.0.0.1\nport %s\nuser %s\nmaildir %s\n' \
			"$a" "$FAKE_PORT" "$a" "$W/Mail-$a" >> "$CONF"
	done
	FAKE_PID=
	chmod 600 "$CONF"
}

teardown() {
	local p
	for p in ${FAKES:-}; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# screens: reads what on_pty printed (the output's repr, then how the
# run ended) and plays the output on a small terminal (CR, LF, cursor up,
# erase line, erase to the end of the screen).  Prints one JSON array of
# screens a line: the screen before each redraw began, and last the
# final one.
screens() {
	python3 -c '
import ast, json, re, sys
data = ast.literal_eval(sys.stdin.readline())
rows, r, c, i, out = [[]], 0, 0, 0, []
shot = lambda: [bytes(x).decode() for x in rows if x]
while i < len(data):
    m = re.match(rb"\x1b\[(\d*)([AJK])", data[i:i + 12])
    if m:
        n = int(m[1] or 1)
        if m[2] == b"A":
            r = max(0, r - n)
        else:
            rows[r] = rows[r][:c]
            if m[2] == b"J":
                del rows[r + 1:]
        i += m.end()
        continue
    ch = data[i]
    if ch == 13:
        if data[i + 1:i + 2] == b"\x1b":
            out.append(shot())
        c = 0
    elif ch == 10:
        r += 1
        rows += [[] for _ in range(r + 1 - len(rows))]
    else:
        rows[r][c:c + 1] = [ch] if c < len(rows[r]) else [0x20] * (c - len(rows[r])) + [ch]
        c += 1
    i += 1
out.append(shot())
for s in out:
    print(json.dumps(s))
'
}

@test "--all-accounts on a terminal: a progress line per running account, redrawn in place, none left at the end" {
	slow_accounts 150
	run on_pty "never" "$POPFETCH" --all-accounts -j 2 fetch
	echo "$output"
	[ "${lines[1]}" = "exit 0" ]
	# Three lines (the accounts done, alpha, beta) redrawn in place:
	# back up two lines, erase to the end of the screen.
	[[ "${lines[0]}" == *"\\r\\x1b[2A\\x1b[J"* ]]
	screens <<<"$output" > "$W/screens"
	python3 - "$W/screens" "$W" <<'PY'
import json, re, sys
shots = [json.loads(l) for l in open(sys.argv[1])]
prog = re.compile(r"(alpha|beta): (\d+)/150 messages, [^,]+, [^,]+/s")
both = 0
for s in shots[:-1]:
    names = [m[1] for m in map(prog.fullmatch, s) if m]
    # One line an account, never two.
    assert len(names) == len(set(names)), s
    if sorted(names) == ["alpha", "beta"]:
        both += 1
        assert "popfetch: 0 of 2 accounts done" in s, s
# Both accounts' own progress on screen at once, more than once.
assert both >= 2, shots
# Progress moved: some line showed an account part of the way.
assert any(m and 0 < int(m[2]) < 150 for s in shots for m in map(prog.fullmatch, s)), shots
# The end: the two summaries and nothing else.
final = sorted(shots[-1])
assert len(final) == 2 and all(re.fullmatch(rf"{a}: 150 new messages, \d KiB, delivered to {re.escape(sys.argv[2])}/Mail-{a}", l)
                               for a, l in zip(["alpha", "beta"], final)), shots[-1]
PY
	[ "$(ls "$W/Mail-alpha/new" | wc -l)" -eq 150 ]
	[ "$(ls "$W/Mail-beta/new" | wc -l)" -eq 150 ]
}

@test "--all-accounts progress: -j 1 and a password prompt: the lines wait for progress, the prompt stays whole" {
	slow_accounts 70
	# alpha has no password: it asks on the terminal.
	sed -i '/^password pw$/d' "$CONF"
	sed -i 's/^account beta$/&\npassword pw/' "$CONF"
	PTY_ANSWER="Password for alpha@127.0.0.1: =pw" run on_pty "never" "$POPFETCH" --all-accounts -j 1 fetch
	echo "$output"
	[ "${lines[1]}" = "exit 0" ]
	grep -q "^PASS pw$" "$W/alpha/fake.log"
	screens <<<"$output" > "$W/screens"
	python3 - "$W/screens" <<'PY'
import json, re, sys
shots = [json.loads(l) for l in open(sys.argv[1])]
final = shots[-1]
# The prompt on a line of its own, then the two summaries; nothing else.
assert len(final) == 3 and final[0] == "Password for alpha@127.0.0.1: ", final
assert re.fullmatch(r"alpha: 70 new messages, .*", final[1]) and re.fullmatch(r"beta: 70 new messages, .*", final[2]), final
# Each account's progress was up in its turn.
assert any(any(re.fullmatch(r"alpha: \d+/70 messages, .*", l) for l in s) for s in shots), shots
assert any(any(re.fullmatch(r"beta: \d+/70 messages, .*", l) for l in s) for s in shots), shots
PY
}

@test "--all-accounts progress: not with -q, --json or --syslog, nor off a terminal" {
	slow_accounts 70
	for opt in -q --json --syslog; do
		run on_pty "never" "$POPFETCH" $opt --all-accounts -j 2 fetch --all
		echo "$opt: $output"
		[ "${lines[1]}" = "exit 0" ]
		[[ "${lines[0]}" != *"\\x1b["* ]]
		[[ "${lines[0]}" != *"accounts done"* && "${lines[0]}" != *"/70 messages"* ]]
	done
	run --separate-stderr "$POPFETCH" --all-accounts -j 2 fetch --all
	[ "$status" -eq 0 ]
	[[ "$stderr" != *$'\e['* && "$stderr" != *"accounts done"* ]]
	[ "${#lines[@]}" -eq 2 ]
}

@test "--all-accounts progress: Ctrl-C or SIGTERM clears every line, and the run dies of it" {
	slow_accounts 400
	for PTY_SIGNAL in INT TERM; do
		export PTY_SIGNAL
		run on_pty "/400 messages" "$POPFETCH" --all-accounts -j 2 fetch --all
		echo "$PTY_SIGNAL: $output"
		[ "${lines[1]}" = signal ]
		# The last thing written clears the lines (the accounts done
		# and one or two accounts).
		[[ "${lines[0]}" =~ \\r\\x1b\[[12]A\\x1b\[J\'$ ]]
		screens <<<"$output" > "$W/screens"
		grep -q '"alpha: [0-9]*/400 messages, \|"beta: [0-9]*/400 messages, ' "$W/screens"
		[ "$(tail -1 "$W/screens")" = "[]" ]
	done
}

@test "-d 1 begins with the password source, the state, the address and the TLS verdict" {
	export POPFETCH_PASSWORD=$INF_PW
	run --separate-stderr pf inf -d 1 --maildir "$W/Mail" --dry-run
	[ "$status" -eq 0 ]
	[ "${stderr_lines[0]}" = "password source: POPFETCH_PASSWORD" ]
	[ "${stderr_lines[1]}" = "state: $HOME/.local/state/popfetch/inf@localhost:$DOVECOT_POP3S" ]
	[[ "${stderr_lines[2]}" =~ ^"connected to "(127.0.0.1|::1)" $DOVECOT_POP3S"$ ]]
	[[ "${stderr_lines[3]}" =~ ^"TLS: TLS1."[23]", "[^,]+", certificate verified"$ ]]
	[[ "${stderr_lines[4]}" == "greeting -> +OK "* ]]
	[[ "$stderr" != *"$INF_PW"* ]]
	grep -q "^AUTH PLAIN \*\*\*\* -> +OK" <<<"$stderr"
	run --separate-stderr "$POPFETCH" --ca-file "$DOVECOT_CA" -d 1 --password-file /dev/null \
		"pop3://inf@localhost:$DOVECOT_POP3" stat
	[ "${stderr_lines[0]}" = "password source: --password-file /dev/null" ]
	grep -qE '^STARTTLS: TLS1.[23], [^,]+, certificate verified$' <<<"$stderr"
}

@test "localhost, then 127.0.0.1: a warning names the other state and how to share it" {
	dovecot_seed al "${CORPUS[@]}"
	run --separate-stderr pf al --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	st="$HOME/.local/state/popfetch/al@localhost:$DOVECOT_POP3S"
	[ -s "$st" ]
	run --separate-stderr "$POPFETCH" --ca-file "$DOVECOT_CA" --tls-server-name localhost \
		"pop3s://al@127.0.0.1:$DOVECOT_POP3S" --maildir "$W/Mail" --dry-run
	[ "$status" -eq 0 ]
	[ "$stderr" = "popfetch: 127.0.0.1: warning: no state yet for this host name, but $st is the state of the same user and port under another name: the state is kept per host name as written, so this run fetches every message as new (write the host as localhost to go on with that state)" ]
	# That state is the account al@localhost's: refused for another
	# host name (78), and taken when the host is written as it says.
	run --separate-stderr "$POPFETCH" --ca-file "$DOVECOT_CA" --tls-server-name localhost \
		"pop3s://al@127.0.0.1:$DOVECOT_POP3S" --maildir "$W/Mail" --state "$st"
	[ "$status" -eq 78 ]
	run --separate-stderr "$POPFETCH" --ca-file "$DOVECOT_CA" \
		"pop3s://al@localhost:$DOVECOT_POP3S" --maildir "$W/Mail"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ "$output" == "no new messages (5 on the server, all fetched before; "* ]]
	[ "$(ls "$W/Mail/new" | wc -l)" -eq 5 ]
}

@test "--all-accounts --json: a failed account is an error record of its own" {
	config_home
	dovecot_seed al "${CORPUS[0]}"
	printf 'defaults\nca-file %s\ntimeout 20\naccount good\nurl pop3s://al@localhost:%s\npassword pw\naccount bad\nurl pop3s://al@localhost:%s\npassword wrong\n' \
		"$DOVECOT_CA" "$DOVECOT_POP3S" "$DOVECOT_POP3S" > "$CONF"
	chmod 600 "$CONF"
	run --separate-stderr "$POPFETCH" --all-accounts --json stat
	[ "$status" -eq 77 ]
	python3 - "$output" <<'PY'
import json, sys
recs = {r["account"]: r["result"] for r in map(json.loads, sys.argv[1].splitlines())}
assert recs["good"]["count"] >= 1, recs
bad = recs["bad"]
assert bad["event"] == "error" and bad["class"] == "auth" and bad["status"] == 77, bad
assert "Authentication failed" in bad["message"] and bad["host"] == "localhost", bad
PY
	[[ "$stderr" == *"popfetch: accounts that failed: bad (77); 1 of 2 failed" ]]
}
