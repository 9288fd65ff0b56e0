/**
 * `npm run bench -- conductor`: 100,000 contacts (BENCH_CONDUCTOR_CONTACTS) sent the trigger event
 * of a conversation with an action step (assign a code, save it into a field) right before a
 * message step, until every email is in the outbox. Events go in over HTTP in batches
 * (POST /v1/events/batch, 1,000 each, 4 at a time); the clock stops when the conversation's message
 * step has sent them all. PostgreSQL: a `serve` process taking events (SERVE_WORKERS=false) and 1 or
 * 2 `worker` processes; PGlite: one `serve` doing both.
 *
 * Issue 17's variant (skip with BENCH_CONDUCTOR_SPLIT=false): the same contacts and events (each with
 * `properties.cart`, 150 for every other contact, 50 for the rest) through a conversation with a
 * split in front of the assign step, `cart > 100` assigning from one pool and `otherwise` from
 * another, then the same message; measured right after the linear conversation in the same setup
 * (a fresh schema or data directory each), with the ratio split/linear (goal: within 15 %).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../src/cli/api-client.ts';
import { startServer, type BenchServer } from './server.ts';
import { conductorBaseline } from './conductor-baseline.ts';
import {
  PG_URL,
  assignStep,
  cpuMeter,
  couponMessage,
  dropSchemas,
  engineEnv,
  messagesSent,
  publishConversation,
  rate,
  sendEvents,
  startWorker,
  waitForMessages,
  waitForRunsDone,
} from './engine-kit.ts';

const CONTACTS = Number(process.env.BENCH_CONDUCTOR_CONTACTS ?? 100_000);
/** BENCH_CONDUCTOR_ENGINES=postgres or pglite: only that engine's scenarios (default: both). */
const ENGINES = new Set((process.env.BENCH_CONDUCTOR_ENGINES ?? 'postgres,pglite').toLowerCase().split(','));
const SPLIT = !['0', 'false', 'no'].includes((process.env.BENCH_CONDUCTOR_SPLIT ?? 'true').toLowerCase());
/** Split/linear throughput at least this: "within 15 % of the linear conversation". */
const SPLIT_GOAL = 0.85;
type Variant = 'linear' | 'split';

/**
 * Pool(s) with codes, fields, a committed message and a published conversation; answers its ids.
 * `linear`: assign, message. `split`: a split on `properties.cart > 100` whose branch assigns from
 * one pool and whose `otherwise` from another (into the same fields), then the message.
 */
async function prepare(api: ApiClient, dir: string, variant: Variant) {
  const m = await couponMessage(api);
  const first =
    variant === 'linear'
      ? await assignStep(api, dir, m, 'Assign Coupon Code 10%', CONTACTS)
      : {
          type: 'split',
          name: 'Cart value',
          branches: [
            {
              name: 'Over 100',
              condition: { event: 'properties.cart', op: 'gt', value: 100 },
              steps: [await assignStep(api, dir, m, 'Assign Coupon Code 15%', Math.ceil(CONTACTS / 2))],
            },
          ],
          otherwise: { steps: [await assignStep(api, dir, m, 'Assign Coupon Code 10%', Math.ceil(CONTACTS / 2))] },
        };
  const conv = await publishConversation(
    api,
    variant === 'linear' ? 'Cart abandonment 10%' : 'Cart abandonment 15% or 10%',
    [first],
    m.messageId,
  );
  return { ...conv, splitStep: variant === 'split' ? conv.firstStep : null };
}

/**
 * `live`: the events are sent while the engine runs (the clock starts with the first event);
 * `preloaded`: every event is in before the engine starts (the clock starts with it), so the
 * figure is the engine's alone; `baseline`: the same preloaded runs done by the bare SQL of
 * conductor-baseline.ts from as many connections as the scenario has workers.
 */
type Mode = 'live' | 'preloaded' | 'baseline';

async function scenario(
  label: string,
  engine: { serverEnv: Record<string, string>; workers: number; workerEnv: Record<string, string>; schema?: string },
  variant: Variant = 'linear',
  mode: Mode = 'live',
  run = randomBytes(3).toString('hex'),
) {
  const dir = mkdtempSync(join(tmpdir(), 'cf-bench-conductor-'));
  let server: BenchServer | undefined;
  const started: ReturnType<typeof startWorker>[] = [];
  try {
    server = await startServer(engine.serverEnv);
    const api = new ApiClient(server.url, server.token);
    const target = await prepare(api, dir, variant);
    const startEngine = () => {
      for (let i = 0; i < engine.workers; i++) started.push(startWorker(engine.workerEnv));
    };
    let intakeMs = 0;
    if (mode === 'live') startEngine();
    else {
      const t = performance.now();
      await sendEvents(api, run, CONTACTS);
      intakeMs = performance.now() - t;
    }
    const t0 = performance.now();
    if (mode === 'preloaded') startEngine();
    // The baseline starts no worker: its CPU is PostgreSQL's (and this process's, under "other").
    const cpu = cpuMeter({ workers: started.map((w) => w.child.pid!), serve: [server.pid] });
    if (mode === 'live') {
      await sendEvents(api, run, CONTACTS);
      intakeMs = performance.now() - t0;
    }
    let usage: string | undefined;
    if (mode === 'baseline') {
      const done = await conductorBaseline({
        done: () => (usage = cpu.line()),
        url: PG_URL,
        schema: engine.schema!,
        conversationId: target.conversationId,
        connections: engine.workers,
      });
      if (done.runs !== CONTACTS) throw new Error(`the baseline completed ${done.runs} of ${CONTACTS} runs`);
      const sent = await messagesSent(api, target);
      if (sent !== CONTACTS) throw new Error(`the baseline's runs show ${sent} of ${CONTACTS} mails sent`);
    } else if (engine.schema) await waitForRunsDone(api, engine.schema, target, CONTACTS);
    else await waitForMessages(api, target, CONTACTS);
    const totalMs = performance.now() - t0;
    usage ??= cpu.line();
    let taken = '';
    if (target.splitStep) {
      const conv = await api.request<{ stepCounts: Record<string, { branches?: Record<string, number> }> }>(
        'GET',
        `/v1/conversations/${target.conversationId}`,
      );
      const branches = conv.stepCounts[target.splitStep]?.branches ?? {};
      taken = `; branches taken: ${Object.entries(branches)
        .map(([k, n]) => `${k} ${n.toLocaleString('en-US')}`)
        .join(', ')}`;
    }
    const what = mode === 'live' ? 'end to end' : mode === 'preloaded' ? 'engine alone' : 'bare SQL';
    console.log(
      `${label.padEnd(36)} ${rate(CONTACTS, totalMs).toLocaleString('en-US')} contacts/s ${what} (${(totalMs / 1000).toFixed(1)} s for ${CONTACTS.toLocaleString('en-US')}; events ${mode === 'live' ? 'taken in' : 'sent before, in'} ${(intakeMs / 1000).toFixed(1)} s${taken})`,
    );
    console.log(`${''.padEnd(36)} ${usage}`);
    return rate(CONTACTS, totalMs);
  } finally {
    await Promise.all(started.map((w) => w.stop()));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const ratioLine = (engine: string, linear: number, split: number) =>
  `${engine}: split / linear = ${(split / linear).toFixed(2)} (goal >= ${SPLIT_GOAL}, within 15 %: ${split / linear >= SPLIT_GOAL ? 'met' : 'not met'})`;

export async function run() {
  console.log(
    `${CONTACTS.toLocaleString('en-US')} contacts; conversation: assign a code (saved with its expiration date), then the message showing it`,
  );
  if (SPLIT)
    console.log(
      'split variant: the same contacts and events, a split on properties.cart > 100 (half of them) choosing the pool in front of the assign step',
    );
  const schema = () => `bench_conductor_${randomBytes(4).toString('hex')}`;
  const pg = (s: string) => ({ DATABASE_URL: PG_URL, DATABASE_SCHEMA: s, ...engineEnv });
  const schemas: string[] = [];
  const pgScenario = (label: string, workers: number, variant: Variant, mode: Mode = 'live', run?: string) => {
    const s = schema();
    schemas.push(s);
    return scenario(label, { serverEnv: { ...pg(s), SERVE_WORKERS: 'false' }, workers, workerEnv: pg(s), schema: s }, variant, mode, run);
  };
  if (ENGINES.has('postgres')) {
    const pgRun = randomBytes(3).toString('hex');
    const one = await pgScenario('PostgreSQL, 1 worker', 1, 'linear', 'live', pgRun);
    const oneSplit = SPLIT ? await pgScenario('PostgreSQL, 1 worker, split', 1, 'split', 'live', pgRun) : null;
    const two = await pgScenario('PostgreSQL, 2 workers', 2, 'linear');
    const alone1 = await pgScenario('PostgreSQL, 1 worker, events first', 1, 'linear', 'preloaded');
    const base1 = await pgScenario('PostgreSQL baseline, 1 connection', 1, 'linear', 'baseline');
    const alone2 = await pgScenario('PostgreSQL, 2 workers, events first', 2, 'linear', 'preloaded');
    const base2 = await pgScenario('PostgreSQL baseline, 2 connections', 2, 'linear', 'baseline');
    console.log(
      `PostgreSQL: 2 workers / 1 worker = ${(two / one).toFixed(2)}x end to end, ${(alone2 / alone1).toFixed(2)}x engine alone (goal >= 1.6x)`,
    );
    console.log(
      `PostgreSQL: engine / baseline = ${(alone1 / base1).toFixed(2)} with 1 worker (end to end ${(one / base1).toFixed(2)}), ${(alone2 / base2).toFixed(2)} with 2 (end to end ${(two / base2).toFixed(2)}); goal >= 0.5; baseline 2 / 1 connections = ${(base2 / base1).toFixed(2)}x`,
    );
    console.log('PostgreSQL goals: >= 12,000 contacts/s with 1 worker, >= 20,000 with 2');
    if (oneSplit !== null) console.log(ratioLine('PostgreSQL, 1 worker', one, oneSplit));
  }
  const pgliteRun = randomBytes(3).toString('hex');
  const pglite = async (label: string, variant: Variant) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cf-bench-pglite-'));
    try {
      return await scenario(
        label,
        { serverEnv: { DATA_DIR: dataDir, SERVE_WORKERS: 'true', ...engineEnv }, workers: 0, workerEnv: {} },
        variant,
        'live',
        pgliteRun,
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
  if (ENGINES.has('pglite')) {
    const lite = await pglite('PGlite (serve runs the engine)', 'linear');
    console.log('PGlite goal: >= 6,000 contacts/s');
    if (SPLIT) console.log(ratioLine('PGlite', lite, await pglite('PGlite, split', 'split')));
  }
  await dropSchemas(schemas);
}
