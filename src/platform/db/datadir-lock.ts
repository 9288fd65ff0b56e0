import { closeSync, mkdirSync, openSync, readFileSync, readlinkSync, rmSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';

export class DataDirInUseError extends Error {
  readonly code = 'data_dir_in_use';
}

/** Who holds the data directory: enough to tell, later, whether that very process still lives. */
export interface LockOwner {
  /** Random, per acquisition: tells our lock from a copy of it. */
  ownerId: string;
  pid: number;
  /** Linux: the process's start time in clock ticks since boot (/proc/<pid>/stat, field 22). */
  startTime: string | null;
  /** Linux: this boot (/proc/sys/kernel/random/boot_id) and pid namespace (/proc/self/ns/pid). */
  bootId: string | null;
  pidNamespace: string | null;
  host: string;
}

export interface LockOptions {
  /** How often the owner's heartbeat touches the lock file. */
  heartbeatMs?: number;
  /** A heartbeat older than this means a dead owner, where its pid cannot be checked. */
  staleMs?: number;
  /** Told when the heartbeat thread dies (the lock then goes stale). */
  onHeartbeatError?: (err: Error) => void;
}

const HEARTBEAT_MS = 1_000;
const STALE_MS = 15_000;

/**
 * PGlite does not lock its data directory, and two processes opening it corrupt it. Ours is the
 * file `couponflow.lock`, created exclusively (O_EXCL), naming its owner (pid, start time, boot,
 * pid namespace, a random id). A second process decides whether that owner still lives:
 *
 * - Same boot and pid namespace (Linux): the owner lives exactly when a process with its pid
 *   exists and started at its start time. A busy or stopped owner (SIGSTOP, a long COPY chunk)
 *   is never robbed, however long; a crashed one is replaced at once, even when its pid is now
 *   ours (pid 1 in a restarted container).
 * - Otherwise (another container on the same volume, no /proc): the owner lives while its
 *   heartbeat is fresh. The heartbeat touches the file from a worker thread, so a main thread
 *   blocked by PGlite cannot starve it.
 *
 * Taking a dead owner's lock goes through a small guard directory (an atomic mkdir), so two
 * processes starting at once cannot both take it.
 */
export async function lockDataDir(dir: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  const staleMs = options.staleMs ?? STALE_MS;
  mkdirSync(dir, { recursive: true });
  const lockFile = join(dir, 'couponflow.lock');
  const me = currentOwner();
  for (let attempt = 0; attempt < 60; attempt++) {
    if (tryCreate(lockFile, me)) return holdLock(lockFile, me, heartbeatMs, options.onHeartbeatError);
    const found = readLock(lockFile, dir);
    if (found === 'gone') continue; // released between our two looks
    if (found === 'unreadable') {
      // Being written right now (created, not yet filled): look again in a moment. Still empty
      // after a second: its writer died in between.
      if (attempt < 20) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
    } else if (ownerLives(found.owner, found.heartbeatAt, me, Date.now(), staleMs)) {
      throw inUse(dir, found.owner);
    }
    await takeOver(dir, lockFile, found === 'unreadable' ? null : found.owner.ownerId);
  }
  throw inUse(dir, undefined);
}

/** Whether the process named in a lock still lives (exported for its unit test). */
export function ownerLives(owner: LockOwner, heartbeatAt: number, here: LockOwner, now: number, staleMs: number): boolean {
  const sameKernelView = owner.bootId !== null && owner.bootId === here.bootId && owner.pidNamespace === here.pidNamespace;
  if (sameKernelView && owner.startTime !== null) {
    if (owner.pid === here.pid) return owner.startTime === here.startTime; // ours, or a former process with our pid
    return startTimeOf(owner.pid) === owner.startTime;
  }
  if (owner.host === here.host && here.bootId === null && !pidExists(owner.pid)) return false;
  return now - heartbeatAt < staleMs;
}

function currentOwner(): LockOwner {
  const pidNamespace = tryRead(() => readlinkSync('/proc/self/ns/pid'));
  return {
    ownerId: randomUUID(),
    pid: process.pid,
    startTime: startTimeOf(process.pid),
    bootId: tryRead(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()),
    pidNamespace,
    host: hostname(),
  };
}

function tryCreate(lockFile: string, me: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(lockFile, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, `${JSON.stringify(me)}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

type Found = { owner: LockOwner; heartbeatAt: number } | 'gone' | 'unreadable';

function readLock(lockFile: string, dir: string): Found {
  try {
    const heartbeatAt = statSync(lockFile).mtimeMs;
    const owner = JSON.parse(readFileSync(lockFile, 'utf8')) as LockOwner;
    if (typeof owner?.pid !== 'number' || typeof owner.ownerId !== 'string') return 'unreadable';
    return { owner, heartbeatAt };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'gone';
    if (code === 'EISDIR') return legacyLock(lockFile, dir);
    if (err instanceof SyntaxError) return 'unreadable';
    throw err;
  }
}

/** Earlier builds locked with a directory (proper-lockfile) and a pid file beside it. */
function legacyLock(lockFile: string, dir: string): Found {
  const pid = Number(tryRead(() => readFileSync(join(dir, 'couponflow.pid'), 'utf8').trim()));
  const owner: LockOwner = { ownerId: 'legacy', pid, startTime: null, bootId: null, pidNamespace: null, host: hostname() };
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidExists(pid)) return { owner, heartbeatAt: Date.now() };
  rmSync(lockFile, { recursive: true, force: true });
  rmSync(join(dir, 'couponflow.pid'), { force: true });
  return 'gone';
}

/** Removes the lock of a dead owner, if it is still the one we judged (`ownerId`; null: unreadable). */
async function takeOver(dir: string, lockFile: string, ownerId: string | null): Promise<void> {
  const guard = join(dir, 'couponflow.lock.takeover');
  try {
    mkdirSync(guard);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // A takeover takes milliseconds: a guard older than 10 s was left by a crash.
    const age = Date.now() - (tryRead(() => statSync(guard).mtimeMs) ?? Date.now());
    if (age > 10_000) rmSync(guard, { recursive: true, force: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    return; // look again
  }
  try {
    const again = tryRead(() => JSON.parse(readFileSync(lockFile, 'utf8')) as LockOwner);
    if ((again?.ownerId ?? null) === ownerId) rmSync(lockFile, { force: true });
  } finally {
    rmdirSync(guard);
  }
}

/**
 * Keeps the lock: a worker thread touches it every `heartbeatMs` (while it still names us). The
 * release stops the heartbeat and removes the file.
 */
async function holdLock(
  lockFile: string,
  me: LockOwner,
  heartbeatMs: number,
  onError: (err: Error) => void = (err) => process.emitWarning(`the data-dir lock heartbeat stopped: ${err.message}`),
): Promise<() => Promise<void>> {
  const worker = new Worker(
    `const { workerData } = process.getBuiltinModule('node:worker_threads');
     const fs = process.getBuiltinModule('node:fs');
     const beat = () => {
       try {
         if (fs.readFileSync(workerData.file, 'utf8').includes(workerData.ownerId)) {
           const now = new Date();
           fs.utimesSync(workerData.file, now, now);
         }
       } catch {}
     };
     beat();
     setInterval(beat, workerData.heartbeatMs);`,
    // No loaders or flags of ours (tsx, --input-type): plain script, quick to start.
    { eval: true, execArgv: [], workerData: { file: lockFile, ownerId: me.ownerId, heartbeatMs } },
  );
  worker.on('error', onError);
  // Its start needs our event loop: wait for it, so that a loop blocked right after still beats.
  await once(worker, 'online');
  worker.unref();
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    await worker.terminate();
    if (tryRead(() => readFileSync(lockFile, 'utf8'))?.includes(me.ownerId)) unlinkSync(lockFile);
  };
}

function inUse(dir: string, owner: LockOwner | undefined): DataDirInUseError {
  const who = owner ? `process ${owner.pid}${owner.host !== hostname() ? ` on ${owner.host}` : ''}` : 'another process';
  return new DataDirInUseError(
    `The data directory ${dir} is in use by ${who} (probably \`couponflow serve\`). ` +
      'PGlite allows one process per data directory: stop that process first, or use the HTTP API ' +
      '(set COUPONFLOW_URL and COUPONFLOW_TOKEN for the CLI commands that support it).',
  );
}

/** Field 22 of /proc/<pid>/stat; null when there is no such process (or no /proc). */
function startTimeOf(pid: number): string | null {
  const stat = tryRead(() => readFileSync(`/proc/${pid}/stat`, 'utf8'));
  if (!stat) return null;
  // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null;
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryRead<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}
