import { sql, type RawBuilder } from 'kysely';

/** The column types bulk statements use (a closed list: the definition list is spliced in as SQL). */
export type ColumnType = 'text' | 'integer' | 'bigint' | 'smallint' | 'boolean' | 'timestamptz' | 'date' | 'jsonb';

/** A column list written once: each field of a row type and its SQL type. */
export type Columns<T> = { readonly [K in keyof T & string]?: ColumnType };

const TYPES = new Set<ColumnType>(['text', 'integer', 'bigint', 'smallint', 'boolean', 'timestamptz', 'date', 'jsonb']);

function definitionList(columns: Record<string, ColumnType | undefined>): RawBuilder<unknown> {
  const parts = Object.entries(columns).map(([name, type]) => {
    if (!type || !TYPES.has(type)) throw new Error(`bulk column ${name}: unknown type ${String(type)}`);
    return sql`${sql.id(name)} ${sql.raw(type)}`;
  });
  return sql.join(parts);
}

/**
 * Many rows as ONE JSON parameter: `jsonb_to_recordset($1::jsonb) as <alias>("col" type, …)`.
 * A batch of a thousand rows as one parameter is sent and planned once (as bind parameters per
 * value, 18,000 of them, it took twice as long: see outbox.sql.ts). Fields of `rows` that
 * `columns` does not list are ignored; a listed field a row lacks is null.
 */
export function recordset<T extends object>(rows: readonly T[], columns: Columns<T>, alias: string): RawBuilder<unknown> {
  return sql`jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as ${sql.id(alias)}(${definitionList(columns)})`;
}

/**
 * Parallel arrays as rows: `unnest($1::t1[], $2::t2[], …) [with ordinality] as <alias>(c1, c2, … [, n])`.
 * `values` holds one array per column, in the order of `columns`; all must be equally long.
 */
export function unnestRows(
  columns: Readonly<Record<string, ColumnType>>,
  values: Readonly<Record<string, readonly unknown[]>>,
  alias: string,
  options: { ordinality?: string } = {},
): RawBuilder<unknown> {
  const names = Object.keys(columns);
  const lengths = new Set(names.map((n) => values[n]?.length));
  if (lengths.size > 1 || lengths.has(undefined)) throw new Error(`unnestRows ${alias}: arrays of different lengths`);
  const arrays = names.map((n) => {
    const type = columns[n]!;
    if (!TYPES.has(type)) throw new Error(`bulk column ${n}: unknown type ${type}`);
    return sql`${values[n]}::${sql.raw(type)}[]`;
  });
  const out = [...names, ...(options.ordinality ? [options.ordinality] : [])].map((n) => sql.id(n));
  return sql`unnest(${sql.join(arrays)})${options.ordinality ? sql` with ordinality` : sql``} as ${sql.id(alias)} (${sql.join(out)})`;
}
