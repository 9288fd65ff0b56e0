import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What a test run makes once and every suite then shares: a migrated PGlite data directory
 * (engines.ts) and the console built by Vite (`builtConsole`). vitest.config.ts's global setup
 * makes a directory for them (TEST_SHARED_DIR, inherited by the workers) and removes it after
 * the run. Nothing is made up front: the first worker that needs a thing makes it, the others
 * wait for it, and a run that does not need it never makes it. Without TEST_SHARED_DIR (a test
 * run some other way) each caller makes its own, as before.
 */
const SHARED_DIR = 'TEST_SHARED_DIR';

export async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'couponflow-tests-'));
  process.env[SHARED_DIR] = dir;
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}

const made = new Map<string, Promise<string | undefined>>();

/**
 * The path of `name` in the run's shared directory, made by `make(path)` (which writes a file or
 * a directory there) in whichever worker asks first; undefined outside a run with the global setup.
 * A failed `make` fails its caller, and the next caller tries again.
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

async function claimOrWait(path: string, make: (path: string) => Promise<void>, timeoutMs = 300_000): Promise<string> {
  const lock = `${path}.making`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await exists(path)) return path;
    try {
      await mkdir(lock); // atomic: one worker makes it
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (Date.now() > deadline) throw new Error(`waited ${timeoutMs / 1000} s for another worker to make ${path}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    try {
      const partial = `${path}.partial-${process.pid}`;
      await make(partial);
      await rename(partial, path);
      return path;
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
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

/** A file made once per run (`make` returns its bytes), read into memory once per worker. */
export function fileBuiltOnce(name: string, make: () => Promise<Uint8Array>): Promise<Blob | undefined> {
  let blob = blobs.get(name);
  if (!blob) {
    blob = builtOnce(name, async (path) => writeFile(path, await make())).then(async (path) =>
      path ? new Blob([await readFile(path)]) : undefined,
    );
    blobs.set(name, blob);
    blob.catch(() => blobs.delete(name));
  }
  return blob;
}
const blobs = new Map<string, Promise<Blob | undefined>>();
