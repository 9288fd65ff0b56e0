/**
 * The PostgreSQL SQLSTATEs this code tells apart (both drivers surface them as `err.code`).
 * https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
export const SQLSTATE = {
  uniqueViolation: '23505',
  duplicateSchema: '42P06',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  adminShutdown: '57P01',
  crashShutdown: '57P02',
  cannotConnectNow: '57P03',
  tooManyConnections: '53300',
} as const;

/** SQLSTATE classes (the first two characters). */
export const SQLSTATE_CLASS = {
  /** connection exception */
  connection: '08',
  /** data exception: numeric or date out of range, invalid text representation… */
  dataException: '22',
} as const;

/** Whether `code` is a SQLSTATE (five digits or capitals) of the given class. */
export const inClass = (code: unknown, cls: string): boolean =>
  typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && code.startsWith(cls);
