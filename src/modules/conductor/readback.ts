/**
 * Reading runs back: per-step counts for every step of every branch (entered, completed, waiting,
 * the branch taken, …) and a run's journey (its position and the path it took, step by step).
 */
import type { Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import { branchesOf, pathsById, settle, stepAt, type ConversationDocument, type StepCounts } from './model.ts';
import * as repo from './repo.ts';

/** Per conversation and step id: the redemptions of the codes the step handed out (the reports module answers it). */
export type StepRedemptionsOf = (
  conversationIds: string[],
) => Promise<Map<string, Map<string, { redeemed: number; revenue: { currency: string; amount: string }[] }>>>;

const emptyCounts = (): StepCounts => ({
  entered: 0,
  completed: 0,
  codesAssigned: 0,
  defaultCodes: 0,
  noCode: 0,
  messagesSent: 0,
  exits: 0,
  waiting: 0,
  capped: 0,
  redeemed: 0,
  revenue: [],
});
/** Outcomes after which the run went on past the step. */
const COMPLETED = new Set([
  'waited',
  'assigned',
  'default_code',
  'no_code',
  'field_set',
  'sent',
  'capped',
  'branch',
  'received',
  'timed_out',
]);
const BRANCH_OF: Record<string, string> = { received: 'received', timed_out: 'timedOut' };

/** Versions read once per call (published versions never change). */
async function versionsOf(db: Kysely<DB>, keys: { conversationId: string; version: number }[]) {
  return repo.findVersions(db, [...new Map(keys.map((k) => [`${k.conversationId}:${k.version}`, k])).values()]);
}

/** Per step of each conversation (every branch's steps included): what its runs did there, all versions, by step id. */
export async function countsFor(
  db: Kysely<DB>,
  conversationIds: string[],
  now: Date,
  stepRedemptions?: StepRedemptionsOf,
): Promise<Map<string, Record<string, StepCounts>>> {
  const out = new Map<string, Record<string, StepCounts>>(conversationIds.map((id) => [id, {}]));
  const at = (conversationId: string, stepId: string) => {
    const steps = out.get(conversationId)!;
    return (steps[stepId] ??= emptyCounts());
  };
  for (const r of await repo.stepOutcomeCounts(db, conversationIds)) {
    const c = at(r.conversation_id, r.step_id);
    const n = Number(r.n);
    c.entered += n;
    if (COMPLETED.has(r.outcome)) c.completed += n;
    if (r.outcome === 'assigned') c.codesAssigned += n;
    if (r.outcome === 'default_code') c.defaultCodes += n;
    if (r.outcome === 'no_code' || r.outcome === 'no_code_exit') c.noCode += n;
    if (r.outcome === 'sent') c.messagesSent += n;
    if (r.outcome === 'capped') c.capped = (c.capped ?? 0) + n;
    const branch = r.outcome === 'branch' ? r.branch : BRANCH_OF[r.outcome];
    if (branch) (c.branches ??= {})[branch] = (c.branches?.[branch] ?? 0) + n;
  }
  const positions = await repo.runPositions(db, conversationIds, now);
  const docs = await versionsOf(
    db,
    positions.map((p) => ({ conversationId: p.conversation_id, version: p.version })),
  );
  for (const p of positions) {
    const doc = docs.get(`${p.conversation_id}:${p.version}`);
    const path = doc && (p.status === 'exited' ? p.path : settle(doc, p.path));
    const step = doc && path ? stepAt(doc, path) : undefined;
    if (!step) continue;
    // Runs in progress are at their step (entered, not done yet); exited runs ended at it.
    const c = at(p.conversation_id, step.id);
    if (p.status === 'active') {
      c.entered += Number(p.n);
      if (p.waiting) c.waiting += Number(p.n);
    } else c.exits += Number(p.n);
  }
  // Every step of the draft's tree answers (zeros where no run has been), and splits and waits
  // answer every branch, taken or not.
  for (const [conversationId, doc] of await repo.draftDocuments(db, conversationIds)) {
    for (const [id, path] of pathsById(doc)) {
      const c = at(conversationId, id);
      const branches = branchesOf(stepAt(doc, path)!);
      if (branches.length === 0) continue;
      c.branches = Object.fromEntries(branches.map((b) => [b.key, c.branches?.[b.key] ?? 0]));
    }
  }
  for (const [conversationId, steps] of (await stepRedemptions?.(conversationIds)) ?? []) {
    for (const [stepId, r] of steps) Object.assign(at(conversationId, stepId), { redeemed: r.redeemed, revenue: r.revenue });
  }
  return out;
}

export type EnrollmentWithSteps = repo.EnrollmentRow & { steps: repo.StepRunRow[]; document?: ConversationDocument | undefined };

/** Runs with their step runs and their version's document (for the paths). */
export async function withSteps(db: Kysely<DB>, rows: repo.EnrollmentRow[]): Promise<EnrollmentWithSteps[]> {
  const runs = await repo.stepRunsOf(
    db,
    rows.map((r) => r.id),
  );
  const byRun = new Map<string, repo.StepRunRow[]>();
  for (const s of runs) byRun.set(s.enrollment_id, [...(byRun.get(s.enrollment_id) ?? []), s]);
  const docs = await versionsOf(
    db,
    rows.map((r) => ({ conversationId: r.conversation_id, version: r.version })),
  );
  return rows.map((r) => ({ ...r, steps: byRun.get(r.id) ?? [], document: docs.get(`${r.conversation_id}:${r.version}`) }));
}

/** The label of the branch a step run took (splits: the branch's name; waits: received / timed out). */
function branchLabel(doc: ConversationDocument | undefined, path: string | null, s: repo.StepRunRow): string | undefined {
  const key = s.outcome === 'branch' ? s.detail : BRANCH_OF[s.outcome];
  if (!key) return undefined;
  const step = doc && path ? stepAt(doc, path) : undefined;
  return (step && branchesOf(step).find((b) => b.key === key)?.label) ?? key;
}

/** A run with its steps as the API shows it (enrollments list, a contact's journey): where it is, the path it took. */
export const enrollmentView = (e: EnrollmentWithSteps) => {
  const paths = e.document ? pathsById(e.document) : new Map<string, string>();
  // Step runs of one batch share their time: document order tells them apart.
  const order = new Map([...paths.keys()].map((id, i) => [id, i]));
  const steps = [...e.steps].sort((a, b) => a.at.getTime() - b.at.getTime() || (order.get(a.step_id) ?? 0) - (order.get(b.step_id) ?? 0));
  const open = e.status === 'active' || e.status === 'held' || e.status === 'failed';
  const position = e.status === 'completed' ? null : (e.step_path ?? `steps.${e.step_index}`);
  return {
    id: e.id,
    conversationId: e.conversation_id,
    contactId: e.contact_id,
    version: e.version,
    status: e.status,
    exitReason: e.exit_reason,
    stepIndex: e.step_index,
    position: open && e.document ? settle(e.document, position) : position,
    waitingFor: open ? e.waiting_for : null,
    nextDueAt: e.status === 'active' || e.status === 'held' ? e.next_due_at.toISOString() : null,
    attempts: e.attempts,
    lastError: e.last_error,
    createdAt: e.created_at.toISOString(),
    endedAt: e.ended_at?.toISOString() ?? null,
    steps: steps.map((s) => {
      const path = paths.get(s.step_id) ?? null;
      const branch = branchLabel(e.document, path, s);
      return {
        stepId: s.step_id,
        path,
        outcome: s.outcome,
        at: s.at.toISOString(),
        ...(branch !== undefined ? { branch } : {}),
        ...(s.code !== null ? { code: s.code, expiresAt: s.expires_at?.toISOString() ?? null } : {}),
        ...(s.mail_id !== null ? { messageId: s.mail_id } : {}),
        ...(s.detail !== null ? { detail: s.detail } : {}),
      };
    }),
  };
};
