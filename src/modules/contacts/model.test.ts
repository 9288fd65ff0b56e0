import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FieldGroup } from '../segmentation/model.ts';
import { emailProblem, namedFields, normalizeDate, resolveFields, valueFromJson, valueFromText } from './model.ts';
import { parseContactsCsv, readHeader, type ImportLine } from './import-lines.ts';

const groups: FieldGroup[] = [
  {
    id: 'g1',
    name: 'Shopper',
    createdAt: new Date(0),
    fields: [
      { id: 'f-code', groupId: 'g1', name: 'Code', type: 'text', snippet: '' },
      { id: 'f-exp', groupId: 'g1', name: 'Expires on', type: 'date', snippet: '' },
      { id: 'f-n', groupId: 'g1', name: 'Points', type: 'number', snippet: '' },
      { id: 'f-b', groupId: 'g1', name: 'VIP', type: 'boolean', snippet: '' },
    ],
  },
];

describe('field values', () => {
  it('normalizes dates: calendar days stay days, instants become UTC', () => {
    expect(normalizeDate('2026-03-15')).toBe('2026-03-15');
    expect(normalizeDate('3/5/2026')).toBe('2026-03-05');
    expect(normalizeDate('2024-02-29')).toBe('2024-02-29');
    expect(normalizeDate('2026-03-15T10:00:00+02:00')).toBe('2026-03-15T08:00:00.000Z');
    expect(normalizeDate('2026-03-15T10:00:00Z')).toBe('2026-03-15T10:00:00.000Z');
    for (const bad of ['2026-02-29', '2026-13-01', '2026-03-15T10:00:00', 'tomorrow', '', '15/03/2026'])
      expect(normalizeDate(bad), bad).toBeNull();
  });

  it('reads every calendar day back as itself, in either form', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1900-01-01'), max: new Date('2200-12-31'), noInvalidDate: true }), (d) => {
        const ymd = d.toISOString().slice(0, 10);
        const [y, m, day] = ymd.split('-');
        expect(normalizeDate(ymd)).toBe(ymd);
        expect(normalizeDate(`${Number(m)}/${Number(day)}/${y}`)).toBe(ymd);
      }),
    );
  });

  it('checks JSON values against their type', () => {
    expect(valueFromJson('text', 'x')).toEqual({ ok: true, value: 'x' });
    expect(valueFromJson('text', 12)).toEqual({ ok: true, value: '12' });
    expect(valueFromJson('text', 'x'.repeat(10_001)).ok).toBe(false);
    expect(valueFromJson('number', 1.5)).toEqual({ ok: true, value: 1.5 });
    expect(valueFromJson('number', '1.5').ok).toBe(false);
    expect(valueFromJson('boolean', false)).toEqual({ ok: true, value: false });
    expect(valueFromJson('boolean', 'false').ok).toBe(false);
    expect(valueFromJson('date', 20260101).ok).toBe(false);
  });

  it('reads CSV cells for each type', () => {
    expect(valueFromText('number', ' -1.5e3 ')).toEqual({ ok: true, value: -1500 });
    for (const bad of ['1,5', 'abc', '0x10', 'Infinity', '1e400']) expect(valueFromText('number', bad).ok, bad).toBe(false);
    for (const [text, value] of [
      ['TRUE', true],
      ['no', false],
      ['1', true],
      ['0', false],
    ] as const)
      expect(valueFromText('boolean', text)).toEqual({ ok: true, value });
    expect(valueFromText('boolean', 'maybe').ok).toBe(false);
    expect(valueFromText('text', '  kept as is ')).toEqual({ ok: true, value: '  kept as is ' });
  });

  it('resolves names to field ids, with a problem naming group, field and value', () => {
    const { values, problems } = resolveFields(groups, { Shopper: { Code: 'A', Points: 'x', VIP: null, Nope: 1 }, Other: { a: 1 } });
    expect(values).toEqual({ 'f-code': 'A', 'f-b': null });
    expect(problems).toEqual([
      { group: 'Shopper', field: 'Points', value: 'x', message: 'Shopper.Points (number): "x" is not a number' },
      { group: 'Shopper', field: 'Nope', value: 1, message: 'unknown field "Nope" in group "Shopper"' },
      { group: 'Other', field: '', value: { a: 1 }, message: 'unknown field group "Other"' },
    ]);
    expect(namedFields(groups, { 'f-code': 'A', gone: 1 })).toEqual({ Shopper: { Code: 'A' } });
    expect(namedFields(groups, {}, true)).toEqual({ Shopper: {} });
  });

  it('checks emails', () => {
    expect(emailProblem('ann@example.com')).toBeNull();
    for (const bad of ['', 'ann', 'a b@example.com', 'a@b@c', '<a@b.c>', `${'a'.repeat(320)}@b.c`])
      expect(emailProblem(bad), bad).not.toBeNull();
  });
});

describe('contacts CSV', () => {
  const read = async (csv: string, chunkSize = 7) => {
    const chunks = Array.from({ length: Math.ceil(csv.length / chunkSize) }, (_, i) =>
      Buffer.from(csv.slice(i * chunkSize, (i + 1) * chunkSize)),
    );
    const lines: ImportLine[] = [];
    for await (const batch of parseContactsCsv(chunks, groups)) lines.push(...batch);
    return lines;
  };

  it('reads the header by group and field name, case-insensitive email and status', () => {
    const columns = readHeader(['EMAIL', 'Shopper.Expires on', 'Status'], groups);
    expect(columns.map((c) => [c.kind, c.fieldId])).toEqual([
      ['email', undefined],
      ['field', 'f-exp'],
      ['status', undefined],
    ]);
    expect(() => readHeader(['email', 'Shopper'], groups)).toThrow(/neither email/);
  });

  it('turns lines into contacts, whatever the chunking, with line numbers', async () => {
    const csv = 'email,Shopper.Code,Shopper.Points,status\n\nann@example.com,"A,1",3,\n"bob@example.com",B,,UNSUBSCRIBED\nbad,C,1,\n';
    for (const size of [1, 3, 7, 1000]) {
      expect(await read(csv, size)).toEqual([
        { line: 3, ok: true, email: 'ann@example.com', status: null, values: { 'f-code': 'A,1', 'f-n': 3 } },
        { line: 4, ok: true, email: 'bob@example.com', status: 'unsubscribed', values: { 'f-code': 'B' } },
        { line: 5, ok: false, reason: '"bad" is not an email address' },
      ]);
    }
  });

  it('splits a multi-byte character across chunks correctly', async () => {
    const lines = await read('email,Shopper.Code\nzoë@example.com,café\n', 1);
    expect(lines).toEqual([{ line: 2, ok: true, email: 'zoë@example.com', status: null, values: { 'f-code': 'café' } }]);
  });
});
