import { useEffect, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  api,
  ApiError,
  type AssignCouponAction,
  type Conversation,
  type ConversationInput,
  type Enrollment,
  type Merchant,
  type PublishIssue,
  type SetFieldAction,
  type Step,
  type StepCounts,
} from '../api.ts';
import { href } from '../router.ts';
import { Badge, Empty, ErrorBanner, Field, Loading } from '../ui.tsx';

const statusTone = { draft: 'muted', live: 'ok', paused: 'warn' } as const;

/** The settings' labels, for problems the server reports by field path. */
const FIELD_LABELS: Record<string, string> = {
  name: 'Name',
  duration: 'Wait for',
  messageId: 'Message',
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
};
const fieldLabel = (field: string) => FIELD_LABELS[field] ?? field.split('.').pop() ?? field;

/** What to do about a setting the server refused when saving, in the marketer's words (never zod's). */
const SAVE_HINTS: Record<string, string> = {
  name: 'Give it a name.',
  duration: 'Enter how long to wait.',
  messageId: 'Choose a message.',
  'action.merchantId': 'Choose a merchant.',
  'action.poolId': 'Choose a pool.',
  'action.saveCodeTo': 'Choose the field that receives the code.',
  'action.field': 'Choose a field.',
  'trigger.event': 'Enter the event that starts a run.',
};

/**
 * A refused save (422 validation_failed, details `{field: "steps.1.messageId"}`) as issues: those of a
 * step keyed `#<index>` (a new step has no id yet), the others with no step.
 */
function saveIssues(err: ApiError): PublishIssue[] {
  return (err.details as { field?: string }[]).map((d) => {
    const m = /^steps\.(\d+)\.?(.*)$/.exec(d.field ?? '');
    const field = m ? m[2] || 'steps' : d.field || 'conversation';
    return { stepId: m ? `#${m[1]}` : null, field, message: SAVE_HINTS[field] ?? 'This value is not accepted.' };
  });
}

export function ConductorScreen() {
  const list = useQuery({ queryKey: ['conversations'], queryFn: api.conversations });
  return (
    <section>
      <div className="page-head">
        <h1>Conductor</h1>
        <a className="button primary" href={href('conversations', 'new')}>
          New conversation
        </a>
      </div>
      <p className="muted">Conversations are automated journeys: a trigger event starts a run, steps wait, hand out coupon codes and send messages.</p>
      <ErrorBanner error={list.error} />
      {list.isPending ? <Loading /> : null}
      {list.data?.length === 0 ? <Empty title="No conversations yet">Click “New conversation”, add an action step that assigns a coupon code, then the message step that shows it.</Empty> : null}
      {list.data?.length ? (
        <table className="table" aria-label="Conversations">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Status</th>
              <th scope="col">Trigger</th>
              <th scope="col" className="num">Version</th>
              <th scope="col" className="num">Steps</th>
              <th scope="col" className="num">Entered</th>
              <th scope="col" className="num">Messages sent</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((c) => (
              <tr key={c.id}>
                <td>
                  <a href={href('conversations', c.id)}>{c.name}</a>
                </td>
                <td>
                  <Badge tone={statusTone[c.status] ?? 'muted'}>{c.status}</Badge>
                </td>
                <td>
                  <code>{c.trigger.event}</code>
                </td>
                <td className="num">{c.version ?? '—'}</td>
                <td className="num">{c.steps.length}</td>
                <td className="num">{c.steps[0]?.id ? (c.stepCounts[c.steps[0].id]?.entered ?? 0) : 0}</td>
                <td className="num">{Object.values(c.stepCounts).reduce((n, k) => n + k.messagesSent, 0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

const DEFAULT_NAMES = { delay: 'Wait', action: 'Update Segment Field with Coupon Code', message: 'Send message' } as const;

const toInput = (c: Conversation | ConversationInput): ConversationInput => ({
  name: c.name,
  trigger: { event: c.trigger.event },
  exitEvents: [...c.exitEvents],
  reentry: c.reentry,
  exitOnRedemption: c.exitOnRedemption ?? false,
  steps: c.steps.map((s) => structuredClone(s)),
});

/** Strip what the server adds to steps (their commit) before sending a draft back. */
const forSave = (input: ConversationInput): ConversationInput => ({
  ...input,
  steps: input.steps.map((s) => {
    if (s.type !== 'message') return s;
    const { committed: _committed, ...rest } = s;
    return rest;
  }),
});

export function ConversationEditor({ conversationId, merchants }: { conversationId: string | undefined; merchants: Merchant[] }) {
  const loaded = useQuery({ queryKey: ['conversation', conversationId], queryFn: () => api.conversation(conversationId!), enabled: Boolean(conversationId) });
  if (conversationId && loaded.isPending) return <Loading />;
  if (conversationId && !loaded.data) return <ErrorBanner error={loaded.error} />;
  return <Editor key={conversationId ?? 'new'} conversation={loaded.data} merchants={merchants} />;
}

function Editor({ conversation, merchants }: { conversation: Conversation | undefined; merchants: Merchant[] }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<ConversationInput>(() =>
    conversation ? toInput(conversation) : { name: '', trigger: { event: 'cart_abandoned' }, exitEvents: ['order_placed'], reentry: 'afterCompletion', steps: [] },
  );
  const [dirty, setDirty] = useState(!conversation);
  const [issues, setIssues] = useState<{ errors: PublishIssue[]; warnings: PublishIssue[]; published?: number; notSaved?: boolean } | undefined>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState<string | undefined>();
  // The saved conversation as this editor last saw it (kept here, so the editor survives its creation).
  const [current, setCurrent] = useState<Conversation | undefined>(conversation);
  const remember = (c: Conversation) => {
    setCurrent(c);
    queryClient.setQueryData(['conversation', c.id], c);
    queryClient.invalidateQueries({ queryKey: ['conversations'] });
  };
  const change = (next: ConversationInput) => {
    setDraft(next);
    setDirty(true);
    setIssues(undefined);
  };
  const setStep = (i: number, step: Step) => change({ ...draft, steps: draft.steps.map((s, j) => (j === i ? step : s)) });
  const move = (i: number, by: -1 | 1) => {
    const steps = [...draft.steps];
    const [step] = steps.splice(i, 1);
    steps.splice(i + by, 0, step!);
    change({ ...draft, steps });
  };
  const addStep = (type: Step['type']) => {
    const step: Step =
      type === 'delay'
        ? { type, name: DEFAULT_NAMES.delay, duration: 'PT1H' }
        : type === 'action'
          ? { type, name: DEFAULT_NAMES.action, action: { type: 'assignCoupon', merchantId: merchants[0]?.id ?? '', poolId: '', saveCodeTo: '', saveExpirationTo: null, whenNoCode: 'exit' } }
          : { type, name: DEFAULT_NAMES.message, messageId: '' };
    change({ ...draft, steps: [...draft.steps, step] });
  };

  /** Saves the draft when it changed (creating the conversation the first time); answers the saved one. */
  async function saveDraft(): Promise<Conversation> {
    const saved = current && !dirty ? current : current ? await api.updateConversation(current.id, forSave(draft)) : await api.createConversation(forSave(draft));
    // A new conversation gets its own address without remounting this editor (no hashchange).
    if (!current) window.history.replaceState(null, '', href('conversations', saved.id));
    remember(saved);
    setDraft(toInput(saved));
    setDirty(false);
    return saved;
  }

  async function act(label: string, fn: () => Promise<void>) {
    setBusy(label);
    setError(undefined);
    try {
      await fn();
    } catch (err) {
      if (err instanceof ApiError && err.status === 422 && label === 'publish') {
        setIssues({ errors: err.details as PublishIssue[], warnings: (err.body?.warnings as PublishIssue[] | undefined) ?? [] });
      } else if (err instanceof ApiError && err.status === 422 && err.code === 'validation_failed') {
        setIssues({ errors: saveIssues(err), warnings: [], notSaved: true });
      } else setError(err);
    } finally {
      setBusy(undefined);
    }
  }

  const commit = (index: number) =>
    act('commit', async () => {
      const saved = await saveDraft();
      const stepId = saved.steps[index]?.id;
      if (!stepId) throw new Error('The step has no id after saving.');
      const after = await api.commitStep(saved.id, stepId);
      remember(after);
      setDraft(toInput(after));
      setDirty(false);
    });
  const publish = () =>
    act('publish', async () => {
      const saved = await saveDraft();
      const answer = await api.publish(saved.id);
      setIssues({ errors: [], warnings: answer.warnings, published: answer.version });
      remember(await api.conversation(saved.id));
    });
  const toggle = (which: 'pause' | 'resume') =>
    act(which, async () => {
      remember(await api[which](current!.id));
    });

  const issuesOf = (stepId: string | undefined, index: number) => {
    const mine = (e: PublishIssue) => e.stepId === `#${index}` || (stepId !== undefined && e.stepId === stepId);
    return { errors: issues?.errors.filter(mine) ?? [], warnings: issues?.warnings.filter(mine) ?? [] };
  };
  const general = { errors: issues?.errors.filter((e) => e.stepId === null) ?? [], warnings: issues?.warnings.filter((e) => e.stepId === null) ?? [] };

  return (
    <section>
      <p className="crumbs">
        <a href={href('conversations')}>Conductor</a>
      </p>
      <div className="page-head">
        <h1>
          {current ? current.name : 'New conversation'} {current ? <Badge tone={statusTone[current.status] ?? 'muted'}>{current.status}</Badge> : null}
          {current?.version ? <span className="muted"> version {current.version}</span> : null}
        </h1>
        <div className="actions">
          <button type="button" onClick={() => void act('save', async () => void (await saveDraft()))} disabled={Boolean(busy) || !dirty}>
            {dirty ? 'Save draft' : 'Draft saved'}
          </button>
          <button type="button" className="primary" onClick={() => void publish()} disabled={Boolean(busy)}>
            Publish
          </button>
          {current?.status === 'live' ? (
            <button type="button" onClick={() => void toggle('pause')} disabled={Boolean(busy)}>
              Pause
            </button>
          ) : null}
          {current?.status === 'paused' ? (
            <button type="button" onClick={() => void toggle('resume')} disabled={Boolean(busy)}>
              Resume
            </button>
          ) : null}
        </div>
      </div>
      <ErrorBanner error={error} />
      {issues ? <IssuesBox issues={issues} general={general} /> : null}
      <div className="columns editor">
        <div>
          <div className="panel form">
            <Field label="Conversation name">
              {(id, d) => <input id={id} aria-describedby={d} value={draft.name} onChange={(e) => change({ ...draft, name: e.target.value })} />}
            </Field>
            <div className="columns even">
              <Field label="Trigger event" hint="The event type that starts a run, e.g. cart_abandoned.">
                {(id, d) => <input id={id} aria-describedby={d} value={draft.trigger.event} onChange={(e) => change({ ...draft, trigger: { event: e.target.value.trim() } })} />}
              </Field>
              <Field label="Exit events" hint="Comma-separated, e.g. order_placed: such an event ends the run.">
                {(id, d) => (
                  <input
                    id={id}
                    aria-describedby={d}
                    value={draft.exitEvents.join(', ')}
                    onChange={(e) => change({ ...draft, exitEvents: e.target.value.split(',').map((s) => s.trim()).filter(Boolean) })}
                  />
                )}
              </Field>
              <Field label="Re-entry">
                {(id, d) => (
                  <select id={id} aria-describedby={d} value={draft.reentry} onChange={(e) => change({ ...draft, reentry: e.target.value as ConversationInput['reentry'] })}>
                    <option value="never">Never</option>
                    <option value="afterCompletion">After completion</option>
                  </select>
                )}
              </Field>
              <label className="check">
                <input type="checkbox" checked={draft.exitOnRedemption ?? false} onChange={(e) => change({ ...draft, exitOnRedemption: e.target.checked })} /> End a run when its code is redeemed
              </label>
            </div>
          </div>
          <h2>Steps</h2>
          {draft.steps.length === 0 ? <Empty title="No steps yet">Add an action step that assigns a coupon code, then the message step that shows it.</Empty> : null}
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
                issues={issuesOf(step.id, i)}
                dirty={dirty}
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
          {current ? <TestEvent conversation={current} /> : <p className="muted">Save the conversation to send test events and see its runs.</p>}
          {current ? <Runs conversation={current} /> : null}
        </aside>
      </div>
    </section>
  );
}

function IssuesBox({ issues, general }: { issues: { errors: PublishIssue[]; warnings: PublishIssue[]; published?: number; notSaved?: boolean }; general: { errors: PublishIssue[]; warnings: PublishIssue[] } }) {
  return (
    <div className={`banner ${issues.errors.length ? 'error' : issues.warnings.length ? 'warning' : 'success'}`} role="status" aria-label="Publish result">
      {issues.published !== undefined ? (
        <strong>Published: version {issues.published} is live.</strong>
      ) : issues.notSaved ? (
        <strong>Not saved: {issues.errors.length} setting(s) to fix (marked on the steps).</strong>
      ) : (
        <strong>Not published: {issues.errors.length} error(s) to fix (marked on the steps).</strong>
      )}
      {issues.warnings.length ? <span> {issues.warnings.length} warning(s).</span> : null}
      {general.errors.length + general.warnings.length ? (
        <ul>
          {general.errors.map((p, i) => (
            <li key={`e${i}`} className="error">
              Error ({fieldLabel(p.field)}): {p.message}
            </li>
          ))}
          {general.warnings.map((p, i) => (
            <li key={`w${i}`} className="warning">
              Warning ({fieldLabel(p.field)}): {p.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function StepCard(props: {
  index: number;
  count: number;
  step: Step;
  merchants: Merchant[];
  onChange: (s: Step) => void;
  onMove: (by: -1 | 1) => void;
  onRemove: () => void;
  onCommit: () => void;
  busy: boolean;
  dirty: boolean;
  issues: { errors: PublishIssue[]; warnings: PublishIssue[] };
  counts: StepCounts | undefined;
}) {
  const { step, index } = props;
  const n = index + 1;
  const kind = { delay: 'Delay step', action: 'Action step', message: 'Message step' }[step.type];
  return (
    <li className={`step ${step.type}${props.issues.errors.length ? ' has-error' : ''}`} aria-label={`Step ${n}: ${step.name}`} data-step-type={step.type}>
      <div className="step-head">
        <span className="badge info">{kind}</span>
        <Field label={`Step ${n} name`}>
          {(id, d) => <input id={id} aria-describedby={d} value={step.name} onChange={(e) => props.onChange({ ...step, name: e.target.value })} />}
        </Field>
        <div className="row-actions">
          <button type="button" className="small" aria-label={`Move step ${n} up`} disabled={index === 0} onClick={() => props.onMove(-1)}>
            ↑
          </button>
          <button type="button" className="small" aria-label={`Move step ${n} down`} disabled={index === props.count - 1} onClick={() => props.onMove(1)}>
            ↓
          </button>
          <button type="button" className="small ghost" aria-label={`Remove step ${n}`} onClick={props.onRemove}>
            Remove
          </button>
        </div>
      </div>
      {props.counts ? (
        <p className="muted step-counts" aria-label={`Step ${n} counts`}>
          {props.counts.entered} entered · {props.counts.completed} completed
          {step.type === 'action' ? ` · ${props.counts.codesAssigned} codes assigned · ${props.counts.defaultCodes} default codes · ${props.counts.noCode} without a code` : ''}
          {step.type === 'message' ? ` · ${props.counts.messagesSent} sent` : ''}
          {props.counts.exits ? ` · ${props.counts.exits} exited` : ''}
        </p>
      ) : null}
      {step.type === 'delay' ? <DelaySettings step={step} n={n} onChange={props.onChange} /> : null}
      {step.type === 'action' ? <ActionSettings step={step} n={n} merchants={props.merchants} onChange={props.onChange} /> : null}
      {step.type === 'message' ? <MessageSettings step={step} n={n} onChange={props.onChange} onCommit={props.onCommit} busy={props.busy} dirty={props.dirty} /> : null}
      {props.issues.errors.length + props.issues.warnings.length ? (
        <ul className="step-issues" aria-label={`Step ${n} problems`}>
          {props.issues.errors.map((p, i) => (
            <li key={`e${i}`} className="error">
              <strong>Error</strong> ({fieldLabel(p.field)}): {p.message}
            </li>
          ))}
          {props.issues.warnings.map((p, i) => (
            <li key={`w${i}`} className="warning">
              <strong>Warning</strong> ({fieldLabel(p.field)}): {p.message}
            </li>
          ))}
        </ul>
      ) : null}
    </li>
  );
}

const UNITS = [
  ['M', 'minutes'],
  ['H', 'hours'],
  ['D', 'days'],
] as const;
function parseDuration(iso: string): { amount: string; unit: 'M' | 'H' | 'D' } {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:\d+S)?)?$/.exec(iso);
  if (m?.[1]) return { amount: m[1], unit: 'D' };
  if (m?.[2]) return { amount: m[2], unit: 'H' };
  if (m?.[3]) return { amount: m[3], unit: 'M' };
  return { amount: '0', unit: 'M' };
}
const toDuration = (amount: string, unit: 'M' | 'H' | 'D') => {
  const n = Math.max(0, Math.floor(Number(amount) || 0));
  return unit === 'D' ? `P${n}D` : n === 0 ? 'PT0S' : `PT${n}${unit}`;
};

function DelaySettings({ step, n, onChange }: { step: Extract<Step, { type: 'delay' }>; n: number; onChange: (s: Step) => void }) {
  const { amount, unit } = parseDuration(step.duration);
  return (
    <div className="form inline">
      <Field label={`Step ${n} wait`}>
        {(id, d) => <input id={id} aria-describedby={d} inputMode="numeric" value={amount} onChange={(e) => onChange({ ...step, duration: toDuration(e.target.value, unit) })} />}
      </Field>
      <Field label={`Step ${n} unit`}>
        {(id, d) => (
          <select id={id} aria-describedby={d} value={unit} onChange={(e) => onChange({ ...step, duration: toDuration(amount, e.target.value as 'M' | 'H' | 'D') })}>
            {UNITS.map(([u, label]) => (
              <option key={u} value={u}>
                {label}
              </option>
            ))}
          </select>
        )}
      </Field>
    </div>
  );
}

function ActionSettings({ step, n, merchants, onChange }: { step: Extract<Step, { type: 'action' }>; n: number; merchants: Merchant[]; onChange: (s: Step) => void }) {
  const groups = useQuery({ queryKey: ['fieldGroups'], queryFn: api.fieldGroups });
  const a = step.action;
  const merchantId = a.type === 'assignCoupon' ? a.merchantId : '';
  const pools = useQuery({ queryKey: ['pools', merchantId], queryFn: () => api.pools(merchantId), enabled: Boolean(merchantId) });
  const fields = (groups.data ?? []).flatMap((g) => g.fields.map((f) => ({ ...f, label: `${g.name}.${f.name}` })));
  const setAction = (action: AssignCouponAction | SetFieldAction) => onChange({ ...step, action });
  return (
    <div className="form">
      <Field label={`Step ${n} action type`}>
        {(id, d) => (
          <select
            id={id}
            aria-describedby={d}
            value={a.type}
            onChange={(e) =>
              setAction(
                e.target.value === 'assignCoupon'
                  ? { type: 'assignCoupon', merchantId: merchants[0]?.id ?? '', poolId: '', saveCodeTo: '', saveExpirationTo: null, whenNoCode: 'exit' }
                  : { type: 'setField', field: '', value: '' },
              )
            }
          >
            <option value="assignCoupon">Update Segment Field with Coupon Code</option>
            <option value="setField">Update Segment Field with a value</option>
          </select>
        )}
      </Field>
      {a.type === 'assignCoupon' ? (
        <div className="columns even">
          <Field label={`Step ${n} merchant`}>
            {(id, d) => (
              <select id={id} aria-describedby={d} value={a.merchantId} onChange={(e) => setAction({ ...a, merchantId: e.target.value, poolId: '' })}>
                <option value="">Choose…</option>
                {merchants.map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={`Step ${n} coupon pool`}>
            {(id, d) => (
              <select id={id} aria-describedby={d} value={a.poolId} onChange={(e) => setAction({ ...a, poolId: e.target.value })}>
                <option value="">Choose…</option>
                {pools.data?.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={`Step ${n} save code to`} hint="A text field.">
            {(id, d) => (
              <select id={id} aria-describedby={d} value={a.saveCodeTo} onChange={(e) => setAction({ ...a, saveCodeTo: e.target.value })}>
                <option value="">Choose…</option>
                {fields.filter((f) => f.type === 'text').map((f) => (
                  <option key={f.id} value={f.id}>
                    {f.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={`Step ${n} save exp. date to`} hint="A date field; optional.">
            {(id, d) => (
              <select id={id} aria-describedby={d} value={a.saveExpirationTo ?? ''} onChange={(e) => setAction({ ...a, saveExpirationTo: e.target.value || null })}>
                <option value="">(don’t save)</option>
                {fields.filter((f) => f.type === 'date').map((f) => (
                  <option key={f.id} value={f.id}>
                    {f.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={`Step ${n} when no code is left`}>
            {(id, d) => (
              <select id={id} aria-describedby={d} value={a.whenNoCode} onChange={(e) => setAction({ ...a, whenNoCode: e.target.value as 'continue' | 'exit' })}>
                <option value="exit">End the run (no mail without a code)</option>
                <option value="continue">Continue: later messages go out with an empty code</option>
              </select>
            )}
          </Field>
        </div>
      ) : (
        <div className="columns even">
          <Field label={`Step ${n} field`}>
            {(id, d) => (
              <select id={id} aria-describedby={d} value={a.field} onChange={(e) => setAction({ ...a, field: e.target.value })}>
                <option value="">Choose…</option>
                {fields.map((f) => (
                  <option key={f.id} value={f.id}>
                    {f.label} ({f.type})
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={`Step ${n} value`}>
            {(id, d) => <input id={id} aria-describedby={d} value={String(a.value ?? '')} onChange={(e) => setAction({ ...a, value: e.target.value })} />}
          </Field>
        </div>
      )}
    </div>
  );
}

function MessageSettings(props: { step: Extract<Step, { type: 'message' }>; n: number; onChange: (s: Step) => void; onCommit: () => void; busy: boolean; dirty: boolean }) {
  const { step, n } = props;
  const messages = useQuery({ queryKey: ['messages'], queryFn: api.messages });
  return (
    <div className="form inline">
      <Field label={`Step ${n} message`}>
        {(id, d) => (
          <select id={id} aria-describedby={d} value={step.messageId} onChange={(e) => props.onChange({ ...step, messageId: e.target.value, committed: null })}>
            <option value="">Choose…</option>
            {messages.data?.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <div className="actions">
        <button type="button" onClick={props.onCommit} disabled={props.busy || !step.messageId}>
          Commit message
        </button>
        <span className="muted" role="status">
          {step.committed ? `Committed ${step.committed.committedAt.replace('T', ' ').slice(0, 16)}.` : 'Not committed: commit the message to this conversation.'}
        </span>
      </div>
      {messages.data?.length === 0 ? (
        <p className="muted">
          No messages yet: write one in <a href={href('messages', 'new')}>Authoring</a>.
        </p>
      ) : null}
    </div>
  );
}

function TestEvent({ conversation }: { conversation: Conversation }) {
  const queryClient = useQueryClient();
  const [type, setType] = useState(conversation.trigger.event);
  const [email, setEmail] = useState('');
  useEffect(() => setType(conversation.trigger.event), [conversation.trigger.event]);
  const send = useMutation({
    mutationFn: () => api.sendEvent({ type: type.trim(), email: email.trim() }),
    onSuccess: () => {
      queryClient.invalidateQueries({ queryKey: ['enrollments', conversation.id] });
      queryClient.invalidateQueries({ queryKey: ['outbox'] });
    },
  });
  return (
    <div className="panel" aria-label="Send test event">
      <h2>Send test event</h2>
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          send.mutate();
        }}
      >
        <Field label="Event type">
          {(id, d) => <input id={id} aria-describedby={d} required value={type} onChange={(e) => setType(e.target.value)} />}
        </Field>
        <Field label="Contact email" hint="Created if new.">
          {(id, d) => <input id={id} aria-describedby={d} type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />}
        </Field>
        <div className="actions">
          <button type="submit" disabled={send.isPending}>
            Send event
          </button>
        </div>
      </form>
      <ErrorBanner error={send.error} />
      {send.data ? (
        <p role="status">
          {send.data.enrolled.includes(conversation.id) ? 'The contact entered this conversation.' : 'The contact did not enter this conversation (not live, or already in a run).'}{' '}
          <a href={href('contacts', send.data.contactId)}>Open the contact</a> · <a href={href('outbox')}>Outbox</a>
        </p>
      ) : null}
    </div>
  );
}

/** Runs of the conversation and, per step, how many runs reached each outcome. */
function Runs({ conversation }: { conversation: Conversation }) {
  const runs = useQuery({ queryKey: ['enrollments', conversation.id], queryFn: () => api.enrollments(conversation.id), refetchInterval: 5000 });
  const perStep = new Map<string, Record<string, number>>();
  for (const e of runs.data ?? ([] as Enrollment[])) {
    for (const s of e.steps) {
      const counts = perStep.get(s.stepId) ?? {};
      counts[s.outcome] = (counts[s.outcome] ?? 0) + 1;
      perStep.set(s.stepId, counts);
    }
  }
  return (
    <div className="panel" aria-label="Runs">
      <h2>Runs</h2>
      <ErrorBanner error={runs.error} />
      {runs.data?.length === 0 ? <p className="muted">No runs yet: publish, then send a test event with the trigger.</p> : null}
      {runs.data?.length ? (
        <>
          <p>
            {runs.data.length} run(s):{' '}
            {Object.entries(
              runs.data.reduce<Record<string, number>>((acc, e) => ({ ...acc, [e.status]: (acc[e.status] ?? 0) + 1 }), {}),
            )
              .map(([k, v]) => `${v} ${k}`)
              .join(', ')}
          </p>
          <table className="table compact" aria-label="Per-step counts">
            <thead>
              <tr>
                <th scope="col">Step</th>
                <th scope="col">Outcomes</th>
              </tr>
            </thead>
            <tbody>
              {conversation.steps.map((s) => (
                <tr key={s.id}>
                  <td>{s.name}</td>
                  <td>
                    {Object.entries(perStep.get(s.id ?? '') ?? {})
                      .map(([k, v]) => `${k}: ${v}`)
                      .join(', ') || '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </div>
  );
}
