#!/usr/bin/env bats
# Every example of the man page (EXAMPLES) and of the README (Usage) is
# run as a reader would copy it, against the test Dovecot: the server
# names become localhost and its port, a defaults block trusts the test
# CA, and small stand-ins play pass(1) and procmail(1).  Examples that
# cannot run here are named below with the reason; a new example that is
# neither runnable nor named fails the test.

bats_require_minimum_version 1.5.0

setup_file() {
	load lib/common
	export DOVECOT_MECHS="plain login scram-sha-256"
	suite_start
	for u in alice me me.work; do dovecot_user_add "$u" pw; done
}

teardown_file() {
	load lib/common
	suite_stop
}

setup() {
	load lib/common
	W=$BATS_TEST_TMPDIR
	CORPUS=("$TOP"/tests/corpus/*.eml)
	mkdir -p "$W/bin"
	ln -sf "$POPFETCH" "$W/bin/popfetch"
	printf '#!/bin/sh\necho pw\n' > "$W/bin/pass"
	# procmail -f SENDER: keeps each message and its sender.
	printf '#!/bin/sh\ncat > "$HOME/procmail.$$"\necho "$2" >> "$HOME/senders"\n' \
		> "$W/bin/procmail"
	chmod 755 "$W/bin/pass" "$W/bin/procmail"
	export PATH=$W/bin:$PATH
	python3 "$TOP/tests/lib/examples.py" "$TOP/man/popfetch.1" "$TOP/README" \
		> "$W/examples.jsonl"
}

# The examples that need what the test machine lacks.
not_here() {
	case $1 in
	*xoauth2*) echo "needs an OAuth 2.0 provider" ;;
	*'[Unit]'*) echo "a systemd unit file, checked by its own test" ;;
	*'systemctl --user'*) echo "needs a systemd user session" ;;
	'popfetch [options]'*) echo "the synopsis" ;;
	*) return 1 ;;
	esac
}

# fresh_home: a new HOME whose defaults trust the test CA, with the
# password files the examples name, a ~/.netrc, and a full mailbox for
# every user.
fresh_home() {
	export HOME=$W/home.$1 XDG_STATE_HOME= XDG_CONFIG_HOME=$W/home.$1/.config
	unset POPFETCH_PASSWORD
	mkdir -p "$XDG_CONFIG_HOME/popfetch"
	printf 'defaults\n    ca-file %s\n' "$DOVECOT_CA" > "$XDG_CONFIG_HOME/popfetch/config"
	chmod 600 "$XDG_CONFIG_HOME/popfetch/config"
	echo pw > "$HOME/.popfetch-pw"
	echo pw > "$XDG_CONFIG_HOME/popfetch/pw"
	# Examples that name no password source find it in ~/.netrc.
	printf 'machine localhost login %s password pw\n' alice me me.work \
		> "$HOME/.netrc"
	chmod 600 "$HOME/.popfetch-pw" "$XDG_CONFIG_HOME/popfetch/pw" \
		"$HOME/.netrc"
	# Until the store (#12) creates missing parents of a maildir or an
	# mbox, the examples' ~/Mail and ~/backup are made here.
	mkdir -p "$HOME/Mail" "$HOME/backup"
	local u
	for u in alice me me.work; do
		rm -f "$DOVECOT_DIR/mail/$u"/new/* "$DOVECOT_DIR/mail/$u"/cur/*
		dovecot_seed "$u" "${CORPUS[@]}"
	done
}

# as_run TEXT: the example as a shell would run it: servers on the test
# Dovecot, a crontab line without its schedule (cron wraps nothing, so
# the lines the man page wraps are one line).
as_run() {
	sed -e "s/mail\.example\.org/localhost:$DOVECOT_POP3S/g" \
	    -e "s/pop\.example\.com/localhost:$DOVECOT_POP3S/g" <<<"$1" |
	if [[ $1 == '*/'* ]]; then
		sed -e 's/\\$//' | tr '\n' ' ' | sed -e 's/^\*\/[0-9]* \* \* \* \* //'
	else
		cat
	fi
}

@test "every example of the man page and the README runs as written" {
	local n=0 ran=0 skipped=0 src text why cmd
	while IFS= read -r line; do
		n=$((n + 1))
		src=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["source"])' "$line")
		text=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["text"])' "$line")
		if why=$(not_here "$text"); then
			echo "# $src: not run: $why" >&3
			skipped=$((skipped + 1))
			continue
		fi
		fresh_home "$n"
		if [[ $text == defaults* ]]; then
			# An accounts file: written (trusting the test CA), then
			# checked by the example that follows it.
			as_run "$text" | sed -e "s|^defaults\$|defaults\n    ca-file $DOVECOT_CA|" \
				> "$XDG_CONFIG_HOME/popfetch/config"
			cp "$XDG_CONFIG_HOME/popfetch/config" "$W/accounts-example"
			continue
		fi
		if [[ $text == *"--all-accounts"* || $text == *"popfetch -a "* ]]; then
			cp "$W/accounts-example" "$XDG_CONFIG_HOME/popfetch/config"
		fi
		cmd=$(as_run "$text")
		if [[ $text == *sha256:3F1A...C2* ]]; then
			fp=$(popfetch "pop3s://localhost:$DOVECOT_POP3S" certificate |
				sed -n 's/^fingerprint: //p')
			cmd=${cmd//sha256:3F1A...C2/$fp}
		fi
		cd "$HOME"
		run --separate-stderr sh -c "$cmd"
		echo "$src: \$ $cmd"
		echo "$output"
		echo "$stderr"
		[ "$status" -eq 0 ]
		[ -z "$stderr" ]
		ran=$((ran + 1))
	done < "$W/examples.jsonl"
	echo "# ran $ran examples, $skipped not runnable here" >&3
	# The extraction still finds the examples, and only the named ones are
	# left out.
	[ "$ran" -ge 15 ] && [ "$skipped" -le 6 ]
}

@test "the man page's cron check is silent when all is well or the server is away, loud otherwise" {
	fresh_home x
	line=$(python3 -c 'import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if "popfetch failed" in d["text"]:
        print(d["text"])' "$W/examples.jsonl")
	[ -n "$line" ]
	cmd=$(as_run "$line")
	run --separate-stderr sh -c "$cmd"
	[ "$status" -eq 0 ] && [ -z "$output" ] && [ -z "$stderr" ]
	# The server is away: 75, a passing outage, says nothing.
	run --separate-stderr sh -c "${cmd//localhost:$DOVECOT_POP3S/127.0.0.1:1}"
	[ -z "$output" ]
	# A certificate that does not verify: popfetch's own status, 77.
	printf 'defaults\n' > "$XDG_CONFIG_HOME/popfetch/config"
	run --separate-stderr sh -c "$cmd"
	[ "$output" = "popfetch failed: 77" ]
}

@test "the man page's systemd units are well-formed and run popfetch as the cron line does" {
	python3 - "$W/examples.jsonl" <<'PY'
import configparser, json, shlex, sys
units = [json.loads(l)["text"] for l in open(sys.argv[1]) if "[Unit]" in l]
assert len(units) == 2, units
svc, timer = (configparser.ConfigParser(strict=True, interpolation=None) for _ in units)
svc.read_string(units[0].replace("\\\n", " "))
timer.read_string(units[1])
assert svc["Service"]["Type"] == "oneshot", dict(svc["Service"])
argv = shlex.split(svc["Service"]["ExecStart"])
assert argv[0].endswith("/popfetch") and "-q" in argv and "--maildir" in argv, argv
assert "OnUnitActiveSec" in timer["Timer"] and timer["Install"]["WantedBy"] == "timers.target"
PY
}
