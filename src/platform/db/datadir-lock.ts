import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';

export class DataDirInUseError extends Error {
  readonly code = 'data_dir_in_use';
}

/**
 * PGlite does not lock its data directory, and two processes opening it corrupt it. We take a lock
 * (proper-lockfile: an atomic mkdir, kept fresh while we live, stale after 10 s if we die) and
 * write our pid beside it so the refusal can say who holds it.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  mkdirSync(dir, { recursive: true });
  const ownerFile = join(dir, 'couponflow.pid');
  try {
    const release = await lockfile.lock(dir, {
      lockfilePath: join(dir, 'couponflow.lock'),
      stale: 10_000,
      update: 2_000,
      realpath: false,
      onCompromised: (err) => {
        throw err;
      },
    });
    writeFileSync(ownerFile, `${process.pid}\n`);
    return release;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    let owner = 'another process';
    try {
      owner = `process ${readFileSync(ownerFile, 'utf8').trim()}`;
    } catch {
      /* the pid file is only a courtesy */
    }
    throw new DataDirInUseError(
      `The data directory ${dir} is in use by ${owner} (probably \`couponflow serve\`). ` +
        'PGlite allows one process per data directory: stop that process first, or use the HTTP API ' +
        '(set COUPONFLOW_URL and COUPONFLOW_TOKEN for the CLI commands that support it).',
    );
  }
}
