import type { ConversationJson, PublishIssue, StepJson } from '../../../../src/modules/conductor/model.ts';
import { beyond, inputIssues, publishIssues, union, type Draft, type DraftStep, type Issues, type Known } from './check.ts';
import { walkDraft } from './tree.ts';

export const toDraft = (c: ConversationJson): Draft => ({
  name: c.name,
  trigger: structuredClone(c.trigger),
  exitEvents: [...c.exitEvents],
  reentry: c.reentry,
  exitOnRedemption: c.exitOnRedemption ?? false,
  sendWindow: c.sendWindow ? structuredClone(c.sendWindow) : null,
  steps: c.steps.map((s: StepJson): DraftStep => structuredClone(s) as DraftStep),
});

export const emptyDraft = (): Draft => ({
  name: '',
  trigger: { event: 'cart_abandoned' },
  exitEvents: ['order_placed'],
  reentry: 'afterCompletion',
  exitOnRedemption: false,
  sendWindow: null,
  steps: [],
});

/**
 * The last save or publish the marketer asked for. Its problems are re-checked on every edit (the
 * server's own checks, run here), so a fixed one goes at once; what only the server can tell (the
 * templates' syntax) stays while its step is unchanged.
 */
export interface Attempt {
  mode: 'save' | 'publish';
  /** The server's issues the console's check does not reproduce. */
  server: Issues;
  /** The steps (by id, all through the tree) and the whole draft as they were when the server answered. */
  steps: Map<string, string>;
  whole: string;
  published?: number;
}
export const noIssues: Issues = { errors: [], warnings: [] };

export const attemptOf = (mode: Attempt['mode'], draft: Draft, server: Issues = noIssues, published?: number): Attempt => ({
  mode,
  server,
  steps: new Map(walkDraft(draft.steps).map(({ step }) => [step.id ?? '', JSON.stringify(step)])),
  whole: JSON.stringify(draft),
  ...(published !== undefined ? { published } : {}),
});

export type Shown = Issues & { published?: number | undefined; notSaved: boolean };

/** The problems shown now: the checks on the draft as it is, and the server's own while their step is unchanged. */
export function shownIssues(attempt: Attempt | undefined, draft: Draft, known: Known | undefined): Shown | undefined {
  if (!attempt) return undefined;
  const input = inputIssues(draft);
  const local = input.length || attempt.mode === 'save' || !known ? { errors: input, warnings: [] } : publishIssues(draft, known);
  const whole = JSON.stringify(draft);
  const now = new Map(walkDraft(draft.steps).map(({ step }) => [step.id ?? '', JSON.stringify(step)]));
  const unchanged = (p: PublishIssue) =>
    p.stepId === null ? whole === attempt.whole : now.has(p.stepId) && attempt.steps.get(p.stepId) === now.get(p.stepId);
  return {
    errors: union(local.errors, attempt.server.errors.filter(unchanged)),
    warnings: union(local.warnings, attempt.server.warnings.filter(unchanged)),
    published: whole === attempt.whole ? attempt.published : undefined,
    notSaved: attempt.mode === 'save',
  };
}

/** The server's answer about `saved`, less what the console's check already says. */
export function serverOnly(saved: Draft, answer: Issues, known: Known | undefined): Issues {
  const local = known ? publishIssues(saved, known) : noIssues;
  return { errors: beyond(answer.errors, local.errors), warnings: beyond(answer.warnings, local.warnings) };
}
