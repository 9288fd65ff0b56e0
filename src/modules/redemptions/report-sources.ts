/**
 * The report sources (lenient: the order already happened): a CSV file of redemptions
 * and the coupon codes named by events. Both go through one set-wise statement
 * (redemptions.sql.ts: recordReportedStatement), never a statement per line; what the recorded
 * redemptions cause (runs ending on redemption, code.redeemed webhooks) follows in the same
 * transaction, one read-back per chunk or batch (redeemed.ts: afterRecorded).
 */
import type { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.ts';
import { DomainError } from '../../platform/errors.ts';
import { newIds } from '../../platform/ids.ts';
import type { AppDatabase, DB } from '../../schema.ts';
import { prefetched } from '../uploads/service.ts';
import { MAX_REPORTED_ERRORS } from '../uploads/model.ts';
import { parseRedemptionsCsv, type ImportedLine, type RedemptionLine } from './import-lines.ts';
import {
  namedCoupons,
  REASON_MESSAGES,
  type EventRedemptions,
  type InvalidReason,
  type RedemptionImportReport,
  type RedemptionSource,
} from './model.ts';
import {
  arrayLines,
  COPY_INTO_REPORTED_LINES,
  createReportedLines,
  setImportWorkMem,
  recordReportedStatement,
  stagedLines,
  truncateReportedLines,
  type ReportedLine,
  type ReportedRow,
} from './redemptions.sql.ts';
import { afterRecorded, type RedeemedHooks } from './redeemed.ts';
import { givenIds, stagedIds } from './redeemed.sql.ts';

/** Counts redemptions by source and result, for /metrics. */
export type RedemptionCounter = (source: RedemptionSource, result: string, n?: number) => void;

/** An import's report (the API's answer, model.ts). */
export type RedemptionImport = RedemptionImportReport;

/** Lines per staged chunk: one COPY and one statement each. */
const CHUNK_LINES = 50_000;

/** COPY text format: codes and order ids hold no control characters; only backslashes need doubling. */
const copyText = (s: string | null) => (s === null ? '\\N' : s.includes('\\') ? s.replace(/\\/g, '\\\\') : s);

const reasonText = (row: ReportedRow) => `${row.code}: ${row.outcome} (${REASON_MESSAGES[row.outcome as InvalidReason] ?? row.outcome})`;

export function reportSources(deps: { database: AppDatabase; clock: Clock; count?: RedemptionCounter } & RedeemedHooks) {
  const { database } = deps;

  const counted = (source: RedemptionSource, rows: { outcome: string }[], recorded: number, duplicates: number) => {
    if (!deps.count) return;
    if (recorded) deps.count(source, 'recorded', recorded);
    if (duplicates) deps.count(source, 'repeated', duplicates);
    const byReason = new Map<string, number>();
    for (const r of rows)
      if (r.outcome !== 'recorded' && r.outcome !== 'duplicate') byReason.set(r.outcome, (byReason.get(r.outcome) ?? 0) + 1);
    for (const [reason, n] of byReason) deps.count(source, reason, n);
  };

  /**
   * POST /v1/merchants/{id}/redemptions/import: the file streamed in ONE transaction. Valid lines
   * are COPYed into a session-private table a chunk at a time, and each chunk is recorded by one
   * statement (the next chunk is parsed meanwhile). `reject`: one invalid line — unreadable, or a
   * code the statement could not record — and the transaction is rolled back, nothing recorded;
   * the whole file is still read and checked, so the report names every line to fix at once.
   * Only the first 100 errors are kept: memory stays flat whatever the file.
   */
  async function importFile(
    accountId: string,
    merchantId: string,
    input: { file: Readable; onInvalid: 'reject' | 'skip'; timeZone: string },
  ): Promise<RedemptionImport> {
    const report: RedemptionImport = { status: 'imported', lines: 0, recorded: 0, duplicates: 0, rejected: 0, errors: [], errorCount: 0 };
    // Errors arrive per chunk (unreadable lines first, then the statement's): keep the first 100 by line.
    const trimErrors = () => {
      report.errors.sort((a, b) => a.line - b.line);
      report.errors.length = Math.min(report.errors.length, MAX_REPORTED_ERRORS);
    };
    const error = (line: number, reason: string) => {
      report.errorCount++;
      report.errors.push({ line, reason });
      if (report.errors.length >= 10 * MAX_REPORTED_ERRORS) trimErrors();
    };
    const stopped = () => input.onInvalid === 'reject' && report.errorCount > 0;

    const chunks = async function* (batches: AsyncIterable<RedemptionLine[]>) {
      let rows: string[] = [];
      let lines: ImportedLine[] = [];
      const cut = () => {
        const ids = newIds(lines.length);
        lines.forEach((l, i) => {
          rows[i] =
            `${l.line}\t${ids[i]}\t${copyText(l.code)}\t${copyText(l.orderId)}\t${l.redeemedAt?.toISOString() ?? '\\N'}\t${l.amount ?? '\\N'}\t${l.currency ?? '\\N'}\t${copyText(l.email)}\n`;
        });
        const out = rows.join('');
        rows = [];
        lines = [];
        return out;
      };
      for await (const batch of batches) {
        for (const line of batch) {
          report.lines++;
          if (!line.ok) error(line.line, line.reason);
          else lines.push(line);
        }
        if (lines.length >= CHUNK_LINES) yield cut();
      }
      if (lines.length > 0) yield cut();
    };

    const rejected = Symbol('rejected');
    try {
      await database.session((session) =>
        session.db.transaction().execute(async (tx) => {
          await createReportedLines(tx);
          // The chunk's sorts (by line for the choice, by code for the insert) stay in memory.
          await setImportWorkMem(tx);
          for await (const chunk of prefetched(chunks(parseRedemptionsCsv(input.file, input.timeZone)))) {
            await session.copyFrom(COPY_INTO_REPORTED_LINES, [chunk]);
            const { rows } = await recordReportedStatement({
              accountId,
              merchantIds: [merchantId],
              lines: stagedLines,
              source: 'file',
              now: deps.clock.now(),
              problemsOnly: true,
            }).execute(tx);
            // What the chunk's redemptions cause (runs ending, code.redeemed), in this transaction.
            const totals = rows[rows.length - 1]!;
            if (Number(totals.recorded_count) > 0) await afterRecorded(deps, tx, accountId, stagedIds, Number(totals.with_contact_count));
            await truncateReportedLines(tx);
            report.recorded += Number(totals.recorded_count);
            report.duplicates += Number(totals.duplicate_count);
            const problems = rows.slice(0, -1);
            for (const row of problems) error(row.line, reasonText(row));
            trimErrors();
            counted('file', problems, Number(totals.recorded_count), Number(totals.duplicate_count));
          }
          trimErrors();
          if (stopped()) throw rejected;
        }),
      );
    } catch (err) {
      if (err !== rejected) throw err;
      const refused: RedemptionImport = { ...report, status: 'rejected', recorded: 0, duplicates: 0, rejected: report.errorCount };
      throw new DomainError(
        'invalid',
        'import_rejected',
        `The file has ${report.errorCount} line(s) that cannot be recorded; nothing was recorded (onInvalid is "reject").`,
        refused.errors,
        {
          import: refused,
        },
      );
    }
    return { ...report, rejected: report.errorCount };
  }

  /**
   * The coupon codes named by events, within the events' transaction `tx`: one statement for all
   * of them (a batch of events included). Answers each line's row, in line order.
   */
  async function recordNamed(
    tx: Kysely<DB>,
    accountId: string,
    merchantIds: readonly string[] | null,
    lines: Omit<ReportedLine, 'id'>[],
  ): Promise<ReportedRow[]> {
    if (lines.length === 0) return [];
    const ids = newIds(lines.length);
    const { rows } = await recordReportedStatement({
      accountId,
      merchantIds,
      lines: arrayLines(lines.map((l, i) => ({ ...l, id: ids[i]! }))),
      source: 'event',
      now: deps.clock.now(),
      problemsOnly: false,
    }).execute(tx);
    const recorded = rows.filter((r) => r.outcome === 'recorded');
    counted('event', rows, recorded.length, rows.filter((r) => r.outcome === 'duplicate').length);
    if (recorded.length > 0)
      await afterRecorded(deps, tx, accountId, givenIds(recorded.map((r) => r.redemption_id!)), Number(rows[0]!.with_contact_count));
    return rows;
  }

  /**
   * POST /v1/events (and /batch): the codes each event names, recorded in the events' transaction
   * `tx` by ONE statement for the whole batch. Answers, per event, what was recorded and what was
   * not and why (null: the event names no code). The account's pools, or a limited caller's merchants'.
   */
  async function recordEvents(
    tx: Kysely<DB>,
    accountId: string,
    merchantIds: readonly string[] | null,
    events: readonly { id: string; idempotencyKey: string | null; email: string; properties: Record<string, unknown>; occurredAt: Date }[],
  ): Promise<(EventRedemptions | null)[]> {
    const named = events.map((e) => namedCoupons(e.properties, e));
    const lines: (Omit<ReportedLine, 'id'> & { event: number })[] = [];
    named.forEach((n, event) => {
      for (const code of n?.codes ?? []) {
        const e = events[event]!;
        lines.push({
          event,
          line: lines.length + 1,
          code,
          orderId: n!.orderId,
          redeemedAt: e.occurredAt,
          amount: n!.amount,
          currency: n!.currency,
          email: e.email,
        });
      }
    });
    const rows = await recordNamed(tx, accountId, merchantIds, lines);
    const answers = named.map((n): EventRedemptions | null => (n ? { recorded: [], notRecorded: [...n.invalid] } : null));
    for (const row of rows) {
      const answer = answers[lines[row.line - 1]!.event]!;
      if (row.outcome === 'recorded') answer.recorded.push({ code: row.code, redemptionId: row.redemption_id!, poolId: row.pool_id! });
      else if (row.outcome === 'duplicate')
        answer.notRecorded.push({ code: row.code, reason: 'already_recorded', redemptionId: row.redemption_id! });
      else answer.notRecorded.push({ code: row.code, reason: row.outcome });
    }
    return answers;
  }

  return { importFile, recordNamed, recordEvents };
}

export type ReportSources = ReturnType<typeof reportSources>;
