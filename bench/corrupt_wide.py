#!/usr/bin/python3
"""corrupt_wide.py - the 1%-bad variant of the wide (schools register) file, deterministically.

Usage: corrupt_wide.py IN.csv OUT.csv      (UTF-8 in and out; the header row is kept)

Each block of 100 records gets exactly one bad record, at a position drawn from the block number;
the kinds cycle through KINDS, one column each, every one a value that examples/schools/astro.yaml
refuses: an impossible date, "$12.00" in an integer column, "NULL" in a non-nullable code, an
unknown enum value, a malformed postcode, a malformed telephone number. Records are read and
written with the csv module using the generator's own settings (CRLF, minimal quoting), so every
other record comes out byte for byte as it went in. Writes OUT.csv.tmp and renames it.
"""
import csv
import os
import sys

KINDS = [
    ("OpenDate", "31-02-2024"),
    ("SchoolCapacity", "$12.00"),
    ("LA (code)", "NULL"),
    ("Gender (name)", "Unknown"),
    ("Postcode", "not a postcode"),
    ("TelephoneNum", "12345"),
]
M64 = (1 << 64) - 1


def mix64(x):
    """splitmix64's finaliser (the same as bench/gen_orders.c)."""
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    bad = 0
    with open(src, encoding="utf-8", newline="", buffering=1 << 20) as fin, \
            open(dst + ".tmp", "w", encoding="utf-8", newline="", buffering=1 << 20) as fout:
        r = csv.reader(fin)
        w = csv.writer(fout, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        header = next(r)
        w.writerow(header)
        col = {name: i for i, name in enumerate(header)}
        at = -1
        for i, rec in enumerate(r):
            if i % 100 == 0:
                at = i + mix64(0x77696465 ^ (i // 100)) % 100
            if i == at:
                name, value = KINDS[(i // 100) % len(KINDS)]
                rec[col[name]] = value
                bad += 1
            w.writerow(rec)
    os.replace(dst + ".tmp", dst)
    sys.stderr.write("corrupt_wide.py: %d bad records in %s\n" % (bad, dst))


if __name__ == "__main__":
    main()
