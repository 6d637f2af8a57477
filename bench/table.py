#!/usr/bin/python3
"""table.py - prints bench/run's results (a TSV file) as the benchmark table, then the targets.

Usage: table.py RESULTS.tsv

One line per task, case and tool: median wall seconds (min-max over the runs), MB/s (10^6 bytes
of input CSV per second, at the median), rows/s, peak RSS (the largest of the runs, MiB), the
rows the tool kept (valid rows written or loaded), and astro's ratios to that tool in the same
case: speed (astro's rows/s over the tool's; above 1 means astro is faster; peers run on a
smaller file are compared by rows/s) and memory (astro's peak RSS over the tool's; below 1 means
astro uses less). Tools whose name starts with "astro" are astro's lines; a peer with a thread
count ("duckdb 2t") is compared with astro at the same count ("astro 2t"), and one checking the
keys ("... + key", task 7) with astro checking them ("astro 2t + key"); any other peer with the
case's first astro line (tasks 3 and 4: "astro ingest + run"). "n/a" where there is no astro
line to compare with. Then the memory flatness (peak RSS at ten times the rows over peak RSS at
the small size) and the issues' targets, met or not, with the measured gap (issue 15's with
wall time and CPU time, user + system, when the results have it).
Standard library only.
"""
import csv
import re
import statistics
import sys

TASKS = {"1": "1 CSV->Parquet", "2": "2 memory", "3": "3 PostgreSQL", "4": "4 PG peers",
         "5": "5 validate", "6": "6 watch", "7": "7 keys", "8": "8 keys, 256M",
         "9": "9 NDJSON->Parquet", "10": "10 csv.gz->Parquet", "11": "11 Parquet input",
         "12": "12 JSON array->Parquet"}


def load(path):
    groups = {}   # (task, case) -> {tool: [rows]}
    order = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            key = (r["task"], r["case"])
            if key not in groups:
                groups[key] = {}
                order.append(key)
            groups[key].setdefault(r["tool"], []).append(r)
    return groups, order


def summary(runs):
    ok = [r for r in runs if r["status"] == "ok"]
    if not ok:
        status = runs[0]["status"] if runs else "n/a"
        return {"status": status}
    secs = [float(r["seconds"]) for r in ok]
    med = statistics.median(secs)
    rss = [int(r["rss_kb"]) for r in ok if r["rss_kb"]]
    cpu = [float(r["cpu_s"]) for r in ok if r.get("cpu_s")]
    kept = {r["kept"] for r in ok}
    failed = len(runs) - len(ok)
    return {
        "status": "ok" if not failed else "%d failed" % failed,
        "n": len(ok), "med": med, "min": min(secs), "max": max(secs),
        "mbps": int(ok[0]["bytes"]) / 1e6 / med if med > 0 else 0.0,
        "rps": int(ok[0]["rows"]) / med if med > 0 else 0.0,
        "rss": max(rss) / 1024 if rss else None,
        "cpu": statistics.median(cpu) if cpu else None,
        "kept": kept.pop() if len(kept) == 1 else "varies",
    }


def fmt_rate(x):
    if x >= 1e6:
        return "%.2fM" % (x / 1e6)
    if x >= 1e3:
        return "%.0fk" % (x / 1e3)
    return "%.0f" % x


def threads_of(tool):
    m = re.search(r"\b([0-9]+)t\b", tool)
    return m.group(1) if m else None


def keyed(tool):
    """A line that checks the keys (task 7: "astro 2t + key", "duckdb 2t + checks + key")."""
    return tool.endswith("+ key")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    groups, order = load(sys.argv[1])
    stats = {k: {tool: summary(runs) for tool, runs in groups[k].items()} for k in order}
    # Tasks 3 and 4 share their cases: astro's rows of the case live under task 3. Per case, the
    # astro lines in the order they were recorded.
    astros = {}
    for (task, case), tools in stats.items():
        for tool, s in tools.items():
            if tool.startswith("astro"):
                astros.setdefault(case, []).append((tool, s))

    def astro_for(case, tool):
        """The astro line a peer is compared with (None when the case has none)."""
        lines = astros.get(case, [])
        t = threads_of(tool)
        if t is not None:
            for name, s in lines:
                if threads_of(name) == t and keyed(name) == keyed(tool):
                    return s
        return lines[0][1] if lines else None

    head = ("| task | case | tool | median s (min-max) | MB/s | rows/s | peak RSS MiB | kept "
            "| astro speed x | astro RSS x |")
    print(head)
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for key in order:
        task, case = key
        for tool, s in stats[key].items():
            a = astro_for(case, tool)
            if s["status"] == "n/a":
                print("| %s | %s | %s | n/a (not implemented yet) | | | | | | |"
                      % (TASKS.get(task, task), case, tool))
                continue
            if "med" not in s:
                print("| %s | %s | %s | %s | | | | | | |" % (TASKS.get(task, task), case, tool,
                                                          s["status"]))
                continue
            sp = rm = ""
            if not tool.startswith("astro"):
                if a is None or "med" not in a:
                    sp = rm = "n/a"
                else:
                    sp = "%.2f" % (a["rps"] / s["rps"])
                    rm = "%.2f" % (a["rss"] / s["rss"]) if a["rss"] and s["rss"] else ""
            note = "" if s["status"] == "ok" else " (%s)" % s["status"]
            print("| %s | %s | %s | %.2f (%.2f-%.2f)%s | %.0f | %s | %.0f | %s | %s | %s |"
                  % (TASKS.get(task, task), case, tool, s["med"], s["min"], s["max"], note,
                     s["mbps"], fmt_rate(s["rps"]), s["rss"] or 0, s["kept"], sp, rm))

    # Memory flatness: the task-2 small case against the same tools on the ten-times file.
    small = [k for k in order if k[0] == "2"]
    flat = {}
    if small:
        print()
        print("Memory flatness (peak RSS at 10x the rows / at 1x):")
        sizes = sorted({k[1] for k in order if k[0] in ("1", "2") and k[1].startswith("orders")
                        and "bad" not in k[1]}, key=lambda c: int(stats_rows(stats, order, c)))
        if len(sizes) >= 2:
            lo, hi = sizes[0], sizes[-1]
            for tool, s in stats[("2", lo)].items():
                big = find(stats, order, hi, tool)
                if big and "rss" in s and big.get("rss"):
                    flat[tool] = big["rss"] / s["rss"]
                    print("  %-28s %6.0f MiB (%s) -> %6.0f MiB (%s): x%.2f"
                          % (tool, s["rss"], lo, big["rss"], hi, flat[tool]))

    if any(k[0] in ("3", "4") for k in order):
        print()
        print("PostgreSQL lines: peak RSS is the client's (psql, pgloader, python); the server's")
        print("work is not in it. pgloader and the textbook script run on smaller files and are")
        print("compared by rows/s.")
    formats = [k for k in order if k[0] in ("9", "10", "12")]
    if formats:
        print()
        print("CPU seconds (user + system, median; wall time on a shared machine moves with its")
        print("load, CPU time much less), astro's over the peer's at the same threads:")
        for key in formats:
            for tool, s in stats[key].items():
                a = astro_for(key[1], tool)
                if tool.startswith("astro") or not s.get("cpu") or not a or not a.get("cpu"):
                    continue
                print("  %-22s %-26s astro %5.2f s, %s %5.2f s: x%.2f"
                      % (key[1], tool, a["cpu"], tool, s["cpu"], a["cpu"] / s["cpu"]))
    if any(k[0] in ("1", "2", "3", "4", "5", "6") for k in order):
        print()
        print("Targets (issue 5):")
        targets(stats, astros, astro_for, flat)
    if any(k[0] in ("1", "2", "7", "8") for k in order):
        print()
        print("Targets (issue 15):")
        key_targets(stats, astro_for)
    if formats:
        print()
        print("Targets (issue 12):")
        format_targets(stats, formats, astro_for)


def format_targets(stats, formats, astro_for):
    """Issue 12: ahead of DuckDB on each format at the same threads, peak RSS <= 1/4 of its."""
    for key in formats:
        for tool, s in stats[key].items():
            a = astro_for(key[1], tool)
            if tool.startswith("astro") or "med" not in s or not a or "med" not in a:
                continue
            r = a["rps"] / s["rps"]
            print("  %s, %s: astro ahead: %s (x%.2f the rows/s: %.2f s vs %.2f s)"
                  % (key[1], tool, "met" if r > 1 else "NOT met", r, a["med"], s["med"]))
            if a.get("rss") and s.get("rss"):
                m = a["rss"] / s["rss"]
                print("  %s, %s: astro peak RSS <= 1/4: %s (x%.2f: %.0f vs %.0f MiB)"
                      % (key[1], tool, "met" if m <= 0.25 else "NOT met", m, a["rss"], s["rss"]))


def alone(part, peer):
    """The run part (the load from Parquet alone) against the same peer."""
    if part is None:
        return ""
    return "; the run part alone %.2f s, x%.2f" % (part["med"], part["med"] / peer["med"])


def pick(tools, prefix):
    """The first line of a case whose tool name starts with prefix, when it has a median."""
    for tool, s in tools.items():
        if tool.startswith(prefix) and "med" in s:
            return s
    return None


def targets(stats, astros, astro_for, flat):
    # 1. Clean files only: on the bad files astro validates and writes no Parquet.
    for t in ("1", "2"):
        worst = None
        for (task, case), tools in stats.items():
            if task != "1" or "bad" in case:
                continue
            for tool, s in tools.items():
                a = astro_for(case, tool)
                if tool.startswith("duckdb") and threads_of(tool) == t and "med" in s \
                        and a and "med" in a:
                    r = a["rps"] / s["rps"]
                    if worst is None or r < worst[0]:
                        worst = (r, case, tool)
        if worst:
            print("  1. astro %st >= 2x DuckDB %st throughput: %s (lowest x%.2f: %s vs %s)"
                  % (t, t, "met" if worst[0] >= 2 else "NOT met", worst[0], worst[1], worst[2]))
    worst = None
    for (task, case), tools in stats.items():
        if task != "1":
            continue
        for tool, s in tools.items():
            a = astro_for(case, tool)
            if tool.startswith("duckdb") and a and a.get("rss") and s.get("rss"):
                r = a["rss"] / s["rss"]
                if worst is None or r > worst[0]:
                    worst = (r, case, tool)
    if worst:
        print("  2. astro peak RSS <= 1/4 of DuckDB's (same threads): %s (highest x%.2f: %s vs %s)"
              % ("met" if worst[0] <= 0.25 else "NOT met", worst[0], worst[1], worst[2]))
    for tool in sorted(t for t in flat if t.startswith("astro")):
        print("  2. %s memory flat (10x rows, <= 1.2x RSS): %s (x%.2f)"
              % (tool, "met" if flat[tool] <= 1.2 else "NOT met", flat[tool]))

    cases = {}
    for (task, case), tools in stats.items():
        cases.setdefault(case, {}).update(tools)
    for case, tools in cases.items():
        a = pick(tools, "astro ingest + run")
        if a is None:
            continue
        part = pick(tools, "astro: the run part")
        if case.endswith(" append"):
            p = pick(tools, "psql \\copy (no key)")
            if p:
                r = a["med"] / p["med"]
                print("  3. append (%s): astro ingest + run <= psql \\copy (no key): %s "
                      "(%.2f s vs %.2f s, x%.2f%s)" % (case, "met" if r <= 1 else "NOT met",
                                                      a["med"], p["med"], r, alone(part, p)))
            p = pick(tools, "pgloader")
            if p:
                r = a["rps"] / p["rps"]
                print("  4. append: astro >= 5x pgloader's rows/s: %s (x%.1f: %s vs %s rows/s)"
                      % ("met" if r >= 5 else "NOT met", r, fmt_rate(a["rps"]),
                         fmt_rate(p["rps"])))
        if case.endswith(" upsert"):
            p = pick(tools, "psql staging")
            if p:
                r = a["med"] / p["med"]
                print("  3. upsert (%s): astro ingest + run <= 1.1x staging + ON CONFLICT: %s "
                      "(%.2f s vs %.2f s, x%.2f%s)" % (case, "met" if r <= 1.1 else "NOT met",
                                                      a["med"], p["med"], r, alone(part, p)))
            p = pick(tools, "textbook executemany")
            if p:
                r = a["rps"] / p["rps"]
                print("  4. upsert: astro >= 20x textbook executemany's rows/s: %s "
                      "(x%.1f: %s vs %s rows/s)" % ("met" if r >= 20 else "NOT met", r,
                                                   fmt_rate(a["rps"]), fmt_rate(p["rps"])))
    watch_targets(stats)
    for case, tools in cases.items():
        a = pick(tools, "astro 2t")
        if a and case.startswith("orders") and "validate" in case:
            print("  5. astro validate --threads 2 >= 400 MB/s on %s: %s (%.0f MB/s, x%.2f of "
                  "the target)"
                  % (case, "met" if a["mbps"] >= 400 else "NOT met", a["mbps"],
                     a["mbps"] / 400))


def watch_targets(stats):
    """Issue 11's targets for astro watch (task 6)."""
    for (task, case), tools in stats.items():
        if task != "6":
            continue
        a = pick(tools, "astro watch")
        if case.endswith(" watch append"):
            p = pick(tools, "psql \\copy (no key)")
            if a and p:
                r = a["med"] / p["med"]
                print("  6. watch append (%s): astro watch <= psql \\copy, validating every row: "
                      "%s (%.2f s vs %.2f s, x%.2f)"
                      % (case, "met" if r <= 1 else "NOT met", a["med"], p["med"], r))
        if "upsert" in case:
            p = pick(tools, "psql staging")
            if a and p:
                r = a["med"] / p["med"]
                print("  6. watch upsert (%s): astro watch <= staging + ON CONFLICT: %s "
                      "(%.2f s vs %.2f s, x%.2f)"
                      % (case, "met" if r <= 1 else "NOT met", a["med"], p["med"], r))
            p = pick(tools, "textbook executemany")
            if a and p:
                r = a["rps"] / p["rps"]
                print("  6. watch upsert: astro watch >= 20x the textbook service's rows/s: %s "
                      "(x%.1f: %s vs %s rows/s)" % ("met" if r >= 20 else "NOT met", r,
                                                   fmt_rate(a["rps"]), fmt_rate(p["rps"])))
        if "20 files" in case:
            one = pick(tools, "astro watch 1")
            two = pick(tools, "astro watch 2")
            if one and two:
                print("  6. watch, 2 workers against 1 on a stream of 20 files: x%.2f the "
                      "throughput (%.2f s vs %.2f s)" % (one["med"] / two["med"], two["med"],
                                                          one["med"]))
        if "latency" in case or "readiness -> commit" in case:
            lat = pick(tools, "astro watch")
            if lat:
                ms = lat["med"] * 1000
                print("  6. watch latency, readiness -> commit of a small file < 1 s: %s "
                      "(median %.0f ms)" % ("met" if ms < 1000 else "NOT met", ms))


def ratio_text(a, p):
    """astro over a peer: wall time, and CPU time when both have it."""
    t = "wall x%.2f (%.2f s vs %.2f s)" % (a["med"] / p["med"], a["med"], p["med"])
    if a.get("cpu") and p.get("cpu"):
        t += ", CPU x%.2f (%.2f s vs %.2f s)" % (a["cpu"] / p["cpu"], a["cpu"], p["cpu"])
    return t


def time_ratio(a, p):
    """astro's time over a peer's: CPU time when both lines have it (on a shared machine the
    steadier figure; bench/README.md), else wall time. Returns (ratio, what)."""
    if a.get("cpu") and p.get("cpu"):
        return a["cpu"] / p["cpu"], "CPU"
    return a["med"] / p["med"], "wall"


def key_targets(stats, astro_for):
    """Issue 15: what the key costs astro (task 7), astro against DuckDB on every Parquet task at
    the same thread count (task 7 with the keys checked by both), and the big file under the
    memory limit (task 8). Time is judged on CPU time when the results have it (wall time is
    printed beside it)."""
    for (task, case), tools in stats.items():
        if task != "7":
            continue
        for t in ("1", "2"):
            a, k = tools.get("astro %st" % t), tools.get("astro %st + key" % t)
            if a and k and "med" in a and "med" in k:
                r, what = time_ratio(k, a)
                print("  15. unique on order_id costs <= 20%% more time, %st (%s): %s in %s time "
                      "(%s)" % (t, case, "met" if r <= 1.2 else "NOT met", what, ratio_text(k, a)))
    # Every Parquet task (1, 2, 7; clean files: on the bad ones astro writes no Parquet), each
    # DuckDB line against astro at the same thread count; in task 7 only the lines checking keys.
    for t in ("1", "2"):
        worst_t = worst_m = None
        for (task, case), tools in stats.items():
            if task not in ("1", "2", "7") or "bad" in case:
                continue
            for tool, s in tools.items():
                if not tool.startswith("duckdb") or threads_of(tool) != t or "med" not in s:
                    continue
                if task == "7" and not keyed(tool):
                    continue
                a = astro_for(case, tool)
                if not a or "med" not in a:
                    continue
                r, _ = time_ratio(a, s)
                if worst_t is None or r > worst_t[0]:
                    worst_t = (r, case, tool, a, s)
                if a.get("rss") and s.get("rss"):
                    m = a["rss"] / s["rss"]
                    if worst_m is None or m > worst_m[0]:
                        worst_m = (m, case, tool, a, s)
        if worst_t:
            r, case, tool, a, s = worst_t
            print("  15. astro %st <= 1/3 of DuckDB %st's time, every Parquet task: %s in %s time "
                  "(highest %s: %s vs %s)"
                  % (t, t, "met" if r <= 1 / 3 else "NOT met", time_ratio(a, s)[1],
                     ratio_text(a, s), case, tool))
        if worst_m:
            m, case, tool, a, s = worst_m
            print("  15. astro %st <= 1/4 of DuckDB %st's peak RSS, every Parquet task: %s "
                  "(highest x%.2f: %.0f vs %.0f MiB, %s vs %s)"
                  % (t, t, "met" if m <= 0.25 else "NOT met", m, a["rss"], s["rss"], case, tool))
        for (task, case), tools in stats.items():
            k, s = tools.get("astro %st + key" % t), tools.get("duckdb %st + checks + key" % t)
            if task == "7" and k and s and "med" in k and "med" in s:
                print("      with the key, %st (%s): %s; peak RSS x%.2f (%.0f vs %.0f MiB)"
                      % (t, case, ratio_text(k, s), k["rss"] / s["rss"], k["rss"], s["rss"]))
    for (task, case), tools in stats.items():
        if task != "8":
            continue
        for t in ("1", "2"):
            a, k = tools.get("astro %st" % t), tools.get("astro %st + key" % t)
            if k and k.get("rss"):
                base = ("; without the key %.0f MiB (x%.2f)" % (a["rss"], k["rss"] / a["rss"])
                        if a and a.get("rss") else "")
                print("  15. %st, %s: peak RSS %.0f MiB, within the 256 MiB limit: %s (%.2f s%s)"
                      % (t, case, k["rss"], "met" if k["rss"] <= 256 else "NOT met", k["med"],
                         base))


def stats_rows(stats, order, case):
    for k in order:
        if k[1] == case:
            for s in stats[k].values():
                if "rps" in s:
                    return s["rps"] * s["med"]
    return 0


def find(stats, order, case, tool):
    for k in order:
        if k[1] == case and tool in stats[k] and "med" in stats[k][tool]:
            return stats[k][tool]
    return None


if __name__ == "__main__":
    main()
