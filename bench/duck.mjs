// duck.mjs - the benchmark's DuckDB peer: runs SQL statements in one in-memory DuckDB with a fixed
// thread count and prints the rows of every statement that returns some, one JSON object a line.
// Usage: node duck.mjs THREADS SQL [SQL ...]
// The time bench/run measures includes starting node and DuckDB (about 0.1 s), as astro's includes
// its own start; peak RSS includes node's own (about 50 MB), which bench/README.md states.
import { DuckDBInstance } from '@duckdb/node-api';

const [threads, ...stmts] = process.argv.slice(2);
if (!/^[0-9]+$/.test(threads || '') || stmts.length === 0) {
  console.error('usage: node duck.mjs THREADS SQL [SQL ...]');
  process.exit(2);
}
try {
  const db = await DuckDBInstance.create(':memory:', { threads: threads });
  const con = await db.connect();
  for (const sql of stmts) {
    const reader = await con.runAndReadAll(sql);
    const names = reader.columnNames();
    for (const row of reader.getRows()) {
      const obj = {};
      row.forEach((v, i) => {
        obj[names[i]] = v === null ? null : (typeof v === 'object' || typeof v === 'bigint') ? String(v) : v;
      });
      console.log(JSON.stringify(obj));
    }
  }
} catch (e) {
  console.error(String(e && e.message ? e.message : e));
  process.exit(1);
}
