#!/bin/sh
# make demo: a throwaway Dovecot on loopback with sample mail, and
# popfetch run against it.  Everything lives in a temporary directory
# that is removed at the end; the server is stopped whatever happens.
# Every command shown is the whole command line that runs, so it can be
# copied (while the demo server is up) and typed again.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
pf=${POPFETCH:-$top/popfetch}
dir=$(mktemp -d "${TMPDIR:-/tmp}/popfetch-demo.XXXXXX")
chmod 755 "$dir"

exec bash -c '
set -eu
top=$1 pf=$2 dir=$3
. "$top/tests/lib/dovecot.bash"
trap "set +e; dovecot_stop; rm -rf \"$dir\"" EXIT
dovecot_start "$dir/dovecot" >/dev/null
dovecot_user_add demo demo-password
dovecot_seed demo "$top"/tests/corpus/*.eml
export HOME=$dir/home XDG_STATE_HOME= XDG_CONFIG_HOME=$dir/home/.config
mkdir -p "$HOME"
ca=$DOVECOT_CA
url="pop3s://demo@localhost:$DOVECOT_POP3S"
# show ARGS: prints the command as it can be typed, then runs it.
show() {
	printf "\n\$ popfetch --ca-file %s %s %s\n" "$ca" "$url" "$*"
	"$pf" --ca-file "$ca" "$url" "$@"
}
echo "Demo server: Dovecot on localhost port $DOVECOT_POP3S (implicit TLS),"
echo "user demo, certificate from a CA made for this demo ($ca)."
echo "The password comes from the environment, as in a script:"
echo
echo "\$ export POPFETCH_PASSWORD=demo-password"
export POPFETCH_PASSWORD=demo-password
show welcome
show stat
show uidl
show top 1 0
echo
echo "# fetch: new messages into a maildir (created if missing)."
show fetch --maildir "$dir/Mail"
echo "\$ ls $dir/Mail/new"
ls "$dir/Mail/new"
echo
echo "# --new (the default) fetches only what was not fetched before: the"
echo "# state file remembers the UIDs, so a second run fetches nothing."
show fetch --new --maildir "$dir/Mail"
echo
echo "# --all fetches every message again, here into an mbox, and"
echo "# --delete removes them from the server once they are on disk."
show fetch --all --delete --mbox "$dir/backup.mbox"
echo "\$ grep -c \"^From \" $dir/backup.mbox"
grep -c "^From " "$dir/backup.mbox"
show stat
' demo "$top" "$pf" "$dir"
