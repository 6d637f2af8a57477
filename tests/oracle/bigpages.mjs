// bigpages.mjs - Parquet files whose columns are large PLAIN data pages, which astro's reader
// streams (pages above 512 KiB decompressed: src/parquet/reader.c, "Large PLAIN pages"), for
// tests/e2e/test_pq_bigpages.sh. Test tooling only.
//
//   node bigpages.mjs gen OUTDIR     writes OUTDIR/*.parquet
//   node bigpages.mjs check OUTDIR   for every file: (1) it holds what it claims, read from its
//                                    page headers (hyparquet's thrift decoder): the page version,
//                                    the codec, no dictionary, PLAIN data pages only, and the
//                                    columns claimed large have a data page above 512 KiB
//                                    decompressed; (2) OUTDIR/NAME.dump (tests/tools/pqdump's
//                                    output from astro's reader) equals DuckDB's reading of the
//                                    file, row by row; (3) OUTDIR/NAME.peak (pqdump's
//                                    PQDUMP_PAGE_PEAK: the most page memory one column held) is
//                                    under 1 MiB, however large the pages (not for the zstd
//                                    files: see check()).
//
// Writers: DuckDB (DataPage V1, one page per column chunk; SNAPPY, ZSTD, GZIP, UNCOMPRESSED),
// hyparquet-writer (V2; SNAPPY, UNCOMPRESSED) and arrow-rs via parquet-wasm (V2 with PLAIN
// asked for; ZSTD, GZIP: it cuts pages at 20,000 rows, so only its string columns are large).
// Columns: id BIGINT and s VARCHAR (all distinct; REQUIRED, but DuckDB writes every column
// OPTIONAL), n BIGINT and t VARCHAR (OPTIONAL, with nulls), all a function of the row number.
import { DuckDBInstance } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { parquetMetadata } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import fs from 'node:fs';
import { fixed, utf8 } from './arrowcols.mjs';
import path from 'node:path';

const N = 100000;
const BIG = 512 * 1024;

// ---- the data ---------------------------------------------------------------------------------
const col = {
  id: (i) => BigInt(i) * 7919n - 300000000n,
  s: (i) => `user${i}.${'x'.repeat(i % 23)}é@example.com`,
  n: (i) => (i % 7 === 3 ? null : BigInt(i) * -1000003n + 5n),
  t: (i) => (i % 5 === 1 ? null : `t-${String(i * 31).padStart(8, '0')}-${'y'.repeat(i % 31)}`),
};
const values = (name) => Array.from({ length: N }, (_, i) => col[name](i));
const duckSelect = `SELECT i::BIGINT * 7919 - 300000000 AS id,
  'user' || i || '.' || repeat('x', (i % 23)::INTEGER) || 'é@example.com' AS s,
  CASE WHEN i % 7 = 3 THEN NULL ELSE i::BIGINT * -1000003 + 5 END AS n,
  CASE WHEN i % 5 = 1 THEN NULL ELSE 't-' || lpad((i * 31)::VARCHAR, 8, '0') || '-' || repeat('y', (i % 31)::INTEGER) END AS t
  FROM range(${N}) r(i)`;

// ---- writers ----------------------------------------------------------------------------------
async function duckWrite(con, file, codec) {
  await con.run(`CREATE OR REPLACE TABLE big (id BIGINT NOT NULL, s VARCHAR NOT NULL, n BIGINT, t VARCHAR)`);
  await con.run(`INSERT INTO big ${duckSelect}`);
  await con.run(`COPY big TO '${file}' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE ${N})`);
}

function arrowWrite(file, codec) {
  const int64 = (name) => fixed(new arrow.Int64(), values(name), BigInt64Array);
  const cols = { id: int64('id'), s: utf8(values('s')), n: int64('n'), t: utf8(values('t')) };
  const fields = Object.entries(cols).map(([k, d]) => new arrow.Field(k, d.type, k === 'n' || k === 't'));
  const schema = new arrow.Schema(fields);
  const data = arrow.makeData({ type: new arrow.Struct(fields), length: N, nullCount: 0, children: Object.values(cols) });
  const ipc = arrow.tableToIPC(new arrow.Table([new arrow.RecordBatch(schema, data)]), 'stream');
  const props = new pw.WriterPropertiesBuilder()
    .setWriterVersion(pw.WriterVersion.V2)
    .setCompression(pw.Compression[codec])
    .setDictionaryEnabled(false)
    .setEncoding(pw.Encoding.PLAIN)
    .setDataPageSizeLimit(64 << 20)
    .setMaxRowGroupSize(N)
    .setCreatedBy('parquet-wasm 0.8.0 (astro tests)')
    .build();
  fs.writeFileSync(file, pw.writeParquet(pw.Table.fromIPCStream(ipc), props));
}

function hypWrite(file, codec) {
  const columnData = [
    { name: 'id', data: values('id') },
    { name: 's', data: values('s') },
    { name: 'n', data: values('n') },
    { name: 't', data: values('t') },
  ];
  const schema = [
    { name: 'root', num_children: 4 },
    { name: 'id', type: 'INT64', repetition_type: 'REQUIRED' },
    { name: 's', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
    { name: 'n', type: 'INT64', repetition_type: 'OPTIONAL' },
    { name: 't', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  ];
  const buf = parquetWriteBuffer({ columnData, schema, codec, pageSize: 64 << 20, rowGroupSize: N,
    createdBy: 'hyparquet-writer 0.17.0 (astro tests)' });
  fs.writeFileSync(file, new Uint8Array(buf));
}

// name, writer, page version, codec, the columns with a page above BIG
const CASES = [
  ['duckdb_v1_snappy', 'duckdb', 'DATA_PAGE', 'SNAPPY', ['id', 's', 'n', 't']],
  ['duckdb_v1_zstd', 'duckdb', 'DATA_PAGE', 'ZSTD', ['id', 's', 'n', 't']],
  ['duckdb_v1_gzip', 'duckdb', 'DATA_PAGE', 'GZIP', ['id', 's', 'n', 't']],
  ['duckdb_v1_uncompressed', 'duckdb', 'DATA_PAGE', 'UNCOMPRESSED', ['id', 's', 'n', 't']],
  ['hyparquet_v2_snappy', 'hyparquet', 'DATA_PAGE_V2', 'SNAPPY', ['id', 's', 'n', 't']],
  ['hyparquet_v2_uncompressed', 'hyparquet', 'DATA_PAGE_V2', 'UNCOMPRESSED', ['id', 's', 'n', 't']],
  ['arrow_v2_zstd', 'arrow', 'DATA_PAGE_V2', 'ZSTD', ['s']],
  ['arrow_v2_gzip', 'arrow', 'DATA_PAGE_V2', 'GZIP', ['s']],
];

async function gen(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  for (const [name, writer, , codec] of CASES) {
    const file = path.join(dir, `${name}.parquet`);
    if (writer === 'duckdb') await duckWrite(con, file, codec);
    else if (writer === 'arrow') arrowWrite(file, codec);
    else hypWrite(file, codec);
  }
}

// ---- check ------------------------------------------------------------------------------------
function claims(file, page, codec, big) {
  const buf = fs.readFileSync(file);
  const meta = parquetMetadata(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const errs = [];
  const largest = {};
  for (const rg of meta.row_groups) {
    for (const cc of rg.columns) {
      const m = cc.meta_data;
      const name = m.path_in_schema.join('.');
      if (m.codec !== codec) errs.push(`${name}: codec ${m.codec}, claimed ${codec}`);
      if (m.dictionary_page_offset) errs.push(`${name}: has a dictionary page`);
      const reader = { view, offset: Number(m.data_page_offset) };
      const end = reader.offset + Number(m.total_compressed_size);
      while (reader.offset < end) {
        const h = parquetHeader(reader);
        const enc = h.data_page_header?.encoding ?? h.data_page_header_v2?.encoding;
        if (h.type !== page) errs.push(`${name}: a ${h.type}, claimed ${page}`);
        if (enc !== 'PLAIN') errs.push(`${name}: a ${enc} page`);
        largest[name] = Math.max(largest[name] ?? 0, h.uncompressed_page_size);
        reader.offset += h.compressed_page_size;
      }
    }
  }
  for (const c of big) {
    if (!(largest[c] > BIG)) errs.push(`${c}: its largest page is ${largest[c]} bytes, not above ${BIG}`);
  }
  return { errs, largest };
}

const hex = (s) => Buffer.from(s, 'utf8').toString('hex').toUpperCase();

async function check(dir) {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  let bad = 0;
  for (const [name, , page, codec, big] of CASES) {
    const file = path.join(dir, `${name}.parquet`);
    const { errs, largest } = claims(file, page, codec, big);
    const dump = fs.readFileSync(path.join(dir, `${name}.dump`), 'utf8').split('\n');
    const rows = (await con.runAndReadAll(
      `SELECT id::VARCHAR, s, n::VARCHAR, t FROM read_parquet('${file}') ORDER BY file_row_number`)).getRows();
    if (dump.length !== rows.length + 2) errs.push(`astro read ${dump.length - 2} rows, DuckDB ${rows.length}`);
    const cell = (v, str) => (v === null ? 'null' : `"${str ? hex(v) : v}"`);
    let diffs = 0;
    rows.forEach((r, i) => {
      const want = `[${cell(r[0])},${cell(r[1], true)},${cell(r[2])},${cell(r[3], true)}]`;
      if (dump[i + 1] !== want && diffs++ < 3) errs.push(`row ${i}: astro ${dump[i + 1]}, DuckDB ${want}`);
    });
    if (diffs > 0) errs.push(`${diffs} rows differ`);
    const peak = Number(fs.readFileSync(path.join(dir, `${name}.peak`), 'utf8'));
    // zstd pages are streamed only when their frame's window is 1 MiB smaller than the page
    // (reader.c): DuckDB's 2.4 MB page under a 2 MiB window and arrow-rs's 800 KB pages under
    // 512 KiB are read whole, so the zstd files have no bound here (test_pq_bigpage has one).
    const zstd = codec === 'ZSTD';
    if (!(peak > 0 && (zstd || peak < 1 << 20))) errs.push(`a column held ${peak} bytes of page memory`);
    // The data is the generator's: DuckDB's reading is checked against it too.
    for (const i of [0, 3, 1, N - 1]) {
      const want = [col.id(i), col.s(i), col.n(i), col.t(i)].map((v) => (v === null ? null : String(v)));
      if (JSON.stringify(rows[i]) !== JSON.stringify(want)) errs.push(`row ${i}: DuckDB reads ${JSON.stringify(rows[i])}, written ${JSON.stringify(want)}`);
    }
    if (errs.length > 0) {
      bad++;
      console.log(`not ok - ${name}:\n  ${errs.join('\n  ')}`);
    } else {
      console.log(`ok - ${name}: ${rows.length} rows; largest pages ${JSON.stringify(largest)}; page memory ${peak}`);
    }
  }
  process.exit(bad ? 1 : 0);
}

const [mode, dir] = process.argv.slice(2);
if (mode === 'gen' && dir) await gen(dir);
else if (mode === 'check' && dir) await check(dir);
else {
  console.error('usage: node bigpages.mjs gen|check OUTDIR');
  process.exit(2);
}
