import { spawn } from 'node:child_process';

/**
 * Runs a test's helper script (`node --import tsx <file>`) in a process of its own, with `env`
 * over this one's, and answers the JSON of the last line it prints. A non-zero exit fails with
 * what it wrote on stderr.
 */
export function runScript<T>(file: string, env: Record<string, string | undefined>): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${file} exited ${code}: ${err}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as T);
    });
  });
}
