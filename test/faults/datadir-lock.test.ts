import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync, utimesSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirInUseError, lockDataDir, ownerLives, type LockOwner } from '../../src/platform/db/datadir-lock.ts';
import { repoRoot, runCli, startServer, type RunningServer } from '../foundation/processes.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'cf-lock-'));
  dirs.push(dir);
  return dir;
};
const lockOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'couponflow.lock'), 'utf8')) as LockOwner;
const linux = (() => {
  try {
    readlinkSync('/proc/self/ns/pid');
    return true;
  } catch {
    return false;
  }
})();

describe('the PGlite data-dir lock', () => {
  const children: ChildProcess[] = [];
  const servers: RunningServer[] = [];
  afterAll(() => {
    for (const s of servers) s.kill();
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  describe('whether an owner lives', () => {
    const here: LockOwner = { ownerId: 'me', pid: 4242, startTime: '900', bootId: 'boot-a', pidNamespace: 'pid:[1]', host: 'h' };
    const now = 1_000_000;
    it('same boot and namespace: by pid and start time, whatever the heartbeat', () => {
      const self = { ...here, ownerId: 'other' };
      // The pid is ours, the start time another process's: a crashed former owner (pid 1 in a container).
      expect(ownerLives({ ...self, startTime: '100' }, now, here, now, 15_000)).toBe(false);
      // Ourselves (a second open in this process): alive, even with an ancient heartbeat.
      expect(ownerLives(self, 0, here, now, 15_000)).toBe(true);
      // Another pid, checked in /proc: this test process lives, with the start time it has.
      const real = {
        ...here,
        pid: process.pid,
        startTime: linux ? readFileSync(`/proc/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]! : '0',
      };
      if (linux) {
        expect(ownerLives(real, 0, here, now, 15_000)).toBe(true);
        expect(ownerLives({ ...real, startTime: '1' }, now, here, now, 15_000)).toBe(false);
      }
    });
    it('another namespace or boot: by heartbeat', () => {
      const elsewhere = { ...here, ownerId: 'other', pidNamespace: 'pid:[2]' };
      expect(ownerLives(elsewhere, now - 1_000, here, now, 15_000)).toBe(true);
      expect(ownerLives(elsewhere, now - 20_000, here, now, 15_000)).toBe(false);
      expect(ownerLives({ ...elsewhere, pidNamespace: here.pidNamespace, bootId: 'boot-b' }, now - 20_000, here, now, 15_000)).toBe(false);
    });
  });

  it("the heartbeat goes on while the owner's event loop is blocked, and the lock is refused meanwhile", async () => {
    const dir = tempDir();
    const script = `
      import { lockDataDir } from './src/platform/db/datadir-lock.ts';
      const release = await lockDataDir(${JSON.stringify(dir)}, { heartbeatMs: 100, staleMs: 500 });
      console.log('locked');
      const until = Date.now() + 4000;
      while (Date.now() < until) {} // the event loop blocked, as PGlite can block it
      await release();
      console.log('released');`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    for (let i = 0; !out.includes('locked'); i++) {
      if (i > 300) throw new Error(`the child never locked: ${err}`);
      await sleep(50);
    }
    const first = statSync(join(dir, 'couponflow.lock')).mtimeMs;
    await sleep(1_500); // three times the stale time the owner runs with, its loop blocked all along
    const later = statSync(join(dir, 'couponflow.lock')).mtimeMs;
    expect(later).toBeGreaterThan(first);
    await expect(lockDataDir(dir, { staleMs: 500 })).rejects.toBeInstanceOf(DataDirInUseError);
    expect(await closed, err).toBe(0);
    expect(out).toContain('released');
    // Released: ours to take.
    const release = await lockDataDir(dir);
    await release();
  }, 60_000);

  it.runIf(linux)('a lock left by a dead process that had pid 1 is taken at once, however fresh its heartbeat', async () => {
    const dir = tempDir();
    const release = await lockDataDir(dir);
    const mine = lockOf(dir);
    await release();
    // As if written by a crashed pid 1 of this same boot and namespace, a moment ago.
    writeFileSync(join(dir, 'couponflow.lock'), JSON.stringify({ ...mine, ownerId: 'crashed', pid: 1, startTime: '1' }));
    const again = await lockDataDir(dir);
    expect(lockOf(dir).pid).toBe(process.pid);
    await again();
  });

  it('a second serve is refused while the owner is stopped (SIGSTOP) for longer than the stale time', async () => {
    const dir = tempDir();
    const owner = await startServer({ DATA_DIR: dir });
    servers.push(owner);
    const pid = lockOf(dir).pid;
    process.kill(pid, 'SIGSTOP');
    try {
      await sleep(16_000); // past the 15 s stale time: no heartbeat all that while
      const second = await runCli(['serve'], { DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1' }, 60_000);
      expect(second.code, second.stderr).toBe(1);
      expect(second.stderr).toMatch(new RegExp(`data directory .* is in use by process ${pid}`));
      expect(lockOf(dir).pid).toBe(pid);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect((await fetch(`${owner.url}/health`)).status).toBe(200);
    expect((await owner.stop('SIGTERM')).code).toBe(0);
  }, 120_000);

  it.runIf(linux)(
    "after a SIGKILL, a restart whose pid is the dead owner's starts at once",
    async () => {
      const dir = tempDir();
      const first = await startServer({ DATA_DIR: dir });
      servers.push(first);
      const dead = lockOf(dir);
      expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL');

      // The restart: a shell that waits for a line, then becomes `couponflow serve` (exec keeps its pid).
      const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
      for (const name of ['DATABASE_URL', 'DATABASE_SCHEMA', 'COUPONFLOW_BOOTSTRAP_TOKEN', 'SERVE_WORKERS']) delete env[name];
      const child = spawn('sh', ['-c', 'read line; exec "$@"', 'sh', process.execPath, '--import', 'tsx', 'src/main.ts', 'serve'], {
        cwd: repoRoot,
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      children.push(child);
      let out = '';
      let err = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
      // The dead owner's lock, as if it had had the pid the restart has now, its heartbeat fresh.
      writeFileSync(join(dir, 'couponflow.lock'), JSON.stringify({ ...dead, pid: child.pid }));
      const now = new Date();
      utimesSync(join(dir, 'couponflow.lock'), now, now);
      child.stdin!.write('go\n');
      for (let i = 0; !/running at http:\/\/localhost:(\d+)/.test(out); i++) {
        if (child.exitCode !== null || i > 900) throw new Error(`the restart did not start:\n${out}\n${err}`);
        await sleep(50);
      }
      const port = Number(/running at http:\/\/localhost:(\d+)/.exec(out)![1]);
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      const taken = lockOf(dir);
      expect(taken.pid).toBe(child.pid);
      expect(taken.ownerId).not.toBe(dead.ownerId);
      expect(taken.host).toBe(hostname());
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      child.kill('SIGTERM');
      expect(await closed).toBe(0);
    },
    120_000,
  );
});
