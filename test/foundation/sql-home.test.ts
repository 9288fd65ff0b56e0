import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * One home for raw SQL: Kysely `sql` templates (and sql.raw/ref/id/join…) appear only in a
 * module's `<area>.sql.ts`, in migrations, and in the short list below. Builder queries
 * (selectFrom, updateTable…) may stay in repo.ts.
 */
const ALLOWED: Record<string, string> = {
  'src/platform/db/bulk.ts': 'builds the jsonb_to_recordset/unnest fragments that *.sql.ts statements splice in; holds no statement',
  'src/platform/db/migrate.ts':
    'the migration machinery: its advisory lock and the schema_migrations bookkeeping, before any module exists',
  'src/platform/db/maintenance.ts': "`vacuum analyze` on PGlite's schedule: the platform's, no module owns the whole database",
  'src/platform/secret.ts': 'the installation secret, written once at first start (installation_settings belongs to no module)',
  'src/app.ts': "/health's `select 1` probe",
};

const RAW = /\bsql(<|`|\.(raw|ref|id|join|lit|val|table)\()/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.isFile() && e.name.endsWith('.ts') ? [path] : [];
  });
}

describe('raw SQL lives in *.sql.ts files', () => {
  const root = join(import.meta.dirname, '../..');
  const files = sources(join(root, 'src')).map((f) => relative(root, f).split('\\').join('/'));

  it('no raw sql template outside *.sql.ts, migrations and the allow-list', () => {
    const offenders = files
      .filter((f) => !f.endsWith('.sql.ts') && !f.startsWith('src/migrations/') && !(f in ALLOWED))
      .flatMap((f) =>
        readFileSync(join(root, f), 'utf8')
          .split('\n')
          .flatMap((line, i) => (RAW.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
      );
    expect(offenders).toEqual([]);
  });

  it('every allowed file exists and still needs its place on the list', () => {
    for (const f of Object.keys(ALLOWED)) {
      expect(files, f).toContain(f);
      expect(RAW.test(readFileSync(join(root, f), 'utf8')), `${f} no longer holds raw SQL: take it off the list`).toBe(true);
    }
  });

  it('the pattern finds the forms it is meant to find', () => {
    for (const line of [
      'await sql`select 1`',
      'sql<{ id: string }>`select id`',
      'sql<Map<string, number>>`x`',
      'sql.raw(type)',
      'sql.ref(flag)',
    ]) {
      expect(RAW.test(line), line).toBe(true);
    }
    for (const line of ["db.selectFrom('codes')", "import { sql } from 'kysely';", 'const mysql = 1;'])
      expect(RAW.test(line), line).toBe(false);
  });
});

/**
 * The cross-area repo imports docs/ARCHITECTURE.md ("Boundaries: the rule as it is") lists, and
 * no others: every other use of another area goes through its service.
 */
const CROSS_AREA_REPO_IMPORTS = [
  'src/modules/assignments/service.ts -> pools/repo.ts',
  'src/modules/conductor/engine.ts -> contacts/repo.ts',
  'src/modules/conductor/engine.ts -> segmentation/repo.ts',
  'src/modules/conductor/publish.ts -> pools/repo.ts',
  'src/modules/conductor/publish.ts -> segmentation/repo.ts',
  'src/modules/conductor/service.ts -> segmentation/repo.ts',
  'src/modules/conductor/steps.ts -> pools/repo.ts',
  'src/modules/conductor/usage.ts -> pools/repo.ts',
  'src/modules/events/service.ts -> contacts/repo.ts',
  'src/modules/uploads/service.ts -> pools/repo.ts',
];

describe('boundaries between areas', () => {
  it("a module imports another area's repo or statements only where ARCHITECTURE lists it", () => {
    const root = join(import.meta.dirname, '../..');
    const found = sources(join(root, 'src/modules'))
      .map((f) => relative(root, f).split('\\').join('/'))
      .flatMap((f) =>
        [...readFileSync(join(root, f), 'utf8').matchAll(/from '\.\.\/([a-z-]+)\/(repo|[a-z-]+\.sql)\.ts'/g)].map(
          (m) => `${f} -> ${m[1]}/${m[2]}.ts`,
        ),
      );
    expect([...new Set(found)].sort()).toEqual(CROSS_AREA_REPO_IMPORTS);
  });
});
