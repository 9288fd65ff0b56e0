/**
 * Conditions (a split's branches, a trigger's filter), send windows and frequency caps (docs/ARCHITECTURE.md,
 * "Branches and waits"): their shapes and their pure evaluation, shared by the engine and the console.
 */
import { DateTime } from 'luxon';
import { z } from 'zod';

export const CONDITION_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'contains', 'isSet', 'isNotSet'] as const;
export type ConditionOp = (typeof CONDITION_OPS)[number];
/** Ops that take no value. */
export const UNARY_OPS: readonly ConditionOp[] = ['isSet', 'isNotSet'];
export const COUPON_SOURCES = ['unique', 'static', 'default', 'none', 'redeemed'] as const;
export type CouponIs = (typeof COUPON_SOURCES)[number];

export type ConditionValue = string | number | boolean | null;
/** `{field: "<Group>.<Field>", op, value}` over the contact's field. */
export type FieldCondition = { field: string; op: ConditionOp; value?: ConditionValue | undefined };
/** `{event: "properties.<name>", op, value}` over the trigger event. */
export type EventCondition = { event: string; op: ConditionOp; value?: ConditionValue | undefined };
/** `{coupon: "<stepId>", is}` over what an earlier assignCoupon step gave. */
export type CouponCondition = { coupon: string; is: CouponIs };
export type Condition =
  FieldCondition | EventCondition | CouponCondition | { all: Condition[] } | { any: Condition[] } | { not: Condition };

const value = z.union([z.string().max(10_000), z.number(), z.boolean(), z.null()]);
const MAX_PARTS = 20;
export const condition: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ field: z.string().min(3).max(300), op: z.enum(CONDITION_OPS), value: value.optional() }),
    z.strictObject({ event: z.string().min(1).max(300), op: z.enum(CONDITION_OPS), value: value.optional() }),
    z.strictObject({ coupon: z.string().min(1).max(100), is: z.enum(COUPON_SOURCES) }),
    z.strictObject({ all: z.array(condition).min(1).max(MAX_PARTS) }),
    z.strictObject({ any: z.array(condition).min(1).max(MAX_PARTS) }),
    z.strictObject({ not: condition }),
  ]),
);

export const isFieldCondition = (c: Condition): c is FieldCondition => 'field' in c;
export const isEventCondition = (c: Condition): c is EventCondition => 'event' in c;
export const isCouponCondition = (c: Condition): c is CouponCondition => 'coupon' in c;

/** The leaves of a condition (field, event and coupon conditions), in order. */
export function leavesOf(c: Condition): (FieldCondition | EventCondition | CouponCondition)[] {
  if ('all' in c) return c.all.flatMap(leavesOf);
  if ('any' in c) return c.any.flatMap(leavesOf);
  if ('not' in c) return leavesOf(c.not);
  return [c];
}

/** `"ShopperInfo.Cart value"` → group and field names (group names hold no dot), or null. */
export function splitFieldName(ref: string): { group: string; name: string } | null {
  const at = ref.indexOf('.');
  return at > 0 && at < ref.length - 1 ? { group: ref.slice(0, at), name: ref.slice(at + 1) } : null;
}

/** `"properties.cart_value"` → `cart_value`, or null. */
export const eventProperty = (ref: string): string | null => (/^properties\.(.+)$/.exec(ref)?.[1] ?? null) || null;

/** What a condition is evaluated against, for one run. */
export interface ConditionFacts {
  /** The contact's value of the field `"<Group>.<Field>"` (undefined or null: not set). */
  field(ref: string): unknown;
  /** The trigger event's property (undefined: absent). */
  property(name: string): unknown;
  /** What the assignCoupon step gave: unique, static, default code or none; and whether that code is redeemed. */
  coupon(stepId: string): { source: 'unique' | 'static' | 'default' | 'none'; redeemed: boolean };
}

const isSet = (v: unknown) => v !== undefined && v !== null && v !== '';
const asNumber = (v: unknown): number | null => {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
};
const asTime = (v: unknown): number | null => {
  if (v instanceof Date) return v.getTime();
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(v)) return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
};

/** Compares as numbers when both are numbers, as instants when both are dates, else as text. */
function compare(actual: unknown, expected: unknown): number | null {
  const [a, b] = [asNumber(actual), asNumber(expected)];
  if (a !== null && b !== null) return a - b;
  const [ta, tb] = [asTime(actual), asTime(expected)];
  if (ta !== null && tb !== null) return ta - tb;
  if (typeof actual === 'string' && typeof expected === 'string') return actual < expected ? -1 : actual > expected ? 1 : 0;
  return null;
}

/** One op over a value: an unset value satisfies only `neq` and `isNotSet`. */
export function holds(op: ConditionOp, actual: unknown, expected: unknown): boolean {
  if (op === 'isSet') return isSet(actual);
  if (op === 'isNotSet') return !isSet(actual);
  if (!isSet(actual)) return op === 'neq' && isSet(expected);
  if (op === 'contains') {
    if (Array.isArray(actual)) return actual.some((x) => compare(x, expected) === 0);
    return typeof expected === 'string' && String(actual).toLowerCase().includes(expected.toLowerCase());
  }
  const c = typeof actual === 'boolean' || typeof expected === 'boolean' ? (actual === expected ? 0 : null) : compare(actual, expected);
  if (op === 'eq') return c === 0;
  if (op === 'neq') return c !== 0;
  if (c === null) return false;
  return op === 'gt' ? c > 0 : op === 'gte' ? c >= 0 : op === 'lt' ? c < 0 : c <= 0;
}

/** Whether the condition holds for these facts. */
export function evaluate(c: Condition, facts: ConditionFacts): boolean {
  if ('all' in c) return c.all.every((x) => evaluate(x, facts));
  if ('any' in c) return c.any.some((x) => evaluate(x, facts));
  if ('not' in c) return !evaluate(c.not, facts);
  if ('coupon' in c) {
    const got = facts.coupon(c.coupon);
    return c.is === 'redeemed' ? got.redeemed : got.source === c.is;
  }
  if ('field' in c) return holds(c.op, facts.field(c.field), c.value);
  const property = eventProperty(c.event);
  return property !== null && holds(c.op, facts.property(property), c.value);
}

// ---------------------------------------------------------------------------------------------
// Send windows and frequency caps

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day such as 09:00');
/** `{start: "09:00", end: "20:00", days?: [1..7]}` (ISO weekdays, 1 = Monday); end before start: over midnight. */
export const sendWindow = z
  .object({
    start: clock,
    end: clock,
    days: z.array(z.number().int().min(1).max(7)).min(1).max(7).optional(),
  })
  .refine((w) => w.start !== w.end, { message: 'the window must not start when it ends', path: ['end'] });
export type SendWindow = z.infer<typeof sendWindow>;

/** An account's cap: at most `messages` marketing mails per contact in any `perDays` days. */
export const frequencyCap = z.object({
  messages: z.number().int().min(1).max(1000),
  perDays: z.number().int().min(1).max(365),
});
export type FrequencyCap = z.infer<typeof frequencyCap>;

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

/**
 * When the window is next open at or after `now` in `zone`: `now` itself when it is open, else the
 * next start (a local time that does not exist on a DST night is taken at the first instant after).
 */
export function nextWindowOpening(window: SendWindow, now: Date, zone: string): Date {
  const local = DateTime.fromJSDate(now, { zone });
  const [start, end] = [minutesOf(window.start), minutesOf(window.end)];
  const days = new Set(window.days ?? [1, 2, 3, 4, 5, 6, 7]);
  const minute = local.hour * 60 + local.minute;
  if (start < end) {
    if (days.has(local.weekday) && minute >= start && minute < end) return now;
  } else {
    // Over midnight: open from `start` on an allowed day until `end` the next morning.
    if (days.has(local.weekday) && minute >= start) return now;
    if (minute < end && days.has(local.minus({ days: 1 }).weekday)) return now;
  }
  for (let d = 0; d <= 7; d++) {
    const day = local.startOf('day').plus({ days: d });
    if (!days.has(day.weekday)) continue;
    const opens = DateTime.fromObject(
      { year: day.year, month: day.month, day: day.day, hour: Math.floor(start / 60), minute: start % 60 },
      { zone },
    );
    if (opens.toMillis() > now.getTime()) return opens.toJSDate();
  }
  return now;
}
