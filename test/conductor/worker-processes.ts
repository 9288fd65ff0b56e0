import { afterAll } from 'vitest';
import { sql } from 'kysely';
import pg from 'pg';
import type { ChildProcess } from 'node:child_process';
import { TEST_DATABASE_URL, type EngineContext } from '../helpers/engines.ts';
import { useTenant } from '../helpers/fixture.ts';
import { spawnCli } from '../foundation/processes.ts';

/**
 * The setup the worker-process suites share (workers.test.ts, branch-workers.test.ts; PostgreSQL
 * only): an app and a tenant, real `couponflow worker` processes over the suite's schema (killed at
 * the end if still running), waiting for a conversation's runs to complete, and a worker killed
 * with SIGKILL in the middle of its batch.
 */
export function useWorkerProcesses(ctx: EngineContext) {
  const { app, t } = useTenant(ctx);
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  const worker = (env: Record<string, string> = {}) => {
    const child = spawnCli(['worker'], {
      ...ctx.env,
      CONDUCTOR_POLL_INTERVAL_MS: '50',
      POOL_CHECK_INTERVAL_SECONDS: '0',
      LOG_LEVEL: 'warn',
      ...env,
    });
    children.push(child);
    return child;
  };
  const stop = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('close', () => resolve());
      child.kill('SIGTERM');
    });

  const completed = async (conversationId: string) =>
    Number(
      (
        await sql<{
          n: string;
        }>`select count(*) as n from enrollments where conversation_id = ${conversationId} and status = 'completed'`.execute(
          ctx.database.db,
        )
      ).rows[0]!.n,
    );

  async function waitForAll(conversationId: string, runs: number, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const done = await completed(conversationId);
      if (done === runs) return;
      if (Date.now() > deadline) throw new Error(`only ${done} of ${runs} runs completed in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * Starts a worker that takes all due runs in one batch (CONDUCTOR_BATCH_SIZE 20000), waits until
   * its batch transaction has begun writing (it holds a transaction id), then kills it with
   * SIGKILL. Answers the environment to restart a worker with.
   */
  async function killMidBatch(tag: string): Promise<Record<string, string>> {
    const applicationName = `cf-kill-${tag}`;
    const url = new URL(ctx.env.DATABASE_URL!);
    url.searchParams.set('application_name', applicationName);
    const env = { DATABASE_URL: url.toString(), CONDUCTOR_BATCH_SIZE: '20000' };
    const first = worker(env);
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const r = await admin.query(`select 1 from pg_stat_activity where application_name = $1 and backend_xid is not null`, [
          applicationName,
        ]);
        if (r.rowCount) break;
        if (Date.now() > deadline) throw new Error('the worker never started its batch');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      const killed = new Promise((resolve) => first.once('close', resolve));
      first.kill('SIGKILL');
      await killed;
    } finally {
      await admin.end();
    }
    return env;
  }

  return { app, t, worker, stop, completed, waitForAll, killMidBatch };
}
