import { z } from 'zod';
import { DomainError } from '../../platform/errors.ts';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import { multipartFile } from '../../platform/http/multipart.ts';
import { pageQuery } from '../../platform/pagination.ts';
import { MAX_EMAIL_LENGTH } from '../contacts/model.ts';
import { SUPPRESSION_REASONS, type Suppression } from './model.ts';
import type { SuppressionsService } from './service.ts';

const suppressionOut = z.object({
  email: z.string(),
  reason: z.enum(SUPPRESSION_REASONS),
  detail: z.string().nullable(),
  createdAt: z.string(),
});
const suppressionJson = (s: Suppression): z.infer<typeof suppressionOut> => ({
  email: s.email,
  reason: s.reason,
  detail: s.detail,
  createdAt: s.createdAt.toISOString(),
});

/** A suppression import file: a CSV of addresses, read whole (a larger one is refused). */
const MAX_IMPORT_BYTES = 64 * 1024 * 1024;

export function suppressionsRoutes(app: HttpApp, suppressions: SuppressionsService) {
  app.get(
    '/v1/suppressions',
    {
      schema: {
        tags: ['suppressions'],
        summary: 'Suppressed addresses of the account, by address; `search` matches part of it',
        querystring: pageQuery.extend({
          search: z.string().max(MAX_EMAIL_LENGTH).optional(),
          reason: z.enum(SUPPRESSION_REASONS).optional(),
        }),
        response: { 200: z.object({ items: z.array(suppressionOut), nextCursor: z.string().nullable() }) },
      },
    },
    async (request) => {
      const page = await suppressions.list(principalOf(request), request.query);
      return { items: page.items.map(suppressionJson), nextCursor: page.nextCursor };
    },
  );

  app.post(
    '/v1/suppressions',
    {
      schema: {
        tags: ['suppressions'],
        summary: 'Suppress an address: it gets no marketing mail (notices and test sends are exempt)',
        body: z.object({
          email: z.string().trim().min(3).max(MAX_EMAIL_LENGTH),
          reason: z.enum(SUPPRESSION_REASONS).default('manual'),
          detail: z.string().max(2000).nullable().optional(),
        }),
        response: { 201: suppressionOut },
      },
    },
    async (request, reply) => reply.status(201).send(suppressionJson(await suppressions.add(principalOf(request), request.body))),
  );

  app.post(
    '/v1/suppressions/import',
    {
      schema: {
        tags: ['suppressions'],
        summary: 'Suppress the addresses of a CSV file (multipart, part "file"): email[,reason], optional header line',
        response: {
          200: z.object({
            lines: z.number(),
            suppressed: z.number(),
            rejected: z.number(),
            errors: z.array(z.object({ line: z.number(), reason: z.string() })),
          }),
        },
      },
    },
    async (request) => {
      const { file } = await multipartFile(request);
      const chunks: Buffer[] = [];
      let bytes = 0;
      for await (const chunk of file.file as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        if (bytes > MAX_IMPORT_BYTES)
          throw new DomainError('too_large', 'file_too_large', `a suppression import is at most ${MAX_IMPORT_BYTES} bytes`);
        chunks.push(chunk);
      }
      return suppressions.importCsv(principalOf(request), Buffer.concat(chunks).toString('utf8'));
    },
  );

  app.delete(
    '/v1/suppressions/:email',
    {
      schema: {
        tags: ['suppressions'],
        summary: 'Lift a suppression: the address may get marketing mail again',
        params: z.object({ email: z.string().max(MAX_EMAIL_LENGTH) }),
      },
    },
    async (request, reply) => {
      await suppressions.remove(principalOf(request), request.params.email);
      return reply.status(204).send();
    },
  );
}
