/**
 * One of several processes redeeming the same codes at once, each with its own orders (the
 * concurrency test spawns it). env: DATABASE_URL, DATABASE_SCHEMA, ACCOUNT_ID, MERCHANT_ID, CODES
 * (comma-separated), PREFIX. Prints {won: [code], failures: {reason: count}} as JSON on its last line.
 */
import { openDatabase } from '../../src/platform/db/database.ts';
import { systemClock } from '../../src/platform/clock.ts';
import type { DB } from '../../src/schema.ts';
import { accountsService } from '../../src/modules/accounts/service.ts';
import { redemptionsService } from '../../src/modules/redemptions/service.ts';
import { ownerPrincipal } from '../../src/modules/accounts/principal.ts';

const env = process.env;
const database = await openDatabase<DB>({ databaseUrl: env.DATABASE_URL, dataDir: '', schema: env.DATABASE_SCHEMA!, poolSize: 4 });
const redemptions = redemptionsService({ database, clock: systemClock, accounts: accountsService(database) });
const principal = ownerPrincipal(env.ACCOUNT_ID!, 'test');
const codes = env.CODES!.split(',');
// Each process walks the codes from another starting point, so that races happen all along.
const start = Number(env.START ?? 0);
const order = codes.map((_, i) => codes[(i + start) % codes.length]!);
const won: string[] = [];
const failures: Record<string, number> = {};

async function one(code: string) {
  try {
    const r = await redemptions.redeem(principal, env.MERCHANT_ID!, { code, orderId: `${env.PREFIX}-${code}` });
    if (r.created) won.push(code);
    else failures.repeated = (failures.repeated ?? 0) + 1;
  } catch (err) {
    const reason = (err as { code?: string }).code ?? String(err);
    failures[reason] = (failures[reason] ?? 0) + 1;
  }
}

for (let i = 0; i < order.length; i += 4) await Promise.all(order.slice(i, i + 4).map(one));
await database.close();
console.log(JSON.stringify({ won, failures }));
