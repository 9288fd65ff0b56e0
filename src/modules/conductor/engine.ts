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
import type { NewMail } from '../outbox/model.ts';
import type { FieldGroup } from '../segmentation/model.ts';
import { listGroups } from '../segmentation/repo.ts';
import { namedFields, type StoredFields } from '../contacts/model.ts';
import { findRecords, type ContactRecord } from '../contacts/repo.ts';
import { createRenderer, TemplateError, type Renderer, type TemplatePart } from '../messages/template.ts';
import { dueAt, type AssignCoupon, type ConversationDocument, type SetField, type Step, type CommittedMessage } from './model.ts';
import * as repo from './repo.ts';
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
}

export function conductorEngine(deps: {
  database: AppDatabase;
  clock: Clock;
  assignments: AssignmentsService;
  outbox: OutboxService;
  /** Suppression and unsubscribe links for marketing mail (without: neither). */
  marketing?: MarketingRules;
}) {
  const { db } = deps.database;
  const renderers = new Map<string, Renderer>();
  const rendererFor = (zone: string) => {
    let r = renderers.get(zone);
    if (!r) renderers.set(zone, (r = createRenderer({ timeZone: zone })));
    return r;
  };
  // Published versions never change: keep them once read.
  const documents = new Map<string, ConversationDocument>();

  async function documentsFor(tx: Kysely<DB>, rows: repo.EnrollmentRow[]): Promise<void> {
    const missing = [...new Map(rows.filter((r) => !documents.has(`${r.conversation_id}:${r.version}`)).map((r) => [`${r.conversation_id}:${r.version}`, { conversationId: r.conversation_id, version: r.version }])).values()];
    for (const [key, doc] of await repo.findVersions(tx, missing)) documents.set(key, doc);
  }

  /** Runs one batch of due runs; 0 when nothing was due. */
  async function runBatch(limit: number): Promise<EngineReport> {
    const touchedPools = new Map<string, Pool>();
    const report = await db.transaction().execute(async (tx) => {
      const now = deps.clock.now();
      const rows = await repo.claimDueRuns(tx, now, limit);
      if (rows.length === 0) return { runs: 0, steps: 0 };
      await documentsFor(tx, rows);
      let steps = 0;
      const byAccount = new Map<string, repo.EnrollmentRow[]>();
      for (const r of rows) byAccount.set(r.account_id, [...(byAccount.get(r.account_id) ?? []), r]);
      const zones = await repo.accountTimeZones(tx, [...byAccount.keys()]);
      for (const [accountId, accountRows] of byAccount) {
        // Everything inside the batch goes through `tx` (PGlite has one connection, held by it).
        const groups = await listGroups(tx, accountId);
        const contacts = new Map((await findRecords(tx, accountId, [...new Set(accountRows.map((r) => r.contact_id))])).map((c) => [c.id, c]));
        const work: BatchWork = { tx, now, accountId, contacts, patches: new Map(), stepRuns: [], pools: touchedPools };
        const runs: Run[] = accountRows.map((row) => ({ row, doc: documents.get(`${row.conversation_id}:${row.version}`)!, index: row.step_index, status: 'active', exitReason: null, nextDueAt: now }));
        steps += await advance(work, runs, groups, rendererFor(zones.get(accountId) ?? 'UTC'));
        await repo.patchContactFields(tx, accountId, [...work.patches].map(([id, patch]) => ({ id, patch })), now);
        await repo.insertStepRuns(tx, work.stepRuns);
        await repo.updateRuns(
          tx,
          accountId,
          runs.map((r) => ({ id: r.row.id, status: r.status, stepIndex: r.index, nextDueAt: r.nextDueAt.toISOString(), exitReason: r.exitReason })),
          now,
        );
      }
      return { runs: rows.length, steps };
    });
    // Codes were taken: the pools' threshold notices, after the batch has committed.
    for (const pool of touchedPools.values()) await deps.assignments.checkNotices(pool);
    return report;
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
        const results = await execute(work, step, group, groups, renderer);
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
          run.nextDueAt = dueAt(run.doc, run.index, work.now);
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
        return step.action.type === 'assignCoupon' ? assignCoupon(work, step, step.action, runs) : runs.map((r) => setField(work, step.action as SetField, r));
      case 'message':
        return sendMessage(work, step, runs, groups, renderer);
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
      return runs.map(() => (action.whenNoCode === 'exit' ? { outcome: 'no_code_exit', detail: 'pool_not_found', exit: 'no code: the pool no longer exists' } : { outcome: 'no_code', detail: 'pool_not_found' }));
    }
    const requests = runs.map((r) => ({ contactId: r.row.contact_id, idempotencyKey: `run:${r.row.id}:${step.id}` }));
    const outcomes: Map<string, AssignOutcome> = await deps.assignments.assignWithin(work.tx, pool, requests);
    work.pools.set(pool.id, pool);
    return runs.map((run, i) => {
      const outcome = outcomes.get(requests[i]!.idempotencyKey)!;
      if (!outcome.ok) return action.whenNoCode === 'exit' ? { outcome: 'no_code_exit', detail: outcome.reason, exit: `no code: ${outcome.reason}` } : { outcome: 'no_code', detail: outcome.reason };
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

  async function sendMessage(work: BatchWork, step: Extract<Step, { type: 'message' }>, runs: Run[], groups: FieldGroup[], renderer: Renderer): Promise<StepResult[]> {
    const message = step.committed;
    if (!message) return runs.map(() => ({ outcome: 'failed', detail: 'message not committed', exit: 'message not committed' }));
    const parts = partsOf(message);
    const results: StepResult[] = [];
    const mails: { index: number; mail: NewMail }[] = [];
    // Suppressed addresses (one lookup for the batch) and the signed unsubscribe links: unsubscribe/marketing.ts.
    const marketing = await marketingMail(deps.marketing, work.tx, work.accountId, message, runs.map((r) => work.contacts.get(r.row.contact_id)?.email));
    runs.forEach((run, i) => {
      const contact = work.contacts.get(run.row.contact_id);
      if (!contact) return results.push({ outcome: 'failed', detail: 'contact not found', exit: 'contact not found' });
      if (contact.status === 'unsubscribed') return results.push({ outcome: 'skipped', detail: 'unsubscribed', exit: 'unsubscribed' });
      if (marketing.suppressed(contact.email)) return results.push({ outcome: 'skipped', detail: 'suppressed', exit: 'suppressed' });
      try {
        const url = marketing.link(contact.id);
        const rendered = marketing.finish(
          renderer.render(parts, {
            contact: { id: contact.id, email: contact.email, status: contact.status },
            fields: namedFields(groups, (contact.fields ?? {}) as StoredFields, true),
            ...(url !== null && { unsubscribeUrl: url }),
          }),
          url,
        );
        mails.push({
          index: i,
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
        return results.push({ outcome: 'sent' });
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        return results.push({ outcome: 'failed', detail: err.message, exit: 'message could not be rendered' });
      }
    });
    const ids = await deps.outbox.enqueue(work.tx, mails.map((m) => m.mail));
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

export type ConductorEngine = ReturnType<typeof conductorEngine>;
