import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { smtpTransport } from '../../src/platform/mail/transport.ts';
import { claimDue } from '../../src/modules/outbox/repo.ts';
import type { NewMail } from '../../src/modules/outbox/model.ts';
import { startSmtp } from './smtp-server.ts';

/** A sender that died holding claimed mail: the next sender delivers each mail once, after the lease. */
describeEachEngine('restarted sender', (ctx) => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let app: Awaited<ReturnType<typeof testApp>>;
  let t: TestTenant;
  beforeAll(async () => {
    smtp = await startSmtp();
    app = await testApp(ctx.database, {
      config: { PUBLIC_URL: 'https://coupons.example.com' },
      transport: smtpTransport(smtp.url, { pool: 4 }),
    });
    t = await newTenant(app);
  });
  afterAll(async () => {
    await app.http.close();
    app.services.outbox.close();
    await smtp.close();
  });

  it('mail claimed by a sender that died is delivered once by the next, after the lease, with its Message-ID', async () => {
    app.clock.set('2026-03-01T12:00:00Z');
    const mail = (to: string): NewMail => ({
      accountId: t.accountId,
      merchantId: null,
      kind: 'message',
      to,
      from: { name: 'Shop', email: 'shop@example.com' },
      subject: 'S',
      html: '<p>x</p>',
      text: null,
    });
    const ids = await ctx.database.db
      .transaction()
      .execute((tx) => app.services.outbox.enqueue(tx, ['r1@example.com', 'r2@example.com', 'r3@example.com'].map(mail)));
    // The dead sender's claim (5-minute lease), then nothing: no SMTP, no mark.
    const claimed = await claimDue(ctx.database.db, { now: app.clock.now(), limit: 100, leaseMs: 5 * 60_000, leaseToken: 'dead-sender' });
    expect(claimed.map((m) => m.id).sort()).toEqual([...ids].sort());
    expect(await app.services.outbox.deliverDue()).toEqual({ sent: 0, retrying: 0, failed: 0 });
    app.clock.advance(5 * 60_000);
    expect(await app.services.outbox.deliverDue()).toEqual({ sent: 3, retrying: 0, failed: 0 });
    expect(await app.services.outbox.deliverDue()).toEqual({ sent: 0, retrying: 0, failed: 0 });
    const seen = smtp.received.map((r) => /^Message-ID: (.+)$/im.exec(r.raw)![1]!.trim()).sort();
    expect(seen).toEqual(ids.map((id) => `<${id}@coupons.example.com>`).sort());
  });
});
