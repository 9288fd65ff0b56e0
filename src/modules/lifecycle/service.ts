import type { Clock } from '../../platform/clock.ts';
import { forbidden, notFound } from '../../platform/errors.ts';
import { SQLSTATE } from '../../platform/db/sqlstate.ts';
import type { AppDatabase } from '../../schema.ts';
import type { Principal } from '../accounts/principal.ts';
import { noteAudit } from '../audit/service.ts';
import type { ContactsService } from '../contacts/service.ts';
import type { SuppressionsService } from '../suppressions/service.ts';
import type { EnrollmentJson } from '../conductor/model.ts';
import type { ContactExport } from './model.ts';
import * as q from './lifecycle.sql.ts';

const iso = (d: Date | null) => d?.toISOString() ?? null;

/**
 * Erasure (GDPR art. 17) and export (art. 15) of one contact. A contact belongs to the
 * whole account (its codes and runs span every merchant): a caller limited to some merchants may
 * do neither (403).
 */
export function privacyService(deps: {
  database: AppDatabase;
  clock: Clock;
  contacts: ContactsService;
  suppressions: SuppressionsService;
  /** The contact's runs with their steps, as the API shows them (the conductor's). */
  runsOf: (accountId: string, contactId: string) => Promise<EnrollmentJson[]>;
}) {
  const { db } = deps.database;

  const whole = (principal: Principal, what: string) => {
    if (principal.merchantIds !== null)
      throw forbidden(`A caller limited to some merchants cannot ${what} a contact: its data spans every merchant.`);
  };

  /** DELETE /v1/contacts/{id}: one transaction (lifecycle.sql.ts has the order); a deadlock with the engine is retried. */
  async function erase(principal: Principal, contactId: string): Promise<void> {
    whole(principal, 'erase');
    noteAudit({ resourceId: null, summary: 'contact erased (profile, fields, events, mails; codes and redemptions kept unlinked)' });
    for (let attempt = 1; ; attempt++) {
      try {
        await db.transaction().execute(async (tx) => {
          const found = await q.lockContact(tx, principal.accountId, contactId);
          if (!found) throw notFound('contact');
          const target = { accountId: principal.accountId, contactId, email: found.email.toLowerCase(), now: deps.clock.now() };
          await q.unlinkRuns(tx, target);
          await q.eraseRest(tx, target);
          await deps.suppressions.keepAsHashWithin(tx, principal.accountId, target.email);
        });
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== SQLSTATE.deadlockDetected || attempt >= 3) throw err;
      }
    }
  }

  /** GET /v1/contacts/{id}/export: everything held about the contact. */
  async function exportContact(principal: Principal, contactId: string): Promise<ContactExport> {
    whole(principal, 'export');
    const contact = await deps.contacts.getContact(principal, { id: contactId });
    const email = contact.email.toLowerCase();
    const [events, codes, redemptions, mails, runs, suppression] = await Promise.all([
      q.eventsOf(db, principal.accountId, contactId),
      q.codesOf(db, principal.accountId, contactId),
      q.redemptionsOf(db, principal.accountId, contactId, email),
      q.mailsOf(db, principal.accountId, email),
      deps.runsOf(principal.accountId, contactId),
      deps.suppressions.get(principal, email),
    ]);
    return {
      exportedAt: deps.clock.now().toISOString(),
      contact: {
        id: contact.id,
        email: contact.email,
        status: contact.status,
        fields: contact.named,
        createdAt: contact.createdAt.toISOString(),
        updatedAt: contact.updatedAt.toISOString(),
      },
      events: events.map((e) => ({
        id: e.id,
        type: e.type,
        properties: e.properties,
        occurredAt: e.occurred_at.toISOString(),
        createdAt: e.created_at.toISOString(),
      })),
      runs,
      codes: codes.map((c) => ({
        id: c.id,
        poolId: c.pool_id,
        merchantId: c.merchant_id,
        code: c.code,
        source: c.source,
        expiresAt: iso(c.expires_at),
        createdAt: c.created_at.toISOString(),
        releasedAt: iso(c.released_at),
      })),
      redemptions: redemptions.map((r) => ({
        id: r.id,
        code: r.code,
        poolId: r.pool_id,
        merchantId: r.merchant_id,
        orderId: r.order_id,
        amount: r.amount === null ? null : String(r.amount),
        currency: r.currency,
        source: r.source,
        redeemedAt: r.redeemed_at.toISOString(),
        rolledBackAt: iso(r.rolled_back_at),
      })),
      mails: mails.map((m) => ({
        id: m.id,
        to: m.to_email,
        subject: m.subject,
        html: m.html,
        text: m.text,
        status: m.status,
        kind: m.kind,
        createdAt: m.created_at.toISOString(),
        sentAt: iso(m.sent_at),
      })),
      suppression: suppression ? { reason: suppression.reason, createdAt: suppression.createdAt.toISOString() } : null,
    };
  }

  return { erase, exportContact };
}

export type PrivacyService = ReturnType<typeof privacyService>;
