import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastLine, runCli, startServer, TOKEN_PATTERN, type RunningServer } from '../foundation/processes.ts';

/** While `serve` owns the PGlite data dir, the CLI's database commands go through its API. */
describe('CLI while serve runs on PGlite', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'couponflow-serving-'));
  const admin = `cf_${'a'.repeat(43)}`;
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ DATA_DIR: dataDir, COUPONFLOW_BOOTSTRAP_TOKEN: admin }, 150_000);
  }, 160_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('`token create` and `accounts create` work through the API; without a token, one line says what to do', async () => {
    const env = { DATA_DIR: dataDir, COUPONFLOW_URL: server.url };
    const [refused, viaApi, account, migrate] = await Promise.all([
      runCli(['token', 'create', '--name', 'ci'], env),
      runCli(['token', 'create', '--name', 'ci'], { ...env, COUPONFLOW_TOKEN: admin }),
      runCli(['accounts', 'create', '--name', 'Second Co'], { ...env, COUPONFLOW_TOKEN: admin }),
      runCli(['migrate'], env),
    ]);
    // migrate has nothing to do beside a running server: it migrated the database at its start.
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(migrate.stdout).toMatch(/in use by process \d+.*applied its migrations when it started/);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/^couponflow: The data directory .* is in use by process \d+.*Set COUPONFLOW_TOKEN/);

    expect(viaApi.code, viaApi.stderr).toBe(0);
    const token = lastLine(viaApi.stdout);
    expect(token).toMatch(TOKEN_PATTERN);
    const res = await fetch(`${server.url}/v1/merchants`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);

    expect(account.code, account.stderr).toBe(0);
    expect(account.stdout).toMatch(/created account Second Co \(/);
    expect(lastLine(account.stdout)).toMatch(TOKEN_PATTERN);
    const tokens = (await fetch(`${server.url}/v1/tokens`, { headers: { authorization: `Bearer ${admin}` } }).then((r) => r.json())) as {
      items: { name: string }[];
    };
    expect(tokens.items.map((t: { name: string }) => t.name)).toContain('ci');
  }, 180_000);

  it('`users invite` and `users list` work through the API', async () => {
    const env = { DATA_DIR: dataDir, COUPONFLOW_URL: server.url, COUPONFLOW_TOKEN: admin };
    const invited = await runCli(['users', 'invite', '--email', 'cli.person@example.com', '--role', 'analyst'], env);
    expect(invited.code, invited.stderr).toBe(0);
    const userId = lastLine(invited.stdout);
    const listed = await runCli(['users', 'list'], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(userId);
    expect(listed.stdout).toMatch(/cli\.person@example\.com\s+analyst\s+all\s+invited/);
    const bad = await runCli(['users', 'invite', '--email', 'x@example.com', '--role', 'root'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^couponflow: --role must be one of owner, admin, marketer, analyst/);
  }, 180_000);

  it("the first start printed a one-time link that sets the owner's password, who then signs in", async () => {
    const { stdout } = server.output();
    const link = /^\s+(http:\/\/\S+#\/set-password\/(\S+))$/m.exec(stdout);
    expect(link, stdout).not.toBeNull();
    expect(stdout).toContain('owner@localhost (OWNER_EMAIL)');
    const post = (path: string, body: object) =>
      fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const token = decodeURIComponent(link![2]!);
    expect((await post('/v1/password-links/use', { token, password: 'the owner chose this' })).status).toBe(204);
    const signIn = await post('/v1/session', { email: 'owner@localhost', password: 'the owner chose this' });
    expect(signIn.status).toBe(201);
    expect(((await signIn.json()) as { role: string }).role).toBe('owner');
    expect((await post('/v1/password-links/use', { token, password: 'a second try at it' })).status).toBe(404);
  }, 120_000);
});
