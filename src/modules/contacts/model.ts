/**
 * Contacts and their field values: pure rules, no I/O.
 *
 * Values are stored by field id (contacts.fields, jsonb). As JSON: text → string, number →
 * number, boolean → boolean, date → 'YYYY-MM-DD' (a calendar day: it prints as that day in any
 * zone) or an ISO-8601 instant in UTC (`2026-05-01T21:59:59.999Z`, e.g. a code's expiration).
 * A null clears a value.
 */
import { z } from 'zod';
import { parseDate } from '../uploads/dates.ts';
import type { FieldGroup, FieldType } from '../segmentation/model.ts';

export type ContactStatus = 'subscribed' | 'unsubscribed';
export type StoredValue = string | number | boolean;
/** Values by field id. */
export type StoredFields = Record<string, StoredValue>;
/** Values by group name, then field name (the API's and the templates' view). */
export type NamedFields = Record<string, Record<string, StoredValue>>;

export interface Contact {
  id: string;
  email: string;
  status: ContactStatus;
  fields: StoredFields;
  createdAt: Date;
  updatedAt: Date;
}

export { MAX_EMAIL_LENGTH, emailProblem } from '../../platform/email.ts';
export const MAX_TEXT_LENGTH = 10_000;

export const shown = (value: unknown): string => {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
};

const YMD = /^(\d{4})-(\d{2})-(\d{2})$/;
const MDY = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function calendarDay(y: number, m: number, d: number): string | null {
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > (m === 2 && isLeap(y) ? 29 : DAYS[m - 1]!)) return null;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** Imports repeat a handful of dates: each text is read once (bounded: starts afresh when full). */
const normalizedDates = new Map<string, string | null>();

/** 'YYYY-MM-DD' / 'MM/DD/YYYY' → 'YYYY-MM-DD'; ISO-8601 with an offset → UTC ISO instant; else null. */
export function normalizeDate(text: string): string | null {
  let date = normalizedDates.get(text);
  if (date === undefined) {
    date = readDate(text);
    if (normalizedDates.size >= 4_096) normalizedDates.clear();
    normalizedDates.set(text, date);
  }
  return date;
}

function readDate(text: string): string | null {
  const t = text.trim();
  let m = YMD.exec(t);
  if (m) return calendarDay(Number(m[1]), Number(m[2]), Number(m[3]));
  m = MDY.exec(t);
  if (m) return calendarDay(Number(m[3]), Number(m[1]), Number(m[2]));
  if (!/^\d{4}-\d{2}-\d{2}[Tt ]/.test(t)) return null;
  return parseDate(t, 'UTC')?.toISOString() ?? null;
}

const DATE_FORMS = 'YYYY-MM-DD, MM/DD/YYYY or an ISO-8601 date-time with offset';
const BOOLEANS: Record<string, boolean> = { true: true, false: false, yes: true, no: false, '1': true, '0': false };

export type Parsed = { ok: true; value: StoredValue } | { ok: false; message: string };

function textValue(value: string): Parsed {
  if (value.length > MAX_TEXT_LENGTH) return { ok: false, message: `text longer than ${MAX_TEXT_LENGTH} characters` };
  return { ok: true, value };
}

/** A value sent as JSON for a field of `type`. */
export function valueFromJson(type: FieldType, value: unknown): Parsed {
  switch (type) {
    case 'text':
      if (typeof value === 'string') return textValue(value);
      if (typeof value === 'number' && Number.isFinite(value)) return { ok: true, value: String(value) };
      return { ok: false, message: `${shown(value)} is not text` };
    case 'number':
      if (typeof value === 'number' && Number.isFinite(value)) return { ok: true, value };
      return { ok: false, message: `${shown(value)} is not a number` };
    case 'boolean':
      if (typeof value === 'boolean') return { ok: true, value };
      return { ok: false, message: `${shown(value)} is not a boolean (true or false)` };
    case 'date': {
      const date = typeof value === 'string' ? normalizeDate(value) : null;
      return date === null ? { ok: false, message: `${shown(value)} is not a date (use ${DATE_FORMS})` } : { ok: true, value: date };
    }
    default: {
      const never: never = type;
      throw new Error(`unknown field type ${String(never)}`);
    }
  }
}

/** A value read from a CSV cell (not empty: an empty cell leaves the value as it is). */
export function valueFromText(type: FieldType, text: string): Parsed {
  switch (type) {
    case 'text':
      return textValue(text);
    case 'number': {
      const t = text.trim();
      const n = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(t) ? Number(t) : Number.NaN;
      return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, message: `${shown(text)} is not a number` };
    }
    case 'boolean': {
      const b = BOOLEANS[text.trim().toLowerCase()];
      return b === undefined ? { ok: false, message: `${shown(text)} is not a boolean (true/false, yes/no, 1/0)` } : { ok: true, value: b };
    }
    case 'date':
      return valueFromJson('date', text);
    default: {
      const never: never = type;
      throw new Error(`unknown field type ${String(never)}`);
    }
  }
}

export interface ValueProblem {
  group: string;
  field: string;
  value: unknown;
  message: string;
}

/**
 * `{"<group>": {"<field>": value}}` → values by field id (null: clear it), with a problem for
 * each unknown group or field and each value that does not fit its field's type.
 */
export function resolveFields(
  groups: readonly FieldGroup[],
  input: Record<string, unknown>,
): { values: Record<string, StoredValue | null>; problems: ValueProblem[] } {
  const values: Record<string, StoredValue | null> = {};
  const problems: ValueProblem[] = [];
  const byName = new Map(groups.map((g) => [g.name, g]));
  for (const [groupName, groupValues] of Object.entries(input)) {
    const group = byName.get(groupName);
    if (!group) {
      problems.push({ group: groupName, field: '', value: groupValues, message: `unknown field group "${groupName}"` });
      continue;
    }
    if (typeof groupValues !== 'object' || groupValues === null || Array.isArray(groupValues)) {
      problems.push({ group: groupName, field: '', value: groupValues, message: 'expected an object of field values' });
      continue;
    }
    for (const [fieldName, value] of Object.entries(groupValues)) {
      const field = group.fields.find((f) => f.name === fieldName);
      if (!field) {
        problems.push({ group: groupName, field: fieldName, value, message: `unknown field "${fieldName}" in group "${groupName}"` });
        continue;
      }
      if (value === null) {
        values[field.id] = null;
        continue;
      }
      const parsed = valueFromJson(field.type, value);
      if (parsed.ok) values[field.id] = parsed.value;
      else
        problems.push({
          group: groupName,
          field: fieldName,
          value,
          message: `${groupName}.${fieldName} (${field.type}): ${parsed.message}`,
        });
    }
  }
  return { values, problems };
}

/** Stored values by group and field name; groups without a value are left out unless `allGroups`. */
export function namedFields(groups: readonly FieldGroup[], stored: StoredFields, allGroups = false): NamedFields {
  const out: NamedFields = {};
  for (const group of groups) {
    let values: Record<string, StoredValue> | undefined = allGroups ? {} : undefined;
    for (const field of group.fields) {
      const value = stored[field.id];
      if (value === undefined) continue;
      values ??= {};
      values[field.name] = value;
    }
    if (values) out[group.name] = values;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The API's shapes (routes.ts validates and serializes them; the console reads them: web/src/api.ts)

export const fieldValue = z.union([z.string(), z.number(), z.boolean()]);

export const contactOut = z.object({
  id: z.string(),
  email: z.string(),
  status: z.enum(['subscribed', 'unsubscribed']),
  fields: z.record(z.string(), z.record(z.string(), fieldValue)),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const runOut = z.object({ conversationId: z.string() }).passthrough();

export const contactWithRuns = contactOut.extend({ runs: z.array(runOut) });
export type ContactJson = z.infer<typeof contactOut>;
export type ContactWithRunsJson = z.infer<typeof contactWithRuns>;
export type FieldValueJson = z.infer<typeof fieldValue>;

/** The answer of POST /v1/contacts/import. */
export const contactImportOut = z.object({
  status: z.enum(['imported', 'rejected']),
  lines: z.number(),
  imported: z.number(),
  created: z.number(),
  updated: z.number(),
  rejected: z.number(),
  errors: z.array(z.object({ line: z.number(), reason: z.string() })),
  errorCount: z.number(),
});
export type ContactImportJson = z.infer<typeof contactImportOut>;
