import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { describeEachEngine, describePostgres } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { multipart } from '../helpers/multipart.ts';

type App = Awaited<ReturnType<typeof testApp>>;

function helpers(app: App, t: TestTenant) {
  let n = 0;
  return {
    async pool(settings: object) {
      const res = await app.http.inject({
        method: 'POST',
        url: `/v1/merchants/${t.merchantId}/pools`,
        headers: t.auth,
        payload: { name: `race-pool-${Math.random().toString(36).slice(2, 8)}`, type: 'unique', ...settings },
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json() as { id: string; name: string };
    },
    async upload(poolId: string, content: string) {
      const body = multipart({ expiration: 'none' }, { content });
      const res = await app.http.inject({
        method: 'POST',
        url: `/v1/pools/${poolId}/uploads`,
        headers: { ...t.auth, ...body.headers },
        payload: body.payload,
      });
      expect(res.statusCode, res.body).toBe(201);
    },
    assign(poolId: string) {
      n++;
      return app.http.inject({
        method: 'POST',
        url: `/v1/pools/${poolId}/assignments`,
        headers: t.auth,
        payload: { email: `r${n}-${poolId.slice(-6)}@example.com`, idempotencyKey: `race-${poolId}-${n}` },
      });
    },
    async notices(to: string) {
      const res = await app.http.inject({
        method: 'GET',
        url: `/v1/outbox?to=${encodeURIComponent(to)}&kind=notification&limit=200`,
        headers: t.auth,
      });
      return (res.json().items as { subject: string }[]).map((m) => m.subject);
    },
  };
}

describeEachEngine('notices of a pool that never held a code', (ctx) => {
  let app: App;
  let t: TestTenant;
  beforeAll(async () => {
    app = await testApp(ctx.database);
    t = await newTenant(app);
  });
  afterAll(() => app.http.close());

  it('a new pool (threshold, list, a default code) sends no low or exhausted notice until codes have arrived once', async () => {
    const h = helpers(app, t);
    const p = await h.pool({ threshold: 5, notificationEmails: ['never@example.com'], defaultCode: 'WELCOME' });
    await app.services.assignments.checkAllPools();
    expect((await h.assign(p.id)).json()).toMatchObject({ source: 'default', code: 'WELCOME' });
    await app.services.assignments.checkAllPools();
    expect(await h.notices('never@example.com')).toEqual([]);
    // Codes arrive, then run low and out: now the notices come, once each.
    await h.upload(p.id, 'N1\nN2\n');
    expect(await h.notices('never@example.com')).toEqual([`Coupon pool "${p.name}" is low: 2 codes left`]);
    await h.assign(p.id);
    await h.assign(p.id);
    await app.services.assignments.checkAllPools();
    expect(await h.notices('never@example.com')).toEqual([
      `Coupon pool "${p.name}" has run out of codes`,
      `Coupon pool "${p.name}" is low: 2 codes left`,
    ]);
  });
});

/**
 * A re-arm decided on counts read before a fall, acting after the fire of that fall, would send a
 * second notice for one crossing. Each round here starts exhausted, uploads codes (one rise above
 * the threshold), then drains them with concurrent assignments (one fall through the threshold,
 * one exhaustion) while two other processes check the pool in loops, their event loops stalling
 * every few milliseconds (so their checks act late on what they read): exactly one low and one
 * exhausted notice per round, whatever the interleaving.
 */
describePostgres('notices under races', (ctx) => {
  let app: App;
  let t: TestTenant;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    app = await testApp(ctx.database);
    t = await newTenant(app);
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await app.http.close();
  });

  const checker = (poolId: string) =>
    new Promise<{ stop(): Promise<number> }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/outbox/notice-checker.ts'], {
        env: { ...process.env, ...ctx.env, ACCOUNT_ID: t.accountId, POOL_ID: poolId, LOOPS: '4', STALL_MS: '15' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let out = '';
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      const exited = new Promise<number>((done, fail) =>
        child.once('exit', (code) =>
          code === 0 ? done(Number(out.trim().split('\n').pop())) : fail(new Error(`checker exited ${code}: ${err}`)),
        ),
      );
      exited.catch(reject);
      child.stdout.on('data', (d) => {
        out += d;
        if (out.startsWith('ready')) resolve({ stop: () => (child.kill('SIGTERM'), exited) });
      });
    });

  it('re-arm and fire racing over 30 rounds, with two stalling checker processes: one low and one exhausted notice per round', async () => {
    const h = helpers(app, t);
    const p = await h.pool({ threshold: 6, notificationEmails: ['race-rounds@example.com'] });
    const checkers = [await checker(p.id), await checker(p.id)];
    const rounds = 30;
    for (let round = 0; round < rounds; round++) {
      await h.upload(p.id, Array.from({ length: 10 }, (_, i) => `R${round}-${i}`).join('\n') + '\n');
      const answers = await Promise.all(Array.from({ length: 12 }, () => h.assign(p.id)));
      expect(answers.filter((r) => r.statusCode === 201)).toHaveLength(10);
      // Let the checkers' late actions land before the next rise.
      await new Promise((r) => setTimeout(r, 60));
    }
    const checks = await Promise.all(checkers.map((c) => c.stop()));
    expect(checks.every((n) => n > rounds)).toBe(true);
    await app.services.assignments.checkNotices(
      await app.services.pools.getPoolFor({ accountId: t.accountId, merchantIds: null } as never, p.id),
    );
    const subjects = await h.notices('race-rounds@example.com');
    expect(subjects.filter((s) => s.includes('is low'))).toHaveLength(rounds);
    expect(subjects.filter((s) => s.includes('has run out'))).toHaveLength(rounds);
  }, 120_000);
});
