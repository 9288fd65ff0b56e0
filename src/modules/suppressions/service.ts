import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.ts';
import { DomainError, invalid, notFound } from '../../platform/errors.ts';
import type { Principal } from '../accounts/principal.ts';
import { decodeCursor, toPage, type Page, type PageQuery } from '../../platform/pagination.ts';
import type { AppDatabase, DB } from '../../schema.ts';
import { emailProblem } from '../contacts/model.ts';
import { parseSuppressionLine, suppressionKey, type Suppression, type SuppressionReason } from './model.ts';
import * as repo from './repo.ts';

export interface SuppressionImport {
  lines: number;
  suppressed: number;
  rejected: number;
  errors: { line: number; reason: string }[];
}

/** Lines a suppression import may have; more is refused (413), never cut. */
export const MAX_IMPORT_LINES = 1_000_000;

export function suppressionsService(deps: { database: AppDatabase; clock: Clock }) {
  const { db } = deps.database;

  /** Within `tx` (the bounce, the unsubscribe): suppresses one address of the account. */
  async function suppressWithin(
    tx: Kysely<DB>,
    accountId: string,
    email: string,
    reason: SuppressionReason,
    detail: string | null = null,
  ): Promise<void> {
    await repo.suppress(tx, accountId, [{ email: suppressionKey(email), reason, detail }], deps.clock.now());
  }

  /** Which of these addresses are suppressed (answers lower-cased addresses). */
  async function suppressedAmong(tx: Kysely<DB>, accountId: string, emails: readonly string[]): Promise<Set<string>> {
    return repo.suppressedAmong(tx, accountId, [...new Set(emails.map(suppressionKey))]);
  }

  /** Erasure, within its transaction: the address's suppression is kept as a hash only. */
  async function keepAsHashWithin(tx: Kysely<DB>, accountId: string, email: string): Promise<boolean> {
    return repo.keepAsHash(tx, accountId, suppressionKey(email));
  }

  async function add(
    principal: Principal,
    input: { email: string; reason: SuppressionReason; detail?: string | null | undefined },
  ): Promise<Suppression> {
    const email = suppressionKey(input.email);
    const problem = emailProblem(email);
    if (problem) throw invalid(problem, [{ field: 'email', message: problem }]);
    await repo.suppress(db, principal.accountId, [{ email, reason: input.reason, detail: input.detail ?? null }], deps.clock.now());
    return (await repo.findSuppression(db, principal.accountId, email))!;
  }

  async function get(principal: Principal, email: string): Promise<Suppression | undefined> {
    return repo.findSuppression(db, principal.accountId, suppressionKey(email));
  }

  async function list(
    principal: Principal,
    query: PageQuery & { search?: string | undefined; reason?: SuppressionReason | undefined },
  ): Promise<Page<Suppression>> {
    const rows = await repo.listSuppressions(db, principal.accountId, {
      after: decodeCursor(query.cursor),
      limit: query.limit + 1,
      search: query.search,
      reason: query.reason,
    });
    return toPage(rows, query.limit, (s) => s.email);
  }

  async function remove(principal: Principal, email: string): Promise<void> {
    if (!(await repo.deleteSuppression(db, principal.accountId, suppressionKey(email)))) throw notFound('suppression');
  }

  /** A CSV (`email[,reason]`, optional header): valid lines are suppressed, the others reported. */
  async function importCsv(principal: Principal, csv: string): Promise<SuppressionImport> {
    const lines = csv.split(/\r?\n/);
    if (lines.length > MAX_IMPORT_LINES)
      throw new DomainError('too_large', 'too_many_lines', `a suppression import has at most ${MAX_IMPORT_LINES} lines`);
    const rows: { email: string; reason: SuppressionReason }[] = [];
    const errors: { line: number; reason: string }[] = [];
    let counted = 0;
    lines.forEach((raw, i) => {
      const parsed = parseSuppressionLine(raw, i + 1);
      if (!parsed) return;
      counted++;
      if (parsed.error) errors.push({ line: parsed.line, reason: parsed.error });
      else rows.push({ email: parsed.email!, reason: parsed.reason! });
    });
    await db.transaction().execute((tx) => repo.suppress(tx, principal.accountId, rows, deps.clock.now()));
    return { lines: counted, suppressed: rows.length, rejected: errors.length, errors: errors.slice(0, 100) };
  }

  return { suppressWithin, suppressedAmong, keepAsHashWithin, add, get, list, remove, importCsv };
}

export type SuppressionsService = ReturnType<typeof suppressionsService>;
