import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashing: scrypt (Node's crypto), parameters written here and stored in each hash, so
 * they can be raised later without breaking stored ones. N = 2^15, r = 8, p = 1: 32 MiB and some
 * tens of milliseconds per hash (OWASP's scrypt minimum is N = 2^17 with r = 8 for interactive
 * sign-in on dedicated hardware; 2^15 is what a 2-core box serving the API alongside can afford,
 * and the sign-in throttle bounds online guessing). The async `scrypt` runs on libuv's thread pool:
 * the event loop never hashes.
 */
const PARAMS = { cost: 2 ** 15, blockSize: 8, parallelization: 1, keyLength: 32, saltLength: 16 } as const;
const MAXMEM = 64 * 1024 * 1024;

function derive(password: string, salt: Buffer, options: ScryptOptions, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, keyLength, { ...options, maxmem: MAXMEM }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** `scrypt$<log2 N>$<r>$<p>$<salt>$<key>` (base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(PARAMS.saltLength);
  const key = await derive(password, salt, { N: PARAMS.cost, r: PARAMS.blockSize, p: PARAMS.parallelization }, PARAMS.keyLength);
  return [
    'scrypt',
    Math.log2(PARAMS.cost),
    PARAMS.blockSize,
    PARAMS.parallelization,
    salt.toString('base64url'),
    key.toString('base64url'),
  ].join('$');
}

/** Constant-time comparison of the derived key; a malformed stored hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [logN, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![logN, r, p].every(Number.isInteger) || logN < 10 || logN > 20 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (expected.length < 16) return false;
  const key = await derive(password, salt, { N: 2 ** logN, r, p }, expected.length);
  return timingSafeEqual(key, expected);
}

/** A hash that matches nothing, checked when the address is unknown: the answer takes as long. */
let dummy: Promise<string> | undefined;
export const dummyHash = () => (dummy ??= hashPassword(randomBytes(24).toString('base64url')));
