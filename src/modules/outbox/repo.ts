import type { Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import type { Mail } from './model.ts';
import { testMessageOf, toMail } from './outbox.sql.ts';

type Q = Kysely<DB>;

export { insertMails, claimDue, markSentBatch, markFailedAttempt, type MailRow, type SentResult } from './outbox.sql.ts';

export interface MailFilter {
  accountId: string;
  merchantIds: string[] | null;
  /**
   * With merchantIds: the conversations whose mail (merchant null, written by a message step) the
   * caller also sees; the link is the step run that wrote the mail (step_runs.mail_id).
   */
  conversationIds?: string[] | undefined;
  /** With merchantIds: the messages whose test sends (kind `test`, merchant null) the caller also sees. */
  testMessageIds?: string[] | undefined;
  to?: string | undefined;
  kind?: Mail['kind'] | undefined;
  status?: Mail['status'] | undefined;
  /** Show mail of kind `access` (one-time sign-in links): for unlimited owners only. */
  accessMail?: boolean | undefined;
}

function filtered(db: Q, f: MailFilter) {
  let q = db.selectFrom('outbox').selectAll().where('account_id', '=', f.accountId);
  if (!f.accessMail) q = q.where('kind', '!=', 'access');
  if (f.merchantIds) {
    const merchants = f.merchantIds.length ? f.merchantIds : [''];
    const conversations = f.conversationIds ?? [];
    const tested = f.testMessageIds ?? [];
    q = q.where((eb) =>
      eb.or([
        eb('merchant_id', 'in', merchants),
        ...(conversations.length
          ? [
              eb.and([
                eb('merchant_id', 'is', null),
                eb('kind', '=', 'message'),
                eb(
                  'id',
                  'in',
                  eb
                    .selectFrom('step_runs')
                    .select('mail_id')
                    .where('step_runs.account_id', '=', f.accountId)
                    .where('step_runs.conversation_id', 'in', conversations)
                    .where('step_runs.mail_id', 'is not', null)
                    .$narrowType<{ mail_id: string }>(),
                ),
              ]),
            ]
          : []),
        ...(tested.length ? [eb.and([eb('merchant_id', 'is', null), eb('kind', '=', 'test'), eb(testMessageOf, 'in', tested)])] : []),
      ]),
    );
  }
  if (f.to) q = q.where((eb) => eb.fn('lower', ['to_email']), '=', f.to.toLowerCase());
  if (f.kind) q = q.where('kind', '=', f.kind);
  if (f.status) q = q.where('status', '=', f.status);
  return q;
}

/** Newest first (ids are time-ordered UUIDv7). */
export async function listMails(db: Q, f: MailFilter, page: { before: string | undefined; limit: number }): Promise<Mail[]> {
  let q = filtered(db, f);
  if (page.before) q = q.where('id', '<', page.before);
  return (await q.orderBy('id', 'desc').limit(page.limit).execute()).map(toMail);
}

export async function findMail(db: Q, f: MailFilter, id: string): Promise<Mail | undefined> {
  const row = await filtered(db, f).where('id', '=', id).executeTakeFirst();
  return row ? toMail(row) : undefined;
}

/**
 * Marketing mail (kind `message`, not failed) written to each address since `since`: what an
 * account's frequency cap counts (conductor). By `outbox_to_idx` (account, lower(to_email)).
 */
export async function marketingMailSince(db: Q, accountId: string, emails: string[], since: Date): Promise<Map<string, number>> {
  if (emails.length === 0) return new Map();
  const rows = await db
    .selectFrom('outbox')
    .select((eb) => [eb.fn<string>('lower', ['to_email']).as('email'), eb.fn.countAll<number>().as('n')])
    .where('account_id', '=', accountId)
    .where((eb) => eb(eb.fn('lower', ['to_email']), 'in', [...new Set(emails.map((e) => e.toLowerCase()))]))
    .where('kind', '=', 'message')
    .where('status', '!=', 'failed')
    .where('created_at', '>', since)
    .groupBy((eb) => eb.fn('lower', ['to_email']))
    .execute();
  return new Map(rows.map((r) => [r.email, Number(r.n)]));
}
