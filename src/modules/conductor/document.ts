/**
 * A conversation's document: its steps as a tree (a `split` or a `waitForEvent` step holds
 * branches of ordinary steps, nesting at most MAX_DEPTH levels), the step paths that name a place
 * in the tree, and how a run moves through it. Pure (no I/O): the console imports it.
 *
 * A step path is the step's place in the document as JSON: `steps.2`, `steps.2.branches.0.steps.1`,
 * `steps.2.otherwise.steps.0`, `steps.4.received.steps.0`, `steps.4.timedOut.steps.3`. A branch that
 * ends goes on with the step after its split or wait (branches join again, like an if/else).
 */
import { Duration } from 'luxon';
import { z } from 'zod';
import { condition, sendWindow, type Condition, type SendWindow } from './conditions.ts';

/** Steps in one list (the top or a branch). */
export const MAX_STEPS = 50;
/** Steps in the whole tree. */
export const MAX_TREE_STEPS = 200;
/** Splits and waits inside splits and waits: 5 levels at most. */
export const MAX_DEPTH = 5;
/** Branches of one split, `otherwise` not counted. */
export const MAX_BRANCHES = 10;

const name = z.string().trim().min(1).max(200);
const id = z.string().min(1).max(100);
export const eventType = z
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
export type AssignCoupon = z.infer<typeof assignCouponAction>;
export type SetField = z.infer<typeof setFieldAction>;

/** A tree of steps, generic over what a step is (as stored, as sent, as answered). */
type Tree<Extra, Message> =
  | (Extra & { name: string; type: 'delay'; duration: string })
  | (Extra & { name: string; type: 'action'; action: AssignCoupon | SetField })
  | (Extra & { name: string; type: 'message'; messageId: string } & Message)
  | (Extra & {
      name: string;
      type: 'split';
      branches: { name: string; condition: Condition; steps: Tree<Extra, Message>[] }[];
      otherwise: { steps: Tree<Extra, Message>[] };
    })
  | (Extra & {
      name: string;
      type: 'waitForEvent';
      event: string;
      /** How long to wait (ISO-8601 duration). */
      within: string;
      received: { steps: Tree<Extra, Message>[] };
      timedOut: { steps: Tree<Extra, Message>[] };
    });

/** A step as a client sends it (the console's editor builds these). */
export type StepInput = Tree<{ id?: string | undefined }, unknown>;
/** A step as stored: every step has an id, unique across the tree; a message step may carry its commit. */
export type Step = Tree<{ id: string }, { committed?: CommittedMessage | undefined }>;
/** A step as answered: a message step carries its commit (null before the first one). */
export type StepJson = Tree<{ id: string }, { committed: CommittedMessage | null }>;
export type SplitStep = Extract<Step, { type: 'split' }>;
export type WaitStep = Extract<Step, { type: 'waitForEvent' }>;
export type MessageStep = Extract<Step, { type: 'message' }>;

const stepBase = { id: id.optional(), name };
const branchSteps = (): z.ZodType<StepInput[]> => z.array(stepInput).max(MAX_STEPS);
export const stepInput: z.ZodType<StepInput> = z.lazy(() =>
  z.discriminatedUnion('type', [
    z.object({ ...stepBase, type: z.literal('delay'), duration: isoDuration }),
    z.object({ ...stepBase, type: z.literal('action'), action: z.discriminatedUnion('type', [assignCouponAction, setFieldAction]) }),
    z.object({ ...stepBase, type: z.literal('message'), messageId: id }),
    z.object({
      ...stepBase,
      type: z.literal('split'),
      branches: z
        .array(z.object({ name, condition, steps: branchSteps().default([]) }))
        .min(1)
        .max(MAX_BRANCHES),
      otherwise: z.object({ steps: branchSteps().default([]) }).default({ steps: [] }),
    }),
    z.object({
      ...stepBase,
      type: z.literal('waitForEvent'),
      event: eventType,
      within: isoDuration,
      received: z.object({ steps: branchSteps().default([]) }).default({ steps: [] }),
      timedOut: z.object({ steps: branchSteps().default([]) }).default({ steps: [] }),
    }),
  ]),
);

export const triggerInput = z.object({ event: eventType, where: condition.optional() });
export type Trigger = z.infer<typeof triggerInput>;

export const conversationInput = z
  .object({
    name,
    trigger: triggerInput,
    exitEvents: z.array(eventType).max(20).default([]),
    reentry: z.enum(['never', 'afterCompletion']).default('never'),
    /** A run ends (reason `redeemed`) as soon as a code it was handed is redeemed (docs/ARCHITECTURE.md, "Integrations"). */
    exitOnRedemption: z.boolean().default(false),
    /** Message steps due outside it (the account's zone) wait for it to open. */
    sendWindow: sendWindow.nullable().optional(),
    steps: z.array(stepInput).max(MAX_STEPS).default([]),
  })
  .superRefine((c, ctx) => {
    let total = 0;
    walk(c.steps, (_s, path, depth) => {
      total++;
      if (depth > MAX_DEPTH)
        ctx.addIssue({ code: 'custom', path: path.split('.'), message: `branches nest ${MAX_DEPTH} levels deep at most` });
    });
    if (total > MAX_TREE_STEPS) ctx.addIssue({ code: 'custom', path: ['steps'], message: `at most ${MAX_TREE_STEPS} steps in all` });
  });
export type ConversationInput = z.infer<typeof conversationInput>;

/** What is stored per version: the draft, or a published (frozen) version. */
export interface ConversationDocument {
  name: string;
  trigger: Trigger;
  exitEvents: string[];
  reentry: 'never' | 'afterCompletion';
  /** Absent in documents stored before issue 14: false. */
  exitOnRedemption?: boolean;
  /** Absent or null: messages go out at any time. */
  sendWindow?: SendWindow | null | undefined;
  steps: Step[];
}

// ---------------------------------------------------------------------------------------------
// The tree

interface AnyTree {
  type: string;
  name: string;
  branches?: { name: string; steps: AnyTree[] }[];
  otherwise?: { steps: AnyTree[] };
  received?: { steps: AnyTree[] };
  timedOut?: { steps: AnyTree[] };
}

/** A step's branches: the key that extends its path (`branches.0`, `otherwise`, `received`, `timedOut`) and a label. */
export function branchesOf<T extends AnyTree>(step: T): { key: string; label: string; steps: T[] }[] {
  const s = step as AnyTree;
  if (s.type === 'split')
    return [
      ...(s.branches ?? []).map((b, i) => ({ key: `branches.${i}`, label: b.name, steps: b.steps as T[] })),
      { key: 'otherwise', label: 'otherwise', steps: (s.otherwise?.steps ?? []) as T[] },
    ];
  if (s.type === 'waitForEvent')
    return [
      { key: 'received', label: 'received', steps: (s.received?.steps ?? []) as T[] },
      { key: 'timedOut', label: 'timed out', steps: (s.timedOut?.steps ?? []) as T[] },
    ];
  return [];
}

/** Visits every step of the tree, depth first in document order, with its path and depth (0 at the top). */
export function walk<T extends AnyTree>(steps: T[], visit: (step: T, path: string, depth: number) => void, prefix = '', depth = 0): void {
  steps.forEach((step, i) => {
    const path = `${prefix}steps.${i}`;
    visit(step, path, depth);
    for (const b of branchesOf(step)) walk(b.steps, visit, `${path}.${b.key}.`, depth + 1);
  });
}

/** Every step of the tree (document order). */
export function allSteps<T extends AnyTree>(steps: T[]): T[] {
  const out: T[] = [];
  walk(steps, (s) => out.push(s));
  return out;
}

/** The tree with each step replaced by `fn(step)` (branches mapped first, in their new step). */
export function mapSteps(steps: Step[], fn: (step: Step) => Step): Step[] {
  return steps.map((s) => {
    switch (s.type) {
      case 'split':
        return fn({
          ...s,
          branches: s.branches.map((b) => ({ ...b, steps: mapSteps(b.steps, fn) })),
          otherwise: { steps: mapSteps(s.otherwise.steps, fn) },
        });
      case 'waitForEvent':
        return fn({ ...s, received: { steps: mapSteps(s.received.steps, fn) }, timedOut: { steps: mapSteps(s.timedOut.steps, fn) } });
      default:
        return fn(s);
    }
  });
}

/** Step id → its path. */
export function pathsById(doc: { steps: Step[] }): Map<string, string> {
  const out = new Map<string, string>();
  walk(doc.steps, (s, path) => out.set(s.id, path));
  return out;
}

/** The step at a path, or undefined (a path past the end of its list names no step). */
export function stepAt<T extends AnyTree>(doc: { steps: T[] }, path: string): T | undefined {
  const parts = path.split('.');
  let list: T[] = doc.steps;
  let step: T | undefined;
  for (let i = 0; i < parts.length;) {
    if (parts[i] !== 'steps') return undefined;
    step = list[Number(parts[i + 1])];
    if (!step) return undefined;
    i += 2;
    if (i >= parts.length) return step;
    const key = parts[i] === 'branches' ? `branches.${parts[i + 1]}` : parts[i];
    const branch = branchesOf(step).find((b) => b.key === key);
    if (!branch) return undefined;
    list = branch.steps;
    i += key!.startsWith('branches.') ? 2 : 1;
  }
  return undefined;
}

/** `steps.2.branches.0.steps.1` → the list it sits in (`steps.2.branches.0.`), its index (1). */
function splitPath(path: string): { prefix: string; index: number } {
  const at = path.lastIndexOf('steps.');
  return { prefix: path.slice(0, at), index: Number(path.slice(at + 6)) };
}

/** The path of the step holding the branch a list prefix names (`steps.2.branches.0.` → `steps.2`), null at the top. */
function parentOf(prefix: string): string | null {
  if (prefix === '') return null;
  const parts = prefix.slice(0, -1).split('.');
  parts.splice(parts[parts.length - 2] === 'branches' ? -2 : -1);
  return parts.join('.');
}

/**
 * Where a run placed at `path` really is: the step there, or, past the end of a branch, the step
 * after the branch's split or wait; null past the end of the top list (the run is complete).
 */
export function settle(doc: { steps: AnyTree[] }, path: string | null): string | null {
  for (let at = path; at !== null;) {
    if (stepAt(doc, at)) return at;
    const { prefix } = splitPath(at);
    const parent = parentOf(prefix);
    if (parent === null) return null;
    at = nextSibling(parent);
  }
  return null;
}

const nextSibling = (path: string): string => {
  const { prefix, index } = splitPath(path);
  return `${prefix}steps.${index + 1}`;
};

/** Where a run goes after the step at `path`. */
export const after = (doc: { steps: AnyTree[] }, path: string): string | null => settle(doc, nextSibling(path));
/** Where a run goes into the branch `key` of the step at `path` (an empty branch: after the step). */
export const into = (doc: { steps: AnyTree[] }, path: string, key: string): string | null => settle(doc, `${path}.${key}.steps.0`);
/** Where a new run starts. */
export const start = (doc: { steps: AnyTree[] }): string | null => settle(doc, 'steps.0');
/** The top-level index of a path (what `stepIndex` answers), the number of top steps when complete. */
export const topIndex = (doc: { steps: unknown[] }, path: string | null): number =>
  path === null ? doc.steps.length : Number(path.split('.')[1]);

/** The splits and waits a path goes through, with the branch it takes in each: `"Cart" → "Over 100"`. */
export function routeOf(doc: { steps: AnyTree[] }, path: string): { path: string; name: string; branch: string }[] {
  const out: { path: string; name: string; branch: string }[] = [];
  const parts = path.split('.');
  for (let i = 2; i < parts.length; i += 2) {
    const stepPath = parts.slice(0, i).join('.');
    const step = stepAt(doc, stepPath);
    const key = parts[i] === 'branches' ? `branches.${parts[i + 1]}` : parts[i]!;
    const branch = step && branchesOf(step).find((b) => b.key === key);
    if (step && branch) out.push({ path: stepPath, name: step.name, branch: branch.label });
    i += key.startsWith('branches.') ? 2 : 1;
  }
  return out;
}

export const durationMs = (iso: string): number => Duration.fromISO(iso).as('milliseconds');

/** When a run that arrives at `path` now is due: after the delay, if the step is one. */
export function dueAt(doc: { steps: Step[] }, path: string | null, now: Date): Date {
  const step = path === null ? undefined : stepAt(doc, path);
  return step?.type === 'delay' ? new Date(now.getTime() + durationMs(step.duration)) : now;
}

/**
 * The draft after an edit: steps keep the ids they were sent with (when they exist anywhere in the
 * draft's tree), new steps get new ids (unique across the tree), and a message step keeps its
 * commit while it points at the same message.
 */
export function applyEdit(previous: ConversationDocument | undefined, input: ConversationInput, newId: () => string): ConversationDocument {
  const before = new Map(allSteps(previous?.steps ?? []).map((s) => [s.id, s]));
  const seen = new Set<string>();
  const build = (inputs: StepInput[]): Step[] =>
    inputs.map((s): Step => {
      const keep = s.id !== undefined && before.has(s.id) && !seen.has(s.id);
      const stepId = keep ? s.id! : newId();
      seen.add(stepId);
      switch (s.type) {
        case 'message': {
          const old = keep ? before.get(stepId) : undefined;
          const committed = old?.type === 'message' && old.messageId === s.messageId ? old.committed : undefined;
          return { id: stepId, name: s.name, type: 'message', messageId: s.messageId, ...(committed ? { committed } : {}) };
        }
        case 'split':
          return {
            id: stepId,
            name: s.name,
            type: 'split',
            branches: s.branches.map((b) => ({ name: b.name, condition: b.condition, steps: build(b.steps) })),
            otherwise: { steps: build(s.otherwise.steps) },
          };
        case 'waitForEvent':
          return {
            id: stepId,
            name: s.name,
            type: 'waitForEvent',
            event: s.event,
            within: s.within,
            received: { steps: build(s.received.steps) },
            timedOut: { steps: build(s.timedOut.steps) },
          };
        case 'delay':
          return { id: stepId, name: s.name, type: 'delay', duration: s.duration };
        case 'action':
          return { id: stepId, name: s.name, type: 'action', action: s.action };
      }
    });
  const steps = build(input.steps);
  return {
    name: input.name,
    trigger: input.trigger.where ? { event: input.trigger.event, where: input.trigger.where } : { event: input.trigger.event },
    exitEvents: [...new Set(input.exitEvents)],
    reentry: input.reentry,
    exitOnRedemption: input.exitOnRedemption,
    ...(input.sendWindow ? { sendWindow: input.sendWindow } : {}),
    steps,
  };
}

/** A stored step as answered (message steps carry `committed: null` before their first commit). */
export function stepJson(s: Step): StepJson {
  switch (s.type) {
    case 'message':
      return { ...s, committed: s.committed ?? null };
    case 'split':
      return {
        ...s,
        branches: s.branches.map((b) => ({ ...b, steps: b.steps.map(stepJson) })),
        otherwise: { steps: s.otherwise.steps.map(stepJson) },
      };
    case 'waitForEvent':
      return { ...s, received: { steps: s.received.steps.map(stepJson) }, timedOut: { steps: s.timedOut.steps.map(stepJson) } };
    default:
      return { ...s };
  }
}
