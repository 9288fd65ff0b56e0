/**
 * What the engine benchmarks (`conductor`, `soak`) share: the database, the `worker` processes
 * with their memory, the pools of codes, the conversation that assigns a code and mails it, and
 * the events sent over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ApiClient } from '../src/cli/api-client.ts';
import { profileArgs } from './server.ts';

export const PG_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The engine's settings for a benchmark: short polls, batches of 1,000, no pool check. */
export const engineEnv = { CONDUCTOR_POLL_INTERVAL_MS: '20', CONDUCTOR_BATCH_SIZE: '1000', POOL_CHECK_INTERVAL_SECONDS: '0' };
export const rate = (n: number, ms: number) => Math.round(n / (ms / 1000));
export const fmt = (n: number) => n.toLocaleString('en-US');

/** Resident set size (VmRSS) of a process now, in MB; null once it is gone. */
export function rssMb(pid: number): number | null {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
    return Number.isNaN(kb) ? null : Math.round(kb / 1024);
  } catch {
    return null;
  }
}

export interface Worker {
  child: ChildProcess;
  stop(): Promise<void>;
}

/** A `couponflow worker` process (the compiled dist/main.js, as `npm start` runs it). */
export function startWorker(env: Record<string, string>): Worker {
  const child = spawn(process.execPath, [...profileArgs(), 'dist/main.js', 'worker'], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return {
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A unique pool holding `count` codes (and a few to spare); answers its id. */
export async function makePool(api: ApiClient, dir: string, merchantId: string, count: number): Promise<string> {
  const pool = await api.request<{ id: string }>('POST', `/v1/merchants/${merchantId}/pools`, {
    name: `bench-${randomBytes(4).toString('hex')}`,
    type: 'unique',
  });
  const file = join(dir, `codes-${pool.id}.txt`);
  const codes: string[] = [];
  for (let i = 0; i < count + 1000; i++) codes.push(`B${randomBytes(6).toString('hex').toUpperCase()}${i},2027-0${1 + (i % 9)}-15`);
  writeFileSync(file, codes.join('\n') + '\n');
  const upload = await api.uploadFile<{ imported: number }>(`/v1/pools/${pool.id}/uploads`, { expiration: 'file', delimiter: ',' }, file);
  if (upload.status !== 201) throw new Error(`upload failed: ${JSON.stringify(upload.body)}`);
  return pool.id;
}

/** The fields a code is saved into and the committed message that shows them. */
export async function couponMessage(api: ApiClient) {
  const merchants = await api.request<{ items: { id: string }[] }>('GET', '/v1/merchants');
  const merchantId = merchants.items[0]!.id;
  const group = await api.request<{ id: string; name: string }>('POST', '/v1/field-groups', { name: 'ShopperInfo' });
  const code = await api.request<{ id: string; snippet: string }>('POST', `/v1/field-groups/${group.id}/fields`, {
    name: 'SCA10Off',
    type: 'text',
  });
  const exp = await api.request<{ id: string; snippet: string }>('POST', `/v1/field-groups/${group.id}/fields`, {
    name: 'SCA10Off Expiration',
    type: 'date',
  });
  const message = await api.request<{ id: string }>('POST', '/v1/messages', {
    name: 'Your 10% off',
    fromName: 'Shop',
    fromEmail: 'shop@example.com',
    subject: 'Your 10% off, {{ contact.email }}',
    html: `<p>Hello {{ contact.email }}, your code is <b>${code.snippet}</b>, valid until ${exp.snippet}.</p>`,
    text: null,
  });
  return { merchantId, codeField: code.id, expirationField: exp.id, messageId: message.id };
}

/** An action step assigning a code from a new pool of `count` codes into the message's fields. */
export async function assignStep(api: ApiClient, dir: string, m: Awaited<ReturnType<typeof couponMessage>>, name: string, count: number) {
  return {
    type: 'action',
    name,
    action: {
      type: 'assignCoupon',
      merchantId: m.merchantId,
      poolId: await makePool(api, dir, m.merchantId, count),
      saveCodeTo: m.codeField,
      saveExpirationTo: m.expirationField,
      whenNoCode: 'continue',
    },
  };
}

/** Creates and publishes a conversation on `cart_abandoned` whose last step is `message` (committed first); answers its ids. */
export async function publishConversation(api: ApiClient, name: string, steps: object[], messageId: string) {
  const conv = await api.request<{ id: string; steps: { id: string; type: string }[] }>('POST', '/v1/conversations', {
    name,
    trigger: { event: 'cart_abandoned' },
    steps: [...steps, { type: 'message', name: 'Your 10% off', messageId }],
  });
  const messageStep = conv.steps[conv.steps.length - 1]!.id;
  await api.request('POST', `/v1/conversations/${conv.id}/steps/${messageStep}/commit`);
  await api.request('POST', `/v1/conversations/${conv.id}/publish`);
  return { conversationId: conv.id, messageStep, firstStep: conv.steps[0]!.id };
}

/**
 * Sends `contacts` trigger events (`c<i>-<run>@example.com`, `properties.cart` 150 for every other
 * contact, 50 for the rest) over POST /v1/events/batch, `batch` per call, `concurrent` calls at a time.
 */
export async function sendEvents(api: ApiClient, run: string, contacts: number, batch = 1000, concurrent = 4) {
  let next = 0;
  const sender = async () => {
    for (;;) {
      const start = next;
      next += batch;
      if (start >= contacts) return;
      const events = Array.from({ length: Math.min(batch, contacts - start) }, (_, i) => ({
        type: 'cart_abandoned',
        email: `c${start + i}-${run}@example.com`,
        properties: { cart: (start + i) % 2 ? 150 : 50 },
      }));
      await api.request('POST', '/v1/events/batch', { events });
    }
  };
  await Promise.all(Array.from({ length: concurrent }, sender));
}

/** Waits until the conversation's message step has sent `count` mails (polling every 200 ms; `progress` hears each count). */
export async function waitForMessages(
  api: ApiClient,
  target: { conversationId: string; messageStep: string },
  count: number,
  progress?: (sent: number) => void,
) {
  for (;;) {
    const conv = await api.request<{ stepCounts: Record<string, { messagesSent: number }> }>(
      'GET',
      `/v1/conversations/${target.conversationId}`,
    );
    const sent = conv.stepCounts[target.messageStep]?.messagesSent ?? 0;
    progress?.(sent);
    if (sent >= count) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Drops the benchmark's schemas. */
export async function dropSchemas(schemas: string[]) {
  const { default: pgLib } = await import('pg');
  const admin = new pgLib.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    for (const s of schemas) await admin.query(`drop schema if exists ${s} cascade`);
  } finally {
    await admin.end();
  }
}
