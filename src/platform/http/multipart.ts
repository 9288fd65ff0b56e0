import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { Multipart, MultipartFile } from '@fastify/multipart';
import { DomainError, invalid } from '../errors.ts';

export interface CheckedFile {
  filename: string;
  /**
   * The file's bytes as they arrive. It fails (and the caller's transaction with it) when the
   * file is over the upload limit (413 `payload_too_large`: a limit refuses, never truncates),
   * when the body ends before the file does, or when anything follows the file part (an option
   * sent after it, a second file): those are 400s naming the problem.
   */
  file: Readable;
}

const malformed = (code: string, message: string, details: unknown[] = []) => new DomainError('malformed', code, message, details);

/**
 * The text fields (query string first, then the parts before the file) and the file part of a
 * multipart upload. Options come before the file, in any order among themselves: the file is
 * streamed as it arrives, so an option after it could no longer apply; it is refused, not ignored.
 * `allowed`, when given, lists the field names the route knows: any other is refused (400).
 */
export async function multipartFile(
  request: FastifyRequest,
  options: { allowed?: readonly string[] } = {},
): Promise<{ fields: Record<string, string>; file: CheckedFile }> {
  if (!request.isMultipart()) {
    throw malformed('malformed_request', 'Send the file as multipart/form-data with a part named "file".');
  }
  const fields: Record<string, string> = { ...(request.query as Record<string, string>) };
  const fromBody = new Set<string>();
  const parts = request.parts()[Symbol.asyncIterator]();
  for (;;) {
    const next = await nextPart(parts);
    if (next.done) break;
    const part = next.value;
    if (part.type === 'file') {
      if (part.fieldname !== 'file') {
        part.file.resume();
        throw invalid(`unexpected file part "${part.fieldname}"; name it "file"`, [
          { field: part.fieldname, message: 'unexpected file part' },
        ]);
      }
      return { fields, file: { filename: part.filename, file: checkedStream(part, parts, request.server.uploadLimit) } };
    }
    const name = part.fieldname;
    if (options.allowed && !options.allowed.includes(name)) {
      throw malformed(
        'unknown_field',
        `unknown field "${name}"; this upload takes ${options.allowed.map((f) => `"${f}"`).join(', ')} and "file"`,
        [{ field: name, message: 'unknown field' }],
      );
    }
    if (fromBody.has(name))
      throw malformed('duplicate_field', `the field "${name}" was sent twice`, [{ field: name, message: 'sent twice' }]);
    if (part.valueTruncated || part.fieldnameTruncated) {
      throw new DomainError('too_large', 'payload_too_large', `the field "${name}" is longer than the 1,024 bytes a field may hold`, [
        { field: name, message: 'too long' },
      ]);
    }
    fromBody.add(name);
    fields[name] = String(part.value);
  }
  throw invalid('file: a part named "file" is required', [{ field: 'file', message: 'required' }]);
}

/** The next part; a body that ends mid-part is a 400 naming it, not an "internal error". */
async function nextPart(parts: AsyncIterator<Multipart>): Promise<IteratorResult<Multipart>> {
  try {
    return await parts.next();
  } catch (err) {
    throw asMultipartError(err);
  }
}

function asMultipartError(err: unknown): unknown {
  if (err instanceof DomainError) return err;
  const e = err as { statusCode?: number; code?: string; message?: string };
  if (e?.code === 'FST_REQ_FILE_TOO_LARGE') return err; // mapped to 413 by the error handler
  if (e?.statusCode === 413) return err;
  const message = e?.message ?? String(err);
  if (/unexpected end|terminated early|premature close|aborted/i.test(message)) {
    return malformed('multipart_truncated', `The multipart body ended before it was complete (${message}); nothing was imported.`);
  }
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) return err;
  return malformed('malformed_multipart', `The multipart body could not be read: ${message}`);
}

function checkedStream(part: MultipartFile, parts: AsyncIterator<Multipart>, limit: number | undefined): Readable {
  async function* bytes() {
    try {
      for await (const chunk of part.file) yield chunk as Buffer;
    } catch (err) {
      throw asMultipartError(err);
    }
    if (part.file.truncated) {
      const size =
        limit === undefined ? 'the upload limit' : `the upload limit of ${limit.toLocaleString('en-US')} bytes (UPLOAD_LIMIT_BYTES)`;
      throw new DomainError('too_large', 'payload_too_large', `The file is larger than ${size}; nothing was imported.`);
    }
    // After the file: the end of the body, and nothing else.
    const next = await nextPart(parts);
    if (!next.done) {
      const after = next.value;
      if (after.type === 'file') {
        after.file.resume();
        throw malformed('second_file', `a second file part ("${after.fieldname}") was sent; an upload takes one file`, [
          { field: after.fieldname, message: 'second file part' },
        ]);
      }
      throw malformed('field_after_file', `the field "${after.fieldname}" came after the file part; send every option before the file`, [
        { field: after.fieldname, message: 'sent after the file' },
      ]);
    }
  }
  const stream = Readable.from(bytes(), { objectMode: false });
  // Whoever reads the stream sees its error; a stream drained with resume() must not crash the process.
  stream.on('error', () => {});
  return stream;
}

/**
 * A CSV import's multipart body (the field onInvalid, then the file), as the contacts and
 * redemptions imports take it: onInvalid is `reject` (the default) or `skip` (else a 400), and
 * `run` reads the file. Whatever happens, the rest of the file is drained afterwards, so that an
 * answer given early (a header refused, an unknown merchant) goes out.
 */
export async function importFile<T>(
  request: FastifyRequest,
  run: (file: Readable, onInvalid: 'reject' | 'skip') => Promise<T>,
): Promise<T> {
  const { fields, file } = await multipartFile(request, { allowed: ['onInvalid'] });
  const onInvalid = fields.onInvalid ?? 'reject';
  if (onInvalid !== 'reject' && onInvalid !== 'skip') {
    file.file.resume();
    throw invalid('onInvalid: must be "reject" or "skip"', [{ field: 'onInvalid', message: 'must be "reject" or "skip"' }]);
  }
  try {
    return await run(file.file, onInvalid);
  } finally {
    file.file.resume();
  }
}
