import { expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { renderSchema, schemaDocument } from '../../src/platform/db/schema-doc.ts';

it('docs/schema.sql is what the migrations build (run `npm run schema` after adding one)', async () => {
  const doc = readFileSync(new URL('../../docs/schema.sql', import.meta.url), 'utf8');
  expect(doc).toBe(await schemaDocument());
}, 300_000);

it('the rendering names every column, constraint and free-standing index', () => {
  const text = renderSchema(
    {
      relations: [{ name: 't', kind: 'r', persistence: 'p' }],
      columns: [
        { table: 't', position: 1, column: 'id', type: 'bigint', not_null: true, default_value: null, identity: 'a', generated: '' },
        { table: 't', position: 2, column: 'name', type: 'text', not_null: false, default_value: "'x'::text", identity: '', generated: '' },
      ],
      indexes: [
        { tablename: 't', indexname: 't_pkey', indexdef: 'CREATE UNIQUE INDEX t_pkey ON t USING btree (id)' },
        { tablename: 't', indexname: 't_name_idx', indexdef: 'CREATE INDEX t_name_idx ON t USING btree (name)' },
      ],
      constraints: [{ table: 't', name: 't_pkey', type: 'p', definition: 'PRIMARY KEY (id)' }],
      triggers: [],
      functions: [],
      types: [],
    },
    1,
  );
  expect(text).toContain(
    "create table t (\n  id bigint generated always as identity not null,\n  name text default 'x'::text,\n  constraint t_pkey PRIMARY KEY (id)\n);",
  );
  expect(text).toContain('create index t_name_idx on t (name);');
  expect(text).not.toContain('t_pkey on');
});
