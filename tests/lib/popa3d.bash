# popa3d.bash: a real popa3d (Debian package popa3d, a lock-step server
# that writes the status line and the message apart, with Nagle on) on
# loopback, for the optional interop tests of tests/servers.bats.
#
# popa3d conflicts with dovecot-pop3d, so it is not installed: extract it
# with "apt-get download popa3d && dpkg-deb -x popa3d_*.deb DIR" and set
# POPA3D=DIR/usr/sbin/popa3d (or install it where Dovecot is absent).
# It needs root: it runs in a private mount namespace (unshare -m) where
# /etc/passwd, /etc/shadow and /etc/group are copies with the users
# "popa3d" and "alice" (password "secret") added, /var/mail is the
# test's spool, and /var/lib/popa3d its empty chroot.  A small accept
# loop plays inetd.  Nothing outside DIR changes, except that the empty
# mount points /var/mail and /var/lib/popa3d are made if missing.
#
# popa3d_usable        whether the tests can run (binary, root, unshare)
# popa3d_start DIR MBOX  starts it with MBOX as alice's mailbox; sets
#                      POPA3D_PORT
# popa3d_stop

POPA3D=${POPA3D:-/usr/sbin/popa3d}

popa3d_usable() {
	[ -x "$POPA3D" ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null &&
		command -v openssl >/dev/null &&
		unshare -m true 2>/dev/null
}

popa3d_start() {
	local d=$1 mbox=$2 hash i
	mkdir -p "$d/etc" "$d/spool" "$d/chroot"
	chmod 755 "$d" "$d/chroot"
	chmod 1777 "$d/spool"
	hash=$(openssl passwd -6 secret)
	cp /etc/passwd "$d/etc/passwd"
	cp /etc/group "$d/etc/group"
	cp /etc/shadow "$d/etc/shadow"
	printf 'popa3d:x:64998:64998::/nonexistent:/usr/sbin/nologin\n' >> "$d/etc/passwd"
	printf 'alice:x:64999:64999::/nonexistent:/bin/sh\n' >> "$d/etc/passwd"
	printf 'popa3d:x:64998:\nalice:x:64999:\n' >> "$d/etc/group"
	printf 'popa3d:*:19000:0:99999:7:::\nalice:%s:19000:0:99999:7:::\n' \
		"$hash" >> "$d/etc/shadow"
	cp "$mbox" "$d/spool/alice"
	chown 64999:64999 "$d/spool/alice"
	chmod 600 "$d/spool/alice"
	cat > "$d/inetd.py" <<'PY'
import os, socket, subprocess, sys
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
while True:
    conn, _ = srv.accept()
    subprocess.Popen([sys.argv[1]], stdin=conn, stdout=conn,
                     stderr=subprocess.DEVNULL)
    conn.close()
PY
	rm -f "$d/port"
	unshare -m sh -c '
		mount --bind "$1/etc/passwd" /etc/passwd &&
		mount --bind "$1/etc/group" /etc/group &&
		mount --bind "$1/etc/shadow" /etc/shadow &&
		mkdir -p /var/mail /var/lib/popa3d &&
		mount --bind "$1/spool" /var/mail &&
		mount --bind "$1/chroot" /var/lib/popa3d &&
		exec python3 "$1/inetd.py" "$2" "$1/port"' sh "$d" "$POPA3D" \
		2>"$d/err" &
	POPA3D_PID=$!
	for i in $(seq 1 200); do
		[ -s "$d/port" ] && break
		sleep 0.02
	done
	POPA3D_PORT=$(cat "$d/port")
	[ -n "$POPA3D_PORT" ]
}

popa3d_stop() {
	if [ -n "${POPA3D_PID:-}" ]; then
		kill "$POPA3D_PID" 2>/dev/null || true
		wait "$POPA3D_PID" 2>/dev/null || true
	fi
	POPA3D_PID=
}
