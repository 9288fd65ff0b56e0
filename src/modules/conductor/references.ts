import type { Liquid } from 'liquidjs';
import { createEngine } from '../messages/liquid.ts';
import type { TemplatePart } from '../messages/template.ts';

let engine: Liquid | undefined;

/**
 * The ids of the fields a message's templates read (`{{ Group.Field }}`, `{{ Group["Field"] }}`),
 * given the account's groups. Templates that do not parse read nothing here (validation reports them).
 */
export function fieldsRead(parts: readonly TemplatePart[], groups: readonly { name: string; fields: readonly { id: string; name: string }[] }[]): Set<string> {
  engine ??= createEngine({ escapeHtml: false, timeZone: 'UTC', catchAllErrors: true });
  const byName = new Map(groups.map((g) => [g.name, new Map(g.fields.map((f) => [f.name, f.id]))]));
  const used = new Set<string>();
  for (const part of parts) {
    let analysis;
    try {
      analysis = engine.analyzeSync(engine.parse(part.source), { partials: false });
    } catch {
      continue;
    }
    for (const variables of Object.values(analysis.globals)) {
      for (const v of variables) {
        const [root, property] = v.segments;
        if (typeof root !== 'string' || property === undefined || typeof property === 'object') continue;
        const id = byName.get(root)?.get(String(property));
        if (id) used.add(id);
      }
    }
  }
  return used;
}
