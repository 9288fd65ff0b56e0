import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { sql } from 'kysely';
import { describePostgres } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { redemptionApi } from './setup.ts';

const COUNT = 1_000_000;
const MB = 1024 * 1024;
const HEAP_CAP_MB = 64;

describePostgres('export of 1,000,000 codes, streamed with flat memory', (ctx) => {
  let app: Awaited<ReturnType<typeof testApp>>;
  let t: TestTenant;
  let server: ChildProcess;
  let lines: AsyncIterator<string>;
  beforeAll(async () => {
    app = await testApp(ctx.database);
    t = await newTenant(app);
  }, 120_000);
  afterAll(async () => {
    server?.kill();
    await app.http.close();
  });

  it('answers every code, while the server (a process of its own) holds far less than the file', { timeout: 600_000 }, async () => {
    const api = redemptionApi(app, t);
    const poolId = await api.pool({ type: 'unique' });
    const upload = await api.upload(poolId, ['SEED-0']);
    const { key, pool_key: poolKey } = (
      await sql<{ key: string; pool_key: string }>`select u.key::text, u.pool_key::text from uploads u where u.id = ${upload.id}`.execute(
        ctx.database.db,
      )
    ).rows[0]!;
    // The million codes, set-wise, as one upload (47 characters each: a CSV of about 95 MB).
    await sql`
      insert into codes (account_id, pool_key, code, expires_at, upload_key)
      select ${t.accountId}, ${poolKey}::bigint, 'EXPORT-' || lpad(i::text, 8, '0') || md5(i::text), 'infinity', ${key}::bigint
      from generate_series(1, ${COUNT - 1}) as i`.execute(ctx.database.db);
    await sql`analyze codes`.execute(ctx.database.db);

    // The server's heap is capped well below the answer's size: a server that buffered the export
    // (or let it pile up unread) would die out of memory instead of answering.
    server = spawn(process.execPath, [`--max-old-space-size=${HEAP_CAP_MB}`, '--import', 'tsx', 'test/redemptions/export-server.ts'], {
      env: { ...process.env, ...ctx.env },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    lines = createInterface({ input: server.stdout! })[Symbol.asyncIterator]();
    const { port } = JSON.parse((await lines.next()).value);
    const memory = async () => {
      server.stdin!.write('report\n');
      return JSON.parse((await lines.next()).value) as {
        start: { heapUsed: number; rss: number };
        peak: { heapUsed: number; rss: number };
      };
    };

    const res = await fetch(`http://127.0.0.1:${port}/v1/pools/${poolId}/codes/export?uploadId=${upload.id}`, { headers: t.auth });
    expect(res.status).toBe(200);
    // Read as it comes, keeping nothing but counts.
    let bytes = 0;
    let newlines = 0;
    let first = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      if (first.length < 200) first += Buffer.from(chunk).toString('utf8', 0, 200);
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) newlines++;
    }
    expect(first.startsWith('code,status,expiresAt,contactId,email,assignedAt,redeemedAt,uploadId\n')).toBe(true);
    expect(newlines).toBe(COUNT + 1); // the header and every code, each on its line
    expect(bytes).toBeGreaterThan(90 * MB);

    const { start, peak } = await memory();
    const heapGrowth = (peak.heapUsed - start.heapUsed) / MB;
    const rssGrowth = (peak.rss - start.rss) / MB;
    console.log(
      `export of ${COUNT} codes: ${(bytes / MB).toFixed(0)} MB sent; server heap ${(start.heapUsed / MB).toFixed(1)} MB at start, ` +
        `${(peak.heapUsed / MB).toFixed(1)} MB at peak (+${heapGrowth.toFixed(1)}), RSS +${rssGrowth.toFixed(1)} MB (old space capped at ${HEAP_CAP_MB} MB)`,
    );
    // Buffering the answer would take at least its size (>90 MB, twice that as a JS string).
    expect(heapGrowth).toBeLessThan(24);
    expect(rssGrowth).toBeLessThan(48);
    expect(server.exitCode).toBe(null); // still serving
  });
});
