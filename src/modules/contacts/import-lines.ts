/**
 * A contacts CSV (`email,<group>.<field>,…`, optionally a `status` column) turned into contacts:
 * pure, streaming, never throws for a line's content (the header is another matter). Records come
 * from the uploads' RFC 4180 reader (uploads/lines.ts), so quoting rules and line numbers match.
 */
import { DomainError } from '../../platform/errors.ts';
import { readHeadedCsv } from '../uploads/headed-csv.ts';
import type { FieldGroup, FieldType } from '../segmentation/model.ts';
import { emailProblem, valueFromText, type ContactStatus, type StoredValue } from './model.ts';

export type ImportLine =
  | { line: number; ok: true; email: string; status: ContactStatus | null; values: Record<string, StoredValue> }
  | { line: number; ok: false; reason: string };

interface Column {
  kind: 'email' | 'status' | 'field';
  name: string;
  fieldId?: string;
  type?: FieldType;
}

const BATCH_SIZE = 5_000;

/** The header's columns, or a 422 naming each bad column. */
export function readHeader(cells: string[], groups: readonly FieldGroup[]): Column[] {
  const problems: { column: number; name: string; message: string }[] = [];
  const seen = new Set<string>();
  const columns: Column[] = cells.map((raw, i) => {
    const name = raw.trim();
    const lower = name.toLowerCase();
    if (seen.has(lower)) problems.push({ column: i + 1, name, message: `column "${name}" appears twice` });
    seen.add(lower);
    if (lower === 'email') return { kind: 'email', name };
    if (lower === 'status') return { kind: 'status', name };
    const dot = name.indexOf('.');
    const group = dot === -1 ? undefined : groups.find((g) => g.name === name.slice(0, dot));
    const field = group?.fields.find((f) => f.name === name.slice(dot + 1));
    if (!field) {
      const message =
        dot === -1
          ? `column "${name}" is neither email, status nor <group>.<field>`
          : group
            ? `unknown field "${name.slice(dot + 1)}" in group "${group.name}"`
            : `unknown field group "${name.slice(0, dot)}"`;
      problems.push({ column: i + 1, name, message });
      return { kind: 'field', name };
    }
    return { kind: 'field', name, fieldId: field.id, type: field.type };
  });
  if (!columns.some((c) => c.kind === 'email')) problems.unshift({ column: 0, name: '', message: 'the header has no "email" column' });
  if (problems.length) {
    throw new DomainError(
      'invalid',
      'import_header_invalid',
      `Line 1 (the header): ${problems[0]!.message}.`,
      problems.map((p) => ({ line: 1, ...p })),
    );
  }
  return columns;
}

const refused = (line: number, reason: string): ImportLine => ({ line, ok: false, reason });

/** One record after the header, as a contact line (or the reason it is refused). */
function contactLine(line: number, cells: string[], columns: readonly Column[]): ImportLine {
  const refuse = (reason: string) => refused(line, reason);
  if (cells.length !== columns.length) return refuse(`expected ${columns.length} columns (as in the header), found ${cells.length}`);
  let email = '';
  let status: ContactStatus | null = null;
  const values: Record<string, StoredValue> = {};
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i]!;
    const cell = cells[i]!;
    if (column.kind === 'email') {
      email = cell.trim();
      const problem = emailProblem(email);
      if (problem) return refuse(problem);
    } else if (column.kind === 'status') {
      const s = cell.trim().toLowerCase();
      if (s === '') continue;
      if (s !== 'subscribed' && s !== 'unsubscribed')
        return refuse(`status ${JSON.stringify(cell)} is neither subscribed nor unsubscribed`);
      status = s;
    } else {
      if (cell === '') continue; // an empty cell leaves the value as it is
      const parsed = valueFromText(column.type!, cell);
      if (!parsed.ok) return refuse(`${column.name} (${column.type}): ${parsed.message}`);
      values[column.fieldId!] = parsed.value;
    }
  }
  return { line, ok: true, email, status, values };
}

/** Reads a contacts CSV and yields its lines in batches; a bad header throws a 422 DomainError. */
export const parseContactsCsv = (input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, groups: readonly FieldGroup[]) =>
  readHeadedCsv<Column[], ImportLine>(input, {
    batchSize: BATCH_SIZE,
    header: (cells) => readHeader(cells, groups),
    line: contactLine,
    refused,
    headerError: (line, reason) =>
      new DomainError('invalid', 'import_header_invalid', `Line ${line} (the header): ${reason}.`, [
        { line, column: 0, name: '', message: reason },
      ]),
    emptyFile: () =>
      new DomainError('invalid', 'import_header_invalid', 'The file is empty: expected a header such as "email,ShopperInfo.FirstName".', [
        { line: 1, column: 0, name: '', message: 'empty file' },
      ]),
  });
