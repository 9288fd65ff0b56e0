/**
 * `npm run bench -- mail`: 20,000 marketing mails (with List-Unsubscribe headers) from the outbox
 * (PostgreSQL) to a local smtp-server over pooled connections (MAIL_CONCURRENCY), against a
 * baseline measured in the same run: nodemailer sending the same 20,000 messages straight to the
 * same server with the same pool size and as many in flight. Goals: ≥ 2,000 mails/s and ≥ 0.7 of
 * the baseline. The outbox run includes the claims (batches of BENCH_MAIL_BATCH) and the marks.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { openDatabase } from '../src/platform/db/database.ts';
import { migrate } from '../src/platform/db/migrate.ts';
import { migrations } from '../src/migrations/index.ts';
import { systemClock } from '../src/platform/clock.ts';
import { accountsService } from '../src/modules/accounts/service.ts';
import { outboxService } from '../src/modules/outbox/service.ts';
import { smtpTransport } from '../src/platform/mail/transport.ts';
import type { NewMail } from '../src/modules/outbox/model.ts';
import type { DB } from '../src/schema.ts';

const PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MAILS = Number(process.env.BENCH_MAILS ?? 20_000);
const POOL = Number(process.env.BENCH_MAIL_CONCURRENCY ?? 16);
const BATCH = Number(process.env.BENCH_MAIL_BATCH ?? 500);

async function startServer() {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      stream.on('data', () => {});
      stream.on('end', () => {
        received++;
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { url: `smtp://127.0.0.1:${port}`, received: () => received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const mailFor = (accountId: string, i: number): NewMail => ({
  accountId,
  merchantId: null,
  kind: 'message',
  to: `contact${i}@example.com`,
  from: { name: 'Shop', email: 'shop@example.com' },
  subject: `Your 10% off, contact${i}@example.com`,
  html: `<p>Hello contact${i}@example.com, your code is <b>B${i.toString(36).toUpperCase()}XYZ</b>, valid until 05/31/2026.</p><p style="font-size:12px;color:#666">Don't want these emails? <a href="https://coupons.example.com/u/${i}.sig">Unsubscribe</a>.</p>`,
  text: `Hello, your code is B${i}XYZ.\n\n--\nUnsubscribe: https://coupons.example.com/u/${i}.sig\n`,
  headers: { 'List-Unsubscribe': `<https://coupons.example.com/u/${i}.sig>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
});

async function baseline(url: string, mails: NewMail[]): Promise<number> {
  const transporter = nodemailer.createTransport({ url, pool: true, maxConnections: POOL, maxMessages: Infinity } as Parameters<
    typeof nodemailer.createTransport
  >[0]);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: POOL }, async () => {
      while (next < mails.length) {
        const m = mails[next++]!;
        await transporter.sendMail({
          messageId: `<b${next}@bench>`,
          from: { name: m.from.name, address: m.from.email },
          to: m.to,
          subject: m.subject,
          html: m.html,
          text: m.text ?? undefined,
          headers: m.headers ?? {},
        });
      }
    }),
  );
  const ms = performance.now() - started;
  transporter.close();
  return ms;
}

export async function run() {
  const smtp = await startServer();
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const database = await openDatabase<DB>({ databaseUrl: PG_URL, dataDir: '', schema, poolSize: 10 });
  try {
    await migrate(database.db as never, migrations, schema);
    const { account } = await accountsService(database).createAccountFromCli({ name: 'bench' });
    const mails = Array.from({ length: MAILS }, (_, i) => mailFor(account.id, i));

    const baseMs = await baseline(smtp.url, mails);
    const baseRate = MAILS / (baseMs / 1000);
    console.log(
      `baseline: nodemailer straight, pool ${POOL}: ${MAILS} mails in ${Math.round(baseMs)} ms = ${Math.round(baseRate)} mails/s`,
    );

    const transport = smtpTransport(smtp.url, { pool: POOL });
    const outbox = outboxService({
      database,
      clock: systemClock,
      transport,
      retry: { maxAttempts: 6, baseDelayMs: 60_000, maxDelayMs: 3_600_000 },
      messageIdDomain: 'bench.example.com',
      concurrency: POOL,
    });
    await database.db.transaction().execute((tx) => outbox.enqueue(tx, mails));
    const before = smtp.received();
    const started = performance.now();
    const report = await outbox.deliverDue(BATCH);
    const ms = performance.now() - started;
    outbox.close();
    const rate = MAILS / (ms / 1000);
    console.log(
      `outbox → SMTP, pool ${POOL}, claims of ${BATCH}: ${report.sent} sent (${smtp.received() - before} received) in ${Math.round(ms)} ms = ${Math.round(rate)} mails/s`,
    );
    console.log(
      `ratio to baseline: ${(rate / baseRate).toFixed(2)} (goal ≥ 0.7); goal ≥ 2,000 mails/s: ${rate >= 2000 ? 'met' : 'not met'}`,
    );
    if (report.sent !== MAILS) throw new Error(`expected ${MAILS} sent, got ${report.sent}`);
  } finally {
    await database.close();
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
    await smtp.close();
  }
}
