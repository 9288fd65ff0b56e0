/**
 * Reading a committed message's templates as text (no Liquid), so that the console and the server
 * decide the same: which fields it names, whether it shows one without a fallback.
 */
import { fieldReference } from '../messages/snippets.ts';
import type { CommittedMessage } from './document.ts';

/** A message's templates: subject, HTML body and text body. */
export const templatesOf = (m: Pick<CommittedMessage, 'subject' | 'html' | 'text'>): string[] => [
  m.subject,
  m.html,
  ...(m.text !== null ? [m.text] : []),
];

const OUTPUT_TAG = /\{\{-?([\s\S]*?)-?\}\}/g;
/** An expression with the spaces Liquid ignores dropped (around `. [ ] | : ,`) and `['x']` as `["x"]`. */
const squeeze = (expression: string) =>
  expression
    .replace(/\s+/g, ' ')
    .replace(/ ?([.[\]|:,]) ?/g, '$1')
    .replace(/\['((?:[^'\\]|\\.)*)'\]/g, '["$1"]')
    .trim();

/**
 * Whether a message shows the variable `reference` (`Group.Field`, `Group["A field"]`) in an output
 * tag without a `| default:` fallback. Pure text reading (no Liquid): the console and the server
 * decide the same.
 */
export function showsWithoutFallback(message: Pick<CommittedMessage, 'subject' | 'html' | 'text'>, reference: string): boolean {
  const wanted = squeeze(reference);
  for (const source of templatesOf(message)) {
    for (const [, expression] of source.matchAll(OUTPUT_TAG)) {
      const e = squeeze(expression!);
      if (!e.startsWith(wanted)) continue;
      const rest = e.slice(wanted.length);
      if (rest !== '' && !rest.startsWith('|')) continue;
      if (!/\|default:/.test(rest)) return true;
    }
  }
  return false;
}

/**
 * The ids of the fields a message's templates name (`{{ Group.Field }}`, `{% if Group["A field"] %}`),
 * by text: the console's reading (the server reads templates with Liquid, references.ts).
 */
export function fieldsNamed(
  message: Pick<CommittedMessage, 'subject' | 'html' | 'text'>,
  groups: readonly { name: string; fields: readonly { id: string; name: string }[] }[],
): Set<string> {
  const tags = templatesOf(message)
    .flatMap((source) => [...source.matchAll(/\{[{%]-?([\s\S]*?)-?[}%]\}/g)].map((m) => squeeze(m[1]!)))
    .join('\n');
  const used = new Set<string>();
  for (const g of groups) {
    for (const f of g.fields) {
      const ref = squeeze(fieldReference(g.name, f.name));
      for (let at = tags.indexOf(ref); at >= 0; at = tags.indexOf(ref, at + 1)) {
        // A whole reference: not the tail of `OtherGroup.Field`, not the head of `Group.Field2`.
        if (!/[A-Za-z0-9_.\]"]/.test(tags[at - 1] ?? '') && !/[A-Za-z0-9_]/.test(tags[at + ref.length] ?? '')) {
          used.add(f.id);
          break;
        }
      }
    }
  }
  return used;
}

/** Was the message edited since it was committed (what would be sent differs from it now)? */
export const changedSinceCommit = (
  committed: Pick<CommittedMessage, 'fromName' | 'fromEmail' | 'subject' | 'html' | 'text'>,
  message: { fromName: string; fromEmail: string; subject: string; html: string; text: string | null },
): boolean =>
  committed.fromName !== message.fromName ||
  committed.fromEmail !== message.fromEmail ||
  committed.subject !== message.subject ||
  committed.html !== message.html ||
  (committed.text ?? null) !== (message.text ?? null);
