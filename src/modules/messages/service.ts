import { DomainError, notFound } from '../../platform/errors.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Principal } from '../accounts/principal.ts';
import { newId } from '../../platform/ids.ts';
import { decodeCursor, toPage, type Page, type PageQuery } from '../../platform/pagination.ts';
import type { AppDatabase } from '../../schema.ts';
import type { AccountsService } from '../accounts/service.ts';
import type { ContactsService, ContactView } from '../contacts/service.ts';
import { namedFields } from '../contacts/model.ts';
import type { SegmentationService } from '../segmentation/service.ts';
import { catalogOf, type FieldGroup } from '../segmentation/model.ts';
import { partsOf, type Message, type MessageContent, type MessageSettings } from './model.ts';
import { TemplateError, validateTemplates, type RenderContext, type RenderedMessage, type Renderer } from './template.ts';
import type { RenderPool } from './render-pool.ts';
import * as repo from './repo.ts';
import type { Kysely } from 'kysely';
import type { DB } from '../../schema.ts';
import { inUseMessage, type UsageJson } from '../lifecycle/model.ts';
import { fieldsRead } from '../conductor/references.ts';

export type BatchOutcome =
  | { contactId: string; email: string; ok: true; rendered: RenderedMessage }
  | { contactId: string; email: string; ok: false; error: TemplateError };

/** Renders one message for contacts already loaded (parsed once, whatever the number of contacts). */
export type PreparedMessage = (contact: Pick<ContactView, 'id' | 'email' | 'status' | 'fields'>) => RenderedMessage;

/** What a template sees of a contact: `contact` and the field groups by name. */
export function renderContext(
  groups: readonly FieldGroup[],
  contact: Pick<ContactView, 'id' | 'email' | 'status' | 'fields'>,
): RenderContext {
  return { contact: { id: contact.id, email: contact.email, status: contact.status }, fields: namedFields(groups, contact.fields, true) };
}

/**
 * One message for contacts already loaded, with a renderer on this thread (benchmarks measure the
 * renderer with it; the service renders through the pool): the templates are parsed on the first
 * call and reused for every contact after it.
 */
export function preparedMessage(renderer: Renderer, groups: readonly FieldGroup[], content: MessageContent): PreparedMessage {
  const parts = partsOf(content);
  return (contact) => renderer.render(parts, renderContext(groups, contact));
}

/**
 * Messages: authoring (validated against the account's fields), preview, and batch rendering.
 * Every render goes through the render pool (worker threads, a budget per contact).
 */
export function messagesService(deps: {
  database: AppDatabase;
  clock: Clock;
  accounts: AccountsService;
  segmentation: SegmentationService;
  contacts: ContactsService;
  renderPool: RenderPool;
  /** The conversations that send a message (the conductor's; in `tx`, after the message is locked). */
  usedBy?: (tx: Kysely<DB>, accountId: string, messageId: string) => Promise<UsageJson[]>;
}) {
  const { db } = deps.database;

  async function validate(accountId: string, content: MessageContent): Promise<void> {
    const groups = await deps.segmentation.allGroups(accountId);
    const issues = validateTemplates(partsOf(content), catalogOf(groups));
    if (issues.length) {
      const first = issues[0]!;
      throw new DomainError('invalid', 'template_invalid', `${first.field}, line ${first.line}: ${first.message}`, issues);
    }
  }

  async function createMessage(principal: Principal, input: MessageSettings): Promise<Message> {
    await validate(principal.accountId, input);
    return repo.insertMessage(db, principal.accountId, newId(), input, deps.clock.now());
  }

  async function updateMessage(principal: Principal, id: string, input: MessageSettings): Promise<Message> {
    await getMessage(principal, id);
    await validate(principal.accountId, input);
    const updated = await repo.updateMessage(db, principal.accountId, id, input, deps.clock.now());
    if (!updated) throw notFound('message');
    return updated;
  }

  /** By account id: the conductor reads a message when committing it to a step. */
  async function findMessage(accountId: string, id: string): Promise<Message | undefined> {
    return repo.findMessage(db, accountId, id);
  }

  async function getMessage(principal: Principal, id: string): Promise<Message> {
    const message = await repo.findMessage(db, principal.accountId, id);
    if (!message) throw notFound('message');
    return message;
  }

  async function listMessages(principal: Principal, page: PageQuery): Promise<Page<Message>> {
    const rows = await repo.listMessages(db, principal.accountId, { after: decodeCursor(page.cursor), limit: page.limit + 1 });
    return toPage(rows, page.limit, (m) => m.id);
  }

  /**
   * The conductor's batch: one message (e.g. a step's frozen copy) for many contacts, contacts read
   * in one query, rendered on the pool's threads. A contact whose render fails (a time or size
   * limit) gets its error; the others are rendered. Contacts not found are left out.
   */
  async function renderBatch(accountId: string, content: MessageContent, contactIds: readonly string[]): Promise<BatchOutcome[]> {
    const [{ timeZone }, groups] = await Promise.all([deps.accounts.getAccount(accountId), deps.segmentation.allGroups(accountId)]);
    const contacts = await deps.contacts.findForRendering(accountId, contactIds, groups);
    const outcomes = await deps.renderPool.render(accountId, {
      timeZone,
      parts: partsOf(content),
      contexts: contacts.map((c) => renderContext(groups, c)),
    });
    return contacts.map((contact, i): BatchOutcome => {
      const outcome = outcomes[i]!;
      return outcome.ok
        ? { contactId: contact.id, email: contact.email, ok: true, rendered: outcome.rendered }
        : { contactId: contact.id, email: contact.email, ok: false, error: outcome.error };
    });
  }

  /** Renders for one contact: sends nothing, assigns nothing, creates no contact. */
  async function preview(
    principal: Principal,
    id: string,
    ref: { contactId?: string | undefined; email?: string | undefined },
  ): Promise<RenderedMessage> {
    const message = await getMessage(principal, id);
    if (!ref.contactId && !ref.email) {
      throw new DomainError('invalid', 'validation_failed', 'Give contactId or email.', [
        { field: 'contactId', message: 'contactId or email is required' },
      ]);
    }
    const contact = await deps.contacts.getContact(principal, ref.contactId ? { id: ref.contactId } : { email: ref.email! });
    const [{ timeZone }, groups] = await Promise.all([
      deps.accounts.getAccount(principal.accountId),
      deps.segmentation.allGroups(principal.accountId),
    ]);
    const [outcome] = await deps.renderPool.render(principal.accountId, {
      timeZone,
      parts: partsOf(message),
      contexts: [renderContext(groups, contact)],
    });
    if (!outcome!.ok) throw outcome!.error;
    return outcome!.rendered;
  }

  /** Renders a message for a contact given as it is (test sends: placeholders in its fields), on the pool. */
  async function renderFor(
    accountId: string,
    content: MessageContent,
    contact: Pick<ContactView, 'id' | 'email' | 'status' | 'fields'>,
  ): Promise<RenderedMessage> {
    const [{ timeZone }, groups] = await Promise.all([deps.accounts.getAccount(accountId), deps.segmentation.allGroups(accountId)]);
    const [outcome] = await deps.renderPool.render(accountId, {
      timeZone,
      parts: partsOf(content),
      contexts: [renderContext(groups, contact)],
    });
    if (!outcome!.ok) throw outcome!.error;
    return outcome!.rendered;
  }

  /** Every message of the account (the outbox's scope rule for test sends). */
  const allMessages = (accountId: string) => repo.allMessages(db, accountId);

  /**
   * Deletes a message no conversation sends: one transaction, the message row locked first (FOR
   * UPDATE), then its users read; a publish reads the messages it sends FOR SHARE, so either it
   * waits and finds the message gone, or the delete waits and sees the new version. Refused (409
   * `message_in_use`) while a live or paused conversation, a version with runs in progress, or an
   * unarchived draft has a step sending it (committed or not), naming them and their steps.
   */
  async function deleteMessage(principal: Principal, id: string): Promise<void> {
    await db.transaction().execute(async (tx) => {
      const message = await repo.lockMessage(tx, principal.accountId, id);
      if (!message) throw notFound('message');
      const users = (await deps.usedBy?.(tx, principal.accountId, id)) ?? [];
      if (users.length > 0)
        throw new DomainError('conflict', 'message_in_use', inUseMessage(`The message "${message.name}"`, users), users);
      await repo.deleteMessage(tx, principal.accountId, id);
    });
  }

  /** The messages whose templates read each of these fields (a field delete names them), in `tx`. */
  async function readersOf(tx: Kysely<DB>, accountId: string, fieldIds: readonly string[], groups: readonly FieldGroup[]) {
    const out = new Map<string, UsageJson[]>(fieldIds.map((f) => [f, []]));
    for (const m of await repo.allMessages(tx, accountId)) {
      const read = fieldsRead(partsOf(m), groups);
      for (const f of fieldIds) if (read.has(f)) out.get(f)!.push({ type: 'message', id: m.id, name: m.name });
    }
    return out;
  }

  return {
    deleteMessage,
    readersOf,
    createMessage,
    updateMessage,
    getMessage,
    findMessage,
    listMessages,
    allMessages,
    renderBatch,
    preview,
    renderFor,
  };
}

export type MessagesService = ReturnType<typeof messagesService>;
