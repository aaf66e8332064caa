#!/bin/sh
# make demo: a throwaway Dovecot on loopback with sample mail, and
# popfetch run against it.  Everything lives in a temporary directory
# that is removed at the end; the server is stopped whatever happens.
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
export POPFETCH_PASSWORD=demo-password
url="pop3s://demo@localhost:$DOVECOT_POP3S"
show() {
	printf "\n\$ popfetch %s\n" "$*"
	"$pf" --ca-file "$DOVECOT_CA" "$url" "$@"
}
echo "Demo server: Dovecot on localhost port $DOVECOT_POP3S (implicit TLS),"
echo "user demo, certificate from a CA made for this demo."
show welcome
show stat
show uidl
show top 1 0
export HOME=$dir/home
mkdir -p "$HOME"
show fetch --maildir "$dir/Mail"
echo "\$ ls $dir/Mail/new"
ls "$dir/Mail/new"
show fetch --maildir "$dir/Mail"
show fetch --mbox "$dir/demo.mbox" --all --delete
echo "\$ grep \"^From \" $dir/demo.mbox"
grep "^From " "$dir/demo.mbox"
show stat
' demo "$top" "$pf" "$dir"
