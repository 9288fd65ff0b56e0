/**
 * A server in a process of its own, for the 1M-code export test: its memory is the server's alone.
 * env: DATABASE_URL, DATABASE_SCHEMA. Prints {"port"} once listening, samples process.memoryUsage()
 * every 10 ms, and on any line on stdin prints the peaks and the figures at start as JSON.
 */
import { createInterface } from 'node:readline';
import { createApp } from '../../src/app.ts';
import { openDatabase } from '../../src/platform/db/database.ts';
import { systemClock } from '../../src/platform/clock.ts';
import type { DB } from '../../src/schema.ts';

const env = process.env;
const database = await openDatabase<DB>({ databaseUrl: env.DATABASE_URL, dataDir: '', schema: env.DATABASE_SCHEMA!, poolSize: 4 });
const app = await createApp({
  config: { LOG_LEVEL: 'silent', BODY_LIMIT_BYTES: 1024 * 1024, UPLOAD_LIMIT_BYTES: 64 * 1024 * 1024, DEFAULT_TIME_ZONE: 'UTC' },
  database,
  clock: systemClock,
});
await app.http.listen({ host: '127.0.0.1', port: 0 });
const address = app.http.server.address();
const start = process.memoryUsage();
let peak = { heapUsed: start.heapUsed, rss: start.rss };
setInterval(() => {
  const m = process.memoryUsage();
  peak = { heapUsed: Math.max(peak.heapUsed, m.heapUsed), rss: Math.max(peak.rss, m.rss) };
}, 10).unref();
console.log(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }));
createInterface({ input: process.stdin }).on('line', () =>
  console.log(JSON.stringify({ start: { heapUsed: start.heapUsed, rss: start.rss }, peak })),
);
