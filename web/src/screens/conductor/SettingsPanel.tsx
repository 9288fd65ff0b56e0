import { Field } from '../../ui.tsx';
import type { Draft } from './check.ts';
import { ConditionEditor, type ConditionScope } from './Condition.tsx';
import { SendWindowSettings } from './SendWindow.tsx';

/**
 * The conversation's own settings: its name, the event that starts a run (and the filter on its
 * properties), those that end one, re-entry, and the hours its messages may go out.
 */
export function SettingsPanel({
  draft,
  onChange: change,
  fields,
}: {
  draft: Draft;
  onChange: (next: Draft) => void;
  fields: ConditionScope['fields'];
}) {
  const where = draft.trigger.where;
  return (
    <div className="panel form">
      <Field label="Conversation name">
        {(id, d) => <input id={id} aria-describedby={d} value={draft.name} onChange={(e) => change({ ...draft, name: e.target.value })} />}
      </Field>
      <div className="columns even">
        <Field label="Trigger event" hint="The event type that starts a run, e.g. cart_abandoned.">
          {(id, d) => (
            <input
              id={id}
              aria-describedby={d}
              value={draft.trigger.event}
              onChange={(e) => change({ ...draft, trigger: { ...draft.trigger, event: e.target.value.trim() } })}
            />
          )}
        </Field>
        <Field label="Exit events" hint="Comma-separated, e.g. order_placed: such an event ends the run.">
          {(id, d) => (
            <input
              id={id}
              aria-describedby={d}
              value={draft.exitEvents.join(', ')}
              onChange={(e) =>
                change({
                  ...draft,
                  exitEvents: e.target.value
                    .split(',')
                    .map((s) => s.trim())
                    .filter(Boolean),
                })
              }
            />
          )}
        </Field>
        <Field label="Re-entry">
          {(id, d) => (
            <select
              id={id}
              aria-describedby={d}
              value={draft.reentry}
              onChange={(e) => change({ ...draft, reentry: e.target.value as Draft['reentry'] })}
            >
              <option value="never">Never</option>
              <option value="afterCompletion">After completion</option>
            </select>
          )}
        </Field>
        <label className="check">
          <input
            type="checkbox"
            checked={draft.exitOnRedemption ?? false}
            onChange={(e) => change({ ...draft, exitOnRedemption: e.target.checked })}
          />{' '}
          End a run when its code is redeemed
        </label>
      </div>
      <label className="check">
        <input
          type="checkbox"
          checked={where !== undefined}
          onChange={(e) => {
            const { where: _where, ...trigger } = draft.trigger;
            change({ ...draft, trigger: e.target.checked ? { ...trigger, where: { event: 'properties.', op: 'gt', value: 0 } } : trigger });
          }}
        />{' '}
        Only events whose properties match start a run
      </label>
      {where ? (
        <ConditionEditor
          label="Trigger filter"
          condition={where}
          scope={{ fields, couponSteps: [], eventsOnly: true }}
          onChange={(c) => change({ ...draft, trigger: { ...draft.trigger, where: c } })}
        />
      ) : null}
      <SendWindowSettings draft={draft} onChange={change} />
    </div>
  );
}
