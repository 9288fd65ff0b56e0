/**
 * Conversations (SPEC §5) as versioned documents: a union of step types keyed by `type`. This file
 * is pure (no I/O) so that the console can import the same validation the server runs at publish.
 */
import { Duration } from 'luxon';
import { z } from 'zod';

export const MAX_STEPS = 50;

const name = z.string().trim().min(1).max(200);
const id = z.string().min(1).max(100);
const eventType = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only');

/** ISO-8601 duration, `PT0S` included; at most a year. */
export const isoDuration = z.string().refine((d) => {
  const parsed = Duration.fromISO(d);
  return parsed.isValid && parsed.as('milliseconds') >= 0 && parsed.as('days') <= 366;
}, 'an ISO-8601 duration such as PT1H or P2D (at most a year)');

export const assignCouponAction = z.object({
  type: z.literal('assignCoupon'),
  merchantId: id,
  poolId: id,
  /** A `text` field that receives the code. */
  saveCodeTo: id,
  /** An optional `date` field that receives the code's expiration date. */
  saveExpirationTo: id.nullable().optional(),
  whenNoCode: z.enum(['continue', 'exit']).default('continue'),
});

export const setFieldAction = z.object({
  type: z.literal('setField'),
  field: id,
  value: z.union([z.string().max(10_000), z.number(), z.boolean(), z.null()]),
});

/** A message as it was when committed to the conversation: later edits need a new commit. */
export const committedMessage = z.object({
  messageId: id,
  committedAt: z.string(),
  name: z.string(),
  fromName: z.string(),
  fromEmail: z.string(),
  subject: z.string(),
  html: z.string(),
  text: z.string().nullable(),
});
export type CommittedMessage = z.infer<typeof committedMessage>;

const stepBase = { id: id.optional(), name };
export const stepInput = z.discriminatedUnion('type', [
  z.object({ ...stepBase, type: z.literal('delay'), duration: isoDuration }),
  z.object({ ...stepBase, type: z.literal('action'), action: z.discriminatedUnion('type', [assignCouponAction, setFieldAction]) }),
  z.object({ ...stepBase, type: z.literal('message'), messageId: id }),
]);
export type StepInput = z.infer<typeof stepInput>;

export const conversationInput = z.object({
  name,
  trigger: z.object({ event: eventType }),
  exitEvents: z.array(eventType).max(20).default([]),
  reentry: z.enum(['never', 'afterCompletion']).default('never'),
  /** A run ends (reason `redeemed`) as soon as a code it was handed is redeemed (SPEC §3.1). */
  exitOnRedemption: z.boolean().default(false),
  steps: z.array(stepInput).max(MAX_STEPS).default([]),
});
export type ConversationInput = z.infer<typeof conversationInput>;

export type AssignCoupon = z.infer<typeof assignCouponAction>;
export type SetField = z.infer<typeof setFieldAction>;
export type Step =
  | { id: string; name: string; type: 'delay'; duration: string }
  | { id: string; name: string; type: 'action'; action: AssignCoupon | SetField }
  | { id: string; name: string; type: 'message'; messageId: string; committed?: CommittedMessage | undefined };

/** What is stored per version: the draft, or a published (frozen) version. */
export interface ConversationDocument {
  name: string;
  trigger: { event: string };
  exitEvents: string[];
  reentry: 'never' | 'afterCompletion';
  /** Absent in documents stored before issue 14: false. */
  exitOnRedemption?: boolean;
  steps: Step[];
}

/**
 * The draft after an edit: steps keep the ids they were sent with (when they exist in the draft),
 * new steps get new ids, and a message step keeps its commit while it points at the same message.
 */
export function applyEdit(previous: ConversationDocument | undefined, input: ConversationInput, newId: () => string): ConversationDocument {
  const before = new Map((previous?.steps ?? []).map((s) => [s.id, s]));
  const seen = new Set<string>();
  const steps = input.steps.map((s): Step => {
    const keep = s.id !== undefined && before.has(s.id) && !seen.has(s.id);
    const stepId = keep ? s.id! : newId();
    seen.add(stepId);
    if (s.type !== 'message') return { ...s, id: stepId } as Step;
    const old = keep ? before.get(stepId) : undefined;
    const committed = old?.type === 'message' && old.messageId === s.messageId ? old.committed : undefined;
    return { id: stepId, name: s.name, type: 'message', messageId: s.messageId, ...(committed ? { committed } : {}) };
  });
  return { name: input.name, trigger: input.trigger, exitEvents: [...new Set(input.exitEvents)], reentry: input.reentry, exitOnRedemption: input.exitOnRedemption, steps };
}

export const durationMs = (iso: string): number => Duration.fromISO(iso).as('milliseconds');

/** When a run that arrives at step `index` now is due: after the delay, if the step is one. */
export function dueAt(doc: ConversationDocument, index: number, now: Date): Date {
  const step = doc.steps[index];
  return step?.type === 'delay' ? new Date(now.getTime() + durationMs(step.duration)) : now;
}

// ---------------------------------------------------------------------------------------------
// Publish checks

export interface PublishIssue {
  stepId: string | null;
  field: string;
  message: string;
}

export interface PublishCatalog {
  pools: Map<string, { merchantId: string; name: string }>;
  /** Field id → its group, name and type. */
  fields: Map<string, { group: string; name: string; type: 'text' | 'date' | 'number' | 'boolean' }>;
  messages: Set<string>;
  /** Problems in a committed message's templates (empty when valid). */
  templateProblems(message: CommittedMessage): string[];
  /** The fields (ids) a committed message's templates read. */
  fieldsUsed(message: CommittedMessage): Set<string>;
  /** Fields that assignCoupon steps of the account's other conversations fill: coupon fields too. */
  couponFieldsElsewhere: Set<string>;
}

const fits = (type: 'text' | 'date' | 'number' | 'boolean', value: unknown): boolean =>
  value === null ||
  (type === 'text' && typeof value === 'string') ||
  (type === 'number' && typeof value === 'number' && Number.isFinite(value)) ||
  (type === 'boolean' && typeof value === 'boolean') ||
  (type === 'date' && typeof value === 'string' && !Number.isNaN(Date.parse(value)));

/** Errors (publishing is refused) and warnings (published anyway) for a draft. */
export function checkForPublish(doc: ConversationDocument, catalog: PublishCatalog): { errors: PublishIssue[]; warnings: PublishIssue[] } {
  const errors: PublishIssue[] = [];
  const warnings: PublishIssue[] = [];
  if (doc.steps.length === 0) errors.push({ stepId: null, field: 'steps', message: 'a conversation needs at least one step' });
  if (doc.exitEvents.includes(doc.trigger.event)) {
    errors.push({ stepId: null, field: 'exitEvents', message: `"${doc.trigger.event}" cannot both start and end a run` });
  }
  const fieldLabel = (fieldId: string) => {
    const f = catalog.fields.get(fieldId);
    return f ? `${f.group}.${f.name}` : fieldId;
  };
  // Coupon fields: filled by an assignCoupon step here or in another conversation.
  const fillers = new Map<string, number[]>();
  doc.steps.forEach((s, i) => {
    if (s.type === 'action' && s.action.type === 'assignCoupon') {
      for (const f of [s.action.saveCodeTo, s.action.saveExpirationTo]) if (f) fillers.set(f, [...(fillers.get(f) ?? []), i]);
    }
  });
  const isCouponField = (f: string) => fillers.has(f) || catalog.couponFieldsElsewhere.has(f);

  doc.steps.forEach((step, index) => {
    const at = (field: string, message: string) => ({ stepId: step.id, field, message });
    switch (step.type) {
      case 'delay':
        return;
      case 'action': {
        const a = step.action;
        if (a.type === 'assignCoupon') {
          const pool = catalog.pools.get(a.poolId);
          if (!pool) errors.push(at('action.poolId', 'the pool does not exist'));
          else if (pool.merchantId !== a.merchantId) errors.push(at('action.merchantId', `the pool "${pool.name}" belongs to another merchant`));
          const code = catalog.fields.get(a.saveCodeTo);
          if (!code) errors.push(at('action.saveCodeTo', 'the field does not exist'));
          else if (code.type !== 'text') errors.push(at('action.saveCodeTo', `the code goes into a text field; ${fieldLabel(a.saveCodeTo)} is a ${code.type} field`));
          if (a.saveExpirationTo) {
            const exp = catalog.fields.get(a.saveExpirationTo);
            if (!exp) errors.push(at('action.saveExpirationTo', 'the field does not exist'));
            else if (exp.type !== 'date') errors.push(at('action.saveExpirationTo', `the expiration date goes into a date field; ${fieldLabel(a.saveExpirationTo)} is a ${exp.type} field`));
          }
        } else {
          const f = catalog.fields.get(a.field);
          if (!f) errors.push(at('action.field', 'the field does not exist'));
          else if (!fits(f.type, a.value)) errors.push(at('action.value', `${JSON.stringify(a.value)} is not a ${f.type} value for ${fieldLabel(a.field)}`));
        }
        return;
      }
      case 'message': {
        if (!catalog.messages.has(step.messageId)) errors.push(at('messageId', 'the message does not exist'));
        if (!step.committed) {
          errors.push(at('messageId', 'the message is not committed to this step: commit it first'));
          return;
        }
        for (const problem of catalog.templateProblems(step.committed)) errors.push(at('message', `the committed message is not valid: ${problem}`));
        for (const f of catalog.fieldsUsed(step.committed)) {
          if (!isCouponField(f)) continue;
          const earlier = (fillers.get(f) ?? []).filter((i) => i < index);
          if (earlier.length === 0) {
            errors.push(at('message', `the message uses the coupon field ${fieldLabel(f)}, but no earlier "assign coupon" step fills it`));
          } else if (!earlier.includes(index - 1)) {
            warnings.push(at('message', `the message uses the coupon field ${fieldLabel(f)}; put the "assign coupon" step that fills it right before this message`));
          }
        }
        return;
      }
      default: {
        const exhaustive: never = step;
        return exhaustive;
      }
    }
  });
  return { errors, warnings };
}
