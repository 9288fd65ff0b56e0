import type { StepCounts } from '../../../../src/modules/conductor/model.ts';
import { Field } from '../../ui.tsx';
import type { DraftStep } from './check.ts';
import { ConditionEditor, newCondition } from './Condition.tsx';
import type { TreeContext } from './context.ts';
import { DurationInputs } from './Settings.tsx';
import { StepList } from './StepList.tsx';
import { replaceStep, type Path } from './tree.ts';

type Split = Extract<DraftStep, { type: 'split' }>;
type Wait = Extract<DraftStep, { type: 'waitForEvent' }>;

/** How many runs took a branch (`branches.0`, `otherwise`, `received`, `timedOut`). */
const takenOf = (counts: StepCounts | undefined, key: string): number | undefined => (counts ? (counts.branches?.[key] ?? 0) : undefined);

function Taken({ n, label, value }: { n: string; label: string; value: number | undefined }) {
  if (value === undefined) return null;
  return (
    <span className="badge muted taken" aria-label={`Step ${n} ${label} taken`}>
      {value} taken
    </span>
  );
}

/**
 * The branches of a split (each with its name, its condition and its steps, then "otherwise") or of
 * a wait (the event it waits for, how long, then "received" and "timed out"), nested under the step.
 */
export function Branches(props: { ctx: TreeContext; path: Path; step: Split | Wait; n: string; counts: StepCounts | undefined }) {
  const { ctx, path, step, n } = props;
  const set = (s: DraftStep) => ctx.change(replaceStep(ctx.draft, path, s));
  if (step.type === 'waitForEvent')
    return (
      <>
        <div className="form inline">
          <Field label={`Step ${n} event`} hint="The event type that ends the wait, e.g. order_placed.">
            {(id, d) => (
              <input id={id} aria-describedby={d} value={step.event} onChange={(e) => set({ ...step, event: e.target.value.trim() })} />
            )}
          </Field>
          <DurationInputs
            label={`Step ${n} wait up to`}
            unitLabel={`Step ${n} wait unit`}
            value={step.within}
            onChange={(within) => set({ ...step, within })}
          />
        </div>
        <div className="lanes">
          <section className="lane received" aria-label={`Step ${n} received`}>
            <div className="lane-head">
              <span className="lane-name">When {step.event || 'the event'} arrives</span>
              <Taken n={n} label="received" value={takenOf(props.counts, 'received')} />
            </div>
            <StepList ctx={ctx} list={`${path}.received.steps`} laneLabel="received" />
          </section>
          <section className="lane timedOut" aria-label={`Step ${n} timed out`}>
            <div className="lane-head">
              <span className="lane-name">When the time runs out</span>
              <Taken n={n} label="timed out" value={takenOf(props.counts, 'timedOut')} />
            </div>
            <StepList ctx={ctx} list={`${path}.timedOut.steps`} laneLabel="timed out" />
          </section>
        </div>
      </>
    );

  const branches = step.branches;
  const setBranches = (next: Split['branches']) => set({ ...step, branches: next });
  const moveBranch = (i: number, by: -1 | 1) => {
    const next = [...branches];
    const [b] = next.splice(i, 1);
    next.splice(i + by, 0, b!);
    setBranches(next);
  };
  const scope = ctx.scope(path);
  return (
    <div className="lanes">
      <p className="muted">The first branch whose condition holds takes the run; the others go to “otherwise”.</p>
      {branches.map((b, i) => {
        const label = `Step ${n} branch ${i + 1}`;
        return (
          <section key={i} className="lane branch" aria-label={label}>
            <div className="lane-head">
              <span className="lane-name">{i === 0 ? 'If' : 'Else if'}</span>
              <input
                className="lane-name"
                aria-label={`${label} name`}
                value={b.name}
                onChange={(e) => setBranches(branches.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))}
              />
              <Taken n={n} label={`branch ${i + 1}`} value={takenOf(props.counts, `branches.${i}`)} />
              <span className="row-actions">
                <button
                  type="button"
                  className="small"
                  aria-label={`Move ${label} up`}
                  disabled={i === 0}
                  onClick={() => moveBranch(i, -1)}
                >
                  ↑
                </button>
                <button
                  type="button"
                  className="small"
                  aria-label={`Move ${label} down`}
                  disabled={i === branches.length - 1}
                  onClick={() => moveBranch(i, 1)}
                >
                  ↓
                </button>
                <button
                  type="button"
                  className="small ghost"
                  aria-label={`Remove ${label}`}
                  disabled={branches.length === 1}
                  onClick={() => setBranches(branches.filter((_, j) => j !== i))}
                >
                  Remove branch
                </button>
              </span>
            </div>
            <ConditionEditor
              label={`${label} condition`}
              condition={b.condition}
              scope={scope}
              onChange={(condition) => setBranches(branches.map((x, j) => (j === i ? { ...x, condition } : x)))}
            />
            <StepList ctx={ctx} list={`${path}.branches.${i}.steps`} laneLabel={`branch ${i + 1}`} />
          </section>
        );
      })}
      <div>
        <button
          type="button"
          className="small"
          onClick={() => setBranches([...branches, { name: `Branch ${branches.length + 1}`, condition: newCondition('field'), steps: [] }])}
        >
          Add a branch to step {n}
        </button>
      </div>
      <section className="lane otherwise" aria-label={`Step ${n} otherwise`}>
        <div className="lane-head">
          <span className="lane-name">Otherwise</span>
          <Taken n={n} label="otherwise" value={takenOf(props.counts, 'otherwise')} />
        </div>
        <StepList ctx={ctx} list={`${path}.otherwise.steps`} laneLabel="otherwise" />
      </section>
    </div>
  );
}
