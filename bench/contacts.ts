import { createWriteStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { createReadStream } from 'node:fs';
import { ApiClient } from '../src/cli/api-client.ts';
import { createRenderer } from '../src/modules/messages/template.ts';
import { preparedMessage } from '../src/modules/messages/service.ts';
import type { FieldGroup } from '../src/modules/segmentation/model.ts';
import { startServer } from './server.ts';

const PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
const RENDERS = Number(process.env.BENCH_RENDERS ?? 100_000);
const PGLITE = process.env.BENCH_CONTACTS_PGLITE !== '0';
const dir = join(tmpdir(), 'couponflow-bench');

const BASELINE_ACCOUNT = 'bench000-0000-7000-8000-000000000000';
const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));

/** `email,Shopper.Code,Shopper.Expires`: a unique code and one of twelve expiration dates per contact. */
async function writeContactsFile(path: string, lines: number) {
  if (existsSync(path) && statSync(path).size > 0) return;
  const out = createWriteStream(path);
  let buf = 'email,Shopper.Code,Shopper.Expires\n';
  for (let i = 0; i < lines; i++) {
    buf += `shopper${i}@example.com,${randomBytes(6).toString('hex').toUpperCase()},2027-${String(1 + (i % 12)).padStart(2, '0')}-28\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

/**
 * The same rows as the import writes (ids, emails, status, jsonb values), COPYed from a prepared
 * file into a copy of the contacts table with the same indexes: what PostgreSQL alone takes.
 */
async function baselinePostgres(schema: string, lines: number) {
  const rows = join(dir, `contacts-${lines}.copy`);
  if (!existsSync(rows) || statSync(rows).size === 0) {
    const out = createWriteStream(rows);
    let buf = '';
    for (let i = 0; i < lines; i++) {
      const id = `0193a7c2-${String(i).padStart(12, '0').slice(0, 4)}-7000-8000-${String(i).padStart(12, '0')}`;
      buf += `${BASELINE_ACCOUNT}\t${id}\tshopper${i}@example.com\tsubscribed\t{"0193a7c2-0000-7000-8000-000000000001": "${randomBytes(6).toString('hex').toUpperCase()}", "0193a7c2-0000-7000-8000-000000000002": "2027-03-28"}\n`;
      if (buf.length > 1 << 20) {
        if (!out.write(buf)) await once(out, 'drain');
        buf = '';
      }
    }
    out.end(buf);
    await once(out, 'finish');
  }
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    // Like contacts: its indexes, and its foreign key to accounts (checked for every row).
    await client.query(`set search_path to ${schema}; create table contacts_baseline (like contacts including all);
      alter table contacts_baseline add foreign key (account_id) references accounts (id);
      insert into accounts (id, name) values ('${BASELINE_ACCOUNT}', 'baseline')`);
    const t0 = performance.now();
    await client.query('begin');
    await pipeline(
      createReadStream(rows, { highWaterMark: 1 << 20 }),
      client.query(copyFrom('copy contacts_baseline (account_id, id, email, status, fields) from stdin')),
    );
    await client.query('commit');
    const ms = performance.now() - t0;
    return { perSec: rate(lines, ms), seconds: ms / 1000 };
  } finally {
    await client.end();
  }
}

async function importThroughApi(env: Record<string, string>, file: string, lines: number) {
  const server = await startServer(env);
  try {
    const api = new ApiClient(server.url, server.token);
    const group = await api.request<{ id: string }>('POST', '/v1/field-groups', { name: 'Shopper' });
    await api.request('POST', `/v1/field-groups/${group.id}/fields`, { name: 'Code', type: 'text' });
    await api.request('POST', `/v1/field-groups/${group.id}/fields`, { name: 'Expires', type: 'date' });
    const t0 = performance.now();
    const res = await api.uploadFile<{ created: number; status: string }>('/v1/contacts/import', { onInvalid: 'reject' }, file);
    const ms = performance.now() - t0;
    if (res.status !== 201 || res.body.created !== lines)
      throw new Error(`import failed: ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
    return { perSec: rate(lines, ms), seconds: ms / 1000, peakRssMb: server.peakRssMb() };
  } finally {
    await server.stop();
  }
}

/** One message with four merge tags (text, date, number, boolean) for many contacts, on one core. */
function renderMany(count: number) {
  const groups: FieldGroup[] = [
    {
      id: 'g',
      name: 'Shopper',
      createdAt: new Date(),
      fields: [
        { id: 'f1', groupId: 'g', name: 'Code', type: 'text', snippet: '' },
        { id: 'f2', groupId: 'g', name: 'Expires on', type: 'date', snippet: '' },
        { id: 'f3', groupId: 'g', name: 'Points', type: 'number', snippet: '' },
        { id: 'f4', groupId: 'g', name: 'VIP', type: 'boolean', snippet: '' },
      ],
    },
  ];
  const render = preparedMessage(createRenderer({ timeZone: 'America/New_York' }), groups, {
    subject: 'Your 10% off, {{ Shopper.Code }}',
    html: '<p>Hello {{ contact.email }},</p><p>Your code <b>{{ Shopper.Code }}</b> is valid until {{ Shopper["Expires on"] | date: "%m/%d/%Y" }}.</p><p>You have {{ Shopper.Points }} points{% if Shopper.VIP %} and VIP status{% endif %}.</p>',
    text: 'Hello {{ contact.email }}, your code {{ Shopper.Code }} is valid until {{ Shopper["Expires on"] | date: "%m/%d/%Y" }}.',
  });
  const contacts = Array.from({ length: count }, (_, i) => ({
    id: `c${i}`,
    email: `shopper${i}@example.com`,
    status: 'subscribed' as const,
    fields: {
      f1: `CODE${i}`,
      f2: i % 2 ? `2027-${String(1 + (i % 12)).padStart(2, '0')}-28` : '2027-03-01T04:59:59.999Z',
      f3: i % 1000,
      f4: i % 3 === 0,
    },
  }));
  let bytes = 0;
  for (const c of contacts.slice(0, 1000)) bytes += render(c).html.length; // warm up
  const t0 = performance.now();
  for (const c of contacts) bytes += render(c).html.length;
  const ms = performance.now() - t0;
  return { perSec: rate(count, ms), seconds: ms / 1000, bytes };
}

export async function run() {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `contacts-${CONTACTS}.csv`);
  await writeContactsFile(file, CONTACTS);
  console.log(`file: ${CONTACTS.toLocaleString()} contacts, two fields each (${Math.round(statSync(file).size / 1e6)} MB)`);

  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const pgRun = await importThroughApi({ DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema }, file, CONTACTS);
  const pgBase = await baselinePostgres(schema, CONTACTS);
  await dropSchema(schema);
  console.log(
    `PostgreSQL  import via HTTP: ${pgRun.perSec.toLocaleString()} contacts/s (${pgRun.seconds.toFixed(1)} s), server peak RSS ${pgRun.peakRssMb} MB (goal >= 50,000 contacts/s)`,
  );
  console.log(
    `PostgreSQL  baseline COPY of the same rows into a copy of contacts (same indexes and foreign key): ${pgBase.perSec.toLocaleString()} contacts/s (${pgBase.seconds.toFixed(1)} s); the import takes ${(pgRun.seconds / pgBase.seconds).toFixed(2)}x its time`,
  );

  if (PGLITE) {
    const dataDir = join(dir, `pglite-${randomBytes(4).toString('hex')}`);
    try {
      const liteRun = await importThroughApi({ DATA_DIR: dataDir }, file, CONTACTS);
      console.log(
        `PGlite      import via HTTP: ${liteRun.perSec.toLocaleString()} contacts/s (${liteRun.seconds.toFixed(1)} s), server peak RSS ${liteRun.peakRssMb} MB`,
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }

  const renders = renderMany(RENDERS);
  console.log(
    `render: ${RENDERS.toLocaleString()} messages (subject, HTML, text; four fields) in ${renders.seconds.toFixed(2)} s: ${renders.perSec.toLocaleString()} renders/s on one core (goal >= 20,000/s per core)`,
  );
}

async function dropSchema(schema: string) {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`drop schema if exists ${schema} cascade`);
  await client.end();
}
