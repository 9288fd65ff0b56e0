/**
 * Merge tags ("snippets") for fields: the exact text a marketer pastes into a message.
 * Every snippet is accepted by `validateTemplates` for a catalog holding the field and renders
 * the field's value (a date through the `date` filter, in the account's time zone).
 */

export type FieldType = 'text' | 'date' | 'number' | 'boolean';

/** The format a date field's snippet carries; the marketer may change it in the message. */
export const DEFAULT_DATE_FORMAT = '%m/%d/%Y';

/**
 * Names usable after a dot, and as a top-level variable. Liquid also accepts `-` and a trailing
 * `?`, but `-` reads like whitespace control next to `}}`; anything else gets bracket notation.
 */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Words Liquid reads as literals at the start of an expression, never as a variable. */
const LITERALS = new Set(['true', 'false', 'nil', 'null', 'empty', 'blank']);

/**
 * A Liquid double-quoted string literal for `name`: `"` and `\` escaped, control characters as
 * `\uXXXX` (Liquid's string reader understands the JavaScript escapes).
 */
export function quoteName(name: string): string {
  let out = '"';
  for (const ch of name) {
    const code = ch.charCodeAt(0);
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** `Group.field`, `Group["a field"]`, `["A group"].field`, … as a Liquid variable reference. */
export function fieldReference(groupName: string, fieldName: string): string {
  const group = IDENTIFIER.test(groupName) && !LITERALS.has(groupName) ? groupName : `[${quoteName(groupName)}]`;
  const field = IDENTIFIER.test(fieldName) ? `.${fieldName}` : `[${quoteName(fieldName)}]`;
  return group + field;
}

export function snippetFor(groupName: string, fieldName: string, type: FieldType): string {
  const reference = fieldReference(groupName, fieldName);
  switch (type) {
    case 'date':
      return `{{ ${reference} | date: ${quoteName(DEFAULT_DATE_FORMAT)} }}`;
    case 'text':
    case 'number':
    case 'boolean':
      return `{{ ${reference} }}`;
    default: {
      const never: never = type;
      throw new Error(`unknown field type ${String(never)}`);
    }
  }
}
