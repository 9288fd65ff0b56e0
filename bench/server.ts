import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface BenchServer {
  url: string;
  token: string;
  pid: number;
  /** Peak resident set size of the server process so far, in MB (Linux VmHWM). */
  peakRssMb(): number;
  stop(): Promise<void>;
}

/**
 * BENCH_CPU_PROF=<dir>: the processes a benchmark starts write a V8 CPU profile there when they
 * exit (node --cpu-prof; open it in Chrome DevTools or speedscope).
 */
export const profileArgs = (): string[] =>
  process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];

/** Starts the compiled `couponflow serve` (as `npm start` runs it) as its own process. */
export async function startServer(env: Record<string, string>): Promise<BenchServer> {
  const child: ChildProcess = spawn(process.execPath, [...profileArgs(), 'dist/main.js', 'serve'], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'warn', COUPONFLOW_BOOTSTRAP_TOKEN: 'cf_bench_token_0123456789abcdef', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /running at (http:\/\/localhost:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${out}`)));
  });
  return {
    url,
    token: 'cf_bench_token_0123456789abcdef',
    pid: child.pid!,
    peakRssMb() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return Math.round(kb / 1024);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
