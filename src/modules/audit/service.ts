import type { Clock } from '../../platform/clock.ts';
import { forbidden } from '../../platform/errors.ts';
import { currentUnitOfWork, type UnitOfWork } from '../../platform/db/unit-of-work.ts';
import { v7 as uuidv7 } from 'uuid';
import { decodeCursor, toPage } from '../../platform/pagination.ts';
import type { AppDatabase } from '../../schema.ts';
import type { Principal } from '../accounts/principal.ts';
import type { AuditEntry, AuditQuery } from './model.ts';
import * as repo from './repo.ts';

export const DEFAULT_RETENTION_DAYS = 365;

/** What a call is about, known before it runs (from the route table and the request). */
export interface CallFacts {
  principal: Principal;
  route: string;
  action: string;
  /** A route param's value; `new`: the first id the change mints; null: none (or not to be named). */
  resourceId: string | null | 'new';
  summary: string;
}

/**
 * One call's audit entry: a unit of work (platform/db/unit-of-work.ts) whose statement is the
 * entry's INSERT, run by the driver inside the change's own transaction.
 */
export class AuditRecord implements UnitOfWork {
  private state: 'pending' | 'claimed' | 'committed' = 'pending';
  private firstId: string | undefined;
  private noted: { resourceId?: string | null; summary?: string } = {};
  /** Drawn here, not by newId(): that one would count as an id minted by the change. */
  private readonly entryId = uuidv7();

  constructor(
    private readonly database: AppDatabase,
    private readonly clock: Clock,
    private readonly facts: CallFacts,
  ) {}

  /** A service refines the entry (the id it created, a better summary; never a secret). */
  note(change: { resourceId?: string | null; summary?: string }) {
    Object.assign(this.noted, change);
  }

  minted(id: string) {
    this.firstId ??= id;
  }

  claim() {
    const row = this.claimRow();
    return row && repo.compileInsert(this.database.db, row);
  }

  /** The entry as a row, claimed: for a statement that writes it itself (then committed() or released()). */
  claimRow(): repo.AuditRow | undefined {
    if (this.state !== 'pending') return undefined;
    this.state = 'claimed';
    const { principal, route, action, resourceId, summary } = this.facts;
    const resolved =
      this.noted.resourceId !== undefined ? this.noted.resourceId : resourceId === 'new' ? (this.firstId ?? null) : resourceId;
    return {
      account_id: principal.accountId,
      id: this.entryId,
      at: this.clock.now(),
      actor_type: principal.actor.type,
      actor_id: principal.actor.id,
      actor_name: principal.actor.name,
      action,
      route,
      resource_type: action.split('.')[0] ?? action,
      resource_id: resolved,
      summary: (this.noted.summary ?? summary).slice(0, 300),
    };
  }

  committed() {
    this.state = 'committed';
  }

  released() {
    this.state = 'pending';
  }

  get isCommitted() {
    return this.state === 'committed';
  }
}

/**
 * From inside a service whose one statement writes the current call's entry itself (a hot path
 * that cannot afford the unit of work's BEGIN … COMMIT around it): the entry's row, claimed, and
 * how to settle it. undefined outside an audited call (or once its entry is written).
 */
export function claimAuditEntry(): { row: repo.AuditRow; settle(written: boolean): void } | undefined {
  const work = currentUnitOfWork();
  if (!(work instanceof AuditRecord)) return undefined;
  const row = work.claimRow();
  if (!row) return undefined;
  return { row, settle: (written) => (written ? work.committed() : work.released()) };
}

/** From inside a service: refine the current call's audit entry (no-op outside an audited call). */
export function noteAudit(change: { resourceId?: string | null; summary?: string }) {
  const work = currentUnitOfWork();
  if (work instanceof AuditRecord) work.note(change);
}

const toEntry = (row: repo.AuditRow): AuditEntry => ({
  id: row.id,
  at: row.at.toISOString(),
  actor: { type: row.actor_type as 'token' | 'user', id: row.actor_id, name: row.actor_name },
  action: row.action,
  route: row.route,
  resource: { type: row.resource_type, id: row.resource_id },
  summary: row.summary,
});

export function auditService(deps: { database: AppDatabase; clock: Clock; retentionDays?: number | undefined }) {
  const { db } = deps.database;
  const retentionDays = deps.retentionDays ?? DEFAULT_RETENTION_DAYS;

  const record = (facts: CallFacts) => new AuditRecord(deps.database, deps.clock, facts);

  async function list(principal: Principal, query: AuditQuery) {
    // Entries name resources of every merchant: for callers that see them all.
    if (principal.merchantIds !== null) throw forbidden('A caller limited to some merchants cannot read the audit log.');
    const { cursor, limit, ...filter } = query;
    const rows = await repo.listEntries(db, principal.accountId, filter, { after: decodeCursor(cursor), limit: limit + 1 });
    return toPage(rows.map(toEntry), limit, (e) => e.id);
  }

  /** The periodic job: entries older than AUDIT_RETENTION_DAYS go, in batches. */
  async function prune(): Promise<number> {
    const before = new Date(deps.clock.now().getTime() - retentionDays * 86_400_000);
    let total = 0;
    for (;;) {
      const n = await repo.pruneBefore(db, before, 5_000);
      total += n;
      if (n < 5_000) return total;
    }
  }

  return { record, list, prune, retentionDays };
}

export type AuditService = ReturnType<typeof auditService>;
