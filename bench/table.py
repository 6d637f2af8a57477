#!/usr/bin/python3
"""table.py - prints bench/run's results (a TSV file) as the benchmark table, then the targets.

Usage: table.py RESULTS.tsv

One line per task, case and tool: median wall seconds (min-max over the runs), MB/s (10^6 bytes
of input CSV per second, at the median), rows/s, peak RSS (the largest of the runs, MiB), the
rows the tool kept (valid rows written or loaded), and astro's ratios to that tool in the same
case: speed (astro's rows/s over the tool's; above 1 means astro is faster; peers run on a
smaller file are compared by rows/s) and memory (astro's peak RSS over the tool's; below 1 means
astro uses less). "n/a" where astro cannot do the task yet. Then the memory flatness (peak RSS
at ten times the rows over peak RSS at the small size) and the issue's targets, met or not.
Standard library only.
"""
import csv
import statistics
import sys

TASKS = {"1": "1 CSV->Parquet", "2": "2 memory", "3": "3 PostgreSQL", "4": "4 PG peers",
         "5": "5 validate"}


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
    kept = {r["kept"] for r in ok}
    failed = len(runs) - len(ok)
    return {
        "status": "ok" if not failed else "%d failed" % failed,
        "n": len(ok), "med": med, "min": min(secs), "max": max(secs),
        "mbps": int(ok[0]["bytes"]) / 1e6 / med if med > 0 else 0.0,
        "rps": int(ok[0]["rows"]) / med if med > 0 else 0.0,
        "rss": max(rss) / 1024 if rss else None,
        "kept": kept.pop() if len(kept) == 1 else "varies",
    }


def fmt_rate(x):
    if x >= 1e6:
        return "%.2fM" % (x / 1e6)
    if x >= 1e3:
        return "%.0fk" % (x / 1e3)
    return "%.0f" % x


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    groups, order = load(sys.argv[1])
    stats = {k: {tool: summary(runs) for tool, runs in groups[k].items()} for k in order}
    # Tasks 3 and 4 share their cases: astro's row of the case lives under task 3.
    astro_of = {}
    for (task, case), tools in stats.items():
        if "astro" in tools:
            astro_of[case] = tools["astro"]

    head = ("| task | case | tool | median s (min-max) | MB/s | rows/s | peak RSS MiB | kept "
            "| astro speed x | astro RSS x |")
    print(head)
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for key in order:
        task, case = key
        a = astro_of.get(case)
        for tool, s in stats[key].items():
            if s["status"] == "n/a":
                print("| %s | %s | %s | n/a (not implemented yet) | | | | | | |"
                      % (TASKS.get(task, task), case, tool))
                continue
            if "med" not in s:
                print("| %s | %s | %s | %s | | | | | | |" % (TASKS.get(task, task), case, tool,
                                                          s["status"]))
                continue
            sp = rm = ""
            if tool != "astro":
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
    print()
    print("Targets (issue 5):")
    t1 = [(case, tool, s) for (task, case), tools in stats.items() if task == "1"
          for tool, s in tools.items() if tool.startswith("duckdb") and "med" in s]
    worst = None
    for case, tool, s in t1:
        a = astro_of.get(case)
        if a and "med" in a:
            r = a["rps"] / s["rps"]
            if worst is None or r < worst[0]:
                worst = (r, case, tool)
    if worst:
        print("  1. astro >= 2x DuckDB throughput: %s (lowest x%.2f, %s vs %s)"
              % ("met" if worst[0] >= 2 else "NOT met", worst[0], worst[1], worst[2]))
    worst = None
    for case, tool, s in t1:
        a = astro_of.get(case)
        if a and a.get("rss") and s.get("rss"):
            r = a["rss"] / s["rss"]
            if worst is None or r > worst[0]:
                worst = (r, case, tool)
    if worst:
        print("  2. astro peak RSS <= 1/4 of DuckDB's: %s (highest x%.2f, %s vs %s)"
              % ("met" if worst[0] <= 0.25 else "NOT met", worst[0], worst[1], worst[2]))
    if "astro" in flat:
        print("  2. astro memory flat (10x rows, <= 1.2x RSS): %s (x%.2f)"
              % ("met" if flat["astro"] <= 1.2 else "NOT met", flat["astro"]))
    print("  3. PostgreSQL append/upsert: astro not implemented yet")
    print("  4. >= 20x textbook executemany, >= 5x pgloader: astro not implemented yet")
    print("  5. astro validate >= 400 MB/s: astro validate not implemented yet")


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
