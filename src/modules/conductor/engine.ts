/**
 * The conductor's engine: claims due runs in batches and executes each step for the whole batch at
 * once, in one transaction per batch: the codes (one assignWithin per pool), the field updates,
 * the mail (written to the outbox), the step runs and the runs' new positions commit together or
 * not at all. A worker killed mid-batch leaves nothing behind; the next claim redoes the batch, and
 * the idempotency key of each assignment (`run:<enrollment>:<step>`) and the primary key of
 * step_runs make a second code or a second mail for the same step impossible.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.ts';
import type { AppDatabase, DB } from '../../schema.ts';
import type { AssignmentsService } from '../assignments/service.ts';
import type { AssignOutcome } from '../assignments/model.ts';
import { findPool } from '../pools/repo.ts';
import type { Pool } from '../pools/model.ts';
import type { OutboxService } from '../outbox/service.ts';
import { afterFailure, type NewMail, type RetryPolicy } from '../outbox/model.ts';
import type { FieldGroup } from '../segmentation/model.ts';
import { listGroups } from '../segmentation/repo.ts';
import { namedFields, type StoredFields } from '../contacts/model.ts';
import { findRecords, type ContactRecord } from '../contacts/repo.ts';
import type { TemplatePart } from '../messages/template.ts';
import type { RenderPool } from '../messages/render-pool.ts';
import { dueAt, type AssignCoupon, type ConversationDocument, type SetField, type Step, type CommittedMessage } from './model.ts';
import * as repo from './repo.ts';
import { isConnectionLoss } from '../../platform/db/errors.ts';
import { SQLSTATE } from '../../platform/db/sqlstate.ts';
import { marketingMail, type MarketingRules } from '../unsubscribe/marketing.ts';

/** One run as the batch carries it from step to step. */
interface Run {
  row: repo.EnrollmentRow;
  doc: ConversationDocument;
  index: number;
  status: 'active' | 'completed' | 'exited';
  exitReason: string | null;
  nextDueAt: Date;
}

interface StepResult {
  outcome: string;
  code?: string | null;
  expiresAt?: Date | null;
  mailId?: string | null;
  detail?: string | null;
  exit?: string;
}

/** What one batch leaves to write, and what it touched. */
interface BatchWork {
  tx: Kysely<DB>;
  now: Date;
  accountId: string;
  contacts: Map<string, ContactRecord>;
  patches: Map<string, Record<string, unknown>>;
  stepRuns: repo.StepRunRow[];
  pools: Map<string, Pool>;
}

export interface EngineReport {
  runs: number;
  steps: number;
  /** Runs that threw and recorded a failed attempt (parked as `failed` at their last one). */
  failed?: number;
}

/** A step that threw for a group of runs; the cause is the step's own error. */
export class StepFailure extends Error {
  constructor(
    readonly step: Step,
    override readonly cause: unknown,
  ) {
    super(`step "${step.name}": ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StepFailure';
  }
}

/** Deadlock and serialization failures: the batch's bad luck, not a run's fault. */
const RETRYABLE = new Set<string>([SQLSTATE.serializationFailure, SQLSTATE.deadlockDetected]);
/** The embedded database closed under a batch (shutdown). */
const CLOSED = /PGlite is closed/i;

/**
 * Whether an error thrown by a batch may be the fault of one of its runs (then the batch is
 * isolated and attempts are counted) rather than of the database or the connection (then the
 * batch is simply tried again later, no attempt counted).
 */
export function isRunFailure(err: unknown): boolean {
  if (isConnectionLoss(err)) return false;
  for (let e = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && RETRYABLE.has(code)) return false;
    if (typeof message === 'string' && CLOSED.test(message)) return false;
  }
  return true;
}

const errorText = (err: unknown): string => {
  const code = (err as { cause?: { code?: unknown } }).cause?.code;
  const text = err instanceof Error ? err.message : String(err);
  return (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? `${text} (SQLSTATE ${code})` : text).slice(0, 2000);
};

export function conductorEngine(deps: {
  database: AppDatabase;
  clock: Clock;
  assignments: AssignmentsService;
  outbox: OutboxService;
  /** Attempts per run before it is parked as `failed`, and the doubling backoff between them. */
  retry: RetryPolicy;
  /** Messages render on its threads, never on the event loop; a contact over its budget fails alone. */
  renderPool: RenderPool;
  /** Suppression and unsubscribe links for marketing mail (without: neither). */
  marketing?: MarketingRules;
}) {
  const { db } = deps.database;
  // What a batch renders with: the pool, in the account's zone.
  const rendererFor = (zone: string): Renderer => ({ timeZone: zone });
  // Published versions never change: keep them once read.
  const documents = new Map<string, ConversationDocument>();

  async function documentsFor(tx: Kysely<DB>, rows: repo.EnrollmentRow[]): Promise<void> {
    const missing = [
      ...new Map(
        rows
          .filter((r) => !documents.has(`${r.conversation_id}:${r.version}`))
          .map((r) => [`${r.conversation_id}:${r.version}`, { conversationId: r.conversation_id, version: r.version }]),
      ).values(),
    ];
    for (const [key, doc] of await repo.findVersions(tx, missing)) documents.set(key, doc);
  }

  /**
   * Runs one batch of due runs; 0 when nothing was due. The happy path is one transaction and no
   * savepoint. When the batch throws, it rolls back whole and `isolate` redoes it without the
   * runs at fault: a run whose step always throws never blocks the others.
   */
  async function runBatch(limit: number): Promise<EngineReport> {
    const touchedPools = new Map<string, Pool>();
    let claimed: string[] = [];
    let report: EngineReport;
    try {
      report = await db.transaction().execute(async (tx) => {
        const now = deps.clock.now();
        const rows = await repo.claimDueRuns(tx, now, limit);
        claimed = rows.map((r) => r.id);
        if (rows.length === 0) return { runs: 0, steps: 0 };
        return { runs: rows.length, steps: await executeRuns(tx, rows, now, touchedPools) };
      });
    } catch (err) {
      // Not the runs' fault (the database went away, a deadlock): the whole batch is tried again.
      if (claimed.length === 0 || !isRunFailure(err)) throw err;
      touchedPools.clear();
      report = await isolate(claimed, err, touchedPools);
    }
    // Codes were taken: the pools' threshold notices, after the batch has committed.
    for (const pool of touchedPools.values()) await deps.assignments.checkNotices(pool);
    return report;
  }

  /**
   * The runs of a batch that threw, claimed again in one transaction (their row locks fence every
   * write below) and bisected under savepoints: a half that goes through is kept, a half that
   * throws is split again, and a run that throws on its own records a failed attempt: the
   * error, `attempts` + 1 and the next try after a doubling backoff, or, at the last attempt,
   * status `failed` (parked until resumed). k bad runs among n cost about 2k·log2(n) tries.
   */
  async function isolate(ids: string[], batchError: unknown, touchedPools: Map<string, Pool>): Promise<EngineReport> {
    return db.transaction().execute(async (tx) => {
      const now = deps.clock.now();
      const rows = await repo.claimRunsById(tx, ids, now);
      const failures: repo.RunFailure[] = [];
      let steps = 0;
      const fail = (row: repo.EnrollmentRow, err: unknown) => {
        const attempts = row.attempts + 1;
        const next = afterFailure(attempts, deps.retry, now);
        failures.push({
          accountId: row.account_id,
          id: row.id,
          status: next.status === 'failed' ? 'failed' : 'active',
          attempts,
          nextDueAt: (next.status === 'failed' ? row.next_due_at : next.nextAttemptAt).toISOString(),
          error: errorText(err),
        });
      };
      const attempt = async (part: repo.EnrollmentRow[]): Promise<unknown> => {
        const pools = new Map<string, Pool>();
        await repo.savepoint(tx);
        try {
          steps += await executeRuns(tx, part, now, pools);
          await repo.releaseSavepoint(tx);
          for (const [id, pool] of pools) touchedPools.set(id, pool);
          return undefined;
        } catch (err) {
          if (!isRunFailure(err)) throw err;
          await repo.rollbackToSavepoint(tx);
          return err;
        }
      };
      const settle = async (part: repo.EnrollmentRow[], knownError?: unknown): Promise<void> => {
        if (part.length === 0) return;
        const err = knownError ?? (await attempt(part));
        if (err === undefined) return;
        if (part.length === 1) return fail(part[0]!, err);
        const mid = Math.ceil(part.length / 2);
        await settle(part.slice(0, mid));
        await settle(part.slice(mid));
      };
      // The same runs as the batch: it is known to throw. Fewer (others took some): try them.
      await settle(rows, rows.length === ids.length ? batchError : undefined);
      await repo.recordFailures(tx, failures, now);
      return { runs: rows.length, steps, failed: failures.length };
    });
  }

  /** Executes these claimed runs within `tx`: steps, field values, step runs, new positions. */
  async function executeRuns(tx: Kysely<DB>, rows: repo.EnrollmentRow[], now: Date, touchedPools: Map<string, Pool>): Promise<number> {
    await documentsFor(tx, rows);
    let steps = 0;
    const byAccount = new Map<string, repo.EnrollmentRow[]>();
    for (const r of rows) byAccount.set(r.account_id, [...(byAccount.get(r.account_id) ?? []), r]);
    const zones = await repo.accountTimeZones(tx, [...byAccount.keys()]);
    for (const [accountId, accountRows] of byAccount) {
      // Everything inside the batch goes through `tx` (PGlite has one connection, held by it).
      const groups = await listGroups(tx, accountId);
      const contacts = new Map(
        (await findRecords(tx, accountId, [...new Set(accountRows.map((r) => r.contact_id))])).map((c) => [c.id, c]),
      );
      const work: BatchWork = { tx, now, accountId, contacts, patches: new Map(), stepRuns: [], pools: touchedPools };
      const runs: Run[] = accountRows.map((row) => ({
        row,
        doc: documents.get(`${row.conversation_id}:${row.version}`)!,
        index: row.step_index,
        status: 'active',
        exitReason: null,
        nextDueAt: now,
      }));
      steps += await advance(work, runs, groups, rendererFor(zones.get(accountId) ?? 'UTC'));
      await repo.patchContactFields(
        tx,
        accountId,
        [...work.patches].map(([id, patch]) => ({ id, patch })),
        now,
      );
      await repo.insertStepRuns(tx, work.stepRuns);
      await repo.updateRuns(
        tx,
        accountId,
        runs.map((r) => ({
          id: r.row.id,
          status: r.status,
          stepIndex: r.index,
          nextDueAt: r.nextDueAt.toISOString(),
          exitReason: r.exitReason,
        })),
        now,
      );
    }
    return steps;
  }

  /**
   * Moves every run through the steps that are due now: the runs at the same step of the same
   * version go through it together, then on to the next step unless it waits.
   */
  async function advance(work: BatchWork, runs: Run[], groups: FieldGroup[], renderer: Renderer): Promise<number> {
    let steps = 0;
    let moving = runs.filter((r) => r.doc && r.index < r.doc.steps.length);
    for (const r of runs) if (!r.doc || r.index >= r.doc.steps.length) r.status = 'completed';
    while (moving.length > 0) {
      const atStep = new Map<string, Run[]>();
      for (const r of moving) {
        const key = `${r.row.conversation_id}:${r.row.version}:${r.index}`;
        atStep.set(key, [...(atStep.get(key) ?? []), r]);
      }
      const next: Run[] = [];
      for (const group of atStep.values()) {
        const step = group[0]!.doc.steps[group[0]!.index]!;
        const results = await execute(work, step, group, groups, renderer).catch((err: unknown) => {
          throw new StepFailure(step, err);
        });
        steps += group.length;
        group.forEach((run, i) => {
          const result = results[i]!;
          work.stepRuns.push({
            account_id: work.accountId,
            enrollment_id: run.row.id,
            step_id: step.id,
            conversation_id: run.row.conversation_id,
            outcome: result.outcome,
            at: work.now,
            code: result.code ?? null,
            expires_at: result.expiresAt ?? null,
            mail_id: result.mailId ?? null,
            detail: result.detail ?? null,
          });
          if (result.exit) {
            run.status = 'exited';
            run.exitReason = result.exit;
            return;
          }
          run.index++;
          if (run.index >= run.doc.steps.length) {
            run.status = 'completed';
            return;
          }
          run.nextDueAt = dueAt(run.doc, `steps.${run.index}`, work.now);
          // A step that waits stays for a later claim; one due now goes on in this batch.
          if (run.nextDueAt.getTime() <= work.now.getTime() || run.doc.steps[run.index]!.type !== 'delay') next.push(run);
        });
      }
      moving = next;
    }
    return steps;
  }

  async function execute(work: BatchWork, step: Step, runs: Run[], groups: FieldGroup[], renderer: Renderer): Promise<StepResult[]> {
    switch (step.type) {
      case 'delay':
        return runs.map(() => ({ outcome: 'waited' }));
      case 'action':
        return step.action.type === 'assignCoupon'
          ? assignCoupon(work, step, step.action, runs)
          : runs.map((r) => setField(work, step.action as SetField, r));
      case 'message':
        return sendMessage(work, step, runs, groups, renderer);
      case 'split':
      case 'waitForEvent':
        throw new Error(`${step.type} steps are not run yet`);
      default: {
        const exhaustive: never = step;
        return exhaustive;
      }
    }
  }

  function patch(work: BatchWork, contactId: string, values: Record<string, unknown>): void {
    work.patches.set(contactId, { ...work.patches.get(contactId), ...values });
    const contact = work.contacts.get(contactId);
    // Later steps of this batch (the message) read the new values.
    if (contact) contact.fields = { ...contact.fields, ...(values as StoredFields) };
  }

  async function assignCoupon(work: BatchWork, step: Step, action: AssignCoupon, runs: Run[]): Promise<StepResult[]> {
    const pool = await findPool(work.tx, work.accountId, action.poolId);
    if (!pool) {
      return runs.map(() =>
        action.whenNoCode === 'exit'
          ? { outcome: 'no_code_exit', detail: 'pool_not_found', exit: 'no code: the pool no longer exists' }
          : { outcome: 'no_code', detail: 'pool_not_found' },
      );
    }
    const requests = runs.map((r) => ({ contactId: r.row.contact_id, idempotencyKey: `run:${r.row.id}:${step.id}` }));
    const outcomes: Map<string, AssignOutcome> = await deps.assignments.assignWithin(work.tx, pool, requests);
    work.pools.set(pool.id, pool);
    return runs.map((run, i) => {
      const outcome = outcomes.get(requests[i]!.idempotencyKey)!;
      if (!outcome.ok)
        return action.whenNoCode === 'exit'
          ? { outcome: 'no_code_exit', detail: outcome.reason, exit: `no code: ${outcome.reason}` }
          : { outcome: 'no_code', detail: outcome.reason };
      const { code, expiresAt, source } = outcome.assignment;
      const values: Record<string, unknown> = { [action.saveCodeTo]: code };
      if (action.saveExpirationTo) values[action.saveExpirationTo] = expiresAt ? expiresAt.toISOString() : null;
      patch(work, run.row.contact_id, values);
      return { outcome: source === 'default' ? 'default_code' : 'assigned', code, expiresAt };
    });
  }

  function setField(work: BatchWork, action: SetField, run: Run): StepResult {
    patch(work, run.row.contact_id, { [action.field]: action.value });
    return { outcome: 'field_set' };
  }

  async function sendMessage(
    work: BatchWork,
    step: Extract<Step, { type: 'message' }>,
    runs: Run[],
    groups: FieldGroup[],
    renderer: Renderer,
  ): Promise<StepResult[]> {
    const message = step.committed;
    if (!message) return runs.map(() => ({ outcome: 'failed', detail: 'message not committed', exit: 'message not committed' }));
    const results: StepResult[] = [];
    const toRender: { index: number; contact: ContactRecord; url: string | null }[] = [];
    // Suppressed addresses (one lookup for the batch) and the signed unsubscribe links: unsubscribe/marketing.ts.
    const marketing = await marketingMail(
      deps.marketing,
      work.tx,
      work.accountId,
      message,
      runs.map((r) => work.contacts.get(r.row.contact_id)?.email),
    );
    runs.forEach((run, i) => {
      const contact = work.contacts.get(run.row.contact_id);
      if (!contact) return results.push({ outcome: 'failed', detail: 'contact not found', exit: 'contact not found' });
      if (contact.status === 'unsubscribed') return results.push({ outcome: 'skipped', detail: 'unsubscribed', exit: 'unsubscribed' });
      if (marketing.suppressed(contact.email)) return results.push({ outcome: 'skipped', detail: 'suppressed', exit: 'suppressed' });
      toRender.push({ index: i, contact, url: marketing.link(contact.id) });
      return results.push({ outcome: 'sent' });
    });
    const outcomes = await deps.renderPool.render(work.accountId, {
      timeZone: renderer.timeZone,
      parts: partsOf(message),
      contexts: toRender.map(({ contact, url }) => ({
        contact: { id: contact.id, email: contact.email, status: contact.status },
        fields: namedFields(groups, (contact.fields ?? {}) as StoredFields, true),
        ...(url !== null && { unsubscribeUrl: url }),
      })),
    });
    const mails: { index: number; mail: NewMail }[] = [];
    toRender.forEach(({ index, contact, url }, k) => {
      const outcome = outcomes[k]!;
      if (!outcome.ok) {
        // Over the budget (or blocking its thread): this contact fails, the batch goes on.
        const detail = outcome.error.reason === 'time_limit' ? `render_timeout: ${outcome.error.message}` : outcome.error.message;
        results[index] = { outcome: 'failed', detail, exit: 'message could not be rendered' };
        return;
      }
      const rendered = marketing.finish(outcome.rendered, url);
      mails.push({
        index,
        mail: {
          accountId: work.accountId,
          merchantId: null,
          kind: 'message',
          to: contact.email,
          from: { name: message.fromName, email: message.fromEmail },
          subject: rendered.subject,
          html: rendered.html,
          text: message.text === null ? null : rendered.text,
          headers: marketing.headers(url),
        },
      });
    });
    const ids = await deps.outbox.enqueue(
      work.tx,
      mails.map((m) => m.mail),
    );
    mails.forEach((m, k) => (results[m.index]!.mailId = ids[k]!));
    return results;
  }

  /** Runs batches until nothing is due. */
  async function runDue(batchSize = 500): Promise<EngineReport> {
    const total: EngineReport = { runs: 0, steps: 0 };
    for (;;) {
      const r = await runBatch(batchSize);
      total.runs += r.runs;
      total.steps += r.steps;
      if (r.failed) total.failed = (total.failed ?? 0) + r.failed;
      if (r.runs === 0) return total;
    }
  }

  return { runBatch, runDue };
}

export const partsOf = (m: CommittedMessage): TemplatePart[] => [
  { field: 'subject', source: m.subject },
  { field: 'html', source: m.html },
  ...(m.text !== null ? [{ field: 'text' as const, source: m.text }] : []),
];

/** A batch renders with the pool in its account's zone. */
interface Renderer {
  timeZone: string;
}
