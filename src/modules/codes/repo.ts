import type { Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import { codesPageStatement, type CodeRow } from './codes.sql.ts';

type Q = Kysely<DB>;
export type { CodeFilter, CodeRow, CodeStatus } from './codes.sql.ts';

/** A page of a pool's unique codes with their status, in code order (see codesPageStatement). */
export async function listCodes(db: Q, p: Parameters<typeof codesPageStatement>[0]): Promise<CodeRow[]> {
  return (await codesPageStatement(p).execute(db)).rows;
}

/** The key of one of this pool's uploads, if `uploadId` is one. */
export async function findUploadKey(db: Q, accountId: string, poolKey: number, uploadId: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('uploads')
    .select('key')
    .where('account_id', '=', accountId)
    .where('pool_key', '=', poolKey)
    .where('id', '=', uploadId)
    .executeTakeFirst();
  return row === undefined ? undefined : Number(row.key);
}
