#!/usr/bin/env python3
"""mbox_split.py MBOX OUTDIR: split an mboxrd file into one file per
message (1.eml, 2.eml, ...), removing the From line and the empty line
that ends each message and reversing the >From quoting.  Exits 1 if the
file is not well-formed mboxrd (text before the first From line, a
message not followed by an empty line)."""
import re
import sys

data = open(sys.argv[1], "rb").read()
if not data:
    sys.exit(0)
if not data.startswith(b"From "):
    sys.exit("mbox does not start with a From line")
lines = data.split(b"\n")
if lines[-1] != b"":
    sys.exit("mbox does not end with a newline")
lines = lines[:-1]
msgs, cur = [], None
for i, line in enumerate(lines):
    if line.startswith(b"From ") and (i == 0 or lines[i - 1] == b""):
        if cur is not None:
            if not cur or cur[-1] != b"":
                sys.exit("a message is not followed by an empty line")
            msgs.append(cur[:-1])
        cur = []
        continue
    cur.append(re.sub(rb"^>(>*From )", rb"\1", line))
if not cur or cur[-1] != b"":
    sys.exit("the last message is not followed by an empty line")
msgs.append(cur[:-1])
for n, m in enumerate(msgs, 1):
    with open(f"{sys.argv[2]}/{n}.eml", "wb") as f:
        f.write(b"\n".join(m) + b"\n")
