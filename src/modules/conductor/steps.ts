/**
 * The engine's steps other than messages, each for a group of runs at once (the runs at the same
 * step of the same version): assignCoupon (one assignWithin per pool), setField, split (one
 * set-wise evaluation of its conditions) and waitForEvent (enter the wait, or take the branch).
 */
import type { AssignmentsService } from '../assignments/service.ts';
import type { AssignOutcome } from '../assignments/model.ts';
import { findPool } from '../pools/repo.ts';
import type { StoredFields } from '../contacts/model.ts';
import {
  durationMs,
  evaluate,
  leavesOf,
  isCouponCondition,
  type AssignCoupon,
  type ConditionFacts,
  type SetField,
  type Step,
} from './model.ts';
import type { BatchWork, Outcome, Run, StepResult } from './batch.ts';
import * as repo from './repo.ts';
import { fieldLookup } from './references.ts';

/** Which handed codes (`<contactId>:<code>`) have a live redemption (coupon conditions `is: "redeemed"`). */
export type RedeemedCodes = (tx: BatchWork['tx'], accountId: string, handed: { contactId: string; code: string }[]) => Promise<Set<string>>;

/** Sets field values of a contact for the batch's write, and for the later steps of this batch (a message reads them). */
export function patch(work: BatchWork, contactId: string, values: Record<string, unknown>): void {
  work.patches.set(contactId, { ...work.patches.get(contactId), ...values });
  const contact = work.contacts.get(contactId);
  if (contact) contact.fields = { ...contact.fields, ...(values as StoredFields) };
}

export async function assignCoupon(
  assignments: AssignmentsService,
  work: BatchWork,
  step: Step,
  action: AssignCoupon,
  runs: Run[],
): Promise<StepResult[]> {
  const pool = await findPool(work.tx, work.accountId, action.poolId);
  if (!pool) {
    return runs.map(() =>
      action.whenNoCode === 'exit'
        ? { outcome: 'no_code_exit', detail: 'pool_not_found', exit: 'no code: the pool no longer exists' }
        : { outcome: 'no_code', detail: 'pool_not_found' },
    );
  }
  const requests = runs.map((r) => ({ contactId: r.row.contact_id, idempotencyKey: `run:${r.row.id}:${step.id}` }));
  const outcomes: Map<string, AssignOutcome> = await assignments.assignWithin(work.tx, pool, requests);
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
    // The detail keeps the code's source: coupon conditions (`is: "unique" | "static"`) read it.
    return source === 'default' ? { outcome: 'default_code', code, expiresAt } : { outcome: 'assigned', code, expiresAt, detail: source };
  });
}

export function setField(work: BatchWork, action: SetField, run: Run): StepResult {
  patch(work, run.row.contact_id, { [action.field]: action.value });
  return { outcome: 'field_set' };
}

type CouponFact = ReturnType<ConditionFacts['coupon']>;
const NONE: CouponFact = { source: 'none', redeemed: false };

/** A step run of an assignCoupon step as a coupon condition reads it. */
function couponFact(outcome: string, detail: string | null): CouponFact {
  if (outcome === 'default_code') return { source: 'default', redeemed: false };
  if (outcome === 'assigned') return { source: detail === 'static' ? 'static' : 'unique', redeemed: false };
  return NONE;
}

/** The value at `properties.<name>` (a dotted name also reads nested objects). */
function propertyOf(properties: unknown, name: string): unknown {
  if (properties === null || typeof properties !== 'object') return undefined;
  const direct = (properties as Record<string, unknown>)[name];
  if (direct !== undefined || !name.includes('.')) return direct;
  return name
    .split('.')
    .reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), properties);
}

/** A split: the first branch whose condition holds takes the run, else `otherwise`; one evaluation for the group. */
export async function split(
  work: BatchWork,
  step: Extract<Step, { type: 'split' }>,
  runs: Run[],
  redeemedCodes: RedeemedCodes | undefined,
): Promise<StepResult[]> {
  // What earlier assignCoupon steps gave these runs: this batch's step runs first, then the stored ones.
  const couponSteps = [
    ...new Set(
      step.branches.flatMap((b) =>
        leavesOf(b.condition)
          .filter(isCouponCondition)
          .map((c) => c.coupon),
      ),
    ),
  ];
  const coupons = new Map<string, CouponFact & { code: string | null }>();
  if (couponSteps.length > 0) {
    const ids = new Set(runs.map((r) => r.row.id));
    const wanted = new Set(couponSteps);
    for (const s of work.stepRuns)
      if (ids.has(s.enrollment_id) && wanted.has(s.step_id))
        coupons.set(`${s.enrollment_id}:${s.step_id}`, { ...couponFact(s.outcome, s.detail), code: s.code });
    const stored = await repo.stepRunsAt(work.tx, [...ids], couponSteps);
    for (const s of stored)
      if (!coupons.has(`${s.enrollment_id}:${s.step_id}`))
        coupons.set(`${s.enrollment_id}:${s.step_id}`, { ...couponFact(s.outcome, s.detail), code: s.code });
    const needsRedeemed = step.branches.some((b) => leavesOf(b.condition).some((c) => isCouponCondition(c) && c.is === 'redeemed'));
    if (needsRedeemed && redeemedCodes) {
      const contactOf = new Map(runs.map((r) => [r.row.id, r.row.contact_id]));
      const handed = [...coupons].flatMap(([key, c]) =>
        c.code === null || c.source === 'none' ? [] : [{ key, contactId: contactOf.get(key.split(':')[0]!)!, code: c.code }],
      );
      const redeemed = await redeemedCodes(work.tx, work.accountId, handed);
      for (const h of handed) if (redeemed.has(`${h.contactId}:${h.code}`)) coupons.get(h.key)!.redeemed = true;
    }
  }
  const fieldId = fieldLookup(work.groups);
  return runs.map((run): StepResult => {
    const contact = work.contacts.get(run.row.contact_id);
    const facts: ConditionFacts = {
      field: (ref) => {
        const id = fieldId(ref);
        return id === undefined ? undefined : contact?.fields[id];
      },
      property: (name) => propertyOf(run.row.trigger_properties, name),
      coupon: (stepId) => coupons.get(`${run.row.id}:${stepId}`) ?? NONE,
    };
    const i = step.branches.findIndex((b) => evaluate(b.condition, facts));
    const branch = i >= 0 ? `branches.${i}` : 'otherwise';
    return { outcome: 'branch', detail: branch, branch };
  });
}

/**
 * A waitForEvent step. A run that arrives starts waiting (its timeout is its next due time, the
 * event's transaction wakes it earlier); a run that is due again takes `received` when its event
 * came (even when the timeout has passed too: the event was first), else `timedOut`.
 */
export function waitForEvent(work: BatchWork, step: Extract<Step, { type: 'waitForEvent' }>, runs: Run[]): Outcome[] {
  return runs.map((run): Outcome => {
    if (run.waitingFor === null) {
      run.waitingFor = step.event;
      run.receivedAt = null;
      run.waitUntil = new Date(work.now.getTime() + durationMs(step.within));
      return { holdUntil: run.waitUntil };
    }
    if (run.receivedAt !== null) return { outcome: 'received', detail: run.receivedAt.toISOString(), branch: 'received' };
    // Due before its timeout (a failed run resumed early): it waits on.
    if (run.waitUntil !== null && run.waitUntil.getTime() > work.now.getTime()) return { holdUntil: run.waitUntil };
    return { outcome: 'timed_out', branch: 'timedOut' };
  });
}
