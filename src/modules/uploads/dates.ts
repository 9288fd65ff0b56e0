/** Dates in files: the forms an expiration or a date field may take. Pure (luxon only): contacts/model.ts, which the console imports, reads dates with it. */
import { DateTime } from 'luxon';

/** What a plain date (no time) stands for: the first or the last millisecond of that day. */
export type DayEdge = 'start' | 'end';

const YMD = /^(\d{4})-(\d{2})-(\d{2})$/;
const MDY = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
/** Calendar date, time, and an offset we insist on: a date-time without one is ambiguous. */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$/;

const CACHE_ENTRIES = 4_096;
const CACHE_ZONES = 64;
/** (edge, zone) → text → epoch ms (or null: not a date). Files repeat a handful of dates. */
const dateCaches = new Map<string, Map<string, number | null>>();
const knownZones = new Set<string>();

function assertZone(timeZone: string): void {
  if (knownZones.has(timeZone)) return;
  if (!DateTime.fromMillis(0, { zone: timeZone }).isValid) throw new RangeError(`unknown time zone ${JSON.stringify(timeZone)}`);
  if (knownZones.size >= CACHE_ZONES) knownZones.clear();
  knownZones.add(timeZone);
}

export function cacheFor(timeZone: string, edge: DayEdge): Map<string, number | null> {
  const key = `${edge} ${timeZone}`;
  let cache = dateCaches.get(key);
  if (!cache) {
    assertZone(timeZone);
    if (dateCaches.size >= CACHE_ZONES) dateCaches.clear();
    cache = new Map();
    dateCaches.set(key, cache);
  }
  return cache;
}

/**
 * The instants we accept: years 0001–9999 in UTC. PostgreSQL stores more (4713 BC – 294276 AD),
 * but outside these years an instant no longer prints as a four-digit ISO-8601 year (JavaScript
 * writes `+010000-…`), which PostgreSQL refuses to read back: `9999-12-31` read in a zone west of
 * UTC ends in the year 10000. Out-of-range dates are refused as input, never stored.
 */
export const EARLIEST_DATE_MS = Date.parse('0001-01-01T00:00:00.000Z');
export const LATEST_DATE_MS = Date.parse('9999-12-31T23:59:59.999Z');
export const inDateRange = (ms: number): boolean => ms >= EARLIEST_DATE_MS && ms <= LATEST_DATE_MS;
export const DATE_RANGE = 'years 0001–9999, UTC';
/** What the date readers cache and answer for a well-formed date outside DATE_RANGE. */
const OUT_OF_RANGE = Number.NaN;
const ranged = (ms: number): number => (inDateRange(ms) ? ms : OUT_OF_RANGE);

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function plainDate(year: number, month: number, day: number, timeZone: string, edge: DayEdge): number | null {
  if (month < 1 || month > 12 || day < 1) return null;
  const days = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day > days) return null;
  if (year < 1) return OUT_OF_RANGE;
  const local = DateTime.fromObject({ year, month, day }, { zone: timeZone });
  if (!local.isValid) return null;
  return ranged((edge === 'end' ? local.endOf('day') : local.startOf('day')).toMillis());
}

function parseUncached(text: string, timeZone: string, edge: DayEdge): number | null {
  let m = YMD.exec(text);
  if (m) return plainDate(Number(m[1]), Number(m[2]), Number(m[3]), timeZone, edge);
  m = MDY.exec(text);
  if (m) return plainDate(Number(m[3]), Number(m[1]), Number(m[2]), timeZone, edge);
  if (!ISO_WITH_OFFSET.test(text)) return null;
  const at = DateTime.fromISO(text.replace(' ', 'T'), { setZone: true });
  return at.isValid ? ranged(at.toMillis()) : null;
}

export function cachedParse(cache: Map<string, number | null>, text: string, timeZone: string, edge: DayEdge): number | null {
  let ms = cache.get(text);
  if (ms === undefined) {
    ms = parseUncached(text, timeZone, edge);
    if (cache.size >= CACHE_ENTRIES) cache.clear();
    cache.set(text, ms);
  }
  return ms;
}

/**
 * `YYYY-MM-DD`, `MM/DD/YYYY` (one-digit month and day too) or an ISO-8601 date-time with an
 * offset (`2026-05-01T10:00:00+02:00`, `…Z`). A plain date means the end of that day in
 * `timeZone` (23:59:59.999 local), or its start with `edge = 'start'`. Null when not a date
 * (2026-02-30 included), and null outside DATE_RANGE (see dateOutOfRange). Throws RangeError for an unknown time zone: that is not the text's fault.
 */
export function parseDate(text: string, timeZone: string, edge: DayEdge = 'end'): Date | null {
  const ms = cachedParse(cacheFor(timeZone, edge), text.trim(), timeZone, edge);
  return ms === null || Number.isNaN(ms) ? null : new Date(ms);
}

/** True when `text` is a well-formed date whose instant falls outside DATE_RANGE. */
export function dateOutOfRange(text: string, timeZone: string, edge: DayEdge = 'end'): boolean {
  return Number.isNaN(cachedParse(cacheFor(timeZone, edge), text.trim(), timeZone, edge));
}

export const DATE_FORMS = 'YYYY-MM-DD, MM/DD/YYYY or an ISO-8601 date-time with offset';
