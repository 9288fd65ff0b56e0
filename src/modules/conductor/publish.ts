/**
 * The publish check against what exists now: the catalog (pools, fields, messages, coupon fields
 * other conversations fill) that the pure check (check.ts) reads, for every step of the tree.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import { findPool } from '../pools/repo.ts';
import { listGroups } from '../segmentation/repo.ts';
import { catalogOf } from '../segmentation/model.ts';
import { validateTemplates } from '../messages/template.ts';
import { partsOf } from './message-step.ts';
import { fieldsRead } from './references.ts';
import { allSteps, checkForPublish, type ConversationDocument, type PublishCatalog, type PublishIssue } from './model.ts';
import * as repo from './repo.ts';

/** The publish checks for the draft against what exists now. */
export async function publishCheck(
  tx: Kysely<DB>,
  accountId: string,
  conversationId: string,
  doc: ConversationDocument,
): Promise<{ errors: PublishIssue[]; warnings: PublishIssue[] }> {
  const groups = await listGroups(tx, accountId);
  const fields = new Map(groups.flatMap((g) => g.fields.map((f) => [f.id, { group: g.name, name: f.name, type: f.type }] as const)));
  const pools: PublishCatalog['pools'] = new Map();
  const messageIds = new Set<string>();
  for (const s of allSteps(doc.steps)) {
    if (s.type === 'action' && s.action.type === 'assignCoupon' && !pools.has(s.action.poolId)) {
      const pool = await findPool(tx, accountId, s.action.poolId);
      if (pool) pools.set(pool.id, { merchantId: pool.merchantId, name: pool.name, defaultCode: pool.defaultCode !== null });
    }
    if (s.type === 'message') messageIds.add(s.messageId);
  }
  const existing = messageIds.size
    ? await tx
        .selectFrom('messages')
        .select('id')
        .where('account_id', '=', accountId)
        .where('id', 'in', [...messageIds])
        .execute()
    : [];
  const couponFieldsElsewhere = new Set<string>();
  for (const other of await repo.accountDocuments(tx, accountId)) {
    if (other.id === conversationId) continue;
    for (const s of allSteps(other.draft.steps)) {
      if (s.type === 'action' && s.action.type === 'assignCoupon') {
        couponFieldsElsewhere.add(s.action.saveCodeTo);
        if (s.action.saveExpirationTo) couponFieldsElsewhere.add(s.action.saveExpirationTo);
      }
    }
  }
  const catalog = catalogOf(groups);
  return checkForPublish(doc, {
    pools,
    fields,
    messages: new Set(existing.map((m) => m.id)),
    templateProblems: (m) =>
      validateTemplates(partsOf(m), catalog).map((i) => `${i.field} line ${i.line}${i.column ? `, column ${i.column}` : ''}: ${i.message}`),
    fieldsUsed: (m) => fieldsRead(partsOf(m), groups),
    couponFieldsElsewhere,
  });
}
