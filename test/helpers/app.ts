import { createApp, type App, type AppDeps } from '../../src/app.ts';
import { ManualClock } from '../../src/platform/clock.ts';
import type { AppDatabase } from '../../src/schema.ts';

export interface TestTenant {
  accountId: string;
  token: string;
  merchantId: string;
  auth: { authorization: string };
}

/** An app over `database`, with a clock the test moves. */
export async function testApp(
  database: AppDatabase,
  options: { config?: Partial<AppDeps['config']>; transport?: AppDeps['transport'] } = {},
): Promise<App & { clock: ManualClock }> {
  const clock = new ManualClock(new Date('2026-03-01T12:00:00Z'));
  const app = await createApp({
    config: {
      LOG_LEVEL: 'silent',
      BODY_LIMIT_BYTES: 1024 * 1024,
      UPLOAD_LIMIT_BYTES: 64 * 1024 * 1024,
      DEFAULT_TIME_ZONE: 'UTC',
      ...options.config,
    },
    database,
    clock,
    ...(options.transport ? { transport: options.transport } : {}),
  });
  return Object.assign(app, { clock });
}

/** A fresh account with a merchant and an admin token: tests never share tenants. */
export async function newTenant(app: App, name = `acct-${Math.random().toString(36).slice(2, 8)}`): Promise<TestTenant> {
  const { account, token } = await app.services.accounts.createAccountFromCli({ name });
  const auth = { authorization: `Bearer ${token}` };
  const res = await app.http.inject({
    method: 'POST',
    url: '/v1/merchants',
    headers: auth,
    payload: { name: `${name} shop`, domain: 'shop.example.com' },
  });
  if (res.statusCode !== 201) throw new Error(`creating a merchant failed: ${res.body}`);
  return { accountId: account.id, token, merchantId: res.json().id, auth };
}
