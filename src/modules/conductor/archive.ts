import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.ts';
import { DomainError } from '../../platform/errors.ts';
import type { Principal } from '../accounts/principal.ts';
import type { DB } from '../../schema.ts';
import * as repo from './repo.ts';

/*
 * Deleting and archiving conversations (docs/ARCHITECTURE.md, "Data lifecycle"; issue 19 item 3).
 * - DELETE: only a conversation never published (no version, hence no run, no step run, no mail)
 *   is removed; one that was ever published is archived instead (409 `conversation_published`).
 * - Archive: the conversation enrolls nobody any more; runs in progress are not ended: they finish
 *   on their version (exit events and redemptions still end them). A paused conversation whose runs
 *   are held is refused (409 `runs_held`, with their number): archived, they would hold forever —
 *   resume it first (its runs then finish), or end them by pausing no more. Archived conversations are
 *   listed apart (`?archived=true`); publish refuses one (409 `conversation_archived`); unarchive
 *   brings it back as it was (a live one enrolls again).
 * Locks: the conversation row FOR UPDATE (as publish, pause and edits take it), then its runs are counted.
 */

export function archiveOps(deps: {
  db: Kysely<DB>;
  clock: Clock;
  /** The conversation, checked against the caller's merchant scope (404/403), locked in `tx`. */
  load: (principal: Principal, id: string, tx: Kysely<DB>, lock: boolean) => Promise<repo.ConversationRow>;
}) {
  async function deleteConversation(principal: Principal, id: string): Promise<void> {
    await deps.db.transaction().execute(async (tx) => {
      const row = await deps.load(principal, id, tx, true);
      if (row.live_version !== null)
        throw new DomainError(
          'conflict',
          'conversation_published',
          `The conversation "${row.name}" was published (version ${row.live_version}): archive it instead (POST /v1/conversations/${id}/archive).`,
          [{ type: 'conversation', id, name: row.name, status: row.status }],
        );
      await repo.deleteDraftConversation(tx, principal.accountId, id);
    });
  }

  async function setArchived(principal: Principal, id: string, archive: boolean): Promise<void> {
    await deps.db.transaction().execute(async (tx) => {
      const row = await deps.load(principal, id, tx, true);
      if (archive === (row.archived_at !== null)) return;
      if (archive && row.status === 'paused') {
        const held = await repo.countRuns(tx, principal.accountId, id, ['held']);
        if (held > 0)
          throw new DomainError(
            'conflict',
            'runs_held',
            `The conversation "${row.name}" is paused with ${held} run(s) held: resume it first (its runs then finish on their version), then archive it.`,
            [{ type: 'conversation', id, name: row.name, status: row.status, heldRuns: held }],
          );
      }
      await repo.setConversationArchived(tx, principal.accountId, id, archive ? deps.clock.now() : null, deps.clock.now());
    });
  }

  return { deleteConversation, setArchived };
}
