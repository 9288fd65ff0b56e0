import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import { importFile } from '../../platform/http/multipart.ts';
import { pageQuery } from '../../platform/pagination.ts';
import { emailField } from '../../platform/email.ts';
import type { ContactsService, ContactView } from './service.ts';
import { contactImportOut, contactOut, contactWithRuns, MAX_EMAIL_LENGTH } from './model.ts';

const contactJson = (c: ContactView): z.infer<typeof contactOut> => ({
  id: c.id,
  email: c.email,
  status: c.status,
  fields: c.named,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
});

export function contactsRoutes(app: HttpApp, contacts: ContactsService) {
  app.put(
    '/v1/contacts',
    {
      schema: {
        tags: ['contacts'],
        summary: 'Create or update a contact by email (any case); field values are merged, null clears one',
        description: 'fields: {"<group>": {"<field>": value}}; a value that does not fit its field → 422 naming group, field and value.',
        body: z.object({
          email: emailField(),
          status: z.enum(['subscribed', 'unsubscribed']).optional(),
          fields: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
        }),
        response: { 200: contactOut },
      },
    },
    async (request) => contactJson(await contacts.upsertContact(principalOf(request), request.body)),
  );

  app.get(
    '/v1/contacts/:contactId',
    {
      schema: {
        tags: ['contacts'],
        summary: 'Read a contact, with its conversation runs',
        params: z.object({ contactId: z.string().max(100) }),
        response: { 200: contactWithRuns },
      },
    },
    async (request) => {
      const contact = await contacts.getContact(principalOf(request), { id: request.params.contactId });
      return { ...contactJson(contact), runs: contact.runs };
    },
  );

  app.get(
    '/v1/contacts',
    {
      schema: {
        tags: ['contacts'],
        summary: 'With ?email=: that contact (any case), with its runs; without: the contacts, a page at a time',
        querystring: pageQuery.extend({ email: z.string().max(MAX_EMAIL_LENGTH).optional() }),
        response: { 200: z.union([contactWithRuns, z.object({ items: z.array(contactOut), nextCursor: z.string().nullable() })]) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      if (request.query.email !== undefined) {
        const contact = await contacts.getContact(principal, { email: request.query.email.trim() });
        return { ...contactJson(contact), runs: contact.runs };
      }
      const page = await contacts.listContacts(principal, request.query);
      return { items: page.items.map(contactJson), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/v1/contacts/import',
    {
      schema: {
        tags: ['contacts'],
        summary:
          'Import contacts from a CSV (multipart: the field onInvalid, then file), header email,<group>.<field>,… (and optionally status)',
        description:
          'Streamed in one transaction. An empty cell leaves a value as it is. onInvalid: reject (default: one bad line and nothing is imported, 422 import_rejected) or skip.',
        consumes: ['multipart/form-data'],
        querystring: z.object({ onInvalid: z.string().optional() }),
        response: { 201: contactImportOut },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await importFile(request, (file, onInvalid) => contacts.importCsv(principalOf(request), { file, onInvalid }))),
  );
}
