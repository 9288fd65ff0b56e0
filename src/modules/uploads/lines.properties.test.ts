import { parse as csvParse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_RECORD_LINES,
  RecordReader,
  codeProblem,
  parseDate,
  type Delimiter,
  type ExpirationMode,
  type LineRules,
  type UploadLine,
} from './lines.ts';
import { brief, read, satisfiesCodeRules, splitAt } from './lines.testing.ts';

const delimiters: Delimiter[] = [',', ';', 'tab', '|'];
const sepOf = (d: Delimiter) => (d === 'tab' ? '\t' : d);
const rulesArb = fc.record({
  expiration: fc.constantFrom<ExpirationMode>('none', 'file', 'fixed'),
  delimiter: fc.constantFrom(...delimiters),
  timeZone: fc.constantFrom('UTC', 'America/New_York', 'Asia/Kolkata', 'Pacific/Chatham'),
});

/** Text heavy in what matters to a CSV reader, plus any Unicode (lone surrogates included). */
const nastyChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('"', ',', ';', '\t', '|', '\n', '\r', '\r\n', ' ', 'A', '7', '-', '/', ':', 'T', 'Z', '+') },
  { weight: 2, arbitrary: fc.constantFrom('\u0000', '\u0001', '\u007f', '\u0085', '\ufeff', '\u200b', '\u2028', '\ufffd', 'é', '😀') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom('2026-12-31', '12/31/2026', '2026-02-30', '2026-05-01T10:00:00+02:00') },
);
const nastyText = fc.string({ unit: nastyChar, maxLength: 300 });
const cutsArb = fc.array(fc.nat(), { maxLength: 8 });

function checkInvariants(lines: UploadLine[], physicalLines: number, rules: LineRules) {
  let previous = 0;
  for (const l of lines) {
    expect(Number.isInteger(l.line) && l.line > previous && l.line <= physicalLines).toBe(true);
    previous = l.line;
    if (l.ok) {
      expect(satisfiesCodeRules(l.code), JSON.stringify(l.code)).toBe(true);
      expect(codeProblem(l.code)).toBeNull();
      if (rules.expiration === 'file') expect(Number.isNaN(l.expiresAt?.getTime() ?? NaN)).toBe(false);
      else expect(l.expiresAt).toBeNull();
    } else {
      expect(typeof l.reason === 'string' && l.reason.length > 0).toBe(true);
    }
  }
}

describe('parseUpload properties', () => {
  it('any text: every line parses or has a reason, never a crash, whatever the chunks', async () => {
    await fc.assert(
      fc.asyncProperty(nastyText, rulesArb, cutsArb, fc.boolean(), async (text, rules, cuts, asStrings) => {
        // Strings keep lone surrogates; bytes turn them into U+FFFD: each is compared with its own.
        const whole = await read(text, rules);
        checkInvariants(whole, text.split('\n').length, rules);
        if (asStrings) expect(await read(cutString(text, cuts), rules)).toEqual(whole);
        else expect(await read(splitAt(Buffer.from(text), cuts), rules)).toEqual(await read(Buffer.from(text), rules));
      }),
      { numRuns: 400 },
    );
  });

  it('any bytes: never a crash, and the same lines however they are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), rulesArb, cutsArb, async (raw, rules, cuts) => {
        const bytes = Buffer.from(raw);
        const whole = await read(bytes, rules);
        checkInvariants(whole, bytes.toString('utf8').split('\n').length, rules);
        expect(await read(splitAt(bytes, cuts), rules)).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('well-formed files round-trip: every code and date comes back, on its line', async () => {
    const codeChar = fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...'ABCXYZ0189-_%#') },
      { weight: 2, arbitrary: fc.constantFrom('"', ',', ';', '|', ' ', 'é', '😀', '中') },
    );
    const code = fc.string({ unit: codeChar, minLength: 1, maxLength: 50 }).filter((c) => c.trim().length > 0);
    const date = fc.constantFrom('2026-12-31', '03/08/2026', '1/2/2027', '2026-11-01', '2026-05-01T10:00:00+02:00', '2026-05-01T10:00:00Z');
    const row = fc.record({ code, date, quote: fc.boolean(), blankBefore: fc.nat({ max: 2 }) });
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { minLength: 1, maxLength: 30 }),
        fc.constantFrom(...delimiters),
        fc.constantFrom('\n', '\r\n'),
        async (rows, delimiter, eol) => {
          const sep = sepOf(delimiter);
          const physical: string[] = [];
          const expected: string[] = [];
          for (const r of rows) {
            for (let i = 0; i < r.blankBefore; i++) physical.push(i % 2 ? '  ' : '');
            const mustQuote = /["\s]|[,;|]/.test(r.code) || r.code.includes(sep);
            const field = r.quote || mustQuote ? `"${r.code.replace(/"/g, '""')}"` : r.code;
            physical.push(`${field}${sep}${r.date}`);
            expected.push(`${physical.length} ok ${r.code.trim()} ${parseDate(r.date, 'America/New_York')!.toISOString()}`);
          }
          const lines = await read(physical.join(eol) + eol, { expiration: 'file', delimiter, timeZone: 'America/New_York' });
          expect(brief(lines)).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads well-formed CSV into the same records as csv-parse', () => {
    const unquoted = fc.string({ unit: fc.constantFrom('A', 'b', '1', '-', 'é', '😀', '.', '\u0001'), maxLength: 6 });
    const quotedContent = fc.string({ unit: fc.constantFrom('A', ' ', '"', ',', ';', '\t', '|', '\n', 'é'), maxLength: 8 });
    const field = fc.oneof(
      unquoted.map((v) => ({ v, text: v })),
      quotedContent.map((v) => ({ v, text: `"${v.replace(/"/g, '""')}"` })),
    );
    const record = fc.array(field, { minLength: 1, maxLength: 4 }).filter((fs) => !(fs.length === 1 && fs[0]!.text.trim() === ''));
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 12 }), fc.constantFrom(...delimiters), (records, delimiter) => {
        const sep = sepOf(delimiter);
        const lines = records.map((fs) => fs.map((f) => f.text).join(sep));
        // A record spanning more than MAX_RECORD_LINES lines is refused on purpose.
        fc.pre(lines.every((l) => l.split('\n').length <= MAX_RECORD_LINES));
        // A line of spaces and tabs is blank to us (csv-parse reads empty fields).
        fc.pre(lines.every((l) => l.trim() !== ''));
        const text = lines.join('\n');
        const ours: string[][] = [];
        const reader = new RecordReader(sep, {
          plain: (_, t) => ours.push(t.split(sep)),
          record: (_, fs) => ours.push(fs),
          problem: (line, reason) => ours.push([`problem at ${line}: ${reason}`]),
        });
        reader.write(text);
        reader.end();
        const theirs = csvParse(text, {
          delimiter: sep,
          relax_column_count: true,
          skip_empty_lines: true,
          record_delimiter: ['\n'],
        }) as string[][];
        expect(ours).toEqual(theirs);
        expect(ours.flat().some((f) => f.startsWith('problem at'))).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

function cutString(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const p of points) {
    out.push(text.slice(from, p));
    from = p;
  }
  out.push(text.slice(from));
  return out;
}
