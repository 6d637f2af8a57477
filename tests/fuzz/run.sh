#!/usr/bin/env bash
# run.sh NAME SECONDS - runs the libFuzzer target fuzz_NAME (csv, config, pq_reader, json,
# decompress, xlsx, snappy) of the fuzz
# build for SECONDS, from the seeds plus the corpus it kept from earlier runs. ctest runs it for
# each target (label fuzz, in a build configured with -DASTRO_FUZZ=ON; scripts/test does so for
# 10 s each) and scripts/fuzz for longer.
# Environment: ASTRO_SRC (source tree), ASTRO_BUILD (the fuzz build folder).
# Exit status: libFuzzer's: 0 when nothing was found; otherwise the crash input is kept as
# ASTRO_BUILD/fuzz-artifacts/NAME-crash-* (replay: ASTRO_BUILD/fuzz_NAME THAT_FILE).
set -euo pipefail
name=${1:?usage: run.sh NAME SECONDS}
secs=${2:?usage: run.sh NAME SECONDS}
src=${ASTRO_SRC:?ASTRO_SRC must point at the source tree}
build=${ASTRO_BUILD:?ASTRO_BUILD must point at the fuzz build folder}
bin="$build/fuzz_$name"
[ -x "$bin" ] || { echo "FAIL: $bin not built (configure with -DASTRO_FUZZ=ON)"; exit 1; }

corpus="$build/fuzz-corpus/$name"
mkdir -p "$corpus" "$build/fuzz-artifacts"
seeds=()
opts=(-max_len=4096)
case "$name" in
  csv) seeds=("$src/tests/fuzz/seeds/csv") ;;
  config) seeds=("$src/tests/fuzz/seeds/config" "$src/tests/data/config") ;;
  json) seeds=("$src/tests/fuzz/seeds/json") ;;
  xlsx)
    # The XML parts of a workbook behind a mode byte (fuzz_xlsx.c), and a whole workbook as
    # Python's zipfile writes it (mode byte 0: the file as is).
    seeds=("$src/tests/fuzz/seeds/xlsx")
    xseeds="$build/fuzz-seeds/xlsx"
    rm -rf "$xseeds" && mkdir -p "$xseeds"
    /usr/bin/python3 - "$xseeds/zip" "$src/tests/fuzz/seeds/xlsx/parts" <<'PYEOF'
import sys, zipfile
out, parts = sys.argv[1], open(sys.argv[2], "rb").read()[1:].split(b"\0")
rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
with open(out, "wb") as f:
    f.write(b"\0")
    with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("_rels/.rels", f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="r" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<workbook xmlns:r="{rel}"><sheets><sheet name="Data" sheetId="1" r:id="s"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="s" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="t" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
        z.writestr("xl/worksheets/sheet1.xml", parts[0])
        z.writestr("xl/sharedStrings.xml", parts[1])
PYEOF
    seeds+=("$xseeds")
    ;;
  decompress)
    # Real compressed streams are written now with the command-line tools, each behind the
    # mode byte 0 and two position bytes (fuzz_decompress.c: the rest is the file as is): whole
    # files, multi-member files, and files of several kinds of text.
    zseeds="$build/fuzz-seeds/decompress"
    rm -rf "$zseeds" "$zseeds.tmp"
    mkdir -p "$zseeds.tmp"
    for t in "$src"/tests/fuzz/seeds/decompress/*.txt "$src"/tests/fuzz/seeds/json/*; do
      tail -c +4 "$t" >"$zseeds.tmp/plain"
      base=$(basename "$t")
      for tool in "gzip -c" "zstd -q -c" "bzip2 -c" "xz -c" "xz -c --check=none" "zstd -q -c --no-check"; do
        tag=${tool// /_}
        { printf '\0\0\0'; $tool <"$zseeds.tmp/plain"; } >"$zseeds.tmp/$base.$tag"
        # two members one after the other
        { printf '\0\0\0'; $tool <"$zseeds.tmp/plain"; $tool <"$zseeds.tmp/plain"; } \
          >"$zseeds.tmp/$base.$tag.twice"
      done
    done
    rm -f "$zseeds.tmp/plain"
    mv "$zseeds.tmp" "$zseeds"
    seeds=("$src/tests/fuzz/seeds/decompress" "$zseeds")
    ;;
  pq_reader)
    # Parquet seeds are written now: astro's own writer (pqgen) and, when tests/oracle's npm
    # packages are installed, small files of DuckDB, parquet-wasm and hyparquet-writer in every
    # encoding, codec and page version the reader supports.
    pqseeds="$build/fuzz-seeds/pq_reader"
    rm -rf "$pqseeds" "$pqseeds.tmp"
    mkdir -p "$pqseeds.tmp"
    for codec in none snappy gzip zstd; do
      "$build/pqgen" alltypes "$pqseeds.tmp/alltypes_$codec.parquet" "$codec" >/dev/null
    done
    for s in floats empty filtered; do "$build/pqgen" "$s" "$pqseeds.tmp/$s.parquet" >/dev/null; done
    if [ -d "$src/tests/oracle/node_modules/parquet-wasm" ]; then
      node "$src/tests/oracle/pqwriters.mjs" seeds "$pqseeds.tmp/w" >/dev/null
      mv "$pqseeds.tmp"/w/*.parquet "$pqseeds.tmp/"
      rm -rf "$pqseeds.tmp/w"
    fi
    mv "$pqseeds.tmp" "$pqseeds"
    seeds=("$pqseeds")
    opts=(-max_len=65536)
    ;;
  snappy)
    # Text behind the three control bytes of fuzz_snappy.c with mode "compress it first" (the
    # target makes real snappy streams of it, which the fuzzer then mutates as they are).
    sseeds="$build/fuzz-seeds/snappy"
    rm -rf "$sseeds" && mkdir -p "$sseeds"
    for t in "$src"/tests/fuzz/seeds/decompress/*.txt; do
      { printf '\x07\x03\x01'; cat "$t"; } >"$sseeds/$(basename "$t")"
    done
    seeds=("$sseeds")
    ;;
  *) echo "FAIL: unknown fuzz target $name"; exit 1 ;;
esac

# The corpus folder comes first: libFuzzer adds what it finds there, never to the seeds.
exec "$bin" "${opts[@]}" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$name-" "$corpus" "${seeds[@]}"
