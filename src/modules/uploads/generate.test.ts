import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ALPHABET, checkGenerateRequest, generateCodes, type GenerateSpec } from './generate.ts';
import { codeProblem } from './lines.ts';

/** A seeded source of bytes (xorshift32), so statistics are reproducible. */
function seededBytes(seed: number) {
  let x = seed | 0 || 1;
  const sizes: number[] = [];
  const randomBytes = (size: number) => {
    sizes.push(size);
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x >>> 24;
    }
    return out;
  };
  return { randomBytes, sizes };
}

const fields = (spec: GenerateSpec) => checkGenerateRequest(spec).map((p) => p.field);
const messages = (spec: GenerateSpec) => checkGenerateRequest(spec).map((p) => p.message);

describe('DEFAULT_ALPHABET', () => {
  it('has 32 distinct characters and none of the look-alikes 0, O, 1, I', () => {
    expect(new Set(DEFAULT_ALPHABET).size).toBe(32);
    expect(DEFAULT_ALPHABET).not.toMatch(/[0O1I]/);
  });
});

describe('checkGenerateRequest', () => {
  it('accepts a sound request', () => {
    expect(checkGenerateRequest({ count: 1000, length: 8 })).toEqual([]);
    expect(checkGenerateRequest({ count: 10_000_000, length: 12, prefix: 'SUMMER-', alphabet: 'abcdef0123456789' })).toEqual([]);
    expect(checkGenerateRequest({ count: 1, length: 4, alphabet: 'ÄÖÜ😀' })).toEqual([]);
  });

  it('bounds count to 1–10,000,000 whole codes', () => {
    for (const count of [0, -1, 1.5, 10_000_001, Number.NaN, '10' as unknown as number]) {
      expect(checkGenerateRequest({ count, length: 10 })).toEqual([
        { field: 'count', message: 'count must be a whole number from 1 to 10,000,000' },
      ]);
    }
  });

  it('bounds length to 4–50, prefix included', () => {
    expect(messages({ count: 1, length: 3 })).toEqual(['length must be a whole number from 4 to 50']);
    expect(messages({ count: 1, length: 51 })).toEqual(['length must be a whole number from 4 to 50']);
    expect(checkGenerateRequest({ count: 1, length: 50 })).toEqual([]);
    expect(checkGenerateRequest({ count: 1, length: 40, prefix: 'P'.repeat(10) })).toEqual([]);
    expect(checkGenerateRequest({ count: 1, length: 41, prefix: 'P'.repeat(10) })).toEqual([
      { field: 'length', message: 'prefix (10) and length (41) make codes longer than 50 characters' },
    ]);
  });

  it('keeps the prefix to characters a code may hold, without surrounding spaces', () => {
    expect(checkGenerateRequest({ count: 1, length: 8, prefix: ' X' })).toEqual([
      { field: 'prefix', message: 'prefix may not begin or end with spaces' },
    ]);
    expect(checkGenerateRequest({ count: 1, length: 8, prefix: 'X\u0001' })).toEqual([
      { field: 'prefix', message: 'prefix contains a control character (U+0001)' },
    ]);
    expect(checkGenerateRequest({ count: 1, length: 8, prefix: 'ÉTÉ 10%-' })).toEqual([]);
  });

  it.each([
    ['A', 'alphabet needs at least 2 different characters'],
    ['', 'alphabet needs at least 2 different characters'],
    ['ABCA', 'alphabet repeats "A": each character must appear once, or some would come up more often'],
    ['AB C', 'alphabet may not contain whitespace, commas, quotes or backslashes (found " ")'],
    ['AB,', 'alphabet may not contain whitespace, commas, quotes or backslashes (found ",")'],
    ['AB"', 'alphabet may not contain whitespace, commas, quotes or backslashes (found "\\"")'],
    ["AB'", `alphabet may not contain whitespace, commas, quotes or backslashes (found "'")`],
    ['AB\\', 'alphabet may not contain whitespace, commas, quotes or backslashes (found "\\\\")'],
    ['AB\u00a0', 'alphabet may not contain whitespace, commas, quotes or backslashes (found "\u00a0")'],
    ['AB\u0007', 'alphabet contains a control character (U+0007)'],
    ['AB\u200b', 'alphabet contains an invisible character (U+200B)'],
    [String.fromCodePoint(...Array.from({ length: 300 }, (_, i) => 0x4e00 + i)), 'alphabet may have at most 256 characters'],
  ])('refuses the alphabet %j', (alphabet, message) => {
    expect(checkGenerateRequest({ count: 1, length: 50, alphabet })).toEqual([{ field: 'alphabet', message }]);
  });

  it('needs 100 × count possible codes, and says how many there are', () => {
    expect(messages({ count: 1_000_000, length: 4 })).toEqual([
      'only 1,048,576 codes are possible with 32 characters and length 4; 100 × count (100,000,000) are needed so that random codes rarely collide: use a longer length or a larger alphabet',
    ]);
    // 2^20 = 1,048,576: enough for 10,485 codes, not for 10,486.
    expect(checkGenerateRequest({ count: 10_485, length: 20, alphabet: 'AB' })).toEqual([]);
    expect(fields({ count: 10_486, length: 20, alphabet: 'AB' })).toEqual(['length']);
    expect(checkGenerateRequest({ count: 10_000_000, length: 50, alphabet: 'AB' })).toEqual([]);
  });

  it('reports every field at once', () => {
    expect(fields({ count: 0, length: 2, prefix: ' ', alphabet: 'A' })).toEqual(['count', 'prefix', 'length', 'alphabet']);
  });
});

describe('generateCodes', () => {
  it('makes count codes of prefix + length characters from the alphabet', () => {
    const { randomBytes } = seededBytes(7);
    const codes = [...generateCodes({ count: 500, length: 10, prefix: 'SALE-' }, randomBytes)];
    expect(codes).toHaveLength(500);
    for (const code of codes) expect(code).toMatch(/^SALE-[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{10}$/);
    expect(new Set(codes).size).toBe(500);
  });

  it('counts characters as code points, for any alphabet', () => {
    const { randomBytes } = seededBytes(3);
    const alphabet = 'ÄÖÜ😀';
    for (const code of generateCodes({ count: 50, length: 48, prefix: '🎁-', alphabet }, randomBytes)) {
      const chars = [...code];
      expect(chars).toHaveLength(50);
      expect(chars.slice(2).every((c) => alphabet.includes(c))).toBe(true);
      expect(codeProblem(code)).toBeNull();
    }
  });

  it('drops the bytes that would favour some characters (rejection sampling)', () => {
    // 3 characters: bytes 0–254 map by remainder, 255 is dropped.
    const bytes = [255, 0, 255, 255, 4, 254, 3, 128, 255];
    let at = 0;
    const fixed = (size: number) => Uint8Array.from({ length: size }, () => bytes[at++ % bytes.length]!);
    expect([...generateCodes({ count: 1, length: 6, alphabet: 'XYZ' }, fixed)]).toEqual(['XYZXZX']);
  });

  it('is uniform: a seeded chi-squared test over 100 characters (plain modulo would favour 56 of them)', () => {
    const alphabet = String.fromCodePoint(...Array.from({ length: 100 }, (_, i) => 0x4e00 + i));
    const { randomBytes } = seededBytes(12345);
    const counts = new Map<string, number>();
    let total = 0;
    for (const code of generateCodes({ count: 10_000, length: 30, alphabet }, randomBytes)) {
      for (const ch of code) {
        counts.set(ch, (counts.get(ch) ?? 0) + 1);
        total++;
      }
    }
    expect(counts.size).toBe(100);
    const expected = total / 100;
    const chiSquared = [...counts.values()].reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    expect(chiSquared).toBeLessThan(148.2); // 99 degrees of freedom, p = 0.001
    // Modulo bias would give the first 56 characters 3/256 against 2/256: 50% more.
    const first = [...alphabet].slice(0, 56).reduce((s, ch) => s + counts.get(ch)!, 0) / 56;
    const rest = [...alphabet].slice(56).reduce((s, ch) => s + counts.get(ch)!, 0) / 44;
    expect(Math.abs(first / rest - 1)).toBeLessThan(0.02);
  });

  it('reads random bytes in large blocks', () => {
    const { randomBytes, sizes } = seededBytes(99);
    let n = 0;
    for (const _ of generateCodes({ count: 100_000, length: 8 }, randomBytes)) n++;
    expect(n).toBe(100_000);
    expect(sizes.length).toBeLessThanOrEqual(Math.ceil(800_000 / 65_536) + 1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(65_536);
  });

  it('asks only for the bytes a small request needs', () => {
    const { randomBytes, sizes } = seededBytes(5);
    expect([...generateCodes({ count: 1, length: 4 }, randomBytes)]).toHaveLength(1);
    expect(sizes).toEqual([21]);
  });

  it('uses crypto.randomBytes by default', () => {
    const [a, b] = [...generateCodes({ count: 2, length: 16 })];
    expect(a).toMatch(/^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{16}$/);
    expect(a).not.toBe(b);
  });

  it('refuses a request checkGenerateRequest refuses', () => {
    expect(() => generateCodes({ count: 0, length: 8 }).next()).toThrow(RangeError);
  });

  it('any accepted request yields valid codes of the right shape', () => {
    const alphabetArb = fc
      .uniqueArray(fc.constantFrom(...'ABCDEFXYZ23456789abcxyz-_#%ÄÖ😀'), { minLength: 2, maxLength: 20 })
      .map((cs) => cs.join(''));
    fc.assert(
      fc.property(
        fc.record({
          count: fc.integer({ min: 1, max: 50 }),
          length: fc.integer({ min: 4, max: 50 }),
          prefix: fc.constantFrom('', 'P-', 'ÉTÉ'),
          alphabet: alphabetArb,
        }),
        fc.integer(),
        (spec, seed) => {
          fc.pre(checkGenerateRequest(spec).length === 0);
          const codes = [...generateCodes(spec, seededBytes(seed).randomBytes)];
          expect(codes).toHaveLength(spec.count);
          for (const code of codes) {
            expect(code.startsWith(spec.prefix)).toBe(true);
            const rest = [...code.slice(spec.prefix.length)];
            expect(rest).toHaveLength(spec.length);
            expect(rest.every((c) => spec.alphabet.includes(c))).toBe(true);
            expect(codeProblem(code)).toBeNull();
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
