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
import type { Pool } from '../pools/model.ts';
import type { OutboxService } from '../outbox/service.ts';
import { afterFailure, type RetryPolicy } from '../outbox/model.ts';
import { listGroups } from '../segmentation/repo.ts';
import { findRecords } from '../contacts/repo.ts';
import type { RenderPool } from '../messages/render-pool.ts';
import { after, dueAt, into, settle, stepAt, topIndex, type ConversationDocument, type SetField, type Step } from './model.ts';
import * as repo from './repo.ts';
import { isConnectionLoss } from '../../platform/db/errors.ts';
import { SQLSTATE } from '../../platform/db/sqlstate.ts';
import type { MarketingRules } from '../unsubscribe/marketing.ts';
import { isHold, type BatchWork, type Outcome, type Run } from './batch.ts';
import { assignCoupon, setField, split, waitForEvent, type RedeemedCodes } from './steps.ts';
import { sendMessage } from './message-step.ts';

export { partsOf } from './message-step.ts';

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
  /** Live redemptions of handed codes (coupon conditions `is: "redeemed"`; without: never redeemed). */
  redeemedCodes?: RedeemedCodes;
}) {
  const { db } = deps.database;
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
    const settings = await repo.batchSettings(tx, [...byAccount.keys()]);
    for (const [accountId, accountRows] of byAccount) {
      // Everything inside the batch goes through `tx` (PGlite has one connection, held by it).
      const groups = await listGroups(tx, accountId);
      const contacts = new Map(
        (await findRecords(tx, accountId, [...new Set(accountRows.map((r) => r.contact_id))])).map((c) => [c.id, c]),
      );
      const work: BatchWork = {
        tx,
        now,
        accountId,
        timeZone: settings.get(accountId)?.timeZone ?? 'UTC',
        groups,
        contacts,
        patches: new Map(),
        stepRuns: [],
        pools: touchedPools,
        frequencyCap: settings.get(accountId)?.frequencyCap ?? null,
      };
      const runs: Run[] = accountRows.map((row) => {
        const doc = documents.get(`${row.conversation_id}:${row.version}`)!;
        return {
          row,
          doc,
          // Runs written before branches existed are at `steps.<step_index>`.
          path: doc ? settle(doc, row.step_path ?? `steps.${row.step_index}`) : null,
          status: 'active',
          exitReason: null,
          nextDueAt: now,
          waitingFor: row.waiting_for,
          receivedAt: row.received_at,
          waitUntil: row.wait_until,
        };
      });
      steps += await advance(work, runs);
      await repo.writeBatch(
        tx,
        accountId,
        {
          patches: [...work.patches].map(([id, patch]) => ({ id, patch })),
          stepRuns: work.stepRuns,
          updates: runs.map((r) => ({
            id: r.row.id,
            status: r.status,
            stepIndex: r.doc ? topIndex(r.doc, r.path) : r.row.step_index,
            stepPath: r.status === 'completed' ? null : r.path,
            nextDueAt: r.nextDueAt.toISOString(),
            exitReason: r.exitReason,
            waitingFor: r.status === 'active' ? r.waitingFor : null,
            waitUntil: r.status === 'active' && r.waitingFor !== null ? (r.waitUntil?.toISOString() ?? null) : null,
            receivedAt: r.status === 'active' && r.waitingFor !== null ? (r.receivedAt?.toISOString() ?? null) : null,
          })),
        },
        now,
      );
    }
    return steps;
  }

  /**
   * Moves every run through the steps that are due now: the runs at the same step (path) of the
   * same version go through it together — a split is one evaluation for all of them — then on to
   * their next step (the branch's first step, or the step after) unless it waits.
   */
  async function advance(work: BatchWork, runs: Run[]): Promise<number> {
    let steps = 0;
    let moving = runs.filter((r) => r.doc && r.path !== null);
    for (const r of runs) if (!r.doc || r.path === null) r.status = 'completed';
    while (moving.length > 0) {
      const atStep = new Map<string, Run[]>();
      for (const r of moving) {
        const key = `${r.row.conversation_id}:${r.row.version}:${r.path}`;
        const group = atStep.get(key);
        if (group) group.push(r);
        else atStep.set(key, [r]);
      }
      const next: Run[] = [];
      for (const group of atStep.values()) {
        const path = group[0]!.path!;
        const step = stepAt(group[0]!.doc, path)!;
        const results = await execute(work, step, group).catch((err: unknown) => {
          throw new StepFailure(step, err);
        });
        group.forEach((run, i) => {
          const result = results[i]!;
          if (isHold(result)) {
            // Not done yet (a wait for an event, a send window): the run stays at the step until then.
            run.nextDueAt = result.holdUntil;
            return;
          }
          steps++;
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
          if (step.type === 'waitForEvent') [run.waitingFor, run.receivedAt, run.waitUntil] = [null, null, null];
          run.path = result.branch ? into(run.doc, path, result.branch) : after(run.doc, path);
          if (run.path === null) {
            run.status = 'completed';
            return;
          }
          run.nextDueAt = dueAt(run.doc, run.path, work.now);
          // A delay stays for a later claim; a step due now goes on in this batch.
          if (run.nextDueAt.getTime() <= work.now.getTime() || stepAt(run.doc, run.path)!.type !== 'delay') next.push(run);
        });
      }
      moving = next;
    }
    return steps;
  }

  async function execute(work: BatchWork, step: Step, runs: Run[]): Promise<Outcome[]> {
    switch (step.type) {
      case 'delay':
        return runs.map(() => ({ outcome: 'waited' }));
      case 'action':
        return step.action.type === 'assignCoupon'
          ? assignCoupon(deps.assignments, work, step, step.action, runs)
          : runs.map((r) => setField(work, step.action as SetField, r));
      case 'message':
        return sendMessage(deps, work, step, runs);
      case 'split':
        return split(work, step, runs, deps.redeemedCodes);
      case 'waitForEvent':
        return waitForEvent(work, step, runs);
      default: {
        const exhaustive: never = step;
        return exhaustive;
      }
    }
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
