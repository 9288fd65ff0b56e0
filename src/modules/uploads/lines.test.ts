import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MAX_LINE_LENGTH, MAX_RECORD_LINES, parseUpload, type LineRules } from './lines.ts';
import { brief, collect, read, splitAt, type Chunk } from './lines.testing.ts';

const reasonOf = async (file: Chunk, rules: Partial<LineRules> = {}) => {
  const [line, ...rest] = await read(file, rules);
  expect(rest).toEqual([]);
  expect(line?.ok).toBe(false);
  return line && !line.ok ? line.reason : '';
};

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
