#!/usr/bin/python3
"""bench/gen_schools.py - the example generator (examples/schools/gen_schools.py) for large files.

Same options; only the defaults differ: --rows 3000000 (about 1.8 GB of windows-1252 CSV plus a
65 MB links file, about 2.5 minutes) and --out bench/data (ignored by git). Never commit its output.
"""
import os
import runpy
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
args = sys.argv[1:]
if not any(a == "--rows" or a.startswith("--rows=") for a in args):
    args = ["--rows", "3000000"] + args
if not any(a == "--out" or a.startswith("--out=") for a in args):
    args = ["--out", os.path.join(HERE, "data")] + args
sys.argv = [sys.argv[0]] + args
runpy.run_path(os.path.join(HERE, "..", "examples", "schools", "gen_schools.py"),
               run_name="__main__")
