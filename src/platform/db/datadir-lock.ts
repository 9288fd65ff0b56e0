import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';

export class DataDirInUseError extends Error {
  readonly code = 'data_dir_in_use';
}

/**
 * PGlite does not lock its data directory, and two processes opening it corrupt it. We take a lock
 * (proper-lockfile: an atomic mkdir, kept fresh while we live) and write our pid beside it, so the
 * refusal can say who holds it, and a lock left by a process that no longer exists is taken over
 * at once instead of after the stale time.
 */
export async function lockDataDir(dir: string, retried = false): Promise<() => Promise<void>> {
  mkdirSync(dir, { recursive: true });
  const ownerFile = join(dir, 'couponflow.pid');
  try {
    const release = await lockfile.lock(dir, {
      lockfilePath: join(dir, 'couponflow.lock'),
      // PGlite runs on the main thread and may block it for a while (first start, VACUUM, a large
      // COPY chunk): a short stale time would let another process take a live lock.
      stale: 120_000,
      update: 5_000,
      realpath: false,
      onCompromised: (err) => {
        throw err;
      },
    });
    writeFileSync(ownerFile, `${process.pid}\n`);
    return release;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    const pid = readOwner(ownerFile);
    if (pid !== undefined && pid !== process.pid && !isAlive(pid) && !retried) {
      rmSync(join(dir, 'couponflow.lock'), { recursive: true, force: true });
      return lockDataDir(dir, true);
    }
    const owner = pid === undefined ? 'another process' : `process ${pid}`;
    throw new DataDirInUseError(
      `The data directory ${dir} is in use by ${owner} (probably \`couponflow serve\`). ` +
        'PGlite allows one process per data directory: stop that process first, or use the HTTP API ' +
        '(set COUPONFLOW_URL and COUPONFLOW_TOKEN for the CLI commands that support it).',
    );
  }
}

function readOwner(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined; // the pid file is only a courtesy
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
