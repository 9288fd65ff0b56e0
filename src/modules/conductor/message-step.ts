/**
 * The message step for a group of runs at once: the send window (the account's zone), the
 * account's frequency cap (counted from the marketing mail each contact got over the cap's days,
 * one query for the group), suppressions and unsubscribes, rendering on the render pool's threads,
 * and the mail written to the outbox in the batch's transaction.
 */
import type { NewMail } from '../outbox/model.ts';
import type { OutboxService } from '../outbox/service.ts';
import { namedFields, type StoredFields } from '../contacts/model.ts';
import type { ContactRecord } from '../contacts/service.ts';
import type { TemplatePart } from '../messages/template.ts';
import type { RenderPool } from '../messages/render-pool.ts';
import { marketingMail, type MarketingRules } from '../unsubscribe/marketing.ts';
import { nextWindowOpening, type CommittedMessage, type MessageStep } from './model.ts';
import type { BatchWork, Outcome, Run, StepResult } from './batch.ts';

const DAY_MS = 86_400_000;

export const partsOf = (m: CommittedMessage): TemplatePart[] => [
  { field: 'subject', source: m.subject },
  { field: 'html', source: m.html },
  ...(m.text !== null ? [{ field: 'text' as const, source: m.text }] : []),
];

export async function sendMessage(
  deps: { outbox: OutboxService; renderPool: RenderPool; marketing?: MarketingRules | undefined },
  work: BatchWork,
  step: MessageStep,
  runs: Run[],
): Promise<Outcome[]> {
  const message = step.committed;
  if (!message) return runs.map(() => ({ outcome: 'failed', detail: 'message not committed', exit: 'message not committed' }));
  // Outside the conversation's send window: every run of the group waits for it to open (same version, same window).
  const window = runs[0]!.doc.sendWindow;
  if (window) {
    const opens = nextWindowOpening(window, work.now, work.timeZone);
    if (opens.getTime() > work.now.getTime()) return runs.map(() => ({ holdUntil: opens }));
  }
  const results: StepResult[] = [];
  const toRender: { index: number; contact: ContactRecord; url: string | null }[] = [];
  // Suppressed addresses (one lookup for the batch) and the signed unsubscribe links: unsubscribe/marketing.ts.
  const marketing = await marketingMail(
    deps.marketing,
    work.tx,
    work.accountId,
    message,
    runs.map((r) => work.contacts.get(r.row.contact_id)?.email),
  );
  // The frequency cap: marketing mail per address over the cap's days, this batch's mail included (same transaction).
  const cap = work.frequencyCap;
  const sentBefore = cap
    ? await deps.outbox.marketingMailSince(
        work.tx,
        work.accountId,
        runs.flatMap((r) => work.contacts.get(r.row.contact_id)?.email ?? []),
        new Date(work.now.getTime() - cap.perDays * DAY_MS),
      )
    : new Map<string, number>();
  const sending = new Map<string, number>();
  runs.forEach((run, i) => {
    const contact = work.contacts.get(run.row.contact_id);
    if (!contact) return results.push({ outcome: 'failed', detail: 'contact not found', exit: 'contact not found' });
    if (contact.status === 'unsubscribed') return results.push({ outcome: 'skipped', detail: 'unsubscribed', exit: 'unsubscribed' });
    if (marketing.suppressed(contact.email)) return results.push({ outcome: 'skipped', detail: 'suppressed', exit: 'suppressed' });
    if (cap) {
      const email = contact.email.toLowerCase();
      const count = (sentBefore.get(email) ?? 0) + (sending.get(email) ?? 0);
      if (count >= cap.messages)
        return results.push({ outcome: 'capped', detail: `${count} marketing mails in the last ${cap.perDays} days` });
      sending.set(email, (sending.get(email) ?? 0) + 1);
    }
    toRender.push({ index: i, contact, url: marketing.link(contact.id) });
    return results.push({ outcome: 'sent' });
  });
  const outcomes = await deps.renderPool.render(work.accountId, {
    timeZone: work.timeZone,
    parts: partsOf(message),
    contexts: toRender.map(({ contact, url }) => ({
      contact: { id: contact.id, email: contact.email, status: contact.status },
      fields: namedFields(work.groups, (contact.fields ?? {}) as StoredFields, true),
      ...(url !== null && { unsubscribeUrl: url }),
    })),
  });
  const mails: { index: number; mail: NewMail }[] = [];
  toRender.forEach(({ index, contact, url }, k) => {
    const outcome = outcomes[k]!;
    if (!outcome.ok) {
      // Over the budget (or blocking its thread): this contact fails, the batch goes on.
      const detail = outcome.error.reason === 'time_limit' ? `render_timeout: ${outcome.error.message}` : outcome.error.message;
      results[index] = { outcome: 'failed', detail, exit: 'message could not be rendered' };
      return;
    }
    const rendered = marketing.finish(outcome.rendered, url);
    mails.push({
      index,
      mail: {
        accountId: work.accountId,
        merchantId: null,
        kind: 'message',
        to: contact.email,
        from: { name: message.fromName, email: message.fromEmail },
        subject: rendered.subject,
        html: rendered.html,
        text: message.text === null ? null : rendered.text,
        headers: marketing.headers(url),
      },
    });
  });
  const ids = await deps.outbox.enqueue(
    work.tx,
    mails.map((m) => m.mail),
  );
  mails.forEach((m, k) => (results[m.index]!.mailId = ids[k]!));
  return results;
}
