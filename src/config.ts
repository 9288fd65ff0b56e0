import { z } from 'zod';
import { IANAZone } from 'luxon';

/**
 * Every setting comes from the environment (12-factor). Each one is documented in README.md's
 * configuration table; keep the two in step.
 */
const intFromEnv = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);

const configSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, 'a lower-case identifier')
    .default('public'),
  DATABASE_POOL_SIZE: intFromEnv(10),
  DATA_DIR: z.string().min(1).default('./data'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  PUBLIC_URL: z.string().url().optional(),
  // Signs unsubscribe links and seals stored Shopify and webhook secrets; unset: generated at first start and kept in the database.
  SECRET_KEY: z.string().min(32, 'at least 32 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_BYTES: intFromEnv(1024 * 1024),
  UPLOAD_LIMIT_BYTES: intFromEnv(2 * 1024 * 1024 * 1024),
  TRUST_PROXY: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  SIGN_IN_MAX_FAILURES: z.coerce.number().int().min(1).default(10),
  // Audit entries older than this are pruned by the periodic job.
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).default(365),
  // The owner user created at first start (a one-time link to set their password is printed).
  OWNER_EMAIL: z.email().default('owner@localhost'),
  COUPONFLOW_BOOTSTRAP_TOKEN: z.string().min(20).optional(),
  DEFAULT_TIME_ZONE: z
    .string()
    .refine((zone) => IANAZone.isValidZone(zone), 'an IANA time zone such as Europe/Paris')
    .default('UTC'),
  VACUUM_INTERVAL_SECONDS: intFromEnv(3600),
  POOL_CHECK_INTERVAL_SECONDS: intFromEnv(300),
  SERVE_WORKERS: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  SHUTDOWN_TIMEOUT_SECONDS: intFromEnv(30),
  SMTP_URL: z.string().url().optional(),
  MAIL_FROM_EMAIL: z.email().default('couponflow@localhost'),
  MAIL_FROM_NAME: z.string().default('Couponflow'),
  MAIL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(6),
  MAIL_RETRY_SECONDS: intFromEnv(60),
  MAIL_SEND_INTERVAL_SECONDS: intFromEnv(2),
  // SMTP connections kept open per process (pooled) and mails in flight at once; 0: a connection per mail.
  MAIL_CONCURRENCY: z.coerce.number().int().min(0).max(100).default(8),
  MAIL_RATE_PER_SECOND: intFromEnv(0),
  DKIM_DOMAIN: z.string().min(1).optional(),
  DKIM_SELECTOR: z.string().min(1).optional(),
  DKIM_PRIVATE_KEY: z.string().min(1).optional(),
  CONDUCTOR_BATCH_SIZE: z.coerce.number().int().min(1).max(50_000).default(500),
  CONDUCTOR_POLL_INTERVAL_MS: intFromEnv(500),
  CONDUCTOR_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  CONDUCTOR_RETRY_SECONDS: intFromEnv(60),
  /** Worker threads rendering messages; 0: one per core but one, at least two. */
  RENDER_THREADS: z.coerce.number().int().min(0).max(256).default(0),
  // Outgoing webhooks: delivery to loopback/link-local/private addresses is refused unless true (SSRF).
  WEBHOOKS_ALLOW_PRIVATE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  WEBHOOK_RETRY_SECONDS: intFromEnv(30),
  WEBHOOK_SEND_INTERVAL_SECONDS: intFromEnv(2),
  /** Expiry reminders (coupon_expiring events): how often the job looks for codes about to expire. */
  REMINDER_INTERVAL_SECONDS: intFromEnv(300),
  COUPONFLOW_URL: z.string().url().optional(),
  COUPONFLOW_TOKEN: z.string().optional(),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set", as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const dkim = [parsed.data.DKIM_DOMAIN, parsed.data.DKIM_SELECTOR, parsed.data.DKIM_PRIVATE_KEY].filter(Boolean).length;
  if (dkim !== 0 && dkim !== 3)
    throw new ConfigError('Invalid configuration:\n  DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY: set all three or none');
  return parsed.data;
}
