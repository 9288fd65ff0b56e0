import { sql, type Kysely } from 'kysely';

/*
 * The catalog of the current schema, as the migrations left it: what test/foundation/
 * migrations.test.ts compares (fresh install = every upgrade path) and what `npm run schema`
 * writes to docs/schema.sql. Reads only; the schema's own name is taken out so that two schemas
 * on one server compare equal.
 */

export interface CatalogSnapshot {
  relations: { name: string; kind: string; persistence: string }[];
  columns: {
    table: string;
    position: number;
    column: string;
    type: string;
    not_null: boolean;
    default_value: string | null;
    identity: string;
    generated: string;
  }[];
  indexes: { tablename: string; indexname: string; indexdef: string }[];
  constraints: { table: string | null; name: string; type: string; definition: string }[];
  triggers: { table: string; name: string; definition: string }[];
  functions: { name: string; args: string; body: string }[];
  types: { name: string; type: string }[];
}

export async function catalogSnapshot(db: Kysely<unknown>): Promise<CatalogSnapshot> {
  const rows = async <T>(query: ReturnType<typeof sql<T>>) => (await query.execute(db)).rows;
  const [{ schema }] = (await rows(sql<{ schema: string }>`select current_schema() as schema`)) as [{ schema: string }];
  const catalog = {
    relations: await rows(sql`
      select c.relname as name, c.relkind as kind, c.relpersistence as persistence
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() order by 1`),
    columns: await rows(sql`
      select c.relname as table, a.attnum as position, a.attname as column, format_type(a.atttypid, a.atttypmod) as type,
             a.attnotnull as not_null, pg_get_expr(d.adbin, d.adrelid) as default_value, a.attidentity as identity, a.attgenerated as generated
      from pg_attribute a
      join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where n.nspname = current_schema() and c.relkind in ('r', 'p', 'v', 'm', 'f') and a.attnum > 0 and not a.attisdropped
      order by 1, 2`),
    indexes: await rows(sql`select tablename, indexname, indexdef from pg_indexes where schemaname = current_schema() order by 1, 2`),
    constraints: await rows(sql`
      select c.relname as table, k.conname as name, k.contype as type, pg_get_constraintdef(k.oid) as definition
      from pg_constraint k join pg_namespace n on n.oid = k.connamespace left join pg_class c on c.oid = k.conrelid
      where n.nspname = current_schema() order by 1, 2`),
    triggers: await rows(sql`
      select c.relname as table, t.tgname as name, pg_get_triggerdef(t.oid) as definition
      from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and not t.tgisinternal order by 1, 2`),
    functions: await rows(sql`
      select p.proname as name, pg_get_function_identity_arguments(p.oid) as args, md5(p.prosrc) as body
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = current_schema() order by 1, 2`),
    types: await rows(sql`
      select t.typname as name, t.typtype as type from pg_type t join pg_namespace n on n.oid = t.typnamespace
      where n.nspname = current_schema() and t.typtype in ('e', 'd', 'r', 'm') order by 1`),
  };
  return JSON.parse(JSON.stringify(catalog).replaceAll(`${schema}.`, '')) as CatalogSnapshot;
}

/** The migration bookkeeping rows. */
export async function appliedMigrations(db: Kysely<unknown>): Promise<{ version: number; name: string; applied_at: Date }[]> {
  return (
    await sql<{
      version: number;
      name: string;
      applied_at: Date;
    }>`select version, name, applied_at from schema_migrations order by version`.execute(db)
  ).rows;
}

/** The highest migration version recorded in the current schema, or 0 (none, or no bookkeeping table yet). */
export async function recordedVersion(db: Kysely<unknown>): Promise<number> {
  const table = await sql<{ present: boolean }>`select to_regclass('schema_migrations') is not null as present`.execute(db);
  if (!table.rows[0]?.present) return 0;
  const r = await sql<{ version: number | null }>`select max(version) as version from schema_migrations`.execute(db);
  return Number(r.rows[0]?.version ?? 0);
}
