import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePostgres } from '../helpers/engines.ts';
import { testApp } from '../helpers/app.ts';
import { openDatabase } from '../../src/platform/db/database.ts';
import type { DB } from '../../src/schema.ts';
import { lastLine, runCli, TOKEN_PATTERN } from './processes.ts';

type Merchant = { id: string };

/** `accounts create` prints "created account NAME (ID); …" then the token alone on the last line. */
function createdAccount(stdout: string) {
  const id = /created account .* \(([^)]+)\)/.exec(stdout)?.[1];
  const token = lastLine(stdout);
  expect(id, stdout).toBeDefined();
  expect(token, stdout).toMatch(TOKEN_PATTERN);
  return { id: id!, token };
}

describePostgres('CLI accounts and tokens', (ctx) => {
  let app: Awaited<ReturnType<typeof testApp>>;
  beforeAll(async () => {
    app = await testApp(ctx.database);
  });
  afterAll(() => app.http.close());
  const get = (url: string, token: string) => app.http.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  it('`accounts create` prints a working admin token; `token create --merchant` a limited one', async () => {
    const created = await runCli(['accounts', 'create', '--name', 'Cli Retail'], ctx.env);
    expect(created.code, created.stderr).toBe(0);
    const account = createdAccount(created.stdout);
    expect((await get('/v1/merchants', account.token)).json()).toEqual({ items: [], nextCursor: null });

    const merchants: Merchant[] = [];
    for (const name of ['Web', 'Store']) {
      const res = await app.http.inject({
        method: 'POST',
        url: '/v1/merchants',
        headers: { authorization: `Bearer ${account.token}` },
        payload: { name, domain: `${name.toLowerCase()}.example.com` },
      });
      expect(res.statusCode).toBe(201);
      merchants.push(res.json());
    }
    const [web, store] = merchants as [Merchant, Merchant];

    const limitedRun = await runCli(['token', 'create', '--account', account.id, '--merchant', web.id], ctx.env);
    expect(limitedRun.code, limitedRun.stderr).toBe(0);
    const limited = lastLine(limitedRun.stdout);
    expect(limited).toMatch(TOKEN_PATTERN);
    expect(limited).not.toBe(account.token);
    expect((await get('/v1/merchants', limited)).json().items.map((m: Merchant) => m.id)).toEqual([web.id]);
    expect((await get(`/v1/merchants/${store.id}`, limited)).statusCode).toBe(403);

    // A token for another account's merchant, or for no account, is refused with a message.
    const other = await app.services.accounts.createAccountFromCli({ name: 'Other' });
    const [wrongMerchant, noAccount] = await Promise.all([
      runCli(['token', 'create', '--account', other.account.id, '--merchant', web.id], ctx.env),
      runCli(['token', 'create', '--account', 'no-such-account'], ctx.env),
    ]);
    for (const refused of [wrongMerchant, noAccount]) {
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^couponflow: .*not found/m);
      expect(refused.stdout).not.toMatch(/cf_/);
    }
  }, 60_000);
});

describe('CLI on the embedded database', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'couponflow-cli-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('`accounts create` and `token create` in a data directory give tokens that work there', async () => {
    const env = { DATA_DIR: dataDir };
    const created = await runCli(['accounts', 'create', '--name', 'Embedded Co', '--time-zone', 'Europe/Paris'], env);
    expect(created.code, created.stderr).toBe(0);
    const account = createdAccount(created.stdout);
    const second = await runCli(['token', 'create', '--account', account.id, '--name', 'reporting'], env);
    expect(second.code, second.stderr).toBe(0);
    const token = lastLine(second.stdout);
    expect(token).toMatch(TOKEN_PATTERN);

    // The CLI has let go of the data dir: this process can open it.
    const database = await openDatabase<DB>({ dataDir, schema: 'public' });
    try {
      const app = await testApp(database);
      try {
        for (const t of [account.token, token]) {
          const res = await app.http.inject({ method: 'GET', url: '/v1/merchants', headers: { authorization: `Bearer ${t}` } });
          expect(res.statusCode).toBe(200);
        }
        expect((await app.services.accounts.getAccount(account.id)).timeZone).toBe('Europe/Paris');
      } finally {
        await app.http.close();
      }
    } finally {
      await database.close();
    }
  }, 240_000);
});
