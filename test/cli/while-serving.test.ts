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
    const tokens = (await fetch(`${server.url}/v1/tokens`, { headers: { authorization: `Bearer ${admin}` } }).then((r) => r.json())) as { items: { name: string }[] };
    expect(tokens.items.map((t: { name: string }) => t.name)).toContain('ci');
  }, 180_000);
});
