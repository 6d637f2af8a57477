#!/usr/bin/python3
"""check_schools.py - checks a source folder of the schools example against astro.yaml, in Python.

An independent second opinion on the example data, written without astro: it reads the schemas
from astro.yaml (PyYAML, Debian's python3-yaml), decodes each file in its declared encoding
(strictly: a byte not defined in windows-1252 is an error), splits records with the csv module,
tracks the physical line where each record starts (line breaks inside quoted fields included) and
applies the rules this example uses: field count, strict header, nullability, dtypes (int8..int64
ranges, float64, date with `format`), unique, frame-level unique, in_range, isin,
greater_than_or_equal_to, str_matches, str_length, null_values.

  check_schools.py DIR                  print every failure; exit 1 if there is any
  check_schools.py DIR --expected TSV   compare with the list gen_schools.py --bad wrote

Check labels are astro's (validate.h) without argument lists: "in_range", "isin", "dtype('date')".
  check_schools.py DIR --properties     also check the file properties the example promises
                                        (encoding, quoting, CRLF, empty fields, size)

It is a test aid for this example, not a reimplementation of astro: it knows only the checks and
dtypes astro.yaml uses here, and fails loudly on any other.
"""

import argparse
import csv
import datetime
import fnmatch
import math
import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
INT_RANGES = {"int8": 7, "int16": 15, "int32": 31, "int64": 63}
INT_RE = re.compile(r"^[+-]?[0-9]+$")
FLOAT_RE = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")


def records(path, encoding):
    """Yields (physical start line, fields) for each record of path."""
    with open(path, encoding=encoding, errors="strict", newline="") as f:
        reader = csv.reader(f, strict=True)
        start = 1
        for fields in reader:
            yield start, fields
            start = reader.line_num + 1


def parse(dtype, text, fmt):
    """Returns (ok, value) for text read as dtype."""
    if dtype in INT_RANGES:
        if not INT_RE.match(text):
            return False, None
        n = int(text)
        bits = INT_RANGES[dtype]
        return -(1 << bits) <= n < (1 << bits), n
    if dtype == "float64":
        if not FLOAT_RE.match(text):
            return False, None
        return True, float(text)
    if dtype == "date":
        try:
            d = datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            return False, None
        # strptime accepts unpadded fields; the files must be written exactly as the format says.
        return d.strftime(fmt) == text, d
    if dtype == "str":
        return True, text
    raise SystemExit("check_schools.py: dtype %r is not known here" % dtype)


def check_fails(name, arg, value):
    """The failing check's label, or None when value passes."""
    if name == "in_range":
        lo, hi = arg["min_value"], arg["max_value"]
        ok = (value >= lo if arg.get("include_min", True) else value > lo) and \
             (value <= hi if arg.get("include_max", True) else value < hi)
        return None if ok else "in_range"
    if name == "greater_than_or_equal_to":
        return None if value >= arg else "greater_than_or_equal_to"
    if name == "isin":
        return None if value in arg else "isin"
    if name == "str_matches":
        return None if re.match(arg, value) else "str_matches"
    if name == "str_length":
        n = len(value)
        ok = arg.get("min_value", 0) <= n <= arg.get("max_value", math.inf)
        return None if ok else "str_length"
    raise SystemExit("check_schools.py: check %r is not known here" % name)


def check_file(spec, path):
    """Returns the failures of one file: (line, URN or "", column, check, value)."""
    schema = spec["schema"]
    cols = schema["columns"]
    encoding = spec.get("encoding", "utf-8")
    failures = []
    names = None
    if not spec.get("has_header", True):
        names = list(spec["column_names"])
    uniques = {c: {} for c, s in cols.items() if s.get("unique")}
    frame_sets = schema.get("unique")
    if frame_sets and isinstance(frame_sets[0], str):
        frame_sets = [frame_sets]
    frame_seen = [dict() for _ in frame_sets or []]
    spec_nulls = set(spec.get("null_values") or [])
    for line, fields in records(path, encoding):
        if names is None:
            names = fields
            if schema.get("strict") is True and set(names) != set(cols):
                failures.append((line, "", "", "column_in_schema", ",".join(
                    sorted(set(names) ^ set(cols)))))
            continue
        urn = fields[0] if fields else ""
        if len(fields) != len(names):
            failures.append((line, urn, "", "field_count", "%d fields, expected %d" %
                             (len(fields), len(names))))
            continue
        values = {}
        for name, text in zip(names, fields):
            s = cols[name]
            nulls = spec_nulls | set(s.get("null_values") or [])
            if text == "" or text in nulls:
                if not s.get("nullable", False):
                    failures.append((line, urn, name, "not_nullable", text))
                values[name] = None
                continue
            ok, value = parse(s["dtype"], text, s.get("format"))
            if not ok:
                failures.append((line, urn, name, "dtype('%s')" % s["dtype"], text))
                values[name] = None
                continue
            values[name] = value
            for check, arg in (s.get("checks") or {}).items():
                bad = check_fails(check, arg, value)
                if bad:
                    failures.append((line, urn, name, bad, text))
            if name in uniques:
                # astro keeps the first occurrence and fails each later copy (validate.h).
                if value in uniques[name]:
                    failures.append((line, urn, name, "unique", text))
                else:
                    uniques[name][value] = line
        for i, cols_set in enumerate(frame_sets or []):
            key = tuple(values[c] for c in cols_set)
            if None in key:
                continue
            if key in frame_seen[i]:
                failures.append((line, urn, "", "frame_unique", ",".join(map(str, key))))
            else:
                frame_seen[i][key] = line
    failures.sort()
    return failures


def check_properties(path, encoding, is_edubase):
    """The file properties the example promises (README.md). Returns a list of problems."""
    raw = open(path, "rb").read()
    problems = []

    def need(cond, what):
        if not cond:
            problems.append("%s: %s" % (os.path.basename(path), what))

    text = raw.decode(encoding)  # strict: raises on any byte the encoding does not define
    need(len(raw) < 2_000_000, "committed example must stay under 2 MB (%d bytes)" % len(raw))
    if is_edubase:
        for byte, what in ((b"\x92", "’ (0x92)"), (b"\xe9", "é"), (b"\xf4", "ô"), (b"\xa3", "£")):
            need(byte in raw, "has no %s" % what)
        need(raw.count(b"\n") == raw.count(b"\r\n"), "every line break is CRLF")
        need(re.search(rb',"[^"\r\n]*,[^"\r\n]*",', raw) is not None, "has a quoted comma")
        need(b'""' in raw.replace(b',"",', b""), "has a doubled quote in a quoted field")
        need(re.search(rb'"[^",\r\n]+\r\n[^",\r\n]+"', raw) is not None,
             "has a quoted field holding CRLF")
        need(b",," in raw, "has empty fields")
        need(re.search(rb",[0-9]{2}-[0-9]{2}-[0-9]{4},", raw) is not None, "has dd-mm-yyyy dates")
        need("ŵ" not in text, "holds no character outside windows-1252")
    else:
        need(b"\r" not in raw, "has LF record ends")
        need(raw[:1].isdigit(), "has no header row")
        need(any(b >= 0x80 for b in raw), "has non-ASCII UTF-8")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", help="a source folder: data or bad")
    ap.add_argument("--config", default=os.path.join(HERE, "astro.yaml"))
    ap.add_argument("--expected", metavar="TSV", help="failures gen_schools.py --bad listed")
    ap.add_argument("--properties", action="store_true")
    a = ap.parse_args()
    with open(a.config, encoding="utf-8") as f:
        config = yaml.safe_load(f)
    found = []
    problems = []
    for spec in config["ingest_files"]:
        matches = [n for n in sorted(os.listdir(a.dir))
                   if fnmatch.fnmatchcase(n, spec["source_pattern"])]
        if len(matches) != 1:
            problems.append("%s: %d files match %r" % (spec["name"], len(matches),
                                                        spec["source_pattern"]))
            continue
        path = os.path.join(a.dir, matches[0])
        for fail in check_file(spec, path):
            found.append((matches[0],) + fail)
        if a.properties:
            problems += check_properties(path, spec.get("encoding", "utf-8"),
                                         spec["name"] == "establishments")
    for p in problems:
        print("PROBLEM\t" + p)
    for f in found:
        print("%s\t%d\t%s\t%s\t%s\t%s" % f)
    if a.expected:
        with open(a.expected, encoding="utf-8") as f:
            rows = [l.rstrip("\n").split("\t") for l in f][1:]
        want = sorted((int(r[0]), r[1], r[2], r[3], r[4]) for r in rows)
        got = sorted(f[1:] for f in found)
        if want != got:
            print("MISMATCH with %s:" % a.expected)
            for w in want:
                if w not in got:
                    print("  expected, not found:", w)
            for g in got:
                if g not in want:
                    print("  found, not expected:", g)
            return 1
        print("OK: %d failures, as %s lists" % (len(got), a.expected))
        return 1 if problems else 0
    if not found and not problems:
        print("OK: no failures")
    return 1 if found or problems else 0


if __name__ == "__main__":
    sys.exit(main())
