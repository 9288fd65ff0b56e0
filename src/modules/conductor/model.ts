/**
 * Conversations as versioned documents: a union of step types keyed by `type`. This file
 * is pure (no I/O) so that the console can import the same validation the server runs at publish.
 */
import { Duration } from 'luxon';
import { z } from 'zod';
import { fieldReference } from '../messages/snippets.ts';

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
  /** `continue`: later messages go out with an empty code (publish warns unless they have a fallback). */
  whenNoCode: z.enum(['continue', 'exit']).default('exit'),
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
/** A step as a client sends it (the console's editor builds these). */
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
  return {
    name: input.name,
    trigger: input.trigger,
    exitEvents: [...new Set(input.exitEvents)],
    reentry: input.reentry,
    exitOnRedemption: input.exitOnRedemption,
    steps,
  };
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
  /** `defaultCode`: the pool hands out its default code when no code is left (so a code field is never empty). */
  pools: Map<string, { merchantId: string; name: string; defaultCode?: boolean }>;
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
          else if (pool.merchantId !== a.merchantId)
            errors.push(at('action.merchantId', `the pool "${pool.name}" belongs to another merchant`));
          const code = catalog.fields.get(a.saveCodeTo);
          if (!code) errors.push(at('action.saveCodeTo', 'the field does not exist'));
          else if (code.type !== 'text')
            errors.push(at('action.saveCodeTo', `the code goes into a text field; ${fieldLabel(a.saveCodeTo)} is a ${code.type} field`));
          if (a.saveExpirationTo) {
            const exp = catalog.fields.get(a.saveExpirationTo);
            if (!exp) errors.push(at('action.saveExpirationTo', 'the field does not exist'));
            else if (exp.type !== 'date')
              errors.push(
                at(
                  'action.saveExpirationTo',
                  `the expiration date goes into a date field; ${fieldLabel(a.saveExpirationTo)} is a ${exp.type} field`,
                ),
              );
          }
        } else {
          const f = catalog.fields.get(a.field);
          if (!f) errors.push(at('action.field', 'the field does not exist'));
          else if (!fits(f.type, a.value))
            errors.push(at('action.value', `${JSON.stringify(a.value)} is not a ${f.type} value for ${fieldLabel(a.field)}`));
        }
        return;
      }
      case 'message': {
        if (!catalog.messages.has(step.messageId)) errors.push(at('messageId', 'the message does not exist'));
        if (!step.committed) {
          errors.push(at('messageId', 'the message is not committed to this step: commit it first'));
          return;
        }
        for (const problem of catalog.templateProblems(step.committed))
          errors.push(at('message', `the committed message is not valid: ${problem}`));
        for (const f of catalog.fieldsUsed(step.committed)) {
          if (!isCouponField(f)) continue;
          const earlier = (fillers.get(f) ?? []).filter((i) => i < index);
          if (earlier.length === 0) {
            errors.push(at('message', `the message uses the coupon field ${fieldLabel(f)}, but no earlier "assign coupon" step fills it`));
            continue;
          } else if (!earlier.includes(index - 1)) {
            warnings.push(
              at(
                'message',
                `the message uses the coupon field ${fieldLabel(f)}; put the "assign coupon" step that fills it right before this message`,
              ),
            );
          }
          const emptying = earlier.map((i) => doc.steps[i]!).find((s) => mayLeaveEmpty(s, f, catalog));
          const field = catalog.fields.get(f);
          if (emptying && field && showsWithoutFallback(step.committed, fieldReference(field.group, field.name))) {
            warnings.push(
              at(
                'message',
                `the coupon field ${fieldLabel(f)} may be empty: "${emptying.name}" continues when no code is left; add a fallback ({{ ${fieldReference(field.group, field.name)} | default: "…" }}) or end the run when no code is left`,
              ),
            );
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

/** Does this step continue with field `f` empty when its pool has no code left (and no default code)? */
function mayLeaveEmpty(step: Step, f: string, catalog: PublishCatalog): boolean {
  if (step.type !== 'action' || step.action.type !== 'assignCoupon' || step.action.saveCodeTo !== f) return false;
  return step.action.whenNoCode === 'continue' && catalog.pools.get(step.action.poolId)?.defaultCode !== true;
}

/** A message's templates: subject, HTML body and text body. */
export const templatesOf = (m: Pick<CommittedMessage, 'subject' | 'html' | 'text'>): string[] => [
  m.subject,
  m.html,
  ...(m.text !== null ? [m.text] : []),
];

const OUTPUT_TAG = /\{\{-?([\s\S]*?)-?\}\}/g;
/** An expression with the spaces Liquid ignores dropped (around `. [ ] | : ,`) and `['x']` as `["x"]`. */
const squeeze = (expression: string) =>
  expression
    .replace(/\s+/g, ' ')
    .replace(/ ?([.[\]|:,]) ?/g, '$1')
    .replace(/\['((?:[^'\\]|\\.)*)'\]/g, '["$1"]')
    .trim();

/**
 * Whether a message shows the variable `reference` (`Group.Field`, `Group["A field"]`) in an output
 * tag without a `| default:` fallback. Pure text reading (no Liquid): the console and the server
 * decide the same.
 */
export function showsWithoutFallback(message: Pick<CommittedMessage, 'subject' | 'html' | 'text'>, reference: string): boolean {
  const wanted = squeeze(reference);
  for (const source of templatesOf(message)) {
    for (const [, expression] of source.matchAll(OUTPUT_TAG)) {
      const e = squeeze(expression!);
      if (!e.startsWith(wanted)) continue;
      const rest = e.slice(wanted.length);
      if (rest !== '' && !rest.startsWith('|')) continue;
      if (!/\|default:/.test(rest)) return true;
    }
  }
  return false;
}

/**
 * The ids of the fields a message's templates name (`{{ Group.Field }}`, `{% if Group["A field"] %}`),
 * by text: the console's reading (the server reads templates with Liquid, references.ts).
 */
export function fieldsNamed(
  message: Pick<CommittedMessage, 'subject' | 'html' | 'text'>,
  groups: readonly { name: string; fields: readonly { id: string; name: string }[] }[],
): Set<string> {
  const tags = templatesOf(message)
    .flatMap((source) => [...source.matchAll(/\{[{%]-?([\s\S]*?)-?[}%]\}/g)].map((m) => squeeze(m[1]!)))
    .join('\n');
  const used = new Set<string>();
  for (const g of groups) {
    for (const f of g.fields) {
      const ref = squeeze(fieldReference(g.name, f.name));
      for (let at = tags.indexOf(ref); at >= 0; at = tags.indexOf(ref, at + 1)) {
        // A whole reference: not the tail of `OtherGroup.Field`, not the head of `Group.Field2`.
        if (!/[A-Za-z0-9_.\]"]/.test(tags[at - 1] ?? '') && !/[A-Za-z0-9_]/.test(tags[at + ref.length] ?? '')) {
          used.add(f.id);
          break;
        }
      }
    }
  }
  return used;
}

/** Was the message edited since it was committed (what would be sent differs from it now)? */
export const changedSinceCommit = (
  committed: Pick<CommittedMessage, 'fromName' | 'fromEmail' | 'subject' | 'html' | 'text'>,
  message: { fromName: string; fromEmail: string; subject: string; html: string; text: string | null },
): boolean =>
  committed.fromName !== message.fromName ||
  committed.fromEmail !== message.fromEmail ||
  committed.subject !== message.subject ||
  committed.html !== message.html ||
  (committed.text ?? null) !== (message.text ?? null);

// ---------------------------------------------------------------------------------------------
// The API's answers (routes.ts serializes them; the console reads them)

export const publishIssue = z.object({ stepId: z.string().nullable(), field: z.string(), message: z.string() });

export const stepCounts = z.object({
  entered: z.number(),
  completed: z.number(),
  codesAssigned: z.number(),
  defaultCodes: z.number(),
  noCode: z.number(),
  messagesSent: z.number(),
  exits: z.number(),
  /** Runs at this step now, waiting for its delay to pass (delay steps). */
  waiting: z.number(),
  /**
   * Live redemptions of the codes this step handed out (a shared code: the orders of its contact
   * after the step gave it, unless a later assignment gave it again), and their revenue per
   * currency as exact decimal strings. Optional for older servers.
   */
  redeemed: z.number().optional(),
  revenue: z.array(z.object({ currency: z.string(), amount: z.string() })).optional(),
});
export type StepCounts = z.infer<typeof stepCounts>;

// Steps are answered as stored (a union keyed by `type`); documented loosely to keep the schema small.
export const stepOut = z.record(z.string(), z.unknown());
export const conversationOut = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['draft', 'live', 'paused']),
  version: z.number().describe('the live version (0 before the first publish)'),
  trigger: z.object({ event: z.string() }),
  exitEvents: z.array(z.string()),
  reentry: z.enum(['never', 'afterCompletion']),
  exitOnRedemption: z.boolean(),
  steps: z.array(stepOut),
  stepCounts: z.record(z.string(), stepCounts),
  createdAt: z.string(),
  updatedAt: z.string(),
  archivedAt: z.string().nullable().describe('set: enrolls nobody, listed apart (?archived=true); runs in progress finish'),
});

/** A step as answered: a message step carries its commit (null before the first one). */
export type StepJson =
  Exclude<Step, { type: 'message' }> | (Omit<Extract<Step, { type: 'message' }>, 'committed'> & { committed: CommittedMessage | null });
export type ConversationJson = Omit<z.infer<typeof conversationOut>, 'steps'> & { steps: StepJson[] };

export const stepJson = (s: Step): StepJson => (s.type === 'message' ? { ...s, committed: s.committed ?? null } : { ...s });

export const enrollmentOut = z.object({
  id: z.string(),
  conversationId: z.string(),
  contactId: z.string(),
  version: z.number(),
  status: z
    .enum(['active', 'held', 'failed', 'completed', 'exited'])
    .describe('held: the conversation is paused; failed: parked after its last attempt, see lastError (resume it with …/resume)'),
  exitReason: z.string().nullable(),
  stepIndex: z.number(),
  nextDueAt: z.string().nullable(),
  attempts: z.number().describe('failed attempts at the current step (0 once the run moves on)'),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  endedAt: z.string().nullable(),
  steps: z.array(
    z.object({
      stepId: z.string(),
      outcome: z.string(),
      at: z.string(),
      code: z.string().optional(),
      expiresAt: z.string().nullable().optional(),
      messageId: z.string().optional(),
      detail: z.string().optional(),
    }),
  ),
});
export type EnrollmentJson = z.infer<typeof enrollmentOut>;
