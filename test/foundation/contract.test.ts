import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * One contract for server and console: each module's model.ts holds the API's shapes and pure
 * rules, free of Node, SQL and HTTP, and the console (web/src) imports them instead of restating them.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [path] : [];
  });
/** A model.ts may be split: the files it re-exports whole (`export * from './document.ts'`) are part of the contract. */
const reExported = (model: string): string[] =>
  [...readFileSync(model, 'utf8').matchAll(/^export\s+\*\s+from\s+['"](\.[^'"]+)['"]/gm)].map((m) => resolve(dirname(model), m[1]!));
const models = readdirSync(join(root, 'src/modules'))
  .map((area) => join(root, 'src/modules', area, 'model.ts'))
  .filter((path) => statSync(path, { throwIfNoEntry: false })?.isFile())
  .flatMap((model) => [model, ...reExported(model)])
  // The one role/route table: pure, and the console shows each role what the server allows.
  .concat(join(root, 'src/modules/accounts/permissions.ts'))
  // The shapes every area shares (a list page, the error body).
  .concat(join(root, 'src/platform/shapes.ts'));
const webFiles = filesUnder(join(root, 'web/src'));

/** Every module a file imports or re-exports (`import type` included), as written. */
const importsOf = (source: string): string[] =>
  [...source.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm)].map(
    (m) => (m[1] ?? m[2])!,
  );
const IMPURE = /^(node:|kysely$|kysely\/|fastify|@fastify\/|pg$|pg-|@electric-sql\/)/;

/** The files reachable from `start` through relative imports, with the packages each one imports. */
function closure(start: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const specifiers = importsOf(readFileSync(file, 'utf8'));
    seen.set(
      file,
      specifiers.filter((s) => !s.startsWith('.')),
    );
    for (const s of specifiers) if (s.startsWith('.')) visit(resolve(dirname(file), s));
  };
  visit(start);
  return seen;
}

describe('the API contract (src/modules/*/model.ts)', () => {
  it('finds the models and the console', () => {
    expect(models.length).toBeGreaterThanOrEqual(10);
    // The conductor's model is split into pure files, each one checked like a model.ts.
    expect(models.filter((m) => m.includes('/conductor/')).length).toBeGreaterThanOrEqual(4);
    expect(webFiles.some((f) => f.endsWith('api.ts'))).toBe(true);
  });

  it('model.ts files import no Node module, no Kysely, no Fastify, not even through the files they import', () => {
    const problems: string[] = [];
    for (const model of models) {
      for (const [file, packages] of closure(model)) {
        for (const p of packages.filter((p) => IMPURE.test(p)))
          problems.push(`${relative(root, model)} → ${relative(root, file)} imports ${p}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the console reaches the server only through model.ts files', () => {
    const problems: string[] = [];
    for (const file of webFiles) {
      for (const s of importsOf(readFileSync(file, 'utf8'))) {
        const target = resolve(dirname(file), s);
        if (s.startsWith('.') && target.startsWith(join(root, 'src')) && !models.includes(target))
          problems.push(`${relative(root, file)} imports ${s}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('web/src declares no type or interface the contract already exports', () => {
    const exported = new Map<string, string>();
    for (const model of models) {
      for (const m of readFileSync(model, 'utf8').matchAll(
        /^export\s+(?:declare\s+)?(?:interface|type|const|function|class|enum)\s+([A-Za-z_$][\w$]*)/gm,
      ))
        exported.set(m[1]!, relative(root, model));
      for (const m of readFileSync(model, 'utf8').matchAll(/^export\s+(?:type\s+)?\{([^}]*)\}/gm)) {
        for (const name of m[1]!.split(',').map((n) =>
          n
            .trim()
            .split(/\s+as\s+/)
            .pop()!
            .replace(/^type\s+/, ''),
        ))
          if (name) exported.set(name, relative(root, model));
      }
    }
    expect(exported.has('PoolJson') && exported.has('ConversationJson') && exported.has('checkForPublish')).toBe(true);
    const restated: string[] = [];
    for (const file of webFiles) {
      // `interface X …` and `type X = …` (not the `type X,` of an import list)
      for (const m of readFileSync(file, 'utf8').matchAll(
        /^\s*(?:export\s+)?(?:declare\s+)?(?:interface\s+([A-Za-z_$][\w$]*)|type\s+([A-Za-z_$][\w$]*)\s*(?:<[^=]*>)?\s*=)/gm,
      )) {
        const name = (m[1] ?? m[2])!;
        if (exported.has(name)) restated.push(`${relative(root, file)} declares ${name}, which ${exported.get(name)} exports`);
      }
    }
    expect(restated).toEqual([]);
  });
});
