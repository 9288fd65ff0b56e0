import { notFound } from '../../platform/errors.ts';
import { newId } from '../../platform/ids.ts';
import type { AppDatabase } from '../../schema.ts';
import * as repo from './repo.ts';

/** Contacts: for now, what distribution needs (find or create by email, find by id). */
export function contactsService(deps: { database: AppDatabase }) {
  const { db } = deps.database;

  async function resolveContact(accountId: string, ref: { email?: string | undefined; contactId?: string | undefined }): Promise<repo.ContactRow> {
    if (ref.contactId) {
      const found = await repo.findContact(db, accountId, ref.contactId);
      if (!found) throw notFound('contact');
      return found;
    }
    if (!ref.email) throw notFound('contact');
    return repo.ensureContact(db, accountId, ref.email, newId());
  }

  return { resolveContact };
}

export type ContactsService = ReturnType<typeof contactsService>;
