// pqsame.mjs - does astro's Parquet output hold exactly the rows of a Parquet source file, value by
// value and in file order, as DuckDB reads both? Test tooling only (tests/e2e/test_parquet_input.sh).
//
//   node pqsame.mjs [--skip=COL,...] SOURCE.parquet OUTPUT.parquet [SOURCE2 OUTPUT2 ...]
//
// Every column of SOURCE (but the --skip ones) is compared with the column of the same name in
// OUTPUT, row by row (by read_parquet's file_row_number): DuckDB's text of each value, except for
// the types astro stores differently on purpose: TIMESTAMP_NS (astro keeps microseconds, and
// only takes values without digits beyond them: compared as nanoseconds since the epoch) and
// FLOAT (compared as DOUBLE). Prints "same N rows: SOURCE" per pair and exits 0, or prints the
// first differences and exits 1.
import { DuckDBInstance } from '@duckdb/node-api';

let args = process.argv.slice(2);
let skip = [];
if (args.length > 0 && args[0].startsWith('--skip=')) {
  skip = args[0].slice(7).split(',');
  args = args.slice(1);
}
if (args.length < 2 || args.length % 2 !== 0) {
  console.error('usage: node pqsame.mjs [--skip=COL,...] SOURCE.parquet OUTPUT.parquet [SOURCE2 OUTPUT2 ...]');
  process.exit(2);
}
const q = (s) => `'${s.replaceAll("'", "''")}'`;
const id = (s) => `"${s.replaceAll('"', '""')}"`;
let bad = 0;
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const rows = async (sql) => (await con.runAndReadAll(sql)).getRows();
for (let k = 0; k < args.length; k += 2) {
  const [src, out] = [args[k], args[k + 1]];
  try {
    const cols = await rows(`DESCRIBE SELECT * FROM read_parquet(${q(src)})`);
    const srcExpr = [];
    const outExpr = [];
    for (const [name, type] of cols) {
      const c = id(name);
      if (skip.includes(name)) {
        continue;
      }
      if (type === 'TIMESTAMP_NS') {
        srcExpr.push(`epoch_ns(${c})::HUGEINT AS ${c}`);
        outExpr.push(`epoch_us(${c})::HUGEINT * 1000 AS ${c}`);
      } else if (type === 'FLOAT') {
        srcExpr.push(`${c}::DOUBLE::VARCHAR AS ${c}`);
        outExpr.push(`${c}::DOUBLE::VARCHAR AS ${c}`);
      } else {
        srcExpr.push(`${c}::VARCHAR AS ${c}`);
        outExpr.push(`${c}::VARCHAR AS ${c}`);
      }
    }
    const a = `SELECT file_row_number AS rn, ${srcExpr.join(', ')} FROM read_parquet(${q(src)}, file_row_number = true)`;
    const b = `SELECT file_row_number AS rn, ${outExpr.join(', ')} FROM read_parquet(${q(out)}, file_row_number = true)`;
    const [[na]] = await rows(`SELECT count(*) FROM read_parquet(${q(src)})`);
    const [[nb]] = await rows(`SELECT count(*) FROM read_parquet(${q(out)})`);
    const diff = await rows(`(${a} EXCEPT ALL ${b}) UNION ALL (${b} EXCEPT ALL ${a}) ORDER BY rn LIMIT 6`);
    if (na !== nb || diff.length > 0) {
      console.log(`${src}: source ${na} rows, output ${nb} rows; first differing rows (either side):`);
      for (const r of diff) {
        console.log(JSON.stringify(r, (key, v) => (typeof v === 'bigint' ? String(v) : v)));
      }
      bad++;
    } else {
      console.log(`same ${na} rows: ${src}`);
    }
  } catch (e) {
    console.log(`${src}: ${String(e && e.message ? e.message : e)}`);
    bad++;
  }
}
process.exit(bad > 0 ? 1 : 0);
