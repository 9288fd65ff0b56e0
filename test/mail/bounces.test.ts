import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { smtpTransport } from '../../src/platform/mail/transport.ts';
import { api } from '../conductor/setup.ts';
import { startSmtp } from './smtp-server.ts';

/** Bounces through a real SMTP server: 5xx fails at once, suppresses, gives the code back. */
describeEachEngine('bounces', (ctx) => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let app: Awaited<ReturnType<typeof testApp>>;
  let t: TestTenant;
  beforeAll(async () => {
    smtp = await startSmtp((address, attempt) => {
      if (address.startsWith('gone')) return { code: 550, message: '5.1.1 No such user here' };
      if (address.startsWith('busy') && attempt === 1) return { code: 451, message: '4.3.0 Try again later' };
      return null;
    });
    app = await testApp(ctx.database, {
      config: { MAIL_MAX_ATTEMPTS: 5, MAIL_RETRY_SECONDS: 60, PUBLIC_URL: 'https://coupons.example.com' },
      transport: smtpTransport(smtp.url),
    });
    t = await newTenant(app);
  });
  afterAll(async () => {
    await app.http.close();
    app.services.outbox.close();
    await smtp.close();
  });

  async function couponConversation(poolSettings: object, codes: string[]) {
    const a = api(app, t);
    const pool = await a.pool({ ...poolSettings, threshold: 1, notificationEmails: ['staff@example.com'] });
    await a.upload(pool.id, codes.map((c) => `${c},2027-01-31`).join('\n') + '\n');
    const { group, code } = await a.couponFields();
    const message = await a.call(
      'POST',
      '/v1/messages',
      {
        name: `m ${Math.random()}`,
        fromName: 'Shop',
        fromEmail: 'shop@example.com',
        subject: 'Your code',
        html: `<p>Code ${code.snippet}</p>`,
        text: `Code ${code.snippet}`,
      },
      201,
    );
    const trigger = `buy_${Math.random().toString(36).slice(2, 8)}`;
    const draft = await a.conversation({
      trigger: { event: trigger },
      steps: [
        {
          type: 'action',
          name: 'Assign',
          action: { type: 'assignCoupon', merchantId: t.merchantId, poolId: pool.id, saveCodeTo: code.id, whenNoCode: 'continue' },
        },
        { type: 'message', name: 'Mail', messageId: message.id },
      ],
    });
    await a.commit(draft);
    await a.publish(draft.id);
    return { pool, group, trigger };
  }
  const mailTo = async (email: string) =>
    (await api(app, t).call('GET', `/v1/outbox?to=${encodeURIComponent(email)}&kind=message`, undefined, 200)).items[0];

  it('550 fails that mail once (no retry), suppresses it bounced, gives its code back and clears the field; 451 is retried and delivered', async () => {
    const a = api(app, t);
    app.clock.set('2026-03-01T12:00:00Z');
    const { pool, group, trigger } = await couponConversation({}, ['CODE-A', 'CODE-B', 'CODE-C']);
    const gone = await a.event(trigger, 'gone@example.com');
    await a.event(trigger, 'busy@example.com');
    await app.services.engine.runDue();
    const before = await a.call('GET', `/v1/pools/${pool.id}`, undefined, 200);
    expect(before.counts).toMatchObject({ assigned: 2, available: 1 });
    const goneCode = (await a.call('GET', `/v1/contacts/${gone.contactId}`, undefined, 200)).fields[group.name].SCA10Off as string;
    expect(goneCode).toMatch(/^CODE-/);

    // (Sent: the pool's threshold notice to staff.)
    expect(await app.services.outbox.deliverDue()).toMatchObject({ retrying: 1, failed: 1 });
    const bounced = await mailTo('gone@example.com');
    expect(bounced).toMatchObject({ status: 'failed', attempts: 1, nextAttemptAt: null });
    expect(bounced.lastError).toContain('550');
    expect(bounced.lastError).toContain('No such user here');
    expect(smtp.attempts.get('gone@example.com')).toBe(1);
    expect(await mailTo('busy@example.com')).toMatchObject({ status: 'queued', attempts: 1 });

    // Suppressed as bounced, with the reply.
    const [suppression] = (await a.call('GET', '/v1/suppressions?search=gone@', undefined, 200)).items;
    expect(suppression).toMatchObject({ email: 'gone@example.com', reason: 'bounced' });
    expect(suppression.detail).toContain('No such user');
    // The code is back: available again, the assignment released, the contact's field cleared.
    const after = await a.call('GET', `/v1/pools/${pool.id}`, undefined, 200);
    expect(after.counts).toMatchObject({ assigned: 1, available: 2, total: 3 });
    const assignments = await sql<{ code: string; released_at: Date | null; code_id: number | null }>`
      select code, released_at, code_id from assignments where account_id = ${t.accountId} and contact_id = ${gone.contactId}`.execute(
      ctx.database.db,
    );
    expect(assignments.rows).toEqual([{ code: goneCode, released_at: expect.any(Date), code_id: null }]);
    const contact = await a.call('GET', `/v1/contacts/${gone.contactId}`, undefined, 200);
    expect(contact.fields[group.name]?.SCA10Off ?? null).toBeNull();

    // Later: the 451 address is retried and delivered; nothing more happens to the bounced one.
    app.clock.advance(60_000);
    expect(await app.services.outbox.deliverDue()).toMatchObject({ retrying: 0, failed: 0 });
    expect(await mailTo('busy@example.com')).toMatchObject({ status: 'sent', attempts: 2 });
    expect(smtp.attempts.get('gone@example.com')).toBe(1);

    // The released code is handed out again (soonest expiration first, then upload order).
    const next = await a.event(trigger, 'next@example.com');
    await app.services.engine.runDue();
    const nextCode = (await a.call('GET', `/v1/contacts/${next.contactId}`, undefined, 200)).fields[group.name].SCA10Off;
    const third = await a.event(trigger, 'third@example.com');
    await app.services.engine.runDue();
    const thirdCode = (await a.call('GET', `/v1/contacts/${third.contactId}`, undefined, 200)).fields[group.name].SCA10Off;
    expect([nextCode, thirdCode]).toContain(goneCode);
    expect((await a.call('GET', `/v1/pools/${pool.id}`, undefined, 200)).counts).toMatchObject({ assigned: 3, available: 0 });
  });

  it('a pool with releaseUndelivered false keeps the code assigned; a code another sent mail showed stays too', async () => {
    const a = api(app, t);
    const kept = await couponConversation({ releaseUndelivered: false }, ['KEEP-A', 'KEEP-B']);
    expect(kept.pool.releaseUndelivered).toBe(false);
    await a.event(kept.trigger, 'gone.kept@example.com');
    await app.services.engine.runDue();
    await app.services.outbox.deliverDue();
    expect(await mailTo('gone.kept@example.com')).toMatchObject({ status: 'failed', attempts: 1 });
    expect((await a.call('GET', `/v1/pools/${kept.pool.id}`, undefined, 200)).counts).toMatchObject({ assigned: 1, available: 1 });

    // A code the address was already shown by a delivered mail does not come back.
    const shown = await couponConversation({}, ['SHOWN-A', 'SHOWN-B']);
    const contact = await a.event(shown.trigger, 'gone.shown@example.com');
    await app.services.engine.runDue();
    const code = (await a.call('GET', `/v1/contacts/${contact.contactId}`, undefined, 200)).fields[shown.group.name].SCA10Off as string;
    await sql`update outbox set status = 'sent', sent_at = now() where account_id = ${t.accountId} and lower(to_email) = 'gone.shown@example.com'`.execute(
      ctx.database.db,
    );
    await ctx.database.db.transaction().execute((tx) =>
      app.services.outbox.enqueue(tx, [
        {
          accountId: t.accountId,
          merchantId: null,
          kind: 'message',
          to: 'gone.shown@example.com',
          from: { name: 'Shop', email: 'shop@example.com' },
          subject: 'Again',
          html: `<p>${code}</p>`,
          text: null,
        },
      ]),
    );
    await app.services.outbox.deliverDue();
    expect((await a.call('GET', `/v1/pools/${shown.pool.id}`, undefined, 200)).counts).toMatchObject({ assigned: 1, available: 1 });
  });

  it('a bounce settles exactly once: a second call for the same claim does nothing', async () => {
    const a = api(app, t);
    const { pool, trigger } = await couponConversation({}, ['ONCE-A', 'ONCE-B']);
    await a.event(trigger, 'gone.once@example.com');
    await app.services.engine.runDue();
    const { claimDue } = await import('../../src/modules/outbox/repo.ts');
    const { failPermanently } = await import('../../src/modules/outbox/bounces.ts');
    const [claimed] = (
      await claimDue(ctx.database.db, { now: app.clock.now(), limit: 100, leaseMs: 60_000, leaseToken: 'test-lease' })
    ).filter((m) => m.to === 'gone.once@example.com');
    const suppress = (
      tx: Parameters<typeof app.services.suppressions.suppressWithin>[0],
      accountId: string,
      email: string,
      detail: string,
    ) => app.services.suppressions.suppressWithin(tx, accountId, email, 'bounced', detail);
    const outcomes = await Promise.all(
      [1, 2, 3].map(() => failPermanently(ctx.database.db, claimed!, '550 gone', app.clock.now(), suppress)),
    );
    expect(outcomes.filter((o) => o.failed)).toHaveLength(1);
    expect(outcomes.flatMap((o) => o.released)).toHaveLength(1);
    expect((await a.call('GET', `/v1/pools/${pool.id}`, undefined, 200)).counts).toMatchObject({ assigned: 0, available: 2 });
  });
});
