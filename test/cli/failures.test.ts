import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePostgres } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { runCli, type Exit } from '../foundation/processes.ts';

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Exactly one line on stderr, "couponflow: …", nothing on stdout, exit code 1. */
function expectOneLine(run: Exit, pattern: RegExp) {
  expect(run.code, run.stderr).toBe(1);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^couponflow: /);
  expect(lines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

describePostgres('CLI expected failures', (ctx) => {
  let app: Awaited<ReturnType<typeof testApp>>;
  let t: TestTenant;
  let url: string;
  const dir = mkdtempSync(join(tmpdir(), 'couponflow-cli-fail-'));
  beforeAll(async () => {
    app = await testApp(ctx.database);
    t = await newTenant(app);
    url = await app.http.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.http.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('no token, bad token, unreachable server, missing file, API error: one clean line and exit 1', async () => {
    const codes = join(dir, 'codes.txt');
    writeFileSync(codes, 'A1\nA2\n');
    const port = await closedPort();
    const [noToken, badToken, unreachable, missing, apiError, notJson] = await Promise.all([
      runCli(['pools', 'list'], { COUPONFLOW_URL: url }),
      runCli(['pools', 'list'], { COUPONFLOW_URL: url, COUPONFLOW_TOKEN: 'cf_wrong' }),
      runCli(['pools', 'list'], { COUPONFLOW_URL: `http://127.0.0.1:${port}`, COUPONFLOW_TOKEN: t.token }),
      runCli(['pools', 'upload', join(dir, 'nope.txt'), '--pool', 'x'], { COUPONFLOW_URL: url, COUPONFLOW_TOKEN: t.token }),
      runCli(['pools', 'upload', codes, '--pool', 'no-such-pool'], { COUPONFLOW_URL: url, COUPONFLOW_TOKEN: t.token }),
      runCli(['contacts', 'import', codes], { COUPONFLOW_URL: `${url}/console-not-api`, COUPONFLOW_TOKEN: t.token }),
    ]);
    expectOneLine(noToken, /set COUPONFLOW_TOKEN/);
    expectOneLine(badToken, /refused the token \(401\)/);
    expectOneLine(unreachable, new RegExp(`cannot reach the server at http://127.0.0.1:${port} \\(ECONNREFUSED\\)`));
    expectOneLine(missing, /cannot read .*nope\.txt: no such file/);
    expectOneLine(apiError, /pool not found \(404 not_found\)/);
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/^couponflow: /);
  }, 180_000);

  it('`pools list` prints a plain table with a header and no (index) column; uploads say "invalid"', async () => {
    const pool = await app.http.inject({
      method: 'POST',
      url: `/v1/merchants/${t.merchantId}/pools`,
      headers: t.auth,
      payload: { name: 'Welcome 10%', type: 'unique' },
    });
    expect(pool.statusCode, pool.body).toBe(201);
    const env = { COUPONFLOW_URL: url, COUPONFLOW_TOKEN: t.token };
    const file = join(dir, 'mixed.txt');
    writeFileSync(file, `GOOD1\nGOOD2\nGOOD1\n${'X'.repeat(60)}\n`);
    const upload = await runCli(['pools', 'upload', file, '--pool', pool.json().id, '--on-invalid', 'skip'], env);
    expect(upload.code, upload.stderr).toBe(0);
    expect(upload.stdout).toMatch(/2 imported, 1 duplicates, 1 invalid/);
    expect(upload.stdout).not.toMatch(/rejected/);

    const list = await runCli(['pools', 'list'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).not.toMatch(/\(index\)|[│┌└]/);
    const [header, rule, row] = list.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^merchant\s+id\s+name\s+type\s+active\s+total\s+available\s+assigned/);
    expect(rule).toMatch(/^-+( +-+)+$/);
    expect(row).toContain('Welcome 10%');
    expect(row).toMatch(/unique\s+yes\s+2\s+2\s+0/);
  }, 180_000);
});
