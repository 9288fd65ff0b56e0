/**
 * `npm run bench -- redeem`: checkout redemptions over HTTP with 32 clients (PostgreSQL, PGlite),
 * validate alone (PostgreSQL), each against its bare statement in a loop on the same database in
 * the same run, and the import of 1,000,000 redemptions from a CSV over HTTP (PostgreSQL).
 * The server runs in a process of its own (bench/redeem-server.ts); every redemption redeems
 * another handed-out unique code for another order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import pg from 'pg';

const PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 6);
const CODES = Number(process.env.BENCH_REDEEM_CODES ?? 60_000);
const IMPORT_LINES = Number(process.env.BENCH_IMPORT_LINES ?? 1_000_000);

interface Started {
  url: string;
  token: string;
  merchantId: string;
  child: ChildProcess;
  line: () => Promise<string>;
}

async function start(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/redeem-server.ts'], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const line = async () => {
    const next = await lines.next();
    if (next.done) throw new Error('the bench server ended');
    return next.value;
  };
  const info = JSON.parse(await line());
  return { ...info, child, line };
}

const stop = (s: Started) => new Promise<void>((resolve) => (s.child.once('exit', () => resolve()), s.child.kill('SIGTERM')));

interface Figures {
  perSec: number;
  p50: number;
  p99: number;
}

async function baseline(s: Started, kind: 'redeem' | 'validate'): Promise<Figures> {
  s.child.stdin!.write(`${kind} ${SECONDS}\n`);
  const r = JSON.parse(await s.line()) as { n: number; ms: number; p50: number; p99: number };
  return { perSec: Math.round(r.n / (r.ms / 1000)), p50: r.p50, p99: r.p99 };
}

async function http(s: Started, path: string, body: (n: number) => object): Promise<Figures & { failed: number }> {
  let seq = 0;
  const result = await autocannon({
    url: `${s.url}${path}`,
    connections: 32,
    duration: SECONDS,
    method: 'POST',
    headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify(body(seq++)) }) }],
  });
  return {
    perSec: Math.round(result['2xx'] / SECONDS),
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: result.non2xx + result.errors,
  };
}

const fmt = (f: Figures) => `${f.perSec.toLocaleString('en-US')}/s, p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms`;
const failures = (f: { failed: number }) => (f.failed ? ` (${f.failed} failed requests)` : '');

async function redeemRun(label: string, s: Started, goals: string) {
  const run = await http(s, `/v1/merchants/${s.merchantId}/redemptions`, (n) => ({ code: `R${(n % CODES) + 1}`, orderId: `order-${n}` }));
  const base = await baseline(s, 'redeem');
  console.log(`${label} HTTP redemptions, 32 clients: ${fmt(run)}${failures(run)}${goals}`);
  console.log(
    `${label} bare redeem statement, 32 loops: ${fmt(base)}; ratio ${(run.perSec / base.perSec).toFixed(2)}${label.startsWith('PostgreSQL') ? ' (goal >= 0.6)' : ''}`,
  );
}

async function dropSchema(schema: string) {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`drop schema if exists ${schema} cascade`);
  await client.end();
}

/** The CSV of `lines` redemptions (codes I1…IN, one order each), built in memory: about 30 MB. */
function importFile(lines: number): Buffer {
  const parts = ['code,orderId,amount,currency\n'];
  for (let i = 1; i <= lines; i++) parts.push(`I${i},imp-${i},19.90,EUR\n`);
  return Buffer.from(parts.join(''));
}

async function importRun(s: Started) {
  const file = importFile(IMPORT_LINES);
  const form = new FormData();
  form.append('onInvalid', 'reject');
  form.append('file', new Blob([file]), 'orders.csv');
  const t0 = performance.now();
  const res = await fetch(`${s.url}/v1/merchants/${s.merchantId}/redemptions/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.token}` },
    body: form,
  });
  const ms = performance.now() - t0;
  const report = (await res.json()) as { recorded?: number };
  if (res.status !== 201 || report.recorded !== IMPORT_LINES)
    throw new Error(`import failed: ${res.status} ${JSON.stringify(report).slice(0, 300)}`);
  console.log(
    `PostgreSQL  import of ${IMPORT_LINES.toLocaleString('en-US')} redemptions (CSV over HTTP, ${(file.length / 1024 / 1024).toFixed(0)} MB): ${(ms / 1000).toFixed(1)} s, ${Math.round(IMPORT_LINES / (ms / 1000)).toLocaleString('en-US')} lines/s (goal >= 100,000/s)`,
  );
}

export async function run() {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const pgServer = await start({ DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, CODES: String(CODES), IMPORT_CODES: String(IMPORT_LINES) });
  try {
    await redeemRun('PostgreSQL ', pgServer, ' (goals >= 3,000/s, p99 <= 30 ms)');
    const validate = await http(pgServer, `/v1/merchants/${pgServer.merchantId}/codes/validate`, (n) => ({ code: `R${(n % CODES) + 1}` }));
    const vBase = await baseline(pgServer, 'validate');
    console.log(`PostgreSQL  HTTP validate, 32 clients: ${fmt(validate)}${failures(validate)} (goal >= 5,000/s)`);
    console.log(`PostgreSQL  bare candidates read, 32 loops: ${fmt(vBase)}; ratio ${(validate.perSec / vBase.perSec).toFixed(2)}`);
    await importRun(pgServer);
  } finally {
    await stop(pgServer);
    await dropSchema(schema);
  }
  const lite = await start({ CODES: String(CODES) });
  try {
    await redeemRun('PGlite     ', lite, '');
  } finally {
    await stop(lite);
  }
}
