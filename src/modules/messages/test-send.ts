/**
 * Test sends: a message rendered for a chosen contact (read only) or a sample one, sent
 * to up to 10 addresses as kind `test`, subject prefixed `[Test] `. Coupon fields without a code
 * show TEST_CODE. Never assigns a code, never changes a contact, never checks suppression; a test
 * mail carries no unsubscribe link (`{{ unsubscribe_url }}` renders empty) and no List-Unsubscribe;
 * it carries X-Couponflow-Test-Message: <message id>.
 */
import type { Clock } from '../../platform/clock.ts';
import { DomainError } from '../../platform/errors.ts';
import type { Principal } from '../accounts/principal.ts';
import type { AppDatabase } from '../../schema.ts';
import type { ContactsService } from '../contacts/service.ts';
import type { OutboxService } from '../outbox/service.ts';
import type { MessagesService } from './service.ts';

export const TEST_CODE = 'TEST-CODE';
export const MAX_TEST_RECIPIENTS = 10;
/** Names the tested message on each test mail (also useful to the tester's mail filters). */
export { TEST_MESSAGE_HEADER } from '../outbox/model.ts';
import { TEST_MESSAGE_HEADER } from '../outbox/model.ts';

export function testSendService(deps: {
  database: AppDatabase;
  clock: Clock;
  messages: MessagesService;
  contacts: ContactsService;
  outbox: OutboxService;
  /** Field ids coupon steps save codes into. */
  couponCodeFields: (accountId: string) => Promise<Set<string>>;
}) {
  async function sendTest(
    principal: Principal,
    id: string,
    input: { to: string[]; contactId?: string | undefined; email?: string | undefined },
  ): Promise<string[]> {
    if (input.to.length === 0 || input.to.length > MAX_TEST_RECIPIENTS) {
      throw new DomainError('invalid', 'validation_failed', `to: 1 to ${MAX_TEST_RECIPIENTS} addresses`, [
        { field: 'to', message: `1 to ${MAX_TEST_RECIPIENTS} addresses` },
      ]);
    }
    const message = await deps.messages.getMessage(principal, id);
    const chosen =
      input.contactId || input.email
        ? await deps.contacts.getContact(principal, input.contactId ? { id: input.contactId } : { email: input.email! })
        : undefined;
    const contact = chosen ?? { id: 'sample-contact', email: input.to[0]!, status: 'subscribed' as const, fields: {} };
    const fields: Record<string, unknown> = { ...contact.fields };
    for (const fieldId of await deps.couponCodeFields(principal.accountId)) {
      if (fields[fieldId] === undefined || fields[fieldId] === null || fields[fieldId] === '') fields[fieldId] = TEST_CODE;
    }
    const rendered = await deps.messages.renderFor(principal.accountId, message, {
      id: contact.id,
      email: contact.email,
      status: contact.status,
      fields: fields as typeof contact.fields,
    });
    return deps.database.db.transaction().execute((tx) =>
      deps.outbox.enqueue(
        tx,
        input.to.map((to) => ({
          accountId: principal.accountId,
          merchantId: null,
          kind: 'test' as const,
          to,
          from: { name: message.fromName, email: message.fromEmail },
          subject: `[Test] ${rendered.subject}`,
          html: rendered.html,
          text: message.text === null ? null : rendered.text,
          // Which message this tests: the outbox shows the mail to merchant-limited callers by it.
          headers: { [TEST_MESSAGE_HEADER]: message.id },
        })),
      ),
    );
  }

  return { sendTest };
}

export type TestSendService = ReturnType<typeof testSendService>;
