import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.ts';
import { principalOf } from '../accounts/principal.ts';
import { multipartFile } from '../../platform/http/multipart.ts';
import { invalid } from '../../platform/errors.ts';
import type { UploadsService } from './service.ts';
import { uploadJsonFields } from './service.ts';
import { undoOut, uploadDetailOut, uploadOptions, uploadOut } from './model.ts';

/** The option fields, in any order, all before the file part. */
const UPLOAD_FIELDS = ['expiration', 'delimiter', 'expiresOn', 'onInvalid'] as const;

const poolParams = z.object({ poolId: z.string().max(100) });

export function uploadsRoutes(app: HttpApp, uploads: UploadsService) {
  app.post(
    '/v1/pools/:poolId/uploads',
    {
      schema: {
        tags: ['uploads'],
        summary: 'Upload a plain-text file of codes (multipart: the fields expiration, delimiter, expiresOn, onInvalid, then file)',
        description:
          'Options may also be given in the query string. Send the option fields (in any order) before the file part: the file is streamed as it arrives, so an option after it is refused (400 field_after_file), as are an unknown field (400 unknown_field), a second file (400 second_file) and a body cut short (400 multipart_truncated). A file over UPLOAD_LIMIT_BYTES is refused whole: 413 payload_too_large, nothing imported, the upload recorded as rejected.',
        consumes: ['multipart/form-data'],
        params: poolParams,
        querystring: z.object({
          expiration: z.string().optional(),
          delimiter: z.string().optional(),
          expiresOn: z.string().optional(),
          onInvalid: z.string().optional(),
        }),
        response: { 201: uploadOut },
      },
    },
    async (request, reply) => {
      const { fields, file } = await multipartFile(request, { allowed: UPLOAD_FIELDS });
      const parsed = uploadOptions.safeParse(fields);
      if (!parsed.success) {
        file.file.resume();
        const details = parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
        throw invalid(`${details[0]?.field}: ${details[0]?.message}`, details);
      }
      const upload = await uploads.uploadFile(principalOf(request), request.params.poolId, {
        fileName: file.filename || null,
        options: { ...parsed.data, expiresOn: parsed.data.expiresOn ?? null },
        file: file.file,
        // The connection closed before the answer: the client cancelled (or went away).
        clientGone: () => request.raw.socket?.destroyed === true,
      });
      return reply.status(201).send(uploadJsonFields(upload));
    },
  );

  app.get(
    '/v1/pools/:poolId/uploads',
    {
      schema: {
        tags: ['uploads'],
        summary: "A pool's uploads, newest first (the last 100)",
        params: poolParams,
        response: { 200: z.object({ items: z.array(uploadOut) }) },
      },
    },
    async (request) => ({ items: (await uploads.listUploads(principalOf(request), request.params.poolId)).map(uploadJsonFields) }),
  );

  app.post(
    '/v1/pools/:poolId/generate',
    {
      schema: {
        tags: ['uploads'],
        summary: 'Add N random unique codes to a unique pool',
        params: poolParams,
        body: z.object({
          count: z.number().int().min(1).max(10_000_000),
          length: z.number().int().min(4).max(50),
          prefix: z.string().max(46).optional(),
          alphabet: z.string().min(2).max(256).optional(),
          expiresOn: z.string().max(40).optional(),
        }),
        response: { 201: uploadOut },
      },
    },
    async (request, reply) =>
      reply.status(201).send(uploadJsonFields(await uploads.generate(principalOf(request), request.params.poolId, request.body))),
  );

  app.get(
    '/v1/uploads/:uploadId',
    {
      schema: {
        tags: ['uploads'],
        summary: 'Read an upload, with what undoing it would remove now (unassignedCodes)',
        params: z.object({ uploadId: z.string().max(100) }),
        response: { 200: uploadDetailOut },
      },
    },
    async (request) => {
      const { unassignedCodes, ...upload } = await uploads.getUpload(principalOf(request), request.params.uploadId);
      return { ...uploadJsonFields(upload), unassignedCodes };
    },
  );

  app.delete(
    '/v1/uploads/:uploadId',
    {
      schema: {
        tags: ['uploads'],
        summary: 'Undo an upload: its unassigned codes are removed, assigned ones stay (counted in keptAssigned)',
        description:
          'One transaction. The upload stays listed with status `undone` and these counts; undoing it again answers the same. A rejected, failed or cancelled upload brought no codes: 409 upload_not_imported.',
        params: z.object({ uploadId: z.string().max(100) }),
        response: { 200: undoOut },
      },
    },
    async (request) => uploads.undoUpload(principalOf(request), request.params.uploadId),
  );
}
