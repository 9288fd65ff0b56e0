import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { multipart } from '../helpers/multipart.ts';
import { NOTICE_MARGIN } from '../../src/modules/assignments/service.ts';

/**
 * The single HTTP assignment is one statement after the pool's read (assign-one.sql.ts); the
 * notice check runs only near a crossing (NOTICE_MARGIN codes above it), yet fires exactly there.
 */
describeEachEngine('single assignment in one statement', (ctx) => {
  let app: Awaited<ReturnType<typeof testApp>>;
  let t: TestTenant;
  beforeAll(async () => {
    app = await testApp(ctx.database);
    t = await newTenant(app);
  });
  afterAll(() => app.http.close());

  let n = 0;
  const newPool = async (settings: object, codes: number) => {
    const res = await app.http.inject({
      method: 'POST',
      url: `/v1/merchants/${t.merchantId}/pools`,
      headers: t.auth,
      payload: { name: `single-${++n}`, type: 'unique', ...settings },
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = multipart(
      { expiration: 'file' },
      { content: Array.from({ length: codes }, (_, i) => `S${n}-${i},2027-01-15`).join('\n') },
    );
    const up = await app.http.inject({
      method: 'POST',
      url: `/v1/pools/${res.json().id}/uploads`,
      headers: { ...t.auth, ...body.headers },
      payload: body.payload,
    });
    expect(up.statusCode, up.body).toBe(201);
    return res.json() as { id: string };
  };
  let k = 0;
  const assign = (poolId: string, payload: object = { email: `s${++k}@example.com`, idempotencyKey: `s${k}` }) =>
    app.http.inject({ method: 'POST', url: `/v1/pools/${poolId}/assignments`, headers: t.auth, payload });
  const armed = async (poolId: string) =>
    (await sql<{ armed: boolean }>`select threshold_armed as armed from pools where id = ${poolId}`.execute(ctx.database.db)).rows[0]!
      .armed;
  const notices = async (to: string) =>
    (await app.http.inject({ method: 'GET', url: `/v1/outbox?to=${encodeURIComponent(to)}&kind=notification`, headers: t.auth })).json()
      .items as { subject: string }[];

  it('far above the threshold no notice check runs; within the margin it does, and the crossing notices exactly once', async () => {
    const threshold = 5;
    const total = threshold + NOTICE_MARGIN + 4;
    const p = await newPool({ threshold, notificationEmails: ['watch@example.com'] }, total);
    // A disarmed flag far above the threshold: a check would re-arm it.
    await sql`update pools set threshold_armed = false where id = ${p.id}`.execute(ctx.database.db);
    let available = total;
    const step = async () => {
      const res = await assign(p.id);
      expect(res.statusCode, res.body).toBe(201);
      available--;
    };
    await step();
    expect(available).toBeGreaterThan(threshold + NOTICE_MARGIN);
    expect(await armed(p.id)).toBe(false); // no check ran
    while (available > threshold + NOTICE_MARGIN) await step();
    expect(await armed(p.id)).toBe(true); // within the margin: checked, re-armed
    while (available > threshold + 1) await step();
    expect(await notices('watch@example.com')).toEqual([]);
    await step(); // available = threshold: the crossing
    expect((await notices('watch@example.com')).map((m) => m.subject)).toEqual([
      expect.stringContaining(`is low: ${threshold} codes left`),
    ]);
    await step();
    expect(await notices('watch@example.com')).toHaveLength(1);
  }, 120_000);

  it('two requests for one new email at once: one contact, two assignments, an audit entry each', async () => {
    const p = await newPool({}, 10);
    const email = `Race-${Math.random().toString(36).slice(2)}@example.com`;
    const [a, b] = await Promise.all([
      assign(p.id, { email, idempotencyKey: 'ra' }),
      assign(p.id, { email: email.toLowerCase(), idempotencyKey: 'rb' }),
    ]);
    expect([a!.statusCode, b!.statusCode]).toEqual([201, 201]);
    expect(a!.json().contactId).toBe(b!.json().contactId);
    expect(a!.json().code).not.toBe(b!.json().code);
    // A replay answers the same, creates nothing and writes no entry.
    const again = await assign(p.id, { email, idempotencyKey: 'ra' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(a!.json());
    const entries = await sql<{ n: number }>`
      select count(*) as n from audit_log where account_id = ${t.accountId} and action = 'assignment.create' and resource_id = ${p.id}`.execute(
      ctx.database.db,
    );
    expect(entries.rows[0]!.n).toBe(2);
  });

  it('a contact id that does not exist is 404 and claims nothing; an exhausted pool is 409 and keeps the new contact', async () => {
    const p = await newPool({}, 1);
    expect((await assign(p.id, { contactId: 'nope', idempotencyKey: 'x1' })).statusCode).toBe(404);
    expect((await assign(p.id)).statusCode).toBe(201); // the one code was still there
    const email = `late-${k}@example.com`;
    const res = await assign(p.id, { email, idempotencyKey: 'x2' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('pool_exhausted');
    const contacts = await sql<{
      n: number;
    }>`select count(*) as n from contacts where account_id = ${t.accountId} and email = ${email}`.execute(ctx.database.db);
    expect(contacts.rows[0]!.n).toBe(1);
  });
});
