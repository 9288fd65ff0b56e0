import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs the real CLI (`src/main.ts`, through tsx) in child processes, the way an operator does.
 * `node --import tsx` rather than `npx tsx`: the same loader, without npm's start-up cost and
 * without an npm process between the test and the signals it sends.
 */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Every setting the CLI reads, cleared so the developer's own environment never leaks in. */
const settings = [
  'DATABASE_URL',
  'DATABASE_SCHEMA',
  'DATABASE_POOL_SIZE',
  'DATA_DIR',
  'PORT',
  'HOST',
  'PUBLIC_URL',
  'LOG_LEVEL',
  'BODY_LIMIT_BYTES',
  'UPLOAD_LIMIT_BYTES',
  'COUPONFLOW_BOOTSTRAP_TOKEN',
  'DEFAULT_TIME_ZONE',
  'VACUUM_INTERVAL_SECONDS',
  'POOL_CHECK_INTERVAL_SECONDS',
  'SERVE_WORKERS',
  'SHUTDOWN_TIMEOUT_SECONDS',
  'COUPONFLOW_URL',
  'COUPONFLOW_TOKEN',
  'SMTP_URL',
  'MAIL_FROM_EMAIL',
  'MAIL_FROM_NAME',
  'MAIL_MAX_ATTEMPTS',
  'MAIL_RETRY_SECONDS',
  'MAIL_SEND_INTERVAL_SECONDS',
  'CONDUCTOR_BATCH_SIZE',
  'CONDUCTOR_POLL_INTERVAL_MS',
];

function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
  for (const name of settings) delete base[name];
  return { ...base, ...env };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function spawnCli(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: repoRoot,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs one CLI command to its end (killed after `timeoutMs`, which fails the caller). */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<Exit> {
  const child = spawnCli(args, env);
  const output = collect(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`couponflow ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${output.stdout}\n${output.stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: output.stdout, stderr: output.stderr });
    });
  });
}

function collect(child: ChildProcess) {
  const output = { stdout: '', stderr: '' };
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output.stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output.stderr += d));
  return output;
}

/** The last non-empty line of a command's output (where `accounts create` and `token create` print the token). */
export const lastLine = (text: string): string => text.trimEnd().split('\n').pop() ?? '';

export const TOKEN_PATTERN = /^cf_[A-Za-z0-9_-]{43}$/;

export interface RunningServer {
  port: number;
  url: string;
  /** stdout and stderr so far. */
  output(): { stdout: string; stderr: string };
  /** Sends `signal` and waits for the process to end (killed after `timeoutMs`, which fails). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
  /** Kills it if it still runs (for afterAll). */
  kill(): void;
}

/**
 * Starts `couponflow serve` and resolves once it has printed where it listens and /health answers
 * 200. Rejects (and kills the process) if it exits first or takes longer than `timeoutMs`.
 */
export async function startServer(env: Record<string, string>, timeoutMs = 120_000): Promise<RunningServer> {
  const child = spawnCli(['serve'], { PORT: '0', HOST: '127.0.0.1', ...env });
  const output = collect(child);
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) =>
    child.on('close', (code, signal) => {
      exit = { code, signal, stdout: output.stdout, stderr: output.stderr };
      resolve(exit);
    }),
  );
  const deadline = Date.now() + timeoutMs;
  const fail = (why: string) => {
    child.kill('SIGKILL');
    return new Error(`serve ${why}:\n--- stdout\n${output.stdout}\n--- stderr\n${output.stderr}`);
  };

  // Wait on the event (its "running at" line), not on a sleep.
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(fail(`printed no "running at" line within ${timeoutMs} ms`)), timeoutMs);
    const look = () => {
      const match = /running at http:\/\/localhost:(\d+)/.exec(output.stdout);
      if (match) {
        clearTimeout(timer);
        child.stdout?.off('data', look);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', look);
    void exited.then((e) => {
      clearTimeout(timer);
      reject(fail(`exited (code ${e.code}, signal ${e.signal}) before it was running`));
    });
  });
  const url = `http://127.0.0.1:${port}`;

  // It listens before it prints, so /health should answer at once; poll with a bound all the same.
  for (let attempt = 0; ; attempt++) {
    const status = await fetch(`${url}/health`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (exit || Date.now() > deadline || attempt >= 50) throw fail(`/health answered ${status || 'nothing'}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    port,
    url,
    output: () => ({ ...output }),
    async stop(signal = 'SIGTERM', stopTimeoutMs = 20_000) {
      if (!exit) child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(fail(`did not exit within ${stopTimeoutMs} ms of ${signal}`)), stopTimeoutMs);
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    kill() {
      if (!exit) child.kill('SIGKILL');
    },
  };
}
