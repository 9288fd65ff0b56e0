import { useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { ConversationJson } from '../../../../src/modules/conductor/model.ts';
import { api, ApiError, type Merchant } from '../../api.ts';
import { href } from '../../router.ts';
import { Badge, Empty, ErrorBanner, Loading } from '../../ui.tsx';
import { attemptOf, emptyDraft, serverOnly, shownIssues, toDraft, type Attempt } from './attempt.ts';
import { forSave, inputIssues, publishIssues, remapIds, saveIssues, withRenamedSteps, type Draft, type Issues } from './check.ts';
import type { ConditionScope } from './Condition.tsx';
import type { TreeContext } from './context.ts';
import { FrequencyCapPanel } from './FrequencyCap.tsx';
import { useKnown } from './known.ts';
import { statusTone } from './List.tsx';
import { Runs, TestEvent } from './Runs.tsx';
import { SettingsPanel } from './SettingsPanel.tsx';
import { IssuesBox } from './StepCard.tsx';
import { AddStepButtons, StepList } from './StepList.tsx';
import { numberOf, stepAt, walkDraft, type Path } from './tree.ts';

export function ConversationEditor({ conversationId, merchants }: { conversationId: string | undefined; merchants: Merchant[] }) {
  const loaded = useQuery({
    queryKey: ['conversation', conversationId],
    queryFn: () => api.conversation(conversationId!),
    enabled: Boolean(conversationId),
    // Opened, the editor shows the counts as they are now, and refreshes them while open.
    staleTime: 0,
    refetchInterval: 10_000,
  });
  if (conversationId && loaded.isPending) return <Loading />;
  if (conversationId && !loaded.data) return <ErrorBanner error={loaded.error} />;
  return <Editor key={conversationId ?? 'new'} conversation={loaded.data} merchants={merchants} />;
}

function Editor({ conversation, merchants }: { conversation: ConversationJson | undefined; merchants: Merchant[] }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => (conversation ? toDraft(conversation) : emptyDraft()));
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
  const shown = shownIssues(attempt, draft, known);

  /** Saves the draft when it changed (creating the conversation the first time); answers the saved one, or undefined when it cannot be saved. */
  async function saveDraft(mode: Attempt['mode']): Promise<ConversationJson | undefined> {
    if (inputIssues(draft).length) {
      setAttempt(attemptOf(mode, draft));
      return undefined;
    }
    try {
      let saved =
        current && !dirty
          ? current
          : current
            ? await api.updateConversation(current.id, forSave(draft))
            : await api.createConversation(forSave(draft));
      // Conditions that named a new step (by its `new-…` id) now name the id the server gave it.
      const renamed = withRenamedSteps(toDraft(saved), remapIds(draft, toDraft(saved)));
      if (renamed) saved = await api.updateConversation(saved.id, forSave(renamed));
      // A new conversation gets its own address without remounting this editor (no hashchange).
      if (!current) window.history.replaceState(null, '', href('conversations', saved.id));
      remember(saved);
      setDraft(toDraft(saved));
      setDirty(false);
      return saved;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 422 && err.code === 'validation_failed')) throw err;
      setAttempt(attemptOf('save', draft, { errors: saveIssues(draft, err), warnings: [] }));
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
  const commit = (path: Path) =>
    act('commit', async () => {
      const saved = await saveDraft(attempt?.mode ?? 'save');
      if (!saved) return;
      const stepId = stepAt(toDraft(saved), path)?.id;
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
        setAttempt(
          attemptOf('publish', savedDraft, serverOnly(savedDraft, { errors: [], warnings: answer.warnings }, known), answer.version),
        );
        remember(await api.conversation(saved.id));
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 422 && err.code === 'publish_refused')) throw err;
        const answer = { errors: err.details as Issues['errors'], warnings: (err.body?.warnings as Issues['warnings'] | undefined) ?? [] };
        setAttempt(attemptOf('publish', savedDraft, serverOnly(savedDraft, answer, known)));
      }
    });
  const toggle = (which: 'pause' | 'resume') =>
    act(which, async () => {
      remember(await api[which](current!.id));
    });

  const fields = (known?.groups ?? []).flatMap((g) => g.fields.map((f) => ({ ref: `${g.name}.${f.name}`, type: f.type })));
  const ctx: TreeContext = {
    draft,
    merchants,
    change,
    commit: (path) => void commit(path),
    busy: Boolean(busy),
    issues: shown,
    // The counts as last fetched (the query refreshes them while the editor is open).
    counts: (stepId) => (stepId ? (conversation?.id === current?.id ? conversation : current)?.stepCounts[stepId] : undefined),
    scope: (path): ConditionScope => ({
      fields,
      // The assign-coupon steps a run may have passed before this one: those before it in document order.
      couponSteps: walkDraft(draft.steps)
        .slice(
          0,
          walkDraft(draft.steps).findIndex((w) => w.path === path),
        )
        .filter((w) => w.step.type === 'action' && w.step.action.type === 'assignCoupon' && w.step.id)
        .map((w) => ({ id: w.step.id!, label: `Step ${numberOf(draft, w.path)}: ${w.step.name}` })),
    }),
  };

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
          <SettingsPanel draft={draft} onChange={change} fields={fields} />
          <h2>Steps</h2>
          {draft.steps.length === 0 ? (
            <Empty title="No steps yet">Add an action step that assigns a coupon code, then the message step that shows it.</Empty>
          ) : null}
          <StepList ctx={ctx} list="steps" />
          <AddStepButtons ctx={ctx} />
        </div>
        <aside>
          {current ? (
            <TestEvent conversation={current} />
          ) : (
            <p className="muted">Save the conversation to send test events and see its runs.</p>
          )}
          {current ? <Runs conversation={current} /> : null}
          <FrequencyCapPanel compact />
        </aside>
      </div>
    </section>
  );
}
