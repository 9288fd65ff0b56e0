import { afterAll, beforeAll, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { smtpTransport } from '../../src/platform/mail/transport.ts';

/**
 * Lease fencing: a sender whose lease ran out while its SMTP attempt hung cannot overwrite the
 * result of the sender that claimed the mail after it. Two real senders (two apps with their own
 * clocks), a real SMTP server that holds the first DATA until the test lets it answer.
 */
describeEachEngine('outbox lease fencing', (ctx) => {
  let setup: Awaited<ReturnType<typeof testApp>>;
  let t: TestTenant;
  const apps: Awaited<ReturnType<typeof testApp>>[] = [];
  let server: SMTPServer;
  let url: string;
  /** The n-th DATA command waits for gates[n]: its answer (null: accepted) once the test gives it. */
  let next = 0;
  const gate = () => {
    let arrive!: () => void;
    let answer!: (err: Error | null) => void;
    const arrived = new Promise<void>((r) => (arrive = r));
    const decided = new Promise<Error | null>((r) => (answer = r));
    return { arrived, answer, arrive, decided };
  };
  let gates: ReturnType<typeof gate>[] = [];

  beforeAll(async () => {
    setup = await testApp(ctx.database);
    t = await newTenant(setup);
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => {
          const g = gates[next++]!;
          g.arrive();
          void g.decided.then((err) => callback(err));
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const g of gates) g.answer(null);
    await Promise.all(apps.map((a) => a.http.close()));
    for (const a of apps) a.services.outbox.close();
    await setup.http.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const sender = async () => {
    const app = await testApp(ctx.database, { config: { MAIL_MAX_ATTEMPTS: 5, MAIL_RETRY_SECONDS: 60 }, transport: smtpTransport(url) });
    apps.push(app);
    return app;
  };
  const read = async (id: string) => (await setup.http.inject({ method: 'GET', url: `/v1/outbox/${id}`, headers: t.auth })).json();
  const refusal = (message: string) => Object.assign(new Error(message), { responseCode: 451 });

  it("the first sender's late failure, after its lease ran out and a second sender delivered the mail, changes nothing", async () => {
    const [first, second] = [await sender(), await sender()];
    first.clock.set('2026-03-01T12:00:00Z');
    second.clock.set('2026-03-01T12:06:00Z'); // past the first one's 5-minute lease
    gates = [gate(), gate()];
    next = 0;
    const [id] = await ctx.database.db.transaction().execute((tx) =>
      first.services.outbox.enqueue(tx, [
        {
          accountId: t.accountId,
          merchantId: t.merchantId,
          kind: 'message',
          to: 'late@example.com',
          from: { name: 'Shop', email: 'shop@example.com' },
          subject: 'Code',
          html: '<p>A</p>',
          text: null,
        },
      ]),
    );
    // The first sender claims the mail and hangs in SMTP (its DATA is not answered yet).
    const firstRun = first.services.outbox.deliverDue();
    await gates[0]!.arrived;
    expect(await read(id!)).toMatchObject({ status: 'queued', attempts: 1, nextAttemptAt: '2026-03-01T12:05:00.000Z' });
    // Its lease runs out: the second sender claims the mail and delivers it.
    gates[1]!.answer(null);
    expect(await second.services.outbox.deliverDue()).toEqual({ sent: 1, retrying: 0, failed: 0 });
    const delivered = await read(id!);
    expect(delivered).toMatchObject({ status: 'sent', attempts: 2, lastError: null, sentAt: '2026-03-01T12:06:00.000Z' });
    // Now the first one's server answers with a refusal: its mark finds the lease gone.
    gates[0]!.answer(refusal('Try again later'));
    expect(await firstRun).toEqual({ sent: 0, retrying: 0, failed: 0 });
    expect(await read(id!)).toEqual(delivered);
  });

  it("the first sender's late success does not overwrite the second sender's recorded failure either", async () => {
    const [first, second] = [await sender(), await sender()];
    first.clock.set('2026-03-02T12:00:00Z');
    second.clock.set('2026-03-02T12:06:00Z');
    gates = [gate(), gate()];
    next = 0;
    const [id] = await ctx.database.db.transaction().execute((tx) =>
      first.services.outbox.enqueue(tx, [
        {
          accountId: t.accountId,
          merchantId: t.merchantId,
          kind: 'message',
          to: 'late2@example.com',
          from: { name: 'Shop', email: 'shop@example.com' },
          subject: 'Code',
          html: '<p>B</p>',
          text: null,
        },
      ]),
    );
    const firstRun = first.services.outbox.deliverDue();
    await gates[0]!.arrived;
    gates[1]!.answer(refusal('Greylisted'));
    expect(await second.services.outbox.deliverDue()).toEqual({ sent: 0, retrying: 1, failed: 0 });
    const retrying = await read(id!);
    expect(retrying).toMatchObject({ status: 'queued', attempts: 2, nextAttemptAt: '2026-03-02T12:08:00.000Z' });
    expect(retrying.lastError).toContain('Greylisted');
    gates[0]!.answer(null);
    expect(await firstRun).toEqual({ sent: 0, retrying: 0, failed: 0 });
    // Still the second sender's record: queued for its retry (delivery is at least once).
    expect(await read(id!)).toEqual(retrying);
  });
});
