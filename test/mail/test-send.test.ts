import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { smtpTransport } from '../../src/platform/mail/transport.ts';
import { api } from '../conductor/setup.ts';
import { startSmtp } from './smtp-server.ts';

/** Test sends, delivered through a real SMTP server. */
describeEachEngine('test sends', (ctx) => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let app: Awaited<ReturnType<typeof testApp>>;
  let t: TestTenant;
  beforeAll(async () => {
    smtp = await startSmtp();
    app = await testApp(ctx.database, { config: { PUBLIC_URL: 'https://coupons.example.com' }, transport: smtpTransport(smtp.url) });
    t = await newTenant(app);
  });
  afterAll(async () => {
    await app.http.close();
    app.services.outbox.close();
    await smtp.close();
  });

  it('goes out with [Test] and a placeholder for an empty coupon field; no code assigned, no contact changed, suppression ignored', async () => {
    const a = api(app, t);
    const pool = await a.pool();
    await a.upload(pool.id, 'REAL-1,2027-01-31\n');
    const { group, code } = await a.couponFields();
    const message = await a.call(
      'POST',
      '/v1/messages',
      {
        name: `m ${Math.random()}`,
        fromName: 'Shop',
        fromEmail: 'shop@example.com',
        subject: 'Hi {{ contact.email }}',
        html: `<p>Code ${code.snippet}</p>`,
        text: `Code ${code.snippet}`,
      },
      201,
    );
    // A conversation saves codes into that field: it is a coupon field.
    await a.conversation({
      trigger: { event: 'never' },
      steps: [
        {
          type: 'action',
          name: 'Assign',
          action: { type: 'assignCoupon', merchantId: t.merchantId, poolId: pool.id, saveCodeTo: code.id, whenNoCode: 'continue' },
        },
        { type: 'message', name: 'Mail', messageId: message.id },
      ],
    });
    const contact = await a.call('PUT', '/v1/contacts', { email: 'chosen@example.com' }, 200);
    await a.call('POST', '/v1/suppressions', { email: 'marketer@example.com', reason: 'manual' }, 201);

    const res = await a.call(
      'POST',
      `/v1/messages/${message.id}/test`,
      { to: ['marketer@example.com', 'boss@example.com'], contactId: contact.id },
      202,
    );
    expect(res.mailIds).toHaveLength(2);
    const mail = await a.call('GET', `/v1/outbox/${res.mailIds[0]}`, undefined, 200);
    expect(mail).toMatchObject({
      kind: 'test',
      to: 'marketer@example.com',
      subject: '[Test] Hi chosen@example.com',
      html: '<p>Code TEST-CODE</p>',
      text: 'Code TEST-CODE',
      headers: {},
    });
    expect(await app.services.outbox.deliverDue()).toMatchObject({ sent: 2, failed: 0 });
    expect(smtp.received.map((r) => r.to[0]).sort()).toEqual(['boss@example.com', 'marketer@example.com']);
    expect(smtp.received[0]!.raw).toContain('Subject: [Test] Hi chosen@example.com');
    expect(smtp.received[0]!.raw).toContain('TEST-CODE');

    const assignments = await sql<{ n: string }>`select count(*) as n from assignments where account_id = ${t.accountId}`.execute(
      ctx.database.db,
    );
    expect(Number(assignments.rows[0]!.n)).toBe(0);
    const after = await a.call('GET', `/v1/contacts/${contact.id}`, undefined, 200);
    expect(after).toMatchObject({ status: 'subscribed', updatedAt: contact.updatedAt });
    expect(after.fields[group.name]?.SCA10Off ?? null).toBeNull();
    expect((await a.call('GET', `/v1/pools/${pool.id}`, undefined, 200)).counts).toMatchObject({ assigned: 0, available: 1 });
  });

  it("a contact's own code is shown; a sample contact without one; bad input is refused", async () => {
    const a = api(app, t);
    const { group, code } = await a.couponFields();
    const message = await a.call(
      'POST',
      '/v1/messages',
      {
        name: `m ${Math.random()}`,
        fromName: 'Shop',
        fromEmail: 'shop@example.com',
        subject: 'S',
        html: `<p>${code.snippet}|{{ contact.email }}</p>`,
        text: null,
      },
      201,
    );
    await a.call('PUT', '/v1/contacts', { email: 'holder@example.com', fields: { [group.name]: { SCA10Off: 'OWN-CODE' } } }, 200);
    const own = await a.call('POST', `/v1/messages/${message.id}/test`, { to: ['me@example.com'], email: 'holder@example.com' }, 202);
    expect((await a.call('GET', `/v1/outbox/${own.mailIds[0]}`, undefined, 200)).html).toBe('<p>OWN-CODE|holder@example.com</p>');
    const sample = await a.call('POST', `/v1/messages/${message.id}/test`, { to: ['me@example.com'] }, 202);
    expect((await a.call('GET', `/v1/outbox/${sample.mailIds[0]}`, undefined, 200)).html).toBe('<p>|me@example.com</p>');
    const eleven = Array.from({ length: 11 }, (_, i) => `x${i}@example.com`);
    for (const body of [{ to: eleven }, { to: [] }, { to: ['nope'] }]) {
      const res = await app.http.inject({ method: 'POST', url: `/v1/messages/${message.id}/test`, headers: t.auth, payload: body });
      expect(res.statusCode).toBe(422);
    }
    expect(
      (
        await app.http.inject({
          method: 'POST',
          url: `/v1/messages/${message.id}/test`,
          headers: t.auth,
          payload: { to: ['a@example.com'], email: 'nobody@example.com' },
        })
      ).statusCode,
    ).toBe(404);
  });
});
