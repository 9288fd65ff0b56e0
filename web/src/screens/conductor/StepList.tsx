import { newStep, STEP_TYPES, type StepType, type TreeContext } from './context.ts';
import { StepCard } from './StepCard.tsx';
import { addStep, depthOf, numberOf, stepsAt, type Path } from './tree.ts';

/** Splits and waits nest 5 levels deep at most: deeper lists offer only ordinary steps. */
const MAX_DEPTH = 5;

/** A list of steps (the top level, or one branch) and, in a branch, the control that adds a step to it. */
export function StepList({ ctx, list, laneLabel }: { ctx: TreeContext; list: Path; laneLabel?: string }) {
  const steps = stepsAt(ctx.draft, list);
  return (
    <>
      <ol className="steps">
        {steps.map((step, i) => (
          <StepCard key={step.id ?? `at-${i}`} ctx={ctx} path={`${list}.${i}`} step={step} last={i === steps.length - 1} />
        ))}
      </ol>
      {laneLabel ? <AddToLane ctx={ctx} list={list} label={laneLabel} /> : null}
    </>
  );
}

function AddToLane({ ctx, list, label }: { ctx: TreeContext; list: Path; label: string }) {
  const types = (Object.keys(STEP_TYPES) as StepType[]).filter((t) => depthOf(list) < MAX_DEPTH || (t !== 'split' && t !== 'waitForEvent'));
  const owner = numberOf(ctx.draft, list.replace(/\.(branches\.\d+|otherwise|received|timedOut)\.steps$/, ''));
  return (
    <div className="lane-add">
      <select
        aria-label={`Step ${owner} ${label}: add a step`}
        value=""
        onChange={(e) => {
          if (e.target.value) ctx.change(addStep(ctx.draft, list, newStep(e.target.value as StepType, ctx.merchants)));
        }}
      >
        <option value="">Add a step here…</option>
        {types.map((t) => (
          <option key={t} value={t}>
            {STEP_TYPES[t]} step
          </option>
        ))}
      </select>
    </div>
  );
}

/** The buttons under the top-level list. */
export function AddStepButtons({ ctx }: { ctx: TreeContext }) {
  const labels: Record<StepType, string> = {
    delay: 'Add delay step',
    action: 'Add action step',
    message: 'Add message step',
    split: 'Add split step',
    waitForEvent: 'Add wait-for-event step',
  };
  return (
    <div className="actions">
      {(Object.keys(labels) as StepType[]).map((t) => (
        <button key={t} type="button" onClick={() => ctx.change(addStep(ctx.draft, 'steps', newStep(t, ctx.merchants)))}>
          {labels[t]}
        </button>
      ))}
    </div>
  );
}
