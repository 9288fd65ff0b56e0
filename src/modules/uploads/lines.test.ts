import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { parse as csvParse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_LINE_LENGTH,
  MAX_RECORD_LINES,
  RecordReader,
  codeProblem,
  parseDate,
  parseUpload,
  type Delimiter,
  type ExpirationMode,
  type LineRules,
  type UploadLine,
} from './lines.ts';

type Chunk = string | Buffer;

async function collect(input: Parameters<typeof parseUpload>[0], rules: Partial<LineRules> = {}): Promise<UploadLine[]> {
  const out: UploadLine[] = [];
  for await (const batch of parseUpload(input, { expiration: 'none', delimiter: ',', timeZone: 'UTC', ...rules })) out.push(...batch);
  return out;
}

const read = (chunks: Chunk | Chunk[], rules: Partial<LineRules> = {}) =>
  collect(Readable.from(Array.isArray(chunks) ? chunks : [chunks]), rules);

/** Lines as compact text, for readable expectations: `2 ok CODE [date]` or `3 ✗ reason`. */
const brief = (lines: UploadLine[]) =>
  lines.map((l) => (l.ok ? `${l.line} ok ${l.code}${l.expiresAt ? ` ${l.expiresAt.toISOString()}` : ''}` : `${l.line} ✗ ${l.reason}`));

const reasonOf = async (file: Chunk, rules: Partial<LineRules> = {}) => {
  const [line, ...rest] = await read(file, rules);
  expect(rest).toEqual([]);
  expect(line?.ok).toBe(false);
  return line && !line.ok ? line.reason : '';
};

/** Splits bytes at the given positions (any order, duplicates allowed). */
function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    out.push(buf.subarray(from, p));
    from = p;
  }
  out.push(buf.subarray(from));
  return out;
}

/** The code rules, restated independently of `codeProblem`. */
function satisfiesCodeRules(code: string): boolean {
  return code === code.trim() && [...code].length >= 1 && [...code].length <= 50 && !/[\p{Cc}\p{Cs}]/u.test(code);
}

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

describe('parseUpload', () => {
  it('reads one code per line, trimmed, with line numbers', async () => {
    expect(brief(await read('A1\n  A2  \nA3'))).toEqual(['1 ok A1', '2 ok A2', '3 ok A3']);
  });

  it('drops a UTF-8 BOM, even split across chunks', async () => {
    const bytes = Buffer.from('\ufeffBOM1\nBOM2\n');
    expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(brief(await read(bytes))).toEqual(['1 ok BOM1', '2 ok BOM2']);
    expect(brief(await read([...bytes].map((b) => Buffer.from([b]))))).toEqual(['1 ok BOM1', '2 ok BOM2']);
    // Only the first one is dropped; further on it is whitespace to trim, unlike U+200B.
    expect(brief(await read('A\n\ufeffB\u200b\n'))).toEqual(['1 ok A', '2 ✗ code contains an invisible character (U+200B)']);
  });

  it('reads LF and CRLF, even mixed', async () => {
    expect(brief(await read('C1\r\nC2\r\nC3\nC4\r\n'))).toEqual(['1 ok C1', '2 ok C2', '3 ok C3', '4 ok C4']);
    expect(brief(await read('C1,2026-01-31\r\n', { expiration: 'file' }))).toEqual(['1 ok C1 2026-01-31T23:59:59.999Z']);
  });

  it('ignores blank lines (empty, spaces, a lone CR) and keeps counting them', async () => {
    expect(brief(await read('\n\nB1\n   \n\t\r\n\r\nB2\n\n'))).toEqual(['3 ok B1', '7 ok B2']);
  });

  it('takes codes of 50 characters, not 51', async () => {
    const lines = await read(`${'x'.repeat(50)}\n${'y'.repeat(51)}\n  ${'z'.repeat(50)}  \n`);
    expect(brief(lines)).toEqual([`1 ok ${'x'.repeat(50)}`, '2 ✗ code is longer than 50 characters (51)', `3 ok ${'z'.repeat(50)}`]);
  });

  it('refuses control characters and empty codes', async () => {
    expect(brief(await read('bad\u0001code\nA\u0000\nok\n"  "\n,\n'))).toEqual([
      '1 ✗ code contains a control character (U+0001)',
      '2 ✗ code contains a control character (U+0000)',
      '3 ok ok',
      '4 ✗ code is empty',
      "5 ✗ a second column was found but expiration is 'none' (use 'file' to read dates from the file)",
    ]);
    expect(await reasonOf('TAB\tINSIDE', { delimiter: ',' })).toBe('code contains a control character (U+0009)');
    expect(await reasonOf('OLD\rMAC\r')).toBe('code contains a control character (U+000D)');
  });

  it('reports bytes that are not UTF-8', async () => {
    expect(await reasonOf(Buffer.from([0x43, 0xe9, 0x54, 0x45, 0x0a]))).toMatch(/not UTF-8/); // "CéTE" in Latin-1
  });

  it('unquotes fields: an embedded delimiter, doubled quotes, spaces around the quotes', async () => {
    const file = ['"A,1"', '"SAY ""HI"""', ' "PAD" ', '""""', '"Ünï,çødé"'].join('\n');
    expect(brief(await read(file))).toEqual(['1 ok A,1', '2 ok SAY "HI"', '3 ok PAD', '4 ok "', '5 ok Ünï,çødé']);
    const dated = await read('"X;1";"2026-12-29T10:00:00+02:00"\n"Y" ; 12/30/2026\n', { expiration: 'file', delimiter: ';' });
    expect(brief(dated)).toEqual(['1 ok X;1 2026-12-29T08:00:00.000Z', '2 ok Y 2026-12-30T23:59:59.999Z']);
  });

  it('reads each delimiter', async () => {
    for (const [delimiter, sep] of [
      [',', ','],
      [';', ';'],
      ['tab', '\t'],
      ['|', '|'],
    ] as const) {
      const lines = await read(`D1${sep}2026-12-31\n"D${sep}2"${sep}2026-12-30\n`, { expiration: 'file', delimiter });
      const quoted = sep === '\t' ? '2 ✗ code contains a control character (U+0009)' : `2 ok D${sep}2 2026-12-30T23:59:59.999Z`;
      expect(brief(lines)).toEqual(['1 ok D1 2026-12-31T23:59:59.999Z', quoted]);
    }
  });

  it('with expiration "file": the three date forms in the account zone, across a DST change', async () => {
    const file = [
      'E1,2026-03-07',
      'E2,03/08/2026',
      'E3,2026-11-01',
      'E4,11/1/2026',
      'E5,2026-03-08T01:30:00-05:00',
      'E6, 2026-07-04T12:00:00Z ',
    ].join('\n');
    expect(brief(await read(file, { expiration: 'file', timeZone: 'America/New_York' }))).toEqual([
      '1 ok E1 2026-03-08T04:59:59.999Z',
      '2 ok E2 2026-03-09T03:59:59.999Z',
      '3 ok E3 2026-11-02T04:59:59.999Z',
      '4 ok E4 2026-11-02T04:59:59.999Z',
      '5 ok E5 2026-03-08T06:30:00.000Z',
      '6 ok E6 2026-07-04T12:00:00.000Z',
    ]);
  });

  it('with expiration "file": invalid dates and wrong column counts, quoting the value', async () => {
    const file = [
      'code,expires',
      'F1,2026-02-30',
      'F2,2026-13-01',
      'F3',
      'F4,2026-12-31,x',
      'F5,',
      'F6,2026-05-01T10:00:00',
      'F7;2026-12-31',
    ].join('\n');
    const dateHelp = '(use YYYY-MM-DD, MM/DD/YYYY or an ISO-8601 date-time with offset)';
    expect(brief(await read(file, { expiration: 'file' }))).toEqual([
      `1 ✗ expiration "expires" is not a date ${dateHelp}`,
      `2 ✗ expiration "2026-02-30" is not a date ${dateHelp}`,
      `3 ✗ expiration "2026-13-01" is not a date ${dateHelp}`,
      "4 ✗ expected 2 columns (code and expiration date) separated by ',', found 1",
      "5 ✗ expected 2 columns (code and expiration date) separated by ',', found 3",
      '6 ✗ the expiration date is empty',
      `7 ✗ expiration "2026-05-01T10:00:00" is not a date ${dateHelp}`,
      "8 ✗ expected 2 columns (code and expiration date) separated by ',', found 1",
    ]);
    expect(await reasonOf('G1\t2026-12-31\tx', { expiration: 'file', delimiter: 'tab' })).toMatch(/separated by a tab, found 3/);
    expect(await reasonOf(`G2,${'9'.repeat(80)}`, { expiration: 'file' })).toBe(
      `expiration "${'9'.repeat(40)}…" is not a date ${dateHelp}`,
    );
  });

  it('with expiration "none" or "fixed": a second column is an error (the option was probably wrong)', async () => {
    for (const expiration of ['none', 'fixed'] as const) {
      const lines = await read('N1\nN2,2026-05-01\n"N3,x"\n', { expiration });
      expect(brief(lines)).toEqual([
        '1 ok N1',
        `2 ✗ a second column was found but expiration is '${expiration}' (use 'file' to read dates from the file)`,
        '3 ok N3,x',
      ]);
    }
  });

  it('reports malformed quoting on its line and reads on', async () => {
    const file = ['GOOD1', '"AB"x', 'GOOD2', 'A"B', 'GOOD3', '"C"D"', '"OPEN', 'GOOD4', 'GOOD5'].join('\n');
    expect(brief(await read(file))).toEqual([
      '1 ok GOOD1',
      '2 ✗ malformed quoting: text after a closing quote',
      '3 ok GOOD2',
      '4 ✗ malformed quoting: a quote inside an unquoted field (quote the whole field and double the quotes inside it)',
      '5 ok GOOD3',
      '6 ✗ malformed quoting: text after a closing quote',
      '7 ✗ malformed quoting: a quoted field is not closed',
      '8 ok GOOD4',
      '9 ok GOOD5',
    ]);
  });

  it('reads a quoted field over several lines as one record, reported on its first line', async () => {
    for (const eol of ['\n', '\r\n']) {
      const file = ['M1', '"AB', '', 'CD"', 'M2', '"X', 'Y",2026-12-31', 'M3'].join(eol);
      expect(brief(await read(file, { expiration: 'file' }))).toEqual([
        "1 ✗ expected 2 columns (code and expiration date) separated by ',', found 1",
        "2 ✗ expected 2 columns (code and expiration date) separated by ',', found 1",
        "5 ✗ expected 2 columns (code and expiration date) separated by ',', found 1",
        '6 ✗ code contains a control character (U+000A)',
        "8 ✗ expected 2 columns (code and expiration date) separated by ',', found 1",
      ]);
      expect(brief(await read(file))).toEqual([
        '1 ok M1',
        '2 ✗ code contains a control character (U+000A)',
        '5 ok M2',
        expect.stringMatching(/^6 ✗ a second column/),
        '8 ok M3',
      ]);
    }
  });

  it(`gives up on a quote still open after ${MAX_RECORD_LINES} lines and reads those lines again`, async () => {
    const good = Array.from({ length: 25 }, (_, i) => `L${i + 2}`);
    const lines = await read(['"NEVER CLOSED', ...good].join('\n'));
    expect(brief(lines)).toEqual(['1 ✗ malformed quoting: a quoted field is not closed', ...good.map((c, i) => `${i + 2} ok ${c}`)]);
  });

  it('reports a line too long to keep, without holding it, and reads on', async () => {
    const long = 'x'.repeat(MAX_LINE_LENGTH * 3);
    const chunks = ['OK1\n', long.slice(0, 7000), long.slice(7000), '\nOK2\n', long];
    expect(brief(await read(chunks))).toEqual([
      '1 ok OK1',
      `2 ✗ line is longer than ${MAX_LINE_LENGTH} characters`,
      '3 ok OK2',
      `4 ✗ line is longer than ${MAX_LINE_LENGTH} characters`,
    ]);
  });

  it('yields batches of at most 5,000 lines, in order', async () => {
    const file = Array.from({ length: 12_345 }, (_, i) => `B${i + 1}`).join('\n');
    const sizes: number[] = [];
    let next = 1;
    for await (const batch of parseUpload(Readable.from([file]), { expiration: 'none', delimiter: ',', timeZone: 'UTC' })) {
      sizes.push(batch.length);
      for (const line of batch) expect(line).toEqual({ line: next, ok: true, code: `B${next++}`, expiresAt: null });
    }
    expect(next).toBe(12_346);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(5_000);
  });

  it('reads async iterables of strings, and old-style streams', async () => {
    async function* source() {
      yield 'S1\nS';
      yield '2\n';
    }
    expect(brief(await collect(source()))).toEqual(['1 ok S1', '2 ok S2']);
    const old = new EventEmitter();
    setImmediate(() => {
      old.emit('data', Buffer.from('O1\nO'));
      old.emit('data', Buffer.from('2'));
      old.emit('end');
    });
    expect(brief(await collect(old as unknown as NodeJS.ReadableStream))).toEqual(['1 ok O1', '2 ok O2']);
  });

  it('lets a stream error through', async () => {
    const failing = new Readable({
      read() {
        this.push('A1\n');
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(collect(failing)).rejects.toThrow('connection reset');
  });

  it('refuses an unknown time zone before reading', async () => {
    await expect(read('A\n', { timeZone: 'Nowhere/Special' })).rejects.toThrow(RangeError);
  });

  it('gives the same lines however the bytes are cut into chunks', async () => {
    const file = Buffer.from(
      '\ufeffÄ1,2026-01-31\r\n\r\n"Q,""1""",01/31/2026\r\n"multi\r\nline",2026-01-31\r\n😀2,2026-01-31T10:00:00+01:00\r\nbad"q,2026-01-31\r\nLAST,2026-01-31',
    );
    const rules = { expiration: 'file' as const, timeZone: 'Europe/Paris' };
    const whole = await read(file, rules);
    expect(brief(whole)).toEqual([
      '1 ok Ä1 2026-01-31T22:59:59.999Z',
      '3 ok Q,"1" 2026-01-31T22:59:59.999Z',
      '4 ✗ code contains a control character (U+000A)',
      '6 ok 😀2 2026-01-31T09:00:00.000Z',
      expect.stringMatching(/^7 ✗ malformed quoting/),
      '8 ok LAST 2026-01-31T22:59:59.999Z',
    ]);
    for (let a = 0; a <= file.length; a++) {
      const b = (a * 7) % (file.length + 1);
      expect(await read(splitAt(file, [a, b]), rules)).toEqual(whole);
    }
  });
});

// -------------------------------------------------------------------------------------------------
// Properties

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
