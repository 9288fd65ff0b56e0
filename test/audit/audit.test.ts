import { expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { useTenant } from '../helpers/fixture.ts';
import { runAsUnitOfWork } from '../../src/platform/db/unit-of-work.ts';
import { newId } from '../../src/platform/ids.ts';
import { ownerPrincipal } from '../../src/modules/accounts/principal.ts';
import { activeUser, passwordSignIn, sessionHeaders } from '../users/team.ts';

/** The audit log (docs/ARCHITECTURE.md, "Audit log"): every state-changing call, in the change's own transaction. */
describeEachEngine('audit log', (ctx) => {
  const { app, t } = useTenant(ctx, { setupTimeoutMs: 120_000 });

  const as = (headers: Record<string, string>) => (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    app.http.inject({ method, url, headers, ...(payload && { payload }) });
  const owner = () => as(t.auth);
  const entries = async (query = '') =>
    (await owner()('GET', `/v1/audit${query}`)).json().items as {
      id: string;
      actor: { type: string; id: string; name: string };
      action: string;
      route: string;
      resource: { type: string; id: string | null };
      summary: string;
      at: string;
    }[];

  it('records a sample of changes with actor, action, resource and a summary without secrets or personal data', async () => {
    const pool = await owner()('POST', `/v1/merchants/${t.merchantId}/pools`, {
      name: 'Spring',
      type: 'unique',
      threshold: 10,
      notificationEmails: 'ops@example.com',
    });
    expect(pool.statusCode, pool.body).toBe(201);
    const poolId = pool.json().id;
    expect((await owner()('PATCH', `/v1/pools/${poolId}`, { name: 'Spring 10%', threshold: 5 })).statusCode).toBe(200);
    const token = await owner()('POST', '/v1/tokens', { name: 'shop sync', role: 'marketer' });
    expect(token.statusCode).toBe(201);
    const secret = token.json().token as string;
    const invited = await owner()('POST', '/v1/users', { email: 'new.person@example.com', role: 'analyst' });
    expect(invited.statusCode).toBe(201);
    const suppressed = 'private.person@example.com';
    expect((await owner()('POST', '/v1/suppressions', { email: suppressed })).statusCode).toBe(201);
    expect((await owner()('DELETE', `/v1/suppressions/${encodeURIComponent(suppressed)}`)).statusCode).toBe(204);

    const log = await entries();
    const find = (action: string) => log.find((e) => e.action === action);
    const tokenActor = { type: 'token', name: 'admin' };
    expect(find('pool.create')).toMatchObject({
      actor: tokenActor,
      resource: { type: 'pool', id: poolId },
      route: 'POST /v1/merchants/:merchantId/pools',
    });
    expect(find('pool.create')!.summary).toBe('pool.create: name, notificationEmails, threshold, type');
    expect(find('pool.update')).toMatchObject({ resource: { type: 'pool', id: poolId }, summary: 'pool.update: name, threshold' });
    expect(find('token.create')).toMatchObject({
      resource: { type: 'token', id: token.json().id },
      summary: 'token.create: role marketer',
    });
    expect(find('user.invite')).toMatchObject({ resource: { type: 'user', id: invited.json().id }, summary: 'user.invite: role analyst' });
    expect(find('suppression.create')).toMatchObject({ resource: { type: 'suppression', id: null } });
    expect(find('suppression.delete')).toMatchObject({ resource: { type: 'suppression', id: null } });
    const text = JSON.stringify(log);
    for (const leak of [secret, 'new.person@example.com', suppressed, 'ops@example.com', 'Spring 10%']) expect(text).not.toContain(leak);
    // Newest first.
    expect(log.map((e) => e.id)).toEqual([...log.map((e) => e.id)].sort().reverse());
    // Reads are not recorded.
    expect(log.some((e) => e.route.startsWith('GET '))).toBe(false);
  });

  it('names a user as the actor, keeps their entries after their removal, and filters', async () => {
    const marketer = await activeUser(app, t.accountId, 'marketer');
    const headers = sessionHeaders(await passwordSignIn(app, marketer.email));
    const group = await as(headers)('POST', '/v1/field-groups', { name: `G${Math.random().toString(36).slice(2, 8)}` });
    expect(group.statusCode, group.body).toBe(201);
    expect((await owner()('DELETE', `/v1/users/${marketer.id}`)).statusCode).toBe(204);
    const mine = await entries(`?actorType=user&actorId=${marketer.id}`);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      action: 'field_group.create',
      actor: { type: 'user', id: marketer.id, name: marketer.email },
      resource: { id: group.json().id },
    });
    expect((await entries(`?resourceType=field_group&resourceId=${group.json().id}`)).map((e) => e.id)).toEqual([mine[0]!.id]);
    expect((await entries('?action=user.remove'))[0]).toMatchObject({ resource: { type: 'user', id: marketer.id } });
    expect(await entries(`?since=${encodeURIComponent(new Date(app.clock.now().getTime() + 1000).toISOString())}`)).toEqual([]);
  });

  it('leaves no entry when the change rolled back or changed nothing', async () => {
    const before = (await entries('?limit=500')).length;
    // A unique violation rolls the invitation's transaction back.
    const address = `dup${Math.random().toString(36).slice(2, 8)}@example.com`;
    expect((await owner()('POST', '/v1/users', { email: address, role: 'analyst' })).statusCode).toBe(201);
    expect((await owner()('POST', '/v1/users', { email: address, role: 'admin' })).statusCode).toBe(409);
    // An update of a missing row, a refused delete: nothing changed.
    expect((await owner()('PATCH', '/v1/users/01900000-0000-7000-8000-000000000000', { role: 'admin' })).statusCode).toBe(404);
    expect((await owner()('DELETE', '/v1/tokens/01900000-0000-7000-8000-000000000000')).statusCode).toBe(404);
    const after = await entries('?limit=500');
    expect(after.length).toBe(before + 1);
    expect(after[0]).toMatchObject({ action: 'user.invite', summary: 'user.invite: role analyst' });
  });

  it("writes the entry inside the change's transaction: a rollback takes it along, a commit keeps both", async () => {
    const record = (name: string) =>
      app.services.audit.record({
        principal: ownerPrincipal(t.accountId, 'unit'),
        route: 'TEST',
        action: `merchant.${name}`,
        resourceId: 'new',
        summary: name,
      });
    const insertMerchant = (tx: typeof ctx.database.db, name: string) =>
      tx.insertInto('merchants').values({ account_id: t.accountId, id: newId(), name, domain: 'x.example.com' }).execute();
    await expect(
      runAsUnitOfWork(record('rolled'), () =>
        ctx.database.db.transaction().execute(async (tx) => {
          await insertMerchant(tx, 'Rolled back');
          throw new Error('the change fails after its write');
        }),
      ),
    ).rejects.toThrow('the change fails');
    const kept = record('kept');
    await runAsUnitOfWork(kept, () => ctx.database.db.transaction().execute((tx) => insertMerchant(tx, 'Kept')));
    expect(kept.isCommitted).toBe(true);
    // An autocommit write gets a transaction of its own, with its entry.
    await runAsUnitOfWork(record('single'), () => insertMerchant(ctx.database.db, 'Single'));
    const rows = await ctx.database.db
      .selectFrom('audit_log')
      .select(['action', 'summary'])
      .where('route', '=', 'TEST')
      .orderBy('id')
      .execute();
    expect(rows.map((r) => r.action)).toEqual(['merchant.kept', 'merchant.single']);
    const merchants = await ctx.database.db.selectFrom('merchants').select('name').where('account_id', '=', t.accountId).execute();
    expect(merchants.map((m) => m.name)).not.toContain('Rolled back');
    // The entry's statement failing rolls the change back too (here: the entry id already taken).
    const twice = record('twice');
    await runAsUnitOfWork(twice, () => ctx.database.db.transaction().execute((tx) => insertMerchant(tx, 'First')));
    twice.released();
    await expect(
      runAsUnitOfWork(twice, () => ctx.database.db.transaction().execute((tx) => insertMerchant(tx, 'Second'))),
    ).rejects.toThrow();
    const names = (await ctx.database.db.selectFrom('merchants').select('name').where('account_id', '=', t.accountId).execute()).map(
      (m) => m.name,
    );
    expect(names).toContain('First');
    expect(names).not.toContain('Second');
  });

  it('is readable by owners and admins only; entries older than AUDIT_RETENTION_DAYS are pruned by the job', async () => {
    for (const [role, status] of [
      ['admin', 200],
      ['marketer', 403],
      ['analyst', 403],
    ] as const) {
      const token = await app.services.accounts.createToken({ accountId: t.accountId, role });
      const res = await as({ authorization: `Bearer ${token}` })('GET', '/v1/audit');
      expect(res.statusCode, role).toBe(status);
    }
    const oldCount = (await entries('?limit=500')).length;
    expect(oldCount).toBeGreaterThan(0);
    app.clock.advance(200 * 86_400_000);
    expect((await owner()('POST', '/v1/field-groups', { name: 'Recent' })).statusCode).toBe(201);
    app.clock.advance(166 * 86_400_000);
    expect(await app.services.audit.prune()).toBeGreaterThanOrEqual(oldCount);
    const left = await entries('?limit=500');
    expect(left.map((e) => e.action)).toEqual(['field_group.create']);
  });
});
