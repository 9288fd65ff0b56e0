/**
 * The API's shapes every area shares, free of Node and HTTP so the console imports them too: a
 * list page and the error body every refused request answers with (http/errors.ts).
 */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ErrorBody {
  error: { code: string; message: string; details: unknown[] };
  [extra: string]: unknown;
}
