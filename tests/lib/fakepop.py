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
            !scram=MODE  (on an AUTH SCRAM-SHA-1/-256[-PLUS] line, RESPONSE
                     unused) play the server side of SCRAM with the
                     password "secret": MODE ok, badsig (a wrong server
                     signature), nosig (+OK without proving anything),
                     iter=N, badnonce (a nonce that does not extend the
                     client's), error (e=invalid-proof); and for channel
                     binding: badcb (the server's own binding differs
                     from the client's, as behind a man in the middle:
                     e=channel-bindings-dont-match), othercb (no check,
                     and the signature covers the server's differing
                     binding), addp (the signature covers a p= binding
                     the client did not ask for)
A rule may start with "?F " (only when flag F is set) or "?!F " (only when
it is not); flag "connN" is set on the Nth connection (from 1), "afterN"
on every connection after the Nth.  A line "repeat N RULE" adds the rule N
times with "{i}" replaced by 1..N (in REGEX and RESPONSE).
The environment variable FAKE_BIND names the port to listen on (a
restarted server keeps its port); without it any free port is used.
The special REGEX "greeting" gives the greeting (default +OK with a
timestamp).  "implicit" alone on a line makes the server start TLS at
once.  "pyopenssl" alone on a line (or "pyopenssl 1.2": no newer than
TLS 1.2) makes TLS go through pyOpenSSL instead of the ssl module, so
that the SCRAM player can compute channel bindings from its own session
(tls-exporter, RFC 9266; tls-server-end-point, RFC 5929) and checks them
as a server that binds: then a client's "y" flag fails the exchange
(e=server-does-support-channel-binding, RFC 5802 section 6).  What the
player saw goes to LOGFILE.scram, one "key: value" a line: gs2 (the
client's GS2 header), cbind (whether c= matched the server's own
binding: match, mismatch), cbdata (the server's binding data, hex).  Rules are tried in order; unmatched commands get -ERR.  Every line
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

try:
    from OpenSSL import SSL
except ImportError:  # only scripts that say "pyopenssl" need it
    SSL = None


PYOPENSSL = None  # None: the ssl module; else "1.2" or "" (any version)


class OpenSSLConn:
    """A pyOpenSSL server connection with the socket calls serve() uses."""

    def __init__(self, sock, cert, key):
        ctx = SSL.Context(SSL.TLS_SERVER_METHOD)
        ctx.use_certificate_chain_file(cert)
        ctx.use_privatekey_file(key)
        if PYOPENSSL == "1.2":
            ctx.set_max_proto_version(SSL.TLS1_2_VERSION)
        self.cert = cert
        self.conn = SSL.Connection(ctx, sock)
        self.conn.set_accept_state()
        self.conn.do_handshake()

    def recv(self, n):
        try:
            return self.conn.recv(n)
        except (SSL.ZeroReturnError, SSL.SysCallError):
            return b""

    def sendall(self, data):
        self.conn.sendall(data)

    def close(self):
        self.conn.close()

    def binding(self, kind):
        """This session's channel binding of type kind, or None."""
        if kind == "tls-exporter":
            return self.conn.export_keying_material(b"EXPORTER-Channel-Binding", 32, b"")
        if kind == "tls-server-end-point":
            # RFC 5929 section 4.1: the hash of the certificate's
            # signature algorithm, SHA-256 in place of MD5 and SHA-1.
            from OpenSSL import crypto
            x509 = crypto.load_certificate(crypto.FILETYPE_PEM, open(self.cert, "rb").read())
            algo = x509.get_signature_algorithm().decode().lower()
            name = re.search(r"sha(1|224|256|384|512)|md5", algo).group(0)
            name = {"md5": "sha256", "sha1": "sha256"}.get(name, name)
            return hashlib.new(name, crypto.dump_certificate(crypto.FILETYPE_ASN1, x509)).digest()
        return None


def start_tls(conn, ctx, cert):
    if PYOPENSSL is not None:
        return OpenSSLConn(conn, cert[0], cert[1])
    return ctx.wrap_socket(conn, server_side=True)


def parse(path):
    global PYOPENSSL
    rules, greeting, implicit = [], [b"+OK fake ready <1896.697170952@dbc.mtview.ca.us>\r\n", []], False
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        if line.strip() == "implicit":
            implicit = True
            continue
        if line.split(" ")[0] == "pyopenssl":
            PYOPENSSL = line[10:].strip()
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


def note(log, key, value):
    with open(log + ".scram", "a", encoding="latin-1") as f:
        f.write("%s: %s\n" % (key, value))


def scram(conn, text, mode, buf, log):
    """The server side of RFC 5802, with faults on request."""
    words = text.split(" ")
    mech = words[1].upper()
    plus = mech.endswith("-PLUS")
    algo = hashlib.sha256 if mech.startswith("SCRAM-SHA-256") else hashlib.sha1
    if len(words) > 2:
        first = base64.b64decode(words[2]).decode()
    else:
        conn.sendall(b"+ \r\n")
        line, buf = recv_line(conn, buf, log)
        first = base64.b64decode(line).decode()
    flag, authzid, bare = first.split(",", 2)
    gs2 = flag + "," + authzid + ","
    note(log, "gs2", gs2)
    # RFC 5802 section 6, as a server that binds when its TLS can.
    # A failure found in client-first goes out as server-final's e=.
    binds, error = isinstance(conn, OpenSSLConn), None
    cbdata = b""
    if plus != flag.startswith("p="):
        error = "channel-binding-not-supported"
    elif flag.startswith("p="):
        cbdata = conn.binding(flag[2:]) if binds else None
        if cbdata is None:
            error, cbdata = "unsupported-channel-binding-type", b""
        else:
            note(log, "cbdata", cbdata.hex())
        if mode in ("badcb", "othercb") and cbdata:
            cbdata = bytes([cbdata[0] ^ 1]) + cbdata[1:]
    elif flag == "y" and binds and mode != "addp":
        error = "server-does-support-channel-binding"
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
    cattr = base64.b64decode(noproof.split(",")[0][2:])
    match = cattr == gs2.encode() + cbdata
    note(log, "cbind", "match" if match else "mismatch")
    if mode == "othercb":
        # Sign what the server's own session says, unchecked.
        noproof = "c=" + base64.b64encode(gs2.encode() + cbdata).decode() + noproof[noproof.index(","):]
    elif mode == "addp":
        p = "p=tls-exporter,,"
        extra = conn.binding("tls-exporter") if binds else bytes(32)
        noproof = "c=" + base64.b64encode(p.encode() + extra).decode() + noproof[noproof.index(","):]
    elif not match and error is None:
        error = "channel-bindings-dont-match"
    if error is not None:
        conn.sendall(b"+ " + base64.b64encode(("e=" + error).encode()) + b"\r\n")
        line, buf = recv_line(conn, buf, log)
        conn.sendall(b"-ERR [AUTH] failed\r\n")
        return buf
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
    conn.sendall(b"+OK logged in\r\n" if line == "" and mode in ("ok", "addp", "othercb")
                 else b"-ERR [AUTH] failed\r\n")
    return buf


def applies(cond, flags):
    if cond is None:
        return True
    if cond.startswith("!"):
        return cond[1:] not in flags
    return cond in flags


def serve(conn, rules, greeting, implicit, ctx, log, nconn, cert):
    flags = {"conn%d" % nconn} | {"after%d" % i for i in range(nconn)}
    if implicit:
        conn = start_tls(conn, ctx, cert)
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
            conn = start_tls(conn, ctx, cert)


def main():
    script, portfile, log = sys.argv[1:4]
    ctx, cert = None, None
    rules, greeting, implicit = parse(script)
    if len(sys.argv) > 5 and sys.argv[4]:
        cert = (sys.argv[4], sys.argv[5])
        if PYOPENSSL is None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(sys.argv[4], sys.argv[5])
        elif SSL is None:
            sys.exit("fakepop.py: the script says pyopenssl, and pyOpenSSL is "
                     "missing (apt-get install python3-openssl)")
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
            serve(conn, rules, greeting, implicit, ctx, log, nconn, cert)
        except (OSError, ssl.SSLError) + ((SSL.Error,) if SSL else ()):
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
