/** Both drivers surface PostgreSQL's SQLSTATE as `code` and the constraint's name. */
interface PgError {
  code?: string;
  constraint?: string;
  message?: string;
}

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as PgError;
  if (e?.code !== '23505') return false;
  // PGlite does not always fill `constraint`; its message names it.
  return !constraint || e.constraint === constraint || Boolean(e.message?.includes(`"${constraint}"`));
}
