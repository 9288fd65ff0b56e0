import { afterAll, beforeAll, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { smtpTransport } from '../../src/platform/mail/transport.ts';
import type { NewMail } from '../../src/modules/outbox/model.ts';

/** A real SMTP server that notes when each mail's DATA arrived (performance.now, this process). */
async function timedSmtp() {
  const arrivals: number[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => {
        arrivals.push(performance.now());
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  return { arrivals, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The most arrivals inside any window of `ms` (half-open, starting at an arrival). */
function busiestWindow(arrivals: readonly number[], ms: number): number {
  const sorted = [...arrivals].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j]! < sorted[i]! + ms) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

describeEachEngine('the sender: rate limit and recorded replies', (ctx) => {
  let setup: Awaited<ReturnType<typeof testApp>>;
  let t: TestTenant;
  beforeAll(async () => {
    setup = await testApp(ctx.database);
    t = await newTenant(setup);
  }, 60_000);
  afterAll(() => setup.http.close());

  const mail = (to: string): NewMail => ({
    accountId: t.accountId,
    merchantId: t.merchantId,
    kind: 'notification',
    to,
    from: { name: 'Shop', email: 'shop@example.com' },
    subject: 'Hello',
    html: '<p>Hi</p>',
    text: 'Hi',
  });

  it('MAIL_RATE_PER_SECOND: in no one-second window does the SMTP server receive more mails than the rate', async () => {
    const smtp = await timedSmtp();
    const rate = 4;
    // Four pooled connections and four in flight: without the limit all 16 mails arrive within a fraction of a second.
    const app = await testApp(ctx.database, {
      config: { MAIL_RATE_PER_SECOND: rate, MAIL_CONCURRENCY: 4 },
      transport: smtpTransport(smtp.url, { pool: 4 }),
    });
    try {
      const mails = Array.from({ length: 16 }, (_, i) => mail(`rate${i}@example.com`));
      await ctx.database.db.transaction().execute((tx) => app.services.outbox.enqueue(tx, mails));
      // Claims of 5: the pace holds across claims too.
      const report = await app.services.outbox.deliverDue(5);
      expect(report).toEqual({ sent: 16, retrying: 0, failed: 0 });
      expect(smtp.arrivals).toHaveLength(16);
      expect(busiestWindow(smtp.arrivals, 1000)).toBeLessThanOrEqual(rate);
      expect(busiestWindow(smtp.arrivals, 2000)).toBeLessThanOrEqual(2 * rate);
      // …and it is a pace, not a stop: 16 mails at 4/s take at least three windows.
      expect(Math.max(...smtp.arrivals) - Math.min(...smtp.arrivals)).toBeGreaterThan(3000);
    } finally {
      await app.http.close();
      app.services.outbox.close();
      await smtp.close();
    }
  }, 60_000);

  it('each delivered mail keeps the SMTP reply that accepted it; every mail of a claim is recorded sent', async () => {
    const smtp = await timedSmtp();
    const app = await testApp(ctx.database, { transport: smtpTransport(smtp.url, { pool: 2 }) });
    try {
      // More mails than one results statement holds (100), in one claim.
      const mails = Array.from({ length: 230 }, (_, i) => mail(`reply${i}@example.com`));
      const ids = await ctx.database.db.transaction().execute((tx) => app.services.outbox.enqueue(tx, mails));
      expect(await app.services.outbox.deliverDue(500)).toEqual({ sent: 230, retrying: 0, failed: 0 });
      const rows = await ctx.database.db
        .selectFrom('outbox')
        .select(['id', 'status', 'lease_token', 'sent_at'])
        .where('id', 'in', ids)
        .execute();
      expect(rows.filter((r) => r.status === 'sent' && r.lease_token === null && r.sent_at !== null)).toHaveLength(230);
      const one = (await setup.http.inject({ method: 'GET', url: `/v1/outbox/${ids[7]}`, headers: t.auth })).json();
      expect(one.status).toBe('sent');
      expect(one.smtpReply).toMatch(/^250 /);
      expect(one.lastError).toBeNull();
      // Nothing is left to send: a second round finds no mail.
      expect(await app.services.outbox.deliverDue(500)).toEqual({ sent: 0, retrying: 0, failed: 0 });
      expect(smtp.arrivals).toHaveLength(230);
    } finally {
      await app.http.close();
      app.services.outbox.close();
      await smtp.close();
    }
  }, 60_000);
});
