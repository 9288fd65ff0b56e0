import type { StepCounts } from '../../../../src/modules/conductor/model.ts';
import type { Merchant } from '../../api.ts';
import { Field } from '../../ui.tsx';
import { ActionSettings } from './ActionSettings.tsx';
import { fieldLabel, type DraftStep, type Issues } from './check.ts';
import { DelaySettings, MessageSettings } from './Settings.tsx';

/** The banner over the steps: the outcome of the last save or publish, and the problems of no step. */
export function IssuesBox({ issues }: { issues: Issues & { published?: number | undefined; notSaved?: boolean | undefined } }) {
  const general = { errors: issues.errors.filter((e) => e.stepId === null), warnings: issues.warnings.filter((e) => e.stepId === null) };
  return (
    <div
      className={`banner ${issues.errors.length ? 'error' : issues.warnings.length ? 'warning' : 'success'}`}
      role="status"
      aria-label="Publish result"
    >
      {issues.published !== undefined ? (
        <strong>Published: version {issues.published} is live.</strong>
      ) : issues.errors.length === 0 ? (
        <strong>
          {issues.notSaved ? 'Nothing left to fix: the draft can be saved.' : 'No errors left: the conversation can be published.'}
        </strong>
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

export function StepCard(props: {
  index: number;
  count: number;
  step: DraftStep;
  merchants: Merchant[];
  onChange: (s: DraftStep) => void;
  onMove: (by: -1 | 1) => void;
  onRemove: () => void;
  onCommit: () => void;
  busy: boolean;
  issues: Issues;
  counts: StepCounts | undefined;
}) {
  const { step, index } = props;
  const n = index + 1;
  const kind = { delay: 'Delay step', action: 'Action step', message: 'Message step', split: 'Split', waitForEvent: 'Wait for event' }[
    step.type
  ];
  return (
    <li
      className={`step ${step.type}${props.issues.errors.length ? ' has-error' : props.issues.warnings.length ? ' has-warning' : ''}`}
      aria-label={`Step ${n}: ${step.name}`}
      data-step-type={step.type}
    >
      <div className="step-head">
        <span className="badge info">{kind}</span>
        <Field label={`Step ${n} name`}>
          {(id, d) => (
            <input id={id} aria-describedby={d} value={step.name} onChange={(e) => props.onChange({ ...step, name: e.target.value })} />
          )}
        </Field>
        <div className="row-actions">
          <button type="button" className="small" aria-label={`Move step ${n} up`} disabled={index === 0} onClick={() => props.onMove(-1)}>
            ↑
          </button>
          <button
            type="button"
            className="small"
            aria-label={`Move step ${n} down`}
            disabled={index === props.count - 1}
            onClick={() => props.onMove(1)}
          >
            ↓
          </button>
          <button type="button" className="small ghost" aria-label={`Remove step ${n}`} onClick={props.onRemove}>
            Remove
          </button>
        </div>
      </div>
      {props.counts ? <StepCountsLine step={step} n={n} counts={props.counts} /> : null}
      {step.type === 'delay' ? <DelaySettings step={step} n={n} onChange={props.onChange} /> : null}
      {step.type === 'action' ? <ActionSettings step={step} n={n} merchants={props.merchants} onChange={props.onChange} /> : null}
      {step.type === 'message' ? (
        <MessageSettings step={step} n={n} onChange={props.onChange} onCommit={props.onCommit} busy={props.busy} />
      ) : null}
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

/** What the step's runs did there; a delay step counts the runs waiting in it now. */
function StepCountsLine({ step, n, counts }: { step: DraftStep; n: number; counts: StepCounts }) {
  const parts = [`${counts.entered} entered`, `${counts.completed} completed`];
  if (step.type === 'delay') parts.push(`${counts.waiting ?? 0} waiting`);
  if (step.type === 'action')
    parts.push(`${counts.codesAssigned} codes assigned`, `${counts.defaultCodes} default codes`, `${counts.noCode} without a code`);
  if (step.type === 'message') parts.push(`${counts.messagesSent} sent`);
  // Only an action step hands out codes, so only its codes can be redeemed.
  if (step.type === 'action' && counts.redeemed !== undefined) parts.push(`${counts.redeemed} redeemed`);
  const revenue = (counts.revenue ?? []).map((r) => `${r.amount} ${r.currency}`).join(' + ');
  if (revenue) parts.push(`revenue ${revenue}`);
  if (counts.exits) parts.push(`${counts.exits} exited`);
  return (
    <p className="muted step-counts" aria-label={`Step ${n} counts`}>
      {parts.join(' · ')}
    </p>
  );
}
