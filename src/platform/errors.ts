/**
 * Expected failures. `kind` decides the HTTP status (one mapping, in platform/http/errors.ts);
 * `code` is the stable snake_case name clients match on.
 */
export type ErrorKind =
  'malformed' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'too_large' | 'invalid' | 'too_many' | 'unavailable';

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly details: unknown[] = [],
    /** Extra top-level members of the error answer (e.g. the rejected upload's record). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string) => new DomainError('not_found', 'not_found', `${what} not found`);
export const forbidden = (message: string) => new DomainError('forbidden', 'forbidden', message);
export const invalid = (message: string, details: unknown[] = []) => new DomainError('invalid', 'validation_failed', message, details);
