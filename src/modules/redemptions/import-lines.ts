/**
 * A redemptions CSV (header `code,orderId[,redeemedAt,amount,currency,email]`, columns in any
 * order, names case-insensitive) turned into lines: streaming, never throws for a line's content
 * (a bad header is a 422). Records come from the uploads' RFC 4180 reader (uploads/lines.ts), so
 * BOM, CRLF, quoting and line numbers behave as in an upload.
 */
import { DomainError } from '../../platform/errors.ts';
import { emailProblem } from '../../platform/email.ts';
import { parseDate } from '../uploads/lines.ts';
import { readHeadedCsv } from '../uploads/headed-csv.ts';

export interface ImportedLine {
  line: number;
  code: string;
  orderId: string;
  redeemedAt: Date | null;
  amount: string | null;
  currency: string | null;
  email: string | null;
}
export type RedemptionLine = ({ ok: true } & ImportedLine) | { line: number; ok: false; reason: string };

const COLUMNS = ['code', 'orderId', 'redeemedAt', 'amount', 'currency', 'email'] as const;
type ColumnName = (typeof COLUMNS)[number];
const BATCH_SIZE = 10_000;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
const AMOUNT = /^\d{1,12}(\.\d{1,2})?$/;
const CURRENCY = /^[A-Za-z]{3}$/;

const headerError = (message: string, details: object[]) =>
  new DomainError('invalid', 'import_header_invalid', `Line 1 (the header): ${message}.`, details);

/** The header's columns (index → name), or a 422 naming each problem. */
export function readHeader(cells: readonly string[]): ColumnName[] {
  const problems: { line: number; column: number; name: string; message: string }[] = [];
  const seen = new Set<ColumnName>();
  const columns = cells.map((raw, i) => {
    const name = raw.trim();
    const known = COLUMNS.find((c) => c.toLowerCase() === name.toLowerCase());
    if (!known) problems.push({ line: 1, column: i + 1, name, message: `column "${name}" is none of ${COLUMNS.join(', ')}` });
    else if (seen.has(known)) problems.push({ line: 1, column: i + 1, name, message: `column "${name}" appears twice` });
    if (known) seen.add(known);
    return known!;
  });
  for (const required of ['code', 'orderId'] as const) {
    if (!seen.has(required)) problems.unshift({ line: 1, column: 0, name: required, message: `the header has no "${required}" column` });
  }
  if (problems.length) throw headerError(problems[0]!.message, problems);
  return columns;
}

/** One record's cells checked against the columns: the line, or the first reason it is invalid. */
export function checkLine(line: number, cells: readonly string[], columns: readonly ColumnName[], timeZone: string): RedemptionLine {
  if (cells.length !== columns.length)
    return { line, ok: false, reason: `expected ${columns.length} columns (as in the header), found ${cells.length}` };
  const out: ImportedLine = { line, code: '', orderId: '', redeemedAt: null, amount: null, currency: null, email: null };
  for (let i = 0; i < columns.length; i++) {
    const cell = cells[i]!.trim();
    switch (columns[i]) {
      case 'code':
        if (cell === '') return { line, ok: false, reason: 'code: empty' };
        if (cell.length > 50) return { line, ok: false, reason: 'code: longer than 50 characters' };
        if (CONTROL.test(cell)) return { line, ok: false, reason: 'code: contains a control character' };
        out.code = cell;
        break;
      case 'orderId':
        if (cell === '') return { line, ok: false, reason: 'orderId: empty' };
        if (cell.length > 200) return { line, ok: false, reason: 'orderId: longer than 200 characters' };
        if (CONTROL.test(cell)) return { line, ok: false, reason: 'orderId: contains a control character' };
        out.orderId = cell;
        break;
      case 'redeemedAt':
        if (cell === '') break;
        out.redeemedAt = parseDate(cell, timeZone, 'start');
        if (!out.redeemedAt)
          return {
            line,
            ok: false,
            reason: `redeemedAt: ${JSON.stringify(cell)} is not YYYY-MM-DD, MM/DD/YYYY or an ISO-8601 date-time with offset`,
          };
        break;
      case 'amount':
        if (cell === '') break;
        if (!AMOUNT.test(cell)) return { line, ok: false, reason: `amount: ${JSON.stringify(cell)} is not an amount such as 25 or 25.50` };
        out.amount = cell;
        break;
      case 'currency':
        if (cell === '') break;
        if (!CURRENCY.test(cell))
          return { line, ok: false, reason: `currency: ${JSON.stringify(cell)} is not a three-letter ISO 4217 code` };
        out.currency = cell.toUpperCase();
        break;
      case 'email': {
        if (cell === '') break;
        const problem = emailProblem(cell);
        if (problem) return { line, ok: false, reason: `email: ${problem}` };
        out.email = cell;
        break;
      }
    }
  }
  return { ok: true, ...out };
}

/** Reads a redemptions CSV and yields its lines in batches; a bad or missing header throws a 422. */
export const parseRedemptionsCsv = (input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, timeZone: string) =>
  readHeadedCsv<ColumnName[], RedemptionLine>(input, {
    batchSize: BATCH_SIZE,
    header: readHeader,
    line: (line, cells, columns) => checkLine(line, cells, columns, timeZone),
    refused: (line, reason) => ({ line, ok: false, reason }),
    headerError: (line, reason) => headerError(reason, [{ line, column: 0, name: '', message: reason }]),
    emptyFile: () =>
      headerError('the file is empty: expected a header such as "code,orderId"', [{ line: 1, column: 0, name: '', message: 'empty file' }]),
  });
