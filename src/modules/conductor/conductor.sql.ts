import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB } from '../../schema.ts';
import { recordset } from '../../platform/db/bulk.ts';
import type { ConversationDocument } from './model.ts';

/*
 * The conductor's hot statements: the run claim (the claim idiom of all three queues, see
 * assignments.sql.ts), the batch's writes (run positions, step runs and contact fields in one
 * statement, writeBatch; failed attempts), and event intake's enrollments and exits. Every write of a
 * batch happens in the transaction that holds the claimed runs' row locks (the runs' fencing).
 * Lock order inside a batch: runs (claim) → codes → counters (assignments.sql.ts) → outbox (new
 * rows only) → contacts, step_runs (new rows), runs (already locked): writeBatch.
 */

type Q = Kysely<DB>;
type EnrollmentRow = Selectable<DB['enrollments']>;
type StepRunRow = Selectable<DB['step_runs']>;

export async function findVersions(db: Q, keys: { conversationId: string; version: number }[]): Promise<Map<string, ConversationDocument>> {
  const found = new Map<string, ConversationDocument>();
  if (keys.length === 0) return found;
  const rows = await sql<{ conversation_id: string; version: number; document: ConversationDocument }>`
    select v.conversation_id, v.version, v.document
    from conversation_versions v
    join ${recordset(keys, { conversationId: 'text', version: 'integer' }, 'k')}
      on v.conversation_id = k."conversationId" and v.version = k.version`.execute(db);
  for (const r of rows.rows) found.set(`${r.conversation_id}:${r.version}`, r.document);
  return found;
}

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
  return (await claimDueRunsStatement(now, limit).execute(db)).rows;
}

/**
 * The claim idiom (as for codes and mail): `picked`, a MATERIALIZED CTE, locks the ctids once;
 * the outer select reads exactly those rows by a TID scan. Reading by ctid, not by id, matters
 * here: a run that another worker updated and committed after this statement's snapshot is locked
 * in its new version, whose ctid the snapshot does not see, so the claim leaves it out instead of
 * returning its old (stale) step. Pinned by test/conductor/plan.test.ts: enrollments_due_idx, then
 * a TID scan.
 */
export function claimDueRunsStatement(now: Date, limit: number) {
  return sql<EnrollmentRow>`
    with picked as materialized (
      select ctid from enrollments
      where status = 'active' and next_due_at <= ${now}
      order by next_due_at
      limit ${limit}
      for update skip locked
    )
    select e.* from enrollments e
    where e.ctid = any(array(select ctid from picked))
    order by e.next_due_at, e.id`;
}

/**
 * Claims these runs again (after their batch failed and rolled back), if they are still active
 * and due: another worker may have taken some meanwhile (skipped, as in the claim above).
 */
export async function claimRunsById(db: Q, ids: string[], now: Date): Promise<EnrollmentRow[]> {
  if (ids.length === 0) return [];
  const result = await sql<EnrollmentRow>`
    with picked as materialized (
      select ctid from enrollments
      where id = any(${ids}::text[]) and status = 'active' and next_due_at <= ${now}
      for update skip locked
    )
    select e.* from enrollments e
    where e.ctid = any(array(select ctid from picked))
    order by e.next_due_at, e.id`.execute(db);
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
    from ${recordset(failures, { accountId: 'text', id: 'text', status: 'text', attempts: 'integer', nextDueAt: 'timestamptz', error: 'text' }, 'f')}
    where e.account_id = f."accountId" and e.id = f.id`.execute(db);
}

/** A failed run made active again (held when its conversation is paused), due now, attempts reset. */
export async function resumeFailedRun(
  db: Q,
  accountId: string,
  conversationId: string,
  id: string,
  now: Date,
): Promise<EnrollmentRow | undefined> {
  const result = await sql<EnrollmentRow>`
    update enrollments e
    set status = case when c.status = 'paused' then 'held' else 'active' end, attempts = 0, next_due_at = ${now}, updated_at = ${now}
    from conversations c
    where e.account_id = ${accountId} and e.conversation_id = ${conversationId} and e.id = ${id} and e.status = 'failed'
      and c.id = e.conversation_id
    returning e.*`.execute(db);
  return result.rows[0];
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
  /** The run's place in the tree (null once it is done). */
  stepPath: string | null;
  nextDueAt: string;
  exitReason: string | null;
  /** At a waitForEvent step: the event type waited for (null otherwise) and when it came. */
  waitingFor: string | null;
  waitUntil: string | null;
  receivedAt: string | null;
}

/** What one account's part of a batch writes: field values, step runs, the runs' new positions. */
export interface BatchWrites {
  /** Field values (by field id) merged into contacts, one patch per contact. */
  patches: { id: string; patch: Record<string, unknown> }[];
  stepRuns: StepRunRow[];
  updates: RunUpdate[];
}

/**
 * writeBatch — everything a batch writes for one account but its codes and mail, in ONE statement
 * (it was three: the contacts' patch, the step runs' insert, the runs' update; two round trips
 * less per batch): data-modifying CTEs, each executed once and to completion whether or not the
 * main query reads it. Rows travel as JSON (`jsonb_to_recordset`, objects keyed by id; typed arrays through
 * `unnest` measured slower on this machine); what is the same for every row (the account, the
 * time) is a parameter of its own, not repeated in each row. The statement's text is the same
 * for every batch.
 * - Locks: the contacts' rows (update), new step_runs rows, the runs' rows (already locked by the
 *   claim, in the transaction that holds them: the runs' fencing). Same tables as before, same
 *   transaction; the contacts are the only rows not already locked or new.
 * - Idempotency: the step runs' primary key (enrollment_id, step_id): a batch redone after a
 *   commit it did not see fails instead of doing a step twice (the whole statement, and with it
 *   the transaction, rolls back).
 * - Invariant: a run's new position commits with the step runs that moved it there.
 */
export async function writeBatch(db: Q, accountId: string, w: BatchWrites, now: Date): Promise<void> {
  if (w.patches.length === 0 && w.stepRuns.length === 0 && w.updates.length === 0) return;
  await writeBatchStatement(accountId, w, now).execute(db);
}

/**
 * The statement of {@link writeBatch}. The contacts and the runs it updates are found by primary
 * key (`id = any(array(select …))`, the ids of a JSON object keyed by id) and their new values
 * read from that object by id (`->`), with no join: joined to the batch's records, the planner
 * trusted tables with no statistics yet (a new installation, its first minutes) and scanned every
 * contact and every run of the account for each batch (README, "Plans that did not depend on statistics").
 * Pinned, with no statistics and with fresh ones, by test/conductor/plan.test.ts.
 */
export function writeBatchStatement(accountId: string, w: BatchWrites, now: Date) {
  const patches = Object.fromEntries(w.patches.map((p) => [p.id, p.patch]));
  const updates = Object.fromEntries(
    w.updates.map((u) => [
      u.id,
      {
        status: u.status,
        step_index: u.stepIndex,
        step_path: u.stepPath,
        next_due_at: u.nextDueAt,
        exit_reason: u.exitReason,
        waiting_for: u.waitingFor,
        wait_until: u.waitUntil,
        received_at: u.receivedAt,
      },
    ]),
  );
  return sql`
    with patches as (select ${JSON.stringify(patches)}::jsonb as o),
    positions as (select ${JSON.stringify(updates)}::jsonb as o),
    patched as (
      update contacts c set fields = c.fields || ((select o from patches) -> c.id), updated_at = ${now}
      where c.account_id = ${accountId} and c.id = any (array(select jsonb_object_keys(o) from patches))
    ),
    stepped as (
      insert into step_runs (account_id, enrollment_id, step_id, conversation_id, outcome, at, code, expires_at, mail_id, detail)
      select ${accountId}, r.enrollment_id, r.step_id, r.conversation_id, r.outcome, ${now}, r.code, r.expires_at, r.mail_id, r.detail
      from ${recordset(
        // The account and the time are parameters of their own, not repeated in every row.
        w.stepRuns.map(({ account_id: _a, at: _t, ...r }) => r),
        STEP_RUN_COLUMNS,
        'r',
      )}
    )
    update enrollments e
    set (status, step_index, step_path, next_due_at, exit_reason, waiting_for, wait_until, received_at) = (
          select u.status, u.step_index, u.step_path, u.next_due_at, u.exit_reason, u.waiting_for, u.wait_until, u.received_at
          from jsonb_populate_record(null::enrollments, (select o from positions) -> e.id) u
        ),
        attempts = 0, last_error = null, updated_at = ${now},
        ended_at = case when (select o from positions) -> e.id ->> 'status' = 'active' then null else ${now}::timestamptz end
    where e.account_id = ${accountId} and e.id = any (array(select jsonb_object_keys(o) from positions))`;
}

const STEP_RUN_COLUMNS = {
  enrollment_id: 'text',
  step_id: 'text',
  conversation_id: 'text',
  outcome: 'text',
  code: 'text',
  expires_at: 'timestamptz',
  mail_id: 'text',
  detail: 'text',
} as const;

/**
 * An event wakes the runs of its contact that wait for its type (waitForEvent), in the event's
 * transaction: `received_at` is set and the run is due now, so the next batch takes the
 * `received` branch. Found by `enrollments_waits_idx` (account, contact, waiting_for). Locks those
 * enrollment rows (one statement, after the exits of the same round): a batch that holds one (its
 * claim) is waited for, and the where clause is checked again on the row it committed — a run whose
 * wait timed out in that batch no longer waits, so it is not woken: exactly one branch. Held and
 * failed runs are woken too (they take the branch once resumed). Idempotent: a woken run is skipped.
 */
export async function wakeWaitingRuns(
  db: Q,
  accountId: string,
  events: { contactId: string; type: string }[],
  now: Date,
  /** Conversations whose runs stay (a merchant-limited caller's events do not reach them). */
  exclude: string[] = [],
): Promise<number> {
  if (events.length === 0) return 0;
  const result = await sql`
    update enrollments e
    set received_at = ${now}, next_due_at = ${now}, updated_at = ${now}
    from ${recordset(events, { contactId: 'text', type: 'text' }, 'x')}
    where e.account_id = ${accountId} and e.contact_id = x."contactId" and e.waiting_for = x.type
      and e.received_at is null and e.status in ('active', 'held', 'failed')
      and e.conversation_id not in (select jsonb_array_elements_text(${JSON.stringify(exclude)}::jsonb))`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * Per conversation, version and place in the tree: runs there (`active`: also held and failed
 * runs; `waiting`: not due yet — a delay, a wait for an event, a send window) or ended there
 * (`exited`). Runs written before migration 0020 are at `steps.<step_index>`.
 */
export async function runPositions(db: Q, conversationIds: string[], now: Date) {
  if (conversationIds.length === 0) return [];
  const result = await sql<{
    conversation_id: string;
    version: number;
    path: string;
    status: 'active' | 'exited';
    waiting: boolean;
    n: number;
  }>`
    select conversation_id, version, coalesce(step_path, 'steps.' || step_index) as path,
           case when status = 'exited' then 'exited' else 'active' end as status,
           status <> 'exited' and next_due_at > ${now} as waiting, count(*) as n
    from enrollments
    where conversation_id = any(${conversationIds}::text[]) and status in ('active', 'held', 'failed', 'exited')
    group by 1, 2, 3, 4, 5`.execute(db);
  return result.rows;
}

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
  const result = await exitRunsStatement(accountId, events, now, exclude).execute(db);
  return result.rows.map((r) => ({ contactId: r.contact_id, conversationId: r.conversation_id }));
}

/**
 * The exit statement. Its shape is measured: written as one `update … from enrollments, versions,
 * recordset`, the planner trusted statistics taken while enrollments was small (one row expected
 * for the account) and ran a nested loop over ALL the account's open runs with the batch's events
 * inside: 28.6 s for a batch of 1,000 events against 62,000 runs (intake fell from 7,400 to 1,700
 * events/s between 20,000 and 100,000 contacts). Here each event finds its contact's open runs
 * through enrollments_contact_idx (a lateral subquery, `offset 0` so it is not flattened into a
 * join the planner may reorder), and the update takes the runs found by primary key: its status
 * test is written `not in ('completed', 'exited')` (the same rows, by the check constraint) so it
 * cannot match enrollments_one_active's predicate, which unanalyzed statistics make look like one
 * row. Pinned, with no statistics and with fresh ones, by test/conductor/plan.test.ts.
 * - Locks: the exiting runs' rows (in the update); a batch holding one is waited for, and the
 *   status condition is checked again on the row it committed (a run it finished is not exited).
 * - Idempotent: an exited run is no longer open, so a repeated event changes nothing.
 */
export function exitRunsStatement(accountId: string, events: { contactId: string; type: string }[], now: Date, exclude: string[] = []) {
  return sql<{ contact_id: string; conversation_id: string }>`
    with hit as materialized (
      select o.id, x.type
      from ${recordset(events, { contactId: 'text', type: 'text' }, 'x')}
      cross join lateral (
        select r.id, r.conversation_id, r.version from enrollments r
        where r.account_id = ${accountId} and r.contact_id = x."contactId" and r.status in ('active', 'held', 'failed')
        offset 0
      ) o
      join conversation_versions v on v.conversation_id = o.conversation_id and v.version = o.version
      where x.type = any (v.exit_events)
        and o.conversation_id not in (select jsonb_array_elements_text(${JSON.stringify(exclude)}::jsonb))
    )
    update enrollments e
    set status = 'exited', exit_reason = 'exit event ' || (select min(h.type) from hit h where h.id = e.id), ended_at = ${now}, updated_at = ${now}
    where e.account_id = ${accountId} and e.id = any (array(select id from hit)) and e.status not in ('completed', 'exited')
    returning e.contact_id, e.conversation_id`;
}

export interface NewRun {
  id: string;
  /** Where the run starts (null: a version with no step; it completes at its first claim). */
  stepPath: string | null;
  /** The trigger event's properties (split conditions read them). */
  properties: Record<string, unknown>;
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
export async function enrollMany(
  db: Q,
  accountId: string,
  runs: NewRun[],
  now: Date,
): Promise<{ contactId: string; conversationId: string }[]> {
  if (runs.length === 0) return [];
  const result = await sql<{ contact_id: string; conversation_id: string }>`
    insert into enrollments (account_id, id, conversation_id, version, contact_id, status, step_index, step_path, next_due_at, trigger_properties, created_at, updated_at)
    select ${accountId}, r.id, r."conversationId", r.version, r."contactId", 'active', 0, r."stepPath", r."nextDueAt", r.properties, ${now}, ${now}
    from ${recordset(
      runs,
      {
        id: 'text',
        conversationId: 'text',
        version: 'integer',
        contactId: 'text',
        stepPath: 'text',
        nextDueAt: 'timestamptz',
        reentry: 'text',
        properties: 'jsonb',
      },
      'r',
    )}
    where r.reentry <> 'never'
       -- by (account_id, contact_id): an index; by conversation alone it would scan all its runs
       or not exists (select 1 from enrollments e where e.account_id = ${accountId} and e.contact_id = r."contactId" and e.conversation_id = r."conversationId")
    on conflict (conversation_id, contact_id) where status in ('active', 'held', 'failed') do nothing
    returning contact_id, conversation_id`.execute(db);
  return result.rows.map((r) => ({ contactId: r.contact_id, conversationId: r.conversation_id }));
}
