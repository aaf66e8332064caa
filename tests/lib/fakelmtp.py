#!/usr/bin/env python3
"""A fake LMTP/SMTP server for replies a real one will not give on cue.

Usage: fakelmtp.py PORTFILE LOGFILE [END_REPLY [RCPT_REPLY]]

Listens on a free loopback port (written to PORTFILE), answers LHLO,
EHLO, HELO, MAIL, RCPT, DATA, RSET and QUIT, and appends every line it
receives (commands and message lines, as sent) to LOGFILE.  END_REPLY
(default "250 2.0.0 ok") answers the end of each message; RCPT_REPLY
(default "250 2.1.5 ok") answers RCPT.  Connections are served one after
another until the server is killed.
"""
import os
import socket
import sys


def main():
    portfile, log = sys.argv[1:3]
    end = (sys.argv[3] if len(sys.argv) > 3 else "250 2.0.0 ok").encode()
    rcpt = (sys.argv[4] if len(sys.argv) > 4 else "250 2.1.5 ok").encode()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)
    while True:
        conn, _ = srv.accept()
        f = conn.makefile("rb")
        out = open(log, "ab")
        try:
            conn.sendall(b"220 fake ready\r\n")
            data = False
            for line in f:
                out.write(line)
                out.flush()
                cmd = line.rstrip(b"\r\n")
                if data:
                    if cmd == b".":
                        data = False
                        conn.sendall(end + b"\r\n")
                    continue
                verb = cmd.split(b" ")[0].upper()
                if verb in (b"LHLO", b"EHLO"):
                    conn.sendall(b"250-fake\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
                elif verb == b"RCPT":
                    conn.sendall(rcpt + b"\r\n")
                elif verb == b"DATA":
                    data = True
                    conn.sendall(b"354 go ahead\r\n")
                elif verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    break
                else:
                    conn.sendall(b"250 ok\r\n")
        except OSError:
            pass
        finally:
            out.close()
            conn.close()


if __name__ == "__main__":
    main()
