import type { Pool, PoolCounts } from '../pools/model.ts';

export type NoticeKind = 'threshold' | 'exhausted';

export interface PoolNotice {
  kind: NoticeKind;
  accountId: string;
  pool: Pick<Pool, 'id' | 'name' | 'merchantId' | 'threshold' | 'notificationEmails'>;
  merchantName: string;
  available: number;
  runsOutAt: Date | null;
  at: Date;
}

/**
 * What to send, from the pool's state now. Pure. A pool that has never held a code (`total` 0:
 * just created, or a default code only) is not "low" or "exhausted": nothing fires until codes
 * have arrived once.
 */
export function noticesDue(args: {
  pool: Pick<Pool, 'threshold'>;
  counts: Pick<PoolCounts, 'available' | 'total'>;
  thresholdArmed: boolean;
  exhaustedArmed: boolean;
}): { fire: NoticeKind[]; rearm: NoticeKind[] } {
  const { available } = args.counts;
  const fire: NoticeKind[] = [];
  const rearm: NoticeKind[] = [];
  if (args.counts.total === 0) return { fire, rearm };
  const threshold = args.pool.threshold;
  if (threshold !== null) {
    if (available <= threshold && args.thresholdArmed) fire.push('threshold');
    if (available > threshold && !args.thresholdArmed) rearm.push('threshold');
  }
  if (available === 0 && args.exhaustedArmed) fire.push('exhausted');
  if (available > 0 && !args.exhaustedArmed) rearm.push('exhausted');
  return { fire, rearm };
}

export function noticeMail(n: PoolNotice): { subject: string; text: string; html: string } {
  const runsOut = n.runsOutAt ? n.runsOutAt.toISOString().slice(0, 10) : 'unknown (no assignments in the last 7 days)';
  const subject =
    n.kind === 'exhausted'
      ? `Coupon pool "${n.pool.name}" has run out of codes`
      : `Coupon pool "${n.pool.name}" is low: ${n.available} ${n.available === 1 ? 'code' : 'codes'} left`;
  const lines = [
    n.kind === 'exhausted'
      ? `The coupon pool "${n.pool.name}" of merchant "${n.merchantName}" has no eligible codes left.`
      : `The coupon pool "${n.pool.name}" of merchant "${n.merchantName}" is at or below its threshold of ${n.pool.threshold}.`,
    `Available codes: ${n.available}`,
    `Forecast run-out date: ${runsOut}`,
    n.kind === 'exhausted' ? 'Contacts now receive the default code, if the pool has one.' : 'Upload more codes to keep it going.',
  ];
  const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  return { subject, text: lines.join('\n'), html: lines.map((l) => `<p>${escape(l)}</p>`).join('\n') };
}
