import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { createApp, type App } from '../../src/app.ts';
import { systemClock } from '../../src/platform/clock.ts';
import { openMigratedDatabase, type TestDatabase } from '../helpers/engines.ts';
import { builtConsole } from '../helpers/global-setup.ts';

/** Debian's chromium (CI installs it when missing); never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * The console built from the current sources: once per test run when the global setup runs
 * (suites only read it), else into a temporary directory of its own that `remove` deletes.
 */
export const buildConsole = builtConsole;

export interface ConsoleServer {
  app: App;
  url: string;
  database: TestDatabase;
  close(): Promise<void>;
}

/** A real listening server (PGlite in memory, real clock) serving the console built at `consoleDir`. */
export async function startServer(consoleDir: string): Promise<ConsoleServer> {
  const database = await openMigratedDatabase('pglite');
  const app = await createApp({
    config: { LOG_LEVEL: 'silent', BODY_LIMIT_BYTES: 1024 * 1024, UPLOAD_LIMIT_BYTES: 64 * 1024 * 1024, DEFAULT_TIME_ZONE: 'UTC' },
    database: database.database,
    clock: systemClock,
    consoleDir,
  });
  await app.http.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.http.server.address() as { port: number };
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    database,
    async close() {
      await app.http.close();
      app.services.outbox.close();
      await database.close();
    },
  };
}

/** Chromium with the flags of DEVELOPERS.md and a fresh profile directory, removed on close. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (CI installs it)`);
  const profile = await mkdtemp(join(tmpdir(), 'couponflow-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 860 },
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
