import { v7 as uuidv7 } from 'uuid';
import { createHash, randomBytes } from 'node:crypto';

/** Ids are UUIDv7 strings: unique, and in creation order, which keyset pagination relies on. */
export const newId = (): string => uuidv7();

/** An API token: 256 random bits, shown once, stored only as its SHA-256. */
export const newToken = (): string => `cf_${randomBytes(32).toString('base64url')}`;

// A fast hash is right here: tokens are long random secrets, not guessable passwords.
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');
