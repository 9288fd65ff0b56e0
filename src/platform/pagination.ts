import { createHash } from 'node:crypto';
import { z } from 'zod';
import { DomainError } from './errors.ts';
import type { Page } from './shapes.ts';

/** `?limit=&cursor=` on every list. The cursor is opaque to clients: the last id, encoded. */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});
export type PageQuery = z.infer<typeof pageQuery>;

export type { Page };

/**
 * A keyless checksum beside the id: a cursor cut short or edited by hand is refused instead of being
 * read as another position (which could repeat or skip rows). Not a signature: a forged cursor can
 * only page through the caller's own rows, as every list is scoped to its account.
 */
const checksum = (id: string) => createHash('sha256').update(`couponflow-cursor:${id}`).digest('base64url').slice(0, 8);

export const encodeCursor = (lastId: string): string => `${Buffer.from(lastId).toString('base64url')}.${checksum(lastId)}`;

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const decoded = Buffer.from(cursor.split('.')[0] ?? '', 'base64url').toString();
  if (!decoded || encodeCursor(decoded) !== cursor) {
    throw new DomainError('malformed', 'invalid_cursor', 'This cursor is not one we gave out.');
  }
  return decoded;
}

/** Rows were fetched with limit + 1: the extra row only tells that there is a next page. */
export function toPage<T>(rows: T[], limit: number, idOf: (row: T) => string): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(idOf(last)) : null };
}
