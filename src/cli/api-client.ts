import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { writeFileAtomically } from '../platform/db/backup-file.ts';

/** An expected failure of a CLI command: printed as one line (`couponflow: …`), exit code 1. */
export class CliError extends Error {}

interface ErrorBody {
  error?: { code?: string; message?: string; details?: unknown };
}

/** The server's answer to a failed call, in one line the operator can act on. */
export function apiFailure(status: number, body: ErrorBody | undefined, text: string): CliError {
  if (status === 401) return new CliError('the server refused the token (401): set COUPONFLOW_TOKEN to a valid API token');
  const err = body?.error;
  const message = err?.message ?? (text.trim().slice(0, 200) || 'no message');
  return new CliError(`${message} (${status}${err?.code ? ` ${err.code}` : ''})`);
}

function parseJson(text: string): unknown {
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The CLI's commands that work through the server's REST API, like any integrator would. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  static fromEnv(env = process.env): ApiClient {
    const url = env.COUPONFLOW_URL ?? `http://localhost:${env.PORT ?? 8080}`;
    const token = env.COUPONFLOW_TOKEN;
    if (!token) throw new CliError('set COUPONFLOW_TOKEN to an API token (and COUPONFLOW_URL if the server is not on localhost:8080)');
    try {
      new URL(url);
    } catch {
      throw new CliError(`COUPONFLOW_URL is not a URL: ${url}`);
    }
    return new ApiClient(url.replace(/\/$/, ''), token);
  }

  private async send(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}${path}`, init);
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `cannot reach the server at ${this.baseUrl} (${cause?.code ?? cause?.message ?? (err as Error).message}): is \`couponflow serve\` running? Set COUPONFLOW_URL if it is elsewhere`,
      );
    }
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const parsed = parseJson(text);
    if (!res.ok) throw apiFailure(res.status, parsed as ErrorBody | undefined, text);
    if (parsed === undefined)
      throw new CliError(`the server at ${this.baseUrl} did not answer JSON (${res.status}): is COUPONFLOW_URL a Couponflow server?`);
    return parsed as T;
  }

  /**
   * Downloads `path` into `file`, whole or not at all (a temporary file renamed over it), checking
   * the length the server announced. Returns the bytes written.
   */
  async download(path: string, file: string): Promise<number> {
    const res = await this.send(path, { headers: { authorization: `Bearer ${this.token}` } });
    if (!res.ok || !res.body) {
      const text = await res.text();
      throw apiFailure(res.status, parseJson(text) as ErrorBody | undefined, text);
    }
    const announced = Number(res.headers.get('content-length') ?? NaN);
    let written: number;
    try {
      written = await writeFileAtomically(file, checkedLength(res.body, announced));
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(`the download from ${this.baseUrl} broke off: ${(err as Error).message}; ${file} was left as it was`);
    }
    return written;
  }

  /**
   * Streams a file as multipart/form-data (option fields first), reporting bytes sent. Answers the
   * body for 2xx and for refusals that carry a report (the caller prints it); throws otherwise.
   */
  async uploadFile<T>(
    path: string,
    fields: Record<string, string>,
    filePath: string,
    onProgress?: (sent: number, total: number) => void,
  ): Promise<{ status: number; body: T }> {
    let total: number;
    try {
      const stat = statSync(filePath);
      if (!stat.isFile()) throw new CliError(`not a file: ${filePath}`);
      total = stat.size;
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(
        `cannot read ${filePath}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
      );
    }
    const boundary = `----couponflow${randomBytes(8).toString('hex')}`;
    const head = Object.entries(fields)
      .map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
      .join('');
    const fileHead = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${basename(filePath).replace(/"/g, '')}"\r\nContent-Type: text/plain\r\n\r\n`;
    let sent = 0;
    async function* body() {
      yield Buffer.from(head + fileHead);
      for await (const chunk of createReadStream(filePath, { highWaterMark: 1024 * 1024 })) {
        sent += (chunk as Buffer).length;
        onProgress?.(sent, total);
        yield chunk as Buffer;
      }
      yield Buffer.from(`\r\n--${boundary}--\r\n`);
    }
    const res = await this.send(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: Readable.toWeb(Readable.from(body())) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    const text = await res.text();
    const parsed = parseJson(text);
    if (res.status === 401 || parsed === undefined) throw apiFailure(res.status, parsed as ErrorBody | undefined, text);
    return { status: res.status, body: parsed as T };
  }
}

/** The body's chunks; fails (before the file is renamed into place) when fewer or more bytes come than announced. */
async function* checkedLength(body: ReadableStream<Uint8Array>, announced: number): AsyncGenerator<Uint8Array> {
  let received = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    received += chunk.length;
    yield chunk;
  }
  if (Number.isFinite(announced) && received !== announced)
    throw new CliError(`the server announced ${announced} bytes and sent ${received}: nothing was written, try again`);
}
