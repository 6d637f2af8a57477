#!/usr/bin/env bash
# test_readme_config.sh - the astro.yaml reference in README.md is a configuration astro accepts:
# loading it (with an empty source folder) must fail only because the files are missing.
. "$(dirname "$0")/lib.sh"

"$PY" - "$ASTRO_SRC/README.md" > astro.yaml <<'PYEOF'
import re, sys
text = open(sys.argv[1]).read()
section = text.split("## astro.yaml reference", 1)[1]
block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
print(block)
PYEOF
grep -q "ingest_files:" astro.yaml || fail "no yaml block found in the README's astro.yaml reference"
mkdir empty
run_astro ingest empty
assert_eq "$RC" "1" "the README's astro.yaml loads (exit 1 for the missing files, not 2): $ERR"
assert_contains "$ERR" "missing: establishments" "the README's ingest file is expected"
pass "README astro.yaml reference is a valid configuration"
