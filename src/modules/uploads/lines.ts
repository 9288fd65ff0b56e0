import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { cacheFor, cachedParse, DATE_FORMS, DATE_RANGE } from './dates.ts';

/**
 * An upload file turned into codes: pure, streaming, never throws for any content.
 *
 * Why not csv-parse: on `"AB"x` (text after a closing quote) csv-parse stays inside the quoted
 * field after reporting the error, so the good lines that follow are swallowed silently until
 * the next quote; it counts a CRLF inside a quoted field as two lines; and with per-record line
 * numbers it reads ~200k lines/s (this reader: ~2M). Our files have one or two short columns, so
 * a small RFC 4180 reader does the job: a quote-free line (nearly all of them) is split on the delimiter; a line
 * with quotes goes through `splitQuoted`; a malformed line is an error on that line and the next
 * line starts afresh. `lines.test.ts` checks it against csv-parse on well-formed files.
 */

import type { Delimiter, ExpirationMode, UploadLine } from './model.ts';

export type { Delimiter, ExpirationMode, UploadLine };
export { parseDate, dateOutOfRange, inDateRange, EARLIEST_DATE_MS, LATEST_DATE_MS, DATE_RANGE, DATE_FORMS, type DayEdge } from './dates.ts';

export interface LineRules {
  expiration: ExpirationMode;
  delimiter: Delimiter;
  /** IANA zone of the account: a plain date means the end of that day there. */
  timeZone: string;
}

export const MAX_CODE_LENGTH = 50;
/** A physical line longer than this is an error (and is never held in memory whole). */
export const MAX_LINE_LENGTH = 10_000;
/** A quoted field may span lines, but one left open longer than this is reported unclosed. */
export const MAX_RECORD_LINES = 10;
const BATCH_SIZE = 5_000;
/** Text is fed to the reader in slices of this many characters, so batches are yielded steadily. */
const SLICE = 64 * 1024;

export const delimiterChar = (d: Delimiter): string => (d === 'tab' ? '\t' : d);

// ---------------------------------------------------------------------------------------------
// Codes

/** Characters a code may not hold beyond ASCII controls: invisible, separators, broken UTF-8. */
const NOT_IN_CODE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\uFFFD]/u;

const hex = (c: number) => `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;

function describeCharacter(ch: string): string {
  const c = ch.codePointAt(0) ?? 0;
  if (c === 0xfffd) return 'code contains U+FFFD, the mark of bytes that are not UTF-8 (save the file as UTF-8)';
  if (c >= 0xd800 && c <= 0xdfff) return 'code contains an unpaired surrogate (not valid Unicode)';
  if (/\p{Cc}/u.test(ch)) return `code contains a control character (${hex(c)})`;
  return `code contains an invisible character (${hex(c)})`;
}

/**
 * Why a code (already trimmed) is not acceptable, or null: 1–50 characters (code points), no
 * control characters, and none of the invisible ones (format characters, line separators).
 */
export function codeProblem(code: string): string | null {
  const len = code.length;
  if (len === 0) return 'code is empty';
  for (let i = 0; i < len; i++) {
    const c = code.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return `code contains a control character (${hex(c)})`;
    if (c > 0x7e) return nonAsciiCodeProblem(code);
  }
  return len > MAX_CODE_LENGTH ? `code is longer than ${MAX_CODE_LENGTH} characters (${len})` : null;
}

function nonAsciiCodeProblem(code: string): string | null {
  const bad = NOT_IN_CODE.exec(code);
  if (bad) return describeCharacter(bad[0]);
  let points = 0;
  for (let i = 0; i < code.length; i++) {
    const c = code.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) points++; // a high surrogate counts with its low one
  }
  return points > MAX_CODE_LENGTH ? `code is longer than ${MAX_CODE_LENGTH} characters (${points})` : null;
}

// ---------------------------------------------------------------------------------------------
// Dates

// (dates.ts: the date forms of a file, shared with contact imports)

// ---------------------------------------------------------------------------------------------
// Records: physical lines → fields

const QUOTE = 0x22;
const OPEN = 0; // a quoted field is still open at the end of the text: the record goes on
type Split = string[] | string | typeof OPEN; // fields, a problem, or OPEN

const QUOTE_IN_FIELD = 'malformed quoting: a quote inside an unquoted field (quote the whole field and double the quotes inside it)';
const TEXT_AFTER_QUOTE = 'malformed quoting: text after a closing quote';
const NOT_CLOSED = 'malformed quoting: a quoted field is not closed';

/**
 * RFC 4180 fields of one record (lines joined by "\n"): a field is either unquoted (no quote in
 * it) or quoted, `""` standing for a quote; spaces and tabs around a quoted field are ignored.
 */
function splitQuoted(s: string, delimiter: string): Split {
  const d = delimiter.charCodeAt(0);
  const isPad = (c: number) => (c === 0x20 || c === 0x09) && c !== d;
  const len = s.length;
  const fields: string[] = [];
  let pos = 0;
  for (;;) {
    let p = pos;
    while (p < len && isPad(s.charCodeAt(p))) p++;
    if (p < len && s.charCodeAt(p) === QUOTE) {
      let value = '';
      let q = p + 1;
      for (;;) {
        const close = s.indexOf('"', q);
        if (close === -1) return OPEN;
        if (s.charCodeAt(close + 1) === QUOTE) {
          value += s.slice(q, close + 1);
          q = close + 2;
        } else {
          value += s.slice(q, close);
          q = close + 1;
          break;
        }
      }
      while (q < len && isPad(s.charCodeAt(q))) q++;
      fields.push(value);
      if (q === len) return fields;
      if (s.charCodeAt(q) !== d) return TEXT_AFTER_QUOTE;
      pos = q + 1;
    } else {
      const next = s.indexOf(delimiter, pos);
      const raw = next === -1 ? s.slice(pos) : s.slice(pos, next);
      if (raw.includes('"')) return QUOTE_IN_FIELD;
      fields.push(raw);
      if (next === -1) return fields;
      pos = next + 1;
    }
  }
}

function isBlank(line: string): boolean {
  if (line.length === 0) return true;
  const c = line.charCodeAt(0);
  return (c === 0x20 || c === 0x09 || c === 0x0d || c > 0x7f) && line.trim().length === 0;
}

/** Where a `RecordReader` reports, each time with the physical line the record starts on. */
export interface RecordSink {
  /** A line without quotes (nearly all of them): its fields are `text` split on the delimiter. */
  plain(line: number, text: string): void;
  /** A record with quoted fields, unquoted. */
  record(line: number, fields: string[]): void;
  problem(line: number, reason: string): void;
}

/** Reads decoded text in pieces of any size and reports its records; blank lines are skipped. */
export class RecordReader {
  private carry = '';
  private overlong = false;
  private started = false;
  private lineNo = 0;
  private pending: { start: number; lines: string[] } | null = null;

  constructor(
    private readonly delimiter: string,
    private readonly sink: RecordSink,
  ) {}

  write(text: string): void {
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // UTF-8 BOM
    }
    let nl = text.indexOf('\n');
    if (nl === -1) {
      if (!this.overlong) this.carry += text;
      if (this.carry.length > MAX_LINE_LENGTH) this.dropCarry();
      return;
    }
    this.line(this.overlong ? null : this.carry + text.slice(0, nl));
    this.carry = '';
    this.overlong = false;
    let pos = nl + 1;
    while ((nl = text.indexOf('\n', pos)) !== -1) {
      this.line(text.slice(pos, nl));
      pos = nl + 1;
    }
    this.carry = text.slice(pos);
    if (this.carry.length > MAX_LINE_LENGTH) this.dropCarry();
  }

  end(): void {
    if (this.overlong || this.carry.length > 0) this.line(this.overlong ? null : this.carry);
    this.carry = '';
    this.overlong = false;
    while (this.pending) this.failPending();
  }

  private dropCarry(): void {
    this.overlong = true;
    this.carry = '';
  }

  /** One physical line (without its "\n"), or null for one too long to keep. */
  private line(text: string | null): void {
    if (text !== null) {
      if (text.length > MAX_LINE_LENGTH) text = null;
      else if (text.charCodeAt(text.length - 1) === 0x0d) text = text.slice(0, -1); // CRLF
    }
    this.route(text, ++this.lineNo);
  }

  private route(text: string | null, n: number): void {
    if (this.pending) this.continueRecord(text, n);
    else this.startRecord(text, n);
  }

  private startRecord(text: string | null, n: number): void {
    if (text === null) return this.sink.problem(n, `line is longer than ${MAX_LINE_LENGTH} characters`);
    if (isBlank(text)) return;
    if (!text.includes('"')) return this.sink.plain(n, text);
    const split = splitQuoted(text, this.delimiter);
    if (split === OPEN) this.pending = { start: n, lines: [text] };
    else this.emit(n, split);
  }

  private continueRecord(text: string | null, n: number): void {
    const pending = this.pending!;
    if (text === null || pending.lines.length >= MAX_RECORD_LINES) {
      this.failPending();
      this.route(text, n);
      return;
    }
    pending.lines.push(text);
    const split = splitQuoted(pending.lines.join('\n'), this.delimiter);
    if (split === OPEN) return;
    this.pending = null;
    this.emit(pending.start, split);
  }

  /** The open quote on the record's first line is the error; the lines after it are read again. */
  private failPending(): void {
    const { start, lines } = this.pending!;
    this.pending = null;
    this.sink.problem(start, NOT_CLOSED);
    for (let i = 1; i < lines.length; i++) this.route(lines[i]!, start + i);
  }

  private emit(n: number, split: string[] | string): void {
    if (typeof split === 'string') this.sink.problem(n, split);
    else this.sink.record(n, split);
  }
}

// ---------------------------------------------------------------------------------------------
// Upload lines: records → codes

const shown = (value: string) => JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);

/** Applies the file rules to records, collecting lines into batches. */
class LineCollector implements RecordSink {
  private batch: UploadLine[] = [];
  readonly ready: UploadLine[][] = [];
  private readonly dates: Map<string, number | null>;
  private readonly delimiter: string;
  private readonly delimiterName: string;

  constructor(private readonly rules: LineRules) {
    this.dates = cacheFor(rules.timeZone, 'end');
    this.delimiter = delimiterChar(rules.delimiter);
    this.delimiterName = rules.delimiter === 'tab' ? 'a tab' : `'${rules.delimiter}'`;
  }

  private push(line: UploadLine): void {
    this.batch.push(line);
    if (this.batch.length >= BATCH_SIZE) this.flush();
  }

  flush(): void {
    if (this.batch.length > 0) this.ready.push(this.batch);
    this.batch = [];
  }

  problem(line: number, reason: string): void {
    this.push({ line, ok: false, reason });
  }

  // The hot path: no array, no split, for a line of one or two columns.
  plain(line: number, text: string): void {
    const at = text.indexOf(this.delimiter);
    if (at === -1) return this.columns(line, 1, text, '');
    const more = text.indexOf(this.delimiter, at + 1) !== -1;
    const count = more ? text.split(this.delimiter).length : 2;
    this.columns(line, count, text.slice(0, at), more ? '' : text.slice(at + 1));
  }

  record(line: number, fields: string[]): void {
    this.columns(line, fields.length, fields[0]!, fields[1] ?? '');
  }

  /** A record of `count` fields, the first two given. */
  private columns(line: number, count: number, first: string, second: string): void {
    const { expiration } = this.rules;
    if (expiration !== 'file') {
      if (count > 1)
        return this.problem(line, `a second column was found but expiration is '${expiration}' (use 'file' to read dates from the file)`);
      return this.code(line, first, null);
    }
    if (count !== 2) {
      return this.problem(line, `expected 2 columns (code and expiration date) separated by ${this.delimiterName}, found ${count}`);
    }
    const text = second.trim();
    if (text === '') return this.problem(line, 'the expiration date is empty');
    const ms = cachedParse(this.dates, text, this.rules.timeZone, 'end');
    if (ms === null) return this.problem(line, `expiration ${shown(text)} is not a date (use ${DATE_FORMS})`);
    if (Number.isNaN(ms)) return this.problem(line, `expiration ${shown(text)} is outside the dates that can be stored (${DATE_RANGE})`);
    this.code(line, first, new Date(ms));
  }

  private code(line: number, raw: string, expiresAt: Date | null): void {
    const code = raw.trim();
    const problem = codeProblem(code);
    if (problem) this.problem(line, problem);
    else this.push({ line, ok: true, code, expiresAt });
  }
}

type Chunk = Buffer | Uint8Array | string;

function chunksOf(input: AsyncIterable<Chunk> | NodeJS.ReadableStream): AsyncIterable<unknown> | Iterable<unknown> {
  if (Symbol.asyncIterator in input || Symbol.iterator in input) return input as AsyncIterable<unknown>;
  return new Readable({ objectMode: true }).wrap(input);
}

/**
 * Reads an upload file and yields its non-blank lines in batches (up to 5,000), each valid
 * (`code`, and `expiresAt` with expiration 'file') or with a reason. Nothing in the file makes it
 * throw; an I/O error of the stream does. Memory stays bounded whatever the file.
 */
export async function* parseUpload(input: AsyncIterable<Chunk> | NodeJS.ReadableStream, rules: LineRules): AsyncGenerator<UploadLine[]> {
  const lines = new LineCollector(rules);
  const reader = new RecordReader(delimiterChar(rules.delimiter), lines);
  const decoder = new StringDecoder('utf8');
  for await (const chunk of chunksOf(input)) {
    let text: string;
    if (typeof chunk === 'string') text = decoder.end() + chunk;
    else if (chunk instanceof Uint8Array) text = decoder.write(chunk as Buffer);
    else throw new TypeError('parseUpload reads Buffers or strings');
    for (let at = 0; at < text.length; at += SLICE) {
      reader.write(at === 0 && text.length <= SLICE ? text : text.slice(at, at + SLICE));
      yield* lines.ready.splice(0);
    }
  }
  reader.write(decoder.end());
  reader.end();
  lines.flush();
  yield* lines.ready.splice(0);
}
