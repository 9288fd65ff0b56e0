import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB } from '../../schema.ts';
import type { ConversationDocument } from './model.ts';

type Q = Kysely<DB>;
export type ConversationRow = Selectable<DB['conversations']>;
export type EnrollmentRow = Selectable<DB['enrollments']>;
export type StepRunRow = Selectable<DB['step_runs']>;

// ---------------------------------------------------------------------------------------------
// Conversations and versions

export async function insertConversation(db: Q, row: ConversationRow): Promise<void> {
  await db.insertInto('conversations').values({ ...row, draft: JSON.stringify(row.draft) }).execute();
}

export async function findConversation(db: Q, accountId: string, id: string, lock = false): Promise<ConversationRow | undefined> {
  let q = db.selectFrom('conversations').selectAll().where('account_id', '=', accountId).where('id', '=', id);
  if (lock) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function listConversations(db: Q, accountId: string, page: { after: string | undefined; limit: number; exclude?: string[] }): Promise<ConversationRow[]> {
  let q = db.selectFrom('conversations').selectAll().where('account_id', '=', accountId);
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

export async function setStatus(db: Q, accountId: string, id: string, status: ConversationRow['status'], now: Date, liveVersion?: number): Promise<void> {
  await db
    .updateTable('conversations')
    .set({ status, updated_at: now, ...(liveVersion !== undefined ? { live_version: liveVersion } : {}) })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .execute();
}

export async function insertVersion(db: Q, v: { accountId: string; conversationId: string; version: number; document: ConversationDocument; publishedAt: Date }): Promise<void> {
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

export async function findVersions(db: Q, keys: { conversationId: string; version: number }[]): Promise<Map<string, ConversationDocument>> {
  const found = new Map<string, ConversationDocument>();
  if (keys.length === 0) return found;
  const rows = await sql<{ conversation_id: string; version: number; document: ConversationDocument }>`
    select v.conversation_id, v.version, v.document
    from conversation_versions v
    join jsonb_to_recordset(${JSON.stringify(keys)}::jsonb) as k("conversationId" text, version integer)
      on v.conversation_id = k."conversationId" and v.version = k.version`.execute(db);
  for (const r of rows.rows) found.set(`${r.conversation_id}:${r.version}`, r.document);
  return found;
}

/** Every draft and live document of the account (coupon fields filled elsewhere, at publish). */
export async function accountDocuments(db: Q, accountId: string): Promise<{ id: string; draft: ConversationDocument }[]> {
  const rows = await db.selectFrom('conversations').select(['id', 'draft']).where('account_id', '=', accountId).execute();
  return rows.map((r) => ({ id: r.id, draft: r.draft as ConversationDocument }));
}

// ---------------------------------------------------------------------------------------------
// Events: enrollment and exits

/** Live conversations started by `eventType`, with their live version. */
export async function conversationsTriggeredBy(db: Q, accountId: string, eventType: string) {
  return db
    .selectFrom('conversations as c')
    .innerJoin('conversation_versions as v', (j) => j.onRef('v.conversation_id', '=', 'c.id').onRef('v.version', '=', 'c.live_version'))
    .select(['c.id', 'c.live_version', 'v.document'])
    .where('c.account_id', '=', accountId)
    .where('c.status', '=', 'live')
    .where('v.trigger_event', '=', eventType)
    .execute();
}

// ---------------------------------------------------------------------------------------------
// The engine

/**
 * Claims up to `limit` due runs for this transaction. FOR UPDATE SKIP LOCKED: another worker's
 * batch is skipped, never waited for or taken twice; the locks last until the batch's transaction
 * ends, so a run is executed by one worker at a time, and a worker that dies leaves its batch
 * unlocked and untouched (its transaction rolls back) for the next claim. The row locks are also
 * the runs' fencing: every write of a batch (new positions, step runs, codes, mail, a failed
 * attempt) is made in the transaction that holds them, so a worker that lost its connection can
 * write nothing afterwards. Runs of paused conversations are `held` and failed runs `failed`:
 * neither is in the partial index `enrollments_due_idx` this walks.
 */
export async function claimDueRuns(db: Q, now: Date, limit: number): Promise<EnrollmentRow[]> {
  const result = await sql<EnrollmentRow>`
    select e.* from enrollments e
    where e.status = 'active' and e.next_due_at <= ${now}
    order by e.next_due_at
    limit ${limit}
    for update of e skip locked`.execute(db);
  return result.rows;
}

/**
 * Claims these runs again (after their batch failed and rolled back), if they are still active
 * and due: another worker may have taken some meanwhile (skipped, as in the claim above).
 */
export async function claimRunsById(db: Q, ids: string[], now: Date): Promise<EnrollmentRow[]> {
  if (ids.length === 0) return [];
  const result = await sql<EnrollmentRow>`
    select e.* from enrollments e
    where e.id = any(${ids}::text[]) and e.status = 'active' and e.next_due_at <= ${now}
    order by e.next_due_at, e.id
    for update of e skip locked`.execute(db);
  return result.rows;
}

export const savepoint = (db: Q) => sql`savepoint run_group`.execute(db);
export const releaseSavepoint = (db: Q) => sql`release savepoint run_group`.execute(db);
export const rollbackToSavepoint = (db: Q) => sql`rollback to savepoint run_group`.execute(db);

export interface RunFailure {
  accountId: string;
  id: string;
  /** `failed` parks the run; `active` retries it at `nextDueAt`. */
  status: 'active' | 'failed';
  attempts: number;
  nextDueAt: string;
  error: string;
}

/** Records failed attempts, in the transaction that holds the runs' row locks. */
export async function recordFailures(db: Q, failures: RunFailure[], now: Date): Promise<void> {
  if (failures.length === 0) return;
  await sql`
    update enrollments e
    set status = f.status, attempts = f.attempts, next_due_at = f."nextDueAt", last_error = f.error, updated_at = ${now}
    from jsonb_to_recordset(${JSON.stringify(failures)}::jsonb)
      as f("accountId" text, id text, status text, attempts integer, "nextDueAt" timestamptz, error text)
    where e.account_id = f."accountId" and e.id = f.id`.execute(db);
}

/** A failed run made active again (held when its conversation is paused), due now, attempts reset. */
export async function resumeFailedRun(db: Q, accountId: string, conversationId: string, id: string, now: Date): Promise<EnrollmentRow | undefined> {
  const result = await sql<EnrollmentRow>`
    update enrollments e
    set status = case when c.status = 'paused' then 'held' else 'active' end, attempts = 0, next_due_at = ${now}, updated_at = ${now}
    from conversations c
    where e.account_id = ${accountId} and e.conversation_id = ${conversationId} and e.id = ${id} and e.status = 'failed'
      and c.id = e.conversation_id
    returning e.*`.execute(db);
  return result.rows[0];
}

export async function findEnrollment(db: Q, accountId: string, conversationId: string, id: string): Promise<EnrollmentRow | undefined> {
  return db.selectFrom('enrollments').selectAll().where('account_id', '=', accountId).where('conversation_id', '=', conversationId).where('id', '=', id).executeTakeFirst();
}

/**
 * Pausing holds the conversation's active runs (out of the due index); resuming makes them
 * active again. In the transaction that changes the conversation's status (its row locked): a
 * batch that holds some of these runs is waited for, and its runs held afterwards if still active.
 */
export async function holdRuns(db: Q, accountId: string, conversationId: string, hold: boolean, now: Date): Promise<void> {
  const [from, to] = hold ? ['active', 'held'] : ['held', 'active'];
  await sql`
    update enrollments set status = ${to}, updated_at = ${now}
    where account_id = ${accountId} and conversation_id = ${conversationId} and status = ${from}`.execute(db);
}

export interface RunUpdate {
  id: string;
  status: 'active' | 'completed' | 'exited';
  stepIndex: number;
  nextDueAt: string;
  exitReason: string | null;
}

export async function updateRuns(db: Q, accountId: string, updates: RunUpdate[], now: Date): Promise<void> {
  if (updates.length === 0) return;
  await sql`
    update enrollments e
    set status = u.status, step_index = u."stepIndex", next_due_at = u."nextDueAt", exit_reason = u."exitReason",
        attempts = 0, last_error = null, updated_at = ${now}, ended_at = case when u.status = 'active' then null else ${now}::timestamptz end
    from jsonb_to_recordset(${JSON.stringify(updates)}::jsonb)
      as u(id text, status text, "stepIndex" integer, "nextDueAt" timestamptz, "exitReason" text)
    where e.account_id = ${accountId} and e.id = u.id`.execute(db);
}

/** One statement per 10,000 rows, sent as one JSON parameter. */
export async function insertStepRuns(db: Q, rows: StepRunRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 10_000) {
    await sql`
      insert into step_runs (account_id, enrollment_id, step_id, conversation_id, outcome, at, code, expires_at, mail_id, detail)
      select account_id, enrollment_id, step_id, conversation_id, outcome, at, code, expires_at, mail_id, detail
      from jsonb_to_recordset(${JSON.stringify(rows.slice(i, i + 10_000))}::jsonb) as r(
        account_id text, enrollment_id text, step_id text, conversation_id text, outcome text, at timestamptz,
        code text, expires_at timestamptz, mail_id text, detail text)`.execute(db);
  }
}

/** Merges field values (by field id) into contacts, one patch per contact. */
export async function patchContactFields(db: Q, accountId: string, patches: { id: string; patch: Record<string, unknown> }[], now: Date): Promise<void> {
  if (patches.length === 0) return;
  await sql`
    update contacts c set fields = c.fields || p.patch, updated_at = ${now}
    from jsonb_to_recordset(${JSON.stringify(patches)}::jsonb) as p(id text, patch jsonb)
    where c.account_id = ${accountId} and c.id = p.id`.execute(db);
}

export async function accountTimeZones(db: Q, accountIds: string[]): Promise<Map<string, string>> {
  const rows = await db.selectFrom('accounts').select(['id', 'time_zone']).where('id', 'in', accountIds).execute();
  return new Map(rows.map((r) => [r.id, r.time_zone]));
}

// ---------------------------------------------------------------------------------------------
// Reading it back

export async function listEnrollments(db: Q, accountId: string, conversationId: string, page: { after: string | undefined; limit: number }): Promise<EnrollmentRow[]> {
  let q = db.selectFrom('enrollments').selectAll().where('account_id', '=', accountId).where('conversation_id', '=', conversationId);
  if (page.after) q = q.where('id', '>', page.after);
  return q.orderBy('id').limit(page.limit).execute();
}

export async function enrollmentsOfContact(db: Q, accountId: string, contactId: string): Promise<EnrollmentRow[]> {
  return db.selectFrom('enrollments').selectAll().where('account_id', '=', accountId).where('contact_id', '=', contactId).orderBy('id').execute();
}

export async function stepRunsOf(db: Q, enrollmentIds: string[]): Promise<StepRunRow[]> {
  if (enrollmentIds.length === 0) return [];
  return db.selectFrom('step_runs').selectAll().where('enrollment_id', 'in', enrollmentIds).orderBy('at').execute();
}

/** Per conversation and step: step runs by outcome. */
export async function stepOutcomeCounts(db: Q, conversationIds: string[]) {
  if (conversationIds.length === 0) return [];
  return db
    .selectFrom('step_runs')
    .select(['conversation_id', 'step_id', 'outcome', (eb) => eb.fn.countAll<number>().as('n')])
    .where('conversation_id', 'in', conversationIds)
    .groupBy(['conversation_id', 'step_id', 'outcome'])
    .execute();
}

/**
 * Per conversation, version and step index: runs waiting there (`active`: also held and failed
 * runs) or ended there (`exited`).
 */
export async function runPositions(db: Q, conversationIds: string[]) {
  if (conversationIds.length === 0) return [];
  const result = await sql<{ conversation_id: string; version: number; step_index: number; status: 'active' | 'exited'; n: number }>`
    select conversation_id, version, step_index, case when status = 'exited' then 'exited' else 'active' end as status, count(*) as n
    from enrollments
    where conversation_id = any(${conversationIds}::text[]) and status in ('active', 'held', 'failed', 'exited')
    group by 1, 2, 3, 4`.execute(db);
  return result.rows;
}

// ---------------------------------------------------------------------------------------------
// Events in bulk (POST /v1/events/batch): each contact at most once per call

/** Ends the open runs (active, held or failed) that these (contact, event type) pairs exit; answers who left what. */
export async function exitRunsMany(
  db: Q,
  accountId: string,
  events: { contactId: string; type: string }[],
  now: Date,
  /** Conversations whose runs stay (a merchant-limited caller's events do not reach them). */
  exclude: string[] = [],
): Promise<{ contactId: string; conversationId: string }[]> {
  if (events.length === 0) return [];
  const result = await sql<{ contact_id: string; conversation_id: string }>`
    update enrollments e
    set status = 'exited', exit_reason = 'exit event ' || x.type, ended_at = ${now}, updated_at = ${now}
    from conversation_versions v, jsonb_to_recordset(${JSON.stringify(events)}::jsonb) as x("contactId" text, type text)
    where e.account_id = ${accountId} and e.contact_id = x."contactId" and e.status in ('active', 'held', 'failed')
      and v.conversation_id = e.conversation_id and v.version = e.version
      and x.type = any (v.exit_events)
      and e.conversation_id not in (select jsonb_array_elements_text(${JSON.stringify(exclude)}::jsonb))
    returning e.contact_id, e.conversation_id`.execute(db);
  return result.rows.map((r) => ({ contactId: r.contact_id, conversationId: r.conversation_id }));
}

export interface NewRun {
  id: string;
  conversationId: string;
  version: number;
  contactId: string;
  nextDueAt: string;
  reentry: 'never' | 'afterCompletion';
}

/**
 * Starts runs, unless the contact has an open one (active, held or failed) in that conversation (the partial unique index
 * decides, so two racing events start one run), or, with re-entry `never`, ever had one. One
 * statement for many runs; answers the runs that started.
 */
export async function enrollMany(db: Q, accountId: string, runs: NewRun[], now: Date): Promise<{ contactId: string; conversationId: string }[]> {
  if (runs.length === 0) return [];
  const result = await sql<{ contact_id: string; conversation_id: string }>`
    insert into enrollments (account_id, id, conversation_id, version, contact_id, status, step_index, next_due_at, created_at, updated_at)
    select ${accountId}, r.id, r."conversationId", r.version, r."contactId", 'active', 0, r."nextDueAt", ${now}, ${now}
    from jsonb_to_recordset(${JSON.stringify(runs)}::jsonb)
      as r(id text, "conversationId" text, version integer, "contactId" text, "nextDueAt" timestamptz, reentry text)
    where r.reentry <> 'never'
       -- by (account_id, contact_id): an index; by conversation alone it would scan all its runs
       or not exists (select 1 from enrollments e where e.account_id = ${accountId} and e.contact_id = r."contactId" and e.conversation_id = r."conversationId")
    on conflict (conversation_id, contact_id) where status in ('active', 'held', 'failed') do nothing
    returning contact_id, conversation_id`.execute(db);
  return result.rows.map((r) => ({ contactId: r.contact_id, conversationId: r.conversation_id }));
}

// ---------------------------------------------------------------------------------------------
// Merchant scope

/** The draft and every published version of the account's conversations. */
export async function scopeDocuments(db: Q, accountId: string): Promise<{ conversationId: string; document: ConversationDocument }[]> {
  const drafts = db.selectFrom('conversations').select(['id as conversationId', 'draft as document']).where('account_id', '=', accountId);
  const versions = db.selectFrom('conversation_versions').select(['conversation_id as conversationId', 'document']).where('account_id', '=', accountId);
  const rows = await drafts.unionAll(versions).execute();
  return rows.map((r) => ({ conversationId: r.conversationId, document: r.document as ConversationDocument }));
}

/** Pool id → the merchant that owns it (a read of the pools table: which merchant a step uses). */
export async function poolMerchants(db: Q, accountId: string, poolIds: string[]): Promise<Map<string, string>> {
  if (poolIds.length === 0) return new Map();
  const rows = await db.selectFrom('pools').select(['id', 'merchant_id']).where('account_id', '=', accountId).where('id', 'in', poolIds).execute();
  return new Map(rows.map((r) => [r.id, r.merchant_id]));
}

export async function listConversationIds(db: Q, accountId: string): Promise<string[]> {
  return (await db.selectFrom('conversations').select('id').where('account_id', '=', accountId).execute()).map((r) => r.id);
}
