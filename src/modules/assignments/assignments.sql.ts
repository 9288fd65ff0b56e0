import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB } from '../../schema.ts';
import { unnestRows } from '../../platform/db/bulk.ts';

/*
 * The assignment area's hot statements: the code claim, the recording of assignments with their
 * counters, and the notice flags. Each has a header: what it locks and in which order, what makes
 * it idempotent, the invariant it relies on, and why it has this shape (the measurement). The
 * claim idiom (a MATERIALIZED CTE of locked ctids, then `ctid = any(array(select ctid from …))`)
 * is the one every queue uses: codes here, mail in outbox.sql.ts, runs in conductor.sql.ts; each
 * is pinned by a plan test (test/assignments/plan.test.ts, test/outbox/plan.test.ts,
 * test/conductor/plan.test.ts).
 */

type Q = Kysely<DB>;
import type { Assignment, AssignmentStatus } from './model.ts';
import type { Selectable } from 'kysely';
import type { ClaimedCode } from './model.ts';

export type { ClaimedCode };

/**
 * The claim: up to `count` eligible codes of a pool for the current transaction, soonest expiration
 * first (never-expiring codes last, stored as 'infinity'), ties in upload order — in ONE statement,
 * written as two CTEs, `picked` and `claimed` (id, code, expires_at), which {@link claimStatement}
 * runs bare and {@link assignStatement} runs with the recording of the assignments.
 *
 * Why it is safe under any concurrency, in any number of processes:
 * - `FOR UPDATE` row-locks each picked code; `SKIP LOCKED` makes a concurrent claimer pass over
 *   codes another transaction holds instead of waiting for them, so claimers never queue and never
 *   take the same row. A locked row is re-checked after the lock (`assigned_at is null` is part of
 *   the scan's filter), so a code assigned by a transaction that committed meanwhile is not taken.
 * - The pick is a MATERIALIZED CTE: it runs once. The tempting
 *   `UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` lets the planner re-run the
 *   subquery (e.g. as the inner side of a nested loop) and update MORE than n rows.
 * - The update finds each picked row by its ctid: the row is locked by this statement, so nobody
 *   can move it meanwhile. `ctid = any(array(…))` is always a TID scan (the array is built once);
 *   a join on ctid let PGlite's planner pick a hash join over a sequential scan of every code.
 * - The update sets assigned_at; the unique constraint on assignments.code_id backs it up.
 * With SKIP LOCKED, fewer than `count` rows may come back while codes remain (others hold them
 * locked): callers loop until they have enough or a claim returns nothing.
 *
 * The scan follows codes_claim_idx (pool_key, expires_at, id) WHERE assigned_at IS NULL: equality
 * on pool_key and a range on expires_at give rows already in the wanted order, so LIMIT stops early.
 * Assigned codes leave that partial index; their dead entries are cleaned by (auto)vacuum.
 * `gate`, if given, is one more condition that does not depend on the row (a one-time filter).
 */
export function claimCtes(p: { poolKey: number; eligibleFrom: Date; count: number; now: Date; gate?: RawBuilder<unknown> }) {
  return sql`
    picked as materialized (
      select ctid from codes
      where pool_key = ${p.poolKey}
        and assigned_at is null
        and expires_at >= ${p.eligibleFrom}${
          p.gate
            ? sql`
        and ${p.gate}`
            : sql``
        }
      order by expires_at, id
      limit ${p.count}
      for update skip locked
    ),
    claimed as (
      update codes set assigned_at = ${p.now}
      where ctid = any(array(select ctid from picked))
      returning id, code, expires_at
    )`;
}

/** The bare claim (see {@link claimCtes}): the claimed codes, expires_at null when they never expire. */
export function claimStatement(p: { poolKey: number; eligibleFrom: Date; count: number; now: Date }) {
  return sql<{ id: number; code: string; expires_at: Date | null }>`
    with ${claimCtes(p)}
    select id, code, nullif(expires_at, 'infinity') as expires_at from claimed`;
}

/** What requests get when no unique code is claimed for them: the static offer, else the default code. */
export interface Fallback {
  source: 'static' | 'default';
  code: string;
  expiresAt: Date | null;
}

/** An assignment as the assignment statements answer it: its columns, and whether this statement created it. */
export interface AssignedRow extends Pick<
  Selectable<DB['assignments']>,
  'id' | 'contact_id' | 'idempotency_key' | 'source' | 'code_id' | 'code' | 'expires_at' | 'created_at'
> {
  /** false: the key was already recorded; this is its assignment, unchanged. */
  created: boolean;
}

/**
 * The recording both assignment statements end with ({@link assignStatement}, and
 * assign-one.sql.ts for a lone request), written once. It reads two CTEs the statement defines
 * before it: `claimed` ({@link claimCtes}) and `paired` (id, contact_id, key, code_id, code,
 * expires_at: each request to record, with its claimed code or none), and defines three:
 * - `inserted`: the assignments (the claimed code, else the fallback), `returning *`;
 * - `counted`: the pool's unassigned counters of this `slot`, one row per expiration instant, in
 *   expiration order (two writers on one slot lock rows in the same order);
 * - `daily`: today's assignments of this `slot` (default codes do not count), when there are any.
 */
export function recordCtes(p: { accountId: string; poolKey: number; fallback: Fallback | undefined; now: Date; slot: number }) {
  return sql`inserted as (
      insert into assignments (account_id, id, pool_key, contact_id, idempotency_key, source, code_id, code, expires_at, created_at)
      select ${p.accountId}, id, ${p.poolKey}, contact_id, key,
             case when code_id is null then ${p.fallback?.source ?? null}::text else 'unique' end,
             code_id,
             case when code_id is null then ${p.fallback?.code ?? null}::text else code end,
             case when code_id is null then ${p.fallback?.expiresAt ?? null}::timestamptz else expires_at end,
             ${p.now}
      from paired
      returning *
    ),
    counted as (
      insert into pool_code_counts (account_id, pool_key, expires_at, slot, codes, unassigned)
      select ${p.accountId}, ${p.poolKey}, expires_at, ${p.slot}, 0, -count(*)
      from claimed group by expires_at order by expires_at
      on conflict (pool_key, expires_at, slot) do update
        set unassigned = pool_code_counts.unassigned + excluded.unassigned
    ),
    daily as (
      insert into pool_daily_assignments (account_id, pool_key, day, slot, assigned)
      select ${p.accountId}, ${p.poolKey}, ${p.now.toISOString().slice(0, 10)}::date, ${p.slot}, count(*)
      from inserted where source <> 'default'
      having count(*) > 0
      on conflict (pool_key, day, slot) do update
        set assigned = pool_daily_assignments.assigned + excluded.assigned
    )`;
}

/**
 * Assigns a batch of requests (distinct idempotency keys) in ONE statement, so that a single
 * assignment is one round trip and a batch of 1,000 has no per-row work in JS:
 * 1. `recorded`: assignments already recorded for these keys. If there is any, the statement does
 *    nothing else (a one-time filter gates the claim) and returns them; the caller asks again for
 *    the keys left. So `count` — the number of keys sent — is exactly what may be claimed.
 * 2. `picked`/`claimed`: the claim itself ({@link claimCtes}, the same CTEs as the bare
 *    {@link claimStatement}), up to `count` codes, gated by `recorded` being empty.
 * 3. The n-th request (in request order) gets the n-th claimed code (in expiration order). Only if
 *    NOTHING was claimed do requests get the fallback (static offer or default code): when fewer
 *    codes than requests come back, others hold codes locked, so the caller asks again for the
 *    rest (as the claim loop always did) before it falls back.
 * 4. The assignments are inserted WITHOUT `on conflict`: a key that a racing transaction recorded
 *    meanwhile fails the whole statement with a unique violation on assignments_idempotency_key,
 *    which undoes the claim with it; the caller rolls back and asks again (the winner's row is then
 *    in `recorded`). assignments_code_id_key still backs "one code, one assignment".
 * 5. The pool's counters (unassigned per expiration instant, today's assignments) are updated in
 *    the same statement, in expiration order so that two writers on one slot lock rows in the
 *    same order. Row locks on counters are held only until the statement's transaction ends.
 * Returns recorded rows (created = false) and new ones (created = true); keys absent from the answer
 * got nothing (see 3).
 *
 * Locks: the claimed codes (FOR UPDATE SKIP LOCKED, soonest expiration first), then the pool's
 * counter rows of this `slot` in expiration order, then the day's counter row. Idempotent by
 * `assignments_idempotency_key (pool_key, idempotency_key)`. Invariant: sum(unassigned) over
 * pool_code_counts = count(*) of unassigned codes (test/assignments/claim-property.test.ts).
 * Why one statement: a lone HTTP assignment is then one round trip, and a batch of 1,000 has no
 * per-row work in JS; `npm run bench -- assign` (README "Performance") measures it against the
 * bare claim in the same run: recording costs about as much as claiming (ratio 0.29–0.31). The
 * counters are striped by `slot` because concurrent assigners otherwise queue on one row lock.
 */
export function assignStatement(p: {
  accountId: string;
  poolKey: number;
  requests: { contactId: string; idempotencyKey: string; id: string }[];
  /** Claim unique codes (an active unique pool); otherwise only the fallback applies. */
  claim: boolean;
  fallback: Fallback | undefined;
  eligibleFrom: Date;
  now: Date;
  slot: number;
}) {
  const keys = p.requests.map((r) => r.idempotencyKey);
  const count = p.claim ? p.requests.length : 0;
  return sql<AssignedRow>`
    with recorded as (
      select * from assignments
      where pool_key = ${p.poolKey} and idempotency_key = any(${keys}::text[])
    ),
    ${claimCtes({ poolKey: p.poolKey, eligibleFrom: p.eligibleFrom, count, now: p.now, gate: sql`not exists (select from recorded)` })},
    todo as (
      select r.*
      from ${unnestRows(
        { key: 'text', contact_id: 'text', id: 'text' },
        { key: keys, contact_id: p.requests.map((r) => r.contactId), id: p.requests.map((r) => r.id) },
        'r',
        { ordinality: 'n' },
      )}
      where not exists (select from recorded)
    ),
    paired as (
      select t.id, t.contact_id, t.key, c.id as code_id, c.code, nullif(c.expires_at, 'infinity') as expires_at
      from todo t
      left join (select claimed.*, row_number() over (order by expires_at, id) as n from claimed) c on c.n = t.n
      where c.id is not null or (${p.fallback?.source ?? null}::text is not null and not exists (select from claimed))
    ),
    ${recordCtes(p)}
    select true as created, id, contact_id, idempotency_key, source, code_id, code, expires_at, created_at from inserted
    union all
    select false, id, contact_id, idempotency_key, source, code_id, code, expires_at, created_at from recorded`;
}

export type NoticeFlag = 'threshold_armed' | 'exhausted_armed';

/**
 * Fires a notice: flips the flag off in one statement, so that of many processes that saw the
 * crossing only the one whose update changed the row sends the notice (true).
 * Locks: the pool row (the update's FOR NO KEY UPDATE), until the check's transaction ends.
 * Idempotent: a second call changes nothing (`where <flag>`). Invariant: a flag is off exactly
 * while its notice for the current crossing has been written.
 */
export async function disarm(db: Q, poolKey: number, flag: NoticeFlag): Promise<boolean> {
  const r = await sql`update pools set ${sql.ref(flag)} = false where key = ${poolKey} and ${sql.ref(flag)}`.execute(db);
  return Number(r.numAffectedRows ?? 0) > 0;
}

/** Re-arms a flag (the pool rose above its threshold again). Locks the pool row; idempotent (`where not <flag>`). */
export async function rearm(db: Q, poolKey: number, flag: NoticeFlag): Promise<void> {
  await sql`update pools set ${sql.ref(flag)} = true where key = ${poolKey} and not ${sql.ref(flag)}`.execute(db);
}

/**
 * The pool's notice flags. With `lock`, the pool row is locked (FOR NO KEY UPDATE, the lock the
 * flag updates take anyway, so uploads' and assignments' foreign-key checks — FOR KEY SHARE — are
 * not blocked) until the check's transaction ends: checks of one pool that have something to do
 * run one after the other, each reading the counts after the previous one committed, so a re-arm
 * decided on counts read before a fire can never follow that fire (test/outbox/notice-races.test.ts).
 * Without `lock`: a plain read, the cheap first look that most checks end with.
 */
export async function noticeFlags(
  db: Q,
  poolKey: number,
  lock: boolean,
): Promise<{ threshold_armed: boolean; exhausted_armed: boolean } | undefined> {
  const r = await sql<{ threshold_armed: boolean; exhausted_armed: boolean }>`
    select threshold_armed, exhausted_armed from pools where key = ${poolKey}${lock ? sql` for no key update` : sql``}`.execute(db);
  return r.rows[0];
}

// ---------------------------------------------------------------------------------------------
// The pool page's list of assignments (read only)

export const toAssignment =
  (poolId: string) =>
  (r: Selectable<DB['assignments']>): Assignment => ({
    id: r.id,
    poolId,
    contactId: r.contact_id,
    idempotencyKey: r.idempotency_key,
    source: r.source,
    code: r.code,
    codeId: r.code_id === null ? null : Number(r.code_id),
    expiresAt: r.expires_at,
    createdAt: r.created_at,
  });

export interface AssignmentListRow extends Assignment {
  /** null: the contact was erased (the assignment stays, unlinked: its code is never handed out again). */
  email: string | null;
  status: AssignmentStatus;
}

export interface AssignmentFilter {
  status?: AssignmentStatus | undefined;
  /** A code prefix or an email prefix (case-insensitive). */
  q?: string | undefined;
}

/**
 * A page of a pool's assignments, oldest first (keyset on the id), filtered by status and by a
 * code or email prefix. A live redemption of the assignment's code marks it redeemed: for a unique
 * code by its code id, for a shared code (static row, default code) by the code and the contact.
 * Reads only (no locks); the keyset on the assignment id keeps pages stable while assignments are
 * added. Status: `released` (a bounced mail gave the code back), `redeemed`, `expired`, else `assigned`.
 */
export async function listAssignments(
  db: Q,
  pool: { key: number; id: string },
  page: { after?: string | undefined; limit: number; now: Date } & AssignmentFilter,
): Promise<AssignmentListRow[]> {
  const redeemed = sql<boolean>`exists (
    select from redemptions r
    where r.rolled_back_at is null and r.pool_key = a.pool_key
      and (r.code_id = a.code_id or (a.code_id is null and r.code = a.code and r.contact_id = a.contact_id)))`;
  const status = sql<AssignmentStatus>`case when a.released_at is not null then 'released' when ${redeemed} then 'redeemed'
    when a.expires_at < ${page.now} then 'expired' else 'assigned' end`;
  let query = db
    .selectFrom('assignments as a')
    // A left join: an erased contact's assignments stay listed, with no email.
    .leftJoin('contacts as c', (j) => j.onRef('c.account_id', '=', 'a.account_id').onRef('c.id', '=', 'a.contact_id'))
    .selectAll('a')
    .select('c.email')
    .select(status.as('status'))
    .where('a.pool_key', '=', pool.key)
    .orderBy('a.id')
    .limit(page.limit);
  if (page.after) query = query.where('a.id', '>', page.after);
  if (page.status) query = query.where(sql<boolean>`${status} = ${page.status}`);
  if (page.q) {
    const q = page.q.toLowerCase();
    query = query.where(sql<boolean>`(starts_with(lower(a.code), ${q}) or starts_with(lower(c.email), ${q}))`);
  }
  const rows = await query.execute();
  return rows.map((r) => ({ ...toAssignment(pool.id)(r), email: r.email, status: r.status }));
}
