import { afterAll, beforeAll } from 'vitest';
import type { AppDatabase } from '../../src/schema.ts';
import { newTenant, testApp, type TestTenant } from './app.ts';

export type TestApp = Awaited<ReturnType<typeof testApp>>;

/**
 * The one setup of a suite over one engine: an app (`testApp`) and a fresh tenant (`newTenant`),
 * made in `beforeAll` and closed in `afterAll`. Call it at the top of the suite; `app` and `t`
 * stand for the real ones from the first hook on (hooks the suite adds after it see them made),
 * not while the suite is being collected.
 */
export function useTenant(
  ctx: { database: AppDatabase },
  options: Parameters<typeof testApp>[1] & { setupTimeoutMs?: number } = {},
): { app: TestApp; t: TestTenant } {
  const { setupTimeoutMs, ...appOptions } = options;
  const made: { app?: TestApp; t?: TestTenant } = {};
  beforeAll(async () => {
    made.app = await testApp(ctx.database, appOptions);
    made.t = await newTenant(made.app);
  }, setupTimeoutMs);
  afterAll(() => made.app?.http.close());
  return { app: late(() => made.app), t: late(() => made.t) };
}

/**
 * An object that forwards every read to `get()`'s answer, which must exist by then. With `bind`,
 * a method read through it is bound to the real object (for classes with private state, such as
 * playwright's Page).
 */
export function late<T extends object>(get: () => T | undefined, options: { bind?: boolean; what?: string } = {}): T {
  const target = () => {
    const value = get();
    if (!value)
      throw new Error(`${options.what ?? 'useTenant: the app and tenant'} exist from beforeAll on, not while the suite is collected`);
    return value;
  };
  return new Proxy({} as T, {
    get: (_, key) => {
      const real = target();
      const value: unknown = Reflect.get(real, key);
      return options.bind && typeof value === 'function' ? value.bind(real) : value;
    },
    has: (_, key) => Reflect.has(target(), key),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor: (_, key) => {
      const d = Reflect.getOwnPropertyDescriptor(target(), key);
      return d && { ...d, configurable: true };
    },
  });
}
