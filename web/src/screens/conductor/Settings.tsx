import { useQuery } from '@tanstack/react-query';
import { changedSinceCommit } from '../../../../src/modules/conductor/model.ts';
import { api } from '../../api.ts';
import { href } from '../../router.ts';
import { Field } from '../../ui.tsx';
import { committedOf, type DraftStep } from './check.ts';

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

export function DelaySettings({
  step,
  n,
  onChange,
}: {
  step: Extract<DraftStep, { type: 'delay' }>;
  n: number | string;
  onChange: (s: DraftStep) => void;
}) {
  return (
    <div className="form inline">
      <DurationInputs
        label={`Step ${n} wait`}
        unitLabel={`Step ${n} unit`}
        value={step.duration}
        onChange={(duration) => onChange({ ...step, duration })}
      />
    </div>
  );
}

/** A duration as an amount and a unit (minutes, hours, days), kept as ISO-8601 (`PT2H`, `P3D`). */
export function DurationInputs(props: { label: string; unitLabel: string; value: string; onChange: (iso: string) => void }) {
  const { amount, unit } = parseDuration(props.value);
  return (
    <>
      <Field label={props.label}>
        {(id, d) => (
          <input
            id={id}
            aria-describedby={d}
            inputMode="numeric"
            value={amount}
            onChange={(e) => props.onChange(toDuration(e.target.value, unit))}
          />
        )}
      </Field>
      <Field label={props.unitLabel}>
        {(id, d) => (
          <select
            id={id}
            aria-describedby={d}
            value={unit}
            onChange={(e) => props.onChange(toDuration(amount, e.target.value as 'M' | 'H' | 'D'))}
          >
            {UNITS.map(([u, label]) => (
              <option key={u} value={u}>
                {label}
              </option>
            ))}
          </select>
        )}
      </Field>
    </>
  );
}

/** A message step: which message, and its commit (the copy runs send), flagged when the message changed since. */
export function MessageSettings(props: {
  step: Extract<DraftStep, { type: 'message' }>;
  n: number | string;
  onChange: (s: DraftStep) => void;
  onCommit: () => void;
  busy: boolean;
}) {
  const { step, n } = props;
  const messages = useQuery({ queryKey: ['messages'], queryFn: api.messages });
  const message = messages.data?.find((m) => m.id === step.messageId);
  const committed = committedOf(step);
  const stale = Boolean(committed && message && changedSinceCommit(committed, message));
  return (
    <div className="form inline">
      <Field label={`Step ${n} message`}>
        {(id, d) => (
          <select
            id={id}
            aria-describedby={d}
            value={step.messageId}
            onChange={(e) => props.onChange({ ...step, messageId: e.target.value, committed: null } as DraftStep)}
          >
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
        <button type="button" className={stale ? 'primary' : undefined} onClick={props.onCommit} disabled={props.busy || !step.messageId}>
          {stale ? 'Re-commit message' : 'Commit message'}
        </button>
        <span className="muted" role="status">
          {committed
            ? `Committed ${committed.committedAt.replace('T', ' ').slice(0, 16)}.`
            : 'Not committed: commit the message to this conversation.'}
        </span>
        {stale ? (
          <span className="badge warn" aria-label={`Step ${n} commit`} title="Runs send the committed copy until you commit again.">
            changed since commit
          </span>
        ) : null}
      </div>
      {messages.data?.length === 0 ? (
        <p className="muted">
          No messages yet: write one in <a href={href('messages', 'new')}>Authoring</a>.
        </p>
      ) : null}
    </div>
  );
}
