import type { Delimiter, ExpirationMode, UploadLine } from './lines.ts';

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

export type UploadStatus = 'imported' | 'rejected' | 'failed';

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
  /**
   * Only on the answer to the upload itself (not kept in the stored record yet): blank lines read,
   * so lines = imported + duplicates + rejected + blank; and imported codes already past their
   * expiration date.
   */
  blank?: number;
  alreadyExpired?: number;
  createdAt: Date;
  finishedAt: Date | null;
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

/** Rows of COPY's text format for one pool, with how many codes expire at each instant. */
export class CopyChunk {
  /** Written in place: one allocation per chunk, no string ropes to flatten (less GC churn). */
  private buffer: Buffer;
  private used = 0;
  rows = 0;
  readonly byExpiry = new Map<string, number>();

  constructor(
    private readonly prefix: string,
    capacity: number,
    /** The row's last column (the upload's key) and its newline. */
    private readonly suffix = '\n',
  ) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }

  /** `prefix` is the pool's leading columns (account_id, pool_key), tab-terminated. */
  static forPool(accountId: string, poolKey: number, capacity: number, uploadKey: number): () => CopyChunk {
    const prefix = `${accountId}\t${poolKey}\t`;
    return () => new CopyChunk(prefix, capacity, `\t${uploadKey}\n`);
  }

  get size(): number {
    return this.used;
  }

  /** The rows written so far (a view, not a copy). */
  get bytes(): Buffer {
    return this.buffer.subarray(0, this.used);
  }

  // Files repeat a few dates: format each instant once.
  #lastTime = NaN;
  #lastIso = '';
  private iso(at: Date): string {
    const t = at.getTime();
    if (t !== this.#lastTime) {
      this.#lastTime = t;
      this.#lastIso = at.toISOString();
    }
    return this.#lastIso;
  }

  /** How many rows of this chunk expire at or before `now`. */
  expiredBy(now: Date): number {
    let n = 0;
    for (const [at, count] of this.byExpiry) if (at !== 'infinity' && new Date(at) <= now) n += count;
    return n;
  }

  add(code: string, expiresAt: Date | null): void {
    // Codes hold no control characters (so no tab or newline); only the backslash needs escaping.
    const escaped = code.includes('\\') ? code.replace(/\\/g, '\\\\') : code;
    const expiry = expiresAt ? this.iso(expiresAt) : 'infinity';
    const row = `${this.prefix}${escaped}\t${expiry}${this.suffix}`;
    const need = Buffer.byteLength(row);
    if (this.used + need > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.used + need));
      this.buffer.copy(grown, 0, 0, this.used);
      this.buffer = grown;
    }
    this.used += this.buffer.write(row, this.used);
    this.rows++;
    this.byExpiry.set(expiry, (this.byExpiry.get(expiry) ?? 0) + 1);
  }
}
