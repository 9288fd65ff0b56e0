import { DateTime } from 'luxon';
import { DATE_FORMS, codeProblem, parseDate } from '../uploads/lines.ts';

/**
 * Static pool rows: one shared code per distribution window. Pure rules: validation
 * with errors and warnings per row and field, and which row serves a given instant.
 */

/** A row as sent over JSON: dates are `YYYY-MM-DD`, `MM/DD/YYYY` or ISO date-times with offset. */
export interface StaticRowInput {
  code: string;
  expiresOn?: string | null | undefined;
  daysAfterDistribution?: number | null | undefined;
  beginDistribution: string;
  endDistribution: string;
}

export interface StaticRow {
  code: string;
  /** First instant of the window (a plain date: the start of that day in the account's zone). */
  begin: Date;
  /** Last instant of the window, inclusive (a plain date: the end of that day). */
  end: Date;
  /** Fixed expiration, or null when it is `daysAfterDistribution` after each hand-out. */
  expiresAt: Date | null;
  daysAfterDistribution: number | null;
}

/**
 * A problem of one row. `row` is the 0-based index of the row as sent; `message` speaks the
 * console's words: rows numbered from 1 as its table shows them, field labels, and dates as plain
 * days in the account's time zone.
 */
export interface RowProblem {
  /** 0-based index of the row as sent. */
  row: number;
  field: string;
  message: string;
}

export interface StaticRowsCheck {
  valid: boolean;
  errors: RowProblem[];
  warnings: RowProblem[];
  /** The parsed rows in the order sent; empty unless `valid`. */
  rows: StaticRow[];
}

/** Upper bound for `daysAfterDistribution` (a hundred years), so an expiration is always a date. */
export const MAX_DAYS_AFTER_DISTRIBUTION = 36_500;
/** Windows this close (a 23:59:59 end before a 00:00:00 begin) leave no gap worth a warning. */
const GAP_TOLERANCE_MS = 1_000;
const DAY_MS = 86_400_000;

const given = (v: unknown) => v !== undefined && v !== null && v !== '';

/** The console's labels of the fields. */
export const STATIC_FIELD_LABELS: Record<string, string> = {
  code: 'Code',
  expiresOn: 'Expiration date',
  daysAfterDistribution: 'Days after distribution',
  beginDistribution: 'Begin distribution',
  endDistribution: 'End distribution',
};

/** An instant as the console shows it: the day in the account's zone, with the time when it is not a day's edge. */
function shownIn(timeZone: string) {
  return (d: Date) => {
    const t = DateTime.fromJSDate(d, { zone: timeZone });
    const edge = t.toFormat('HH:mm:ss.SSS');
    return edge === '00:00:00.000' || edge === '23:59:59.999' ? t.toFormat('yyyy-MM-dd') : t.toFormat('yyyy-MM-dd HH:mm');
  };
}
const rowName = (index: number) => `row ${index + 1}`;

/** Checks rows without saving anything; `timeZone` gives plain dates their meaning. */
export function validateStaticRows(rows: readonly StaticRowInput[], timeZone: string): StaticRowsCheck {
  const errors: RowProblem[] = [];
  const warnings: RowProblem[] = [];
  const parsed: (StaticRow | null)[] = [];
  const windows: { index: number; begin: Date; end: Date }[] = [];
  const show = shownIn(timeZone);
  const label = STATIC_FIELD_LABELS;

  rows.forEach((input, row) => {
    const error = (field: string, message: string) => errors.push({ row, field, message });
    const before = errors.length;

    const code = typeof input.code === 'string' ? input.code.trim() : '';
    if (code === '') error('code', 'Code is required.');
    else {
      const problem = codeProblem(code);
      if (problem) error('code', `${problem.replace(/^code/, 'The code')}.`);
    }

    const date = (field: 'beginDistribution' | 'endDistribution' | 'expiresOn', edge: 'start' | 'end'): Date | null => {
      const text: unknown = input[field];
      if (!given(text)) return null;
      const at = typeof text === 'string' ? parseDate(text, timeZone, edge) : null;
      if (!at) error(field, `${label[field]} ${JSON.stringify(text)} is not a date (use ${DATE_FORMS}).`);
      return at;
    };
    const begin = date('beginDistribution', 'start');
    if (!given(input.beginDistribution)) error('beginDistribution', 'Begin distribution is required.');
    const end = date('endDistribution', 'end');
    if (!given(input.endDistribution)) error('endDistribution', 'End distribution is required.');
    if (begin && end) {
      if (begin > end) error('beginDistribution', `Begin distribution (${show(begin)}) is after End distribution (${show(end)}).`);
      else windows.push({ index: row, begin, end });
    }

    let expiresAt: Date | null = null;
    let days: number | null = null;
    if (given(input.expiresOn) && given(input.daysAfterDistribution)) {
      error('daysAfterDistribution', 'Give either an expiration date or a number of days after distribution, not both.');
    } else if (given(input.expiresOn)) {
      expiresAt = date('expiresOn', 'end');
      if (expiresAt && end && expiresAt < end) {
        error(
          'expiresOn',
          `Expiration date (${show(expiresAt)}) is before End distribution (${show(end)}): a code handed out at the end would already be expired.`,
        );
      }
    } else if (given(input.daysAfterDistribution)) {
      const n = input.daysAfterDistribution;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_DAYS_AFTER_DISTRIBUTION) {
        error(
          'daysAfterDistribution',
          `Days after distribution must be a whole number from 1 to ${MAX_DAYS_AFTER_DISTRIBUTION.toLocaleString('en-US')}.`,
        );
      } else days = n;
    } else {
      error('expiresOn', 'An expiration is required: a date, or a number of days after distribution.');
    }

    parsed.push(errors.length === before && begin && end ? { code, begin, end, expiresAt, daysAfterDistribution: days } : null);
  });

  // Windows in order of their start: each must begin after every earlier one has ended.
  windows.sort((a, b) => a.begin.getTime() - b.begin.getTime() || a.index - b.index);
  let latest: (typeof windows)[number] | undefined;
  for (const w of windows) {
    if (latest && w.begin <= latest.end) {
      errors.push({
        row: w.index,
        field: 'beginDistribution',
        message: `${rowName(w.index).replace('r', 'R')} overlaps ${rowName(latest.index)}: ${rowName(latest.index)} runs until ${show(latest.end)}, ${rowName(w.index)} begins ${show(w.begin)}. Distribution windows may not overlap.`,
      });
    } else if (latest && w.begin.getTime() - latest.end.getTime() > GAP_TOLERANCE_MS) {
      warnings.push({
        row: w.index,
        field: 'beginDistribution',
        message: `No row covers the time between ${rowName(latest.index)} (ends ${show(latest.end)}) and ${rowName(w.index)} (begins ${show(w.begin)}): the pool's default code, if any, is handed out then.`,
      });
    }
    if (!latest || w.end > latest.end) latest = w;
  }

  errors.sort((a, b) => a.row - b.row);
  warnings.sort((a, b) => a.row - b.row);
  const valid = errors.length === 0;
  return { valid, errors, warnings, rows: valid ? (parsed as StaticRow[]) : [] };
}

/** The row whose window contains `now` (both ends included), if any. */
export function activeStaticRow(rows: readonly StaticRow[], now: Date): StaticRow | undefined {
  const t = now.getTime();
  return rows.find((r) => r.begin.getTime() <= t && t <= r.end.getTime());
}

/** A code handed out now expires at the row's fixed date, or `daysAfterDistribution` × 24 h from now. */
export function staticExpiration(row: StaticRow, now: Date): Date | null {
  if (row.expiresAt) return new Date(row.expiresAt.getTime());
  if (row.daysAfterDistribution) return new Date(now.getTime() + row.daysAfterDistribution * DAY_MS);
  return null;
}
