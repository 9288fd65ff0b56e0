import type { Kysely, Selectable } from 'kysely';
import type { DB } from '../../schema.ts';
import type { ConversationDocument, FrequencyCap } from './model.ts';

type Q = Kysely<DB>;

export * from './conductor.sql.ts';
export type ConversationRow = Selectable<DB['conversations']>;
export type EnrollmentRow = Selectable<DB['enrollments']>;
export type StepRunRow = Selectable<DB['step_runs']>;

// ---------------------------------------------------------------------------------------------
// Conversations and versions

export async function insertConversation(db: Q, row: ConversationRow): Promise<void> {
  await db
    .insertInto('conversations')
    .values({ ...row, draft: JSON.stringify(row.draft) })
    .execute();
}

export async function findConversation(db: Q, accountId: string, id: string, lock = false): Promise<ConversationRow | undefined> {
  let q = db.selectFrom('conversations').selectAll().where('account_id', '=', accountId).where('id', '=', id);
  if (lock) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function listConversations(
  db: Q,
  accountId: string,
  page: { after: string | undefined; limit: number; exclude?: string[]; archived?: boolean },
): Promise<ConversationRow[]> {
  let q = db
    .selectFrom('conversations')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('archived_at', page.archived ? 'is not' : 'is', null);
  if (page.exclude?.length) q = q.where('id', 'not in', page.exclude);
  if (page.after) q = q.where('id', '>', page.after);
  return q.orderBy('id').limit(page.limit).execute();
}

export async function saveDraft(db: Q, accountId: string, id: string, draft: ConversationDocument, now: Date): Promise<void> {
  await db
    .updateTable('conversations')
    .set({ draft: JSON.stringify(draft), name: draft.name, trigger_event: draft.trigger.event, updated_at: now })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .execute();
}

export async function setStatus(
  db: Q,
  accountId: string,
  id: string,
  status: ConversationRow['status'],
  now: Date,
  liveVersion?: number,
): Promise<void> {
  await db
    .updateTable('conversations')
    .set({ status, updated_at: now, ...(liveVersion !== undefined ? { live_version: liveVersion } : {}) })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .execute();
}

export async function insertVersion(
  db: Q,
  v: { accountId: string; conversationId: string; version: number; document: ConversationDocument; publishedAt: Date },
): Promise<void> {
  await db
    .insertInto('conversation_versions')
    .values({
      account_id: v.accountId,
      conversation_id: v.conversationId,
      version: v.version,
      document: JSON.stringify(v.document),
      trigger_event: v.document.trigger.event,
      exit_events: v.document.exitEvents,
      published_at: v.publishedAt,
    })
    .execute();
}

/** Every draft and live document of the account (coupon fields filled elsewhere, at publish). */
export async function accountDocuments(db: Q, accountId: string): Promise<{ id: string; draft: ConversationDocument }[]> {
  const rows = await db.selectFrom('conversations').select(['id', 'draft']).where('account_id', '=', accountId).execute();
  return rows.map((r) => ({ id: r.id, draft: r.draft }));
}

// ---------------------------------------------------------------------------------------------
// Events: enrollment and exits

/** Live, unarchived conversations started by `eventType`, with their live version. */
export async function conversationsTriggeredBy(db: Q, accountId: string, eventType: string) {
  return db
    .selectFrom('conversations as c')
    .innerJoin('conversation_versions as v', (j) => j.onRef('v.conversation_id', '=', 'c.id').onRef('v.version', '=', 'c.live_version'))
    .select(['c.id', 'c.live_version', 'v.document'])
    .where('c.account_id', '=', accountId)
    .where('c.status', '=', 'live')
    .where('c.archived_at', 'is', null)
    .where('v.trigger_event', '=', eventType)
    .execute();
}

// ---------------------------------------------------------------------------------------------
// The engine

export async function findEnrollment(db: Q, accountId: string, conversationId: string, id: string): Promise<EnrollmentRow | undefined> {
  return db
    .selectFrom('enrollments')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('conversation_id', '=', conversationId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** The step runs of these runs at these steps (what earlier assignCoupon steps gave, for coupon conditions). */
export async function stepRunsAt(db: Q, enrollmentIds: string[], stepIds: string[]): Promise<StepRunRow[]> {
  if (enrollmentIds.length === 0 || stepIds.length === 0) return [];
  return db.selectFrom('step_runs').selectAll().where('enrollment_id', 'in', enrollmentIds).where('step_id', 'in', stepIds).execute();
}

/** The accounts' frequency caps (absent: none). */
export async function frequencyCaps(db: Q, accountIds: string[]): Promise<Map<string, FrequencyCap>> {
  if (accountIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('conductor_settings')
    .select(['account_id', 'frequency_cap'])
    .where('account_id', 'in', accountIds)
    .where('frequency_cap', 'is not', null)
    .execute();
  return new Map(rows.flatMap((r) => (r.frequency_cap === null ? [] : [[r.account_id, r.frequency_cap] as const])));
}

export async function saveFrequencyCap(db: Q, accountId: string, cap: FrequencyCap | null, now: Date): Promise<void> {
  const value = cap === null ? null : JSON.stringify(cap);
  await db
    .insertInto('conductor_settings')
    .values({ account_id: accountId, frequency_cap: value, updated_at: now })
    .onConflict((oc) => oc.column('account_id').doUpdateSet({ frequency_cap: value, updated_at: now }))
    .execute();
}

/** A batch's accounts: each one's time zone and frequency cap (null: none), in one read. */
export async function batchSettings(
  db: Q,
  accountIds: string[],
): Promise<Map<string, { timeZone: string; frequencyCap: FrequencyCap | null }>> {
  if (accountIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('accounts as a')
    .leftJoin('conductor_settings as s', 's.account_id', 'a.id')
    .select(['a.id', 'a.time_zone', 's.frequency_cap'])
    .where('a.id', 'in', accountIds)
    .execute();
  return new Map(rows.map((r) => [r.id, { timeZone: r.time_zone, frequencyCap: (r.frequency_cap ?? null) as FrequencyCap | null }]));
}

// ---------------------------------------------------------------------------------------------
// Reading it back

export async function listEnrollments(
  db: Q,
  accountId: string,
  conversationId: string,
  page: { after: string | undefined; limit: number },
): Promise<EnrollmentRow[]> {
  let q = db.selectFrom('enrollments').selectAll().where('account_id', '=', accountId).where('conversation_id', '=', conversationId);
  if (page.after) q = q.where('id', '>', page.after);
  return q.orderBy('id').limit(page.limit).execute();
}

export async function enrollmentsOfContact(db: Q, accountId: string, contactId: string): Promise<EnrollmentRow[]> {
  return db
    .selectFrom('enrollments')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('contact_id', '=', contactId)
    .orderBy('id')
    .execute();
}

export async function stepRunsOf(db: Q, enrollmentIds: string[]): Promise<StepRunRow[]> {
  if (enrollmentIds.length === 0) return [];
  return db.selectFrom('step_runs').selectAll().where('enrollment_id', 'in', enrollmentIds).orderBy('at').execute();
}

/** Per conversation and step: step runs by outcome (a split's by the branch it took, too). */
export async function stepOutcomeCounts(db: Q, conversationIds: string[]) {
  if (conversationIds.length === 0) return [];
  return db
    .selectFrom('step_runs')
    .select((eb) => [
      'conversation_id',
      'step_id',
      'outcome',
      eb.case().when('outcome', '=', 'branch').then(eb.ref('detail')).else(null).end().as('branch'),
      eb.fn.countAll<number>().as('n'),
    ])
    .where('conversation_id', 'in', conversationIds)
    .groupBy(['conversation_id', 'step_id', 'outcome', 'branch'])
    .execute();
}

/** The drafts of these conversations (every step the editor shows gets its counts). */
export async function draftDocuments(db: Q, conversationIds: string[]): Promise<Map<string, ConversationDocument>> {
  if (conversationIds.length === 0) return new Map();
  const rows = await db.selectFrom('conversations').select(['id', 'draft']).where('id', 'in', conversationIds).execute();
  return new Map(rows.map((r) => [r.id, r.draft]));
}

// ---------------------------------------------------------------------------------------------
// Events in bulk (POST /v1/events/batch): each contact at most once per call

// ---------------------------------------------------------------------------------------------
// Merchant scope

/** The draft and every published version of the account's conversations. */
export async function scopeDocuments(db: Q, accountId: string): Promise<{ conversationId: string; document: ConversationDocument }[]> {
  const drafts = db.selectFrom('conversations').select(['id as conversationId', 'draft as document']).where('account_id', '=', accountId);
  const versions = db
    .selectFrom('conversation_versions')
    .select(['conversation_id as conversationId', 'document'])
    .where('account_id', '=', accountId);
  const rows = await drafts.unionAll(versions).execute();
  return rows.map((r) => ({ conversationId: r.conversationId, document: r.document }));
}

/** Pool id → the merchant that owns it (a read of the pools table: which merchant a step uses). */
export async function poolMerchants(db: Q, accountId: string, poolIds: string[]): Promise<Map<string, string>> {
  if (poolIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('pools')
    .select(['id', 'merchant_id'])
    .where('account_id', '=', accountId)
    .where('id', 'in', poolIds)
    .execute();
  return new Map(rows.map((r) => [r.id, r.merchant_id]));
}

export async function listConversationIds(db: Q, accountId: string): Promise<string[]> {
  return (await db.selectFrom('conversations').select('id').where('account_id', '=', accountId).execute()).map((r) => r.id);
}

// ---------------------------------------------------------------------------------------------
// Lifecycle (archive.ts)

/** A conversation never published: no version, no run refers to it. */
export async function deleteDraftConversation(db: Q, accountId: string, id: string): Promise<void> {
  await db.deleteFrom('conversations').where('account_id', '=', accountId).where('id', '=', id).where('live_version', 'is', null).execute();
}

export async function setConversationArchived(db: Q, accountId: string, id: string, at: Date | null, now: Date): Promise<void> {
  await db
    .updateTable('conversations')
    .set({ archived_at: at, updated_at: now })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .execute();
}

export async function countRuns(db: Q, accountId: string, conversationId: string, statuses: EnrollmentRow['status'][]): Promise<number> {
  const row = await db
    .selectFrom('enrollments')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('account_id', '=', accountId)
    .where('conversation_id', '=', conversationId)
    .where('status', 'in', statuses)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
