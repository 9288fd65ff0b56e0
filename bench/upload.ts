import { createWriteStream, mkdirSync, rmSync, existsSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { PGlite } from '@electric-sql/pglite';
import { ApiClient } from '../src/cli/api-client.ts';
import { startServer } from './server.ts';

const PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const LINES = Number(process.env.BENCH_UPLOAD_LINES ?? 1_000_000);
const BIG_LINES = Number(process.env.BENCH_UPLOAD_BIG_LINES ?? 10_000_000);
const dir = join(tmpdir(), 'couponflow-bench');

/**
 * `CODE,YYYY-MM-DD` lines shaped like a vendor's coupon file: random 12-character codes, and
 * expiration dates in blocks (a batch of codes per campaign month), ten dates in all.
 */
async function writeCodesFile(path: string, lines: number) {
  if (existsSync(path) && statSync(path).size > 0) return;
  const out = createWriteStream(path);
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const block = Math.ceil(lines / 10);
  let buf = '';
  for (let i = 0; i < lines; i++) {
    const bytes = randomBytes(12);
    let code = '';
    for (let j = 0; j < 12; j++) code += alphabet[bytes[j]! & 31];
    buf += `${code},${new Date(Date.UTC(2027, Math.floor(i / block), 28)).toISOString().slice(0, 10)}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));

async function uploadThroughApi(env: Record<string, string>, file: string, lines: number) {
  const server = await startServer(env);
  try {
    const api = new ApiClient(server.url, server.token);
    const merchants = await api.request<{ items: { id: string }[] }>('GET', '/v1/merchants');
    const pool = await api.request<{ id: string }>('POST', `/v1/merchants/${merchants.items[0]!.id}/pools`, {
      name: `bench-${randomBytes(4).toString('hex')}`,
      type: 'unique',
    });
    const t0 = performance.now();
    const res = await api.uploadFile<{ imported: number; status: string }>(
      `/v1/pools/${pool.id}/uploads`,
      { expiration: 'file', delimiter: ',' },
      file,
    );
    const ms = performance.now() - t0;
    if (res.status !== 201 || res.body.imported !== lines)
      throw new Error(`upload failed: ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
    return { codesPerSec: rate(lines, ms), seconds: ms / 1000, peakRssMb: server.peakRssMb() };
  } finally {
    await server.stop();
  }
}

/** COPY's text format of the same codes and dates (end of day UTC), no validation at all. */
const toCopyRows = () =>
  new Transform({
    transform(chunk: Buffer, _enc, done) {
      const text = (this as unknown as { rest?: string }).rest ?? '';
      const all = text + chunk.toString();
      const cut = all.lastIndexOf('\n') + 1;
      (this as unknown as { rest?: string }).rest = all.slice(cut);
      done(null, all.slice(0, cut).replace(/,(\d{4}-\d{2}-\d{2})\n/g, '\t$1T23:59:59.999Z\n'));
    },
  });

const BASELINE_TABLE = `create table bench_baseline (pool_key bigint not null, code text not null, expires_at timestamptz not null,
  constraint bench_baseline_key unique (pool_key, code))`;

async function baselinePostgres(file: string, lines: number) {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`create schema ${schema}; set search_path to ${schema}; ${BASELINE_TABLE}`);
    await client.query(`alter table bench_baseline alter column pool_key set default 1`);
    const t0 = performance.now();
    await client.query('begin');
    await pipeline(
      createReadStream(file, { highWaterMark: 1 << 20 }),
      toCopyRows(),
      client.query(copyFrom('copy bench_baseline (code, expires_at) from stdin')),
    );
    await client.query('commit');
    const ms = performance.now() - t0;
    return { codesPerSec: rate(lines, ms), seconds: ms / 1000 };
  } finally {
    await client.query(`drop schema ${schema} cascade`).catch(() => {});
    await client.end();
  }
}

async function baselinePglite(file: string, lines: number) {
  const db = await PGlite.create('memory://');
  await db.exec(BASELINE_TABLE + '; alter table bench_baseline alter column pool_key set default 1');
  const t0 = performance.now();
  await db.exec('begin');
  let pending = '';
  for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 }).pipe(toCopyRows())) {
    pending += chunk.toString();
    if (pending.length >= 4 << 20) {
      await db.query(`copy bench_baseline (code, expires_at) from '/dev/blob'`, [], { blob: new Blob([pending]) });
      pending = '';
    }
  }
  if (pending) await db.query(`copy bench_baseline (code, expires_at) from '/dev/blob'`, [], { blob: new Blob([pending]) });
  await db.exec('commit');
  const ms = performance.now() - t0;
  await db.close();
  return { codesPerSec: rate(lines, ms), seconds: ms / 1000 };
}

export async function run() {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `vendor-codes-${LINES}.txt`);
  await writeCodesFile(file, LINES);
  console.log(
    `file: ${LINES.toLocaleString()} lines: random 12-character codes, dates in 10 blocks (${Math.round(statSync(file).size / 1e6)} MB)`,
  );

  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const pgRun = await uploadThroughApi({ DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema }, file, LINES);
  const pgBase = await baselinePostgres(file, LINES);
  await dropSchema(schema);
  console.log(
    `PostgreSQL  upload via HTTP: ${pgRun.codesPerSec.toLocaleString()} codes/s (${pgRun.seconds.toFixed(1)} s), server peak RSS ${pgRun.peakRssMb} MB`,
  );
  console.log(`PostgreSQL  baseline COPY:   ${pgBase.codesPerSec.toLocaleString()} codes/s (${pgBase.seconds.toFixed(1)} s)`);
  console.log(`PostgreSQL  upload takes ${(pgRun.seconds / pgBase.seconds).toFixed(2)}x the baseline's time (goal <= 1.2x)`);

  const dataDir = join(dir, `pglite-${randomBytes(4).toString('hex')}`);
  const liteRun = await uploadThroughApi({ DATA_DIR: dataDir }, file, LINES);
  rmSync(dataDir, { recursive: true, force: true });
  const liteBase = await baselinePglite(file, LINES);
  console.log(
    `PGlite      upload via HTTP: ${liteRun.codesPerSec.toLocaleString()} codes/s (${liteRun.seconds.toFixed(1)} s), server peak RSS ${liteRun.peakRssMb} MB (goal <= 500 MB)`,
  );
  console.log(
    `PGlite      baseline COPY:   ${liteBase.codesPerSec.toLocaleString()} codes/s (${liteBase.seconds.toFixed(1)} s); ratio ${(liteRun.seconds / liteBase.seconds).toFixed(2)}x`,
  );

  if (BIG_LINES > 0) {
    const big = join(dir, `vendor-codes-${BIG_LINES}.txt`);
    await writeCodesFile(big, BIG_LINES);
    const bigSchema = `bench_${randomBytes(4).toString('hex')}`;
    const bigRun = await uploadThroughApi({ DATABASE_URL: PG_URL, DATABASE_SCHEMA: bigSchema }, big, BIG_LINES);
    await dropSchema(bigSchema);
    console.log(
      `PostgreSQL  ${BIG_LINES.toLocaleString()} lines: ${bigRun.codesPerSec.toLocaleString()} codes/s, server peak RSS ${bigRun.peakRssMb} MB (goal < 300 MB)`,
    );
  }
}

async function dropSchema(schema: string) {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`drop schema if exists ${schema} cascade`);
  await client.end();
}
