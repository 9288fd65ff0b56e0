import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './pg-cluster.ts';

export const PGBOUNCER_BIN = '/usr/sbin/pgbouncer';

export interface PgBouncer {
  port: number;
  /** `upstream` with PgBouncer's address instead (and `user`, when given). */
  url(user?: string): string;
  stop(): Promise<void>;
}

/**
 * A PgBouncer of our own in transaction pooling mode in front of `upstream` (Debian's package;
 * 1.18, so no prepared statements across transactions). Any database name is passed through;
 * users are trusted and looked up through `auth_user` (the upstream's user), so a role created
 * after the start logs in too. Runs as `postgres` when the tests run as root (PgBouncer refuses root).
 */
export async function startPgBouncer(upstream: string): Promise<PgBouncer> {
  if (!existsSync(PGBOUNCER_BIN)) throw new Error(`${PGBOUNCER_BIN} is missing (apt-get install pgbouncer)`);
  const up = new URL(upstream);
  const dir = mkdtempSync(join(tmpdir(), 'cf-pgbouncer-'));
  const port = await freePort();
  const authUser = decodeURIComponent(up.username || 'postgres');
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${up.hostname} port=${up.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'pool_mode = transaction',
      'auth_type = trust',
      `auth_user = ${authUser}`,
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      'default_pool_size = 20',
      'max_client_conn = 1000',
      'server_idle_timeout = 10',
      '',
    ].join('\n'),
  );
  const root = process.getuid?.() === 0;
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
    chownSync(join(dir, 'pgbouncer.ini'), uid, gid);
  }
  const ini = join(dir, 'pgbouncer.ini');
  const child: ChildProcess = root
    ? spawn('runuser', ['-u', 'postgres', '--', PGBOUNCER_BIN, ini], { stdio: 'ignore' })
    : spawn(PGBOUNCER_BIN, [ini], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = (user?: string) => {
    const u = new URL(upstream);
    u.hostname = '127.0.0.1';
    u.port = String(port);
    if (user) u.username = user;
    return u.toString();
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); // immediate shutdown (SIGINT waits for the clients to leave);
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url(), connectionTimeoutMillis: 2_000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      return { port, url, stop };
    } catch (err) {
      await client.end().catch(() => {});
      if (child.exitCode !== null || Date.now() > deadline) {
        const log = existsSync(join(dir, 'pgbouncer.log')) ? readFileSync(join(dir, 'pgbouncer.log'), 'utf8') : '';
        await stop();
        throw new Error(`PgBouncer did not come up: ${(err as Error).message}\n${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
