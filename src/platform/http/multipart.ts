import type { FastifyRequest } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import { DomainError, invalid } from '../errors.ts';

/**
 * The text fields (query string first, then the parts before the file) and the file part of a
 * multipart upload. The file is left unread, to be streamed by the caller; fields sent after the
 * file are not read.
 */
export async function multipartFile(request: FastifyRequest): Promise<{ fields: Record<string, string>; file: MultipartFile }> {
  if (!request.isMultipart()) {
    throw new DomainError('malformed', 'malformed_request', 'Send the file as multipart/form-data with a part named "file".');
  }
  const fields: Record<string, string> = { ...(request.query as Record<string, string>) };
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (part.fieldname !== 'file') throw invalid(`unexpected file part "${part.fieldname}"; name it "file"`);
      return { fields, file: part };
    }
    fields[part.fieldname] = String(part.value);
  }
  throw invalid('file: a part named "file" is required', [{ field: 'file', message: 'required' }]);
}
