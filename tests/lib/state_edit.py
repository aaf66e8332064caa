#!/usr/bin/env python3
"""state_edit.py: what the tests do to popfetch's state files (format 2).

  state_edit.py set-first FILE UID TIME   set UID's first delivery time in
                                          a snapshot; trailer recomputed
  state_edit.py strip-stored FILE         drop what was stored (size,
                                          digest, place, Message-ID) from
                                          every U line, as a state written
                                          before #19; trailer recomputed
  state_edit.py reverse-stale FILE        reverse the order of the U lines
                                          and set each one's last listing
                                          two days back, so that the next
                                          run rewrites it; trailer
                                          recomputed
  state_edit.py set-count FILE N          make the trailer say N records
                                          (its checksum left as it is)
  state_edit.py ident FILE                print the identity of a snapshot
  state_edit.py record TEXT...            print each TEXT as a journal
                                          record: TEXT, a space, its CRC-32
"""
import sys
import time
import zlib


def record(text):
    b = text.encode()
    return b + b" %08x\n" % zlib.crc32(b)


def main():
    op = sys.argv[1]
    if op == "record":
        for t in sys.argv[2:]:
            sys.stdout.buffer.write(record(t))
        return
    path = sys.argv[2]
    data = open(path, "rb").read()
    lines = data.split(b"\n")
    if op == "ident":
        print(lines[0].split(b" ")[2].decode())
        return
    if op == "set-count":
        f = lines[-2].split(b" ")
        f[1] = sys.argv[3].encode()
        lines[-2] = b" ".join(f)
        open(path, "wb").write(b"\n".join(lines))
        return
    if op == "reverse-stale":
        recs = [ln.split(b" ") for ln in lines[1:] if ln.startswith(b"U ")]
        stale = b"%d" % (int(time.time()) - 2 * 86400)
        for f in recs:
            f[2] = stale
        body = lines[0] + b"\n" + b"".join(b" ".join(f) + b"\n"
                                          for f in reversed(recs))
        body += b"E %d %08x\n" % (len(recs), zlib.crc32(body))
        open(path, "wb").write(body)
        return
    if op in ("set-first", "strip-stored"):
        if op == "set-first":
            uid, when = sys.argv[3].encode(), sys.argv[4].encode()
        else:
            uid = None
        out = [lines[0]]
        for ln in lines[1:]:
            f = ln.split(b" ")
            if f[0] == b"U" and uid is not None and f[3] == uid:
                f[1] = when
            if f[0] == b"U" and uid is None:
                f = f[:4]
            if f[0] != b"E" and ln:
                out.append(b" ".join(f))
        body = b"\n".join(out) + b"\n"
        n = sum(1 for ln in out[1:] if ln.startswith(b"U "))
        body += b"E %d %08x\n" % (n, zlib.crc32(body))
        open(path, "wb").write(body)
        return
    sys.exit("unknown operation " + op)


main()
