import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import { pageQuery } from '../../platform/pagination.ts';
import type { SegmentationService } from './service.ts';
import { fieldOut, fieldType, groupOut, type Field, type FieldGroup } from './model.ts';

const fieldJson = (f: Field): z.infer<typeof fieldOut> => ({
  id: f.id,
  groupId: f.groupId,
  name: f.name,
  type: f.type,
  snippet: f.snippet,
});
const groupJson = (g: FieldGroup): z.infer<typeof groupOut> => ({
  id: g.id,
  name: g.name,
  fields: g.fields.map(fieldJson),
  createdAt: g.createdAt.toISOString(),
});

const groupParams = z.object({ groupId: z.string().max(100) });
const fieldParams = groupParams.extend({ fieldId: z.string().max(100) });
const removedOut = z.object({ fieldsDeleted: z.number(), valuesRemoved: z.number() });
const refusal =
  '409 `%s` while a conversation (live, paused, a draft, or a version with runs in progress) or a message uses it; `details` names them ({type, id, name, status, steps, field}).';

export function segmentationRoutes(app: HttpApp, segmentation: SegmentationService) {
  app.get(
    '/v1/field-groups',
    {
      schema: {
        tags: ['segmentation'],
        summary: 'List field groups with their fields and snippets',
        querystring: pageQuery,
        response: { 200: z.object({ items: z.array(groupOut), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await segmentation.listGroups(principalOf(request), request.query);
      return { items: page.items.map(groupJson), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/v1/field-groups',
    {
      schema: {
        tags: ['segmentation'],
        summary: 'Create a field group (names are unique in the account: 409 otherwise)',
        body: z.object({ name: z.string().max(200) }),
        response: { 201: groupOut },
      },
    },
    async (request, reply) => reply.status(201).send(groupJson(await segmentation.createGroup(principalOf(request), request.body))),
  );

  app.get(
    '/v1/field-groups/:groupId',
    { schema: { tags: ['segmentation'], summary: 'Read a field group with its fields', params: groupParams, response: { 200: groupOut } } },
    async (request) => groupJson(await segmentation.getGroup(principalOf(request), request.params.groupId)),
  );

  app.post(
    '/v1/field-groups/:groupId/fields',
    {
      schema: {
        tags: ['segmentation'],
        summary: 'Add a typed field to a group (names are unique in the group: 409 otherwise); the answer carries its snippet',
        params: groupParams,
        body: z.object({ name: z.string().max(200), type: fieldType }),
        response: { 201: fieldOut },
      },
    },
    async (request, reply) =>
      reply.status(201).send(fieldJson(await segmentation.addField(principalOf(request), request.params.groupId, request.body))),
  );

  app.delete(
    '/v1/field-groups/:groupId/fields/:fieldId',
    {
      schema: {
        tags: ['segmentation'],
        summary: 'Delete a field nothing uses: its values leave every contact (one statement); answers how many contacts held one',
        description: refusal.replace('%s', 'field_in_use'),
        params: fieldParams,
        response: { 200: removedOut },
      },
    },
    async (request) =>
      segmentation.removeFields(principalOf(request), { groupId: request.params.groupId, fieldId: request.params.fieldId }),
  );

  app.delete(
    '/v1/field-groups/:groupId',
    {
      schema: {
        tags: ['segmentation'],
        summary: 'Delete a field group with its fields, when none of them is used (their values leave every contact)',
        description: `${refusal.replace('%s', 'group_in_use')} Each entry's \`field\` names the field of the group it uses; nothing is deleted.`,
        params: groupParams,
        response: { 200: removedOut },
      },
    },
    async (request) => segmentation.removeFields(principalOf(request), { groupId: request.params.groupId }),
  );
}
