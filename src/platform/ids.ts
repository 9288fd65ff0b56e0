import { v7 as uuidv7 } from 'uuid';
import { createHash, randomBytes } from 'node:crypto';
import { currentUnitOfWork } from './db/unit-of-work.ts';

/**
 * Ids are UUIDv7 strings: unique, and in creation order, which keyset pagination relies on. The
 * unit of work of a call (the audit record) hears of each: the first one a create mints is the id
 * of what it created.
 */
export const newId = (): string => {
  const id = uuidv7();
  currentUnitOfWork()?.minted?.(id);
  return id;
};

/** An API token: 256 random bits, shown once, stored only as its SHA-256. */
export const newToken = (): string => `cf_${randomBytes(32).toString('base64url')}`;

// A fast hash is right here: tokens are long random secrets, not guessable passwords.
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * `count` UUIDv7 ids at once, in increasing order, for bulk inserts (an import's million rows):
 * `newId()` draws its randomness per call (~3 µs each). Layout: the 48-bit millisecond time, then
 * a 32-bit sequence starting at a random point (in rand_a and the top of rand_b), then 40 random
 * bits; version 7, variant 10.
 */
export function newIds(count: number, now = Date.now()): string[] {
  const time = now.toString(16).padStart(12, '0');
  const head = `${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
  const random = randomBytes(count * 5 + 4);
  const start = random.readUInt32BE(count * 5) >>> 1; // room for 2^31 ids before the sequence wraps
  const ids = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const seq = (start + i).toString(16).padStart(8, '0');
    const r = i * 5;
    ids[i] =
      `${head}${seq.slice(0, 3)}-8${seq.slice(3, 6)}-${seq.slice(6, 8)}${HEX[random[r]!]}${HEX[random[r + 1]!]}${HEX[random[r + 2]!]}${HEX[random[r + 3]!]}${HEX[random[r + 4]!]}`;
  }
  return ids;
}
