import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { newTenant, testApp, type TestTenant } from '../helpers/app.ts';
import { ROLES, ROUTE_RULES, ruleOf, type Role } from '../../src/modules/accounts/permissions.ts';
import { allowed } from '../../src/modules/accounts/auth-hook.ts';
import { ownerPrincipal } from '../../src/modules/accounts/principal.ts';
import { activeUser, passwordSignIn, sessionHeaders } from '../users/team.ts';

/**
 * The role matrix (README, "Team access"): for every route of the route table and every role, the expected
 * allow/deny, generated from the permission table (src/modules/accounts/permissions.ts), checked
 * against a hand-written expectation for a sample of routes, then called for real with a token
 * and with a user's console session of each role. A route missing from the permission table fails
 * the first test, by name: classify it there.
 */

/** Hand-written, from the roles' description (README, "Team access"), not from the table. O: owner, A: admin, M: marketer, N: analyst. */
const SAMPLE: Record<string, string> = {
  'GET /v1/pools/:poolId': 'OAMN',
  'PATCH /v1/pools/:poolId': 'OAM',
  'POST /v1/merchants/:merchantId/pools': 'OAM',
  'POST /v1/pools/:poolId/uploads': 'OAM',
  'GET /v1/pools/:poolId/codes': 'OAMN',
  'GET /v1/pools/:poolId/codes/export': 'OAM', // personal data: no analyst
  'GET /v1/pools/:poolId/assignments/export': 'OAM',
  'PUT /v1/contacts': 'OAM',
  'GET /v1/contacts/:contactId': 'OAMN',
  'POST /v1/conversations/:conversationId/publish': 'OAM',
  'GET /v1/conversations': 'OAMN',
  'PUT /v1/messages/:id': 'OAM',
  'POST /v1/field-groups': 'OAM',
  'GET /v1/outbox': 'OAMN',
  'POST /v1/suppressions': 'OAM',
  'DELETE /v1/suppressions/:email': 'OA', // marketers may not remove suppressions
  'POST /v1/merchants': 'OA', // settings: not marketers
  'GET /v1/merchants': 'OAMN',
  'GET /v1/users': 'O',
  'POST /v1/users': 'O',
  'PATCH /v1/users/:userId': 'O',
  'DELETE /v1/users/:userId': 'O',
  'GET /v1/tokens': 'O',
  'POST /v1/tokens': 'O',
  'DELETE /v1/tokens/:tokenId': 'O',
  'GET /v1/audit': 'OA', // owners and admins
  'GET /v1/session': 'OAMN',
  'POST /v1/accounts': '', // the installation admin token only (none of the tokens here is one)
  'GET /metrics': '',
};
const LETTER: Record<Role, string> = { owner: 'O', admin: 'A', marketer: 'M', analyst: 'N' };

const concrete = (url: string) => url.replace(/:[A-Za-z0-9_]+/g, '01900000-0000-7000-8000-000000000000').replace(/\*$/, 'anything');

/** Expected by the table, for an unlimited caller of `role` that is not the installation admin. */
const expectedAllowed = (key: string, role: Role) => {
  const [method, url] = key.split(' ') as [string, string];
  const rule = ruleOf(method, url);
  if (!rule) throw new Error(`${key} is not classified`);
  return allowed({ ...ownerPrincipal('x'), role }, rule.permission);
};

describe('permission table', () => {
  it('matches the hand-written expectation on the sample routes', () => {
    const mismatches: string[] = [];
    for (const [key, letters] of Object.entries(SAMPLE)) {
      for (const role of ROLES) {
        if (expectedAllowed(key, role) !== letters.includes(LETTER[role]))
          mismatches.push(`${key} for ${role}: table says ${expectedAllowed(key, role) ? 'allow' : 'deny'}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('gives owners everything but installation rights, and analysts no change at all', () => {
    for (const [key, rule] of Object.entries(ROUTE_RULES)) {
      if (rule.permission !== 'installation:admin') expect(expectedAllowed(key, 'owner'), key).toBe(true);
      if (rule.audit) expect(expectedAllowed(key, 'analyst'), `${key} changes state`).toBe(false);
    }
  });
});

describeEachEngine('role matrix', (ctx) => {
  let app: Awaited<ReturnType<typeof testApp>>;
  let t: TestTenant;
  const callers: { label: string; role: Role; headers: Record<string, string> }[] = [];
  beforeAll(async () => {
    app = await testApp(ctx.database);
    t = await newTenant(app);
    for (const role of ROLES) {
      const token = await app.services.accounts.createToken({ accountId: t.accountId, name: `${role} token`, role });
      callers.push({ label: `${role} token`, role, headers: { authorization: `Bearer ${token}` } });
      const user = await activeUser(app, t.accountId, role);
      callers.push({ label: `${role} user session`, role, headers: sessionHeaders(await passwordSignIn(app, user.email)) });
    }
  }, 120_000);
  afterAll(() => app.http.close());

  const guarded = () => app.http.routeTable.filter((r) => !r.public).map((r) => `${r.method} ${r.url}`);

  it('classifies every route of the route table, and names no route that does not exist', () => {
    const unclassified = guarded().filter((key) => !ROUTE_RULES[key]);
    expect(unclassified, `classify these routes in src/modules/accounts/permissions.ts (ROUTE_RULES): ${unclassified.join(', ')}`).toEqual(
      [],
    );
    const routes = new Set(guarded());
    expect(Object.keys(ROUTE_RULES).filter((key) => !routes.has(key))).toEqual([]);
  });

  it('allows and denies every route for every role, for tokens and users alike, as the table says', async () => {
    const failures: string[] = [];
    // Signing out last: it ends the sessions the other calls use.
    const keys = guarded().sort((a, b) => Number(a === 'DELETE /v1/session') - Number(b === 'DELETE /v1/session'));
    for (const key of keys) {
      const [method, url] = key.split(' ') as ['GET', string];
      const hasBody = !['GET', 'DELETE'].includes(method);
      for (const caller of callers) {
        const res = await app.http.inject({
          method,
          url: concrete(url),
          headers: hasBody ? { ...caller.headers, 'content-type': 'application/json' } : caller.headers,
          ...(hasBody ? { payload: '{}' } : {}),
        });
        const allow = expectedAllowed(key, caller.role);
        if (allow && res.statusCode === 403)
          failures.push(`${key} as ${caller.label}: expected allowed, got 403 ${res.body.slice(0, 160)}`);
        if (!allow) {
          const body = res.statusCode === 403 ? res.json() : undefined;
          const rule = ROUTE_RULES[key]!;
          if (
            body?.error?.code !== 'forbidden' ||
            body.error.details?.[0]?.permission !== rule.permission ||
            !body.error.message.includes(rule.permission)
          ) {
            failures.push(
              `${key} as ${caller.label}: expected 403 forbidden naming ${rule.permission}, got ${res.statusCode} ${res.body.slice(0, 160)}`,
            );
          }
        }
      }
    }
    expect(failures).toEqual([]);
  }, 300_000);
});
