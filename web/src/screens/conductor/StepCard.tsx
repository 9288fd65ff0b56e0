import type { StepCounts } from '../../../../src/modules/conductor/model.ts';
import { Field } from '../../ui.tsx';
import { ActionSettings } from './ActionSettings.tsx';
import { Branches } from './Branches.tsx';
import { fieldLabel, hasIssuesInside, issuesOf, type DraftStep, type Issues } from './check.ts';
import { DelaySettings, MessageSettings } from './Settings.tsx';
import { STEP_TYPES, type TreeContext } from './context.ts';
import { listsOf, moveStep, moveStepTo, numberOf, placeOf, removeStep, replaceStep, type Path } from './tree.ts';

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

/** One step of the tree: its name, settings, counts and problems; a split or a wait holds its branches below. */
export function StepCard({ ctx, path, step, last }: { ctx: TreeContext; path: Path; step: DraftStep; last: boolean }) {
  const n = numberOf(ctx.draft, path);
  const { index } = placeOf(path);
  const issues = issuesOf(ctx.issues, step.id);
  const inside = hasIssuesInside(ctx.issues, step);
  const counts = ctx.counts(step.id);
  const onChange = (s: DraftStep) => ctx.change(replaceStep(ctx.draft, path, s));
  const targets = listsOf(ctx.draft).filter((l) => l.path !== placeOf(path).list && !l.path.startsWith(`${path}.`));
  return (
    <li
      className={`step ${step.type}${issues.errors.length ? ' has-error' : issues.warnings.length || inside ? ' has-warning' : ''}`}
      aria-label={`Step ${n}: ${step.name}`}
      data-step-type={step.type}
      data-path={path}
    >
      <div className="step-head">
        <span className="badge info">{STEP_TYPES[step.type]} step</span>
        <Field label={`Step ${n} name`}>
          {(id, d) => (
            <input id={id} aria-describedby={d} value={step.name} onChange={(e) => onChange({ ...step, name: e.target.value })} />
          )}
        </Field>
        <div className="row-actions">
          <button
            type="button"
            className="small"
            aria-label={`Move step ${n} up`}
            disabled={index === 0}
            onClick={() => ctx.change(moveStep(ctx.draft, path, -1))}
          >
            ↑
          </button>
          <button
            type="button"
            className="small"
            aria-label={`Move step ${n} down`}
            disabled={last}
            onClick={() => ctx.change(moveStep(ctx.draft, path, 1))}
          >
            ↓
          </button>
          {targets.length ? (
            <select
              className="small"
              aria-label={`Move step ${n} to`}
              value=""
              onChange={(e) => e.target.value && ctx.change(moveStepTo(ctx.draft, path, e.target.value))}
            >
              <option value="">Move to…</option>
              {targets.map((t) => (
                <option key={t.path} value={t.path}>
                  {t.label}
                </option>
              ))}
            </select>
          ) : null}
          <button
            type="button"
            className="small ghost"
            aria-label={`Remove step ${n}`}
            onClick={() => ctx.change(removeStep(ctx.draft, path))}
          >
            Remove
          </button>
        </div>
      </div>
      {counts ? <StepCountsLine step={step} n={n} counts={counts} /> : null}
      {step.type === 'delay' ? <DelaySettings step={step} n={n} onChange={onChange} /> : null}
      {step.type === 'action' ? <ActionSettings step={step} n={n} merchants={ctx.merchants} onChange={onChange} /> : null}
      {step.type === 'message' ? (
        <MessageSettings step={step} n={n} onChange={onChange} onCommit={() => ctx.commit(path)} busy={ctx.busy} />
      ) : null}
      {issues.errors.length + issues.warnings.length ? (
        <ul className="step-issues" aria-label={`Step ${n} problems`}>
          {issues.errors.map((p, i) => (
            <li key={`e${i}`} className="error">
              <strong>Error</strong> ({fieldLabel(p.field)}): {p.message}
            </li>
          ))}
          {issues.warnings.map((p, i) => (
            <li key={`w${i}`} className="warning">
              <strong>Warning</strong> ({fieldLabel(p.field)}): {p.message}
            </li>
          ))}
        </ul>
      ) : null}
      {step.type === 'split' || step.type === 'waitForEvent' ? <Branches ctx={ctx} path={path} step={step} n={n} counts={counts} /> : null}
    </li>
  );
}

/** What the step's runs did there; a delay step counts the runs waiting in it now. */
function StepCountsLine({ step, n, counts }: { step: DraftStep; n: string; counts: StepCounts }) {
  const parts = [`${counts.entered} entered`, `${counts.completed} completed`];
  if (step.type === 'delay' || step.type === 'waitForEvent') parts.push(`${counts.waiting ?? 0} waiting`);
  if (step.type === 'action')
    parts.push(`${counts.codesAssigned} codes assigned`, `${counts.defaultCodes} default codes`, `${counts.noCode} without a code`);
  if (step.type === 'message') {
    parts.push(`${counts.messagesSent} sent`);
    if (counts.capped) parts.push(`${counts.capped} capped`);
    // Runs held by the send window until it opens.
    if (counts.waiting) parts.push(`${counts.waiting} waiting for the send window`);
  }
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
