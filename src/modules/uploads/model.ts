import { z } from 'zod';

export type ExpirationMode = 'none' | 'file' | 'fixed';
export type Delimiter = ',' | ';' | 'tab' | '|';

/** One non-blank line of the file; `line` is its 1-based physical line number. */
export type UploadLine = { line: number; ok: true; code: string; expiresAt: Date | null } | { line: number; ok: false; reason: string };

export type OnInvalid = 'reject' | 'skip';

export interface UploadOptions {
  expiration: ExpirationMode;
  delimiter: Delimiter;
  /** With `fixed`: the date every code expires (text as sent). */
  expiresOn: string | null;
  onInvalid: OnInvalid;
}

export interface LineError {
  line: number;
  reason: string;
}

/**
 * `cancelled`: the client went away mid-file (the console's Cancel); nothing of it was kept.
 * `undone`: its unassigned codes were removed (`DELETE /v1/uploads/{id}`); assigned ones stay.
 */
export type UploadStatus = 'imported' | 'rejected' | 'failed' | 'cancelled' | 'undone';

export interface Upload {
  id: string;
  poolId: string;
  source: 'file' | 'generate';
  fileName: string | null;
  options: Record<string, unknown>;
  status: UploadStatus;
  lines: number;
  imported: number;
  duplicates: number;
  rejected: number;
  errors: LineError[];
  errorCount: number;
  /** Blank lines read: lines = imported + duplicates + rejected (invalid) + blank. */
  blank: number;
  /** Imported codes already past their expiration date when they went in (never assigned). */
  alreadyExpired: number;
  createdAt: Date;
  finishedAt: Date | null;
  /** Set by an undo, with what it did. */
  undoneAt?: Date | null;
  removed?: number | null;
  keptAssigned?: number | null;
}

/** What an undo did: codes removed, and the upload's codes kept because they were assigned (or redeemed). */
export interface UndoOutcome {
  removed: number;
  keptAssigned: number;
}

export const MAX_REPORTED_ERRORS = 100;

/** Tallies lines as they stream by; keeps only the first 100 errors (constant memory). */
export class LineTally {
  lines = 0;
  valid = 0;
  errorCount = 0;
  readonly errors: LineError[] = [];

  add(line: UploadLine): void {
    this.lines = Math.max(this.lines, line.line);
    if (line.ok) {
      this.valid++;
      return;
    }
    this.errorCount++;
    if (this.errors.length < MAX_REPORTED_ERRORS) this.errors.push({ line: line.line, reason: line.reason });
  }
}

// ---------------------------------------------------------------------------------------------
// The API's answers (routes.ts serializes them; the console reads them: web/src/api.ts)

export const lineError = z.object({ line: z.number(), reason: z.string() });

export const uploadOut = z.object({
  id: z.string(),
  poolId: z.string(),
  source: z.enum(['file', 'generate']),
  fileName: z.string().nullable(),
  options: z.record(z.string(), z.unknown()),
  status: z
    .enum(['imported', 'rejected', 'failed', 'cancelled', 'undone'])
    .describe('cancelled: the client closed the connection mid-file; nothing was kept. undone: its unassigned codes were removed'),
  lines: z.number(),
  imported: z.number(),
  duplicates: z.number(),
  rejected: z.number(),
  errors: z.array(lineError),
  errorCount: z.number(),
  blank: z.number().describe('blank lines read: lines = imported + duplicates + rejected + blank'),
  alreadyExpired: z.number().describe('imported codes already past their expiration date (never assigned)'),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  undoneAt: z.string().nullable(),
  removed: z.number().nullable().describe('undone: the unassigned codes removed'),
  keptAssigned: z.number().nullable().describe('undone: the codes kept because they were assigned (or redeemed)'),
});
export type UploadJson = z.infer<typeof uploadOut>;

/** Whether an undo would do something: only an imported upload brought codes (an undone one answers what it did). */
export const isUndoable = (u: Pick<UploadJson, 'status'>): boolean => u.status === 'imported';

/** GET /v1/uploads/{id}: the upload and what an undo would remove now (the console's confirmation says it). */
export const uploadDetailOut = uploadOut.extend({
  unassignedCodes: z
    .number()
    .describe('codes of the upload in the pool and not assigned: what an undo would remove now (0 once undone, or when it brought none)'),
});
export type UploadDetailJson = z.infer<typeof uploadDetailOut>;

/** The option fields of an upload (multipart fields before the file). */
export const uploadOptions = z.object({
  expiration: z.enum(['none', 'file', 'fixed']).default('none'),
  delimiter: z
    .enum([',', ';', 'tab', '|', '\t'])
    .default(',')
    .transform((d) => (d === '\t' ? 'tab' : d)),
  expiresOn: z.string().max(40).optional(),
  onInvalid: z.enum(['reject', 'skip']).default('reject'),
});
export type UploadOptionsInput = z.input<typeof uploadOptions>;

export const undoOut = z.object({
  removed: z.number().describe('unassigned codes of the upload removed from the pool'),
  keptAssigned: z.number().describe('codes of the upload kept: assigned (or redeemed) before the undo'),
});
export type UndoJson = z.infer<typeof undoOut>;
