import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DomainError, type ErrorKind } from '../errors.ts';
import { isConnectionLoss } from '../db/errors.ts';
import { SQLSTATE_CLASS, inClass } from '../db/sqlstate.ts';
import type { ErrorBody } from '../shapes.ts';

/** The one place where an error becomes an HTTP status. */
const statusOf: Record<ErrorKind, number> = {
  malformed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  invalid: 422,
  too_many: 429,
  unavailable: 503,
};

export type { ErrorBody };

export const errorBody = (code: string, message: string, details: unknown[] = []): ErrorBody => ({
  error: { code, message, details },
});

export function handleError(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (err instanceof DomainError) {
    const wait = (err.details[0] as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (err.kind === 'too_many' && typeof wait === 'number') reply.header('retry-after', String(wait));
    return reply.status(statusOf[err.kind]).send({ ...errorBody(err.code, err.message, err.details), ...err.extra });
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    // Well-formed JSON whose content breaks the schema: 422, each problem naming its field.
    const details = err.validation.map((v) => ({
      field: [validationPart(err.validationContext), ...pathOf(v.instancePath)].filter(Boolean).join('.'),
      message: v.message ?? 'invalid',
    }));
    const first = details[0];
    const message = first ? `${first.field}: ${first.message}` : 'invalid request';
    return reply.status(422).send(errorBody('validation_failed', message, details));
  }
  if (isConnectionLoss(err)) {
    // The database is away (restarting, unreachable): the client may retry; the process lives on.
    request.log.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'database unavailable');
    return reply
      .status(503)
      .header('retry-after', '1')
      .send(errorBody('database_unavailable', 'The database is unavailable; try again shortly.'));
  }
  if (isDataException(err)) {
    // A value PostgreSQL cannot take (out of range, not representable) that no check caught:
    // the caller's input, so a 422, but logged, since a check should have caught it first.
    request.log.warn({ err }, 'input refused by the database');
    return reply.status(422).send(errorBody('invalid_value', 'A value in the request is out of the range that can be stored.'));
  }
  const status = (err as FastifyError).statusCode ?? 500;
  const fastifyCode = (err as FastifyError).code;
  if (status === 413 || fastifyCode === 'FST_REQ_FILE_TOO_LARGE') {
    return reply.status(413).send(errorBody('payload_too_large', err.message));
  }
  if (status >= 400 && status < 500) {
    // Fastify's own refusals: unparsable JSON, a wrong content type, an empty body…
    const code = status === 415 ? 'unsupported_media_type' : status === 404 ? 'not_found' : 'malformed_request';
    return reply.status(status === 415 || status === 404 ? status : 400).send(errorBody(code, err.message));
  }
  request.log.error({ err }, 'unhandled error');
  return reply.status(500).send(errorBody('internal_error', 'Something went wrong on our side; it has been logged.'));
}

const validationPart = (context: string | undefined) => (context === 'body' ? '' : context);
const pathOf = (instancePath: string) =>
  instancePath
    .split('/')
    .filter(Boolean)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));

/** SQLSTATE class 22 (data exception: numeric or date out of range, invalid text…), from either driver. */
const isDataException = (err: unknown) => inClass((err as { code?: unknown }).code, SQLSTATE_CLASS.dataException);
