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
  /**
   * The conversations whose mail a merchant-limited caller sees (the conductor's rule; undefined:
   * all). Without it, such a caller sees only mail of its merchants (notices).
   */
  visibleConversations?: (principal: Principal) => Promise<string[] | undefined>;
  /** Bounces (bounces.ts): suppress the address inside the failing transaction; pools that got codes back. */
  bounces?: Omit<Parameters<typeof bounceHandler>[0], 'db' | 'now'>;
}) {
  const { db } = deps.database;
  const leaseMs = deps.leaseMs ?? 5 * 60_000;
  const concurrency = deps.concurrency ?? 8;
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
   * One SMTP attempt at a claimed mail. Its result is written only if this sender still holds the
   * lease (`leaseToken`): a sender that stalled past its lease while another one claimed and
   * delivered the mail cannot overwrite that result (it counts as neither sent nor failed here).
   */
  async function attempt(mail: Mail, leaseToken: string, report: DeliveryReport): Promise<void> {
    const transport = deps.transport;
    if (transport.kind !== 'smtp') return;
    try {
      await transport.send(mail);
    } catch (err) {
      // A 5xx refusal fails the mail at once (no retry), in bounces.ts.
      if (await bounce(mail, err)) {
        report.failed++;
        return;
      }
      const next = afterFailure(mail.attempts, deps.retry, deps.clock.now());
      const message = (err as Error).message ?? String(err);
      // Recorded through a database restart too: otherwise the lease would run out and another
      // sender would try this mail again.
      const marked = await retryOnConnectionLoss(() => repo.markFailedAttempt(db, mail.id, leaseToken, next, message), { giveUpAfterMs: leaseMs / 2 });
      if (!marked) return;
      if (next.status === 'failed') report.failed++;
      else report.retrying++;
      return;
    }
    // Handed over: record it through a database restart too, or the lease would run out and
    // another sender would mail it again.
    if (await retryOnConnectionLoss(() => repo.markSent(db, mail.id, leaseToken, deps.clock.now()), { giveUpAfterMs: leaseMs / 2 })) report.sent++;
  }

  /** Delivers every mail due now (SMTP transport), batch after batch; safe in many processes. */
  async function deliverDue(batchSize = 100): Promise<DeliveryReport> {
    const report: DeliveryReport = { sent: 0, retrying: 0, failed: 0 };
    if (deps.transport.kind !== 'smtp') return report;
    for (;;) {
      const leaseToken = newId();
      const batch = await repo.claimDue(db, { now: deps.clock.now(), limit: batchSize, leaseMs, leaseToken });
      if (batch.length === 0) return report;
      // `concurrency` mails in flight, each taking the next as it ends (no wait for a chunk's slowest).
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(concurrency, batch.length) }, async () => {
          while (next < batch.length) await attempt(batch[next++]!, leaseToken, report);
        }),
      );
    }
  }

  /** A merchant-limited caller sees its merchants' notices and the mail of conversations it may see. */
  const filterFor = async (principal: Principal, q: Omit<repo.MailFilter, 'accountId' | 'merchantIds'> = {}): Promise<repo.MailFilter> => ({
    ...q,
    accountId: principal.accountId,
    merchantIds: principal.merchantIds,
    accessMail: principal.role === 'owner' && principal.merchantIds === null,
    conversationIds: principal.merchantIds === null ? undefined : await deps.visibleConversations?.(principal),
  });

  async function listMails(principal: Principal, query: PageQuery & { to?: string | undefined; kind?: Mail['kind'] | undefined; status?: Mail['status'] | undefined }): Promise<Page<Mail>> {
    const rows = await repo.listMails(db, await filterFor(principal, query), { before: decodeCursor(query.cursor), limit: query.limit + 1 });
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

  return { enqueue, deliverDue, listMails, getMail, close, transportKind: deps.transport.kind };
}

export type OutboxService = ReturnType<typeof outboxService>;
