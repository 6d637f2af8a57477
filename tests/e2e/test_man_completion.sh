#!/usr/bin/env bash
# test_man_completion.sh - the manual page (docs/astro.1) and the bash completion
# (contrib/astro.bash-completion) stay true to `astro --help`: every command and every option the
# help texts name is in both; the page renders without groff warnings; the completion completes
# commands, options, their values, file and folder names and run ids; and `cmake --install`
# puts them in share/man/man1 and share/bash-completion/completions under the prefix.
. "$(dirname "$0")/lib.sh"

MAN=$ASTRO_SRC/docs/astro.1
COMP=$ASTRO_SRC/contrib/astro.bash-completion
# The page's text with roff's \- written as -, so that --fail-fast reads as it is typed.
man_text=$(sed 's/\\-/-/g' "$MAN")

# The commands of `astro --help` (the lines under "Commands:" up to the blank line).
commands=$("$ASTRO_BIN" --help | awk '/^Commands:/{on=1; next} on && /^$/{exit} on && /^  [a-z]/{print $1}')
[ "$(echo "$commands" | wc -l)" -ge 7 ] || fail "too few commands read from astro --help: $commands"
# The options each help text names (--word), per command; the global ones from astro --help.
opts_of() { # ARGS...: the --options `astro ARGS --help` names
  "$ASTRO_BIN" "$@" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u
}
global_opts=$(opts_of)
for o in $global_opts; do
  assert_contains "$man_text" "$o" "the man page names the global option $o"
done
for c in $commands; do
  assert_contains "$man_text" ".SS $c" "the man page has a section for the command $c"
done
for args in ingest validate "schema infer" run runs "runs abandon" status watch; do
  for o in $(opts_of $args); do
    assert_contains "$man_text" "$o" "the man page names $o of astro $args"
  done
done
if command -v groff >/dev/null; then
  warn=$(groff -man -Tutf8 -ww -z "$MAN" 2>&1)
  assert_eq "$warn" "" "groff renders docs/astro.1 without warnings"
  page=$(groff -man -Tascii -P-c -P-b -P-u "$MAN" 2>/dev/null)
  assert_contains "$page" "schema infer FILE" "the rendered page holds the commands"
else
  [ "${CI:-}" = "true" ] && fail "groff is not installed under CI (scripts/deps installs groff-base)"
  echo "note: groff not installed; the rendering check is skipped"
fi
pass "the man page names every command and option of astro --help"

# The completion, driven as bash drives it: COMP_WORDS, COMP_CWORD, then _astro; COMPREPLY out.
complete_line() { # WORDS...: the completions of the last word (may be "")
  bash -c '
    . "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    _astro
    printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$COMP" "$@"
}
got=$(complete_line astro "")
for c in $commands; do
  assert_contains "$got" "$c" "astro <TAB> offers $c"
done
assert_eq "$(complete_line astro va)" "validate" "astro va<TAB>"
got=$(complete_line astro --)
for o in $global_opts; do
  assert_contains "$got" "$o" "astro --<TAB> offers $o"
done
for args in ingest validate "schema infer" run runs "runs abandon" status watch; do
  got=$(complete_line astro $args --)
  for o in $(opts_of $args); do
    assert_contains "$got" "$o" "astro $args --<TAB> offers $o"
  done
done
assert_eq "$(complete_line astro --log-format "")" "json
text" "--log-format values"
assert_eq "$(complete_line astro schema infer x.csv --format "")" "csv
json
ndjson
parquet
xlsx" "schema infer --format values"
assert_eq "$(complete_line astro validate x.csv --format "")" "json
text" "validate --format values"
assert_eq "$(complete_line astro schema "")" "infer" "astro schema <TAB>"
# File names for FILE, folders for SOURCE_DIR, run ids for RUN_ID.
mkdir -p deliv/d1 .working/ab12c .working/zz9yq .working/notarun
: > register.csv
: > .working/ab12c/manifest.json
: > .working/zz9yq/manifest.json
assert_eq "$(complete_line astro validate reg)" "register.csv" "validate FILE completes file names"
assert_eq "$(complete_line astro -q schema infer reg)" "register.csv" "schema infer FILE, after a global option"
assert_eq "$(complete_line astro ingest deliv/)" "deliv/d1" "ingest SOURCE_DIR completes folders only"
assert_eq "$(complete_line astro ingest reg)" "" "no file names for SOURCE_DIR"
assert_eq "$(complete_line astro status "")" "ab12c
zz9yq" "status RUN_ID completes the run ids"
assert_eq "$(complete_line astro run a)" "ab12c" "run RUN_ID"
assert_eq "$(complete_line astro runs abandon z)" "zz9yq" "runs abandon RUN_ID"
mkdir -p proj/.working/pp1xx && : > proj/.working/pp1xx/manifest.json
assert_eq "$(complete_line astro --config proj/astro.yaml status "")" "pp1xx" "run ids next to --config"
pass "bash completion: commands, options, values, files, folders and run ids"

# cmake --install puts both where man and bash-completion look, under the prefix.
: "${ASTRO_BUILD:?ASTRO_BUILD must point at the build folder}"
cmake --install "$ASTRO_BUILD" --prefix "$T/prefix" >"$T/install.log" 2>&1 ||
  fail "cmake --install failed: $(cat "$T/install.log")"
[ -f "$T/prefix/share/man/man1/astro.1" ] || fail "no share/man/man1/astro.1: $(cat "$T/install.log")"
[ -f "$T/prefix/share/bash-completion/completions/astro" ] ||
  fail "no share/bash-completion/completions/astro: $(cat "$T/install.log")"
cmp -s "$MAN" "$T/prefix/share/man/man1/astro.1" || fail "the installed page differs from docs/astro.1"
cmp -s "$COMP" "$T/prefix/share/bash-completion/completions/astro" ||
  fail "the installed completion differs from contrib/astro.bash-completion"
[ -x "$T/prefix/bin/astro" ] || fail "the binary is installed too"
if command -v man >/dev/null; then
  page=$(MANPATH="$T/prefix/share/man" MANWIDTH=80 man astro 2>&1 | col -b 2>/dev/null | tr -s " \t" " " || true)
  assert_contains "$page" "astro - validate delivered files" "man astro finds the installed page"
fi
pass "cmake --install puts the man page and the completion under the prefix"
