import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.ts';
import { notFound } from '../../platform/errors.ts';
import { retryOnConnectionLoss } from '../../platform/db/errors.ts';
import type { Principal } from '../accounts/principal.ts';
import { newId } from '../../platform/ids.ts';
import type { MailTransport } from '../../platform/mail/transport.ts';
import { decodeCursor, toPage, type Page, type PageQuery } from '../../platform/pagination.ts';
import type { AppDatabase, DB } from '../../schema.ts';
import { afterFailure, messageIdFor, type Mail, type NewMail, type RetryPolicy } from './model.ts';
import * as repo from './repo.ts';
import type * as hot from './outbox.sql.ts';
import { rateLimiter } from '../../platform/mail/rate.ts';
import { bounceHandler } from './bounces.ts';

export interface DeliveryReport {
  sent: number;
  retrying: number;
  failed: number;
}

export function outboxService(deps: {
  database: AppDatabase;
  clock: Clock;
  transport: MailTransport;
  retry: RetryPolicy;
  /** The right-hand side of every Message-ID (the host of PUBLIC_URL). */
  messageIdDomain: string;
  /** How long a claimed mail stays with its sender before another may try it. */
  leaseMs?: number;
  /** SMTP conversations at once, per sender process. */
  concurrency?: number;
  /** MAIL_RATE_PER_SECOND: mail starts per second at most, per sender process (0/undefined: no limit). */
  ratePerSecond?: number | undefined;
  /** Delivered mails recorded per statement (outbox.sql.ts: markSentBatch). */
  recordEvery?: number;
  /**
   * The conversations whose mail a merchant-limited caller sees (the conductor's rule; undefined:
   * all). Without it, such a caller sees only mail of its merchants (notices).
   */
  visibleConversations?: (principal: Principal) => Promise<string[] | undefined>;
  /** The messages whose test sends a merchant-limited caller sees (undefined: all). */
  visibleTestMessages?: (principal: Principal) => Promise<string[] | undefined>;
  /** Bounces (bounces.ts): suppress the address inside the failing transaction; pools that got codes back. */
  bounces?: Omit<Parameters<typeof bounceHandler>[0], 'db' | 'now'>;
}) {
  const { db } = deps.database;
  const leaseMs = deps.leaseMs ?? 5 * 60_000;
  const concurrency = deps.concurrency ?? 8;
  const recordEvery = Math.max(1, deps.recordEvery ?? 100);
  const limiter = rateLimiter(deps.ratePerSecond);
  const bounce = bounceHandler({ db, now: () => deps.clock.now(), ...deps.bounces });

  /**
   * Writes mail within `tx` (the transaction of the change that calls for it: it is sent if and only
   * if that change commits). With the outbox transport the row is the delivered mail.
   */
  async function enqueue(tx: Kysely<DB>, mails: NewMail[]): Promise<string[]> {
    const now = deps.clock.now();
    const kept = deps.transport.kind === 'outbox';
    const rows: repo.MailRow[] = mails.map((m) => {
      const id = newId();
      return {
        account_id: m.accountId,
        id,
        merchant_id: m.merchantId,
        kind: m.kind,
        to_email: m.to,
        from_name: m.from.name,
        from_email: m.from.email,
        subject: m.subject,
        html: m.html,
        text: m.text,
        headers: m.headers ?? null,
        message_id: messageIdFor(id, deps.messageIdDomain),
        status: kept ? 'sent' : 'queued',
        transport: deps.transport.kind,
        attempts: 0,
        next_attempt_at: kept ? null : now,
        last_error: null,
        created_at: now,
        sent_at: kept ? now : null,
      };
    });
    await repo.insertMails(tx, rows);
    return rows.map((r) => r.id);
  }

  /**
   * One SMTP attempt at a claimed mail. A failure is written at once (fenced by `leaseToken`); a
   * delivery is handed back (with the server's reply) for the batch of results of this claim.
   */
  async function attempt(mail: Mail, leaseToken: string, report: DeliveryReport): Promise<hot.SentResult | undefined> {
    const transport = deps.transport;
    if (transport.kind !== 'smtp') return undefined;
    let reply: string | null = null;
    try {
      const release = await limiter.acquire();
      try {
        reply = (await transport.send(mail))?.reply ?? null;
      } finally {
        release();
      }
    } catch (err) {
      // A 5xx refusal fails the mail at once (no retry), in bounces.ts.
      if (await bounce(mail, err)) {
        report.failed++;
        return undefined;
      }
      const next = afterFailure(mail.attempts, deps.retry, deps.clock.now());
      const message = (err as Error).message ?? String(err);
      // Recorded through a database restart too: otherwise the lease would run out and another
      // sender would try this mail again.
      const marked = await retryOnConnectionLoss(() => repo.markFailedAttempt(db, mail.id, leaseToken, next, message), {
        giveUpAfterMs: leaseMs / 2,
      });
      if (!marked) return undefined;
      if (next.status === 'failed') report.failed++;
      else report.retrying++;
      return undefined;
    }
    return { id: mail.id, at: deps.clock.now(), reply };
  }

  /**
   * The delivered mails of one claim, written `recordEvery` at a time in one statement each
   * (outbox.sql.ts: markSentBatch, fenced by the claim's lease token), one write at a time, while the
   * claim's other mails are still being sent. A write goes through a database restart too, or the
   * lease would run out and another sender would mail them again. Only the rows still ours count.
   */
  function sentRecorder(leaseToken: string, report: DeliveryReport) {
    let buffer: hot.SentResult[] = [];
    let chain: Promise<void> = Promise.resolve();
    let failure: unknown;
    const flush = () => {
      if (buffer.length === 0) return;
      const results = buffer;
      buffer = [];
      chain = chain
        .then(async () => {
          const ours = await retryOnConnectionLoss(() => repo.markSentBatch(db, leaseToken, results), { giveUpAfterMs: leaseMs / 2 });
          report.sent += ours.length;
        })
        .catch((err: unknown) => {
          failure ??= err;
        });
    };
    return {
      add(result: hot.SentResult) {
        buffer.push(result);
        if (buffer.length >= recordEvery) flush();
      },
      async close() {
        flush();
        await chain;
        if (failure !== undefined) throw failure;
      },
    };
  }

  /**
   * Delivers every mail due now (SMTP transport), claim after claim of `batchSize`; safe in many
   * processes. `concurrency` mails in flight, each worker taking the next as it ends (no wait for a
   * chunk's slowest), each SMTP attempt paced by MAIL_RATE_PER_SECOND (platform/mail/rate.ts).
   */
  async function deliverDue(batchSize = 100): Promise<DeliveryReport> {
    const report: DeliveryReport = { sent: 0, retrying: 0, failed: 0 };
    if (deps.transport.kind !== 'smtp') return report;
    for (;;) {
      const leaseToken = newId();
      const batch = await repo.claimDue(db, { now: deps.clock.now(), limit: batchSize, leaseMs, leaseToken });
      if (batch.length === 0) return report;
      const recorder = sentRecorder(leaseToken, report);
      let next = 0;
      try {
        await Promise.all(
          Array.from({ length: Math.min(concurrency, batch.length) }, async () => {
            while (next < batch.length) {
              const mail = batch[next++]!;
              const sent = await attempt(mail, leaseToken, report);
              if (sent) recorder.add(sent);
            }
          }),
        );
      } finally {
        await recorder.close();
      }
    }
  }

  /**
   * A merchant-limited caller sees its merchants' notices, the mail of conversations it may see and
   * the test sends of messages that are its own; access mail (invitations, resets) only an
   * unlimited owner sees.
   */
  const filterFor = async (principal: Principal, q: Omit<repo.MailFilter, 'accountId' | 'merchantIds'> = {}): Promise<repo.MailFilter> => {
    const limited = principal.merchantIds !== null;
    const [conversationIds, testMessageIds] = limited
      ? await Promise.all([deps.visibleConversations?.(principal), deps.visibleTestMessages?.(principal)])
      : [undefined, undefined];
    return {
      ...q,
      accountId: principal.accountId,
      merchantIds: principal.merchantIds,
      accessMail: principal.role === 'owner' && !limited,
      conversationIds,
      testMessageIds,
    };
  };

  async function listMails(
    principal: Principal,
    query: PageQuery & { to?: string | undefined; kind?: Mail['kind'] | undefined; status?: Mail['status'] | undefined },
  ): Promise<Page<Mail>> {
    const rows = await repo.listMails(db, await filterFor(principal, query), {
      before: decodeCursor(query.cursor),
      limit: query.limit + 1,
    });
    return toPage(rows, query.limit, (m) => m.id);
  }

  async function getMail(principal: Principal, id: string): Promise<Mail> {
    const mail = await repo.findMail(db, await filterFor(principal), id);
    if (!mail) throw notFound('mail');
    return mail;
  }

  /** Closes the SMTP connections (at shutdown). */
  function close(): void {
    if (deps.transport.kind === 'smtp') deps.transport.close();
  }

  /** Per address (lower case): marketing mail written to it since `since`, in `tx` (the conductor's frequency cap). */
  const marketingMailSince = (tx: Kysely<DB>, accountId: string, emails: string[], since: Date) =>
    repo.marketingMailSince(tx, accountId, emails, since);

  return { enqueue, deliverDue, listMails, getMail, close, marketingMailSince, transportKind: deps.transport.kind };
}

export type OutboxService = ReturnType<typeof outboxService>;
