#!/usr/bin/env python3
"""delay.py LISTEN_PORTFILE TARGET_PORT DELAY_MS: a TCP proxy on loopback
that holds every chunk DELAY_MS in each direction (so a round trip gains
twice that), without limiting bandwidth.  Writes its port to
LISTEN_PORTFILE; serves until killed."""
import collections
import os
import socket
import sys
import threading
import time

portfile, target, delay = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) / 1000


def pump(src, dst):
    q = collections.deque()
    cv = threading.Condition()
    done = [False]

    def reader():
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            with cv:
                q.append((time.monotonic() + delay, data))
                cv.notify()
            if not data:
                return

    threading.Thread(target=reader, daemon=True).start()
    while True:
        with cv:
            while not q:
                cv.wait()
            due, data = q.popleft()
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        if not data:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            return
        try:
            dst.sendall(data)
        except OSError:
            return


def serve(c):
    s = socket.create_connection(("127.0.0.1", target))
    for sock in (c, s):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    a = threading.Thread(target=pump, args=(c, s), daemon=True)
    b = threading.Thread(target=pump, args=(s, c), daemon=True)
    a.start()
    b.start()
    a.join()
    b.join()
    c.close()
    s.close()


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
