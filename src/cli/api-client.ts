import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/** The CLI's commands that work through the server's REST API, like any integrator would. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  static fromEnv(env = process.env): ApiClient {
    const url = env.COUPONFLOW_URL ?? `http://localhost:${env.PORT ?? 8080}`;
    const token = env.COUPONFLOW_TOKEN;
    if (!token) throw new Error('Set COUPONFLOW_TOKEN to an API token (and COUPONFLOW_URL if the server is not on localhost:8080).');
    return new ApiClient(url.replace(/\/$/, ''), token);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return this.answer<T>(res);
  }

  /** Streams a file as multipart/form-data (option fields first), reporting bytes sent. */
  async uploadFile<T>(path: string, fields: Record<string, string>, filePath: string, onProgress?: (sent: number, total: number) => void): Promise<{ status: number; body: T }> {
    const total = statSync(filePath).size;
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
    const res = await fetch(`${this.baseUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: Readable.toWeb(Readable.from(body())) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
  }

  private async answer<T>(res: Response): Promise<T> {
    const text = await res.text();
    const body = text ? JSON.parse(text) : {};
    if (!res.ok) {
      const err = body?.error;
      throw new Error(`${res.status} ${err?.code ?? ''}: ${err?.message ?? text}`);
    }
    return body as T;
  }
}
