import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { smtpTransport } from '../../src/platform/mail/transport.ts';
import type { NewMail } from '../../src/modules/outbox/model.ts';
import { startBackgroundJobs } from '../../src/jobs.ts';

interface Received {
  to: string[];
  raw: string;
  messageId: string | undefined;
}

/** A real SMTP server on a free port; `answer` decides each DATA command's fate. */
async function startSmtp(answer: (attempt: number) => Error | null) {
  const received: Received[] = [];
  let attempts = 0;
  const options: SMTPServerOptions = {
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString();
        const refusal = answer(++attempts);
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw, messageId: /^Message-ID: (.+)$/im.exec(raw)?.[1]?.trim() });
        callback(refusal);
      });
    },
  };
  const server = new SMTPServer(options);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { received, url: `smtp://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const refused = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

describeEachEngine('SMTP transport', (ctx) => {
  let servers: { close(): Promise<void> }[] = [];
  let apps: Awaited<ReturnType<typeof testApp>>[] = [];
  afterEach(async () => {
    await Promise.all(apps.map((a) => a.http.close()));
    for (const a of apps) a.services.outbox.close();
    await Promise.all(servers.map((s) => s.close()));
    apps = [];
    servers = [];
  });

  let t: TestTenant;
  let setup: Awaited<ReturnType<typeof testApp>>;
  beforeAll(async () => {
    setup = await testApp(ctx.database);
    t = await newTenant(setup);
  });
  afterAll(() => setup.http.close());

  const appWith = async (url: string, maxAttempts = 3) => {
    const app = await testApp(ctx.database, {
      config: { MAIL_MAX_ATTEMPTS: maxAttempts, MAIL_RETRY_SECONDS: 60, PUBLIC_URL: 'https://coupons.example.com' },
      transport: smtpTransport(url),
    });
    apps.push(app);
    return app;
  };
  const mail = (to: string, subject = 'Your code'): NewMail => ({
    accountId: t.accountId,
    merchantId: t.merchantId,
    kind: 'message',
    to,
    from: { name: 'Shop', email: 'shop@example.com' },
    subject,
    html: '<p>Code <b>ABC</b></p>',
    text: 'Code ABC',
  });
  const enqueue = (app: Awaited<ReturnType<typeof testApp>>, mails: NewMail[]) =>
    ctx.database.db.transaction().execute((tx) => app.services.outbox.enqueue(tx, mails));
  const read = async (app: Awaited<ReturnType<typeof testApp>>, id: string) =>
    (await app.http.inject({ method: 'GET', url: `/v1/outbox/${id}`, headers: t.auth })).json();

  it('delivers a queued mail with its stable Message-ID, subject, bodies and recipient', async () => {
    const smtp = await startSmtp(() => null);
    servers.push(smtp);
    const app = await appWith(smtp.url);
    const [id] = await enqueue(app, [mail('alice@example.com', 'Hello Alice')]);
    expect(await read(app, id!)).toMatchObject({ status: 'queued', transport: 'smtp', attempts: 0 });
    expect(await app.services.outbox.deliverDue()).toEqual({ sent: 1, retrying: 0, failed: 0 });
    const stored = await read(app, id!);
    expect(stored).toMatchObject({ status: 'sent', attempts: 1, lastError: null, messageId: `<${id}@coupons.example.com>` });
    expect(stored.sentAt).not.toBeNull();
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.to).toEqual(['alice@example.com']);
    expect(smtp.received[0]!.messageId).toBe(stored.messageId);
    expect(smtp.received[0]!.raw).toContain('Subject: Hello Alice');
    expect(smtp.received[0]!.raw).toContain('Code ABC');
    // Nothing left to deliver: a second pass sends nothing again.
    expect(await app.services.outbox.deliverDue()).toEqual({ sent: 0, retrying: 0, failed: 0 });
    expect(smtp.received).toHaveLength(1);
  });

  it('retries a refused mail after its backoff, with the same Message-ID, until the server accepts it', async () => {
    const smtp = await startSmtp((attempt) => (attempt === 1 ? refused(451, 'Try again later') : null));
    servers.push(smtp);
    const app = await appWith(smtp.url);
    app.clock.set('2026-03-01T12:00:00Z');
    const [id] = await enqueue(app, [mail('bob@example.com')]);
    expect(await app.services.outbox.deliverDue()).toEqual({ sent: 0, retrying: 1, failed: 0 });
    const waiting = await read(app, id!);
    expect(waiting).toMatchObject({ status: 'queued', attempts: 1, nextAttemptAt: '2026-03-01T12:01:00.000Z' });
    expect(waiting.lastError).toContain('Try again later');
    // Not due yet: nothing is tried before the backoff has passed.
    app.clock.set('2026-03-01T12:00:59Z');
    expect(await app.services.outbox.deliverDue()).toEqual({ sent: 0, retrying: 0, failed: 0 });
    app.clock.set('2026-03-01T12:01:00Z');
    expect(await app.services.outbox.deliverDue()).toEqual({ sent: 1, retrying: 0, failed: 0 });
    expect(await read(app, id!)).toMatchObject({ status: 'sent', attempts: 2, lastError: null });
    expect(smtp.received).toHaveLength(2);
    expect(smtp.received[0]!.messageId).toBe(smtp.received[1]!.messageId);
    expect(smtp.received[1]!.messageId).toBe(`<${id}@coupons.example.com>`);
  });

  it('marks a mail failed after its last attempt, doubling the wait between attempts', async () => {
    // A temporary refusal (4xx): a permanent one (5xx) fails at once (test/mail/bounces.test.ts).
    const smtp = await startSmtp(() => refused(452, 'Mailbox unavailable'));
    servers.push(smtp);
    const app = await appWith(smtp.url, 3);
    app.clock.set('2026-03-01T12:00:00Z');
    const [id] = await enqueue(app, [mail('carol@example.com')]);
    expect((await app.services.outbox.deliverDue()).retrying).toBe(1);
    expect((await read(app, id!)).nextAttemptAt).toBe('2026-03-01T12:01:00.000Z');
    app.clock.set('2026-03-01T12:01:00Z');
    expect((await app.services.outbox.deliverDue()).retrying).toBe(1);
    expect((await read(app, id!)).nextAttemptAt).toBe('2026-03-01T12:03:00.000Z');
    app.clock.set('2026-03-01T12:03:00Z');
    expect(await app.services.outbox.deliverDue()).toEqual({ sent: 0, retrying: 0, failed: 1 });
    const failed = await read(app, id!);
    expect(failed).toMatchObject({ status: 'failed', attempts: 3, nextAttemptAt: null });
    expect(failed.lastError).toContain('Mailbox unavailable');
    app.clock.set('2026-03-02T12:00:00Z');
    expect(await app.services.outbox.deliverDue()).toEqual({ sent: 0, retrying: 0, failed: 0 });
    expect(smtp.received).toHaveLength(3);
    const list = await app.http.inject({ method: 'GET', url: '/v1/outbox?status=failed&to=carol@example.com', headers: t.auth });
    expect(list.json().items.map((m: { id: string }) => m.id)).toEqual([id]);
  });

  it('keeps mail queued while the server is unreachable', async () => {
    const smtp = await startSmtp(() => null);
    await smtp.close(); // the port is now closed
    const app = await appWith(smtp.url);
    const [id] = await enqueue(app, [mail('dave@example.com')]);
    expect(await app.services.outbox.deliverDue()).toEqual({ sent: 0, retrying: 1, failed: 0 });
    expect((await read(app, id!)).lastError).toMatch(/ECONNREFUSED|connect/i);
  });

  it('two senders at once deliver every mail exactly once', async () => {
    const smtp = await startSmtp(() => null);
    servers.push(smtp);
    const [a, b] = [await appWith(smtp.url), await appWith(smtp.url)];
    const ids = await enqueue(
      a,
      Array.from({ length: 60 }, (_, i) => mail(`many${i}@example.com`)),
    );
    const [ra, rb] = await Promise.all([a.services.outbox.deliverDue(7), b.services.outbox.deliverDue(7)]);
    expect(ra.sent + rb.sent).toBe(60);
    const seen = smtp.received.map((r) => r.messageId);
    expect(seen).toHaveLength(60);
    expect(new Set(seen).size).toBe(60);
    expect(new Set(seen)).toEqual(new Set(ids.map((id) => `<${id}@coupons.example.com>`)));
  });

  it('the background sender of serve/worker delivers queued mail on its own', async () => {
    let delivered: () => void = () => {};
    const arrived = new Promise<void>((resolve) => (delivered = resolve));
    const smtp = await startSmtp(() => {
      queueMicrotask(delivered);
      return null;
    });
    servers.push(smtp);
    const app = await appWith(smtp.url);
    app.clock.set(new Date());
    const stop = startBackgroundJobs(
      app.services,
      { poolCheckIntervalMs: 0, mailSendIntervalMs: 20, conductorPollIntervalMs: 0, conductorBatchSize: 500 },
      { error: () => {} },
    );
    try {
      const [id] = await enqueue(app, [mail('erin@example.com')]);
      await arrived;
      await stop();
      expect(await read(app, id!)).toMatchObject({ status: 'sent' });
    } finally {
      await stop();
    }
  });
});
