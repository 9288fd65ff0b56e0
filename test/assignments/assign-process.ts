/**
 * One of several processes assigning from the same pool at once (the concurrency test spawns it).
 * env: DATABASE_URL, DATABASE_SCHEMA, ACCOUNT_ID, POOL_ID, COUNT, PREFIX, MODE (single | batch | samekey)
 * Prints the outcomes as JSON on its last line.
 */
import { openDatabase } from '../../src/platform/db/database.ts';
import { systemClock } from '../../src/platform/clock.ts';
import type { DB } from '../../src/schema.ts';
import { accountsService } from '../../src/modules/accounts/service.ts';
import { poolsService } from '../../src/modules/pools/service.ts';
import { contactsService } from '../../src/modules/contacts/service.ts';
import { assignmentsService } from '../../src/modules/assignments/service.ts';
import { ownerPrincipal } from '../../src/modules/accounts/principal.ts';

const env = process.env;
const database = await openDatabase<DB>({ databaseUrl: env.DATABASE_URL, dataDir: '', schema: env.DATABASE_SCHEMA!, poolSize: 4 });
const accounts = accountsService(database);
const pools = poolsService({ database, clock: systemClock, accounts });
const contacts = contactsService({ database });
const assignments = assignmentsService({ database, clock: systemClock, accounts, pools, contacts, notify: async () => {} });
const principal = ownerPrincipal(env.ACCOUNT_ID!, 'test');
const count = Number(env.COUNT);
const prefix = env.PREFIX!;
const outcomes: { code: string | null; source: string | null; failure?: string }[] = [];

async function single(i: number, key: string) {
  try {
    const r = await assignments.assign(principal, env.POOL_ID!, { email: `${prefix}-${i}@example.com`, idempotencyKey: key });
    outcomes.push({ code: r.assignment.code, source: r.assignment.source });
  } catch (err) {
    outcomes.push({ code: null, source: null, failure: (err as { code?: string }).code ?? String(err) });
  }
}

if (env.MODE === 'single') {
  // Four at a time per process: more connections than processes contend for the same rows.
  for (let i = 0; i < count; i += 4)
    await Promise.all([0, 1, 2, 3].filter((j) => i + j < count).map((j) => single(i + j, `${prefix}-${i + j}`)));
} else if (env.MODE === 'samekey') {
  await Promise.all(Array.from({ length: count }, () => single(0, 'the-same-key')));
} else {
  const pool = await pools.getPoolFor(principal, env.POOL_ID!);
  for (let i = 0; i < count; i += 10) {
    const requests = [];
    for (let j = i; j < Math.min(count, i + 10); j++) {
      const contact = await contacts.resolveContact(principal.accountId, { email: `${prefix}-${j}@example.com` });
      requests.push({ contactId: contact.id, idempotencyKey: `${prefix}-${j}` });
    }
    for (const o of await assignments.assignMany(pool, requests)) {
      outcomes.push(o.ok ? { code: o.assignment.code, source: o.assignment.source } : { code: null, source: null, failure: o.reason });
    }
  }
}
await database.close();
console.log(JSON.stringify(outcomes));
