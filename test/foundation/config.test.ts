import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, type Config } from '../../src/config.ts';
import { repoRoot } from './processes.ts';

const configError = (env: NodeJS.ProcessEnv): ConfigError => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`loadConfig(${JSON.stringify(env)}) accepted it`);
};

/** README's configuration table: `| \`NAME\` | default | meaning |`. */
function documentedSettings(): Map<string, string> {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.split(/^## Configuration$/m)[1]?.split(/^## /m)[0] ?? '';
  const rows = new Map<string, string>();
  for (const match of section.matchAll(/^\|\s*`([A-Z0-9_]+)`\s*\|\s*([^|]*?)\s*\|/gm)) rows.set(match[1]!, match[2]!);
  return rows;
}

/** The variables config.ts declares (its schema is private; its keys are the indented `NAME:` lines). */
function declaredSettings(): string[] {
  const source = readFileSync(join(repoRoot, 'src/config.ts'), 'utf8');
  return [...source.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!);
}

/** Settings read only by the test suite, documented in the same table. */
const testOnly = new Set(['TEST_DATABASE_URL', 'TEST_ENGINES']);
/** Documented defaults worked out at run time from other settings (the config leaves them unset). */
const derived = new Set(['PUBLIC_URL', 'COUPONFLOW_URL']);

describe('configuration', () => {
  it('refuses a bad value, naming the variable', () => {
    const err = configError({ PORT: 'abc' });
    expect(err.message).toMatch(/^\s+PORT: /m);
    expect(configError({ PORT: '70000' }).message).toMatch(/^\s+PORT: /m);
    expect(configError({ DATABASE_SCHEMA: 'Drop Table' }).message).toMatch(/^\s+DATABASE_SCHEMA: /m);
    expect(configError({ LOG_LEVEL: 'loud' }).message).toMatch(/^\s+LOG_LEVEL: /m);
    expect(configError({ DEFAULT_TIME_ZONE: 'Mars/Olympus' }).message).toMatch(/^\s+DEFAULT_TIME_ZONE: /m);
    expect(configError({ COUPONFLOW_BOOTSTRAP_TOKEN: 'short' }).message).toMatch(/^\s+COUPONFLOW_BOOTSTRAP_TOKEN: /m);
    expect(configError({ DATABASE_URL: 'not a url' }).message).toMatch(/^\s+DATABASE_URL: /m);
    expect(configError({ BODY_LIMIT_BYTES: '-1' }).message).toMatch(/^\s+BODY_LIMIT_BYTES: /m);
  });

  it('names every bad variable at once', () => {
    const err = configError({ PORT: 'abc', SHUTDOWN_TIMEOUT_SECONDS: '1.5' });
    expect(err.message).toMatch(/^\s+PORT: /m);
    expect(err.message).toMatch(/^\s+SHUTDOWN_TIMEOUT_SECONDS: /m);
  });

  it('has the defaults the README documents, with nothing set', () => {
    expect(loadConfig({})).toEqual({
      DATABASE_SCHEMA: 'public',
      DATABASE_POOL_SIZE: 10,
      DATA_DIR: './data',
      PORT: 8080,
      HOST: '0.0.0.0',
      LOG_LEVEL: 'info',
      BODY_LIMIT_BYTES: 1024 * 1024,
      UPLOAD_LIMIT_BYTES: 2 * 1024 * 1024 * 1024,
      TRUST_PROXY: false,
      SIGN_IN_MAX_FAILURES: 10,
      AUDIT_RETENTION_DAYS: 365,
      OWNER_EMAIL: 'owner@localhost',
      DEFAULT_TIME_ZONE: 'UTC',
      VACUUM_INTERVAL_SECONDS: 3600,
      POOL_CHECK_INTERVAL_SECONDS: 300,
      SERVE_WORKERS: true,
      SHUTDOWN_TIMEOUT_SECONDS: 30,
      MAIL_FROM_EMAIL: 'couponflow@localhost',
      MAIL_FROM_NAME: 'Couponflow',
      MAIL_MAX_ATTEMPTS: 6,
      MAIL_RETRY_SECONDS: 60,
      MAIL_SEND_INTERVAL_SECONDS: 2,
      MAIL_CONCURRENCY: 8,
      MAIL_RATE_PER_SECOND: 0,
      CONDUCTOR_BATCH_SIZE: 500,
      CONDUCTOR_POLL_INTERVAL_MS: 500,
      CONDUCTOR_MAX_ATTEMPTS: 5,
      CONDUCTOR_RETRY_SECONDS: 60,
      RENDER_THREADS: 0,
      WEBHOOKS_ALLOW_PRIVATE: false,
      WEBHOOK_MAX_ATTEMPTS: 8,
      WEBHOOK_RETRY_SECONDS: 30,
      WEBHOOK_SEND_INTERVAL_SECONDS: 2,
      REMINDER_INTERVAL_SECONDS: 300,
    } satisfies Partial<Config>);
  });

  it('treats an empty variable as unset, and reads the others', () => {
    const unset = loadConfig({ PORT: '', DATA_DIR: '', DATABASE_URL: '' });
    expect(unset).toMatchObject({ PORT: 8080, DATA_DIR: './data' });
    expect(unset.DATABASE_URL).toBeUndefined();
    const config = loadConfig({
      PORT: '0',
      DATABASE_URL: 'postgres://u:p@db.example.com:5432/couponflow',
      DATABASE_SCHEMA: 'tenant_1',
      SERVE_WORKERS: 'false',
      DEFAULT_TIME_ZONE: 'Europe/Paris',
      WEBHOOKS_ALLOW_PRIVATE: 'true',
    });
    expect(config).toMatchObject({
      WEBHOOKS_ALLOW_PRIVATE: true,
      PORT: 0,
      DATABASE_URL: 'postgres://u:p@db.example.com:5432/couponflow',
      DATABASE_SCHEMA: 'tenant_1',
      SERVE_WORKERS: false,
      DEFAULT_TIME_ZONE: 'Europe/Paris',
    });
  });

  it('documents every setting in the README, each with the default it really has', () => {
    const documented = documentedSettings();
    const defaults = loadConfig({}) as Record<string, unknown>;
    const settings = declaredSettings();
    expect(settings).toEqual(expect.arrayContaining(Object.keys(defaults)));
    expect(
      settings.filter((name) => !documented.has(name)),
      'settings missing from README.md',
    ).toEqual([]);
    expect(
      [...documented.keys()].filter((name) => !settings.includes(name) && !testOnly.has(name)),
      'README.md rows for no setting',
    ).toEqual([]);
    for (const name of settings) {
      const text = documented.get(name);
      if (text === undefined || derived.has(name)) continue;
      const literal = /^`([^`]*)`$/.exec(text)?.[1];
      const expected = text === '(unset)' ? undefined : literal;
      expect(text === '(unset)' || literal !== undefined, `README default of ${name}: ${text}`).toBe(true);
      expect(defaults[name] === undefined ? undefined : String(defaults[name]), `default of ${name}`).toBe(expected);
    }
  });
});
