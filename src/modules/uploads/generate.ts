import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { MAX_CODE_LENGTH, codeProblem } from './lines.ts';

/**
 * Generated codes: `count` random codes of `prefix` + `length` characters drawn
 * uniformly from an alphabet. Uniqueness is the database's business: codes that collide are
 * counted as duplicates and the caller asks for more.
 */

/** Upper-case letters and digits without the look-alikes 0/O and 1/I: 32 characters. */
export const DEFAULT_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

export interface GenerateSpec {
  count: number;
  length: number;
  prefix?: string | undefined;
  alphabet?: string | undefined;
}

export interface FieldProblem {
  field: string;
  message: string;
}

export const MAX_GENERATE_COUNT = 10_000_000;
export const MIN_GENERATE_LENGTH = 4;
/** Alphabets beyond 256 characters would need more than a byte per draw; none is that useful. */
export const MAX_ALPHABET_SIZE = 256;
/** The space of codes must hold this many times the codes asked for, so collisions stay rare. */
export const SPACE_FACTOR = 100;

/** Characters an alphabet may not use: they break CSV, COPY, emails or a customer's typing. */
const FORBIDDEN = /[\s,"'`\\]/u;

const isWholeIn = (n: unknown, min: number, max: number): n is number =>
  typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;

/** Problems with a request to generate codes, each naming its field; empty when it is fine. */
export function checkGenerateRequest(spec: GenerateSpec): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });

  const countOk = isWholeIn(spec.count, 1, MAX_GENERATE_COUNT);
  if (!countOk) problem('count', `count must be a whole number from 1 to ${MAX_GENERATE_COUNT.toLocaleString('en-US')}`);

  const prefix: unknown = spec.prefix ?? '';
  const prefixLength = typeof prefix === 'string' ? [...prefix].length : 0;
  if (typeof prefix !== 'string') problem('prefix', 'prefix must be text');
  else if (prefix !== '') {
    const bad = codeProblem(prefix)?.replace(/^code/, 'prefix');
    if (prefix !== prefix.trim()) problem('prefix', 'prefix may not begin or end with spaces');
    else if (bad && !/longer than/.test(bad)) problem('prefix', bad);
  }

  const lengthOk = isWholeIn(spec.length, MIN_GENERATE_LENGTH, MAX_CODE_LENGTH);
  if (!lengthOk) problem('length', `length must be a whole number from ${MIN_GENERATE_LENGTH} to ${MAX_CODE_LENGTH}`);
  else if (prefixLength + spec.length > MAX_CODE_LENGTH) {
    problem('length', `prefix (${prefixLength}) and length (${spec.length}) make codes longer than ${MAX_CODE_LENGTH} characters`);
  }

  const alphabet = alphabetProblems(spec.alphabet ?? DEFAULT_ALPHABET);
  if (typeof alphabet === 'string') problem('alphabet', alphabet);

  if (countOk && lengthOk && typeof alphabet !== 'string') {
    const possible = BigInt(alphabet.length) ** BigInt(spec.length);
    const needed = BigInt(spec.count) * BigInt(SPACE_FACTOR);
    if (possible < needed) {
      problem(
        'length',
        `only ${possible.toLocaleString('en-US')} codes are possible with ${alphabet.length} characters and length ${spec.length}; ` +
          `${SPACE_FACTOR} × count (${needed.toLocaleString('en-US')}) are needed so that random codes rarely collide: use a longer length or a larger alphabet`,
      );
    }
  }
  return problems;
}

/** The alphabet's characters (code points), or what is wrong with it. */
function alphabetProblems(alphabet: unknown): string[] | string {
  if (typeof alphabet !== 'string') return 'alphabet must be text';
  const chars = [...alphabet];
  const seen = new Set<string>();
  for (const ch of chars) {
    if (FORBIDDEN.test(ch)) return `alphabet may not contain whitespace, commas, quotes or backslashes (found ${JSON.stringify(ch)})`;
    const bad = codeProblem(ch);
    if (bad) return bad.replace(/^code/, 'alphabet');
    if (seen.has(ch)) return `alphabet repeats ${JSON.stringify(ch)}: each character must appear once, or some would come up more often`;
    seen.add(ch);
  }
  if (chars.length < 2) return 'alphabet needs at least 2 different characters';
  if (chars.length > MAX_ALPHABET_SIZE) return `alphabet may have at most ${MAX_ALPHABET_SIZE} characters`;
  return chars;
}

/** Random bytes in blocks: one call serves many codes. */
const BLOCK_BYTES = 64 * 1024;

/**
 * Yields `count` codes, each `prefix` + `length` characters drawn uniformly from the alphabet:
 * a random byte is kept only below the largest multiple of the alphabet size (rejection
 * sampling), so no character is favoured. Throws RangeError for a spec `checkGenerateRequest`
 * refuses. `randomBytes` is replaceable for tests.
 */
export function* generateCodes(spec: GenerateSpec, randomBytes: (size: number) => Uint8Array = cryptoRandomBytes): Generator<string> {
  const problems = checkGenerateRequest(spec);
  if (problems.length > 0) throw new RangeError(problems.map((p) => `${p.field}: ${p.message}`).join('; '));
  const chars = alphabetProblems(spec.alphabet ?? DEFAULT_ALPHABET) as string[];
  const n = chars.length;
  const limit = 256 - (256 % n); // bytes at or above it would favour the first characters
  const prefix = spec.prefix ?? '';
  const { count, length } = spec;
  // Expected bytes for all codes, with room for rejections; at most one block at a time.
  const wanted = Math.ceil(((count * length * 256) / limit) * 1.05) + 16;
  let block: Uint8Array = new Uint8Array(0);
  let at = 0;
  for (let made = 0; made < count; made++) {
    let code = prefix;
    for (let i = 0; i < length;) {
      if (at === block.length) {
        block = randomBytes(Math.min(BLOCK_BYTES, wanted));
        at = 0;
        if (block.length === 0) throw new Error('randomBytes returned no bytes');
      }
      const byte = block[at++]!;
      if (byte < limit) {
        code += chars[byte % n]!;
        i++;
      }
    }
    yield code;
  }
}
