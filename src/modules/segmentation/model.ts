/**
 * Field groups and typed fields: pure rules, no I/O.
 * A group is a top-level variable in message templates (`{{ ShopperInfo.SCA10Off }}`), so its
 * name may not be `contact` (the contact's own properties) and may not hold a dot (the CSV
 * import header reads `<group>.<field>` up to the first dot).
 */
import { z } from 'zod';
import { snippetFor, type FieldType } from '../messages/snippets.ts';
import type { FieldCatalog } from '../messages/model.ts';

export type { FieldType };

export interface Field {
  id: string;
  groupId: string;
  name: string;
  type: FieldType;
  snippet: string;
}

export interface FieldGroup {
  id: string;
  name: string;
  fields: Field[];
  createdAt: Date;
}

export const MAX_NAME_LENGTH = 100;

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

function nameProblem(name: string): string | null {
  if (name.length === 0) return 'must not be empty';
  if (name.length > MAX_NAME_LENGTH) return `must be at most ${MAX_NAME_LENGTH} characters`;
  if (CONTROL.test(name)) return 'must not contain control characters';
  if (name !== name.trim()) return 'must not start or end with spaces';
  return null;
}

/** Why `name` cannot name a field group, or null. */
export function groupNameProblem(name: string): string | null {
  const problem = nameProblem(name);
  if (problem) return problem;
  if (name.includes('.')) return 'must not contain "." (imports read "<group>.<field>" column names)';
  if (name === 'contact') return '"contact" is reserved: templates read the contact as {{ contact.email }}';
  return null;
}

/** Why `name` cannot name a field, or null. Any other text is fine: snippets use brackets. */
export const fieldNameProblem = nameProblem;

export const toField = (f: { id: string; groupId: string; name: string; type: FieldType }, groupName: string): Field => ({
  ...f,
  snippet: snippetFor(groupName, f.name, f.type),
});

/** What templates are validated against: group and field names with their types. */
export const catalogOf = (groups: readonly FieldGroup[]): FieldCatalog => ({
  groups: groups.map((g) => ({ name: g.name, fields: g.fields.map((f) => ({ name: f.name, type: f.type })) })),
});

// ---------------------------------------------------------------------------------------------
// The API's answers (routes.ts serializes them; the console reads them: web/src/api.ts)

export const fieldType = z.enum(['text', 'date', 'number', 'boolean']);

export const fieldOut = z.object({ id: z.string(), groupId: z.string(), name: z.string(), type: fieldType, snippet: z.string() });

export const groupOut = z.object({ id: z.string(), name: z.string(), fields: z.array(fieldOut), createdAt: z.string() });
export type FieldJson = z.infer<typeof fieldOut>;
export type FieldGroupJson = z.infer<typeof groupOut>;
