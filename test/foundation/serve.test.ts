import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServer, type RunningServer } from './processes.ts';

/**
 * `couponflow serve` as an operator runs it: embedded PGlite in a data directory, first start,
 * the data directory held while it runs, SIGTERM, and the directory free again afterwards.
 */
const dirs: string[] = [];
const servers: RunningServer[] = [];
const tempDataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'couponflow-serve-'));
  dirs.push(dir);
  return dir;
};

afterAll(() => {
  for (const server of servers) server.kill();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const merchantsWith = (url: string, token: string) => fetch(`${url}/v1/merchants`, { headers: { authorization: `Bearer ${token}` } });

describe('serve on PGlite', () => {
  it('first start prints a working admin token; the data dir is refused to a second process while it runs and free after SIGTERM', async () => {
    const dataDir = tempDataDir();
    const server = await startServer({ DATA_DIR: dataDir });
    servers.push(server);

    // First start: the token is printed alone on a line, and it lists the merchant created with it.
    const { stdout } = server.output();
    expect(stdout).toContain('First start: created account');
    const token = /^\s+(cf_[A-Za-z0-9_-]{43})\s*$/m.exec(stdout)?.[1];
    expect(token, stdout).toBeDefined();
    const res = await merchantsWith(server.url, token!);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: { name: string }[] };
    expect(body.items.map((m) => m.name)).toEqual(['My shop']);
    // It is the installation admin.
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

    // PGlite allows one process per data dir: the CLI refuses, clearly, and leaves it alone.
    const [migrate, accounts] = await Promise.all([
      runCli(['migrate'], { DATA_DIR: dataDir }),
      runCli(['accounts', 'create', '--name', 'Intruder'], { DATA_DIR: dataDir }),
    ]);
    for (const refused of [accounts]) {
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.stderr).toMatch(/data directory .* is in use/);
      expect(refused.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    }
    // migrate has nothing to do beside a running server (it migrated at its start): one line, exit 0.
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(migrate.stdout).toMatch(/in use by process \d+.*applied its migrations when it started/);
    expect((await merchantsWith(server.url, token!)).status).toBe(200);

    // SIGTERM: a clean exit that releases the data dir.
    const exit = await server.stop('SIGTERM');
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.signal).toBeNull();
    expect(existsSync(join(dataDir, 'couponflow.lock'))).toBe(false);
    const after = await runCli(['migrate'], { DATA_DIR: dataDir });
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toContain('database is up to date');
  }, 120_000);

  it('uses COUPONFLOW_BOOTSTRAP_TOKEN as the installation admin token, and keeps it across a restart', async () => {
    const dataDir = tempDataDir();
    const token = `scripted-${'x'.repeat(24)}`;
    const first = await startServer({ DATA_DIR: dataDir, COUPONFLOW_BOOTSTRAP_TOKEN: token });
    servers.push(first);
    expect(first.output().stdout).toContain('(the token from COUPONFLOW_BOOTSTRAP_TOKEN)');
    expect(first.output().stdout).not.toContain(token); // not echoed: the operator chose it
    const res = await merchantsWith(first.url, token);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { items: unknown[] }).items).toHaveLength(1);
    expect((await fetch(`${first.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await merchantsWith(first.url, `${token}-not`)).status).toBe(401);
    expect((await first.stop('SIGTERM')).code).toBe(0);

    // A second start on the same data: no new account, no new token, the old one still works.
    const second = await startServer({ DATA_DIR: dataDir, COUPONFLOW_BOOTSTRAP_TOKEN: token });
    servers.push(second);
    expect(second.output().stdout).not.toContain('First start');
    const again = await merchantsWith(second.url, token);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { items: unknown[] }).items).toHaveLength(1);
    expect((await second.stop('SIGINT')).code).toBe(0);
  }, 120_000);
});
