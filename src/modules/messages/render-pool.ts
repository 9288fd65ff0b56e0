/**
 * Rendering off the event loop: a pool of worker threads (piscina) that renders one message for
 * many contacts, so a slow template of one account never stalls the server for the others.
 *
 * - A job (one message, its contacts) is cut into slices of `sliceSize` contacts: one task each,
 *   so the fast path (plain merge tags) pays one round trip per slice, not per contact.
 * - Fair: slices wait in one queue per account and are handed out round robin; an account never
 *   holds more than `threads - 1` threads (when there are two or more), so another account's
 *   preview always finds one.
 * - The budget: each contact's render is stopped at `budgetMs` (liquidjs' own limit, checked between
 *   nodes). A message that exceeds it for `giveUpAfter` contacts of a job fails for the contacts
 *   left without rendering them. A render that blocks its thread (one node running longer than the
 *   budget, where liquidjs cannot check) is stopped by terminating the thread: the watchdog sees
 *   its progress counter stand still for two budgets. That contact fails, the slice's other
 *   contacts are rendered again on a fresh thread (the same when a render takes its thread down).
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { TemplateError, type RenderContext, type RenderedMessage, type TemplatePart } from './template.ts';
import type { RenderTask, WireOutcome } from './render-worker.ts';

export type RenderOutcome = { ok: true; rendered: RenderedMessage } | { ok: false; error: TemplateError };

export interface RenderJob {
  timeZone: string;
  parts: TemplatePart[];
  contexts: RenderContext[];
}

export interface RenderPool {
  /** Renders `job` for each of its contexts, in order; a failed render is an outcome, not a rejection. */
  render(accountId: string, job: RenderJob): Promise<RenderOutcome[]>;
  /** Threads busy now, and slices waiting (for tests and metrics). */
  load(): { running: number; queued: number };
  close(): Promise<void>;
}

export interface RenderPoolOptions {
  /** Worker threads. Default: one per core but one, at least two. */
  threads?: number;
  /** Bound on one contact's render, in ms. Default 1,000. */
  budgetMs?: number;
  /** Bound on one contact's output (subject + bodies), in UTF-8 bytes. Default 1 MB. */
  maxOutputBytes?: number;
  /** Time-outs in one job after which its contacts left fail unrendered. Default 3. */
  giveUpAfter?: number;
  /** Contacts per task. Default 50. */
  sliceSize?: number;
}

export const defaultRenderThreads = () => Math.max(2, availableParallelism() - 1);

/** From sources (tsx, vitest) the worker is TypeScript and its thread loads tsx; built, it is dist's .js. */
function workerFile(): { filename: string; execArgv: string[] } {
  if (!import.meta.url.endsWith('.ts'))
    return { filename: new URL('./render-worker.js', import.meta.url).href, execArgv: process.execArgv };
  const hasTsx = process.execArgv.some((arg) => arg.includes('tsx'));
  return {
    filename: new URL('./render-worker.ts', import.meta.url).href,
    execArgv: hasTsx ? process.execArgv : [...process.execArgv, '--import', 'tsx'],
  };
}

interface Slice {
  accountId: string;
  task: RenderTask;
  resolve(outcomes: WireOutcome[]): void;
  reject(err: unknown): void;
}

const isAbort = (err: unknown) => err instanceof Error && (err.name === 'AbortError' || /aborted/i.test(err.message));

export function createRenderPool(options: RenderPoolOptions = {}): RenderPool {
  const threads = Math.max(1, options.threads ?? defaultRenderThreads());
  const budgetMs = options.budgetMs ?? 1_000;
  const maxOutputBytes = options.maxOutputBytes ?? 1024 * 1024;
  const giveUpAfter = options.giveUpAfter ?? 3;
  const sliceSize = Math.max(1, options.sliceSize ?? 50);
  const perAccount = threads > 1 ? threads - 1 : 1;
  const piscina = new Piscina({
    ...workerFile(),
    name: 'renderSlice',
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: 60_000,
    concurrentTasksPerWorker: 1,
  });
  // A thread that dies outside a task is replaced by piscina; the event must not end the process.
  piscina.on('error', () => {});

  const queues = new Map<string, Slice[]>(); // by account, in arrival order; Map order is the round
  const running = new Map<string, number>();
  let active = 0;
  let closed = false;

  function next(): Slice | undefined {
    for (const [accountId, queue] of queues) {
      if ((running.get(accountId) ?? 0) >= perAccount) continue;
      const slice = queue.shift()!;
      queues.delete(accountId);
      if (queue.length) queues.set(accountId, queue); // to the back of the round
      return slice;
    }
    return undefined;
  }

  function dispatch(): void {
    while (active < threads) {
      const slice = next();
      if (!slice) return;
      active++;
      running.set(slice.accountId, (running.get(slice.accountId) ?? 0) + 1);
      runWatched(slice.task)
        .then(slice.resolve, slice.reject)
        .finally(() => {
          active--;
          running.set(slice.accountId, running.get(slice.accountId)! - 1);
          dispatch();
        });
    }
  }

  /** One task on a thread; a thread whose progress stands still for two budgets is terminated. */
  async function runWatched(task: RenderTask): Promise<WireOutcome[]> {
    const abort = new AbortController();
    let seen = -1;
    let still = 0;
    const watchdog = setInterval(() => {
      const now = Atomics.load(task.progress, task.slot);
      if (now === 0) return; // the thread is still starting
      still = now === seen ? still + 1 : 0;
      seen = now;
      if (still >= 2) abort.abort();
    }, budgetMs);
    try {
      return (await piscina.run(task, { signal: abort.signal })) as WireOutcome[];
    } catch (err) {
      // Failed before any contact (the thread could not start, the pool is closing): not a render's fault.
      const index = Atomics.load(task.progress, task.slot) - 1;
      if (closed || index < 0) throw err;
      const message =
        abort.signal.aborted && isAbort(err)
          ? `rendering blocked for longer than ${budgetMs} ms and was stopped`
          : `rendering failed: ${err instanceof Error ? err.message : String(err)}`;
      return failedAt(task, index, { ok: false, reason: abort.signal.aborted ? 'time_limit' : 'render', message, issues: [] });
    } finally {
      clearInterval(watchdog);
    }
  }

  /**
   * The contact at `index` blocked its thread (or took it down): it fails; the others of its slice
   * are rendered anew, on a fresh thread.
   */
  async function failedAt(task: RenderTask, index: number, failure: WireOutcome): Promise<WireOutcome[]> {
    if (task.giveUpAfter > 0 && !failure.ok && failure.reason === 'time_limit') Atomics.add(task.progress, 0, 1);
    const again = (contexts: RenderContext[], giveUp: number) => {
      Atomics.store(task.progress, task.slot, 0);
      return contexts.length ? runWatched({ ...task, contexts, giveUpAfter: giveUp }) : Promise.resolve([]);
    };
    // Those before it finished once already (their time-outs counted): render them all again.
    const before = await again(task.contexts.slice(0, index), 0);
    const after = await again(task.contexts.slice(index + 1), task.giveUpAfter);
    return [...before, failure, ...after];
  }

  function enqueue(accountId: string, task: RenderTask): Promise<WireOutcome[]> {
    return new Promise((resolve, reject) => {
      const queue = queues.get(accountId) ?? [];
      queue.push({ accountId, task, resolve, reject });
      queues.set(accountId, queue);
      dispatch();
    });
  }

  return {
    async render(accountId, job) {
      if (closed) throw new Error('the render pool is closed');
      const slices: RenderContext[][] = [];
      for (let i = 0; i < job.contexts.length; i += sliceSize) slices.push(job.contexts.slice(i, i + sliceSize));
      const progress = new Int32Array(new SharedArrayBuffer(4 * (1 + slices.length)));
      const results = await Promise.all(
        slices.map((contexts, k) =>
          enqueue(accountId, {
            timeZone: job.timeZone,
            parts: job.parts,
            contexts,
            budgetMs,
            maxOutputBytes,
            progress,
            slot: k + 1,
            giveUpAfter,
          }),
        ),
      );
      return results.flat().map(toOutcome(job.parts));
    },
    load: () => ({ running: active, queued: [...queues.values()].reduce((n, q) => n + q.length, 0) }),
    async close() {
      closed = true;
      await piscina.destroy();
    },
  };
}

const toOutcome =
  (parts: TemplatePart[]) =>
  (wire: WireOutcome): RenderOutcome => {
    if (wire.ok) return wire;
    const field = parts[0]?.field ?? 'subject';
    const issues = wire.issues.length ? wire.issues : [{ field, line: 1, message: wire.message }];
    return { ok: false, error: new TemplateError(wire.reason === 'gave_up' ? 'time_limit' : wire.reason, wire.message, issues) };
  };
