#!/usr/bin/env python3
"""examples.py MAN README: the examples of the man page (its EXAMPLES
section, each .Bd -literal block) and of the README (its Usage section,
each block of lines indented by four spaces), one JSON object a line:
{"source": "popfetch.1:LINE", "text": "..."}.  The text is as a reader
would copy it: mdoc escapes undone; lines that continue with a backslash
are kept as they are."""
import json
import re
import sys


def man_examples(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    out, inside, block, start, in_ex = [], False, [], 0, False
    for n, line in enumerate(lines, 1):
        if line.startswith(".Sh "):
            in_ex = line == ".Sh EXAMPLES"
            continue
        if not in_ex:
            continue
        if line.startswith(".Bd -literal"):
            inside, block, start = True, [], n + 1
        elif line == ".Ed" and inside:
            inside = False
            text = "\n".join(block).replace("\\e", "\\").replace("\\&", "")
            out.append({"source": "popfetch.1:%d" % start, "text": text})
        elif inside:
            block.append(line)
    return out


def readme_examples(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    out, block, start, in_usage = [], [], 0, False
    for n, line in enumerate(lines + [""], 1):
        if n < len(lines) and re.match(r"^-{3,}$", lines[n] if n < len(lines) else ""):
            in_usage = line == "Usage"
        if not in_usage and not block:
            continue
        if line.startswith("    "):
            if not block:
                start = n
            block.append(line[4:])
        elif block:
            out.append({"source": "README:%d" % start,
                        "text": "\n".join(block)})
            block = []
    return out


for ex in man_examples(sys.argv[1]) + readme_examples(sys.argv[2]):
    print(json.dumps(ex))
