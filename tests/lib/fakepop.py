#!/usr/bin/env python3
"""A scriptable fake POP3 server for faults a real server will not produce.

Usage: fakepop.py SCRIPT PORTFILE LOGFILE [CERT KEY]

SCRIPT holds one rule a line:   REGEX => RESPONSE [!action ...]
  REGEX     matched (re.fullmatch) against each command line the client sends
  RESPONSE  Python bytes escapes (\\r\\n, \\x00, ...); sent as it is
  actions   !close   close the connection after sending
            !tls     start TLS after sending (for STLS)
            !hang    send the response, then never answer again
            !drip    send the response one byte at a time
            !split   send the first line and the rest in two writes, with
                     Nagle on (a lock-step server like popa3d)
            !flag=F  set flag F for the rest of the connection
            !pad=N   add N bytes before the final ".\r\n" of a reply, in
                     lines of 78 "x" and CRLF (the last one shorter)
            !slow=S  send the response one byte every S seconds
            !trickle=S  send the response one line every S seconds
            !sleep=S wait S seconds before sending
            !scram=MODE  (on an AUTH SCRAM-SHA-1/-256 line, RESPONSE unused)
                     play the server side of SCRAM with the password
                     "secret": MODE ok, badsig (a wrong server signature),
                     nosig (+OK without proving anything), iter=N,
                     badnonce (a nonce that does not extend the client's),
                     error (e=invalid-proof)
A rule may start with "?F " (only when flag F is set) or "?!F " (only when
it is not); flag "connN" is set on the Nth connection (from 1), "afterN"
on every connection after the Nth.  A line "repeat N RULE" adds the rule N
times with "{i}" replaced by 1..N (in REGEX and RESPONSE).
The environment variable FAKE_BIND names the port to listen on (a
restarted server keeps its port); without it any free port is used.
The special REGEX "greeting" gives the greeting (default +OK with a
timestamp).  "implicit" alone on a line makes the server start TLS at
once.  Rules are tried in order; unmatched commands get -ERR.  Every line
received is appended to LOGFILE.  The server serves connections one after
another until it is killed, and appends a line to LOGFILE.closed each time
a connection has ended (so that a test can wait until the client's last
line, if any, has been logged).
"""
import base64
import hashlib
import hmac
import os
import re
import socket
import ssl
import sys
import time


def parse(path):
    rules, greeting, implicit = [], [b"+OK fake ready <1896.697170952@dbc.mtview.ca.us>\r\n", []], False
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        if line.strip() == "implicit":
            implicit = True
            continue
        count = 1
        m = re.match(r"repeat (\d+) ", line)
        if m:
            count, line = int(m.group(1)), line[m.end():]
        for i in range(1, count + 1):
            one = line.replace("{i}", str(i)) if m else line
            cond = None
            if one.startswith("?"):
                cond, _, one = one[1:].partition(" ")
            pat, _, rest = one.partition(" => ")
            parts = rest.split(" !")
            resp = parts[0].encode("latin-1").decode("unicode_escape").encode("latin-1")
            acts = [a.strip() for a in parts[1:]]
            if pat == "greeting":
                greeting = [resp, acts]
            else:
                rules.append((re.compile(pat), resp, acts, cond))
    rules.append((re.compile(r"QUIT"), b"+OK bye\r\n", ["close"], None))
    return rules, greeting, implicit


def pad(data, n):
    lines, left = [], n
    while left > 0:
        k = min(78, max(left - 2, 1))
        lines.append(b"x" * k + b"\r\n")
        left -= k + 2
    return data[:-3] + b"".join(lines) + b".\r\n"


def send(conn, data, acts):
    for a in acts:
        if a.startswith("pad="):
            data = pad(data, int(a[4:]))
    for a in acts:
        if a.startswith("sleep="):
            time.sleep(float(a[6:]))
    slow = [float(a[5:]) for a in acts if a.startswith("slow=")]
    trickle = [float(a[8:]) for a in acts if a.startswith("trickle=")]
    if slow:
        for i in range(len(data)):
            conn.sendall(data[i:i + 1])
            time.sleep(slow[0])
    elif trickle:
        for line in data.splitlines(keepends=True):
            conn.sendall(line)
            time.sleep(trickle[0])
    elif "split" in acts and b"\r\n" in data[:-2]:
        first, _, rest = data.partition(b"\r\n")
        conn.sendall(first + b"\r\n")
        conn.sendall(rest)
    elif "drip" in acts:
        for i in range(len(data)):
            conn.sendall(data[i:i + 1])
            time.sleep(0.001)
    else:
        conn.sendall(data)


def recv_line(conn, buf, log):
    """The next line the client sent (None at EOF), appended to log."""
    while b"\n" not in buf:
        data = conn.recv(65536)
        if not data:
            return None, buf
        buf += data
    line, _, buf = buf.partition(b"\n")
    text = line.rstrip(b"\r").decode("latin-1")
    with open(log, "a", encoding="latin-1") as f:
        f.write(text + "\n")
    return text, buf


def scram(conn, text, mode, buf, log):
    """The server side of RFC 5802, with faults on request."""
    words = text.split(" ")
    algo = hashlib.sha256 if words[1].upper() == "SCRAM-SHA-256" else hashlib.sha1
    if len(words) > 2:
        first = base64.b64decode(words[2]).decode()
    else:
        conn.sendall(b"+ \r\n")
        line, buf = recv_line(conn, buf, log)
        first = base64.b64decode(line).decode()
    bare = first.split(",", 2)[2]
    cnonce = dict(kv.split("=", 1) for kv in bare.split(","))["r"]
    nonce = ("X" if mode == "badnonce" else cnonce) + "srvnonce"
    salt = b"popfetch-salt"
    iters = int(mode[5:]) if mode.startswith("iter=") else 4096
    sfirst = "r=%s,s=%s,i=%d" % (nonce, base64.b64encode(salt).decode(), iters)
    conn.sendall(b"+ " + base64.b64encode(sfirst.encode()) + b"\r\n")
    line, buf = recv_line(conn, buf, log)
    if line is None:
        return buf
    if line == "*":
        conn.sendall(b"-ERR cancelled\r\n")
        return buf
    final = base64.b64decode(line).decode()
    noproof = final.rsplit(",p=", 1)[0]
    authmsg = ",".join([bare, sfirst, noproof]).encode()
    salted = hashlib.pbkdf2_hmac(algo().name, b"secret", salt, iters)
    skey = hmac.new(salted, b"Server Key", algo).digest()
    sig = hmac.new(skey, authmsg, algo).digest()
    if mode == "badsig":
        sig = bytes(b ^ 1 for b in sig)
    if mode == "nosig":
        conn.sendall(b"+OK logged in\r\n")
        return buf
    sfinal = "e=invalid-proof" if mode == "error" else "v=" + base64.b64encode(sig).decode()
    conn.sendall(b"+ " + base64.b64encode(sfinal.encode()) + b"\r\n")
    line, buf = recv_line(conn, buf, log)
    if line is None:
        return buf
    conn.sendall(b"+OK logged in\r\n" if line == "" and mode == "ok" else b"-ERR [AUTH] failed\r\n")
    return buf


def applies(cond, flags):
    if cond is None:
        return True
    if cond.startswith("!"):
        return cond[1:] not in flags
    return cond in flags


def serve(conn, rules, greeting, implicit, ctx, log, nconn):
    flags = {"conn%d" % nconn} | {"after%d" % i for i in range(nconn)}
    if implicit:
        conn = ctx.wrap_socket(conn, server_side=True)
    buf = b""
    send(conn, greeting[0], greeting[1])
    if "close" in greeting[1]:
        return
    if "hang" in greeting[1]:
        time.sleep(3600)
    while True:
        text, buf = recv_line(conn, buf, log)
        if text is None:
            return
        for pat, resp, acts, cond in rules:
            if applies(cond, flags) and pat.fullmatch(text):
                break
        else:
            resp, acts = b"-ERR unknown command\r\n", []
        mode = [a[6:] for a in acts if a.startswith("scram=")]
        if mode:
            buf = scram(conn, text, mode[0], buf, log)
            continue
        flags |= {a[5:] for a in acts if a.startswith("flag=")}
        send(conn, resp, acts)
        if "hang" in acts:
            time.sleep(3600)
        if "close" in acts:
            return
        if "tls" in acts:
            conn = ctx.wrap_socket(conn, server_side=True)


def main():
    script, portfile, log = sys.argv[1:4]
    ctx = None
    if len(sys.argv) > 5 and sys.argv[4]:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    rules, greeting, implicit = parse(script)
    open(log + ".closed", "w").close()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # FAKE_BIND: a port to listen on again (a restarted server keeps the
    # port the state file names); else any free one.
    srv.bind(("127.0.0.1", int(os.environ.get("FAKE_BIND", "0"))))
    srv.listen(8)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)
    nconn = 0
    while True:
        conn, _ = srv.accept()
        nconn += 1
        try:
            serve(conn, rules, greeting, implicit, ctx, log, nconn)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass
            with open(log + ".closed", "a", encoding="latin-1") as f:
                f.write("closed\n")


if __name__ == "__main__":
    main()
