import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePostgres } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { api } from '../conductor/setup.ts';
import { startReceiver, verifySignature } from './receiver.ts';

type App = Awaited<ReturnType<typeof testApp>>;

/**
 * At-least-once: a sender process killed after its POST reached the receiver but before it could
 * mark the events delivered. After the lease, another sender delivers them again, with the same
 * event ids (the receiver's dedup key) — nothing is lost, a repeat is recognisable.
 */
describePostgres('outgoing webhooks: a sender killed between send and mark', (ctx) => {
  let app: App;
  let t: TestTenant;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let child: ReturnType<typeof spawn> | undefined;
  const secret = 'whsec_crash_0123456789abcdef';

  beforeAll(async () => {
    app = await testApp(ctx.database, { config: { WEBHOOKS_ALLOW_PRIVATE: true } });
    t = await newTenant(app);
    // The first POST: the sender is killed while waiting for the answer (none is given).
    receiver = await startReceiver((n) => {
      if (n === 1) {
        child?.kill('SIGKILL');
        return null;
      }
      return 200;
    });
  });
  afterAll(async () => {
    await receiver.close();
    await app.http.close();
  });

  it('redelivers after the lease with the same event ids', async () => {
    const a = api(app, t);
    const hook = await a.call('POST', '/v1/webhooks', { url: receiver.url, events: ['code.assigned'], secret }, 201);
    const pool = await a.pool({});
    await a.upload(pool.id, 'K-1\nK-2\nK-3\n', { expiration: 'none' });
    for (const n of [1, 2, 3])
      await a.call('POST', `/v1/pools/${pool.id}/assignments`, { email: `k${n}@example.com`, idempotencyKey: `k${n}` }, 201);

    child = spawn(process.execPath, ['--import', 'tsx', 'test/webhooks/sender-process.ts'], {
      env: { ...process.env, ...ctx.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c) => (output += c));
    child.stderr!.on('data', (c) => (output += c));
    const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child!.on('exit', (code, signal) => resolve({ code, signal })),
    );
    expect(exit.signal, output).toBe('SIGKILL');
    expect(receiver.posts).toHaveLength(1);
    const first = receiver.posts[0]!;
    expect(first.events).toHaveLength(3);
    expect(verifySignature(secret, first.signature, first.body)).toBe(true);

    // Claimed, not marked: another sender waits for the lease (one minute) to end.
    const rows = await ctx.database.db.selectFrom('webhook_queue').selectAll().where('webhook_id', '=', hook.id).execute();
    expect(rows.every((r) => r.status === 'queued' && r.attempts === 1 && r.lease_token !== null)).toBe(true);
    app.clock.set(new Date(Date.now() + 30_000));
    expect((await app.services.webhooks.deliverDue()).posts).toBe(0);
    app.clock.set(new Date(Date.now() + 61_000));
    expect(await app.services.webhooks.deliverDue()).toMatchObject({ posts: 1, delivered: 3 });

    const all = receiver.posts.flatMap((p) => p.events.map((e) => e.id));
    expect(all).toHaveLength(6);
    expect(new Set(all).size).toBe(3);
    expect(receiver.accepted[0]!.events.map((e) => e.id).sort()).toEqual(first.events.map((e) => e.id).sort());
    const after = await ctx.database.db.selectFrom('webhook_queue').selectAll().where('webhook_id', '=', hook.id).execute();
    expect(after.every((r) => r.status === 'delivered' && r.attempts === 2)).toBe(true);
  }, 60_000);
});
