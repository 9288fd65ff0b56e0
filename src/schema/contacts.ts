import type { Generated, JSONColumnType } from 'kysely';
import type { StoredFields } from '../modules/contacts/model.ts';
import type { EventOutcome } from '../modules/events/repo.ts';

/** Contacts, their fields, and events. */
export interface ContactTables {
  contacts: {
    account_id: string;
    id: string;
    email: string;
    status: Generated<'subscribed' | 'unsubscribed'>;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
    /** Field values by field id (migration 0005); see contacts/model.ts. */
    fields: JSONColumnType<StoredFields, string | undefined, string>;
  };
  // (segmentation tables: added after this line by migration 0005)
  field_groups: {
    account_id: string;
    id: string;
    name: string;
    created_at: Generated<Date>;
  };
  fields: {
    account_id: string;
    id: string;
    group_id: string;
    name: string;
    type: 'text' | 'date' | 'number' | 'boolean';
    created_at: Generated<Date>;
  };
  events: {
    account_id: string;
    id: string;
    contact_id: string;
    type: string;
    properties: JSONColumnType<Record<string, unknown>>;
    occurred_at: Date;
    idempotency_key: string | null;
    outcome: JSONColumnType<EventOutcome, string | undefined, string>;
    created_at: Date;
  };
}
