import { DomainError, invalid, notFound } from '../../platform/errors.ts';
import type { Principal } from '../accounts/principal.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import { newId } from '../../platform/ids.ts';
import { decodeCursor, toPage, type Page, type PageQuery } from '../../platform/pagination.ts';
import type { Kysely } from 'kysely';
import type { AppDatabase, DB } from '../../schema.ts';
import { inUseMessage, type UsageJson } from '../lifecycle/model.ts';
import { fieldNameProblem, groupNameProblem, toField, type Field, type FieldGroup, type FieldType } from './model.ts';
import * as repo from './repo.ts';

/**
 * Who uses each of these fields (in `tx`, after the fields are locked): the conductor's conversations
 * and the messages whose templates read them (wired in app.ts).
 */
export type FieldUsers = (tx: Kysely<DB>, accountId: string, fieldIds: string[], groups: FieldGroup[]) => Promise<Map<string, UsageJson[]>>;

/** Field groups and their typed fields: what contacts hold and what messages may show. */
export function segmentationService(deps: {
  database: AppDatabase;
  usedBy?: FieldUsers;
  /** The contacts' values of deleted fields go (in `tx`, one statement); how many contacts held one. */
  removeValues?: (tx: Kysely<DB>, accountId: string, fieldIds: string[]) => Promise<number>;
}) {
  const { db } = deps.database;

  async function createGroup(principal: Principal, input: { name: string }): Promise<FieldGroup> {
    const problem = groupNameProblem(input.name);
    if (problem) throw invalid(`name: ${problem}`, [{ field: 'name', message: problem }]);
    const id = newId();
    try {
      await repo.insertGroup(db, { accountId: principal.accountId, id, name: input.name });
    } catch (err) {
      if (isUniqueViolation(err, 'field_groups_name_key'))
        throw new DomainError('conflict', 'name_taken', `A field group named "${input.name}" already exists.`);
      throw err;
    }
    return getGroup(principal, id);
  }

  async function getGroup(principal: Principal, groupId: string): Promise<FieldGroup> {
    const [group] = await repo.listGroups(db, principal.accountId, { ids: [groupId] });
    if (!group) throw notFound('field group');
    return group;
  }

  async function listGroups(principal: Principal, page: PageQuery): Promise<Page<FieldGroup>> {
    const rows = await repo.listGroups(db, principal.accountId, { after: decodeCursor(page.cursor), limit: page.limit + 1 });
    return toPage(rows, page.limit, (g) => g.id);
  }

  async function addField(principal: Principal, groupId: string, input: { name: string; type: FieldType }): Promise<Field> {
    const group = await getGroup(principal, groupId);
    const problem = fieldNameProblem(input.name);
    if (problem) throw invalid(`name: ${problem}`, [{ field: 'name', message: problem }]);
    const id = newId();
    try {
      await repo.insertField(db, { accountId: principal.accountId, id, groupId: group.id, name: input.name, type: input.type });
    } catch (err) {
      if (isUniqueViolation(err, 'fields_name_key')) {
        throw new DomainError('conflict', 'name_taken', `The group "${group.name}" already has a field named "${input.name}".`);
      }
      throw err;
    }
    return toField({ id, groupId: group.id, name: input.name, type: input.type }, group.name);
  }

  /** Every group of the account with its fields (templates and imports resolve names with it). */
  const allGroups = (accountId: string): Promise<FieldGroup[]> => repo.listGroups(db, accountId);

  /**
   * Deletes fields (one, or every field of a group with the group) when nothing uses them, in one
   * transaction: the field rows are locked first (FOR UPDATE; a publish locks the fields it names
   * FOR SHARE, so it either sees them gone or this waits and then sees its new version), then the
   * users are read, then the contacts' values go in one statement, then the rows. Refused with 409
   * `code` naming every user (per field), nothing deleted.
   */
  async function removeFields(
    principal: Principal,
    ref: { fieldId: string; groupId: string } | { groupId: string },
  ): Promise<{ fieldsDeleted: number; valuesRemoved: number }> {
    const group = await getGroup(principal, ref.groupId);
    return db.transaction().execute(async (tx) => {
      if (!('fieldId' in ref)) await repo.lockGroup(tx, principal.accountId, group.id);
      const locked = await repo.lockFields(tx, principal.accountId, 'fieldId' in ref ? { ids: [ref.fieldId] } : { groupId: group.id });
      const fields = locked.filter((f) => f.group_id === group.id);
      if ('fieldId' in ref && fields.length === 0) throw notFound('field');
      const ids = fields.map((f) => f.id);
      const groups = await repo.listGroups(tx, principal.accountId);
      const users = (await deps.usedBy?.(tx, principal.accountId, ids, groups)) ?? new Map<string, UsageJson[]>();
      const named = fields.flatMap((f) =>
        (users.get(f.id) ?? []).map((u) => ('fieldId' in ref ? u : { ...u, field: { id: f.id, name: f.name } })),
      );
      if (named.length > 0) {
        const subject = 'fieldId' in ref ? `The field "${group.name}.${fields[0]!.name}"` : `The field group "${group.name}"`;
        throw new DomainError('conflict', 'fieldId' in ref ? 'field_in_use' : 'group_in_use', inUseMessage(subject, named), named);
      }
      const valuesRemoved = (await deps.removeValues?.(tx, principal.accountId, ids)) ?? 0;
      await repo.deleteFields(tx, principal.accountId, ids);
      if (!('fieldId' in ref)) await repo.deleteGroup(tx, principal.accountId, group.id);
      return { fieldsDeleted: ids.length, valuesRemoved };
    });
  }

  return { createGroup, getGroup, listGroups, addField, allGroups, removeFields };
}

export type SegmentationService = ReturnType<typeof segmentationService>;
