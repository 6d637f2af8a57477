// duck.mjs - run SQL in an in-memory DuckDB and print each result row as one JSON line.
// Usage: node duck.mjs "SELECT ... FROM read_parquet('x.parquet')"
// Values are printed as DuckDB's own string forms (getRowObjectsJS is avoided on purpose: the tests
// compare exact text such as decimals and timestamps, not JavaScript numbers). NULL prints as null.
// Exit status: 0 on success, 1 when DuckDB raised an error (printed on stderr).
import { DuckDBInstance } from '@duckdb/node-api';

const sql = process.argv[2];
if (!sql) {
  console.error('usage: node duck.mjs SQL');
  process.exit(2);
}
try {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const reader = await con.runAndReadAll(sql);
  const names = reader.columnNames();
  for (const row of reader.getRows()) {
    const obj = {};
    row.forEach((v, i) => {
      obj[names[i]] = v === null ? null : (typeof v === 'object' || typeof v === 'bigint') ? String(v) : v;
    });
    console.log(JSON.stringify(obj));
  }
} catch (e) {
  console.error(String(e && e.message ? e.message : e));
  process.exit(1);
}
