/**
 * A contacts CSV (`email,<group>.<field>,…`, optionally a `status` column) turned into contacts:
 * pure, streaming, never throws for a line's content (the header is another matter). Records come
 * from the uploads' RFC 4180 reader (uploads/lines.ts), so quoting rules and line numbers match.
 */
import { StringDecoder } from 'node:string_decoder';
import { DomainError } from '../../platform/errors.ts';
import { RecordReader, type RecordSink } from '../uploads/lines.ts';
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
const SLICE = 64 * 1024;

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

/** Applies the header's columns to each record, collecting lines into batches. */
class ContactCollector implements RecordSink {
  private columns: Column[] | null = null;
  private batch: ImportLine[] = [];
  readonly ready: ImportLine[][] = [];

  constructor(private readonly groups: readonly FieldGroup[]) {}

  private push(line: ImportLine): void {
    this.batch.push(line);
    if (this.batch.length >= BATCH_SIZE) this.flush();
  }

  flush(): void {
    if (this.batch.length) this.ready.push(this.batch);
    this.batch = [];
  }

  problem(line: number, reason: string): void {
    if (!this.columns)
      throw new DomainError('invalid', 'import_header_invalid', `Line ${line} (the header): ${reason}.`, [
        { line, column: 0, name: '', message: reason },
      ]);
    this.push({ line, ok: false, reason });
  }

  plain(line: number, text: string): void {
    this.record(line, text.split(','));
  }

  record(line: number, cells: string[]): void {
    if (!this.columns) {
      this.columns = readHeader(cells, this.groups);
      return;
    }
    const columns = this.columns;
    if (cells.length !== columns.length)
      return this.problem(line, `expected ${columns.length} columns (as in the header), found ${cells.length}`);
    let email = '';
    let status: ContactStatus | null = null;
    const values: Record<string, StoredValue> = {};
    for (let i = 0; i < columns.length; i++) {
      const column = columns[i]!;
      const cell = cells[i]!;
      if (column.kind === 'email') {
        email = cell.trim();
        const problem = emailProblem(email);
        if (problem) return this.problem(line, problem);
      } else if (column.kind === 'status') {
        const s = cell.trim().toLowerCase();
        if (s === '') continue;
        if (s !== 'subscribed' && s !== 'unsubscribed')
          return this.problem(line, `status ${JSON.stringify(cell)} is neither subscribed nor unsubscribed`);
        status = s;
      } else {
        if (cell === '') continue; // an empty cell leaves the value as it is
        const parsed = valueFromText(column.type!, cell);
        if (!parsed.ok) return this.problem(line, `${column.name} (${column.type}): ${parsed.message}`);
        values[column.fieldId!] = parsed.value;
      }
    }
    this.push({ line, ok: true, email, status, values });
  }

  get headerRead(): boolean {
    return this.columns !== null;
  }
}

/** Reads a contacts CSV and yields its lines in batches; a bad header throws a 422 DomainError. */
export async function* parseContactsCsv(
  input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
  groups: readonly FieldGroup[],
): AsyncGenerator<ImportLine[]> {
  const collector = new ContactCollector(groups);
  const reader = new RecordReader(',', collector);
  const decoder = new StringDecoder('utf8');
  for await (const chunk of input) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    for (let at = 0; at < text.length; at += SLICE) {
      reader.write(text.length <= SLICE ? text : text.slice(at, at + SLICE));
      yield* collector.ready.splice(0);
    }
  }
  reader.write(decoder.end());
  reader.end();
  collector.flush();
  if (!collector.headerRead)
    throw new DomainError(
      'invalid',
      'import_header_invalid',
      'The file is empty: expected a header such as "email,ShopperInfo.FirstName".',
      [{ line: 1, column: 0, name: '', message: 'empty file' }],
    );
  yield* collector.ready.splice(0);
}
