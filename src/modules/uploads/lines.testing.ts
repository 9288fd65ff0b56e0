import { Readable } from 'node:stream';
import { parseUpload, type LineRules, type UploadLine } from './lines.ts';

/** Helpers of the lines tests (lines.test.ts, lines.properties.test.ts). */
export type Chunk = string | Buffer;

export async function collect(input: Parameters<typeof parseUpload>[0], rules: Partial<LineRules> = {}): Promise<UploadLine[]> {
  const out: UploadLine[] = [];
  for await (const batch of parseUpload(input, { expiration: 'none', delimiter: ',', timeZone: 'UTC', ...rules })) out.push(...batch);
  return out;
}

export const read = (chunks: Chunk | Chunk[], rules: Partial<LineRules> = {}) =>
  collect(Readable.from(Array.isArray(chunks) ? chunks : [chunks]), rules);

/** Lines as compact text, for readable expectations: `2 ok CODE [date]` or `3 ✗ reason`. */
export const brief = (lines: UploadLine[]) =>
  lines.map((l) => (l.ok ? `${l.line} ok ${l.code}${l.expiresAt ? ` ${l.expiresAt.toISOString()}` : ''}` : `${l.line} ✗ ${l.reason}`));

/** Splits bytes at the given positions (any order, duplicates allowed). */
export function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    out.push(buf.subarray(from, p));
    from = p;
  }
  out.push(buf.subarray(from));
  return out;
}

/** The code rules, restated independently of `codeProblem`. */
export function satisfiesCodeRules(code: string): boolean {
  return code === code.trim() && [...code].length >= 1 && [...code].length <= 50 && !/[\p{Cc}\p{Cs}]/u.test(code);
}
