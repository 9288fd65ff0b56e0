import { useQuery } from '@tanstack/react-query';
import type { AssignCoupon, SetField } from '../../../../src/modules/conductor/model.ts';
import { api, type Merchant } from '../../api.ts';
import { Field } from '../../ui.tsx';
import type { DraftStep } from './check.ts';

/** An action step: hand out a coupon code into a field, or set a field to a value. */
export function ActionSettings({
  step,
  n,
  merchants,
  onChange,
}: {
  step: Extract<DraftStep, { type: 'action' }>;
  n: number | string;
  merchants: Merchant[];
  onChange: (s: DraftStep) => void;
}) {
  const groups = useQuery({ queryKey: ['fieldGroups'], queryFn: api.fieldGroups });
  const a = step.action;
  const merchantId = a.type === 'assignCoupon' ? a.merchantId : '';
  const pools = useQuery({ queryKey: ['pools', merchantId], queryFn: () => api.pools(merchantId), enabled: Boolean(merchantId) });
  const fields = (groups.data ?? []).flatMap((g) => g.fields.map((f) => ({ ...f, label: `${g.name}.${f.name}` })));
  const setAction = (action: AssignCoupon | SetField) => onChange({ ...step, action });
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
                  ? {
                      type: 'assignCoupon',
                      merchantId: merchants[0]?.id ?? '',
                      poolId: '',
                      saveCodeTo: '',
                      saveExpirationTo: null,
                      whenNoCode: 'exit',
                    }
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
              <select
                id={id}
                aria-describedby={d}
                value={a.merchantId}
                onChange={(e) => setAction({ ...a, merchantId: e.target.value, poolId: '' })}
              >
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
                {fields
                  .filter((f) => f.type === 'text')
                  .map((f) => (
                    <option key={f.id} value={f.id}>
                      {f.label}
                    </option>
                  ))}
              </select>
            )}
          </Field>
          <Field label={`Step ${n} save exp. date to`} hint="A date field; optional.">
            {(id, d) => (
              <select
                id={id}
                aria-describedby={d}
                value={a.saveExpirationTo ?? ''}
                onChange={(e) => setAction({ ...a, saveExpirationTo: e.target.value || null })}
              >
                <option value="">(don’t save)</option>
                {fields
                  .filter((f) => f.type === 'date')
                  .map((f) => (
                    <option key={f.id} value={f.id}>
                      {f.label}
                    </option>
                  ))}
              </select>
            )}
          </Field>
          <Field
            label={`Step ${n} when no code is left`}
            hint={
              a.whenNoCode === 'continue'
                ? 'A message that shows the code then needs a fallback, such as {{ … | default: "WELCOME10" }}: publishing warns about one without.'
                : undefined
            }
          >
            {(id, d) => (
              <select
                id={id}
                aria-describedby={d}
                value={a.whenNoCode}
                onChange={(e) => setAction({ ...a, whenNoCode: e.target.value as 'continue' | 'exit' })}
              >
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
            {(id, d) => (
              <input
                id={id}
                aria-describedby={d}
                value={String(a.value ?? '')}
                onChange={(e) => setAction({ ...a, value: e.target.value })}
              />
            )}
          </Field>
        </div>
      )}
    </div>
  );
}
