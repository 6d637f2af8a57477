#!/usr/bin/python3
"""duck_sql.py - DuckDB SQL doing the same work as astro for one dataset of an astro.yaml.

Usage: duck_sql.py CONFIG DATASET CSV (--parquet OUT | --count) [--checks] [--keys]
                   [--json | --json-array] [--source-parquet]

Prints one SQL statement (and, with --checks, a second one counting the rejected lines):
  --parquet OUT   COPY (SELECT * FROM read_csv(CSV, typed columns) [WHERE checks]) TO OUT (zstd)
  --count         SELECT count(*) FROM read_csv(CSV, typed columns) [WHERE checks]   (validate only)
  --checks        the schema's checks as WHERE clauses (nullable: false as IS NOT NULL, and
                  greater_than, in_range, isin, str_matches, str_length, email), and
                  store_rejects = true so that values that do not cast are set aside, not fatal.
  --keys          with --parquet: one more statement checking the schema's keys (every
                  unique: true column, and the frame-level unique list) on the Parquet file just
                  written, in the same DuckDB process: SELECT count(*) = count(DISTINCT key) AS
                  keys_unique FROM read_parquet(OUT), one count(DISTINCT ...) per key. Only keys
                  of non-nullable columns are translated (count(DISTINCT) skips nulls, which
                  Pandera counts as duplicates of each other).
  --json          the file is NDJSON: read_json(FILE, format = 'newline_delimited', columns =
                  {the schema's}) instead of read_csv (read_json has no store_rejects: a value
                  that does not cast fails the statement, which the benchmark's clean file has
                  none of).
  --json-array    the file is one JSON array of objects: read_json(FILE, format = 'array', ...).
  --source-parquet  CSV is a Parquet file: read_parquet, each column cast to the schema's type
                  (what astro's Parquet input does), instead of read_csv.

The columns come from the schema (types only from the schema, as astro does: auto_detect is off).
Only what the benchmark's schemas use is translated; anything else stops with an error, so that
the peer never silently checks less than the table claims. Nulls pass checks, as in Pandera.
Standard library plus python3-yaml; run with Debian's /usr/bin/python3.
"""
import re
import sys

import yaml

TYPES = {"int8": "TINYINT", "int16": "SMALLINT", "int32": "INTEGER", "int64": "BIGINT",
         "float32": "FLOAT", "float64": "DOUBLE", "str": "VARCHAR", "string": "VARCHAR",
         "bool": "BOOLEAN", "date": "DATE"}
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8"}


def lit(v):
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v)


def ident(name):
    return '"' + name.replace('"', '""') + '"'


def check_sql(col, name, arg):
    c = ident(col)
    if name in ("greater_than", "gt"):
        return "%s > %s" % (c, lit(arg))
    if name in ("greater_than_or_equal_to", "ge"):
        return "%s >= %s" % (c, lit(arg))
    if name in ("less_than", "lt"):
        return "%s < %s" % (c, lit(arg))
    if name in ("less_than_or_equal_to", "le"):
        return "%s <= %s" % (c, lit(arg))
    if name == "in_range":
        lo = ">=" if arg.get("include_min", True) else ">"
        hi = "<=" if arg.get("include_max", True) else "<"
        return "%s %s %s AND %s %s %s" % (c, lo, lit(arg["min_value"]), c, hi,
                                          lit(arg["max_value"]))
    if name == "isin":
        return "%s IN (%s)" % (c, ", ".join(lit(v) for v in arg))
    if name == "str_matches":
        # Pandera's str_matches is re.match: anchored at the start only.
        return "regexp_matches(%s, %s)" % (c, lit("^(?:" + arg + ")"))
    if name == "str_length":
        if not isinstance(arg, dict):
            arg = {"min_value": arg}
        parts = []
        if "exact_value" in arg:
            parts.append("length(%s) = %d" % (c, arg["exact_value"]))
        if arg.get("min_value") is not None:
            parts.append("length(%s) >= %d" % (c, arg["min_value"]))
        if arg.get("max_value") is not None:
            parts.append("length(%s) <= %d" % (c, arg["max_value"]))
        return " AND ".join(parts)
    if name == "email":
        return "regexp_full_match(%s, %s)" % (c, lit(r"[^@\s]+@[^@\s]+\.[^@\s]+"))
    sys.exit("duck_sql.py: check %s (column %s) has no DuckDB translation" % (name, col))


def main():
    a = sys.argv[1:]
    if len(a) < 4:
        sys.exit(__doc__)
    config, dataset, csv_path = a[0], a[1], a[2]
    checks = "--checks" in a
    json_array = "--json-array" in a
    json_in = "--json" in a or json_array
    from_parquet = "--source-parquet" in a
    out = a[a.index("--parquet") + 1] if "--parquet" in a else None
    if out is None and "--count" not in a:
        sys.exit(__doc__)
    with open(config, encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    entry = [x for x in cfg["ingest_files"] if x["name"] == dataset][0]
    schema = entry["schema"]
    enc = entry.get("encoding", "utf-8").lower()
    if enc not in ENCODINGS:
        sys.exit("duck_sql.py: DuckDB reads only UTF-8 here (not %s): give it a UTF-8 copy" % enc)
    cols, casts, where, datefmt = [], [], [], None
    # DuckDB's nullstr is one list for the whole file: the file's null_values and every column's
    # go into it (in the benchmark's schemas a column marker never appears in another column).
    nulls = [""] + list(entry.get("null_values") or [])
    for col, spec in schema["columns"].items():
        spec = spec or {}
        dt = str(spec.get("dtype", "str"))
        m = re.fullmatch(r"decimal\((\d+),\s*(\d+)\)", dt)
        sqlt = "DECIMAL(%s,%s)" % m.groups() if m else TYPES.get(dt)
        if sqlt is None:
            sys.exit("duck_sql.py: dtype %s has no DuckDB translation" % dt)
        if dt == "date" and spec.get("format"):
            if datefmt not in (None, spec["format"]):
                sys.exit("duck_sql.py: DuckDB's read_csv takes one dateformat per file")
            datefmt = spec["format"]
        cols.append("%s: %s" % (lit(col), lit(sqlt)))
        casts.append("CAST(%s AS %s) AS %s" % (ident(col), sqlt, ident(col)))
        nulls += [v for v in (spec.get("null_values") or []) if v not in nulls]
        if not checks:
            continue
        if not spec.get("nullable", False):
            where.append("%s IS NOT NULL" % ident(col))
        for name, arg in (spec.get("checks") or {}).items():
            cond = check_sql(col, name, arg)
            where.append("(%s IS NULL OR (%s))" % (ident(col), cond) if spec.get("nullable")
                         else "(%s)" % cond)
    opts = ["header = %s" % lit(entry.get("has_header", True)), "auto_detect = false",
            "delim = %s" % lit(entry.get("delimiter", ",")), "quote = '\"'", "escape = '\"'",
            "columns = {%s}" % ", ".join(cols)]
    if len(nulls) > 1:
        opts.append("nullstr = [%s]" % ", ".join(lit(v) for v in nulls))
    if datefmt:
        opts.append("dateformat = %s" % lit(datefmt))
    if checks and not json_in and not from_parquet:
        opts.append("store_rejects = true")
    src = "read_csv(%s, %s)" % (lit(csv_path), ", ".join(opts))
    if json_in:
        if datefmt or len(nulls) > 1:
            sys.exit("duck_sql.py: dateformat and null markers are not translated for read_json")
        src = "read_json(%s, format = '%s', columns = {%s})" % (
            lit(csv_path), "array" if json_array else "newline_delimited", ", ".join(cols))
    if from_parquet:
        src = "(SELECT %s FROM read_parquet(%s))" % (", ".join(casts), lit(csv_path))
    w = (" WHERE " + " AND ".join(where)) if where else ""
    if out:
        print("COPY (SELECT * FROM %s%s) TO %s (FORMAT parquet, COMPRESSION zstd)"
              % (src, w, lit(out)))
    else:
        print("SELECT count(*) AS valid_rows FROM %s%s" % (src, w))
    if checks and not json_in and not from_parquet:
        print("SELECT count(DISTINCT line) AS rejected_lines FROM reject_errors")
    if "--keys" in a:
        if out is None:
            sys.exit("duck_sql.py: --keys checks the keys of the Parquet file: it needs --parquet")
        print(keys_sql(schema, out))


def keys_sql(schema, out):
    """The key check of the schema's unique columns and frame-level unique set, one statement."""
    cols = schema["columns"]
    keys = [[c] for c, spec in cols.items() if (spec or {}).get("unique")]
    frame = schema.get("unique")
    if frame:
        keys.append([frame] if isinstance(frame, str) else list(frame))
    if not keys:
        sys.exit("duck_sql.py: --keys, but the schema has no unique column or unique list")
    for key in keys:
        for c in key:
            if (cols.get(c) or {}).get("nullable", False):
                sys.exit("duck_sql.py: key column %s is nullable: count(DISTINCT) would not see "
                         "its repeated nulls" % c)
    parts = []
    for key in keys:
        k = ident(key[0]) if len(key) == 1 else "(%s)" % ", ".join(ident(c) for c in key)
        parts.append("count(DISTINCT %s)" % k)
    return "SELECT %s AS keys_unique FROM read_parquet(%s)" % (
        " AND ".join("count(*) = %s" % p for p in parts), lit(out))


if __name__ == "__main__":
    main()
