// Builds the console (web/dist) with Vite. `--if-stale`: only when web/dist is missing or older
// than a source file, so that `npm start` builds it on a fresh clone and after a pull, and
// otherwise starts at once.
import { build } from 'vite';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const built = join(root, 'dist', 'index.html');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

// The console imports the server's contract (src/modules/*/model.ts and what they import): a change there rebuilds it too.
const sourcesTime = Math.max(
  newestSource(join(root, 'src')),
  newestSource(join(root, '..', 'src', 'modules')),
  statSync(join(root, 'index.html')).mtimeMs,
  statSync(join(root, 'vite.config.ts')).mtimeMs,
);
if (process.argv.includes('--if-stale') && existsSync(built) && statSync(built).mtimeMs >= sourcesTime) {
  console.log('console: web/dist is up to date');
} else {
  console.log('console: building web/dist with Vite…');
  await build({ configFile: join(root, 'vite.config.ts'), logLevel: 'warn' });
  console.log('console: built');
}
