import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import { openDatabase } from '../../src/platform/db/database.ts';
import { migrate } from '../../src/platform/db/migrate.ts';
import { migrations } from '../../src/migrations/index.ts';

/**
 * What a test run makes once and every suite then shares: a migrated PGlite data directory
 * (`migratedPglite`, for engines.ts) and the console built by Vite (`builtConsole`).
 * vitest.config.ts's global setup makes a directory for them (TEST_SHARED_DIR, inherited by the
 * workers), starts migrating the PGlite one in the background at once (unless TEST_ENGINES leaves
 * PGlite out), and removes the directory after the run. The console is built by the first worker
 * that asks; the others wait for it. Without TEST_SHARED_DIR (a test run some other way) each
 * caller makes its own, as before.
 */
const SHARED_DIR = 'TEST_SHARED_DIR';
const PGLITE_MIGRATED = 'pglite-migrated.tar';

export async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'couponflow-tests-'));
  process.env[SHARED_DIR] = dir;
  const engines = process.env.TEST_ENGINES ?? 'pglite';
  // Claimed before the workers start, so they wait for this one instead of making their own.
  const pglite = engines.includes('pglite') ? await claim(join(dir, PGLITE_MIGRATED)) : undefined;
  const making = pglite?.make(writeMigratedPglite).catch(() => {}); // a failure: the workers make it themselves
  return async () => {
    await making;
    await rm(dir, { recursive: true, force: true });
  };
}

const made = new Map<string, Promise<string | undefined>>();

/**
 * The path of `name` in the run's shared directory, made by `make(path)` (which writes a file or
 * a directory there) in whichever process claims it first, the others waiting for it; undefined
 * outside a run with the global setup. A failed `make` fails its caller; the next caller tries again.
 */
export function builtOnce(name: string, make: (path: string) => Promise<void>): Promise<string | undefined> {
  const dir = process.env[SHARED_DIR];
  if (!dir) return Promise.resolve(undefined);
  let path = made.get(name);
  if (!path) {
    path = claimOrWait(join(dir, name), make);
    made.set(name, path);
    path.catch(() => made.delete(name));
  }
  return path;
}

async function claimOrWait(path: string, make: (path: string) => Promise<void>, timeoutMs = 600_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await exists(path)) return path;
    const claimed = await claim(path);
    if (claimed) return claimed.make(make);
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs / 1000} s for another process to make ${path}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The right to make `path`: a lock directory holding the maker's pid, made atomically. Undefined
 * when a live process holds it; a dead one's (a worker ended with its file) is taken over.
 */
async function claim(path: string): Promise<{ make: (make: (path: string) => Promise<void>) => Promise<string> } | undefined> {
  const lock = `${path}.making`;
  try {
    await mkdir(lock);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const pid = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => ''));
    if (pid > 0 && !alive(pid)) await rm(lock, { recursive: true, force: true });
    return undefined;
  }
  await writeFile(join(lock, 'pid'), String(process.pid));
  return {
    async make(make) {
      try {
        const partial = `${path}.partial-${process.pid}`;
        await make(partial);
        await rename(partial, path);
        return path;
      } finally {
        await rm(lock, { recursive: true, force: true });
      }
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

const gunzip = promisify(gunzipCallback);

/** A tar of an in-memory PGlite data directory with every migration applied. */
async function writeMigratedPglite(path: string): Promise<void> {
  const database = await openDatabase({ dataDir: 'memory://', schema: 'public' });
  try {
    await migrate(database.db as never, migrations, 'public');
    // dumpDataDir gzips (for backups); a plain tar loads faster, and this one stays on local disk.
    await writeFile(path, await gunzip(new Uint8Array(await (await database.dumpDataDir!()).arrayBuffer())));
  } finally {
    await database.close();
  }
}

let pglite: Promise<Blob | undefined> | undefined;

/** The run's migrated PGlite data directory (a tar), read once per worker; undefined outside such a run. */
export function migratedPglite(): Promise<Blob | undefined> {
  pglite ??= builtOnce(PGLITE_MIGRATED, writeMigratedPglite).then(async (path) => (path ? new Blob([await readFile(path)]) : undefined));
  pglite.catch(() => (pglite = undefined));
  return pglite;
}

const root = fileURLToPath(new URL('../../', import.meta.url));

async function buildConsoleInto(outDir: string): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: join(root, 'web/vite.config.ts'), logLevel: 'silent', build: { outDir, emptyOutDir: true } });
}

/**
 * The console built from the current sources, once per run: a suite serves it read-only, and its
 * `remove` leaves the shared build alone. Outside a run with the global setup, a build of its own
 * into a temporary directory that `remove` deletes (what test/console/browser.ts's buildConsole does).
 */
export async function builtConsole(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const shared = await builtOnce('console', buildConsoleInto);
  if (shared) return { dir: shared, remove: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'couponflow-console-'));
  await buildConsoleInto(dir);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
