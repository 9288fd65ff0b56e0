import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { ConversationJson, StepJson } from '../../../../src/modules/conductor/model.ts';
import { api, ApiError, type Merchant } from '../../api.ts';
import { href } from '../../router.ts';
import { Badge, Empty, ErrorBanner, Loading } from '../../ui.tsx';
import {
  beyond,
  forSave,
  inputIssues,
  issuesOf,
  publishIssues,
  saveIssues,
  union,
  type Draft,
  type DraftStep,
  type Issues,
} from './check.ts';
import { useKnown } from './known.ts';
import { statusTone } from './List.tsx';
import { Runs, TestEvent } from './Runs.tsx';
import { SettingsPanel } from './SettingsPanel.tsx';
import { IssuesBox, StepCard } from './StepCard.tsx';

const DEFAULT_NAMES = { delay: 'Wait', action: 'Update Segment Field with Coupon Code', message: 'Send message' } as const;

const toDraft = (c: ConversationJson): Draft => ({
  name: c.name,
  trigger: { event: c.trigger.event },
  exitEvents: [...c.exitEvents],
  reentry: c.reentry,
  exitOnRedemption: c.exitOnRedemption ?? false,
  steps: c.steps.map((s: StepJson): DraftStep => structuredClone(s)),
});

/**
 * The last save or publish the marketer asked for. Its problems are re-checked on every edit (the
 * server's own checks, run here), so a fixed one goes at once; what only the server can tell (the
 * templates' syntax) stays while its step is unchanged.
 */
interface Attempt {
  mode: 'save' | 'publish';
  /** The server's issues the console's check does not reproduce. */
  server: Issues;
  /** The steps (by id) and the whole draft as they were when the server answered. */
  steps: Map<string, string>;
  whole: string;
  published?: number;
}
const noIssues: Issues = { errors: [], warnings: [] };
const stepKey = (s: DraftStep, i: number) => s.id ?? `#${i}`;
const attemptOf = (mode: Attempt['mode'], draft: Draft, server: Issues = noIssues, published?: number): Attempt => ({
  mode,
  server,
  steps: new Map(draft.steps.map((s, i) => [stepKey(s, i), JSON.stringify(s)])),
  whole: JSON.stringify(draft),
  ...(published !== undefined ? { published } : {}),
});

export function ConversationEditor({ conversationId, merchants }: { conversationId: string | undefined; merchants: Merchant[] }) {
  const loaded = useQuery({
    queryKey: ['conversation', conversationId],
    queryFn: () => api.conversation(conversationId!),
    enabled: Boolean(conversationId),
  });
  if (conversationId && loaded.isPending) return <Loading />;
  if (conversationId && !loaded.data) return <ErrorBanner error={loaded.error} />;
  return <Editor key={conversationId ?? 'new'} conversation={loaded.data} merchants={merchants} />;
}

function Editor({ conversation, merchants }: { conversation: ConversationJson | undefined; merchants: Merchant[] }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() =>
    conversation
      ? toDraft(conversation)
      : {
          name: '',
          trigger: { event: 'cart_abandoned' },
          exitEvents: ['order_placed'],
          reentry: 'afterCompletion',
          exitOnRedemption: false,
          steps: [],
        },
  );
  const [dirty, setDirty] = useState(!conversation);
  const [attempt, setAttempt] = useState<Attempt | undefined>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState<string | undefined>();
  // The saved conversation as this editor last saw it (kept here, so the editor survives its creation).
  const [current, setCurrent] = useState<ConversationJson | undefined>(conversation);
  const known = useKnown(draft, current?.id, merchants);
  const remember = (c: ConversationJson) => {
    setCurrent(c);
    queryClient.setQueryData(['conversation', c.id], c);
    void queryClient.invalidateQueries({ queryKey: ['conversations'] });
  };
  const change = (next: Draft) => {
    setDraft(next);
    setDirty(true);
  };
  const setStep = (i: number, step: DraftStep) => change({ ...draft, steps: draft.steps.map((s, j) => (j === i ? step : s)) });
  const move = (i: number, by: -1 | 1) => {
    const steps = [...draft.steps];
    const [step] = steps.splice(i, 1);
    steps.splice(i + by, 0, step!);
    change({ ...draft, steps });
  };
  const addStep = (type: 'delay' | 'action' | 'message') => {
    const step: DraftStep =
      type === 'delay'
        ? { type, name: DEFAULT_NAMES.delay, duration: 'PT1H' }
        : type === 'action'
          ? {
              type,
              name: DEFAULT_NAMES.action,
              action: {
                type: 'assignCoupon',
                merchantId: merchants[0]?.id ?? '',
                poolId: '',
                saveCodeTo: '',
                saveExpirationTo: null,
                whenNoCode: 'exit',
              },
            }
          : { type: 'message', name: DEFAULT_NAMES.message, messageId: '' };
    change({ ...draft, steps: [...draft.steps, step] });
  };

  // The problems shown now: the checks on the draft as it is, and the server's own while their step is unchanged.
  let shown: (Issues & { published?: number | undefined; notSaved: boolean }) | undefined;
  if (attempt) {
    const input = inputIssues(draft);
    const local = input.length || attempt.mode === 'save' || !known ? { errors: input, warnings: [] } : publishIssues(draft, known);
    const whole = JSON.stringify(draft);
    const unchanged = (p: { stepId: string | null }) =>
      p.stepId === null
        ? whole === attempt.whole
        : draft.steps.some((s, i) => stepKey(s, i) === p.stepId && attempt.steps.get(p.stepId) === JSON.stringify(s));
    shown = {
      errors: union(local.errors, attempt.server.errors.filter(unchanged)),
      warnings: union(local.warnings, attempt.server.warnings.filter(unchanged)),
      published: whole === attempt.whole ? attempt.published : undefined,
      notSaved: attempt.mode === 'save',
    };
  }

  /** The server's answer about `saved`, less what the console's check already says. */
  const serverOnly = (saved: Draft, answer: Issues): Issues => {
    const local = known ? publishIssues(saved, known) : noIssues;
    return { errors: beyond(answer.errors, local.errors), warnings: beyond(answer.warnings, local.warnings) };
  };

  /** Saves the draft when it changed (creating the conversation the first time); answers the saved one, or undefined when it cannot be saved. */
  async function saveDraft(mode: Attempt['mode']): Promise<ConversationJson | undefined> {
    if (inputIssues(draft).length) {
      setAttempt(attemptOf(mode, draft));
      return undefined;
    }
    try {
      const saved =
        current && !dirty
          ? current
          : current
            ? await api.updateConversation(current.id, forSave(draft))
            : await api.createConversation(forSave(draft));
      // A new conversation gets its own address without remounting this editor (no hashchange).
      if (!current) window.history.replaceState(null, '', href('conversations', saved.id));
      remember(saved);
      setDraft(toDraft(saved));
      setDirty(false);
      return saved;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 422 && err.code === 'validation_failed')) throw err;
      setAttempt(attemptOf('save', draft, { errors: saveIssues(err), warnings: [] }));
      return undefined;
    }
  }

  async function act(label: string, fn: () => Promise<void>) {
    setBusy(label);
    setError(undefined);
    try {
      await fn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(undefined);
    }
  }

  const save = () =>
    act('save', async () => {
      if ((await saveDraft('save')) && attempt?.mode === 'save') setAttempt(undefined);
    });
  const commit = (index: number) =>
    act('commit', async () => {
      const saved = await saveDraft(attempt?.mode ?? 'save');
      if (!saved) return;
      const stepId = saved.steps[index]?.id;
      if (!stepId) throw new Error('The step has no id after saving.');
      const after = await api.commitStep(saved.id, stepId);
      remember(after);
      setDraft(toDraft(after));
      setDirty(false);
    });
  const publish = () =>
    act('publish', async () => {
      // The same checks as the server's, first: nothing is sent while they find an error.
      if (!inputIssues(draft).length && known && publishIssues(draft, known).errors.length) return setAttempt(attemptOf('publish', draft));
      const saved = await saveDraft('publish');
      if (!saved) return;
      const savedDraft = toDraft(saved);
      try {
        const answer = await api.publish(saved.id);
        setAttempt(attemptOf('publish', savedDraft, serverOnly(savedDraft, { errors: [], warnings: answer.warnings }), answer.version));
        remember(await api.conversation(saved.id));
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 422 && err.code === 'publish_refused')) throw err;
        const answer = { errors: err.details as Issues['errors'], warnings: (err.body?.warnings as Issues['warnings'] | undefined) ?? [] };
        setAttempt(attemptOf('publish', savedDraft, serverOnly(savedDraft, answer)));
      }
    });
  const toggle = (which: 'pause' | 'resume') =>
    act(which, async () => {
      remember(await api[which](current!.id));
    });

  return (
    <section>
      <p className="crumbs">
        <a href={href('conversations')}>Conductor</a>
      </p>
      <div className="page-head">
        <h1>
          {current ? current.name : 'New conversation'}{' '}
          {current ? <Badge tone={statusTone[current.status] ?? 'muted'}>{current.status}</Badge> : null}
          {current?.version ? <span className="muted"> version {current.version}</span> : null}
        </h1>
        <div className="actions">
          <button type="button" onClick={() => void save()} disabled={Boolean(busy) || !dirty}>
            {dirty ? 'Save draft' : 'Draft saved'}
          </button>
          <button type="button" className="primary" onClick={() => void publish()} disabled={Boolean(busy)}>
            Publish
          </button>
          {current?.status === 'live' || current?.status === 'paused' ? (
            <button type="button" onClick={() => void toggle(current.status === 'live' ? 'pause' : 'resume')} disabled={Boolean(busy)}>
              {current.status === 'live' ? 'Pause' : 'Resume'}
            </button>
          ) : null}
        </div>
      </div>
      <ErrorBanner error={error} />
      {shown ? <IssuesBox issues={shown} /> : null}
      <div className="columns editor">
        <div>
          <SettingsPanel draft={draft} onChange={change} />
          <h2>Steps</h2>
          {draft.steps.length === 0 ? (
            <Empty title="No steps yet">Add an action step that assigns a coupon code, then the message step that shows it.</Empty>
          ) : null}
          <ol className="steps">
            {draft.steps.map((step, i) => (
              <StepCard
                key={step.id ?? `new-${i}`}
                index={i}
                count={draft.steps.length}
                step={step}
                merchants={merchants}
                onChange={(s) => setStep(i, s)}
                onMove={(by) => move(i, by)}
                onRemove={() => change({ ...draft, steps: draft.steps.filter((_, j) => j !== i) })}
                onCommit={() => void commit(i)}
                busy={Boolean(busy)}
                issues={issuesOf(shown, step.id, i)}
                counts={step.id ? current?.stepCounts[step.id] : undefined}
              />
            ))}
          </ol>
          <div className="actions">
            <button type="button" onClick={() => addStep('delay')}>
              Add delay step
            </button>
            <button type="button" onClick={() => addStep('action')}>
              Add action step
            </button>
            <button type="button" onClick={() => addStep('message')}>
              Add message step
            </button>
          </div>
        </div>
        <aside>
          {current ? (
            <TestEvent conversation={current} />
          ) : (
            <p className="muted">Save the conversation to send test events and see its runs.</p>
          )}
          {current ? <Runs conversation={current} /> : null}
        </aside>
      </div>
    </section>
  );
}
