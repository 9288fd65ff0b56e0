import { DomainError, invalid, notFound } from '../../platform/errors.ts';
import type { Principal } from '../accounts/principal.ts';
import { isUniqueViolation } from '../../platform/db/errors.ts';
import { newId } from '../../platform/ids.ts';
import { decodeCursor, toPage, type Page, type PageQuery } from '../../platform/pagination.ts';
import type { AppDatabase } from '../../schema.ts';
import { fieldNameProblem, groupNameProblem, toField, type Field, type FieldGroup, type FieldType } from './model.ts';
import * as repo from './repo.ts';

/** Field groups and their typed fields: what contacts hold and what messages may show. */
export function segmentationService(deps: { database: AppDatabase }) {
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

  return { createGroup, getGroup, listGroups, addField, allGroups };
}

export type SegmentationService = ReturnType<typeof segmentationService>;
