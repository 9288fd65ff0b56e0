import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import { DomainError, notFound } from '../../platform/errors.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Principal } from '../accounts/principal.ts';
import { newId } from '../../platform/ids.ts';
import { decodeCursor, toPage, type Page, type PageQuery } from '../../platform/pagination.ts';
import type { AppDatabase, DB } from '../../schema.ts';
import type { AccountsService } from '../accounts/service.ts';
import type { ContactsService } from '../contacts/service.ts';
import type { PoolsService } from '../pools/service.ts';
import { eligibleFrom, forecastRunOut, type Pool } from '../pools/model.ts';
import { countsFor, findOpenStaticRow, listPoolsToWatch } from '../pools/repo.ts';
import { assignStatement, disarm, noticeFlags, rearm, type AssignedRow, type Fallback } from './assignments.sql.ts';
import { assignOneStatement, type AssignOneRow } from './assign-one.sql.ts';
import { claimAuditEntry } from '../audit/service.ts';
import type { Assignment, AssignOutcome, AssignRequest, StaticOffer } from './model.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import { noticesDue, type PoolNotice } from './notices.ts';
import * as repo from './repo.ts';

/** Sends a pool notice inside the given transaction (the outbox enqueues it there). */
export type Notify = (db: Kysely<DB>, notice: PoolNotice) => Promise<void>;

const SLOTS = 16;
const NO_CODE = 'The pool has no eligible code and no default code.';

/**
 * How far above a crossing the single assignment still runs the notice check: its count of
 * available codes is read in its own snapshot, so claims of concurrent requests not yet committed
 * are not subtracted from it. Far above the threshold (the steady state) no check runs; the
 * periodic check (POOL_CHECK_INTERVAL_SECONDS) remains the backstop for anything missed.
 */
export const NOTICE_MARGIN = 256;

/** Whether `available` (after an assignment) may have crossed the threshold or reached zero, or calls for a re-arm. */
export function nearCrossing(pool: Pick<Pool, 'threshold'>, available: number | null | undefined): boolean {
  if (available === null || available === undefined) return true;
  if (available <= NOTICE_MARGIN) return true; // exhaustion (and its re-arm) is near
  return pool.threshold !== null && available <= pool.threshold + NOTICE_MARGIN;
}
const DAY_MS = 86_400_000;

const toAssignment = (pool: Pool, r: AssignedRow): Assignment => ({
  id: r.id,
  poolId: pool.id,
  contactId: r.contact_id,
  idempotencyKey: r.idempotency_key,
  source: r.source,
  code: r.code,
  codeId: r.code_id === null ? null : Number(r.code_id),
  expiresAt: r.expires_at === null ? null : new Date(r.expires_at),
  createdAt: new Date(r.created_at),
});

export function assignmentsService(deps: {
  database: AppDatabase;
  clock: Clock;
  accounts: AccountsService;
  pools: PoolsService;
  contacts: ContactsService;
  notify: Notify;
  /** New assignments, within the transaction that made them, all of one round at once (code.assigned webhooks). */
  onAssigned?: (tx: Kysely<DB>, pool: Pool, assignments: Assignment[]) => Promise<void>;
}) {
  const { db } = deps.database;

  async function staticOffer(tx: Kysely<DB>, pool: Pool, now: Date): Promise<StaticOffer | undefined> {
    if (pool.type !== 'static') return undefined;
    const row = await findOpenStaticRow(tx, pool.key, now);
    if (!row) return undefined;
    const expiresAt =
      row.expires_at ?? (row.days_after_distribution ? new Date(now.getTime() + row.days_after_distribution * DAY_MS) : null);
    return { code: row.code, expiresAt };
  }

  /**
   * Assigns within `tx` (a transaction, or the database itself for a lone request: its one statement
   * is atomic on its own). Each round is ONE statement (see assignStatement): it answers keys already
   * recorded, or claims codes and records assignments. A round that claims fewer codes than asked
   * (others hold some locked) is followed by another for the rest; only when a round claims nothing
   * do the rest get the static offer or the default code. Throws a unique violation on
   * assignments_idempotency_key when a racing transaction recorded one of the keys first.
   */
  async function assignWithin(tx: Kysely<DB>, given: Pool, requests: AssignRequest[]): Promise<Map<string, AssignOutcome>> {
    const now = deps.clock.now();
    // An archived pool distributes nothing, as an inactive one.
    const pool = given.archivedAt ? { ...given, active: false } : given;
    const outcomes = new Map<string, AssignOutcome>();
    let todo = [...new Map(requests.map((r) => [r.idempotencyKey, r])).values()];
    const offer = pool.active ? await staticOffer(tx, pool, now) : undefined;
    const fallback: Fallback | undefined = !pool.active
      ? undefined
      : offer
        ? { source: 'static', ...offer }
        : pool.defaultCode
          ? { source: 'default', code: pool.defaultCode, expiresAt: pool.defaultCodeExpiresAt }
          : undefined;
    const slot = randomInt(SLOTS);
    while (todo.length > 0) {
      const { rows } = await assignStatement({
        accountId: pool.accountId,
        poolKey: pool.key,
        requests: todo.map((r) => ({ ...r, id: newId() })),
        claim: pool.active && pool.type === 'unique',
        fallback,
        eligibleFrom: eligibleFrom(now, pool.expirationCutoffDays),
        now,
        slot,
      }).execute(tx);
      let progressed = false;
      for (const r of rows) {
        outcomes.set(r.idempotency_key, { ok: true, assignment: toAssignment(pool, r), created: r.created });
        // A recorded key (nothing else was done) or a claimed code: ask again for the rest.
        if (!r.created || r.source === 'unique') progressed = true;
      }
      todo = todo.filter((r) => !outcomes.has(r.idempotencyKey));
      if (!progressed) break;
    }
    for (const r of todo) outcomes.set(r.idempotencyKey, { ok: false, reason: pool.active ? 'pool_exhausted' : 'pool_inactive' });
    if (deps.onAssigned) {
      const created = [...outcomes.values()].flatMap((o) => (o.ok && o.created ? [o.assignment] : []));
      if (created.length > 0) await deps.onAssigned(tx, pool, created);
    }
    return outcomes;
  }

  /**
   * Assigns one code per request (a batch, for the conversation engine), in one transaction; the
   * same idempotency key always gets the same answer. Returns outcomes in request order. A lone
   * request needs no transaction: it is one statement.
   */
  async function assignMany(pool: Pool, requests: AssignRequest[]): Promise<AssignOutcome[]> {
    // With onAssigned (webhooks), a lone request too needs a transaction for its event.
    const lone = new Set(requests.map((r) => r.idempotencyKey)).size === 1 && !deps.onAssigned;
    for (let attempt = 0; ; attempt++) {
      try {
        const outcomes = lone
          ? await assignWithin(db, pool, requests)
          : await db.transaction().execute((tx) => assignWithin(tx, pool, requests));
        if ([...outcomes.values()].some((o) => o.ok && o.created)) await checkNotices(pool);
        return requests.map((r) => outcomes.get(r.idempotencyKey)!);
      } catch (err) {
        // A racing transaction recorded one of our keys first: everything was undone; ask again.
        if (!isUniqueViolation(err, 'assignments_idempotency_key') || attempt >= 3) throw err;
      }
    }
  }

  /**
   * POST /v1/pools/:id/assignments: the pool's read, then ONE statement (assign-one.sql.ts) that
   * resolves the contact, claims, records, queues the webhook rows and writes the audit entry. The
   * notice check follows only when the statement's count of available codes lies near a crossing.
   * Static pools (their offer is read first) take the general path.
   */
  async function assign(
    principal: Principal,
    poolId: string,
    input: { email?: string | undefined; contactId?: string | undefined; idempotencyKey: string },
  ) {
    const given = await deps.pools.getPoolFor(principal, poolId);
    if (given.type === 'static') return assignGeneral(principal, given, input);
    const pool = given.archivedAt ? { ...given, active: false } : given;
    const fallback: Fallback | undefined =
      pool.active && pool.defaultCode ? { source: 'default', code: pool.defaultCode, expiresAt: pool.defaultCodeExpiresAt } : undefined;
    const watch = pool.notificationEmails.length > 0 || pool.threshold !== null;
    for (let attempt = 0; ; attempt++) {
      const now = deps.clock.now();
      if (!input.contactId && !input.email) throw notFound('contact');
      const audit = claimAuditEntry();
      let row: AssignOneRow;
      try {
        row = (
          await assignOneStatement({
            accountId: pool.accountId,
            pool,
            contact: input.contactId ? { id: input.contactId } : { email: input.email!, newId: newId() },
            idempotencyKey: input.idempotencyKey,
            assignmentId: newId(),
            claim: pool.active,
            fallback,
            eligibleFrom: eligibleFrom(now, pool.expirationCutoffDays),
            now,
            slot: randomInt(SLOTS),
            webhookEventId: newId(),
            audit: audit?.row,
            watch,
          }).execute(db)
        ).rows[0]!;
      } catch (err) {
        audit?.settle(false);
        // A racing request recorded this key first: everything was undone; ask again.
        if (!isUniqueViolation(err, 'assignments_idempotency_key') || attempt >= 3) throw err;
        continue;
      }
      audit?.settle(row.wrote);
      if (row.resolved_id === null) {
        if (input.contactId) throw notFound('contact');
        if (attempt >= 3) throw new Error(`contact ${input.email} neither inserted nor found`);
        continue; // inserted by a racing request after this statement's snapshot: the next one sees it
      }
      if (row.id === null || row.id === undefined) {
        const reason = pool.active ? 'pool_exhausted' : 'pool_inactive';
        throw new DomainError('conflict', reason, reason === 'pool_inactive' ? 'The pool is not active.' : NO_CODE);
      }
      const assignment = toAssignment(pool, row as AssignedRow);
      if (row.created && watch && nearCrossing(pool, row.available)) await checkNotices(pool);
      return { ok: true as const, assignment, created: Boolean(row.created), email: row.resolved_email! };
    }
  }

  async function assignGeneral(
    principal: Principal,
    pool: Pool,
    input: { email?: string | undefined; contactId?: string | undefined; idempotencyKey: string },
  ) {
    const contact = await deps.contacts.resolveContact(principal.accountId, input);
    const [outcome] = await assignMany(pool, [{ contactId: contact.id, idempotencyKey: input.idempotencyKey }]);
    if (!outcome!.ok) {
      const message = outcome!.reason === 'pool_inactive' ? 'The pool is not active.' : NO_CODE;
      throw new DomainError('conflict', outcome!.reason, message);
    }
    return { ...outcome!, email: contact.email };
  }

  /**
   * Sends what the pool's state now calls for: one notice per crossing of the threshold, one when
   * it is exhausted; re-arms each once available rises again. The flag flip and the enqueue share
   * a transaction, so among many processes exactly one sends each notice. The common case (nothing
   * to do) reads without locking; when something is due, the pool row is locked and the flags and
   * counts read again under the lock, and only that fresh reading acts: a re-arm and a fire can
   * never both act on stale readings (which could send a second notice for one crossing).
   */
  async function checkNotices(pool: Pool): Promise<void> {
    if (pool.notificationEmails.length === 0 && pool.threshold === null) return;
    const now = deps.clock.now();
    await db.transaction().execute(async (tx) => {
      const read = async (lock: boolean) => {
        const flags = await noticeFlags(tx, pool.key, lock);
        const counts = flags && (await countsFor(tx, [pool.key], now)).get(pool.key);
        if (!flags || !counts) return undefined;
        return { counts, due: noticesDue({ pool, counts, thresholdArmed: flags.threshold_armed, exhaustedArmed: flags.exhausted_armed }) };
      };
      const first = await read(false);
      if (!first || (first.due.fire.length === 0 && first.due.rearm.length === 0)) return;
      const state = await read(true);
      if (!state) return;
      const { counts, due } = state;
      for (const kind of due.rearm) await rearm(tx, pool.key, kind === 'threshold' ? 'threshold_armed' : 'exhausted_armed');
      for (const kind of due.fire) {
        if (!(await disarm(tx, pool.key, kind === 'threshold' ? 'threshold_armed' : 'exhausted_armed'))) continue;
        const merchant = await tx
          .selectFrom('merchants')
          .select('name')
          .where('account_id', '=', pool.accountId)
          .where('id', '=', pool.merchantId)
          .executeTakeFirst();
        await deps.notify(tx, {
          kind,
          accountId: pool.accountId,
          pool,
          merchantName: merchant?.name ?? pool.merchantId,
          available: counts.available,
          runsOutAt: forecastRunOut(counts.available, counts.assignedLast7Days, now),
          at: now,
        });
      }
    });
  }

  /**
   * The periodic check: codes that expire or enter the cutoff lower `available` without any
   * assignment, so every watched pool is looked at on a schedule (POOL_CHECK_INTERVAL_SECONDS).
   */
  async function checkAllPools(): Promise<number> {
    let checked = 0;
    for (let after = 0; ;) {
      const batch = await listPoolsToWatch(db, after, 500);
      if (batch.length === 0) return checked;
      for (const pool of batch) await checkNotices(pool);
      checked += batch.length;
      after = batch[batch.length - 1]!.key;
    }
  }

  async function listAssignments(
    principal: Principal,
    poolId: string,
    page: PageQuery,
    filter: repo.AssignmentFilter = {},
  ): Promise<Page<repo.AssignmentListRow>> {
    const pool = await deps.pools.getPoolFor(principal, poolId);
    const rows = await repo.listAssignments(db, pool, {
      after: decodeCursor(page.cursor),
      limit: page.limit + 1,
      now: deps.clock.now(),
      ...filter,
    });
    return toPage(rows, page.limit, (a) => a.id);
  }

  /** Every (matching) assignment of a pool, in pages, for the CSV export (streamed, constant memory). */
  async function* exportAssignments(
    principal: Principal,
    poolId: string,
    filter: repo.AssignmentFilter = {},
  ): AsyncGenerator<repo.AssignmentListRow[]> {
    const pool = await deps.pools.getPoolFor(principal, poolId);
    const now = deps.clock.now();
    let after: string | undefined;
    for (;;) {
      const rows = await repo.listAssignments(db, pool, { after, limit: 5000, now, ...filter });
      if (rows.length === 0) return;
      yield rows;
      after = rows[rows.length - 1]!.id;
    }
  }

  return { assign, assignMany, assignWithin, checkNotices, checkAllPools, listAssignments, exportAssignments };
}

export type AssignmentsService = ReturnType<typeof assignmentsService>;
