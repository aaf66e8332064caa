#!/usr/bin/env python3
"""raw.py HOST PORT CA USER PASSWORD COUNT: the raw baseline.  One TLS
connection logs in, sends every RETR at once, reads until the last
terminating dot and throws the bytes away.  Prints the bytes read."""
import socket
import ssl
import sys

host, port, ca, user, pw, count = sys.argv[1:7]
count = int(count)
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection((host, int(port))), server_hostname=host)
s.sendall(f"USER {user}\r\nPASS {pw}\r\n".encode() +
          b"".join(b"RETR %d\r\n" % i for i in range(1, count + 1)) + b"QUIT\r\n")
total, done, tail = 0, 0, b""
# Replies: greeting, USER, PASS, then count multi-line bodies.
while True:
    data = s.recv(1 << 20)
    if not data:
        break
    total += len(data)
    buf = tail + data
    done += buf.count(b"\r\n.\r\n")
    tail = buf[-4:]
    if done >= count:
        break
s.close()
print(total)
