import { describe, expect, it } from 'vitest';
import { codeProblem, parseDate } from './lines.ts';

describe('parseDate', () => {
  const ny = 'America/New_York';
  const iso = (d: Date | null) => d?.toISOString() ?? null;

  it('reads a plain date as the end of that day in the time zone', () => {
    expect(iso(parseDate('2026-07-04', ny))).toBe('2026-07-05T03:59:59.999Z');
    expect(iso(parseDate('07/04/2026', ny))).toBe('2026-07-05T03:59:59.999Z');
    expect(iso(parseDate('7/4/2026', ny))).toBe('2026-07-05T03:59:59.999Z');
    expect(iso(parseDate('2026-07-04', 'UTC'))).toBe('2026-07-04T23:59:59.999Z');
    expect(iso(parseDate('  2026-07-04 ', 'UTC'))).toBe('2026-07-04T23:59:59.999Z');
  });

  it('follows daylight saving time: the offset at the end of the day counts', () => {
    // 2026-03-08: clocks go forward in New York (EST → EDT); 2026-11-01: back (EDT → EST).
    expect(iso(parseDate('2026-03-07', ny))).toBe('2026-03-08T04:59:59.999Z');
    expect(iso(parseDate('2026-03-08', ny))).toBe('2026-03-09T03:59:59.999Z');
    expect(iso(parseDate('2026-03-08', ny, 'start'))).toBe('2026-03-08T05:00:00.000Z');
    expect(iso(parseDate('2026-11-01', ny, 'start'))).toBe('2026-11-01T04:00:00.000Z');
    expect(iso(parseDate('11/01/2026', ny))).toBe('2026-11-02T04:59:59.999Z');
  });

  it('starts a day whose midnight does not exist at its first instant', () => {
    // Santiago skips 00:00–01:00 on 2026-09-06.
    expect(iso(parseDate('2026-09-06', 'America/Santiago', 'start'))).toBe('2026-09-06T04:00:00.000Z');
  });

  it('reads ISO-8601 date-times with an offset as that instant, whatever the zone', () => {
    expect(iso(parseDate('2026-05-01T10:00:00+02:00', ny))).toBe('2026-05-01T08:00:00.000Z');
    expect(iso(parseDate('2026-05-01T10:00:00Z', ny))).toBe('2026-05-01T10:00:00.000Z');
    expect(iso(parseDate('2026-05-01T10:00:00.250-0500', 'UTC'))).toBe('2026-05-01T15:00:00.250Z');
    expect(iso(parseDate('2026-05-01 10:00Z', 'UTC'))).toBe('2026-05-01T10:00:00.000Z');
    expect(iso(parseDate('2026-05-01T10:00:00+02:00', ny, 'start'))).toBe('2026-05-01T08:00:00.000Z');
  });

  it.each([
    '2026-02-30',
    '2026-13-01',
    '2026-00-10',
    '02/29/2026',
    '13/01/2026',
    '0000-01-01',
    '2026-5-1',
    '2026-05-01T10:00:00', // no offset: ambiguous
    '2026-02-30T10:00:00Z',
    '2026-05-01T25:00:00Z',
    'tomorrow',
    '',
    '2026-05-01x',
  ])('refuses %j', (text) => {
    expect(parseDate(text, ny)).toBeNull();
  });

  it('knows leap years', () => {
    expect(iso(parseDate('02/29/2028', 'UTC'))).toBe('2028-02-29T23:59:59.999Z');
    expect(parseDate('2100-02-29', 'UTC')).toBeNull();
    expect(iso(parseDate('2000-02-29', 'UTC'))).toBe('2000-02-29T23:59:59.999Z');
  });

  it('answers a fresh Date each time, so a caller mutating one changes nothing cached', () => {
    const a = parseDate('2026-12-31', 'UTC')!;
    a.setTime(0);
    expect(iso(parseDate('2026-12-31', 'UTC'))).toBe('2026-12-31T23:59:59.999Z');
  });

  it('throws for an unknown time zone (a configuration error, not bad text)', () => {
    expect(() => parseDate('2026-12-31', 'Mars/Olympus')).toThrow(RangeError);
  });
});

describe('codeProblem', () => {
  it('accepts 1–50 characters counted as code points', () => {
    expect(codeProblem('A')).toBeNull();
    expect(codeProblem('x'.repeat(50))).toBeNull();
    expect(codeProblem('x'.repeat(51))).toBe('code is longer than 50 characters (51)');
    expect(codeProblem('😀'.repeat(50))).toBeNull();
    expect(codeProblem('😀'.repeat(51))).toMatch(/longer than 50/);
    expect(codeProblem('ÉTÉ-10%')).toBeNull();
  });

  it.each([
    ['', /empty/],
    ['A\u0001B', /control character \(U\+0001\)/],
    ['A\tB', /control character \(U\+0009\)/],
    ['A\u007fB', /control character \(U\+007F\)/],
    ['A\u0085B', /control character \(U\+0085\)/],
    ['A\u200bB', /invisible character \(U\+200B\)/],
    ['A\u2028B', /invisible character \(U\+2028\)/],
    ['A\ufffdB', /not UTF-8/],
    ['A\ud800B', /unpaired surrogate/],
  ])('refuses %j', (code, reason) => {
    expect(codeProblem(code)).toMatch(reason);
  });
});
