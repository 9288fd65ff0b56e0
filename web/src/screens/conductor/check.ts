/**
 * The conversation editor's checks: the server's own zod input schema and publish check
 * (src/modules/conductor/model.ts), run in the browser so that problems are marked on their steps
 * (wherever they sit in the tree) before the console asks the server, in the marketer's words (never zod's).
 */
import {
  checkForPublish,
  conversationInput,
  fieldsNamed,
  type CommittedMessage,
  type Condition,
  type ConversationDocument,
  type ConversationInput,
  type PublishCatalog,
  type PublishIssue,
  type Step,
  type StepInput,
} from '../../../../src/modules/conductor/model.ts';
import type { ApiError } from '../../api.ts';
import { lanesOf, mapTree, stepAt, walkDraft } from './tree.ts';

/**
 * A step being edited (the tree the server accepts). A message step also carries its commit as the
 * server answered it (`committed`), read with committedOf. A new step has a `new-…` id until it is
 * saved: problems and conditions name it by that id (the server gives it its own, see remapIds).
 */
export type DraftStep = StepInput;
export type Draft = ConversationInput;

export const committedOf = (s: DraftStep): CommittedMessage | null => (s as { committed?: CommittedMessage | null }).committed ?? null;
export const isNewId = (id: string | undefined) => id === undefined || id.startsWith('new-');
export const newStepId = () => `new-${Math.random().toString(36).slice(2, 10)}`;

/** The settings' labels, for problems the server reports by field path (numbers dropped: `branches.0.name` → `branches.name`). */
const FIELD_LABELS: Record<string, string> = {
  name: 'Name',
  duration: 'Wait for',
  messageId: 'Message',
  message: 'Message',
  'action.merchantId': 'Merchant',
  'action.poolId': 'Pool',
  'action.saveCodeTo': 'Save code to',
  'action.saveExpirationTo': 'Save expiration date to',
  'action.whenNoCode': 'When no code is left',
  'action.field': 'Field',
  'action.value': 'Value',
  branches: 'Branches',
  'branches.name': 'Branch name',
  'branches.condition': 'Condition',
  'branches.steps': 'Branch steps',
  'otherwise.steps': 'Otherwise',
  event: 'Event',
  within: 'Wait up to',
  'received.steps': 'Received',
  'timedOut.steps': 'Timed out',
  trigger: 'Trigger event',
  'trigger.event': 'Trigger event',
  'trigger.where': 'Trigger filter',
  sendWindow: 'Send window',
  exitEvents: 'Exit events',
  steps: 'Steps',
  conversation: 'Conversation',
};
const CONDITION_PARTS = /^(branches\.condition|trigger\.where)\b/;
export function fieldLabel(field: string): string {
  const plain = field
    .split('.')
    .filter((k) => !/^\d+$/.test(k))
    .join('.');
  const condition = CONDITION_PARTS.exec(plain)?.[1];
  if (condition) return FIELD_LABELS[condition]!;
  if (plain.startsWith('sendWindow')) return FIELD_LABELS.sendWindow!;
  return FIELD_LABELS[plain] ?? FIELD_LABELS[plain.replace(/\.[^.]+$/, '')] ?? 'Setting';
}

/** What to do about a setting that cannot be saved as it is. */
const SAVE_HINTS: Record<string, string> = {
  name: 'Give it a name.',
  duration: 'Enter how long to wait (at most a year).',
  within: 'Enter how long to wait for the event (at most a year).',
  event: 'Enter the event to wait for: letters, digits and _ . : - only.',
  messageId: 'Choose a message.',
  'action.merchantId': 'Choose a merchant.',
  'action.poolId': 'Choose a pool.',
  'action.saveCodeTo': 'Choose the field that receives the code.',
  'action.field': 'Choose a field.',
  'action.value': 'Enter a value.',
  'branches.name': 'Give the branch a name.',
  'branches.condition': 'Complete the condition: choose what it tests and enter a value.',
  branches: 'A split has 1 to 10 branches besides “otherwise”.',
  'trigger.event': 'Enter the event that starts a run: letters, digits and _ . : - only.',
  'trigger.where': 'Complete the trigger filter: a property of the event, an op and a value.',
  sendWindow: 'Enter the window as times of day (09:00 to 20:00) with at least one day; it cannot end when it starts.',
  exitEvents: 'Exit events are event types: letters, digits and _ . : - only, at most 20.',
  steps: 'A list has at most 50 steps, the whole conversation 200, and branches nest 5 levels deep at most.',
};

/**
 * A problem at a path of the draft (`steps.1.branches.0.steps.2.messageId`, `trigger.event`): on the
 * deepest step the path goes through, with the rest of the path as its field.
 */
export function atPath(draft: Draft, path: string, message?: string): PublishIssue {
  const keys = path.split('.');
  let stepId: string | null = null;
  let rest = path;
  for (let end = 2; end <= keys.length; end++) {
    if (keys[end - 2] !== 'steps' || !/^\d+$/.test(keys[end - 1]!)) continue;
    const step = stepAt(draft, keys.slice(0, end).join('.'));
    if (!step) break;
    stepId = step.id ?? null;
    rest = keys.slice(end).join('.');
  }
  const field = stepId === null ? path.replace(/\.\d+$/, '') || 'conversation' : rest || 'steps';
  const plain = field
    .split('.')
    .filter((k) => !/^\d+$/.test(k))
    .join('.');
  const hint = SAVE_HINTS[CONDITION_PARTS.exec(plain)?.[1] ?? plain] ?? SAVE_HINTS[plain.split('.')[0]!];
  return { stepId, field, message: message ?? hint ?? 'This value is not accepted.' };
}

/** What keeps the draft from being saved, by the server's own input schema (one problem per setting). */
export function inputIssues(draft: Draft): PublishIssue[] {
  const parsed = conversationInput.safeParse(forSave(draft));
  if (parsed.success) return [];
  const seen = new Set<string>();
  return parsed.error.issues
    .map((i) => atPath(draft, i.path.join('.')))
    .filter((p) => !seen.has(`${p.stepId}:${fieldLabel(p.field)}`) && seen.add(`${p.stepId}:${fieldLabel(p.field)}`));
}

/** A refused save (422 validation_failed, details `{field: "steps.1.messageId"}`) as issues, on the draft that was sent. */
export const saveIssues = (draft: Draft, err: ApiError): PublishIssue[] =>
  (err.details as { field?: string }[]).map((d) => atPath(draft, d.field ?? ''));

/** The draft as the server takes it: without the commits it answered, new steps without their `new-…` ids. */
export const forSave = (draft: Draft): ConversationInput => ({ ...draft, steps: draft.steps.map(stepForSave) });
function stepForSave(s: DraftStep): DraftStep {
  const { committed: _committed, id, ...rest } = s as DraftStep & { committed?: unknown };
  const out = { ...(isNewId(id) ? {} : { id }), ...rest } as DraftStep;
  if (out.type === 'split')
    return {
      ...out,
      branches: out.branches.map((b) => ({ ...b, steps: b.steps.map(stepForSave) })),
      otherwise: { steps: out.otherwise.steps.map(stepForSave) },
    };
  if (out.type === 'waitForEvent')
    return { ...out, received: { steps: out.received.steps.map(stepForSave) }, timedOut: { steps: out.timedOut.steps.map(stepForSave) } };
  return out;
}

/**
 * After a save: the ids the server gave the new steps (the saved tree has the draft's shape), so
 * that conditions naming a new step (`{coupon: "new-…"}`) can be pointed at its real id.
 */
export function remapIds(sent: Draft, saved: Draft): Map<string, string> {
  const before = walkDraft(sent.steps);
  const after = new Map(walkDraft(saved.steps).map(({ step, path }) => [path, step.id]));
  const map = new Map<string, string>();
  for (const { step, path } of before) {
    const now = after.get(path);
    if (step.id && now && step.id !== now) map.set(step.id, now);
  }
  return map;
}

const renameIn = (c: Condition, map: Map<string, string>): Condition =>
  'all' in c
    ? { all: c.all.map((x) => renameIn(x, map)) }
    : 'any' in c
      ? { any: c.any.map((x) => renameIn(x, map)) }
      : 'not' in c
        ? { not: renameIn(c.not, map) }
        : 'coupon' in c && map.has(c.coupon)
          ? { ...c, coupon: map.get(c.coupon)! }
          : c;

/** The draft with its conditions naming steps by their new ids (`map`: old id → new id); undefined when no condition changes. */
export function withRenamedSteps(draft: Draft, map: Map<string, string>): Draft | undefined {
  let changed = false;
  const steps = mapTree(draft.steps, (s) => {
    if (s.type !== 'split') return s;
    const branches = s.branches.map((b) => ({ ...b, condition: renameIn(b.condition, map) }));
    if (JSON.stringify(branches) !== JSON.stringify(s.branches)) changed = true;
    return { ...s, branches };
  });
  return changed ? { ...draft, steps } : undefined;
}

/** What the console knows of the account, for the publish check. */
export interface Known {
  pools: PublishCatalog['pools'];
  groups: { id: string; name: string; fields: { id: string; name: string; type: 'text' | 'date' | 'number' | 'boolean' }[] }[];
  messageIds: string[];
  couponFieldsElsewhere: Set<string>;
}

const toStep = (s: DraftStep): Step => {
  const id = s.id ?? '';
  if (s.type === 'message') {
    const committed = committedOf(s);
    return { id, name: s.name, type: 'message', messageId: s.messageId, ...(committed ? { committed } : {}) };
  }
  if (s.type === 'split')
    return {
      ...s,
      id,
      branches: s.branches.map((b) => ({ ...b, steps: b.steps.map(toStep) })),
      otherwise: { steps: s.otherwise.steps.map(toStep) },
    };
  if (s.type === 'waitForEvent')
    return { ...s, id, received: { steps: s.received.steps.map(toStep) }, timedOut: { steps: s.timedOut.steps.map(toStep) } };
  return { ...s, id };
};

/**
 * The server's publish check on the draft as it is now (new steps by their `new-…` ids). Template
 * syntax is checked by the server only (its Liquid engine); the rest is the same rule.
 */
export function publishIssues(draft: Draft, known: Known): Issues {
  const doc: ConversationDocument = {
    name: draft.name,
    trigger: draft.trigger,
    exitEvents: draft.exitEvents,
    reentry: draft.reentry,
    sendWindow: draft.sendWindow ?? null,
    steps: draft.steps.map(toStep),
  };
  return checkForPublish(doc, {
    pools: known.pools,
    fields: new Map(known.groups.flatMap((g) => g.fields.map((f) => [f.id, { group: g.name, name: f.name, type: f.type }] as const))),
    messages: new Set(known.messageIds),
    templateProblems: () => [],
    fieldsUsed: (m) => fieldsNamed(m, known.groups),
    couponFieldsElsewhere: known.couponFieldsElsewhere,
  });
}

export interface Issues {
  errors: PublishIssue[];
  warnings: PublishIssue[];
}

/** Issues of one step (by its id, `new-…` for a step not saved yet). */
export const issuesOf = (issues: Issues | undefined, stepId: string | undefined): Issues => {
  const mine = (e: PublishIssue) => stepId !== undefined && e.stepId === stepId;
  return { errors: issues?.errors.filter(mine) ?? [], warnings: issues?.warnings.filter(mine) ?? [] };
};

/** Whether a step (or a step inside its branches) has problems: a collapsed split still shows them. */
export const hasIssuesInside = (issues: Issues | undefined, step: DraftStep): boolean =>
  lanesOf(step).some((lane) =>
    lane.steps.some(
      (s) => [...(issues?.errors ?? []), ...(issues?.warnings ?? [])].some((e) => e.stepId === s.id) || hasIssuesInside(issues, s),
    ),
  );

const same = (a: PublishIssue, b: PublishIssue) => a.stepId === b.stepId && a.field === b.field && a.message === b.message;
/** Issues of `from` that `local` does not have (the server's template checks): kept while their step is unchanged. */
export const beyond = (from: PublishIssue[], local: PublishIssue[]) => from.filter((p) => !local.some((l) => same(l, p)));
export const union = (a: PublishIssue[], b: PublishIssue[]) => [...a, ...b.filter((p) => !a.some((q) => same(p, q)))];
