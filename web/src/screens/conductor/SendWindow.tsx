import type { SendWindow } from '../../../../src/modules/conductor/model.ts';
import { Field } from '../../ui.tsx';
import type { Draft } from './check.ts';

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7];

/** The hours (in the account's time zone) and days the conversation's messages may go out; a message due outside waits. */
export function SendWindowSettings({ draft, onChange }: { draft: Draft; onChange: (next: Draft) => void }) {
  const w = draft.sendWindow ?? null;
  const set = (next: SendWindow | null) => onChange({ ...draft, sendWindow: next });
  const days = w?.days ?? EVERY_DAY;
  const toggleDay = (d: number, on: boolean) => {
    const next = on ? [...new Set([...days, d])].sort() : days.filter((x) => x !== d);
    const { days: _days, ...rest } = w!;
    // Every day is the same as no list; none at all stays, for the check to say so.
    set(next.length === 7 ? rest : { ...rest, days: next });
  };
  return (
    <div className="send-window">
      <label className="check">
        <input type="checkbox" checked={w !== null} onChange={(e) => set(e.target.checked ? { start: '09:00', end: '20:00' } : null)} />{' '}
        Send messages only within a window (the account’s time zone)
      </label>
      {w ? (
        <div className="form inline">
          <Field label="Send window from">
            {(id, d) => (
              <input id={id} aria-describedby={d} type="time" value={w.start} onChange={(e) => set({ ...w, start: e.target.value })} />
            )}
          </Field>
          <Field label="Send window until">
            {(id, d) => (
              <input id={id} aria-describedby={d} type="time" value={w.end} onChange={(e) => set({ ...w, end: e.target.value })} />
            )}
          </Field>
          <fieldset className="days">
            <legend>On</legend>
            {DAYS.map((name, i) => (
              <label key={name} className="check">
                <input type="checkbox" checked={days.includes(i + 1)} onChange={(e) => toggleDay(i + 1, e.target.checked)} /> {name}
              </label>
            ))}
          </fieldset>
        </div>
      ) : null}
      {w ? (
        <p className="muted">
          A message due outside the window waits until it opens
          {w.end < w.start ? ' (the window runs over midnight)' : ''}.
        </p>
      ) : null}
    </div>
  );
}
