/** The COPY buffer of an upload (Node's Buffer: kept out of model.ts, which the console imports). */

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
