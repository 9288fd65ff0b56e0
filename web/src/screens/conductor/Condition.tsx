import {
  CONDITION_OPS,
  COUPON_SOURCES,
  UNARY_OPS,
  valueProblem,
  type Condition,
  type ConditionOp as Op,
  type ConditionValue as Value,
  type CouponIs,
  type EventCondition as EventC,
  type FieldCondition as FieldC,
} from '../../../../src/modules/conductor/model.ts';

import type { FieldType } from '../../../../src/modules/segmentation/model.ts';
/** What a condition may name: the account's fields (`Group.Field`), the earlier assign-coupon steps of the path. */
export interface ConditionScope {
  fields: { ref: string; type: FieldType }[];
  couponSteps: { id: string; label: string }[];
  /** The trigger's filter: event conditions only. */
  eventsOnly?: boolean;
}

type Kind = 'field' | 'event' | 'coupon' | 'all' | 'any' | 'not';
const KIND_LABELS: Record<Kind, string> = {
  field: 'Contact field',
  event: 'Trigger event property',
  coupon: 'Coupon of an earlier step',
  all: 'All of (and)',
  any: 'Any of (or)',
  not: 'Not',
};
export const kindOf = (c: Condition): Kind =>
  'field' in c ? 'field' : 'event' in c ? 'event' : 'coupon' in c ? 'coupon' : 'all' in c ? 'all' : 'any' in c ? 'any' : 'not';

const OP_LABELS: Record<Op, string> = {
  eq: 'is',
  neq: 'is not',
  gt: 'is greater than',
  gte: 'is at least',
  lt: 'is less than',
  lte: 'is at most',
  contains: 'contains',
  isSet: 'is set',
  isNotSet: 'is not set',
};
const DATE_OP_LABELS: Partial<Record<Op, string>> = { gt: 'is after', gte: 'is on or after', lt: 'is before', lte: 'is on or before' };
/** A value of each type, to ask the server's rule (valueProblem) which ops fit the type. */
const SAMPLE: Record<FieldType, Value> = { text: 'x', number: 1, date: '2026-01-01', boolean: true };
/** The ops that fit a value type: those the server's publish check accepts. */
export const OPS_FOR = Object.fromEntries(
  (Object.keys(SAMPLE) as FieldType[]).map((t) => [
    t,
    CONDITION_OPS.filter((op) => valueProblem(op, UNARY_OPS.includes(op) ? undefined : SAMPLE[t], t) === null),
  ]),
) as Record<FieldType, Op[]>;
const COUPON_LABELS: Record<CouponIs, string> = {
  unique: 'gave a unique code',
  static: 'gave a static code',
  default: "gave the pool's default code",
  none: 'gave no code',
  redeemed: 'gave a code that was redeemed',
};
const takesValue = (op: Op) => !UNARY_OPS.includes(op);

/** A new condition of a kind; `all`, `any` and `not` wrap the one there was. */
export function newCondition(kind: Kind, from?: Condition): Condition {
  const leaf = from && !['all', 'any', 'not'].includes(kindOf(from)) ? from : undefined;
  switch (kind) {
    case 'field':
      return { field: '', op: 'eq', value: '' };
    case 'event':
      return { event: 'properties.', op: 'gt', value: 0 };
    case 'coupon':
      return { coupon: '', is: 'unique' };
    case 'all':
      return { all: [leaf ?? newCondition('event')] };
    case 'any':
      return { any: [leaf ?? newCondition('event')] };
    case 'not':
      return { not: leaf ?? newCondition('event') };
  }
}

const valueType = (v: Value | undefined): FieldType => (typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'text');
/** A value of a type from what was typed (an empty number stays empty text, so that the check can say so). */
function typed(type: FieldType, raw: string): Value {
  if (type === 'number') return raw.trim() === '' || Number.isNaN(Number(raw)) ? raw : Number(raw);
  if (type === 'boolean') return raw === 'true';
  return raw;
}

/**
 * A condition as the marketer builds it (SPEC §5): a contact field, a property of the trigger event
 * or the coupon an earlier step gave, with an op and a value typed by the field; or all/any/not of
 * others. `label` prefixes every control's accessible name ("Step 2 branch 1 condition …").
 */
export function ConditionEditor(props: {
  label: string;
  condition: Condition;
  scope: ConditionScope;
  onChange: (c: Condition) => void;
  onRemove?: (() => void) | undefined;
}) {
  const { label, condition: c, scope, onChange } = props;
  const kind = kindOf(c);
  const kinds: Kind[] = scope.eventsOnly ? ['event', 'all', 'any', 'not'] : ['field', 'event', 'coupon', 'all', 'any', 'not'];
  return (
    <div className={`condition ${kind}`} role="group" aria-label={label}>
      <div className="condition-row">
        <select aria-label={`${label} kind`} value={kind} onChange={(e) => onChange(newCondition(e.target.value as Kind, c))}>
          {kinds.map((k) => (
            <option key={k} value={k}>
              {KIND_LABELS[k]}
            </option>
          ))}
        </select>
        {'field' in c ? <FieldCondition label={label} c={c} scope={scope} onChange={onChange} /> : null}
        {'event' in c ? <EventCondition label={label} c={c} onChange={onChange} /> : null}
        {'coupon' in c ? (
          <>
            <select aria-label={`${label} step`} value={c.coupon} onChange={(e) => onChange({ ...c, coupon: e.target.value })}>
              <option value="">Choose a step…</option>
              {scope.couponSteps.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.label}
                </option>
              ))}
              {c.coupon && !scope.couponSteps.some((s) => s.id === c.coupon) ? (
                <option value={c.coupon}>(a step not on this path)</option>
              ) : null}
            </select>
            <select aria-label={`${label} outcome`} value={c.is} onChange={(e) => onChange({ ...c, is: e.target.value as CouponIs })}>
              {COUPON_SOURCES.map((k) => (
                <option key={k} value={k}>
                  {COUPON_LABELS[k]}
                </option>
              ))}
            </select>
          </>
        ) : null}
        {props.onRemove ? (
          <button type="button" className="small ghost" aria-label={`Remove ${label}`} onClick={props.onRemove}>
            Remove
          </button>
        ) : null}
      </div>
      {'all' in c || 'any' in c ? (
        <Several
          label={label}
          list={'all' in c ? c.all : c.any}
          scope={scope}
          onChange={(list) => onChange('all' in c ? { all: list } : { any: list })}
        />
      ) : null}
      {'not' in c ? (
        <ConditionEditor label={`${label} (not)`} condition={c.not} scope={scope} onChange={(inner) => onChange({ not: inner })} />
      ) : null}
    </div>
  );
}

function Several(props: { label: string; list: Condition[]; scope: ConditionScope; onChange: (list: Condition[]) => void }) {
  const { label, list, onChange } = props;
  return (
    <div className="condition-list">
      {list.map((inner, i) => (
        <ConditionEditor
          key={i}
          label={`${label} ${i + 1}`}
          condition={inner}
          scope={props.scope}
          onChange={(next) => onChange(list.map((x, j) => (j === i ? next : x)))}
          onRemove={list.length > 1 ? () => onChange(list.filter((_, j) => j !== i)) : undefined}
        />
      ))}
      <button type="button" className="small" onClick={() => onChange([...list, newCondition(props.scope.eventsOnly ? 'event' : 'field')])}>
        Add a condition to {label}
      </button>
    </div>
  );
}

function FieldCondition({
  label,
  c,
  scope,
  onChange,
}: {
  label: string;
  c: FieldC;
  scope: ConditionScope;
  onChange: (c: Condition) => void;
}) {
  const type = scope.fields.find((f) => f.ref === c.field)?.type;
  const ops = type ? OPS_FOR[type] : [...CONDITION_OPS];
  return (
    <>
      <select
        aria-label={`${label} field`}
        value={c.field}
        onChange={(e) => {
          const next = scope.fields.find((f) => f.ref === e.target.value)?.type ?? 'text';
          const op = OPS_FOR[next].includes(c.op) ? c.op : 'eq';
          onChange(withOp({ field: e.target.value, op, value: c.value ?? null }, op, next));
        }}
      >
        <option value="">Choose a field…</option>
        {scope.fields.map((f) => (
          <option key={f.ref} value={f.ref}>
            {f.ref} ({f.type})
          </option>
        ))}
        {c.field && !type ? <option value={c.field}>{c.field} (unknown field)</option> : null}
      </select>
      <OpSelect label={label} op={c.op} ops={ops} type={type} onChange={(op) => onChange(withOp(c, op, type ?? 'text'))} />
      {takesValue(c.op) ? (
        <ValueInput label={label} type={type ?? 'text'} value={c.value} onChange={(value) => onChange({ ...c, value })} />
      ) : null}
    </>
  );
}

/** The condition with `op`, its value kept when it still fits (removed for is set / is not set). */
function withOp<C extends FieldC | EventC>(c: C, op: Op, type: FieldType): C {
  const { value, ...rest } = c;
  if (!takesValue(op)) return { ...rest, op } as C;
  const fits = value !== undefined && value !== null && valueType(value) === (type === 'date' ? 'text' : type);
  return { ...rest, op, value: fits ? value : type === 'number' ? 0 : type === 'boolean' ? true : '' } as C;
}

function EventCondition({ label, c, onChange }: { label: string; c: EventC; onChange: (c: Condition) => void }) {
  const type = valueType(c.value);
  const property = c.event.replace(/^properties\./, '');
  return (
    <>
      <input
        aria-label={`${label} property`}
        placeholder="cartValue"
        value={property}
        onChange={(e) => onChange({ ...c, event: `properties.${e.target.value.trim()}` })}
      />
      <OpSelect label={label} op={c.op} ops={OPS_FOR[type]} type={type} onChange={(op) => onChange(withOp(c, op, type))} />
      {takesValue(c.op) ? (
        <>
          <select
            aria-label={`${label} value type`}
            value={type}
            onChange={(e) => onChange(withOp({ ...c, value: null }, c.op, e.target.value as FieldType))}
          >
            <option value="number">number</option>
            <option value="text">text</option>
            <option value="boolean">yes/no</option>
          </select>
          <ValueInput label={label} type={type} value={c.value} onChange={(value) => onChange({ ...c, value })} />
        </>
      ) : null}
    </>
  );
}

function OpSelect(props: { label: string; op: Op; ops: Op[]; type: FieldType | undefined; onChange: (op: Op) => void }) {
  const options = props.ops.includes(props.op) ? props.ops : [props.op, ...props.ops];
  return (
    <select aria-label={`${props.label} op`} value={props.op} onChange={(e) => props.onChange(e.target.value as Op)}>
      {options.map((op) => (
        <option key={op} value={op}>
          {(props.type === 'date' ? DATE_OP_LABELS[op] : undefined) ?? OP_LABELS[op]}
        </option>
      ))}
    </select>
  );
}

function ValueInput(props: { label: string; type: FieldType; value: Value | undefined; onChange: (v: Value) => void }) {
  const name = `${props.label} value`;
  if (props.type === 'boolean')
    return (
      <select aria-label={name} value={String(props.value === true)} onChange={(e) => props.onChange(e.target.value === 'true')}>
        <option value="true">yes</option>
        <option value="false">no</option>
      </select>
    );
  return (
    <input
      aria-label={name}
      type={props.type === 'date' ? 'date' : props.type === 'number' ? 'number' : 'text'}
      value={props.value === null || props.value === undefined ? '' : String(props.value)}
      onChange={(e) => props.onChange(typed(props.type, e.target.value))}
    />
  );
}
