import { DomainError, notFound } from '../../platform/errors.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Principal } from '../../platform/http/auth.ts';
import { newId } from '../../platform/ids.ts';
import { decodeCursor, toPage, type Page, type PageQuery } from '../../platform/pagination.ts';
import type { AppDatabase } from '../../schema.ts';
import type { AccountsService } from '../accounts/service.ts';
import type { ContactsService, ContactView } from '../contacts/service.ts';
import { namedFields } from '../contacts/model.ts';
import type { SegmentationService } from '../segmentation/service.ts';
import { catalogOf, type FieldGroup } from '../segmentation/model.ts';
import { partsOf, type Message, type MessageContent, type MessageSettings } from './model.ts';
import { createRenderer, TemplateError, validateTemplates, type RenderedMessage, type Renderer } from './template.ts';
import * as repo from './repo.ts';

export type BatchOutcome =
  | { contactId: string; email: string; ok: true; rendered: RenderedMessage }
  | { contactId: string; email: string; ok: false; error: TemplateError };

/** Renders one message for contacts already loaded (parsed once, whatever the number of contacts). */
export type PreparedMessage = (contact: Pick<ContactView, 'id' | 'email' | 'status' | 'fields'>) => RenderedMessage;

/**
 * One message for contacts already loaded, with the account's renderer and field groups: the
 * templates are parsed on the first call and reused for every contact after it.
 */
export function preparedMessage(renderer: Renderer, groups: readonly FieldGroup[], content: MessageContent): PreparedMessage {
  const parts = partsOf(content);
  return (contact) =>
    renderer.render(parts, {
      contact: { id: contact.id, email: contact.email, status: contact.status },
      fields: namedFields(groups, contact.fields, true),
    });
}

/** Messages: authoring (validated against the account's fields), preview, and batch rendering. */
export function messagesService(deps: {
  database: AppDatabase;
  clock: Clock;
  accounts: AccountsService;
  segmentation: SegmentationService;
  contacts: ContactsService;
}) {
  const { db } = deps.database;
  // One renderer per time zone: its engines and parsed templates serve every account in that zone.
  const renderers = new Map<string, Renderer>();
  const rendererFor = (timeZone: string): Renderer => {
    let renderer = renderers.get(timeZone);
    if (!renderer) {
      renderer = createRenderer({ timeZone });
      renderers.set(timeZone, renderer);
    }
    return renderer;
  };

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
   * Everything rendering needs that does not depend on the contact, looked up once: the account's
   * zone and fields; the templates are parsed on first use and kept. Throws TemplateError.
   */
  async function prepare(accountId: string, content: MessageContent, known?: { groups: readonly FieldGroup[] }): Promise<PreparedMessage> {
    const [{ timeZone }, groups] = await Promise.all([deps.accounts.getAccount(accountId), known?.groups ?? deps.segmentation.allGroups(accountId)]);
    return preparedMessage(rendererFor(timeZone), groups, content);
  }

  /**
   * The conductor's batch: one message (e.g. a step's frozen copy) for many contacts, parsed once,
   * contacts read in one query. A contact whose render fails (a time or size limit) gets its error;
   * the others are rendered. Contacts not found are left out.
   */
  async function renderBatch(accountId: string, content: MessageContent, contactIds: readonly string[]): Promise<BatchOutcome[]> {
    const groups = await deps.segmentation.allGroups(accountId);
    const render = await prepare(accountId, content, { groups });
    const contacts = await deps.contacts.findForRendering(accountId, contactIds, groups);
    return contacts.map((contact): BatchOutcome => {
      try {
        return { contactId: contact.id, email: contact.email, ok: true, rendered: render(contact) };
      } catch (err) {
        if (err instanceof TemplateError) return { contactId: contact.id, email: contact.email, ok: false, error: err };
        throw err;
      }
    });
  }

  /** Renders for one contact: sends nothing, assigns nothing, creates no contact. */
  async function preview(principal: Principal, id: string, ref: { contactId?: string | undefined; email?: string | undefined }): Promise<RenderedMessage> {
    const message = await getMessage(principal, id);
    if (!ref.contactId && !ref.email) {
      throw new DomainError('invalid', 'validation_failed', 'Give contactId or email.', [{ field: 'contactId', message: 'contactId or email is required' }]);
    }
    const contact = await deps.contacts.getContact(principal, ref.contactId ? { id: ref.contactId } : { email: ref.email! });
    const render = await prepare(principal.accountId, message);
    return render(contact);
  }

  return { createMessage, updateMessage, getMessage, findMessage, listMessages, prepare, renderBatch, preview };
}

export type MessagesService = ReturnType<typeof messagesService>;
