/**
 * The conversation editor's checks: the server's own zod input schema and publish check
 * (src/modules/conductor/model.ts), run in the browser so that problems are marked on their steps
 * before the console asks the server, in the marketer's words (never zod's).
 */
import {
  checkForPublish,
  conversationInput,
  fieldsNamed,
  type CommittedMessage,
  type ConversationDocument,
  type ConversationInput,
  type PublishCatalog,
  type PublishIssue,
  type Step,
  type StepInput,
} from '../../../../src/modules/conductor/model.ts';
import type { ApiError } from '../../api.ts';

/** A step being edited: new steps have no id yet; a message step carries its commit. */
export type DraftStep =
  Exclude<StepInput, { type: 'message' }> | (Extract<StepInput, { type: 'message' }> & { committed?: CommittedMessage | null });
export type Draft = Omit<ConversationInput, 'steps'> & { steps: DraftStep[] };

/** The settings' labels, for problems the server reports by field path. */
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
  trigger: 'Trigger event',
  'trigger.event': 'Trigger event',
  exitEvents: 'Exit events',
  steps: 'Steps',
  conversation: 'Conversation',
};
export const fieldLabel = (field: string) => FIELD_LABELS[field] ?? FIELD_LABELS[field.replace(/\.\d+$/, '')] ?? 'Setting';

/** What to do about a setting that cannot be saved as it is. */
const SAVE_HINTS: Record<string, string> = {
  name: 'Give it a name.',
  duration: 'Enter how long to wait (at most a year).',
  messageId: 'Choose a message.',
  'action.merchantId': 'Choose a merchant.',
  'action.poolId': 'Choose a pool.',
  'action.saveCodeTo': 'Choose the field that receives the code.',
  'action.field': 'Choose a field.',
  'action.value': 'Enter a value.',
  'trigger.event': 'Enter the event that starts a run: letters, digits and _ . : - only.',
  exitEvents: 'Exit events are event types: letters, digits and _ . : - only, at most 20.',
  steps: 'A conversation has at most 50 steps.',
};

/** A problem at a path (`steps.1.messageId`, `trigger.event`): a step's keyed `#<index>` (a new step has no id yet). */
function atPath(path: string): PublishIssue {
  const m = /^steps\.(\d+)\.?(.*)$/.exec(path);
  const field = m ? m[2] || 'steps' : path.replace(/\.\d+$/, '') || 'conversation';
  return { stepId: m ? `#${m[1]}` : null, field, message: SAVE_HINTS[field] ?? 'This value is not accepted.' };
}

/** What keeps the draft from being saved, by the server's own input schema. */
export function inputIssues(draft: Draft): PublishIssue[] {
  const parsed = conversationInput.safeParse(forSave(draft));
  if (parsed.success) return [];
  const seen = new Set<string>();
  return parsed.error.issues
    .map((i) => atPath(i.path.join('.')))
    .filter((p) => !seen.has(`${p.stepId}:${p.field}`) && seen.add(`${p.stepId}:${p.field}`));
}

/** A refused save (422 validation_failed, details `{field: "steps.1.messageId"}`) as issues. */
export const saveIssues = (err: ApiError): PublishIssue[] => (err.details as { field?: string }[]).map((d) => atPath(d.field ?? ''));

/** Strip what the server adds to steps (their commit) before sending a draft back. */
export const forSave = (draft: Draft): ConversationInput => ({
  ...draft,
  steps: draft.steps.map((s) => {
    if (s.type !== 'message') return s;
    const { committed: _committed, ...rest } = s;
    return rest;
  }),
});

/** What the console knows of the account, for the publish check. */
export interface Known {
  pools: PublishCatalog['pools'];
  groups: { id: string; name: string; fields: { id: string; name: string; type: 'text' | 'date' | 'number' | 'boolean' }[] }[];
  messageIds: string[];
  couponFieldsElsewhere: Set<string>;
}

/**
 * The server's publish check on the draft as it is now (new steps keyed `#<index>`). Template
 * syntax is checked by the server only (its Liquid engine); the rest is the same rule.
 */
export function publishIssues(draft: Draft, known: Known): { errors: PublishIssue[]; warnings: PublishIssue[] } {
  const steps = draft.steps.map((s, i): Step => {
    const id = s.id ?? `#${i}`;
    if (s.type !== 'message') return { ...s, id } as Step;
    return { id, name: s.name, type: 'message', messageId: s.messageId, ...(s.committed ? { committed: s.committed } : {}) };
  });
  const doc: ConversationDocument = {
    name: draft.name,
    trigger: draft.trigger,
    exitEvents: draft.exitEvents,
    reentry: draft.reentry,
    steps,
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

/** Issues of one step: by its id, or by `#<index>` for a step saved without one yet. */
export const issuesOf = (issues: Issues | undefined, stepId: string | undefined, index: number): Issues => {
  const mine = (e: PublishIssue) => e.stepId === `#${index}` || (stepId !== undefined && e.stepId === stepId);
  return { errors: issues?.errors.filter(mine) ?? [], warnings: issues?.warnings.filter(mine) ?? [] };
};

const same = (a: PublishIssue, b: PublishIssue) => a.stepId === b.stepId && a.field === b.field && a.message === b.message;
/** Issues of `from` that `local` does not have (the server's template checks): kept while their step is unchanged. */
export const beyond = (from: PublishIssue[], local: PublishIssue[]) => from.filter((p) => !local.some((l) => same(l, p)));
export const union = (a: PublishIssue[], b: PublishIssue[]) => [...a, ...b.filter((p) => !a.some((q) => same(p, q)))];
