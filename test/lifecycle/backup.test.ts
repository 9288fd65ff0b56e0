import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { runCli, startServer, type Exit, type RunningServer } from '../foundation/processes.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp } from '../helpers/app.ts';
import { multipart } from '../helpers/multipart.ts';
import { openDatabase, restoreDataDir, type Database } from '../../src/platform/db/database.ts';
import { backupTarball } from '../../src/platform/db/backup-file.ts';
import { migrations } from '../../src/migrations/index.ts';
import type { DB } from '../../src/schema.ts';

/** Exactly one line on stderr, "couponflow: …", exit code 1. */
function expectOneLine(run: Exit, pattern: RegExp) {
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^couponflow: /);
  expect(lines[0]).toMatch(pattern);
}

/** Many CLI processes at once on a busy machine: each gets longer than the default. */
const SLOW = 300_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A multipart upload whose file part is written a batch of codes at a time, for as long as the caller likes. */
function streamingUpload(url: string, poolId: string, token: string) {
  const boundary = `----couponflow${randomBytes(8).toString('hex')}`;
  const req = request(`${url}/v1/pools/${poolId}/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
  });
  const answer = new Promise<{ status: number; body: { imported: number; status: string; id: string } }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
  });
  req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\nContent-Type: text/plain\r\n\r\n`);
  let sent = 0;
  return {
    answer,
    sent: () => sent,
    write(count: number) {
      const lines = Array.from({ length: count }, (_, i) => `BIG${String(sent + i).padStart(9, '0')}\n`).join('');
      sent += count;
      return new Promise<void>((resolve, reject) => req.write(lines, (err) => (err ? reject(err) : resolve())));
    },
    end: () => req.end(`\r\n--${boundary}--\r\n`),
  };
}

/** The invariants of the codes and their counters, as a restored database holds them. */
async function inconsistencies(database: Database<DB>) {
  // Per pool and expiry: the counters (pool_code_counts, all slots) against count(*) of the codes.
  const counts = await sql<{
    pool_key: number;
    expires_at: Date;
    counted: number;
    actual: number;
    counted_free: number;
    actual_free: number;
  }>`
    with counted as (
      select pool_key, expires_at, sum(codes)::int as codes, sum(unassigned)::int as unassigned
      from pool_code_counts group by pool_key, expires_at
    ), actual as (
      select pool_key, expires_at, count(*)::int as codes, (count(*) filter (where assigned_at is null))::int as unassigned
      from codes group by pool_key, expires_at
    )
    select coalesce(c.pool_key, a.pool_key) as pool_key, coalesce(c.expires_at, a.expires_at) as expires_at,
           coalesce(c.codes, 0) as counted, coalesce(a.codes, 0) as actual,
           coalesce(c.unassigned, 0) as counted_free, coalesce(a.unassigned, 0) as actual_free
    from counted c full join actual a on a.pool_key = c.pool_key and a.expires_at = c.expires_at
  `.execute(database.db);
  // Every imported upload holds exactly the codes it reports; no code names an upload that is not recorded.
  const uploads = await sql<{ id: string; imported: number; held: number }>`
    select u.id, u.imported, (select count(*)::int from codes c where c.upload_key = u.key) as held
    from uploads u where u.status = 'imported'
  `.execute(database.db);
  const orphans = await sql<{ n: number }>`
    select count(*)::int as n from codes c where c.upload_key is not null and not exists (select 1 from uploads u where u.key = c.upload_key)
  `.execute(database.db);
  // An assignment's code is marked assigned.
  const unmarked = await sql<{ n: number }>`
    select count(*)::int as n from assignments a join codes c on c.id = a.code_id where a.released_at is null and c.assigned_at is null
  `.execute(database.db);
  return {
    counters: counts.rows.filter((r) => r.counted !== r.actual || r.counted_free !== r.actual_free),
    uploads: uploads.rows.filter((r) => r.imported !== r.held),
    orphanCodes: orphans.rows[0]!.n,
    unmarkedAssignments: unmarked.rows[0]!.n,
    pools: new Set(counts.rows.map((r) => r.pool_key)).size,
  };
}

const consistent = { counters: [], uploads: [], orphanCodes: 0, unmarkedAssignments: 0 };

describe('couponflow backup and restore (PGlite, real processes)', () => {
  const root = mkdtempSync(join(tmpdir(), 'couponflow-backup-'));
  const dataDir = join(root, 'data');
  const restoredDir = join(root, 'restored');
  const file = join(root, 'live.tar.gz');
  const admin = `cf_${'b'.repeat(43)}`;
  let server: RunningServer;
  let bigUploadId = '';
  let bigImported = 0;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  beforeAll(async () => {
    // info: the server logs each request as it arrives, which tells when the backup was asked for.
    server = await startServer({ DATA_DIR: dataDir, COUPONFLOW_BOOTSTRAP_TOKEN: admin, LOG_LEVEL: 'info' }, 150_000);
  }, 160_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('a backup asked for during a large upload holds all of it, and restored into a new dir it is consistent', async () => {
    const merchantId = ((await api('GET', '/v1/merchants')).items as { id: string }[])[0]!.id;
    const pool = (await api('POST', `/v1/merchants/${merchantId}/pools`, { name: 'Backed up', type: 'unique' })) as { id: string };
    const small = multipart({}, { content: Array.from({ length: 300 }, (_, i) => `SMALL${i}`).join('\n') });
    const first = await fetch(`${server.url}/v1/pools/${pool.id}/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, ...small.headers },
      body: small.payload,
    });
    expect(first.status).toBe(201);
    for (let i = 0; i < 5; i++)
      await api('POST', `/v1/pools/${pool.id}/assignments`, { email: `p${i}@example.com`, idempotencyKey: `k${i}` });

    const upload = streamingUpload(server.url, pool.id, admin);
    await upload.write(2000);
    const backup = runCli(['backup', file], { DATA_DIR: dataDir, COUPONFLOW_URL: server.url, COUPONFLOW_TOKEN: admin });
    // Keep the upload's transaction open until the backup request has reached the server, and a while after.
    const asked = () => server.output().stdout.includes('"url":"/v1/backup"');
    const deadline = Date.now() + 120_000;
    while (!asked()) {
      if (Date.now() > deadline) throw new Error(`the backup request never reached the server:\n${server.output().stdout.slice(-2000)}`);
      await upload.write(500);
      await sleep(100);
    }
    for (let i = 0; i < 10; i++) {
      await upload.write(500);
      await sleep(100);
    }
    upload.end();
    const [uploaded, backedUp] = await Promise.all([upload.answer, backup]);
    expect(uploaded.status, JSON.stringify(uploaded.body)).toBe(201);
    expect(uploaded.body.imported).toBe(upload.sent());
    expect(backedUp.code, backedUp.stderr).toBe(0);
    expect(backedUp.stdout).toMatch(
      /^backed up the database of the server at http:\/\/127\.0\.0\.1:\d+ to .*live\.tar\.gz \([\d.]+ [KM]B\)/,
    );
    bigUploadId = uploaded.body.id;
    bigImported = uploaded.body.imported;

    expect(existsSync(restoredDir)).toBe(false);
    const restored = await runCli(['restore', file], { DATA_DIR: restoredDir });
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`(schema version ${migrations.length})`);

    const database = await openDatabase<DB>({ dataDir: restoredDir, schema: 'public' });
    try {
      const found = await inconsistencies(database);
      expect(found).toMatchObject(consistent);
      expect(found.pools).toBeGreaterThanOrEqual(1);
      // The upload's transaction was under way when the backup was asked for: the copy waited for its end.
      const big = await database.db.selectFrom('uploads').select(['status', 'imported']).where('id', '=', bigUploadId).executeTakeFirst();
      expect(big).toEqual({ status: 'imported', imported: bigImported });
      const assigned = await database.db
        .selectFrom('assignments')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(assigned.n).toBe(5);
    } finally {
      await database.close();
    }
  }, 400_000);

  it('restore refuses a filled or live data dir; backup and restore failures are one line and exit 1', async () => {
    const owner = (await api('POST', '/v1/tokens', { name: 'not installation admin', role: 'owner' })) as { token: string };
    const notBackup = join(root, 'not-a-backup.txt');
    writeFileSync(notBackup, 'hello\n');
    const cut = join(root, 'cut.tar.gz');
    const whole = readFileSync(file);
    writeFileSync(cut, whole.subarray(0, whole.length >> 1));
    const pgEnv = { DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none' };
    const [filled, live, noToken, notAdmin, pgBackup, pgRestore, garbage, halfFile, missing, noDatabase, noDirectory] = await Promise.all([
      runCli(['restore', file], { DATA_DIR: restoredDir }, SLOW),
      runCli(['restore', file], { DATA_DIR: dataDir }, SLOW),
      runCli(['backup', join(root, 'x.tar.gz')], { DATA_DIR: dataDir, COUPONFLOW_URL: server.url }, SLOW),
      runCli(['backup', join(root, 'x.tar.gz')], { DATA_DIR: dataDir, COUPONFLOW_URL: server.url, COUPONFLOW_TOKEN: owner.token }, SLOW),
      runCli(['backup', 'couponflow.dump'], pgEnv, SLOW),
      runCli(['restore', 'couponflow.dump'], pgEnv, SLOW),
      runCli(['restore', notBackup], { DATA_DIR: join(root, 'garbage') }, SLOW),
      runCli(['restore', cut], { DATA_DIR: join(root, 'half') }, SLOW),
      runCli(['restore', join(root, 'nope.tar.gz')], { DATA_DIR: join(root, 'missing') }, SLOW),
      runCli(['backup', join(root, 'x.tar.gz')], { DATA_DIR: join(root, 'never-used') }, SLOW),
      runCli(['backup', join(root, 'no', 'such', 'x.tar.gz')], { DATA_DIR: restoredDir }, SLOW),
    ]);
    expectOneLine(filled, /the data directory .*restored is not empty \(pgdata\): restore into an empty or new directory/);
    expectOneLine(live, /The data directory .*data is in use by process \d+.*: a restore fills an empty data directory/);
    expectOneLine(noToken, /is in use by process \d+.*Set COUPONFLOW_TOKEN to the installation admin token/);
    expectOneLine(notAdmin, /installation:admin.*\(403 forbidden\)/);
    expectOneLine(pgBackup, /DATABASE_URL is set: .*pg_dump --format=custom --file couponflow\.dump "\$DATABASE_URL"/);
    expectOneLine(pgRestore, /DATABASE_URL is set: .*pg_restore --no-owner --dbname "\$DATABASE_URL" couponflow\.dump/);
    expectOneLine(garbage, /not-a-backup\.txt is not a Couponflow backup/);
    expectOneLine(halfFile, /cut\.tar\.gz is not a Couponflow backup: it does not decompress/);
    expectOneLine(missing, /cannot read .*nope\.tar\.gz: no such file/);
    expectOneLine(noDatabase, /there is no embedded database in .*never-used/);
    expectOneLine(noDirectory, /cannot write .*x\.tar\.gz: no such directory/);
    // Nothing was written anywhere by the refusals; the live server still answers.
    for (const dir of ['garbage', 'half', 'missing', 'never-used']) expect(existsSync(join(root, dir)), dir).toBe(false);
    expect(existsSync(join(root, 'x.tar.gz'))).toBe(false);
    expect(readdirSync(root).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  }, 400_000);

  it('backup works on a free data dir without serve; a backup from a newer schema is refused and leaves the dir empty', async () => {
    const again = join(root, 'again.tar.gz');
    const backedUp = await runCli(['backup', again], { DATA_DIR: restoredDir });
    expect(backedUp.code, backedUp.stderr).toBe(0);
    expect(backedUp.stdout).toMatch(/^backed up .*restored to .*again\.tar\.gz/);
    // It is a gzipped tar of a PostgreSQL data directory.
    expect(gunzipSync(readFileSync(again)).toString('latin1', 257, 262)).toBe('ustar');

    // The copy of the copy, restored, holds the same; then a migration this build does not know is recorded in it.
    const second = join(root, 'second');
    mkdirSync(second); // an empty directory is as good as none
    const restored = await runCli(['restore', again], { DATA_DIR: second });
    expect(restored.code, restored.stderr).toBe(0);
    const database = await openDatabase<DB>({ dataDir: second, schema: 'public' });
    try {
      expect(await inconsistencies(database)).toMatchObject(consistent);
      const big = await database.db.selectFrom('uploads').select('imported').where('id', '=', bigUploadId).executeTakeFirstOrThrow();
      expect(big.imported).toBe(bigImported);
      await database.db
        .insertInto('schema_migrations' as never)
        .values({ version: migrations.length + 1, name: 'from-a-newer-build' } as never)
        .execute();
    } finally {
      await database.close();
    }
    const future = join(root, 'future.tar.gz');
    expect((await runCli(['backup', future], { DATA_DIR: second })).code).toBe(0);
    const target = join(root, 'future');
    mkdirSync(target);
    const refused = await runCli(['restore', future], { DATA_DIR: target });
    expectOneLine(
      refused,
      new RegExp(
        `future\\.tar\\.gz was taken from a newer Couponflow \\(schema version ${migrations.length + 1}; this build knows up to ${migrations.length}\\)`,
      ),
    );
    expect(readdirSync(target)).toEqual([]); // as it was
  }, 400_000);
});

describe('Database.dumpDataDir (PGlite)', () => {
  it('waits for a transaction under way and copies it whole, never half', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'couponflow-dump-'));
    const database = await openDatabase<DB>({ dataDir: join(dir, 'live'), schema: 'public' });
    try {
      await sql`create table t (n int)`.execute(database.db);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let firstHalf!: () => void;
      const halfway = new Promise<void>((resolve) => (firstHalf = resolve));
      const transaction = database.db.transaction().execute(async (tx) => {
        await sql`insert into t select generate_series(1, 1000)`.execute(tx);
        firstHalf();
        await gate;
        await sql`insert into t select generate_series(1001, 2000)`.execute(tx);
      });
      await halfway;
      let dumped = false;
      const dump = database.dumpDataDir!().then((blob) => ((dumped = true), blob));
      await sleep(1000);
      expect(dumped).toBe(false); // behind the transaction, which holds the connection
      release();
      await transaction;
      const copy = new Uint8Array(await (await dump).arrayBuffer());
      let rows = -1;
      await restoreDataDir<DB>({
        dataDir: join(dir, 'copy'),
        schema: 'public',
        tarball: async () => new Blob([(await backupTarball(copy, 'the dump')) as Uint8Array<ArrayBuffer>]),
        check: async (restored) => {
          rows = (await sql<{ n: number }>`select count(*)::int as n from t`.execute(restored.db)).rows[0]!.n;
        },
      });
      expect(rows).toBe(2000);
    } finally {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describeEachEngine('GET /v1/backup', (ctx) => {
  let app: Awaited<ReturnType<typeof testApp>>;
  let headers: { authorization: string };
  let owner: { authorization: string };
  beforeAll(async () => {
    app = await testApp(ctx.database);
    const t = await newTenant(app);
    owner = t.auth;
    const token = await app.services.accounts.createToken({
      accountId: t.accountId,
      name: 'installation',
      role: 'owner',
      installationAdmin: true,
    });
    headers = { authorization: `Bearer ${token}` };
  });
  afterAll(() => app.http.close());

  it('hands the installation admin a gzipped tar of the data dir on PGlite; on PostgreSQL, 409 pointing to pg_dump', async () => {
    const res = await app.http.inject({ method: 'GET', url: '/v1/backup', headers });
    if (ctx.engine === 'pglite') {
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/gzip');
      expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
      expect((await backupTarball(res.rawPayload, 'the answer')).length).toBeGreaterThan(res.rawPayload.length);
    } else {
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('not_embedded');
      expect(res.json().error.message).toMatch(/pg_dump --format=custom/);
    }
    const refused = await app.http.inject({ method: 'GET', url: '/v1/backup', headers: owner });
    expect(refused.statusCode).toBe(403);
  }, 120_000);
});
