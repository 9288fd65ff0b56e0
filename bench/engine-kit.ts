/**
 * What the engine benchmarks (`conductor`, `soak`) share: the database, the `worker` processes
 * with their memory, the pools of codes, the conversation that assigns a code and mails it, and
 * the events sent over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
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

/**
 * Waits until the conversation's message step has sent `count` mails, asking the API every
 * second (`progress` hears each count). The answer (GET /v1/conversations/:id) counts every step's
 * runs and redemptions, which costs the database more as the runs grow: at 200 ms it took about a
 * fifth of PostgreSQL's active time in a 50,000-contact run; PostgreSQL scenarios use
 * waitForRunsDone instead.
 */
export async function waitForMessages(
  api: ApiClient,
  target: { conversationId: string; messageStep: string },
  count: number,
  progress?: (sent: number) => void,
) {
  for (;;) {
    const sent = await messagesSent(api, target);
    progress?.(sent);
    if (sent >= count) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function messagesSent(api: ApiClient, target: { conversationId: string; messageStep: string }): Promise<number> {
  const conv = await api.request<{ stepCounts: Record<string, { messagesSent: number }> }>(
    'GET',
    `/v1/conversations/${target.conversationId}`,
  );
  return conv.stepCounts[target.messageStep]?.messagesSent ?? 0;
}

/**
 * PostgreSQL, once every event is in: waits until the schema has no active run (every 250 ms;
 * enrollments_due_idx holds only active runs, so the question costs what is left, not what is
 * done; `progress` hears the runs no longer active), then checks through the API that the message
 * step sent `count` mails (a run that failed is not active either).
 */
export async function waitForRunsDone(
  api: ApiClient,
  schema: string,
  target: { conversationId: string; messageStep: string },
  count: number,
  progress?: (done: number) => void,
) {
  const { default: pgLib } = await import('pg');
  const db = new pgLib.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
  await db.connect();
  try {
    for (;;) {
      const active = Number((await db.query<{ n: string }>("select count(*) as n from enrollments where status = 'active'")).rows[0]!.n);
      progress?.(count - active);
      if (active === 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await db.end();
  }
  const sent = await messagesSent(api, target);
  if (sent !== count) throw new Error(`no run is active, but the message step sent ${sent} of ${count} mails`);
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

/** CPU seconds (user + system) a process has used; null once it is gone. */
function cpuSeconds(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return null;
  }
}

const postgresPids = (): number[] =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
      } catch {
        return false;
      }
    });

/** Busy and total CPU seconds of the whole machine (all cores), from /proc/stat. */
function machineSeconds(): { busy: number; total: number } {
  const [, ...n] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
  const total = n.reduce((a, b) => a + b, 0);
  return { busy: (total - n[3]! - n[4]!) / 100, total: total / 100 }; // idle, iowait
}

/**
 * Where the CPU of a scenario went: the named processes' CPU seconds, PostgreSQL's (every
 * `postgres` process, backends of the benchmark's connections included) and the whole machine's,
 * from start() to line(). Other work on the machine shows as "other".
 */
export function cpuMeter(processes: Record<string, number[]>) {
  const sum = (pids: number[]) => pids.reduce((a, pid) => a + (cpuSeconds(pid) ?? 0), 0);
  const start = {
    named: Object.fromEntries(Object.entries(processes).map(([k, pids]) => [k, sum(pids)])),
    pg: sum(postgresPids()),
    machine: machineSeconds(),
  };
  return {
    line(): string {
      const named = Object.entries(processes).map(([k, pids]) => [k, sum(pids) - start.named[k]!] as const);
      const pgNow = sum(postgresPids()) - start.pg; // backends that ended meanwhile are not counted
      const m = machineSeconds();
      const busy = m.busy - start.machine.busy;
      const wall = (m.total - start.machine.total) / cpus().length;
      const other = busy - pgNow - named.reduce((a, [, s]) => a + s, 0);
      return `CPU s: ${named.map(([k, s]) => `${k} ${s.toFixed(1)}`).join(', ')}, PostgreSQL ${pgNow.toFixed(1)}, other ${Math.max(0, other).toFixed(1)}; machine busy ${((busy / (wall * cpus().length)) * 100).toFixed(0)} % of ${cpus().length} cores`;
    },
  };
}
