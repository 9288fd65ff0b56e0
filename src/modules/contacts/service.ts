import type { Readable } from 'node:stream';
import { DomainError, forbidden, invalid, notFound } from '../../platform/errors.ts';
import type { Principal } from '../accounts/principal.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import { newId, newIds } from '../../platform/ids.ts';
import { decodeCursor, toPage, type Page, type PageQuery } from '../../platform/pagination.ts';
import type { Kysely } from 'kysely';
import type { AppDatabase, DB } from '../../schema.ts';
import type { SegmentationService } from '../segmentation/service.ts';
import type { FieldGroup } from '../segmentation/model.ts';
import { LineTally } from '../uploads/model.ts';
import { prefetched } from '../uploads/service.ts';
import { parseContactsCsv, type ImportLine } from './import-lines.ts';
import { namedFields, resolveFields, type Contact, type ContactStatus, type NamedFields, type StoredValue } from './model.ts';
import * as repo from './repo.ts';

export type { ContactRecord } from './repo.ts';

/** A contact's run through a conversation; filled in by the conductor (none until it exists). */
export interface ContactRun {
  conversationId: string;
  [more: string]: unknown;
}

export interface ContactView extends Contact {
  /** Values by group and field name. */
  named: NamedFields;
}

export interface ContactImport {
  status: 'imported' | 'rejected';
  lines: number;
  /** Valid lines applied. */
  imported: number;
  /** Contacts created / updated (a contact named on several lines counts once per chunk). */
  created: number;
  updated: number;
  rejected: number;
  errors: { line: number; reason: string }[];
  errorCount: number;
}

/** Conversations and coupon fields hidden from a merchant-limited caller (ids). */
export interface MerchantScopeView {
  hiddenConversations: ReadonlySet<string>;
  hiddenFields: ReadonlySet<string>;
}

/** The contact without the fields another merchant's coupon steps fill. */
const redacted = (contact: Contact, scope: MerchantScopeView | null): Contact => {
  if (!scope || scope.hiddenFields.size === 0) return contact;
  const fields = Object.fromEntries(Object.entries(contact.fields).filter(([id]) => !scope.hiddenFields.has(id)));
  return { ...contact, fields };
};

/** Rows per COPY: large enough to be fast, small enough to hold in memory. */
const CHUNK_ROWS = 25_000;

class Rejected extends Error {}

const toContact = (r: repo.ContactRecord): Contact => ({
  id: r.id,
  email: r.email,
  status: r.status,
  fields: r.fields ?? {},
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** COPY text format: JSON has no raw tab or newline; only backslashes need doubling. */
const copyText = (s: string) => (s.includes('\\') ? s.replace(/\\/g, '\\\\') : s);

/** Contacts: find or create by email (distribution, events), upsert with field values, import. */
export function contactsService(deps: {
  database: AppDatabase;
  segmentation?: SegmentationService;
  /** The contact's conversation runs (the conductor's); none until it is wired in. */
  runsOf?: (accountId: string, contactId: string) => Promise<ContactRun[]>;
  /** What a merchant-limited caller must not see (the conductor's rule); null: everything. */
  scopeOf?: (principal: Principal) => Promise<MerchantScopeView | null>;
}) {
  const { database } = deps;
  const { db } = database;

  async function resolveContact(
    accountId: string,
    ref: { email?: string | undefined; contactId?: string | undefined },
  ): Promise<repo.ContactRow> {
    if (ref.contactId) {
      const found = await repo.findContact(db, accountId, ref.contactId);
      if (!found) throw notFound('contact');
      return found;
    }
    if (!ref.email) throw notFound('contact');
    return repo.ensureContact(db, accountId, ref.email, newId());
  }

  const scopeOf = async (principal: Principal): Promise<MerchantScopeView | null> =>
    principal.merchantIds === null ? null : ((await deps.scopeOf?.(principal)) ?? null);
  const groupsOf = (accountId: string): Promise<FieldGroup[]> => deps.segmentation?.allGroups(accountId) ?? Promise.resolve([]);

  const view = (contact: Contact, groups: readonly FieldGroup[]): ContactView => ({
    ...contact,
    named: namedFields(groups, contact.fields),
  });

  async function upsertContact(
    principal: Principal,
    input: { email: string; status?: ContactStatus | undefined; fields?: Record<string, unknown> | undefined },
  ): Promise<ContactView & { created: boolean }> {
    const groups = await groupsOf(principal.accountId);
    const { values, problems } = resolveFields(groups, input.fields ?? {});
    if (problems.length) {
      throw invalid(problems[0]!.message, problems);
    }
    const scope = await scopeOf(principal);
    if (scope && Object.keys(values).some((id) => scope.hiddenFields.has(id))) {
      throw forbidden('This field is filled by a coupon step of a merchant this token is not limited to.');
    }
    const row = await repo.upsertContact(db, {
      accountId: principal.accountId,
      newId: newId(),
      email: input.email,
      status: input.status ?? null,
      values,
    });
    return { ...view(redacted(toContact(row), scope), groups), created: row.created };
  }

  async function getContact(principal: Principal, ref: { id: string } | { email: string }): Promise<ContactView & { runs: ContactRun[] }> {
    const row = await repo.findRecord(db, principal.accountId, ref);
    if (!row) throw notFound('contact');
    const groups = await groupsOf(principal.accountId);
    const scope = await scopeOf(principal);
    const runs = ((await deps.runsOf?.(principal.accountId, row.id)) ?? []).filter(
      (r) => !scope?.hiddenConversations.has(r.conversationId),
    );
    return { ...view(redacted(toContact(row), scope), groups), runs };
  }

  async function listContacts(principal: Principal, page: PageQuery): Promise<Page<ContactView>> {
    const rows = await repo.listRecords(db, principal.accountId, { after: decodeCursor(page.cursor), limit: page.limit + 1 });
    const groups = await groupsOf(principal.accountId);
    const scope = await scopeOf(principal);
    return toPage(
      rows.map((r) => view(redacted(toContact(r), scope), groups)),
      page.limit,
      (c) => c.id,
    );
  }

  /** Contacts by id, with their values by group and field name (rendering a message for a batch). */
  async function findForRendering(accountId: string, ids: readonly string[], groups?: readonly FieldGroup[]): Promise<ContactView[]> {
    const known = groups ?? (await groupsOf(accountId));
    return (await repo.findRecords(db, accountId, ids)).map((r) => view(toContact(r), known));
  }

  /**
   * POST /v1/contacts/import: the CSV streamed in one transaction. Each chunk of lines is merged
   * by email and COPYed straight into contacts; a chunk naming an email the account already has
   * fails that COPY, and then (and for the rest of the file) goes through a staging table and an
   * upsert that merges values. `reject`: one invalid line and nothing is imported.
   */
  async function importCsv(principal: Principal, input: { file: Readable; onInvalid: 'reject' | 'skip' }): Promise<ContactImport> {
    const groups = await groupsOf(principal.accountId);
    const tally = new LineTally();
    let created = 0;
    let updated = 0;
    let imported = 0;
    const prefix = `${principal.accountId}\t`;
    let staging = false; // once a chunk needed the upsert, the rest of the file goes that way

    type Chunk = {
      rows: Map<string, { email: string; status: ContactStatus | null; values: Record<string, StoredValue> }>;
      lines: number;
      direct?: string;
    };
    const chunks = async function* (batches: AsyncIterable<ImportLine[]>): AsyncGenerator<Chunk> {
      let chunk: Chunk = { rows: new Map(), lines: 0 };
      for await (const batch of batches) {
        for (const line of batch) {
          tally.add(line.ok ? { line: line.line, ok: true, code: '', expiresAt: null } : line);
          if (!line.ok || (input.onInvalid === 'reject' && tally.errorCount > 0)) continue;
          imported++;
          chunk.lines++;
          const key = line.email.toLowerCase();
          const earlier = chunk.rows.get(key);
          if (earlier) {
            Object.assign(earlier.values, line.values);
            earlier.status = line.status ?? earlier.status;
          } else {
            chunk.rows.set(key, { email: line.email, status: line.status, values: line.values });
          }
        }
        if (chunk.rows.size >= CHUNK_ROWS) {
          yield withRows(chunk);
          chunk = { rows: new Map(), lines: 0 };
        }
      }
      if (chunk.rows.size > 0) yield withRows(chunk);
    };
    // The COPY rows of the fast path are written here, while the previous chunk is being copied.
    const withRows = (chunk: Chunk): Chunk => Object.assign(chunk, { direct: staging ? undefined : copyRows(chunk, true) });
    const copyRows = (chunk: Chunk, direct: boolean): string => {
      const ids = newIds(chunk.rows.size);
      let i = 0;
      let out = '';
      for (const row of chunk.rows.values()) {
        const status = row.status ?? (direct ? 'subscribed' : '\\N');
        out += `${direct ? prefix : ''}${ids[i++]}\t${copyText(row.email)}\t${status}\t${copyText(JSON.stringify(row.values))}\n`;
      }
      return out;
    };

    try {
      await database.session((session) =>
        session.db.transaction().execute(async (tx) => {
          for await (const chunk of prefetched(chunks(parseContactsCsv(input.file, groups)))) {
            if (!staging) {
              await repo.savepoint(tx);
              try {
                await session.copyFrom(repo.COPY_INTO_CONTACTS, [chunk.direct ?? copyRows(chunk, true)]);
                await repo.releaseSavepoint(tx);
                created += chunk.rows.size;
                continue;
              } catch (err) {
                if (!isUniqueViolation(err)) throw err;
                await repo.rollbackToSavepoint(tx);
                await repo.createImportStaging(tx);
                staging = true;
              }
            }
            await session.copyFrom(repo.COPY_INTO_IMPORT_STAGING, [copyRows(chunk, false)]);
            const outcome = await repo.upsertStaged(tx, principal.accountId);
            created += outcome.created;
            updated += outcome.updated;
            await repo.truncateImportStaging(tx);
          }
          if (input.onInvalid === 'reject' && tally.errorCount > 0) throw new Rejected();
        }),
      );
    } catch (err) {
      if (err instanceof Rejected) {
        const report: ContactImport = {
          status: 'rejected',
          lines: tally.lines,
          imported: 0,
          created: 0,
          updated: 0,
          rejected: tally.errorCount,
          errors: tally.errors,
          errorCount: tally.errorCount,
        };
        throw new DomainError(
          'invalid',
          'import_rejected',
          `The file has ${tally.errorCount} invalid line(s); nothing was imported (onInvalid is "reject").`,
          tally.errors,
          { import: report },
        );
      }
      throw err;
    }
    return {
      status: 'imported',
      lines: tally.lines,
      imported,
      created,
      updated,
      rejected: tally.errorCount,
      errors: tally.errors,
      errorCount: tally.errorCount,
    };
  }

  /** Fields were deleted (in `tx`, the delete's transaction): their values leave every contact, in one statement. */
  const removeFieldValues = (tx: Kysely<DB>, accountId: string, fieldIds: readonly string[]) =>
    repo.removeFieldValues(tx, accountId, fieldIds);

  return { resolveContact, upsertContact, getContact, listContacts, findForRendering, importCsv, groupsOf, removeFieldValues };
}

export type ContactsService = ReturnType<typeof contactsService>;
