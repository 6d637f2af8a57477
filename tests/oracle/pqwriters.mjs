// pqwriters.mjs - Parquet files written by three independent writers, for astro's reader tests
// (tests/e2e/test_pq_reader_writers.sh). Test tooling only.
//
//   node pqwriters.mjs gen OUTDIR     writes OUTDIR/*.parquet and OUTDIR/cases.json
//   node pqwriters.mjs seeds OUTDIR   the same files with 40 rows each: seeds for tests/fuzz
//   node pqwriters.mjs check OUTDIR   for every case: (1) the file really has the pages, encodings,
//                                     codecs and physical/logical types the case claims to test,
//                                     read from the page headers themselves (hyparquet's thrift
//                                     decoder) and cross-checked with DuckDB's parquet_metadata();
//                                     (2) OUTDIR/NAME.dump (what tests/tools/pqdump printed from
//                                     astro's reader) equals DuckDB's reading of the same file,
//                                     value by value in file order (for the few columns DuckDB
//                                     cannot read, the values the generator wrote: genOracle);
//                                     (3) the row count, each column's null count and its
//                                     OPTIONAL/REQUIRED are the ones the writer wrote.
//
// Writers (versions pinned in package.json): DuckDB (@duckdb/node-api, its own C++ writer),
// arrow-rs compiled to wasm (parquet-wasm, fed Arrow IPC built with apache-arrow JS), and
// hyparquet-writer (pure JavaScript). What none of them can write, and so is not covered here:
// INT96 timestamps (no writer offers them; parquet-testing's int96_from_spark.parquet covers
// them in tests/unit/test_pq_reader_files.c when the reference files are present), DataPage V1
// from hyparquet-writer (it writes only V2 pages) and codecs other than SNAPPY/UNCOMPRESSED from
// hyparquet-writer (it needs extra compressor packages).
import { DuckDBInstance } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { parquetMetadata } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import fs from 'node:fs';
import { bitmap, fixed, utf8 } from './arrowcols.mjs';
import path from 'node:path';

// rows per file: with the small page limits below, several pages and row groups (`seeds`: 40)
let N = 5000;

// ---- the data, a function of the row number (used by the JavaScript writers) -------------------
const STRS = ['alpha', 'béta', 'γάμμα', '', '日本語 ✓', 'emoji 😀'];
const F64_SPECIAL = [0, -0, Infinity, -Infinity, NaN, 1e-300, -1.7976931348623157e308];
const col = {
  id: (i) => BigInt(i),
  i32: (i) => (i % 7 === 3 ? null : i === 1 ? 2147483647 : i === 2 ? -2147483648 : ((i * 7919) % 200001) - 100000),
  i64: (i) =>
    i % 11 === 5 ? null
      : i === 1 ? 9223372036854775807n : i === 2 ? -9223372036854775808n
        : BigInt(i) * 1000000007n * (i % 2 ? -1n : 1n),
  s: (i) => (i % 13 === 6 ? null : STRS[i % STRS.length]),
  u: (i) => (i % 9 === 8 ? null : `key-${String(i).padStart(6, '0')}-${'x'.repeat(i % 17)}é`),
  f64: (i) => (i % 10 === 9 ? null : i < F64_SPECIAL.length ? F64_SPECIAL[i] : i * 0.1 - 77.7),
  f32: (i) => (i % 8 === 7 ? null : i === 0 ? -0 : Math.fround(i * 1.25 - 300.5)),
  b: (i) => (i % 4 === 3 ? null : i % 3 === 0),
  d: (i) => (i % 12 === 11 ? null : i * 37 - 20000), // days since 1970-01-01
  ts_ms: (i) => (i % 6 === 5 ? null : BigInt(i) * 3600007n - 100000000000n),
  ts_us: (i) => (i % 6 === 4 ? null : BigInt(i) * 86400123457n - 1000000000000000n),
  // odd nanoseconds, negative ones too: astro rounds toward negative infinity to microseconds
  ts_ns: (i) => (i % 6 === 3 ? null : BigInt(i) * 123456789013n - 100000000000000000n + (i % 3 === 0 ? -1n : 7n)),
  dec4: (i) => (i % 5 === 2 ? null : BigInt(((i * 37) % 19999) - 9999)), // decimal(4,2) unscaled
  dec15: (i) => (i % 5 === 3 ? null : BigInt(i) * 1234567891n - 1000000000000n), // decimal(15,3)
  dec30: (i) => (i % 5 === 4 ? null : BigInt(i) ** 7n * (i % 2 ? -1n : 1n) + 12345n), // decimal(30,10)
};
const values = (name) => Array.from({ length: N }, (_, i) => col[name](i));
const nullsOf = (names) => Object.fromEntries(names.map((c) => [c, values(c).filter((v) => v === null).length]));

// ---- DuckDB ---------------------------------------------------------------------------------
// The same data as SQL over range(N), so that DuckDB writes from its own typed table.
const duckSelect = () => `SELECT i::BIGINT AS id,
  CASE WHEN i % 7 = 3 THEN NULL WHEN i = 1 THEN 2147483647 WHEN i = 2 THEN -2147483648
       ELSE (i * 7919) % 200001 - 100000 END::INTEGER AS i32,
  CASE WHEN i % 11 = 5 THEN NULL WHEN i = 1 THEN 9223372036854775807 WHEN i = 2 THEN -9223372036854775808
       ELSE i::HUGEINT * 1000000007 * (CASE WHEN i % 2 = 1 THEN -1 ELSE 1 END) END::BIGINT AS i64,
  CASE WHEN i % 13 = 6 THEN NULL ELSE ['alpha', 'béta', 'γάμμα', '', '日本語 ✓', 'emoji 😀'][i % 6 + 1] END AS s,
  CASE WHEN i % 9 = 8 THEN NULL ELSE 'key-' || lpad(i::VARCHAR, 6, '0') || '-' || repeat('x', (i % 17)::INTEGER) || 'é' END AS u,
  CASE WHEN i % 10 = 9 THEN NULL WHEN i = 0 THEN 0.0 WHEN i = 1 THEN '-0.0'::DOUBLE WHEN i = 2 THEN 'inf'::DOUBLE
       WHEN i = 3 THEN '-inf'::DOUBLE WHEN i = 4 THEN 'nan'::DOUBLE WHEN i = 5 THEN 1e-300
       WHEN i = 6 THEN -1.7976931348623157e308 ELSE i * 0.1 - 77.7 END::DOUBLE AS f64,
  CASE WHEN i % 8 = 7 THEN NULL ELSE i * 1.25 - 300.5 END::FLOAT AS f32,
  CASE WHEN i % 4 = 3 THEN NULL ELSE i % 3 = 0 END AS b,
  CASE WHEN i % 12 = 11 THEN NULL ELSE DATE '1970-01-01' + (i * 37 - 20000)::INTEGER END AS d,
  CASE WHEN i % 6 = 5 THEN NULL ELSE make_timestamp((i * 3600007 - 100000000000) * 1000)::TIMESTAMP_MS END AS ts_ms,
  CASE WHEN i % 6 = 4 THEN NULL ELSE make_timestamp(i * 86400123457 - 1000000000000000) END AS ts_us,
  CASE WHEN i % 6 = 3 THEN NULL ELSE make_timestamp_ns((i::HUGEINT * 123456789013 - 100000000000000000
       + CASE WHEN i % 3 = 0 THEN -1 ELSE 7 END)::BIGINT) END AS ts_ns,
  CASE WHEN i % 6 = 2 THEN NULL ELSE make_timestamp(i * 86400123457 - 1000000000000000)::TIMESTAMPTZ END AS tstz,
  CASE WHEN i % 5 = 2 THEN NULL ELSE (((i * 37) % 19999 - 9999) / 100)::DECIMAL(4,2) END AS dec4,
  CASE WHEN i % 5 = 3 THEN NULL ELSE ((i::HUGEINT * 1234567891 - 1000000000000) / 1000)::DECIMAL(15,3) END AS dec15,
  CASE WHEN i % 5 = 4 THEN NULL ELSE ((i::HUGEINT ** 7)::HUGEINT * (CASE WHEN i % 2 = 1 THEN -1 ELSE 1 END) + 12345)::DECIMAL(38,0) / 10000000000 END::DECIMAL(30,10) AS dec30,
  (i % 256 - 128)::TINYINT AS i8, (i * 13 % 65536 - 32768)::SMALLINT AS i16,
  (i % 256)::UTINYINT AS u8, (i * 31 % 65536)::USMALLINT AS u16,
  (i::UBIGINT * 1717987 % 4294967296)::UINTEGER AS u32,
  CASE WHEN i = 1 THEN 18446744073709551615 ELSE i::UBIGINT * 3689348814741910 END::UBIGINT AS u64
FROM range(${N}) r(i)`;

// Every column DuckDB writes, with the type it must have in the file.
const DUCK_TYPES = [
  'id:INT64', 'i32:INT32', 'i64:INT64', 's:BYTE_ARRAY', 'u:BYTE_ARRAY', 'f64:DOUBLE', 'f32:FLOAT',
  'b:BOOLEAN', 'd:INT32', 'ts_ms:INT64', 'ts_us:INT64', 'ts_ns:INT64', 'tstz:INT64',
  'dec4:INT32', 'dec15:INT64', 'dec30:FIXED_LEN_BYTE_ARRAY', 'i8:INT32', 'i16:INT32', 'u8:INT32',
  'u16:INT32', 'u32:INT32', 'u64:INT64',
];

const duckCases = [
  // DuckDB's V1 default: dictionary pages (RLE_DICTIONARY / PLAIN_DICTIONARY) for low-cardinality
  // columns, PLAIN for the others, RLE definition levels; one case per codec.
  ...['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'ZSTD', 'LZ4_RAW'].map((codec) => ({
    name: `duckdb_v1_${codec.toLowerCase()}`, writer: 'duckdb', page: 'DATA_PAGE', codec,
    copy: `COMPRESSION '${codec === 'LZ4_RAW' ? 'lz4_raw' : codec.toLowerCase()}', PARQUET_VERSION V1, ROW_GROUP_SIZE 2048`,
    claims: ['id:PLAIN', 'u:PLAIN', 's:DICT', 's:PLAIN_DICTIONARY', 'b:PLAIN', ...DUCK_TYPES.map((t) => t.replace(':', ':type='))],
  })),
  // PARQUET_VERSION V2: DELTA_BINARY_PACKED integers, DELTA_LENGTH_BYTE_ARRAY strings,
  // BYTE_STREAM_SPLIT floats (DuckDB 1.5 still writes them in V1 data page headers; DataPage V2
  // comes from the other two writers).
  ...['ZSTD', 'SNAPPY'].map((codec) => ({
    name: `duckdb_v2enc_${codec.toLowerCase()}`, writer: 'duckdb', page: 'DATA_PAGE', codec,
    copy: `COMPRESSION '${codec.toLowerCase()}', PARQUET_VERSION V2, ROW_GROUP_SIZE 2048`,
    claims: ['id:DELTA_BINARY_PACKED', 'i64:DELTA_BINARY_PACKED', 'u:DELTA_LENGTH_BYTE_ARRAY',
      's:DICT', 's:RLE_DICTIONARY', 'f64:BYTE_STREAM_SPLIT', ...DUCK_TYPES.map((t) => t.replace(':', ':type='))],
  })),
];

// ---- Arrow JS builders (exact nulls and 64-bit values, no inference) -------------------------
function bools(vals) {
  const data = new Uint8Array(Math.ceil(vals.length / 8));
  vals.forEach((v, i) => { if (v) data[i >> 3] |= 1 << (i & 7); });
  return arrow.makeData({ type: new arrow.Bool(), length: vals.length,
    nullCount: vals.filter((v) => v === null).length, nullBitmap: bitmap(vals), data });
}
function decimal128(vals, precision, scale) {
  const data = new Uint32Array(vals.length * 4);
  vals.forEach((v, i) => {
    let x = BigInt.asUintN(128, v ?? 0n);
    for (let k = 0; k < 4; k++) { data[i * 4 + k] = Number(x & 0xffffffffn); x >>= 32n; }
  });
  return arrow.makeData({ type: new arrow.Decimal(scale, precision, 128), length: vals.length,
    nullCount: vals.filter((v) => v === null).length, nullBitmap: bitmap(vals), data });
}
function arrowTable() {
  const cols = {
    id: fixed(new arrow.Int64(), values('id'), BigInt64Array),
    i32: fixed(new arrow.Int32(), values('i32'), Int32Array),
    i64: fixed(new arrow.Int64(), values('i64'), BigInt64Array),
    s: utf8(values('s')),
    u: utf8(values('u')),
    u2: utf8(values('u')),
    f64: fixed(new arrow.Float64(), values('f64'), Float64Array),
    f32: fixed(new arrow.Float32(), values('f32'), Float32Array),
    b: bools(values('b')),
    d: fixed(new arrow.DateDay(), values('d'), Int32Array),
    ts_ms: fixed(new arrow.TimestampMillisecond(), values('ts_ms'), BigInt64Array),
    ts_us: fixed(new arrow.TimestampMicrosecond('UTC'), values('ts_us'), BigInt64Array),
    ts_ns: fixed(new arrow.TimestampNanosecond(), values('ts_ns'), BigInt64Array),
    dec4: decimal128(values('dec4'), 4, 2),
    dec15: decimal128(values('dec15'), 15, 3),
    dec30: decimal128(values('dec30'), 30, 10),
  };
  // id is REQUIRED (a non-nullable field), every other column OPTIONAL
  const fields = Object.entries(cols).map(([k, d]) => new arrow.Field(k, d.type, k !== 'id'));
  const schema = new arrow.Schema(fields);
  const data = arrow.makeData({ type: new arrow.Struct(fields), length: N, nullCount: 0, children: Object.values(cols) });
  return new arrow.Table([new arrow.RecordBatch(schema, data)]);
}
const ARROW_NULLS = () => ({ ...nullsOf(Object.keys(col)), u2: nullsOf(['u']).u });

function arrowWrite(file, { version, codec, dict, encodings, plain }) {
  const ipc = arrow.tableToIPC(arrowTable(), 'stream');
  let b = new pw.WriterPropertiesBuilder()
    .setWriterVersion(version === 2 ? pw.WriterVersion.V2 : pw.WriterVersion.V1)
    .setCompression(pw.Compression[codec])
    .setDictionaryEnabled(dict)
    .setDataPageSizeLimit(1024)
    .setWriteBatchSize(128) // arrow-rs checks the page size limit once per write batch
    .setMaxRowGroupSize(1000)
    .setCreatedBy('parquet-wasm 0.8.0 (astro tests)');
  // Without a dictionary arrow-rs falls back to PLAIN on V1 but to DELTA_BINARY_PACKED and
  // DELTA_BYTE_ARRAY on V2: plain asks for PLAIN everywhere.
  if (plain) b = b.setEncoding(pw.Encoding.PLAIN);
  for (const [c, e] of Object.entries(encodings)) {
    b = b.setColumnDictionaryEnabled(c, false).setColumnEncoding(c, pw.Encoding[e]);
  }
  const bytes = pw.writeParquet(pw.Table.fromIPCStream(ipc), b.build());
  fs.writeFileSync(file, bytes);
}

// arrow-rs writes Decimal128 by precision: INT32 (<= 9), INT64 (<= 18), else FIXED_LEN_BYTE_ARRAY.
const ARROW_TYPES = ['id:rep=REQUIRED', 'i32:rep=OPTIONAL', 'dec4:type=INT32', 'dec15:type=INT64', 'dec30:type=FIXED_LEN_BYTE_ARRAY',
  'ts_ms:unit=MILLIS', 'ts_us:unit=MICROS', 'ts_ns:unit=NANOS', 'd:type=INT32'];
const DELTA_COLS = { id: 'DELTA_BINARY_PACKED', i32: 'DELTA_BINARY_PACKED', i64: 'DELTA_BINARY_PACKED',
  ts_ns: 'DELTA_BINARY_PACKED', dec30: 'PLAIN', u: 'DELTA_BYTE_ARRAY', u2: 'DELTA_LENGTH_BYTE_ARRAY',
  s: 'DELTA_LENGTH_BYTE_ARRAY', f64: 'BYTE_STREAM_SPLIT', f32: 'BYTE_STREAM_SPLIT' };
const deltaClaims = Object.entries(DELTA_COLS).filter(([c]) => c !== 'dec30').map(([c, e]) => `${c}:${e}`);
const arrowCases = [
  // arrow-rs: dictionary encoding (RLE_DICTIONARY data pages, PLAIN dictionary page) on V1 and V2.
  { name: 'arrow_v1_dict_snappy', version: 1, codec: 'SNAPPY', dict: true, encodings: {},
    claims: ['s:DICT', 's:RLE_DICTIONARY', 'i32:DICT', 'b:PLAIN', ...ARROW_TYPES] },
  { name: 'arrow_v2_dict_zstd', version: 2, codec: 'ZSTD', dict: true, encodings: {},
    claims: ['s:DICT', 's:RLE_DICTIONARY', 'i32:DICT', 'b:RLE', ...ARROW_TYPES] },
  // BYTE_STREAM_SPLIT on INT32, INT64 and FIXED_LEN_BYTE_ARRAY (allowed since format 2.11).
  // DuckDB 1.5 cannot read these ("only supported for FLOAT or DOUBLE data"), so those four
  // columns are compared with the values the generator wrote instead (genOracle).
  { name: 'arrow_v2_bss_fixed_width', version: 2, codec: 'ZSTD', dict: false,
    genOracle: { i32: 0, i64: 0, dec15: 3, dec30: 10 }, // column: decimal scale
    encodings: { i32: 'BYTE_STREAM_SPLIT', i64: 'BYTE_STREAM_SPLIT', dec15: 'BYTE_STREAM_SPLIT', dec30: 'BYTE_STREAM_SPLIT' },
    claims: ['i32:BYTE_STREAM_SPLIT', 'i64:BYTE_STREAM_SPLIT', 'dec15:BYTE_STREAM_SPLIT', 'dec30:BYTE_STREAM_SPLIT', ...ARROW_TYPES] },
  // the delta family and BYTE_STREAM_SPLIT, on both page versions and the other codecs.
  { name: 'arrow_v1_delta_lz4raw', version: 1, codec: 'LZ4_RAW', dict: false, encodings: DELTA_COLS,
    claims: [...deltaClaims, 'b:PLAIN', ...ARROW_TYPES] },
  { name: 'arrow_v2_delta_gzip', version: 2, codec: 'GZIP', dict: false, encodings: DELTA_COLS,
    claims: [...deltaClaims, 'b:RLE', ...ARROW_TYPES] },
  { name: 'arrow_v2_plain_uncompressed', version: 2, codec: 'UNCOMPRESSED', dict: false, encodings: {},
    plain: true, claims: ['i32:PLAIN', 's:PLAIN', 'f64:PLAIN', 'dec30:PLAIN', 'b:PLAIN', ...ARROW_TYPES] },
  // arrow-rs's V2 fallback for FIXED_LEN_BYTE_ARRAY is DELTA_BYTE_ARRAY, which Encodings.md allows
  // and astro's reader refuses today (cleanly, naming the column): the test holds it to that, so
  // that support for it shows up here as a change to make on purpose.
  { name: 'arrow_v2_flba_delta_byte_array', version: 2, codec: 'SNAPPY', dict: false, encodings: {},
    claims: ['dec30:DELTA_BYTE_ARRAY', 's:DELTA_BYTE_ARRAY', 'dec30:type=FIXED_LEN_BYTE_ARRAY'],
    refused: "column 'dec30': a DELTA byte-array encoding on a non-BYTE_ARRAY column" },
  { name: 'arrow_v2_delta_lz4raw', version: 2, codec: 'LZ4_RAW', dict: false, encodings: DELTA_COLS,
    claims: [...deltaClaims, ...ARROW_TYPES] },
].map((c) => ({ ...c, writer: 'parquet-wasm', page: c.version === 2 ? 'DATA_PAGE_V2' : 'DATA_PAGE', multiPage: true }));

// ---- hyparquet-writer ----------------------------------------------------------------------
// Always DataPage V2. Decimals as BYTE_ARRAY (the layout DuckDB and arrow-rs never write) and
// FIXED_LEN_BYTE_ARRAY; timestamps with the TIMESTAMP logical type in each unit.
function hyparquetWrite(file, { codec, enc }) {
  const ts = (unit) => ({ type: 'INT64', repetition_type: 'OPTIONAL',
    logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit } });
  const columnData = [
    { name: 'id', data: values('id'), encoding: enc.int ?? 'PLAIN' },
    { name: 'i32', data: values('i32'), encoding: enc.int ?? 'PLAIN' },
    { name: 'i64', data: values('i64'), encoding: enc.int ?? 'PLAIN' },
    { name: 's', data: values('s') },
    { name: 'u', data: values('u'), encoding: enc.str ?? 'PLAIN' },
    { name: 'f64', data: values('f64'), encoding: enc.float ?? 'PLAIN' },
    { name: 'f32', data: values('f32'), encoding: enc.float ?? 'PLAIN' },
    { name: 'b', data: values('b'), encoding: enc.bool ?? 'PLAIN' },
    { name: 'd', data: values('d') },
    { name: 'ts_ms', data: values('ts_ms') },
    { name: 'ts_us', data: values('ts_us') },
    { name: 'ts_ns', data: values('ts_ns') },
    { name: 'dec4', data: values('dec4') },
    { name: 'dec30', data: values('dec30') },
    { name: 'dec_ba', data: values('dec30') }, // bigints: minimal two's complement bytes (0 is empty)
  ];
  const schema = [
    { name: 'root', num_children: columnData.length },
    { name: 'id', type: 'INT64', repetition_type: 'REQUIRED' },
    { name: 'i32', type: 'INT32', repetition_type: 'OPTIONAL' },
    { name: 'i64', type: 'INT64', repetition_type: 'OPTIONAL' },
    { name: 's', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'u', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'f64', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
    { name: 'f32', type: 'FLOAT', repetition_type: 'OPTIONAL' },
    { name: 'b', type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
    { name: 'd', type: 'INT32', converted_type: 'DATE', repetition_type: 'OPTIONAL' },
    ts('MILLIS'), ts('MICROS'), ts('NANOS'),
    { name: 'dec4', type: 'INT32', converted_type: 'DECIMAL', precision: 4, scale: 2, repetition_type: 'OPTIONAL' },
    { name: 'dec30', type: 'FIXED_LEN_BYTE_ARRAY', type_length: 13, converted_type: 'DECIMAL', precision: 30, scale: 10, repetition_type: 'OPTIONAL' },
    { name: 'dec_ba', type: 'BYTE_ARRAY', converted_type: 'DECIMAL', precision: 30, scale: 10, repetition_type: 'OPTIONAL' },
  ];
  schema[10].name = 'ts_ms'; schema[11].name = 'ts_us'; schema[12].name = 'ts_ns';
  const buf = parquetWriteBuffer({ columnData, schema, codec, pageSize: 1024, rowGroupSize: 1000,
    createdBy: 'hyparquet-writer 0.17.0 (astro tests)' });
  fs.writeFileSync(file, new Uint8Array(buf));
}
const HYP_TYPES = ['id:rep=REQUIRED', 'i32:rep=OPTIONAL', 'dec4:type=INT32', 'dec30:type=FIXED_LEN_BYTE_ARRAY', 'dec_ba:type=BYTE_ARRAY',
  'ts_ms:unit=MILLIS', 'ts_us:unit=MICROS', 'ts_ns:unit=NANOS'];
const hypCases = [
  { name: 'hyparquet_v2_plain_snappy', codec: 'SNAPPY', enc: {},
    claims: ['id:PLAIN', 'u:PLAIN', 'f64:PLAIN', 's:DICT', 'b:PLAIN', 'dec_ba:PLAIN', ...HYP_TYPES] },
  { name: 'hyparquet_v2_delta_uncompressed', codec: 'UNCOMPRESSED',
    enc: { int: 'DELTA_BINARY_PACKED', str: 'DELTA_BYTE_ARRAY', float: 'BYTE_STREAM_SPLIT', bool: 'RLE' },
    claims: ['id:DELTA_BINARY_PACKED', 'i32:DELTA_BINARY_PACKED', 'i64:DELTA_BINARY_PACKED',
      'u:DELTA_BYTE_ARRAY', 'f64:BYTE_STREAM_SPLIT', 'f32:BYTE_STREAM_SPLIT', 'b:RLE', ...HYP_TYPES] },
  { name: 'hyparquet_v2_dlba_snappy', codec: 'SNAPPY', enc: { str: 'DELTA_LENGTH_BYTE_ARRAY' },
    claims: ['u:DELTA_LENGTH_BYTE_ARRAY', ...HYP_TYPES] },
].map((c) => ({ ...c, writer: 'hyparquet-writer', page: 'DATA_PAGE_V2', multiPage: true }));

// ---- gen ------------------------------------------------------------------------------------
async function gen(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const cases = [];
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  await con.run(`CREATE TABLE t AS ${duckSelect()}`);
  const cnt = (await con.runAndReadAll(`SELECT count(*)::VARCHAR, ${DUCK_TYPES.map((t) =>
    `(count(*) - count(${t.split(':')[0]}))::VARCHAR`).join(', ')} FROM t`)).getRows()[0];
  const duckNulls = Object.fromEntries(DUCK_TYPES.map((t, k) => [t.split(':')[0], Number(cnt[k + 1])]));
  for (const c of duckCases) {
    const file = path.join(dir, `${c.name}.parquet`);
    await con.run(`COPY t TO '${file}' (FORMAT parquet, ${c.copy})`);
    cases.push({ ...c, rows: Number(cnt[0]), nulls: duckNulls });
  }
  for (const c of arrowCases) {
    arrowWrite(path.join(dir, `${c.name}.parquet`), c);
    cases.push({ ...c, rows: N, nulls: ARROW_NULLS() });
  }
  for (const c of hypCases) {
    hyparquetWrite(path.join(dir, `${c.name}.parquet`), c);
    cases.push({ ...c, rows: N, nulls: { ...nullsOf(['id', 'i32', 'i64', 's', 'u', 'f64', 'f32', 'b', 'd',
      'ts_ms', 'ts_us', 'ts_ns', 'dec4', 'dec30']), dec_ba: nullsOf(['dec30']).dec30 } });
  }
  fs.writeFileSync(path.join(dir, 'cases.json'), JSON.stringify(cases, null, 1));
  for (const c of cases) console.log(c.name);
}

// ---- check ----------------------------------------------------------------------------------
// Walks every page header of every column chunk: {column: [{rg, codec, pages: [{type, enc}]}]}.
function walkPages(buf) {
  const meta = parquetMetadata(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = {};
  const schema = Object.fromEntries(meta.schema.slice(1).map((s) => [s.name, s]));
  meta.row_groups.forEach((rg, g) => {
    for (const cc of rg.columns) {
      const m = cc.meta_data;
      const name = m.path_in_schema.join('.');
      const dict = m.dictionary_page_offset ? Number(m.dictionary_page_offset) : undefined;
      const start = dict !== undefined && dict < Number(m.data_page_offset) ? dict : Number(m.data_page_offset);
      const end = start + Number(m.total_compressed_size);
      const reader = { view, offset: start };
      const pages = [];
      while (reader.offset < end) {
        const h = parquetHeader(reader);
        const enc = h.data_page_header?.encoding ?? h.data_page_header_v2?.encoding ?? h.dictionary_page_header?.encoding;
        pages.push({ type: h.type, enc });
        reader.offset += h.compressed_page_size;
      }
      (out[name] ??= []).push({ rg: g, codec: m.codec, pages });
    }
  });
  return { meta, schema, chunks: out };
}

function checkClaims(c, walk, duckMeta) {
  const errs = [];
  const chunks = walk.chunks;
  for (const [name, list] of Object.entries(chunks)) {
    for (const ch of list) {
      if (ch.codec !== c.codec) errs.push(`${name} rg ${ch.rg}: codec ${ch.codec}, claimed ${c.codec}`);
      for (const p of ch.pages) {
        if (p.type !== 'DICTIONARY_PAGE' && p.type !== c.page) errs.push(`${name} rg ${ch.rg}: a ${p.type}, claimed ${c.page}`);
      }
    }
  }
  if (walk.meta.row_groups.length < 2) errs.push(`only ${walk.meta.row_groups.length} row group`);
  const multi = new Set();
  for (const claim of c.claims) {
    const [name, what] = claim.split(':');
    const el = walk.schema[name];
    if (!el) { errs.push(`no column ${name}`); continue; }
    if (what.startsWith('type=')) {
      if (el.type !== what.slice(5)) errs.push(`${name}: physical type ${el.type}, claimed ${what.slice(5)}`);
      continue;
    }
    if (what.startsWith('rep=')) {
      if (el.repetition_type !== what.slice(4)) errs.push(`${name}: ${el.repetition_type}, claimed ${what.slice(4)}`);
      continue;
    }
    if (what.startsWith('unit=')) {
      const unit = el.logical_type?.unit;
      if (unit !== what.slice(5)) errs.push(`${name}: timestamp unit ${unit}, claimed ${what.slice(5)}`);
      continue;
    }
    // An encoding: every chunk of the column has data pages in it (DICT: a dictionary page and
    // dictionary-encoded data pages); with multiPage, some chunk of the file in that encoding has
    // more than one data page (decoders restart at page boundaries).
    const want = what === 'DICT' ? ['RLE_DICTIONARY', 'PLAIN_DICTIONARY'] : [what];
    for (const ch of chunks[name]) {
      const data = ch.pages.filter((p) => p.type !== 'DICTIONARY_PAGE');
      if (data.filter((p) => want.includes(p.enc)).length > 1) multi.add(what);
      if (!data.some((p) => want.includes(p.enc))) {
        errs.push(`${name} rg ${ch.rg}: data page encodings ${[...new Set(data.map((p) => p.enc))]}, claimed ${what}`);
      }
      if (what === 'DICT' && !ch.pages.some((p) => p.type === 'DICTIONARY_PAGE')) errs.push(`${name} rg ${ch.rg}: no dictionary page`);
    }
    // DuckDB's own view of the same chunks (its names: RLE_DICTIONARY, PLAIN_DICTIONARY, ...).
    for (const m of duckMeta.filter((r) => r.path_in_schema === name)) {
      if (!want.some((w) => m.encodings.split(', ').includes(w))) errs.push(`DuckDB: ${name}: encodings ${m.encodings}, claimed ${what}`);
    }
  }
  // (booleans are left out: a row group of them is a few hundred bytes, one page)
  // (nor dictionary indices: a few bits per value)
  const needMulti = c.claims.filter((x) => !x.includes('=') && !/DICT/.test(x) && walk.schema[x.split(':')[0]]?.type !== 'BOOLEAN');
  for (const what of new Set(needMulti.map((x) => x.split(':')[1]))) {
    if (c.multiPage && !multi.has(what)) errs.push(`${what}: no chunk in this encoding has two data pages`);
  }
  const duckCodec = { UNCOMPRESSED: 'UNCOMPRESSED', SNAPPY: 'SNAPPY', GZIP: 'GZIP', ZSTD: 'ZSTD', LZ4_RAW: 'LZ4_RAW' }[c.codec];
  for (const m of duckMeta) {
    if (m.compression !== duckCodec) errs.push(`DuckDB: ${m.path_in_schema}: compression ${m.compression}, claimed ${c.codec}`);
  }
  return errs;
}

// DuckDB's reading of a column in pqdump's canonical form (see tests/tools/pqdump.c).
function canonical(name, dtype, duckType) {
  const q = `"${name}"`;
  if (dtype === 'str') return `hex(${q})`;
  if (dtype === 'float32' || dtype === 'float64') {
    return `CASE WHEN isnan(${q}) THEN 'nan' ELSE printf('%.17g', ${q}::DOUBLE) END`;
  }
  if (dtype === 'date') return `(${q} - DATE '1970-01-01')::VARCHAR`;
  if (dtype.startsWith('datetime64')) {
    if (duckType.startsWith('TIMESTAMP_NS')) {
      // floor to microseconds, as astro's reader does
      return `((epoch_ns(${q}) - (((epoch_ns(${q}) % 1000) + 1000) % 1000)) // 1000)::VARCHAR`;
    }
    return `epoch_us(${q})::VARCHAR`;
  }
  return `${q}::VARCHAR`;
}

// A generator value in pqdump's canonical form: integers as they are, decimals (unscaled
// bigints) with `scale` digits after the point.
function genText(v, scale) {
  if (v === null) return null;
  if (!scale) return String(v);
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

async function check(dir) {
  const cases = JSON.parse(fs.readFileSync(path.join(dir, 'cases.json'), 'utf8'));
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const rows = async (sql) => {
    const r = await con.runAndReadAll(sql);
    const names = r.columnNames();
    return r.getRows().map((row) => Object.fromEntries(row.map((v, i) => [names[i], v === null ? null : String(v)])));
  };
  let failed = 0;
  for (const c of cases) {
    const file = path.join(dir, `${c.name}.parquet`);
    const errs = [];
    const walk = walkPages(fs.readFileSync(file));
    const duckMeta = await rows(`SELECT path_in_schema, compression, encodings FROM parquet_metadata('${file}')`);
    errs.push(...checkClaims(c, walk, duckMeta));

    const rc = fs.readFileSync(path.join(dir, `${c.name}.rc`), 'utf8').trim();
    const stderr = fs.readFileSync(path.join(dir, `${c.name}.err`), 'utf8');
    const what = `${c.writer}, ${c.page}, ${c.codec}: ${c.claims.filter((x) => !x.includes('=')).join(' ')}`;
    if (c.refused) {
      // DuckDB reads the file; astro refuses it with exit 1 and a message naming the feature.
      const n = (await rows(`SELECT count(*)::VARCHAR AS n FROM read_parquet('${file}')`))[0].n;
      if (Number(n) !== c.rows) errs.push(`DuckDB reads ${n} rows, the writer wrote ${c.rows}`);
      if (rc !== '1' || !stderr.includes(c.refused)) errs.push(`astro: exit ${rc}, stderr [${stderr.trim()}], expected a refusal with [${c.refused}]`);
      console.log(errs.length ? `not ok - ${c.name} (${what})\n  ${errs.join('\n  ')}` : `ok - ${c.name}: refused as expected: ${c.refused} (${what})`);
      if (errs.length) failed++;
      continue;
    }
    if (rc !== '0') {
      failed++;
      console.log(`not ok - ${c.name} (${what})\n  ${[...errs, `pqdump exit ${rc}: ${stderr.trim()}`].join('\n  ')}`);
      continue;
    }
    const lines = fs.readFileSync(path.join(dir, `${c.name}.dump`), 'utf8').split('\n').filter((l) => l);
    const head = JSON.parse(lines[0]);
    const got = lines.slice(1);
    if (got.length !== c.rows || head.rows !== c.rows) errs.push(`astro read ${got.length} rows (footer ${head.rows}), the writer wrote ${c.rows}`);
    const types = Object.fromEntries((await rows(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).map((r) => [r.column_name, r.column_type]));
    const gen = c.genOracle ?? {};
    const exprs = head.columns.map((k) => (k.name in gen ? 'NULL' : canonical(k.name, k.dtype, types[k.name] ?? '?')));
    const genVals = Object.fromEntries(Object.keys(gen).map((k) => [k, values(k)]));
    const want = (await rows(`SELECT ${exprs.map((e, i) => `${e} AS c${i}`).join(', ')}
      FROM read_parquet('${file}', file_row_number = true) ORDER BY file_row_number`))
      .map((r, row) => JSON.stringify(head.columns.map((k, i) => (k.name in gen ? genText(genVals[k.name][row], gen[k.name]) : r[`c${i}`]))));
    if (want.length !== got.length) errs.push(`DuckDB reads ${want.length} rows, astro ${got.length}`);
    let diffs = 0;
    for (let i = 0; i < Math.min(want.length, got.length) && diffs < 5; i++) {
      if (want[i] !== got[i]) { diffs++; errs.push(`row ${i}: astro    ${got[i]}\n          expected ${want[i]}`); }
    }
    // null counts as written (the canonical rows hold null exactly where a cell is null), and
    // astro's nullable is the column's repetition (OPTIONAL / REQUIRED)
    head.columns.forEach((k, ci) => {
      const rep = walk.schema[k.name]?.repetition_type;
      if (k.nullable !== (rep !== 'REQUIRED')) errs.push(`column ${k.name}: ${rep}, astro reads nullable=${k.nullable}`);
      const n = got.filter((l) => JSON.parse(l)[ci] === null).length;
      if (c.nulls[k.name] === undefined) errs.push(`column ${k.name}: not written by the generator`);
      else if (n !== c.nulls[k.name]) errs.push(`column ${k.name}: astro read ${n} nulls, the writer wrote ${c.nulls[k.name]}`);
    });
    if (head.columns.length !== Object.keys(c.nulls).length) errs.push(`astro read ${head.columns.length} columns, the writer wrote ${Object.keys(c.nulls).length}`);
    if (errs.length) {
      failed++;
      console.log(`not ok - ${c.name} (${what})\n  ${errs.join('\n  ')}`);
    } else {
      const seen = new Set(Object.values(walk.chunks).flat().flatMap((ch) => ch.pages.map((p) => `${p.type}/${p.enc}`)));
      console.log(`ok - ${c.name}: ${c.rows} rows, ${head.columns.length} columns (${what}); pages seen: ${[...seen].sort().join(' ')}`);
    }
  }
  process.exit(failed ? 1 : 0);
}

const [cmd, dir] = process.argv.slice(2);
if (cmd === 'gen' && dir) await gen(dir);
else if (cmd === 'seeds' && dir) { N = 40; await gen(dir); }
else if (cmd === 'check' && dir) await check(dir);
else { console.error('usage: node pqwriters.mjs gen|seeds|check OUTDIR'); process.exit(2); }
