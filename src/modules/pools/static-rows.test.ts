import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { activeStaticRow, staticExpiration, validateStaticRows, type StaticRow, type StaticRowInput } from './static-rows.ts';

const ny = 'America/New_York';
const june: StaticRowInput = { code: 'SUMMER10', expiresOn: '2026-07-15', beginDistribution: '2026-06-01', endDistribution: '2026-06-30' };
const july: StaticRowInput = { code: 'JULY12', daysAfterDistribution: 14, beginDistribution: '2026-07-01', endDistribution: '2026-07-31' };
const where = (problems: { row: number; field: string }[]) => problems.map((p) => `${p.row}:${p.field}`);

describe('validateStaticRows', () => {
  it('parses valid rows: a plain begin is the start of its day, a plain end or expiration the end', () => {
    const check = validateStaticRows([june, { ...july, code: '  JULY12 ' }], ny);
    expect(check).toMatchObject({ valid: true, errors: [], warnings: [] });
    expect(check.rows).toEqual([
      {
        code: 'SUMMER10',
        begin: new Date('2026-06-01T04:00:00.000Z'),
        end: new Date('2026-07-01T03:59:59.999Z'),
        expiresAt: new Date('2026-07-16T03:59:59.999Z'),
        daysAfterDistribution: null,
      },
      {
        code: 'JULY12',
        begin: new Date('2026-07-01T04:00:00.000Z'),
        end: new Date('2026-08-01T03:59:59.999Z'),
        expiresAt: null,
        daysAfterDistribution: 14,
      },
    ]);
  });

  it('reads date-times with an offset as instants, and MM/DD/YYYY', () => {
    const check = validateStaticRows(
      [{ code: 'FLASH', expiresOn: '12/31/2026', beginDistribution: '2026-11-27T09:00:00-05:00', endDistribution: '2026-11-27T21:00:00Z' }],
      ny,
    );
    expect(check.rows[0]).toMatchObject({
      begin: new Date('2026-11-27T14:00:00Z'),
      end: new Date('2026-11-27T21:00:00Z'),
      expiresAt: new Date('2027-01-01T04:59:59.999Z'),
    });
  });

  it('reports each problem with its row and field', () => {
    const check = validateStaticRows(
      [
        { ...june, code: '' },
        { ...june, code: 'x'.repeat(51), beginDistribution: '2027-01-01', endDistribution: '2027-01-31', expiresOn: '2027-02-01' },
        { ...june, code: 'CTRL\u0007', beginDistribution: '2027-02-01', endDistribution: '2027-02-28', expiresOn: '2027-03-01' },
        { code: 'NODATES', daysAfterDistribution: 3 } as unknown as StaticRowInput,
        { code: 'BADDATES', daysAfterDistribution: 3, beginDistribution: '2027-02-30', endDistribution: 'soon' },
        { code: 'BACKWARDS', daysAfterDistribution: 3, beginDistribution: '2027-05-10', endDistribution: '2027-05-01' },
      ],
      ny,
    );
    expect(check.valid).toBe(false);
    expect(check.rows).toEqual([]);
    expect(check.errors).toEqual([
      { row: 0, field: 'code', message: 'Code is required.' },
      { row: 1, field: 'code', message: 'The code is longer than 50 characters (51).' },
      { row: 2, field: 'code', message: 'The code contains a control character (U+0007).' },
      { row: 3, field: 'beginDistribution', message: 'Begin distribution is required.' },
      { row: 3, field: 'endDistribution', message: 'End distribution is required.' },
      { row: 4, field: 'beginDistribution', message: expect.stringContaining('Begin distribution "2027-02-30" is not a date') },
      { row: 4, field: 'endDistribution', message: expect.stringContaining('End distribution "soon" is not a date') },
      { row: 5, field: 'beginDistribution', message: 'Begin distribution (2027-05-10) is after End distribution (2027-05-01).' },
    ]);
  });

  it('needs exactly one of expiresOn and daysAfterDistribution (a whole number ≥ 1)', () => {
    const base = { code: 'E', beginDistribution: '2026-06-01', endDistribution: '2026-06-30' };
    const rows: StaticRowInput[] = [
      base,
      { ...base, expiresOn: '2026-07-01', daysAfterDistribution: 3 },
      { ...base, daysAfterDistribution: 0 },
      { ...base, daysAfterDistribution: 1.5 },
      { ...base, daysAfterDistribution: 100_000 },
      { ...base, expiresOn: 'never' },
      { ...base, expiresOn: '', daysAfterDistribution: null, beginDistribution: '2027-01-01', endDistribution: '2027-01-02' },
    ].map((r, i) => ({ ...r, beginDistribution: `${2030 + i}-01-01`, endDistribution: `${2030 + i}-01-31` }));
    expect(where(validateStaticRows(rows, 'UTC').errors)).toEqual([
      '0:expiresOn',
      '1:daysAfterDistribution',
      '2:daysAfterDistribution',
      '3:daysAfterDistribution',
      '4:daysAfterDistribution',
      '5:expiresOn',
      '6:expiresOn',
    ]);
  });

  it('refuses a fixed expiration before the window ends; the same day as the end is fine', () => {
    const early = validateStaticRows([{ ...june, expiresOn: '2026-06-29' }], ny);
    expect(early.errors).toEqual([
      {
        row: 0,
        field: 'expiresOn',
        message:
          'Expiration date (2026-06-29) is before End distribution (2026-06-30): a code handed out at the end would already be expired.',
      },
    ]);
    expect(validateStaticRows([{ ...june, expiresOn: '2026-06-30' }], ny).valid).toBe(true);
  });

  it('refuses overlapping windows, naming both rows, on the later one', () => {
    const overlap = { ...june, code: 'OVERLAP', beginDistribution: '2026-06-15', endDistribution: '2026-07-10', expiresOn: '2026-08-01' };
    const check = validateStaticRows([overlap, june], ny);
    expect(check.errors).toEqual([
      {
        row: 0,
        field: 'beginDistribution',
        message: 'Row 1 overlaps row 2: row 2 runs until 2026-06-30, row 1 begins 2026-06-15. Distribution windows may not overlap.',
      },
    ]);
    // One instant in common is an overlap: windows include both their ends.
    const touching = validateStaticRows(
      [
        { ...june, endDistribution: '2026-06-30T12:00:00Z' },
        { ...july, beginDistribution: '2026-06-30T12:00:00Z' },
      ],
      ny,
    );
    expect(where(touching.errors)).toEqual(['1:beginDistribution']);
    // A long window overlapping two later ones: both are named against it.
    const long = { ...june, code: 'LONG', endDistribution: '2026-12-31', expiresOn: '2026-12-31' };
    expect(
      where(validateStaticRows([long, july, { ...july, beginDistribution: '2026-09-01', endDistribution: '2026-09-30' }], ny).errors),
    ).toEqual(['1:beginDistribution', '2:beginDistribution']);
  });

  it('warns about gaps between windows (the default code fills them), not about back-to-back days', () => {
    expect(validateStaticRows([june, july], ny).warnings).toEqual([]);
    const august = { ...july, code: 'AUG', beginDistribution: '2026-08-05', endDistribution: '2026-08-31' };
    const check = validateStaticRows([august, june, july], ny);
    expect(check.valid).toBe(true);
    expect(check.warnings).toEqual([
      {
        row: 0,
        field: 'beginDistribution',
        message:
          "No row covers the time between row 3 (ends 2026-07-31) and row 1 (begins 2026-08-05): the pool's default code, if any, is handed out then.",
      },
    ]);
    // A 23:59:59 end and a 00:00:00 begin leave one second: no warning.
    const seconds = validateStaticRows(
      [
        { ...june, endDistribution: '2026-06-30T23:59:59Z', expiresOn: '2026-07-31' },
        { ...july, beginDistribution: '2026-07-01T00:00:00Z' },
      ],
      'UTC',
    );
    expect(seconds.warnings).toEqual([]);
  });

  it('accepts no rows at all', () => {
    expect(validateStaticRows([], ny)).toEqual({ valid: true, errors: [], warnings: [], rows: [] });
  });
});

describe('activeStaticRow and staticExpiration', () => {
  const { rows } = validateStaticRows([june, july], ny);

  it('finds the row whose window contains now, ends included', () => {
    expect(activeStaticRow(rows, new Date('2026-06-01T04:00:00.000Z'))?.code).toBe('SUMMER10');
    expect(activeStaticRow(rows, new Date('2026-07-01T03:59:59.999Z'))?.code).toBe('SUMMER10');
    expect(activeStaticRow(rows, new Date('2026-07-01T04:00:00.000Z'))?.code).toBe('JULY12');
    expect(activeStaticRow(rows, new Date('2026-06-01T03:59:59.999Z'))).toBeUndefined();
    expect(activeStaticRow(rows, new Date('2026-08-01T04:00:00.000Z'))).toBeUndefined();
    expect(activeStaticRow([], new Date())).toBeUndefined();
  });

  it('expires at the fixed date, or daysAfterDistribution × 24 h after the hand-out', () => {
    const now = new Date('2026-07-10T15:30:00Z');
    expect(staticExpiration(rows[0]!, now)).toEqual(new Date('2026-07-16T03:59:59.999Z'));
    expect(staticExpiration(rows[1]!, now)).toEqual(new Date('2026-07-24T15:30:00Z'));
    const never: StaticRow = { ...rows[1]!, daysAfterDistribution: null };
    expect(staticExpiration(never, now)).toBeNull();
  });

  it('hands out a copy of the fixed date', () => {
    const at = staticExpiration(rows[0]!, new Date())!;
    at.setTime(0);
    expect(rows[0]!.expiresAt).toEqual(new Date('2026-07-16T03:59:59.999Z'));
  });
});

describe('properties', () => {
  const DAY = 86_400_000;
  const origin = Date.UTC(2026, 0, 1);

  /** Disjoint windows: random gaps (0 = the next day) and lengths, in days, shuffled. */
  const windowsArb = fc
    .array(
      fc.record({
        gap: fc.nat({ max: 5 }),
        length: fc.nat({ max: 20 }),
        iso: fc.boolean(),
        days: fc.option(fc.integer({ min: 1, max: 90 }), { nil: undefined }),
      }),
      {
        minLength: 1,
        maxLength: 15,
      },
    )
    .map((specs) => {
      let day = 0;
      return specs.map((s, i) => {
        const first = day + s.gap;
        const last = first + s.length;
        day = last + 1;
        const date = (d: number) => new Date(origin + d * DAY).toISOString().slice(0, 10);
        return {
          code: `CODE${i}`,
          beginDistribution: s.iso ? new Date(origin + first * DAY).toISOString() : date(first),
          endDistribution: s.iso ? new Date(origin + (last + 1) * DAY - 1).toISOString() : date(last),
          ...(s.days ? { daysAfterDistribution: s.days } : { expiresOn: date(last + 3) }),
        };
      });
    });

  it('disjoint windows validate without overlap, and each instant finds the one row containing it', () => {
    fc.assert(
      fc.property(windowsArb, fc.nat({ max: 400 * DAY }), fc.array(fc.nat(), { maxLength: 15 }), (inputs, offset, order) => {
        const shuffled = [...inputs].sort((a, b) => (order[inputs.indexOf(a)] ?? 0) - (order[inputs.indexOf(b)] ?? 0));
        const check = validateStaticRows(shuffled, 'UTC');
        expect(check.errors).toEqual([]);
        expect(check.valid).toBe(true);
        const now = new Date(origin + offset);
        const containing = check.rows.filter((r) => r.begin <= now && now <= r.end);
        expect(containing.length).toBeLessThanOrEqual(1);
        expect(activeStaticRow(check.rows, now)).toBe(containing[0]);
        // Days off between windows are gaps, and only those.
        const gaps = inputs.filter(
          (_, i) => i > 0 && new Date(inputs[i]!.beginDistribution).getTime() - new Date(inputs[i - 1]!.endDistribution).getTime() > DAY,
        ).length;
        expect(check.warnings.length).toBe(gaps);
      }),
      { numRuns: 300 },
    );
  });

  it('two windows sharing an instant always overlap', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 100 * DAY }),
        fc.nat({ max: 100 * DAY }),
        fc.nat({ max: 100 * DAY }),
        fc.nat({ max: 100 * DAY }),
        (a, b, c, d) => {
          const [b1, e1] = [Math.min(a, b), Math.max(a, b)];
          const [b2, e2] = [Math.min(c, d), Math.max(c, d)];
          const iso = (ms: number) => new Date(origin + ms).toISOString();
          const rows = [
            { code: 'A', daysAfterDistribution: 1, beginDistribution: iso(b1), endDistribution: iso(e1) },
            { code: 'B', daysAfterDistribution: 1, beginDistribution: iso(b2), endDistribution: iso(e2) },
          ];
          const shareAnInstant = b1 <= e2 && b2 <= e1;
          expect(validateStaticRows(rows, 'UTC').valid).toBe(!shareAnInstant);
        },
      ),
      { numRuns: 300 },
    );
  });
});
